import { EventEmitter } from 'node:events';
import { ErrorCode, SimError } from '../core/errors';
import { onNewListener } from './base';
import {
  DEFAULT_LINE,
  type ControlLines,
  type LineSettings,
  type Listener,
  type ListenerEvents,
  type Transport,
  type TransportEvents,
  type TransportInfo,
} from './types';

/**
 * In-process transports: deterministic, no file descriptors. Bytes written on one end arrive
 * on the other in a later macrotask turn (setImmediate), in order, optionally split into chunks
 * of at most `maxChunk` bytes to exercise reassembly in framers.
 */
export interface MemOptions {
  /** Split deliveries into chunks of at most this many bytes (default: whole writes). */
  maxChunk?: number;
  /** Names for the two ends, shown in `info.path` / `info.peer`. */
  names?: [string, string];
  /** Line settings both ends report (they only drive line emulation; default 9600 8N1). */
  line?: LineSettings;
}

export class MemTransport extends EventEmitter<TransportEvents> implements Transport {
  peerEnd: MemTransport | undefined;
  private open = true;
  private line: LineSettings;
  private readonly queue: Buffer[] = [];
  private scheduled = false;
  readonly controlLines: ControlLines = {};

  constructor(
    readonly info: TransportInfo,
    private readonly maxChunk: number,
    line: LineSettings = DEFAULT_LINE,
  ) {
    super();
    this.line = { ...line };
  }

  get isOpen(): boolean {
    return this.open;
  }

  write(data: Uint8Array): Promise<void> {
    if (!this.open) {
      return Promise.reject(new SimError(ErrorCode.TransportClosed, `${this.info.uri}: write after close`));
    }
    const peer = this.peerEnd;
    if (!peer || !peer.open) {
      return Promise.reject(new SimError(ErrorCode.TransportDisconnected, `${this.info.uri}: peer is gone`));
    }
    if (data.length === 0) return Promise.resolve();
    peer.enqueue(Buffer.from(data));
    return Promise.resolve();
  }

  private enqueue(chunk: Buffer): void {
    for (let i = 0; i < chunk.length; i += this.maxChunk) {
      this.queue.push(chunk.subarray(i, Math.min(chunk.length, i + this.maxChunk)));
    }
    if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(() => this.flush());
    }
  }

  private flush(): void {
    this.scheduled = false;
    // Like the OS-backed transports, hold bytes until someone listens for them.
    if (this.listenerCount('data') === 0) {
      if (this.queue.length > 0 && !this.waiting) {
        this.waiting = true;
        this.stopWatching = onNewListener(this, this.onNewListener);
      }
      return;
    }
    // Take the batch first: shift() on a long queue (1-byte chunks) would be quadratic.
    const batch = this.queue.splice(0);
    for (let i = 0; i < batch.length && this.open; i++) this.emit('data', batch[i]!);
  }

  private waiting = false;
  private stopWatching: (() => void) | undefined;

  private readonly onNewListener = (event: string | symbol): void => {
    if (event !== 'data') return;
    this.stopWatching?.();
    this.waiting = false;
    if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(() => this.flush());
    }
  };

  close(): Promise<void> {
    if (!this.open) return Promise.resolve();
    this.open = false;
    this.queue.length = 0;
    this.emit('close', undefined);
    const peer = this.peerEnd;
    if (peer?.open) {
      // The peer sees a disconnect once the bytes already in flight have arrived.
      setImmediate(() => {
        if (!peer.open) return;
        peer.flush();
        peer.open = false;
        peer.emit('close', new SimError(ErrorCode.TransportDisconnected, `${peer.info.uri}: peer closed`));
      });
    }
    return Promise.resolve();
  }

  getLineSettings(): LineSettings {
    return { ...this.line };
  }

  setLineSettings(settings: Partial<LineSettings>): Promise<void> {
    this.line = { ...this.line, ...settings };
    this.emit('line', this.getLineSettings());
    return Promise.resolve();
  }

  setControlLines(lines: ControlLines): Promise<void> {
    Object.assign(this.controlLines, lines);
    return Promise.resolve();
  }
}

let pairCounter = 0;

/** Two connected in-memory ends. */
export function createMemPair(options: MemOptions = {}): [MemTransport, MemTransport] {
  const id = ++pairCounter;
  const [na, nb] = options.names ?? [`pair-${id}-a`, `pair-${id}-b`];
  const maxChunk = Math.max(1, options.maxChunk ?? Number.MAX_SAFE_INTEGER);
  const a = new MemTransport({ kind: 'mem', uri: `mem:${na}`, path: na, peer: nb }, maxChunk, options.line);
  const b = new MemTransport({ kind: 'mem', uri: `mem:${nb}`, path: nb, peer: na }, maxChunk, options.line);
  a.peerEnd = b;
  b.peerEnd = a;
  return [a, b];
}

const memListeners = new Map<string, MemListener>();

export class MemListener extends EventEmitter<ListenerEvents> implements Listener {
  readonly info: TransportInfo;
  private connections = 0;

  constructor(
    readonly name: string,
    private readonly options: MemOptions,
  ) {
    super();
    this.info = { kind: 'mem', uri: `mem:${name}`, path: name };
  }

  /** Called by connectMem: make a pair, hand the server end to `connection` listeners. */
  accept(): MemTransport {
    const n = ++this.connections;
    const [client, server] = createMemPair({
      ...this.options,
      names: [`${this.name}#client-${n}`, `${this.name}#${n}`],
    });
    this.emit('connection', server);
    return client;
  }

  close(): Promise<void> {
    if (memListeners.get(this.name) === this) memListeners.delete(this.name);
    this.emit('close');
    return Promise.resolve();
  }
}

/** Register an in-process listener under `name` (the `mem:NAME` URI). */
export function listenMem(name: string, options: MemOptions = {}): MemListener {
  if (memListeners.has(name)) {
    throw new SimError(ErrorCode.TransportAddressInUse, `mem:${name}: a listener is already registered`, {
      uri: `mem:${name}`,
    });
  }
  const l = new MemListener(name, options);
  memListeners.set(name, l);
  return l;
}

/** Connect to a listener registered with listenMem. */
export function connectMem(name: string): MemTransport {
  const l = memListeners.get(name);
  if (!l) {
    throw new SimError(ErrorCode.TransportConnectionRefused, `mem:${name}: nothing is listening`, {
      uri: `mem:${name}`,
    });
  }
  return l.accept();
}
