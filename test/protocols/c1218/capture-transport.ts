import { EventEmitter } from 'node:events';
import {
  DEFAULT_LINE,
  type ControlLines,
  type LineSettings,
  type Transport,
  type TransportEvents,
  type TransportInfo,
} from '../../../src/transport/types';

/**
 * A Transport for driving a server or client byte by byte from a test: writes are recorded
 * synchronously, `inject` delivers bytes as if received. No event-loop hops, so a test can
 * push 100,000 packets through the server in seconds.
 */
export class CaptureTransport extends EventEmitter<TransportEvents> implements Transport {
  readonly info: TransportInfo = { kind: 'mem', uri: 'mem:capture', path: 'capture' };
  readonly written: Buffer[] = [];
  readonly lineChanges: number[] = [];
  readonly control: ControlLines = {};
  private line: LineSettings = { ...DEFAULT_LINE };
  private open = true;

  get isOpen(): boolean {
    return this.open;
  }

  write(data: Uint8Array): Promise<void> {
    this.written.push(Buffer.from(data));
    return Promise.resolve();
  }

  inject(data: Uint8Array): void {
    this.emit('data', Buffer.from(data));
  }

  /** Everything written since the last take(), concatenated. */
  take(): Buffer {
    const out = Buffer.concat(this.written);
    this.written.length = 0;
    return out;
  }

  close(): Promise<void> {
    if (this.open) {
      this.open = false;
      this.emit('close', undefined);
    }
    return Promise.resolve();
  }

  getLineSettings(): LineSettings {
    return { ...this.line };
  }

  setLineSettings(settings: Partial<LineSettings>): Promise<void> {
    this.line = { ...this.line, ...settings };
    if (settings.baudRate !== undefined) this.lineChanges.push(settings.baudRate);
    this.emit('line', this.getLineSettings());
    return Promise.resolve();
  }

  setControlLines(lines: ControlLines): Promise<void> {
    Object.assign(this.control, lines);
    return Promise.resolve();
  }
}

/** Let queued promise continuations run (server request processing is promise-based). */
export async function settle(rounds = 3): Promise<void> {
  for (let i = 0; i < rounds; i++) await Promise.resolve();
}

/** One event-loop turn: held ACKs (LinkDriverOptions.coalesceAcks) go out at its end. */
export function turn(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
