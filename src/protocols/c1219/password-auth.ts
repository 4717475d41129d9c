/**
 * C12.18 Security (0x51) password check against ST42, with a failed-attempt lock-out.
 *
 * - All 20 bytes are compared exactly; stored passwords shorter than 20 bytes are padded with a
 *   configured byte, because clients differ: termineter pads with 0x00, MeteringSDK with 0x20
 *   (docs/c1218.md §2, §7.3). A simulator must let a test pick which client it accepts.
 * - After `maxFailures` consecutive failures security locks for `lockoutMs` on the injectable
 *   Clock. While locked every attempt, even with the right password, answers dlk (0x08).
 *   modelled: docs/c1218.md §4 "Brute force" only says a simulator may want a lock-out counter;
 *   the code a real meter answers while locked was not found.
 * - The counter and deadline live in a caller-supplied LockoutStore so the device can persist
 *   them; every update is awaited before the answer is returned.
 */
import { timingSafeEqual } from 'node:crypto';
import type { Clock } from '../../core/clock';
import { ErrorCode, SimError } from '../../core/errors';
import { PsemCode, type AuthResult } from './contract';
import type { LockoutStore, MaybePromise, PasswordEntry } from './engine-types';

/** ST41 PASSWORD_LEN used by C12.18 Security: 20 bytes (docs/c1218.md §2, §4). */
export const PASSWORD_LEN = 20;

/** A stored password as the 20 bytes it must match. Throws SimError(ConfigInvalid) if too long. */
export function storedPasswordBytes(p: Buffer | string, pad: 0x00 | 0x20): Buffer {
  const raw = typeof p === 'string' ? Buffer.from(p, 'latin1') : p;
  if (raw.length > PASSWORD_LEN)
    throw new SimError(ErrorCode.ConfigInvalid, `password longer than ${PASSWORD_LEN} bytes`, {
      length: raw.length,
    });
  const out = Buffer.alloc(PASSWORD_LEN, pad);
  raw.copy(out);
  return out;
}

export function createMemoryLockoutStore(
  initial: { failures?: number; lockedUntil?: number } = {},
): LockoutStore {
  let failures = initial.failures ?? 0;
  let lockedUntil = initial.lockedUntil ?? 0;
  return {
    getFailures: () => failures,
    setFailures: (n) => {
      failures = n;
    },
    getLockedUntil: () => lockedUntil,
    setLockedUntil: (ms) => {
      lockedUntil = ms;
    },
  };
}

export interface PasswordAuthOptions {
  passwords: () => MaybePromise<readonly PasswordEntry[]>;
  pad: 0x00 | 0x20;
  maxFailures: number;
  lockoutMs: number;
  store: LockoutStore;
  clock: Clock;
}

export type Authenticator = (userId: number, user: string, password: Buffer) => Promise<AuthResult>;

/**
 * C12.19 ST42 ties a password to access groups, not to a user: `userId`/`user` from Logon do not
 * select the entry (they are accepted for the TableServer contract and for logging by callers).
 */
export function createPasswordAuthenticator(o: PasswordAuthOptions): Authenticator {
  return async (_userId, _user, password) => {
    try {
      const now = o.clock.now();
      if (o.maxFailures > 0) {
        const until = await o.store.getLockedUntil();
        if (now < until) return { ok: false, code: PsemCode.dlk, reason: `locked until ${until}` };
      }
      const entries = await o.passwords();
      let groups: number | undefined;
      if (password.length === PASSWORD_LEN) {
        // Compare against every entry (no early exit) so the time does not tell which one matched.
        for (const e of entries) {
          const stored = storedPasswordBytes(e.password, o.pad);
          if (timingSafeEqual(stored, password) && groups === undefined) groups = e.groups & 0xff;
        }
      }
      if (groups !== undefined) {
        if (o.maxFailures > 0 && (await o.store.getFailures()) !== 0) await o.store.setFailures(0);
        return { ok: true, groups };
      }
      if (o.maxFailures > 0) {
        const failures = (await o.store.getFailures()) + 1;
        if (failures >= o.maxFailures) {
          // The failure that reaches the limit still answers isc; the lock applies from the next try.
          await o.store.setLockedUntil(now + o.lockoutMs);
          await o.store.setFailures(0);
          return { ok: false, code: PsemCode.isc, reason: `wrong password; locked for ${o.lockoutMs} ms` };
        }
        await o.store.setFailures(failures);
      }
      return { ok: false, code: PsemCode.isc, reason: 'wrong password' };
    } catch (e) {
      // A failing store or password source must not let anyone in, nor throw into the session.
      return { ok: false, code: PsemCode.err, reason: e instanceof Error ? e.message : String(e) };
    }
  };
}
