import type { ByteReader, ByteWriter } from '../../../core/bytes';
import { ErrorCode, SimError } from '../../../core/errors';

/**
 * xDLMS conformance block: 24 bits, bit 0 = MSB of the first octet (docs/dlms.md §4.1, from GXPY
 * `enums/Conformance.py`; U9N `xdlms/conformance.py` is LSB-indexed). Index = bit number. Bits 0
 * and 7 are reserved in the list; they keep names so that no received bit is lost.
 */
export const CONFORMANCE_BITS = [
  'reserved-zero',
  'general-protection',
  'general-block-transfer',
  'read',
  'write',
  'unconfirmed-write',
  'delta-value-encoding',
  'reserved-seven',
  'attribute0-supported-with-set',
  'priority-mgmt-supported',
  'attribute0-supported-with-get',
  'block-transfer-with-get-or-read',
  'block-transfer-with-set-or-write',
  'block-transfer-with-action',
  'multiple-references',
  'information-report',
  'data-notification',
  'access',
  'parameterized-access',
  'get',
  'set',
  'selective-access',
  'event-notification',
  'action',
] as const;

export type ConformanceName = (typeof CONFORMANCE_BITS)[number];
export type Conformance = ReadonlySet<ConformanceName>;

const BIT_OF = new Map<string, number>(CONFORMANCE_BITS.map((name, bit) => [name, bit]));

export function conformance(...names: ConformanceName[]): Set<ConformanceName> {
  return new Set(names);
}

/** The 24-bit value as it appears on the wire (first octet most significant). */
export function conformanceToBits(set: Iterable<ConformanceName>): number {
  let v = 0;
  for (const name of set) {
    const bit = BIT_OF.get(name);
    if (bit === undefined) {
      throw new SimError(ErrorCode.EncodeInvalid, `conformance: unknown name '${String(name)}'`, {
        path: 'conformance',
      });
    }
    v |= 1 << (23 - bit);
  }
  return v >>> 0;
}

export function conformanceFromBits(value: number): Set<ConformanceName> {
  const out = new Set<ConformanceName>();
  for (let bit = 0; bit < 24; bit++) if (value & (1 << (23 - bit))) out.add(CONFORMANCE_BITS[bit]!);
  return out;
}

/** What both sides support: the server's negotiated block is the intersection. */
export function intersectConformance(a: Conformance, b: Conformance): Set<ConformanceName> {
  const out = new Set<ConformanceName>();
  for (const n of a) if (b.has(n)) out.add(n);
  return out;
}

/**
 * `5F 1F 04 00 xx xx xx`: [APPLICATION 31] IMPLICIT BIT STRING (SIZE(24)), BER-style inside the
 * A-XDR InitiateRequest/Response: tag, length 4, 0 unused bits, 3 octets (docs/dlms.md §4.1).
 */
export function readConformance(r: ByteReader, field: string): Set<ConformanceName> {
  const t1 = r.u8(field);
  const t2 = r.u8(field);
  if (t1 !== 0x5f || t2 !== 0x1f)
    r.fail(`expected conformance tag 5F1F, got ${t1.toString(16)}${t2.toString(16)}`, field);
  const len = r.u8(field);
  if (len !== 4) r.fail(`conformance length ${len}, expected 4`, field);
  const unused = r.u8(field);
  if (unused !== 0) r.fail(`conformance has ${unused} unused bits, expected 0`, field);
  return conformanceFromBits(r.u24be(field));
}

export function writeConformance(w: ByteWriter, set: Conformance): void {
  w.u8(0x5f).u8(0x1f).u8(4).u8(0).u24be(conformanceToBits(set));
}
