/**
 * Credentials of generated meters (docs/farm.md "Identities"): the profile defaults, a distinct
 * secret per meter derived from the seed, or secrets given in the fleet file per access level.
 */
import { createHmac } from 'node:crypto';
import type { FarmAccessLevel, FarmProfile } from './farm-profile';
import type { CredentialsSpec } from './fleet-spec';

export interface MeterCredential {
  level: string;
  userId: number;
  secretHex: string;
}

/** An access level the profile does not have; `path` locates it in the fleet file. */
export class CredentialsError extends Error {
  constructor(
    readonly path: string,
    reason: string,
  ) {
    super(reason);
  }
}

function printable(bytes: Buffer): boolean {
  return bytes.every((b) => b >= 0x20 && b <= 0x7e);
}

const ALNUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

/**
 * A per-meter secret: HMAC-SHA256(seed, "<meter>/<level>/<block>") stretched to the length of
 * the profile default. If the default is printable ASCII (a typed password), the derived one
 * is alphanumeric of the same length, so it fits wherever the default fit.
 */
function derivedSecret(seed: string, meterId: string, level: string, template: Buffer): string {
  const out = Buffer.alloc(template.length);
  for (let block = 0, off = 0; off < out.length; block++) {
    const h = createHmac('sha256', seed).update(`${meterId}/${level}/${block}`).digest();
    off += h.copy(out, off);
  }
  if (printable(template))
    for (let i = 0; i < out.length; i++) out[i] = ALNUM.charCodeAt(out[i]! % ALNUM.length);
  return out.toString('hex');
}

export function credentialsFor(
  spec: CredentialsSpec,
  profile: FarmProfile,
  seed: string,
  meterId: string,
  path: string,
): MeterCredential[] {
  if (typeof spec === 'object') {
    const known = profile.accessLevels.map((l) => l.name);
    for (const level of Object.keys(spec))
      if (!known.includes(level))
        throw new CredentialsError(
          `${path}.${level}`,
          `unknown access level (profile ${profile.id} has ${known.join(', ')})`,
        );
  }
  return profile.accessLevels.map((l) => {
    let secretHex: string;
    if (spec === 'per-meter') secretHex = derivedSecret(seed, meterId, l.name, shapeOf(l));
    else if (typeof spec === 'object' && spec[l.name]) {
      const s = spec[l.name]!;
      secretHex = 'hex' in s ? s.hex.toLowerCase() : Buffer.from(s.ascii, 'latin1').toString('hex');
    } else if (l.secretHex !== null) secretHex = l.secretHex;
    else
      throw new CredentialsError(
        typeof spec === 'object' ? `${path}.${l.name}` : path,
        `${l.secretError ?? `access level ${l.name} has no default secret`}: set it, or give ` +
          `credentials: per-meter or a secret for ${l.name} in the fleet file`,
      );
    return { level: l.name, userId: l.userId, secretHex };
  });
}

/** What a per-meter secret looks like: the profile default, or the fixed shape of an env secret. */
function shapeOf(l: FarmAccessLevel): Buffer {
  if (l.derivedShape) return Buffer.alloc(l.derivedShape.bytes, l.derivedShape.printable ? 0x41 : 0x00);
  return Buffer.from(l.secretHex ?? '', 'hex');
}
