import type { EventEmitter } from 'node:events';
import type { SimError } from '../core/errors';

/**
 * The transport contract: a byte pipe with data events, an info record and optional serial
 * line settings. Every transport (mem, tcp, serial, pty) and every line-emulation wrapper
 * implements it, and one conformance suite runs against all of them.
 */

export type TransportKind = 'mem' | 'tcp' | 'serial' | 'pty';

export type Parity = 'none' | 'even' | 'odd' | 'mark' | 'space';

/** Serial framing. On TCP and memory transports it only drives line emulation (pacing). */
export interface LineSettings {
  baudRate: number;
  dataBits: 5 | 6 | 7 | 8;
  parity: Parity;
  stopBits: 1 | 1.5 | 2;
}

export interface ControlLines {
  rts?: boolean;
  dtr?: boolean;
  brk?: boolean;
}

export interface TransportInfo {
  kind: TransportKind;
  /** The URI this transport was opened from (or the listener's URI for accepted ones). */
  uri: string;
  /** Device path, pty link path, `host:port` or mem name. */
  path: string;
  /** The other end, where known (`127.0.0.1:53312`, the pty slave `/dev/pts/3`). */
  peer?: string;
}

export interface TransportEvents {
  /** Bytes received. Chunk boundaries carry no meaning. */
  data: [Buffer];
  /** The transport closed; `error` is set when it was not a local close(). */
  close: [SimError | undefined];
  /** Line settings changed, by us or (on a pty) by the peer. */
  line: [LineSettings];
}

export interface Transport extends EventEmitter<TransportEvents> {
  readonly info: TransportInfo;
  readonly isOpen: boolean;
  /** Resolves once the bytes are handed to the OS (or the peer, for mem). Rejects with SimError. */
  write(data: Uint8Array): Promise<void>;
  /** Idempotent. Pending writes reject with TransportClosed. */
  close(): Promise<void>;
  /** Current line settings (defaults to 9600 8N1 where the medium has none). */
  getLineSettings(): LineSettings;
  /** Change line settings (a real port reconfigures the UART; others only re-pace). */
  setLineSettings(settings: Partial<LineSettings>): Promise<void>;
  /** Set modem control lines where the medium has them; a no-op elsewhere. */
  setControlLines(lines: ControlLines): Promise<void>;
}

export interface ListenerEvents {
  connection: [Transport];
  error: [SimError];
  close: [];
}

/**
 * The server side. TCP listeners accept many connections; serial ports and ptys emit exactly
 * one long-lived "connection" that survives clients opening and closing the device.
 */
export interface Listener extends EventEmitter<ListenerEvents> {
  readonly info: TransportInfo;
  close(): Promise<void>;
}

export const DEFAULT_LINE: LineSettings = Object.freeze({
  baudRate: 9600,
  dataBits: 8,
  parity: 'none',
  stopBits: 1,
}) as LineSettings;

/** Bits on the wire per character: start + data + parity + stop (9600 8N1 -> 10). */
export function bitsPerChar(s: LineSettings): number {
  return 1 + s.dataBits + (s.parity === 'none' ? 0 : 1) + s.stopBits;
}
