import { systemClock, type Clock, type TimerHandle } from '../core/clock';
import type { SimError } from '../core/errors';
import { silentLogger, type Logger } from '../core/logger';
import { onNewListener } from './base';
import { msPerChar } from './line-pacer';
import { TransportDecorator } from './decorator';
import type { LineSettings, Transport } from './types';

/**
 * Client-side echo cancellation (the `echocancel` URI param, or a hardware preset whose probe
 * echoes). An optical head reflects its own transmitter into its receiver (docs/dlms.md §1
 * "Optical heads echo"; u9n#62 shows a client choking on its own echoed SNRM), so every byte
 * we send comes back, before the meter's answer, as we send it. The canceller remembers each
 * block written and strips it from the start of what comes back:
 *
 * - byte-exact within the character width: on a 7-bit line (IEC 62056-21 sign-on, 7E1) only
 *   the low 7 bits are compared, because the UART delivers 7-bit characters;
 * - bounded: a block is expected back until its deadline, the end of its transmission at the
 *   line's speed plus `waitMs` (USB latency, modelled); after that the expectation is dropped;
 * - lossless: bytes that match are held until the whole block has come back. The first byte
 *   that differs, or a deadline that passes, releases what was held to the protocol (the line
 *   does not echo, and the reply merely began like our request: `/?!` and `/APA…` share the
 *   '/', C12.18 requests and responses both start 0xEE), so a line without echo loses nothing.
 *
 * The state machine is pure (`echoStep`); `EchoCancelTransport` runs it over a Transport and
 * owns the one timer.
 */

/**
 * Slack after the computed end of transmission before an echo is given up (modelled). A probe's
 * echo reaches the host within the USB-serial latency timer (16 ms on FTDI), but a loaded host
 * may not read it for a few hundred ms (measured: 120-250 ms on 2 busy cores, through an
 * in-process pty). Waiting longer costs nothing on a line that echoes, and on one that does not
 * the first byte that differs ends the wait anyway.
 */
export const DEFAULT_ECHO_WAIT_MS = 500;

/**
 * A deadline timer that fires this much later than asked found the event loop stalled (modelled).
 * Node runs due timers before it reads pending I/O, so the echo may be sitting unread in the
 * kernel: the wait restarts instead of giving up, and the bound holds in time the process could
 * actually read. Seen under CPU load on 2 cores: a Security request's echo taken for the answer.
 */
export const LATE_TIMER_MS = 10;

interface Expected {
  readonly bytes: Buffer;
  /** Monotonic ms after which the block is no longer expected. */
  readonly deadline: number;
}

export interface EchoState {
  readonly expected: readonly Expected[];
  /** Bytes of expected[0] already matched. */
  readonly offset: number;
  /** Matched bytes of expected[0], kept in case they were not an echo after all. */
  readonly held: Buffer;
}

export const ECHO_IDLE: EchoState = Object.freeze({ expected: [], offset: 0, held: Buffer.alloc(0) });

export type EchoInput =
  | { readonly kind: 'sent'; readonly bytes: Uint8Array; readonly deadline: number }
  /** Push every pending deadline to at least `deadline` (the write left later than planned). */
  | { readonly kind: 'extend'; readonly deadline: number }
  | { readonly kind: 'received'; readonly bytes: Buffer; readonly mask: number; readonly now: number }
  | { readonly kind: 'expire'; readonly now: number }
  /** Forget every expectation (line settings changed, transport closed). */
  | { readonly kind: 'reset' };

export interface EchoOutcome {
  readonly state: EchoState;
  /** Bytes for the protocol above (received bytes that were not an echo, released bytes). */
  readonly deliver: Buffer;
  /** Echo bytes removed by this step. */
  readonly stripped: number;
  /** Expected bytes given up on (deadline passed, or a mismatch ended the expectation). */
  readonly missed: number;
}

const EMPTY: Buffer = Buffer.alloc(0);

/** Every byte still expected, the matched part of the first block included. */
function expectedBytes(s: Pick<EchoState, 'expected'>): number {
  return s.expected.reduce((n, e) => n + e.bytes.length, 0);
}

/** The earliest deadline still pending, if any. */
export function nextEchoDeadline(s: EchoState): number | undefined {
  return s.expected[0]?.deadline;
}

function received(s: EchoState, chunk: Buffer, mask: number, now: number): EchoOutcome {
  // Nothing expected (the usual case between requests): the chunk goes up as it is.
  if (s.expected.length === 0) return { state: s, deliver: chunk, stripped: 0, missed: 0 };
  const before = expire(s, now);
  let { expected, offset, held } = before.state;
  let missed = before.missed;
  const parts: Buffer[] = before.deliver.length ? [before.deliver] : [];
  let stripped = 0;
  let start = 0;
  let i = 0;
  while (i < chunk.length && expected.length > 0) {
    const head = expected[0]!;
    if ((head.bytes[offset]! & mask) !== (chunk[i]! & mask)) {
      // Not an echo: the line does not echo, or the echo was lost. Release what was held back.
      missed += expectedBytes({ expected });
      if (held.length) parts.push(held);
      expected = [];
      offset = 0;
      held = EMPTY;
      break;
    }
    i++;
    if (++offset === head.bytes.length) {
      // The whole block came back: it was our echo.
      stripped += head.bytes.length;
      expected = expected.slice(1);
      offset = 0;
      held = EMPTY;
      start = i;
    }
  }
  if (expected.length > 0 && offset > 0) {
    // The chunk ended inside an expected block: hold the matched bytes of this chunk too.
    held = Buffer.concat([held, chunk.subarray(start, i)]);
  } else if (i > start) {
    // A mismatch ended the expectation: the bytes matched in this chunk were not an echo either.
    parts.push(chunk.subarray(start, i));
  }
  if (i < chunk.length) parts.push(chunk.subarray(i));
  const deliver = parts.length === 0 ? EMPTY : parts.length === 1 ? parts[0]! : Buffer.concat(parts);
  return { state: { expected, offset, held }, deliver, stripped, missed };
}

function expire(s: EchoState, now: number): EchoOutcome {
  let { expected, offset, held } = s;
  let missed = 0;
  let deliver = EMPTY;
  while (expected.length > 0 && expected[0]!.deadline <= now) {
    missed += expected[0]!.bytes.length;
    // A partial echo cut short, or a reply that began like the request: hand it on.
    if (held.length) deliver = deliver.length ? Buffer.concat([deliver, held]) : held;
    expected = expected.slice(1);
    offset = 0;
    held = EMPTY;
  }
  return { state: { expected, offset, held }, deliver, stripped: 0, missed };
}

/** One step of the canceller: (state, input) -> state and the bytes to pass upward. */
export function echoStep(s: EchoState, input: EchoInput): EchoOutcome {
  switch (input.kind) {
    case 'sent':
      if (input.bytes.length === 0) return { state: s, deliver: EMPTY, stripped: 0, missed: 0 };
      return {
        state: {
          ...s,
          expected: [...s.expected, { bytes: Buffer.from(input.bytes), deadline: input.deadline }],
        },
        deliver: EMPTY,
        stripped: 0,
        missed: 0,
      };
    case 'extend':
      return {
        state: {
          ...s,
          expected: s.expected.map((e) =>
            e.deadline < input.deadline ? { bytes: e.bytes, deadline: input.deadline } : e,
          ),
        },
        deliver: EMPTY,
        stripped: 0,
        missed: 0,
      };
    case 'received':
      return received(s, input.bytes, input.mask, input.now);
    case 'expire':
      return expire(s, input.now);
    case 'reset':
      return { state: ECHO_IDLE, deliver: s.held, stripped: 0, missed: expectedBytes(s) };
  }
}

/** Bits compared per character: the data bits of the line (7E1 -> 0x7f). */
export function echoMask(s: LineSettings): number {
  return (1 << s.dataBits) - 1;
}

export interface EchoCancelStats {
  /** Echo bytes removed. */
  stripped: number;
  /** Bytes we sent whose echo never came (or stopped matching). */
  missed: number;
  /** Deadlines postponed because the timer fired late (LATE_TIMER_MS). */
  lateTimers: number;
}

export interface EchoCancelOptions {
  /** Slack after the end of transmission (default DEFAULT_ECHO_WAIT_MS). */
  waitMs?: number;
  clock?: Clock;
  logger?: Logger;
}

/** A Transport wrapper that strips the echo of what it writes from what it receives. */
export class EchoCancelTransport extends TransportDecorator {
  readonly stats: EchoCancelStats = { stripped: 0, missed: 0, lateTimers: 0 };
  private state: EchoState = ECHO_IDLE;
  private timer: TimerHandle | undefined;
  /** When the line is free again: the end of the last planned transmission (monotonic ms). */
  private txEnd = -Infinity;
  private attached = false;
  private readonly clock: Clock;
  private readonly log: Logger;
  private readonly waitMs: number;
  private readonly stopWatching: () => void;

  constructor(inner: Transport, options: EchoCancelOptions = {}) {
    super(inner);
    this.clock = options.clock ?? systemClock;
    this.log = options.logger ?? silentLogger;
    this.waitMs = options.waitMs ?? DEFAULT_ECHO_WAIT_MS;
    inner.on('close', this.onInnerClose);
    inner.on('line', this.onInnerLine);
    // Read lazily, like the transports themselves (base.ts): bytes wait in the OS until the
    // protocol above listens.
    this.stopWatching = onNewListener(this, (event) => {
      if (event !== 'data' || this.attached) return;
      this.attached = true;
      this.stopWatching();
      inner.on('data', this.onInnerData);
    });
  }

  private apply(input: EchoInput): void {
    const out = echoStep(this.state, input);
    this.state = out.state;
    this.stats.stripped += out.stripped;
    if (out.missed > 0) {
      this.stats.missed += out.missed;
      this.log.debug({ missed: out.missed, uri: this.info.uri }, 'expected echo did not come back');
    }
    this.arm();
    if (out.deliver.length > 0) this.emit('data', out.deliver);
  }

  private arm(): void {
    this.clock.clearTimeout(this.timer);
    this.timer = undefined;
    const at = nextEchoDeadline(this.state);
    if (at === undefined) return;
    this.timer = this.clock.setTimeout(
      () => {
        this.timer = undefined;
        const now = this.clock.monotonic();
        if (now - at > LATE_TIMER_MS) {
          this.state = echoStep(this.state, { kind: 'extend', deadline: now + this.waitMs }).state;
          this.stats.lateTimers++;
          this.arm();
          return;
        }
        this.apply({ kind: 'expire', now });
      },
      Math.max(0, at - this.clock.monotonic()),
    );
  }

  private readonly onInnerData = (chunk: Buffer): void => {
    this.apply({
      kind: 'received',
      bytes: chunk,
      mask: echoMask(this.inner.getLineSettings()),
      now: this.clock.monotonic(),
    });
  };

  private readonly onInnerLine = (s: LineSettings): void => {
    // After a speed or framing change an echo of bytes sent before it cannot match any more.
    this.apply({ kind: 'reset' });
    this.emit('line', s);
  };

  private readonly onInnerClose = (error: SimError | undefined): void => {
    this.clock.clearTimeout(this.timer);
    this.timer = undefined;
    this.state = ECHO_IDLE;
    this.emit('close', error);
  };

  override write(data: Uint8Array): Promise<void> {
    if (data.length === 0 || !this.inner.isOpen) return this.inner.write(data);
    const now = this.clock.monotonic();
    this.txEnd = Math.max(now, this.txEnd) + data.length * msPerChar(this.inner.getLineSettings());
    this.apply({ kind: 'sent', bytes: data, deadline: this.txEnd + this.waitMs });
    return this.inner.write(data).then(() => {
      // The bytes left later than planned (a paced or busy line): wait from then.
      if (this.state.expected.length === 0) return;
      this.state = echoStep(this.state, {
        kind: 'extend',
        deadline: this.clock.monotonic() + this.waitMs,
      }).state;
      this.arm();
    });
  }

  override close(): Promise<void> {
    this.clock.clearTimeout(this.timer);
    this.timer = undefined;
    return this.inner.close();
  }
}

/** Wrap a transport with echo cancellation. */
export function withEchoCancel(transport: Transport, options: EchoCancelOptions = {}): EchoCancelTransport {
  return new EchoCancelTransport(transport, options);
}
