/**
 * The injectable time source. Every timer in the project (link timeouts, line pacing,
 * response delays, clock offsets) goes through a Clock so that tests can drive time with a
 * ManualClock instead of fake-timer magic.
 */

export interface TimerHandle {
  readonly id: number;
}

export interface Clock {
  /** Wall-clock time, ms since the Unix epoch. */
  now(): number;
  /** Monotonic time in ms (fractional), for deadlines and durations. */
  monotonic(): number;
  setTimeout(fn: () => void, ms: number): TimerHandle;
  clearTimeout(handle: TimerHandle | undefined): void;
  /** Resolve after `ms`. */
  sleep(ms: number): Promise<void>;
}

class SystemTimer implements TimerHandle {
  constructor(
    readonly id: number,
    readonly inner: NodeJS.Timeout,
  ) {}
}

let systemTimerIds = 0;

export class SystemClock implements Clock {
  now(): number {
    return Date.now();
  }

  monotonic(): number {
    return performance.now();
  }

  setTimeout(fn: () => void, ms: number): TimerHandle {
    const t = setTimeout(fn, Math.max(0, ms));
    // Timers must never keep a CLI process alive on their own.
    t.unref?.();
    return new SystemTimer(++systemTimerIds, t);
  }

  clearTimeout(handle: TimerHandle | undefined): void {
    if (handle instanceof SystemTimer) clearTimeout(handle.inner);
  }

  sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const t = setTimeout(resolve, Math.max(0, ms));
      t.unref?.();
    });
  }
}

export const systemClock: Clock = new SystemClock();

interface ManualTimer {
  id: number;
  due: number;
  seq: number;
  fn: () => void;
}

/**
 * A clock that only moves when told. `advance(ms)` runs every timer that falls due, in due
 * order (ties in scheduling order), including timers scheduled by those timers.
 */
export class ManualClock implements Clock {
  private mono: number;
  private wallOffset: number;
  private timers: ManualTimer[] = [];
  private nextId = 1;
  private seq = 0;

  constructor(startWallMs = Date.UTC(2026, 0, 1), startMonotonic = 0) {
    this.mono = startMonotonic;
    this.wallOffset = startWallMs - startMonotonic;
  }

  now(): number {
    return Math.floor(this.mono + this.wallOffset);
  }

  monotonic(): number {
    return this.mono;
  }

  setTimeout(fn: () => void, ms: number): TimerHandle {
    const timer: ManualTimer = { id: this.nextId++, due: this.mono + Math.max(0, ms), seq: this.seq++, fn };
    this.timers.push(timer);
    return { id: timer.id };
  }

  clearTimeout(handle: TimerHandle | undefined): void {
    if (!handle) return;
    this.timers = this.timers.filter((t) => t.id !== handle.id);
  }

  sleep(ms: number): Promise<void> {
    return new Promise((resolve) => this.setTimeout(resolve, ms));
  }

  /** Number of timers waiting. */
  get pending(): number {
    return this.timers.length;
  }

  /** Move time forward by `ms`, firing due timers in order. */
  advance(ms: number): void {
    const target = this.mono + ms;
    for (;;) {
      let next: ManualTimer | undefined;
      for (const t of this.timers) {
        if (t.due <= target && (!next || t.due < next.due || (t.due === next.due && t.seq < next.seq)))
          next = t;
      }
      if (!next) break;
      this.timers = this.timers.filter((t) => t !== next);
      this.mono = Math.max(this.mono, next.due);
      next.fn();
    }
    this.mono = target;
  }

  /** Advance and let promise continuations run between timers. */
  async advanceAsync(ms: number, stepMs = ms): Promise<void> {
    let left = ms;
    while (left > 0) {
      const step = Math.min(stepMs, left);
      this.advance(step);
      left -= step;
      await new Promise<void>((r) => setImmediate(r));
    }
  }

  /** Set the wall clock without moving monotonic time (e.g. a meter clock change). */
  setWall(ms: number): void {
    this.wallOffset = ms - this.mono;
  }
}

let lastMs = Number.NaN;
let lastIso = '';
/**
 * `new Date(ms).toISOString()`, the last answer kept: a sweep stamps journal entries and
 * interrogations by the thousand within one millisecond. Throws RangeError for an invalid time,
 * as toISOString does.
 */
export function isoAt(ms: number): string {
  if (ms !== lastMs) {
    lastIso = new Date(ms).toISOString();
    lastMs = ms;
  }
  return lastIso;
}
