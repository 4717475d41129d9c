import { EventEmitter } from 'node:events';
import type { Clock } from '../../src/core/clock';
import { ErrorCode, SimError } from '../../src/core/errors';
import {
  DEFAULT_LINE,
  type ControlLines,
  type LineSettings,
  type Listener,
  type Transport,
  type TransportEvents,
  type TransportInfo,
} from '../../src/transport/types';

/** Bytes 0..n-1 of a deterministic pattern that is not periodic in any small power of two. */
export function pattern(n: number, salt = 0): Buffer {
  const b = Buffer.allocUnsafe(n);
  for (let i = 0; i < n; i++) b[i] = (i * 7 + salt + (i >> 8) * 13) & 0xff;
  return b;
}

/**
 * Resolve with exactly the first `n` bytes received on `t` (the received total must not exceed
 * `n` by the time it resolves, so stray extra bytes are detected), or reject if `t` closes first.
 */
export function collect(t: Transport, n: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let got = 0;
    const onData = (chunk: Buffer): void => {
      chunks.push(Buffer.from(chunk));
      got += chunk.length;
      if (got >= n) {
        done();
        if (got > n) reject(new Error(`expected ${n} bytes, received ${got}`));
        else resolve(Buffer.concat(chunks));
      }
    };
    const onClose = (e: SimError | undefined): void => {
      done();
      reject(new Error(`closed after ${got} of ${n} bytes${e ? `: ${e.message}` : ''}`));
    };
    const done = (): void => {
      t.off('data', onData);
      t.off('close', onClose);
    };
    t.on('data', onData);
    t.on('close', onClose);
  });
}

/** Record every chunk received, for assertions on chunking and order. */
export function record(t: Transport): Buffer[] {
  const chunks: Buffer[] = [];
  t.on('data', (c) => chunks.push(Buffer.from(c)));
  return chunks;
}

export function nextConnection(l: Listener): Promise<Transport> {
  return new Promise((resolve) => l.once('connection', resolve));
}

export function nextClose(t: Transport): Promise<SimError | undefined> {
  return new Promise((resolve) => t.once('close', resolve));
}

/** Settle a promise into a value we can assert on. */
export function settle<T>(p: Promise<T>): Promise<{ ok: true; value: T } | { ok: false; error: unknown }> {
  return p.then(
    (value) => ({ ok: true as const, value }),
    (error: unknown) => ({ ok: false as const, error }),
  );
}

/** Let pending I/O callbacks and immediates run. */
export function tick(): Promise<void> {
  return new Promise((r) => setImmediate(r));
}

/**
 * A transport whose writes are recorded with the time of the given clock, for line-emulation
 * tests: what left the wrapper and exactly when.
 */
export class RecordingTransport extends EventEmitter<TransportEvents> implements Transport {
  readonly info: TransportInfo = { kind: 'mem', uri: 'mem:recording', path: 'recording' };
  readonly writes: { at: number; bytes: Buffer }[] = [];
  readonly controlLines: ControlLines[] = [];
  private open = true;
  private line: LineSettings;

  constructor(
    private readonly clock: Clock,
    line: Partial<LineSettings> = {},
  ) {
    super();
    this.line = { ...DEFAULT_LINE, ...line };
  }

  get isOpen(): boolean {
    return this.open;
  }

  /** All bytes written so far, in order. */
  get sent(): Buffer {
    return Buffer.concat(this.writes.map((w) => w.bytes));
  }

  write(data: Uint8Array): Promise<void> {
    if (!this.open) return Promise.reject(new SimError(ErrorCode.TransportClosed, 'closed'));
    this.writes.push({ at: this.clock.monotonic(), bytes: Buffer.from(data) });
    return Promise.resolve();
  }

  /** Bytes arriving from the wire. */
  receive(data: Uint8Array): void {
    this.emit('data', Buffer.from(data));
  }

  /** The peer went away. */
  drop(): void {
    this.open = false;
    this.emit('close', new SimError(ErrorCode.TransportDisconnected, 'peer closed'));
  }

  /** The peer changed the line (a pty client setting its baud). */
  peerSetsLine(s: Partial<LineSettings>): void {
    this.line = { ...this.line, ...s };
    this.emit('line', { ...this.line });
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

  setLineSettings(s: Partial<LineSettings>): Promise<void> {
    this.line = { ...this.line, ...s };
    this.emit('line', { ...this.line });
    return Promise.resolve();
  }

  setControlLines(lines: ControlLines): Promise<void> {
    this.controlLines.push(lines);
    return Promise.resolve();
  }
}
