import type { Clock } from '../../../core/clock';
import { Deadline } from '../../../core/deadline';

/** The timer effects of the link state machines (HDLC, IEC 62056-21 sign-on), run alike by every link. */
export type TimerEffect<T extends string> =
  | { readonly kind: 'startTimer'; readonly timer: T; readonly ms: number }
  | { readonly kind: 'stopTimer'; readonly timer: T };

/** The effects that settle the promise a send() returned: its APDU went out, or never will. */
export type SendOutcomeEffect =
  | { readonly kind: 'sent'; readonly id: number }
  | { readonly kind: 'failed'; readonly id: number; readonly error: unknown };

/**
 * Named one-shot timers on the injectable Clock, as the state machines' effects ask for them.
 *
 * Each name is a Deadline (src/core/deadline.ts): the links restart their inactivity / response
 * timers on every frame, so start() and stop() only move a deadline while one clock timer per
 * name stays armed; the timer fires exactly when the last start() said, as with a
 * clearTimeout/setTimeout pair per restart, at a fraction of the cost (a GET over HDLC used to
 * clear and set four timers on each side).
 */
export class NamedTimers<T extends string> {
  private readonly slots = new Map<T, Deadline>();

  constructor(
    private readonly clock: Clock,
    private readonly fire: (timer: T) => void,
  ) {}

  start(timer: T, ms: number): void {
    let slot = this.slots.get(timer);
    if (!slot) this.slots.set(timer, (slot = new Deadline(this.clock, () => this.fire(timer))));
    slot.arm(ms);
  }

  stop(timer: T): void {
    this.slots.get(timer)?.stop();
  }

  /** Run a state machine's `startTimer` / `stopTimer` effect. */
  apply(e: TimerEffect<T>): void {
    if (e.kind === 'startTimer') this.start(e.timer, e.ms);
    else this.stop(e.timer);
  }

  /** Stop every timer and release the clock's timers (the owner is closing). */
  stopAll(): void {
    for (const slot of this.slots.values()) slot.cancel();
  }

  running(timer: T): boolean {
    return this.slots.get(timer)?.armed ?? false;
  }
}

/** Promises waiting on effect ids (`sent` / `failed`). */
export class Pending {
  private next = 1;
  private readonly waiting = new Map<number, { resolve: () => void; reject: (e: unknown) => void }>();

  add(): { id: number; promise: Promise<void> } {
    const id = this.next++;
    const promise = new Promise<void>((resolve, reject) => this.waiting.set(id, { resolve, reject }));
    return { id, promise };
  }

  resolve(id: number): void {
    this.waiting.get(id)?.resolve();
    this.waiting.delete(id);
  }

  reject(id: number, error: unknown): void {
    this.waiting.get(id)?.reject(error);
    this.waiting.delete(id);
  }

  /** Run a state machine's `sent` / `failed` effect. */
  settle(e: SendOutcomeEffect): void {
    if (e.kind === 'sent') this.resolve(e.id);
    else this.reject(e.id, e.error);
  }

  rejectAll(error: unknown): void {
    for (const id of [...this.waiting.keys()]) this.reject(id, error);
  }
}
