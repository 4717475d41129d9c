import type { Clock, TimerHandle } from './clock';

/**
 * A re-armable timeout that keeps one clock timer per owner instead of one per arm: the C12.18
 * link's ACK timer and the client's response timer, and the DLMS links' inactivity / response
 * timers (NamedTimers), are armed and stopped on every packet, thousands of times a second in a
 * sweep. `arm` moves the deadline; a timer that fires before the current
 * deadline (it was set for an earlier one) re-arms itself for the rest, so `fire` runs exactly
 * when the latest deadline passes, as a fresh timer would. `stop` only forgets the deadline; the
 * timer, if any, expires harmlessly (`cancel` also clears it, for detaching).
 */
export class Deadline {
  private handle: TimerHandle | undefined;
  /** When the current clock timer fires (monotonic ms). */
  private due = 0;
  /** The deadline (monotonic ms), undefined when stopped. */
  private at: number | undefined;

  constructor(
    private readonly clock: Clock,
    private readonly fire: () => void,
  ) {}

  get armed(): boolean {
    return this.at !== undefined;
  }

  arm(ms: number): void {
    ms = Math.max(0, ms);
    const now = this.clock.monotonic();
    this.at = now + ms;
    // A pending timer due no later than the new deadline will find it and re-arm.
    if (this.handle && this.due <= this.at) return;
    this.schedule(now, ms);
  }

  stop(): void {
    this.at = undefined;
  }

  cancel(): void {
    this.at = undefined;
    this.clock.clearTimeout(this.handle);
    this.handle = undefined;
  }

  private schedule(now: number, ms: number): void {
    this.clock.clearTimeout(this.handle);
    this.due = now + ms;
    this.handle = this.clock.setTimeout(this.onTimer, ms);
  }

  private readonly onTimer = (): void => {
    this.handle = undefined;
    const at = this.at;
    if (at === undefined) return;
    const now = this.clock.monotonic();
    if (now < at) {
      this.schedule(now, at - now);
      return;
    }
    this.at = undefined;
    this.fire();
  };
}
