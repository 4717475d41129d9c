/**
 * The credentials a migration installs in place of the SMSO's (docs/migration.md §1 "migrate":
 * "replaces the SMSO credentials with newCredentials"). In the field these are DCC's; in a
 * simulated sweep they must be reproducible, because a rerun that resumes a half-migrated
 * meter has to log on with them again. So the default policy DERIVES them per meter and level
 * from a key: HMAC-SHA256(key, "<meter id>/<level>/<block>"), stretched to the length of the
 * meter's current secret for that level (so it fits wherever the old one fitted; printable
 * ASCII stays printable ASCII, as the farm's per-meter secrets do, src/farm/generator.ts).
 *
 * These are simulation credentials, not secrets worth protecting: the key defaults to the
 * fleet seed (docs/sweep.md "New credentials"). Reports and journals never hold them.
 */
import { createHmac } from 'node:crypto';
import { ErrorCode, SimError } from '../core/errors';
import type { MeterCredential } from '../farm/generator';
import type { Credential } from '../migration/session';

export type NewCredentialsPolicy =
  | {
      kind: 'derived';
      /** HMAC key; anything reproducible (default in the CLI: `<fleet seed>/dcc`). */
      key: string;
      /** Access levels to replace; default DEFAULT_REPLACED_LEVELS (those the meter has). */
      levels?: readonly string[];
    }
  | {
      /** The same credentials for every meter (tests, a lab with one known DCC password). */
      kind: 'fixed';
      credentials: readonly Credential[];
    };

/**
 * Levels replaced by default: the reading and the SMSO (privileged) level. The engineering
 * level is the manufacturer's and is not handed over (modelled: which levels DCC takes over
 * on a Secure meter is not public, docs/domain.md §8).
 */
export const DEFAULT_REPLACED_LEVELS: readonly string[] = ['reader', 'privileged'];

const ALNUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

function printable(bytes: Buffer): boolean {
  return bytes.length > 0 && bytes.every((b) => b >= 0x20 && b <= 0x7e);
}

export function deriveSecret(key: string, meterId: string, level: string, template: Buffer): Buffer {
  const length = Math.max(1, template.length);
  const out = Buffer.alloc(length);
  for (let block = 0, off = 0; off < length; block++) {
    const h = createHmac('sha256', key).update(`${meterId}/${level}/${block}`).digest();
    off += h.copy(out, off);
  }
  if (printable(template)) for (let i = 0; i < length; i++) out[i] = ALNUM.charCodeAt(out[i]! % ALNUM.length);
  return out;
}

/**
 * The new credentials of one meter under a policy. `current` are the meter's manifest
 * credentials (level names and secret lengths). Throws ConfigInvalid when the policy names a
 * level the meter does not have, or leaves nothing to install.
 */
export function newCredentialsFor(
  policy: NewCredentialsPolicy,
  meterId: string,
  current: readonly MeterCredential[],
): Credential[] {
  if (policy.kind === 'fixed') {
    if (policy.credentials.length === 0)
      throw new SimError(ErrorCode.ConfigInvalid, 'new credentials: the fixed list is empty', {});
    return policy.credentials.map((c) => ({ level: c.level, secret: Uint8Array.from(c.secret) }));
  }
  const byLevel = new Map(current.map((c) => [c.level, c]));
  const levels = policy.levels ?? DEFAULT_REPLACED_LEVELS.filter((l) => byLevel.has(l));
  const out: Credential[] = [];
  for (const level of levels) {
    const c = byLevel.get(level);
    if (!c)
      throw new SimError(
        ErrorCode.ConfigInvalid,
        `new credentials: meter ${meterId} has no access level "${level}" (has ${[...byLevel.keys()].join(', ')})`,
        { meterId, level },
      );
    out.push({ level, secret: deriveSecret(policy.key, meterId, level, Buffer.from(c.secretHex, 'hex')) });
  }
  if (out.length === 0)
    throw new SimError(
      ErrorCode.ConfigInvalid,
      `new credentials: meter ${meterId} has none of the levels to replace (${DEFAULT_REPLACED_LEVELS.join(', ')})`,
      { meterId },
    );
  return out;
}
