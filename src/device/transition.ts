/**
 * The machinery shared by every device operation: an operation is a pure function
 * (state, op, context) -> Transition. A transition carries the next state, the events to
 * append, and an outcome that is either a value or a refusal. A refusal may still change
 * state (a rejected UTRN bumps the rejected counter and is logged), so the caller commits
 * whatever changed and only then reports the refusal.
 */
import { ErrorCode, SimError, type ErrorCodeValue } from '../core/errors';
import type { DeviceBehaviour } from './behaviour';
import type { EventValue, MeterEvent, MeterEventType, MeterState } from './state';

/** Machine-readable reasons a protocol layer maps to its own result codes. */
export const REFUSAL_REASONS = [
  'invalid-argument',
  'not-migrated',
  'already-migrated',
  'card-present',
  'site-id-required',
  'same-supplier',
  'not-prepayment',
  'emergency-credit-active',
  'balance-above-threshold',
  'account-high',
  'account-low',
  'duplicate-utrn',
  'unknown-access-level',
  'bad-secret',
  'locked-out',
] as const;
export type RefusalReason = (typeof REFUSAL_REASONS)[number];

/**
 * Invalid operation = the request itself is wrong whatever the meter's state (bad amount,
 * unknown level, wrong secret, a UTRN the meter rejects). State conflict = the request is
 * fine but not in the meter's current state (not yet migrated, locked out, already active).
 */
export const REFUSAL_CODE: Readonly<Record<RefusalReason, ErrorCodeValue>> = {
  'invalid-argument': ErrorCode.DeviceInvalidOperation,
  'not-migrated': ErrorCode.DeviceStateConflict,
  'already-migrated': ErrorCode.DeviceStateConflict,
  'card-present': ErrorCode.DeviceStateConflict,
  'site-id-required': ErrorCode.DeviceStateConflict,
  'same-supplier': ErrorCode.DeviceStateConflict,
  'not-prepayment': ErrorCode.DeviceStateConflict,
  'emergency-credit-active': ErrorCode.DeviceStateConflict,
  'balance-above-threshold': ErrorCode.DeviceStateConflict,
  'account-high': ErrorCode.DeviceInvalidOperation,
  'account-low': ErrorCode.DeviceInvalidOperation,
  'duplicate-utrn': ErrorCode.DeviceInvalidOperation,
  'unknown-access-level': ErrorCode.DeviceInvalidOperation,
  'bad-secret': ErrorCode.DeviceInvalidOperation,
  'locked-out': ErrorCode.DeviceStateConflict,
};

export interface Refusal {
  reason: RefusalReason;
  message: string;
}

export type Outcome<R> = { ok: true; value: R } | { ok: false; refusal: Refusal };

export interface Transition<R> {
  state: MeterState;
  events: MeterEvent[];
  outcome: Outcome<R>;
}

export interface OpContext {
  /** Device time: time source + the meter's clock offset. */
  now: number;
  /** The time source without the meter's offset (lock-outs run on this). */
  sourceNow: number;
  behaviour: DeviceBehaviour;
}

/**
 * Builds one transition immutably: every update replaces the objects on its path, so the
 * input state is never mutated and an unchanged state keeps its identity.
 */
export class Tx {
  private current: MeterState;
  private readonly appended: MeterEvent[] = [];

  constructor(
    private readonly initial: MeterState,
    readonly ctx: OpContext,
  ) {
    this.current = initial;
  }

  get state(): MeterState {
    return this.current;
  }

  update(fn: (s: MeterState) => MeterState): this {
    this.current = fn(this.current);
    return this;
  }

  event(type: MeterEventType, actor: string | null, data: Record<string, EventValue> = {}): this {
    const seq = this.current.eventSeq + 1;
    this.current = { ...this.current, eventSeq: seq };
    this.appended.push({ seq, at: this.ctx.now, type, actor, data });
    return this;
  }

  private finish(): MeterState {
    return this.current === this.initial ? this.initial : { ...this.current, rev: this.initial.rev + 1 };
  }

  ok<R>(value: R): Transition<R> {
    return { state: this.finish(), events: this.appended, outcome: { ok: true, value } };
  }

  refuse<R>(reason: RefusalReason, message: string): Transition<R> {
    return {
      state: this.finish(),
      events: this.appended,
      outcome: { ok: false, refusal: { reason, message } },
    };
  }
}

/** Input validation failures: thrown, because nothing about the meter was consulted. */
export function badArgument(op: string, field: string, message: string): SimError {
  return new SimError(ErrorCode.DeviceInvalidOperation, `${op}: ${field}: ${message}`, {
    op,
    field,
    reason: 'invalid-argument' satisfies RefusalReason,
  });
}

export function requireActor(op: string, actor: unknown): string {
  if (typeof actor !== 'string' || actor.length === 0 || actor.length > 64)
    throw badArgument(op, 'actor', 'must be a non-empty string of at most 64 characters');
  return actor;
}

export function requirePence(op: string, field: string, v: unknown, allowNegative = false): number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || (!allowNegative && v < 0))
    throw badArgument(op, field, `must be a${allowNegative ? 'n' : ' non-negative'} integer number of pence`);
  return v;
}

/** Turn a refusal into the SimError the Meter throws. */
export function refusalError(meterId: string, op: string, refusal: Refusal): SimError {
  // Refusal messages already start with the operation name.
  return new SimError(REFUSAL_CODE[refusal.reason], `${meterId}: ${refusal.message}`, {
    meterId,
    op,
    reason: refusal.reason,
  });
}
