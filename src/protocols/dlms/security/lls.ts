import { createHash, timingSafeEqual } from 'node:crypto';

/**
 * Low-level security (mechanism 1): the AARQ carries the password in clear (docs/dlms.md §4.1,
 * `AC 0A 80 08 "12345678"`); the ACSE codec extracts it, this compares it.
 */

/**
 * Byte-wise equality whose time does not depend on where the inputs differ nor on their
 * lengths: both sides are hashed to 32 bytes first, then compared with timingSafeEqual.
 */
export function constantTimeEqual(a: Uint8Array, b: Uint8Array): boolean {
  const ha = createHash('sha256').update(a).digest();
  const hb = createHash('sha256').update(b).digest();
  // The length check adds nothing an attacker can time: it runs after the digest comparison.
  return timingSafeEqual(ha, hb) && a.length === b.length;
}

/** LLS secret check. An empty expected secret never matches: it means "no LLS password set" (modelled). */
export function verifyLlsSecret(expected: Uint8Array, given: Uint8Array): boolean {
  const equal = constantTimeEqual(expected, given);
  return equal && expected.length > 0;
}
