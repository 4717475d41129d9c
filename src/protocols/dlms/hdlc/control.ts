import { ErrorCode, SimError } from '../../../core/errors';

/**
 * HDLC control field, modulo-8 sequence numbers (docs/dlms.md §2 "Control byte", after GXPY
 * `enums/Command.py` and U9N `hdlc/fields.py`). P/F is bit 4 (0x10) in every format:
 *   I    N(R)<<5 | P/F | N(S)<<1            (bit 0 = 0)
 *   RR   N(R)<<5 | P/F | 0x01
 *   RNR  N(R)<<5 | P/F | 0x05
 *   U    SNRM 0x83, UA 0x63, DISC 0x43, DM 0x0F, FRMR 0x87, UI 0x03, each | P/F
 * REJ/SREJ and the other U commands are not used by DLMS/COSEM HDLC; they decode as invalid,
 * which a server answers with FRMR (reason W).
 */
export type HdlcUnnumbered = 'SNRM' | 'UA' | 'DISC' | 'DM' | 'FRMR' | 'UI';

export type HdlcControl =
  | { readonly type: 'I'; readonly ns: number; readonly nr: number; readonly pf: boolean }
  | { readonly type: 'RR' | 'RNR'; readonly nr: number; readonly pf: boolean }
  | { readonly type: HdlcUnnumbered; readonly pf: boolean };

export const HDLC_PF = 0x10;

const unnumberedCodes: Readonly<Record<HdlcUnnumbered, number>> = {
  SNRM: 0x83,
  UA: 0x63,
  DISC: 0x43,
  DM: 0x0f,
  FRMR: 0x87,
  UI: 0x03,
};

const unnumberedByCode = new Map<number, HdlcUnnumbered>(
  (Object.keys(unnumberedCodes) as HdlcUnnumbered[]).map((k) => [unnumberedCodes[k], k]),
);

function seq(v: number, what: string): number {
  if (!Number.isInteger(v) || v < 0 || v > 7) {
    throw new SimError(ErrorCode.EncodeInvalid, `HdlcControl.${what}: ${v} is not 0..7`, { value: v });
  }
  return v;
}

export function encodeHdlcControl(c: HdlcControl): number {
  const pf = c.pf ? HDLC_PF : 0;
  switch (c.type) {
    case 'I':
      return (seq(c.nr, 'nr') << 5) | pf | (seq(c.ns, 'ns') << 1);
    case 'RR':
      return (seq(c.nr, 'nr') << 5) | pf | 0x01;
    case 'RNR':
      return (seq(c.nr, 'nr') << 5) | pf | 0x05;
    default:
      return unnumberedCodes[c.type] | pf;
  }
}

/** Decode a control octet; unknown formats throw DecodeInvalid (the FRMR "W" case). */
export function decodeHdlcControl(b: number, path = 'HdlcFrame.control'): HdlcControl {
  const pf = (b & HDLC_PF) !== 0;
  if ((b & 0x01) === 0) return { type: 'I', ns: (b >> 1) & 7, nr: b >> 5, pf };
  if ((b & 0x0f) === 0x01) return { type: 'RR', nr: b >> 5, pf };
  if ((b & 0x0f) === 0x05) return { type: 'RNR', nr: b >> 5, pf };
  const u = unnumberedByCode.get(b & ~HDLC_PF & 0xff);
  if (u && (b & 0x03) === 0x03) return { type: u, pf };
  throw new SimError(ErrorCode.DecodeInvalid, `${path}: unsupported control octet 0x${b.toString(16)}`, {
    path,
    control: b,
  });
}

/** Commands a primary (client) sends; the others are responses. */
export function isHdlcCommand(c: HdlcControl): boolean {
  return (
    c.type === 'SNRM' ||
    c.type === 'DISC' ||
    c.type === 'I' ||
    c.type === 'RR' ||
    c.type === 'RNR' ||
    c.type === 'UI'
  );
}
