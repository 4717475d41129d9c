import { ByteReader } from '../../core/bytes';
import { crc16x25 } from '../../core/crc16';
import { ErrorCode, SimError } from '../../core/errors';
import {
  CTRL_FIRST,
  CTRL_MULTI,
  CTRL_TOGGLE,
  HEADER_LENGTH,
  MAX_PACKET_SIZE,
  PACKET_OVERHEAD,
  STP,
} from './constants';

/**
 * One C12.18 link packet (docs/c1218.md §1.2):
 *   STP(0xEE) identity ctrl seq-nbr length(BE16) data[length] CRC(X-25, low byte first)
 */
export interface C1218Packet {
  /** 0x00 on C12.18 ("reserved" in M); C12.21 uses it as a device identity. */
  identity: number;
  /** bit7 multi, bit6 first, bit5 toggle; bits 0-3 zero on C12.18. */
  ctrl: number;
  /** Packets remaining after this one (0 for a single packet). */
  seq: number;
  /** The PSEM bytes carried by this packet. */
  data: Buffer;
  /** CRC as received / sent (numeric value, not wire order). */
  crc: number;
}

export const isMulti = (ctrl: number): boolean => (ctrl & CTRL_MULTI) !== 0;
export const isFirst = (ctrl: number): boolean => (ctrl & CTRL_FIRST) !== 0;
export const toggleOf = (ctrl: number): 0 | 1 => ((ctrl & CTRL_TOGGLE) !== 0 ? 1 : 0);

/** ctrl byte for a packet of a message: single, first of many, or a later one (§1.6). */
export function ctrlFor(toggle: 0 | 1, multi: boolean, first: boolean): number {
  let c = toggle ? CTRL_TOGGLE : 0;
  if (multi) c |= first ? CTRL_MULTI | CTRL_FIRST : CTRL_MULTI;
  return c;
}

/**
 * Build the wire bytes of one packet whose data is `source[start, end)`. One allocation: the
 * packet buffer itself (the framer and link stay allocation-light, CONVENTIONS).
 */
export function encodePacket(
  ctrl: number,
  seq: number,
  source: Uint8Array,
  start = 0,
  end = source.length,
  identity = 0,
): Buffer {
  const len = end - start;
  if (len < 0 || len + PACKET_OVERHEAD > MAX_PACKET_SIZE) {
    throw new SimError(ErrorCode.EncodeTooLarge, `C1218Packet: ${len} data bytes do not fit a packet`, {
      length: len,
      max: MAX_PACKET_SIZE - PACKET_OVERHEAD,
    });
  }
  if (!isByte(ctrl) || !isByte(seq) || !isByte(identity)) {
    throw new SimError(ErrorCode.EncodeInvalid, 'C1218Packet: ctrl, seq and identity are single bytes', {
      ctrl,
      seq,
      identity,
    });
  }
  const out = Buffer.allocUnsafe(len + PACKET_OVERHEAD);
  out[0] = STP;
  out[1] = identity;
  out[2] = ctrl;
  out[3] = seq;
  out[4] = len >>> 8;
  out[5] = len & 0xff;
  out.set(source.subarray(start, end), HEADER_LENGTH);
  const crc = crc16x25(out, 0, HEADER_LENGTH + len);
  // §1.3: the CRC goes out low byte first.
  out[HEADER_LENGTH + len] = crc & 0xff;
  out[HEADER_LENGTH + len + 1] = crc >>> 8;
  return out;
}

/** Encode a packet value (the inverse of decodePacket). */
export function encodePacketValue(p: Pick<C1218Packet, 'identity' | 'ctrl' | 'seq' | 'data'>): Buffer {
  return encodePacket(p.ctrl, p.seq, p.data, 0, p.data.length, p.identity);
}

/**
 * Decode exactly one whole packet. Throws SimError only: DecodeTruncated / DecodeTrailingBytes
 * for a wrong size, DecodeInvalid for a wrong STP, FrameCrc for a CRC mismatch. Used on
 * complete byte strings (tests, traces); the streaming path is PacketFramer.
 */
export function decodePacket(bytes: Uint8Array, path = 'C1218Packet'): C1218Packet {
  const r = new ByteReader(bytes, path);
  const stp = r.u8('stp');
  if (stp !== STP) r.fail(`start byte 0x${hex2(stp)} is not 0xEE`, 'stp');
  const identity = r.u8('identity');
  const ctrl = r.u8('ctrl');
  const seq = r.u8('seq');
  const length = r.u16be('length');
  const data = r.bytes(length, 'data');
  const crc = r.u16le('crc');
  r.expectEnd();
  const expected = crc16x25(bytes, 0, HEADER_LENGTH + length);
  if (crc !== expected) {
    throw new SimError(
      ErrorCode.FrameCrc,
      `${path}.crc: 0x${hex4(crc)} received, 0x${hex4(expected)} computed`,
      {
        path: `${path}.crc`,
        received: crc,
        computed: expected,
      },
    );
  }
  return { identity, ctrl, seq, data, crc };
}

/** Numeric CRC of a complete packet as it sits on the wire (low byte first). */
export function wireCrc(packet: Uint8Array): number {
  const n = packet.length;
  return packet[n - 2]! | (packet[n - 1]! << 8);
}

function isByte(v: number): boolean {
  return Number.isInteger(v) && v >= 0 && v <= 0xff;
}

const hex2 = (v: number): string => v.toString(16).padStart(2, '0');
const hex4 = (v: number): string => v.toString(16).padStart(4, '0');
