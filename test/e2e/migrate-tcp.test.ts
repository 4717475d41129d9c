/** Issue 5 acceptance over TCP on loopback; the scenarios are in acceptance.ts. */
import { acceptance } from './acceptance';

acceptance('tcp');
