import { ByteReader, ByteWriter } from '../../../core/bytes';

/**
 * FRMR information field, basic (modulo 8) format. Layout after ISO/IEC 13239 as used by the
 * one real FRMR we have (u9n/dlms-cosem#95, docs/dlms.md §2: info `54 00 10`):
 *   octet 1  the rejected control field                         (0x54: I, N(S)=2, N(R)=2, P)
 *   octet 2  0 | V(S)<<1 | C/R<<4 | V(R)<<5                     (0x00: the meter was at 0/0)
 *   octet 3  reason bits W X Y Z V from the low bit up          (0x10: V, invalid N(S))
 * MODELLED: the reason bit positions are not confirmed by a DLMS source (docs/dlms.md §10.3);
 * they follow ISO 13239 bit numbering, which makes the u9n#95 example read as "invalid N(S)"
 * for a frame with N(S)=2 sent to a station expecting 0 — consistent with that report.
 */
export const FrmrReason = {
  /** W: control field undefined, or a command this station does not support. */
  W: 0x01,
  /** X: information field not permitted with this control field. */
  X: 0x02,
  /** Y: information field longer than the negotiated maximum. */
  Y: 0x04,
  /** Z: invalid N(R). */
  Z: 0x08,
  /** V: invalid N(S). */
  V: 0x10,
} as const;

export interface FrmrInfo {
  readonly rejectedControl: number;
  /** The rejecting station's V(S) and V(R). */
  readonly vs: number;
  readonly vr: number;
  /** C/R bit: the rejected frame was a response (1) or a command (0). */
  readonly response: boolean;
  /** OR of FrmrReason bits. */
  readonly reasons: number;
}

export function encodeFrmrInfo(f: FrmrInfo): Buffer {
  return new ByteWriter(3)
    .u8(f.rejectedControl & 0xff)
    .u8(((f.vr & 7) << 5) | (f.response ? 0x10 : 0) | ((f.vs & 7) << 1))
    .u8(f.reasons & 0x1f)
    .toBuffer();
}

export function decodeFrmrInfo(info: Uint8Array): FrmrInfo {
  const r = new ByteReader(info, 'FrmrInfo');
  const rejectedControl = r.u8('rejectedControl');
  const s = r.u8('state');
  const reasons = r.u8('reasons');
  r.expectEnd();
  return { rejectedControl, vs: (s >> 1) & 7, vr: s >> 5, response: (s & 0x10) !== 0, reasons };
}

/** Names of the reason bits set, for logs and errors. */
export function frmrReasonNames(reasons: number): string[] {
  return (Object.keys(FrmrReason) as (keyof typeof FrmrReason)[]).filter(
    (k) => (reasons & FrmrReason[k]) !== 0,
  );
}
