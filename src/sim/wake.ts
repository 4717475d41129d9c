/**
 * Battery meters sleep (profile `timing.wake`; the shipped GSME profile): while asleep the
 * optical port ignores what it receives until something wakes it, then stays awake for
 * `awakeMs` after the last activity. What wakes it is the profile's `wakeOn` list:
 *   optical-activity - any byte; the bytes that woke it are lost (the UART wakes on the start
 *                      bit, modelled), so a client's first request goes unanswered and its
 *                      link retry gets through;
 *   wake-byte        - the `wakeByte` (default 0x55, MeteringSDK's wake-up, docs/c1218.md §1.1);
 *                      bytes after it in the same chunk are received;
 *   button           - Simulator.pressButton() (the meter's push button);
 *   schedule         - every `sleepMs` asleep, the meter wakes on its own for `awakeMs`.
 * Every rule above beyond "ignores bytes while asleep" is modelled: the Liberty GSME's real
 * wake-up behaviour is not public (the profile lists timing.wake as modelled).
 *
 * The rules are a pure state machine (wakeStep, CONVENTIONS); WakeTransport runs its effects
 * (timers, delivering bytes) around the server-side transport.
 */
import type { Clock, TimerHandle } from '../core/clock';
import { TransportDecorator } from '../transport/decorator';
import type { Transport } from '../transport/types';

export type WakeSource = 'optical-activity' | 'button' | 'wake-byte' | 'schedule';

export interface WakeConfig {
  awakeMs: number;
  sleepMs: number;
  wakeOn: readonly WakeSource[];
  wakeByte?: number | undefined;
}

export interface WakeState {
  awake: boolean;
  /** Monotonic ms: when an awake meter falls asleep, or when a scheduled wake-up is due. */
  deadline: number;
}

export type WakeInput =
  | { type: 'start'; now: number }
  | { type: 'bytes'; data: Buffer; now: number }
  /** The meter sent something (a response is activity too). */
  | { type: 'sent'; now: number }
  | { type: 'button'; now: number }
  | { type: 'timer'; now: number };

export type WakeEffect =
  | { type: 'deliver'; data: Buffer }
  | { type: 'drop'; bytes: number }
  | { type: 'arm'; ms: number }
  | { type: 'woke'; by: WakeSource }
  | { type: 'slept' };

export interface WakeStep {
  state: WakeState;
  effects: WakeEffect[];
}

export const ASLEEP: WakeState = Object.freeze({ awake: false, deadline: Infinity });

function wake(c: WakeConfig, now: number, by: WakeSource, deliver?: Buffer): WakeStep {
  const effects: WakeEffect[] = [
    { type: 'woke', by },
    { type: 'arm', ms: c.awakeMs },
  ];
  if (deliver && deliver.length) effects.push({ type: 'deliver', data: deliver });
  return { state: { awake: true, deadline: now + c.awakeMs }, effects };
}

function asleep(c: WakeConfig, now: number): WakeState {
  return { awake: false, deadline: c.wakeOn.includes('schedule') ? now + c.sleepMs : Infinity };
}

export function wakeStep(c: WakeConfig, s: WakeState, input: WakeInput): WakeStep {
  const now = input.now;
  switch (input.type) {
    case 'start': {
      const state = asleep(c, now);
      return { state, effects: Number.isFinite(state.deadline) ? [{ type: 'arm', ms: c.sleepMs }] : [] };
    }
    case 'bytes': {
      if (s.awake) {
        // Activity keeps it awake; the timer is re-armed lazily (on expiry) to save churn.
        return {
          state: { awake: true, deadline: now + c.awakeMs },
          effects: [{ type: 'deliver', data: input.data }],
        };
      }
      const byte = c.wakeByte ?? 0x55;
      const at = c.wakeOn.includes('wake-byte') ? input.data.indexOf(byte) : -1;
      if (at >= 0) return wake(c, now, 'wake-byte', input.data.subarray(at + 1));
      if (c.wakeOn.includes('optical-activity')) {
        const w = wake(c, now, 'optical-activity');
        return { state: w.state, effects: [{ type: 'drop', bytes: input.data.length }, ...w.effects] };
      }
      return { state: s, effects: [{ type: 'drop', bytes: input.data.length }] };
    }
    case 'sent':
      return s.awake
        ? { state: { awake: true, deadline: Math.max(s.deadline, now + c.awakeMs) }, effects: [] }
        : { state: s, effects: [] };
    case 'button':
      if (!c.wakeOn.includes('button')) return { state: s, effects: [] };
      return s.awake
        ? { state: { awake: true, deadline: now + c.awakeMs }, effects: [] }
        : wake(c, now, 'button');
    case 'timer': {
      if (now < s.deadline)
        return {
          state: s,
          effects: Number.isFinite(s.deadline) ? [{ type: 'arm', ms: s.deadline - now }] : [],
        };
      if (s.awake) {
        const state = asleep(c, now);
        const effects: WakeEffect[] = [{ type: 'slept' }];
        if (Number.isFinite(state.deadline)) effects.push({ type: 'arm', ms: c.sleepMs });
        return { state, effects };
      }
      return c.wakeOn.includes('schedule') ? wake(c, now, 'schedule') : { state: s, effects: [] };
    }
  }
}

/**
 * The server-side transport of a sleeping meter: what arrives is filtered through wakeStep;
 * everything else passes through to the wrapped transport.
 */
export class WakeTransport extends TransportDecorator {
  private state: WakeState = ASLEEP;
  private timer: TimerHandle | undefined;

  constructor(
    inner: Transport,
    private readonly config: WakeConfig,
    private readonly clock: Clock,
    private readonly observe: (e: Extract<WakeEffect, { type: 'woke' | 'slept' | 'drop' }>) => void = () =>
      undefined,
  ) {
    super(inner);
    inner.on('data', (data) => this.step({ type: 'bytes', data, now: this.clock.monotonic() }));
    inner.on('close', (err) => {
      this.clock.clearTimeout(this.timer);
      this.emit('close', err);
    });
    this.forward('line');
    this.step({ type: 'start', now: this.clock.monotonic() });
  }

  get awake(): boolean {
    return this.state.awake;
  }

  /** The meter's push button. */
  pressButton(): void {
    this.step({ type: 'button', now: this.clock.monotonic() });
  }

  private step(input: WakeInput): void {
    const { state, effects } = wakeStep(this.config, this.state, input);
    this.state = state;
    for (const e of effects) {
      switch (e.type) {
        case 'deliver':
          this.emit('data', e.data);
          break;
        case 'arm':
          this.clock.clearTimeout(this.timer);
          this.timer = this.clock.setTimeout(() => {
            this.timer = undefined;
            this.step({ type: 'timer', now: this.clock.monotonic() });
          }, e.ms);
          break;
        default:
          this.observe(e);
      }
    }
  }

  override write(data: Uint8Array): Promise<void> {
    this.step({ type: 'sent', now: this.clock.monotonic() });
    return this.inner.write(data);
  }

  override close(): Promise<void> {
    this.clock.clearTimeout(this.timer);
    this.timer = undefined;
    return this.inner.close();
  }
}
