/** Issue 5 acceptance over pseudo-terminals (pty: URIs); the scenarios are in acceptance.ts. */
import { acceptance } from './acceptance';

acceptance('pty');
