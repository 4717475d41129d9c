import { ErrorCode, SimError } from '../../../core/errors';

/**
 * OBIS codes (logical names): six value groups A-B:C.D.E.F, carried on the wire as six octets
 * (docs/dlms.md §6). Accepted text forms: `A-B:C.D.E.F` (canonical), `A-B:C.D.E` (F = 255, the
 * usual shorthand) and `A.B.C.D.E.F` (how GXPY and U9N print them).
 */
const CANONICAL = /^(\d{1,3})-(\d{1,3}):(\d{1,3})\.(\d{1,3})\.(\d{1,3})(?:\.(\d{1,3}))?$/;
const DOTTED = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/;

export type ObisTuple = readonly [number, number, number, number, number, number];

function groups(text: string): number[] | undefined {
  const m = CANONICAL.exec(text) ?? DOTTED.exec(text);
  if (!m) return undefined;
  const out = m.slice(1, 7).map((g) => (g === undefined ? 255 : Number(g)));
  return out.every((v) => v <= 255) ? out : undefined;
}

export function isObisText(text: string): boolean {
  return groups(text.trim()) !== undefined;
}

/** Parse OBIS text into the 6 octets of an instance-id / logical_name. */
export function parseObis(text: string): Buffer {
  const g = groups(String(text).trim());
  if (!g) {
    throw new SimError(
      ErrorCode.EncodeInvalid,
      `obis: '${text}' is not an OBIS code (A-B:C.D.E.F, groups 0..255)`,
      {
        path: 'obis',
        value: text,
      },
    );
  }
  return Buffer.from(g);
}

/** The canonical `A-B:C.D.E.F` form of 6 octets. */
export function formatObis(octets: Uint8Array): string {
  if (octets.length !== 6) {
    throw new SimError(ErrorCode.DecodeInvalid, `obis: needs 6 octets, got ${octets.length}`, {
      path: 'obis',
      length: octets.length,
    });
  }
  const [a, b, c, d, e, f] = octets as unknown as ObisTuple;
  return `${a}-${b}:${c}.${d}.${e}.${f}`;
}

export function obisFromTuple(t: ObisTuple): Buffer {
  for (const v of t) {
    if (!Number.isInteger(v) || v < 0 || v > 255) {
      throw new SimError(ErrorCode.EncodeInvalid, `obis: group ${v} out of range 0..255`, { path: 'obis' });
    }
  }
  return Buffer.from(t);
}

/**
 * Manufacturer-specific per the dlms.com FAQ cited in docs/dlms.md §6: any of groups B, C, D
 * in 128..254. The object must still use a standard interface class.
 */
export function isManufacturerSpecificObis(octets: Uint8Array): boolean {
  for (let i = 1; i <= 3; i++) {
    const v = octets[i]!;
    if (v >= 128 && v <= 254) return true;
  }
  return false;
}
