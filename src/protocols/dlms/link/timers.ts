import type { Clock, TimerHandle } from '../../../core/clock';

/** Named one-shot timers on the injectable Clock, as the state machines' effects ask for them. */
export class NamedTimers<T extends string> {
  private readonly handles = new Map<T, TimerHandle>();

  constructor(
    private readonly clock: Clock,
    private readonly fire: (timer: T) => void,
  ) {}

  start(timer: T, ms: number): void {
    this.stop(timer);
    const h = this.clock.setTimeout(() => {
      if (this.handles.get(timer) !== h) return;
      this.handles.delete(timer);
      this.fire(timer);
    }, ms);
    this.handles.set(timer, h);
  }

  stop(timer: T): void {
    const h = this.handles.get(timer);
    if (h) {
      this.clock.clearTimeout(h);
      this.handles.delete(timer);
    }
  }

  stopAll(): void {
    for (const t of [...this.handles.keys()]) this.stop(t);
  }

  running(timer: T): boolean {
    return this.handles.has(timer);
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

  rejectAll(error: unknown): void {
    for (const id of [...this.waiting.keys()]) this.reject(id, error);
  }
}
