/**
 * Key hand-over and receiver-side invocation counters (docs/device.md "Keys and counters").
 *
 * - `transferKeys` is what a DLMS Security setup key_transfer (class 64 method 2) does on the
 *   device once the protocol has unwrapped the keys: it replaces the secrets of the named
 *   access levels in one committed operation, so the meter answers the ACTION only after the
 *   new keys are durable, and a kill -9 leaves either the old keys or the new ones, never a mix.
 * - `recordInvocationCounters` keeps the last invocation counter accepted per sender (replay
 *   protection) as a monotonic maximum, and may bump the device's own sending counter in the
 *   same commit, so a ciphered exchange costs one commit, not two.
 */
import { badArgument, requireActor, Tx, type OpContext, type Transition } from './transition';
import type { MeterState } from './state';

const hexKey = /^(?:[0-9a-fA-F]{2}){1,64}$/;
const counterName = /^[A-Za-z0-9._:-]{1,32}$/;
/** Invocation counters are 32-bit (docs/dlms.md §7: IC(4)). */
const MAX_COUNTER = 0xffffffff;

export interface TransferKeysInput {
  actor: string;
  /** New secret per access level, hex. Levels not named keep theirs. */
  keys: Record<string, string>;
}

/**
 * Replace the named levels' keys. A repeat of a transfer already applied (every named level
 * already holds the given key) succeeds with no change and no event, so a client that lost the
 * answer may send it again.
 */
export function transferKeys(
  s: MeterState,
  op: TransferKeysInput,
  ctx: OpContext,
): Transition<{ changed: string[] }> {
  const actor = requireActor('transferKeys', op.actor);
  if (typeof op.keys !== 'object' || op.keys === null)
    throw badArgument('transferKeys', 'keys', 'must map access level names to hex keys');
  const levels = Object.keys(op.keys);
  if (levels.length === 0) throw badArgument('transferKeys', 'keys', 'must name at least one access level');
  const keys: Record<string, string> = {};
  for (const level of levels) {
    const v = op.keys[level];
    if (typeof v !== 'string' || !hexKey.test(v))
      throw badArgument('transferKeys', `keys.${level}`, 'must be 1–64 bytes of hex');
    keys[level] = v.toLowerCase();
  }
  const tx = new Tx(s, ctx);
  const unknown = levels.filter((l) => !ctx.behaviour.accessLevels.includes(l));
  if (unknown.length)
    return tx.refuse('unknown-access-level', `transferKeys: unknown access level(s) ${unknown.join(', ')}`);
  const changed = levels.filter((l) => s.security.secrets[l] !== keys[l]).sort();
  if (changed.length === 0) return tx.ok({ changed });
  tx.update((st) => ({ ...st, security: { ...st.security, secrets: { ...st.security.secrets, ...keys } } }));
  // Keys are never logged; the level names say which keys changed.
  tx.event('keys-transferred', actor, { levels: changed.join(',') });
  return tx.ok({ changed });
}

export interface RecordCountersInput {
  /** Raise each named counter to at least this value (monotonic maximum). */
  atLeast?: Record<string, number>;
  /** Also take the next value of this counter (as bumpInvocationCounter). */
  bump?: string;
}

function checkName(name: unknown, field: string): string {
  if (typeof name !== 'string' || !counterName.test(name))
    throw badArgument('recordInvocationCounters', field, 'must be 1–32 of [A-Za-z0-9._:-]');
  return name;
}

/**
 * Record counters: `atLeast` never lowers a counter (a late or repeated record cannot reopen a
 * replay window); `bump` returns the next value, committed before it is returned. Nothing
 * changes (and nothing is committed) when every counter already stands at or above its value
 * and there is no bump. Not logged: one event per frame would flush the bounded log.
 */
export function recordInvocationCounters(
  s: MeterState,
  op: RecordCountersInput,
  ctx: OpContext,
): Transition<{ value: number | null }> {
  const raise: Record<string, number> = {};
  for (const [name, v] of Object.entries(op.atLeast ?? {})) {
    checkName(name, 'atLeast');
    if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0 || v > MAX_COUNTER)
      throw badArgument('recordInvocationCounters', `atLeast.${name}`, 'must be an integer 0..2^32-1');
    if (v > (s.security.invocationCounters[name] ?? 0)) raise[name] = v;
  }
  const bump = op.bump === undefined ? undefined : checkName(op.bump, 'bump');
  const tx = new Tx(s, ctx);
  let value: number | null = null;
  const next = { ...raise };
  if (bump !== undefined) {
    value = (raise[bump] ?? s.security.invocationCounters[bump] ?? 0) + 1;
    next[bump] = value;
  }
  if (Object.keys(next).length > 0)
    tx.update((st) => ({
      ...st,
      security: { ...st.security, invocationCounters: { ...st.security.invocationCounters, ...next } },
    }));
  return tx.ok({ value });
}
