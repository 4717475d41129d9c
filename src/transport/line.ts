import { EventEmitter } from 'node:events';
import { systemClock, type Clock, type TimerHandle } from '../core/clock';
import { ErrorCode, SimError, toSimError } from '../core/errors';
import { silentLogger, type Logger } from '../core/logger';
import { BaseListener, onNewListener } from './base';
import { closedError } from './error-map';
import {
  applyFaults,
  drawGaps,
  streamPrng,
  STREAM_GAP,
  STREAM_RX,
  STREAM_TX,
  type Prng,
} from './line-faults';
import { NO_EMULATION, type LineEmulation } from './line-options';
import { msPerChar, PACE_EARLY_MS, planTransmission, type Plan } from './line-pacer';
import type {
  ControlLines,
  LineSettings,
  Listener,
  Transport,
  TransportEvents,
  TransportInfo,
} from './types';

/**
 * withLine(): a Transport wrapper that behaves like a real wire (DESIGN.md "line" layer):
 * output paced at the line's baud from absolute deadlines, a turnaround delay before a reply,
 * optical-head echo, seeded bit flips and drops, and inter-character gaps. Pacing reads the
 * inner transport's line settings for every transmission, so it follows setLineSettings()
 * (C12.18 Negotiate, IEC 62056-21 300 7E1 -> 9600 8N1) and, on a pty, the baud the client set.
 */

interface Outgoing {
  data: Buffer;
  resolve: () => void;
  reject: (e: SimError) => void;
  writes: Promise<void>[];
}

interface Current {
  item: Outgoing;
  plan: Plan;
  next: number;
}

/** Counters, for tests and metrics. */
export interface LineStats {
  sentBytes: number;
  receivedBytes: number;
  flippedBits: number;
  droppedBytes: number;
  echoedBytes: number;
}

export class LineTransport extends EventEmitter<TransportEvents> implements Transport {
  readonly options: Readonly<LineEmulation>;
  readonly stats: LineStats = {
    sentBytes: 0,
    receivedBytes: 0,
    flippedBits: 0,
    droppedBytes: 0,
    echoedBytes: 0,
  };
  private readonly queue: Outgoing[] = [];
  private current: Current | undefined;
  private timer: TimerHandle | undefined;
  private microtaskPending = false;
  /** End of the last scheduled character (monotonic ms). */
  private due = -Infinity;
  private lastRxAt: number | undefined;
  private rxSinceTx = false;
  private state: 'open' | 'closed' = 'open';
  private closing: Promise<void> | undefined;
  private attached = false;
  private tail: Promise<void> = Promise.resolve();
  private readonly txPrng: Prng;
  private readonly rxPrng: Prng;
  private readonly gapPrng: Prng;

  constructor(
    readonly inner: Transport,
    options: Partial<LineEmulation> = {},
    private readonly clock: Clock = systemClock,
    private readonly logger: Logger = silentLogger,
  ) {
    super();
    this.options = Object.freeze({ ...NO_EMULATION, ...options });
    this.txPrng = streamPrng(this.options.seed, STREAM_TX);
    this.rxPrng = streamPrng(this.options.seed, STREAM_RX);
    this.gapPrng = streamPrng(this.options.seed, STREAM_GAP);
    inner.on('close', this.onInnerClose);
    inner.on('line', this.onInnerLine);
    // A peer echo must happen whether or not anyone above listens; otherwise read lazily, like
    // the transports themselves (base.ts).
    if (this.options.echo === 'peer') this.attach();
    else this.stopWatching = onNewListener(this, this.onNewListener);
  }

  private stopWatching: (() => void) | undefined;

  get info(): TransportInfo {
    return this.inner.info;
  }

  get isOpen(): boolean {
    return this.state === 'open' && this.inner.isOpen;
  }

  private readonly onNewListener = (event: string | symbol): void => {
    if (event !== 'data') return;
    this.stopWatching?.();
    this.attach();
  };

  private attach(): void {
    if (this.attached) return;
    this.attached = true;
    this.inner.on('data', this.onInnerData);
  }

  private faultsOn(dir: 'tx' | 'rx'): boolean {
    const o = this.options;
    return (o.noise > 0 || o.drop > 0) && (o.faults === 'both' || o.faults === dir);
  }

  private readonly onInnerData = (chunk: Buffer): void => {
    if (this.state !== 'open') return;
    this.lastRxAt = this.clock.monotonic();
    this.rxSinceTx = true;
    this.stats.receivedBytes += chunk.length;
    if (this.options.echo === 'peer') {
      // The probe reflects what the client sent, as it was on the wire, at once: not paced, not
      // delayed, independent of our own output queue (dlms.md §1: optical heads echo).
      this.stats.echoedBytes += chunk.length;
      this.inner
        .write(Buffer.from(chunk))
        .catch((e: unknown) => this.logger.debug({ err: e }, 'echo failed'));
    }
    let out = chunk;
    if (this.faultsOn('rx')) {
      const r = applyFaults(chunk, this.faultConfig(), this.rxPrng);
      this.stats.flippedBits += r.flipped;
      this.stats.droppedBytes += r.dropped;
      out = r.bytes;
    }
    if (out.length > 0) this.emit('data', out);
  };

  private readonly onInnerLine = (s: LineSettings): void => {
    this.emit('line', s);
  };

  private readonly onInnerClose = (error: SimError | undefined): void => {
    if (this.state === 'closed') return;
    this.shutdown(error ?? closedError(this.info.uri));
    this.emit('close', error);
  };

  private faultConfig(): { noise: number; drop: number; dataBits: number } {
    return {
      noise: this.options.noise,
      drop: this.options.drop,
      dataBits: this.inner.getLineSettings().dataBits,
    };
  }

  write(data: Uint8Array): Promise<void> {
    if (!this.isOpen) return Promise.reject(closedError(this.info.uri, 'write after close'));
    if (data.length === 0) return Promise.resolve();
    const p = new Promise<void>((resolve, reject) => {
      this.queue.push({ data: Buffer.from(data), resolve, reject, writes: [] });
    });
    this.tail = p.catch(() => undefined);
    this.schedule(0);
    return p;
  }

  /** Resolves when everything queued so far has been handed on (errors ignored). */
  drain(): Promise<void> {
    return this.tail;
  }

  private schedule(delay: number): void {
    if (this.timer || this.microtaskPending) return;
    if (delay <= 0) {
      // Zero delay is ordering, not time: never re-enter the caller, never need a clock tick.
      this.microtaskPending = true;
      queueMicrotask(() => {
        this.microtaskPending = false;
        this.pump();
      });
    } else {
      this.timer = this.clock.setTimeout(() => {
        this.timer = undefined;
        this.pump();
      }, delay);
    }
  }

  private pump(): void {
    while (this.state === 'open') {
      if (!this.current) {
        const item = this.queue[0];
        if (!item) return;
        this.current = { item, plan: this.planFor(item.data.length), next: 0 };
      }
      const cur = this.current;
      const slice = cur.plan.slices[cur.next]!;
      const wait = slice.at - this.clock.monotonic();
      if (wait > PACE_EARLY_MS) {
        this.schedule(wait);
        return;
      }
      this.transmit(cur, slice.start, slice.end);
    }
  }

  private planFor(length: number): Plan {
    const now = this.clock.monotonic();
    let startAt = Math.max(now, this.due);
    const o = this.options;
    if (this.rxSinceTx && o.turnaroundMs > 0 && this.lastRxAt !== undefined) {
      startAt = Math.max(startAt, this.lastRxAt + o.turnaroundMs);
    }
    this.rxSinceTx = false;
    const plan = planTransmission({
      length,
      startAt,
      msPerChar: o.pace ? msPerChar(this.inner.getLineSettings()) : 0,
      gaps: drawGaps(length, o.gapMs, o.gapRate, this.gapPrng),
    });
    this.due = plan.endAt;
    return plan;
  }

  private transmit(cur: Current, start: number, end: number): void {
    const { item } = cur;
    const bytes = item.data.subarray(start, end);
    let out = bytes;
    if (this.faultsOn('tx')) {
      const r = applyFaults(bytes, this.faultConfig(), this.txPrng);
      this.stats.flippedBits += r.flipped;
      this.stats.droppedBytes += r.dropped;
      out = r.bytes;
    }
    this.stats.sentBytes += bytes.length;
    if (out.length > 0) {
      const w = this.inner.write(out);
      // Settled through Promise.all once the last slice is out; mark handled now so an early
      // failure is not reported as an unhandled rejection in between.
      w.catch(() => undefined);
      item.writes.push(w);
    }
    if (this.options.echo === 'local') {
      // What we put on the wire comes back as it leaves (modelled: the echo is of the
      // transmitted character before line noise, as the head sees its own LED).
      this.stats.echoedBytes += bytes.length;
      this.emit('data', Buffer.from(bytes));
    }
    cur.next++;
    if (cur.next === cur.plan.slices.length) {
      this.queue.shift();
      this.current = undefined;
      Promise.all(item.writes).then(
        () => item.resolve(),
        (e: unknown) => item.reject(toSimError(e, ErrorCode.TransportWriteFailed, this.info.uri)),
      );
    }
  }

  private shutdown(reason: SimError): void {
    this.state = 'closed';
    this.clock.clearTimeout(this.timer);
    this.timer = undefined;
    this.current = undefined;
    for (const item of this.queue.splice(0)) item.reject(reason);
    this.inner.off('data', this.onInnerData);
    this.inner.off('line', this.onInnerLine);
  }

  close(): Promise<void> {
    if (!this.closing) {
      if (this.state === 'open') {
        this.shutdown(closedError(this.info.uri, 'closed while writing'));
        this.inner.off('close', this.onInnerClose);
        this.closing = this.inner.close().then(() => {
          this.emit('close', undefined);
        });
      } else {
        this.closing = Promise.resolve();
      }
    }
    return this.closing;
  }

  getLineSettings(): LineSettings {
    return this.inner.getLineSettings();
  }

  /** Like tcsetattr(TCSADRAIN): characters already queued go out at the old speed first. */
  async setLineSettings(settings: Partial<LineSettings>): Promise<void> {
    if (!this.isOpen) throw closedError(this.info.uri);
    await this.drain();
    await this.inner.setLineSettings(settings);
  }

  setControlLines(lines: ControlLines): Promise<void> {
    return this.inner.setControlLines(lines);
  }
}

/** Wrap a transport with line emulation. */
export function withLine(
  transport: Transport,
  options: Partial<LineEmulation>,
  clock: Clock = systemClock,
  logger: Logger = silentLogger,
): LineTransport {
  return new LineTransport(transport, options, clock, logger);
}

/** A listener whose connections are wrapped with line emulation. */
export class LineListener extends BaseListener {
  constructor(
    readonly inner: Listener,
    options: Partial<LineEmulation>,
    clock: Clock = systemClock,
    logger: Logger = silentLogger,
  ) {
    super(inner.info, logger);
    inner.on('connection', (t) => this.offer(withLine(t, options, clock, logger)));
    inner.on('error', (e) => this.reportError(e));
    inner.on('close', () => this.emit('close'));
  }

  close(): Promise<void> {
    return this.inner.close();
  }
}
