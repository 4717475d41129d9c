/**
 * Per-meter fault injection (docs/farm.md "Faults"). The control API writes a FaultPatch; the
 * protocol server consults the FaultControls at each request; the farm itself acts on the two
 * faults that concern the link rather than the protocol (drop the link, power off) by closing
 * the meter's sessions. Faults live in memory only: a restarted farm starts healthy.
 *
 * Contract for a protocol server adapter (the C12.18/DLMS servers plug in here):
 * - `isPoweredOn()` false: read and discard every request, answer nothing (a dead meter).
 * - `responseDelayMs()`: wait this long (on the injected Clock) before each response.
 * - `takeBusy()` true: answer this request with the protocol's busy result (PSEM `bsy`, DLMS
 *   `temporary-failure`) instead of serving it; each true consumes one of N.
 * - `takeCorrupt()` true: send this response frame corrupted (`corruptFrame`); consumes one.
 * - event 'drop': reset link/session state (the farm has already closed TCP/mem sessions; on a
 *   pty or serial line the device stays open and only the session is forgotten).
 */
import { TypedEmitter } from '../core/events';
import { TransportDecorator } from '../transport/decorator';
import type { Transport } from '../transport/types';

export type PowerState = 'on' | 'off';

export interface FaultState {
  power: PowerState;
  /** Extra delay before every response, ms. */
  delayMs: number;
  /** Requests still to be answered busy. */
  busy: number;
  /** Response frames still to be corrupted. */
  corruptFrames: number;
  /** Links dropped by request since start (a counter: dropping is an action, not a state). */
  linkDrops: number;
}

export interface FaultPatch {
  /** Drop the link now: close every open session of the meter. */
  dropLink?: boolean;
  delayMs?: number;
  busy?: number;
  corruptFrames?: number;
  power?: PowerState;
}

export type FaultEvents = {
  change: [FaultState];
  /** The link was dropped (by request or by power off). */
  drop: [];
  power: [PowerState];
};

export interface FaultControls {
  readonly state: Readonly<FaultState>;
  isPoweredOn(): boolean;
  responseDelayMs(): number;
  /** True if this request must be answered busy (consumes one). */
  takeBusy(): boolean;
  /** True if this response frame must be corrupted (consumes one). */
  takeCorrupt(): boolean;
  apply(patch: FaultPatch): FaultState;
  /** Back to healthy (power on, no delay, nothing pending); keeps the drop counter. */
  reset(): FaultState;
  on<K extends keyof FaultEvents>(event: K, listener: (...args: FaultEvents[K]) => void): this;
  off<K extends keyof FaultEvents>(event: K, listener: (...args: FaultEvents[K]) => void): this;
}

export const HEALTHY: Readonly<FaultState> = Object.freeze({
  power: 'on',
  delayMs: 0,
  busy: 0,
  corruptFrames: 0,
  linkDrops: 0,
});

export class MeterFaults extends TypedEmitter<FaultEvents> implements FaultControls {
  private s: FaultState = { ...HEALTHY };

  get state(): Readonly<FaultState> {
    return this.s;
  }

  isPoweredOn(): boolean {
    return this.s.power === 'on';
  }

  responseDelayMs(): number {
    return this.s.delayMs;
  }

  takeBusy(): boolean {
    if (this.s.busy <= 0) return false;
    this.s = { ...this.s, busy: this.s.busy - 1 };
    return true;
  }

  takeCorrupt(): boolean {
    if (this.s.corruptFrames <= 0) return false;
    this.s = { ...this.s, corruptFrames: this.s.corruptFrames - 1 };
    return true;
  }

  apply(patch: FaultPatch): FaultState {
    const before = this.s;
    const next: FaultState = {
      power: patch.power ?? before.power,
      delayMs: patch.delayMs ?? before.delayMs,
      busy: patch.busy ?? before.busy,
      corruptFrames: patch.corruptFrames ?? before.corruptFrames,
      linkDrops: before.linkDrops + (patch.dropLink ? 1 : 0),
    };
    this.s = next;
    if (next.power !== before.power) this.emit('power', next.power);
    // Power off drops the link as surely as pulling the cable.
    if (patch.dropLink || (next.power === 'off' && before.power === 'on')) this.emit('drop');
    this.emit('change', next);
    return next;
  }

  reset(): FaultState {
    return this.apply({ power: 'on', delayMs: 0, busy: 0, corruptFrames: 0 });
  }
}

/**
 * A corrupted copy of a frame: the last byte inverted. In both stacks the last bytes are a
 * CRC (C12.18 packet CRC, HDLC FCS), so the peer sees a CRC error rather than a plausible
 * different frame. Deterministic, so a test can predict the bytes.
 */
export function corruptFrame(frame: Uint8Array): Buffer {
  const out = Buffer.from(frame);
  if (out.length > 0) out[out.length - 1] = out[out.length - 1]! ^ 0xff;
  return out;
}

/**
 * One connection of a meter with the link-level faults applied: a powered-off meter hears
 * nothing and says nothing; a `corrupt` fault damages the next frame it sends with `corrupt`
 * (default corruptFrame; DLMS passes one that hits the HDLC FCS). A single byte is a C12.18
 * ACK or NAK (docs/c1218.md §1.3), which has no CRC, so it is never corrupted.
 */
export class FaultyTransport extends TransportDecorator {
  constructor(
    inner: Transport,
    private readonly faults: FaultControls,
    private readonly corrupt: (frame: Uint8Array) => Buffer = corruptFrame,
  ) {
    super(inner);
    inner.on('data', (d) => {
      if (faults.isPoweredOn()) this.emit('data', d);
    });
    this.forward('close', 'line');
  }

  override write(data: Uint8Array): Promise<void> {
    if (!this.faults.isPoweredOn()) return Promise.resolve();
    if (data.length > 1 && this.faults.takeCorrupt()) return this.inner.write(this.corrupt(data));
    return this.inner.write(data);
  }
}
