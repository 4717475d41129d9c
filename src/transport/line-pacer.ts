import { bitsPerChar, type LineSettings } from './types';

/**
 * Baud pacing as pure arithmetic over absolute deadlines (docs/stack.md §3). A transmission is
 * cut into slices; each slice is handed on when its last character would have finished on the
 * wire. Deadlines are computed from the start of the transmission, not from the previous timer,
 * so a late timer never accumulates drift: the next slice simply goes out sooner.
 */

/**
 * Slice granularity in ms (modelled): coarse enough for Node's 1 ms timer resolution, fine
 * enough that a receiver's inter-character timeout (C12.18 and HDLC use ≥ 20 ms) never sees a
 * false gap. At 9600 8N1 that is 4 characters per slice, at 300 7E1 one.
 */
export const PACE_TICK_MS = 4;

/**
 * A slice due within this many ms is handed on now rather than through a timer (modelled):
 * Node timers have 1 ms resolution, so waiting for a sub-millisecond deadline costs a whole
 * millisecond per slice at high baud rates. Deadlines stay absolute, so this never accumulates:
 * a byte arrives at most this much earlier than on a real wire.
 */
export const PACE_EARLY_MS = 1;

/** Milliseconds a character occupies on the wire (9600 8N1 -> 10 bits -> 1.0417 ms). */
export function msPerChar(s: LineSettings): number {
  return (bitsPerChar(s) * 1000) / s.baudRate;
}

/** Characters per second (9600 8N1 -> 960). */
export function charsPerSecond(s: LineSettings): number {
  return s.baudRate / bitsPerChar(s);
}

export interface Slice {
  /** Byte range [start, end) of the transmission. */
  start: number;
  end: number;
  /** Monotonic time (ms) when the slice's last character has been fully received. */
  at: number;
}

export interface PlanInput {
  length: number;
  /** When the first start bit goes out. */
  startAt: number;
  /** 0 = unpaced (all characters at startAt, apart from gaps). */
  msPerChar: number;
  tickMs?: number;
  /** Idle ms before each character (from drawGaps); a gap always starts a new slice. */
  gaps?: Float64Array;
}

export interface Plan {
  slices: Slice[];
  /** When the line is free again. */
  endAt: number;
}

export function planTransmission(input: PlanInput): Plan {
  const { length, startAt, gaps } = input;
  const mpc = Math.max(0, input.msPerChar);
  const tick = input.tickMs ?? PACE_TICK_MS;
  const perSlice = mpc > 0 ? Math.max(1, Math.round(tick / mpc)) : Math.max(1, length);
  const slices: Slice[] = [];
  let gapSum = 0;
  let i = 0;
  while (i < length) {
    gapSum += gaps?.[i] ?? 0;
    let j = i + 1;
    while (j < length && j - i < perSlice && !(gaps && gaps[j]! > 0)) j++;
    slices.push({ start: i, end: j, at: startAt + gapSum + j * mpc });
    i = j;
  }
  return { slices, endAt: startAt + gapSum + length * mpc };
}
