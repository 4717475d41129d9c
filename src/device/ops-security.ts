/**
 * Security and clock operations: secret checks with failure counting and lock-out,
 * invocation counters, and the meter clock offset (docs/device.md "Security").
 *
 * The device compares raw bytes; how a protocol pads a secret (C12.18 pads passwords to 20
 * bytes with 0x00 or 0x20, docs/c1218.md §2) comes in as an option, not as protocol knowledge.
 */
import { timingSafeEqual } from 'node:crypto';
import type { MeterState } from './state';
import { badArgument, requireActor, Tx, type OpContext, type Transition } from './transition';

/** Lift an expired lock-out. Runs on the time source, so setting the meter clock cannot lift it. */
function expireLock(tx: Tx): void {
  const until = tx.state.security.lockedUntil;
  if (until !== null && tx.ctx.sourceNow >= until)
    tx.update((st) => ({
      ...st,
      security: { ...st.security, lockedUntil: null, failures: { ...st.security.failures, consecutive: 0 } },
    }));
}

function isLocked(tx: Tx): boolean {
  return tx.state.security.lockedUntil !== null;
}

function countFailure(tx: Tx, actor: string, level: string | null): void {
  tx.update((st) => ({
    ...st,
    security: {
      ...st.security,
      failures: { consecutive: st.security.failures.consecutive + 1, total: st.security.failures.total + 1 },
    },
  }));
  const consecutive = tx.state.security.failures.consecutive;
  tx.event('bad-password', actor, { level, consecutive });
  const { maxFailures, lockoutMs } = tx.ctx.behaviour.lockout;
  if (!isLocked(tx) && consecutive >= maxFailures) {
    const until = tx.ctx.sourceNow + lockoutMs;
    tx.update((st) => ({ ...st, security: { ...st.security, lockedUntil: until } }));
    tx.event('locked-out', actor, { until, consecutive });
  }
}

function clearFailures(tx: Tx, actor: string): void {
  const f = tx.state.security.failures;
  if (f.consecutive === 0 && tx.state.security.lockedUntil === null) return;
  tx.update((st) => ({
    ...st,
    security: { ...st.security, lockedUntil: null, failures: { ...st.security.failures, consecutive: 0 } },
  }));
  tx.event('failures-reset', actor, { previous: f.consecutive });
}

export function recordFailedLogon(
  s: MeterState,
  op: { actor: string; level?: string },
  ctx: OpContext,
): Transition<{ consecutive: number; lockedUntil: number | null }> {
  const actor = requireActor('recordFailedLogon', op.actor);
  const tx = new Tx(s, ctx);
  expireLock(tx);
  countFailure(tx, actor, op.level ?? null);
  const sec = tx.state.security;
  return tx.ok({ consecutive: sec.failures.consecutive, lockedUntil: sec.lockedUntil });
}

export function resetFailures(s: MeterState, op: { actor: string }, ctx: OpContext): Transition<void> {
  const actor = requireActor('resetFailures', op.actor);
  const tx = new Tx(s, ctx);
  clearFailures(tx, actor);
  return tx.ok(undefined);
}

export interface AuthenticateInput {
  actor: string;
  presented: Uint8Array;
  /** Levels to try, in order; default: every level the firmware knows. */
  levels?: readonly string[];
  /** Pad stored and presented secrets to this many bytes before comparing. */
  padTo?: number;
  padByte?: number;
}

function padded(bytes: Uint8Array, padTo: number | undefined, padByte: number): Buffer {
  const b = Buffer.from(bytes);
  if (padTo === undefined || b.length >= padTo) return b;
  return Buffer.concat([b, Buffer.alloc(padTo - b.length, padByte)]);
}

/**
 * Check a presented secret against the candidate levels. Success resets the consecutive
 * failure count; a miss counts a failure (and may lock the meter out) and is refused with
 * 'bad-secret'; while locked out every attempt is refused with 'locked-out' and not counted.
 */
export function authenticate(
  s: MeterState,
  op: AuthenticateInput,
  ctx: OpContext,
): Transition<{ level: string }> {
  const actor = requireActor('authenticate', op.actor);
  if (!(op.presented instanceof Uint8Array)) throw badArgument('authenticate', 'presented', 'must be bytes');
  const padByte = op.padByte ?? 0x00;
  if (!Number.isInteger(padByte) || padByte < 0 || padByte > 0xff)
    throw badArgument('authenticate', 'padByte', 'must be a byte');
  if (op.padTo !== undefined && (!Number.isInteger(op.padTo) || op.padTo < 1 || op.padTo > 64))
    throw badArgument('authenticate', 'padTo', 'must be 1–64');
  const levels = op.levels ?? ctx.behaviour.accessLevels;
  const tx = new Tx(s, ctx);
  const unknown = levels.filter((l) => !ctx.behaviour.accessLevels.includes(l));
  if (unknown.length)
    return tx.refuse('unknown-access-level', `authenticate: unknown level(s) ${unknown.join(', ')}`);
  expireLock(tx);
  if (isLocked(tx))
    return tx.refuse('locked-out', `authenticate: locked out until ${tx.state.security.lockedUntil}`);
  const presented = padded(op.presented, op.padTo, padByte);
  for (const level of levels) {
    const stored = tx.state.security.secrets[level];
    if (stored === undefined) continue;
    const expected = padded(Buffer.from(stored, 'hex'), op.padTo, padByte);
    if (expected.length === presented.length && timingSafeEqual(expected, presented)) {
      clearFailures(tx, actor);
      return tx.ok({ level });
    }
  }
  countFailure(tx, actor, levels.length === 1 ? levels[0]! : null);
  return tx.refuse('bad-secret', 'authenticate: secret matches no permitted access level');
}

const counterName = /^[A-Za-z0-9._:-]{1,32}$/;

/**
 * Next value of a monotonic counter (e.g. a DLMS invocation counter). Committed before it is
 * returned, so a value is never handed out twice even across kill -9. Not logged: one event
 * per frame would flush the bounded log.
 */
export function bumpInvocationCounter(
  s: MeterState,
  op: { name: string },
  ctx: OpContext,
): Transition<{ value: number }> {
  if (typeof op.name !== 'string' || !counterName.test(op.name))
    throw badArgument('bumpInvocationCounter', 'name', 'must be 1–32 of [A-Za-z0-9._:-]');
  const value = (s.security.invocationCounters[op.name] ?? 0) + 1;
  const tx = new Tx(s, ctx);
  tx.update((st) => ({
    ...st,
    security: { ...st.security, invocationCounters: { ...st.security.invocationCounters, [op.name]: value } },
  }));
  return tx.ok({ value });
}

/** Set the meter clock: stored as an offset from the injectable time source. */
export function setClock(
  s: MeterState,
  op: { actor: string; to: number },
  ctx: OpContext,
): Transition<{ offsetMs: number }> {
  const actor = requireActor('setClock', op.actor);
  if (typeof op.to !== 'number' || !Number.isSafeInteger(op.to) || op.to < 0)
    throw badArgument('setClock', 'to', 'must be ms since the Unix epoch');
  const offsetMs = op.to - ctx.sourceNow;
  const tx = new Tx(s, ctx);
  tx.update((st) => ({ ...st, clock: { offsetMs } }));
  tx.event('clock-set', actor, { from: ctx.now, to: op.to, offsetMs });
  return tx.ok({ offsetMs });
}
