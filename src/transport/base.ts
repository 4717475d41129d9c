import { EventEmitter } from 'node:events';
import { ErrorCode, type SimError } from '../core/errors';
import { silentLogger, type Logger } from '../core/logger';
import { SmallSet } from '../core/small-set';
import { closedError, mapTransportError } from './error-map';
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
 * Subscribe to node:events' built-in `newListener` event, which typed event maps do not list.
 * Returns the unsubscribe function.
 */
export function onNewListener(emitter: object, fn: (event: string | symbol) => void): () => void {
  const e = emitter as EventEmitter;
  e.on('newListener', fn);
  return () => e.off('newListener', fn);
}

/**
 * What every OS-backed transport (tcp, serial, pty) shares: the open/closed state, exactly one
 * `close` event, rejection of writes after close, and lazy reading. Reading starts when the first
 * `data` listener is attached, so bytes that arrive before the protocol layer is wired up wait in
 * the OS or stream buffer instead of being emitted to nobody.
 */
export abstract class BaseTransport extends EventEmitter<TransportEvents> implements Transport {
  private state: 'open' | 'closing' | 'closed' = 'open';
  private closed: Promise<void> | undefined;
  private reading = false;
  protected line: LineSettings;

  protected constructor(
    readonly info: TransportInfo,
    line: LineSettings = DEFAULT_LINE,
    protected readonly logger: Logger = silentLogger,
  ) {
    super();
    this.line = { ...line };
    this.stopWatching = onNewListener(this, this.onNewListener);
  }

  private readonly stopWatching: () => void;

  private readonly onNewListener = (event: string | symbol): void => {
    if (event !== 'data' || this.reading) return;
    this.reading = true;
    this.stopWatching();
    // After the listener is registered (newListener fires before), so a synchronous first chunk
    // reaches it.
    queueMicrotask(() => {
      if (this.state === 'open') this.startReading();
    });
  };

  get isOpen(): boolean {
    return this.state === 'open';
  }

  /** True once close() was called or the medium went away. */
  protected get isClosing(): boolean {
    return this.state !== 'open';
  }

  write(data: Uint8Array): Promise<void> {
    if (this.state !== 'open') return Promise.reject(closedError(this.info.uri, 'write after close'));
    if (data.length === 0) return Promise.resolve();
    const buf = Buffer.isBuffer(data) ? data : Buffer.from(data.buffer, data.byteOffset, data.byteLength);
    return this.writeBytes(buf);
  }

  close(): Promise<void> {
    if (!this.closed) {
      this.state = 'closing';
      this.closed = this.release().then(
        () => this.finish(undefined),
        (e: unknown) => {
          this.logger.debug({ err: e, uri: this.info.uri }, 'error while closing');
          this.finish(undefined);
        },
      );
    }
    return this.closed;
  }

  /** The medium went away on its own (peer closed, device unplugged). */
  protected lost(error: SimError): void {
    if (this.closed) return;
    this.state = 'closing';
    this.closed = this.release().then(
      () => this.finish(error),
      () => this.finish(error),
    );
  }

  private finish(error: SimError | undefined): void {
    if (this.state === 'closed') return;
    this.state = 'closed';
    this.emit('close', error);
  }

  getLineSettings(): LineSettings {
    return { ...this.line };
  }

  setLineSettings(settings: Partial<LineSettings>): Promise<void> {
    if (this.state !== 'open') return Promise.reject(closedError(this.info.uri));
    this.line = { ...this.line, ...settings };
    this.emit('line', this.getLineSettings());
    return Promise.resolve();
  }

  setControlLines(_lines: ControlLines): Promise<void> {
    return Promise.resolve();
  }

  private readonly pendingWrites = new SmallSet<(e: SimError) => void>();

  /**
   * Run one OS write (`start` hands bytes to a socket or port and calls back when done) and
   * track it, so that rejectPendingWrites() settles every write still in flight when the medium
   * closes. Errors become SimErrors naming the URI.
   */
  protected trackedWrite(start: (done: (err?: Error | null) => void) => void): Promise<void> {
    return new Promise((resolve, reject) => {
      const fail = (e: SimError): void => reject(e);
      this.pendingWrites.add(fail);
      start((err) => {
        if (!this.pendingWrites.delete(fail)) return;
        if (!err) resolve();
        else
          reject(
            this.isClosing
              ? closedError(this.info.uri, 'closed while writing')
              : mapTransportError(err, this.info.uri, {
                  op: 'write',
                  fallback: ErrorCode.TransportWriteFailed,
                }),
          );
      });
    });
  }

  protected get hasPendingWrites(): boolean {
    return this.pendingWrites.size > 0;
  }

  /** Reject every write still in flight. */
  protected rejectPendingWrites(e: SimError): void {
    for (const reject of this.pendingWrites.drain()) reject(e);
  }

  /** Start delivering `data` events. Called once, after the first data listener is attached. */
  protected abstract startReading(): void;
  /** Hand bytes to the OS; reject with a SimError. Only called while open. */
  protected abstract writeBytes(data: Buffer): Promise<void>;
  /** Release the OS resources; pending writes must settle (reject) by the time it resolves. */
  protected abstract release(): Promise<void>;
}

/**
 * Listener plumbing: connections accepted while nobody listens for `connection` are held and
 * handed over when the first listener attaches (a serial port or pty has exactly one
 * connection, opened before `listen()` resolves). Errors with no `error` listener are logged
 * rather than thrown, so one bad socket cannot crash a farm.
 */
export abstract class BaseListener extends EventEmitter<ListenerEvents> implements Listener {
  private held: Transport[] | undefined;
  private stopWatching: (() => void) | undefined;

  protected constructor(
    readonly info: TransportInfo,
    protected readonly logger: Logger = silentLogger,
  ) {
    super();
  }

  protected offer(t: Transport): void {
    if (this.listenerCount('connection') > 0 && !this.held) {
      this.emit('connection', t);
      return;
    }
    if (!this.held) {
      this.held = [];
      this.stopWatching = onNewListener(this, this.onNewListener);
    }
    this.held.push(t);
  }

  private readonly onNewListener = (event: string | symbol): void => {
    if (event !== 'connection') return;
    this.stopWatching?.();
    this.stopWatching = undefined;
    // Deliver after the listener has been registered.
    setImmediate(() => {
      const held = this.held ?? [];
      this.held = undefined;
      for (const t of held) this.emit('connection', t);
    });
  };

  /** Connections accepted but not yet handed to a `connection` listener. */
  protected takeHeld(): Transport[] {
    const held = this.held ?? [];
    this.held = undefined;
    return held;
  }

  protected reportError(e: SimError): void {
    if (this.listenerCount('error') > 0) this.emit('error', e);
    else this.logger.warn({ err: e, uri: this.info.uri }, e.message);
  }

  abstract close(): Promise<void>;
}

/**
 * The server side of a medium with exactly one long-lived connection (a serial port, a pty):
 * the connection exists as soon as the device is open and survives clients coming and going.
 * Closing the listener closes the connection and vice versa.
 */
export class SingleConnectionListener<T extends Transport> extends BaseListener {
  private closing: Promise<void> | undefined;

  constructor(
    readonly transport: T,
    logger: Logger = silentLogger,
  ) {
    super(transport.info, logger);
    transport.once('close', () => {
      this.closing ??= Promise.resolve();
      this.emit('close');
    });
    this.offer(transport);
  }

  close(): Promise<void> {
    this.closing ??= this.transport.close();
    return this.closing;
  }
}
