import { ByteReader, ByteWriter } from '../../../core/bytes';
import { ErrorCode, SimError } from '../../../core/errors';

/**
 * HDLC addresses (IEC 62056-46; docs/dlms.md §2 "Addresses", after U9N `hdlc/address.py` and
 * JDLMS `HdlcAddress.java`). Each octet carries 7 address bits shifted left by one; bit 0 set
 * marks the last octet. A client address is one octet. A server address is 1 octet (upper =
 * logical device only), 2 octets (7-bit upper + 7-bit lower) or 4 octets (14-bit upper + 14-bit
 * lower), where the lower part is the physical device.
 */
export interface HdlcAddress {
  /** Upper address: the logical device (server) or the client SAP. */
  readonly logical: number;
  /** Lower address: the physical device. Absent in 1-octet addresses. */
  readonly physical?: number;
  /** Octets on the wire. */
  readonly size: 1 | 2 | 4;
}

/** Reserved client addresses (JDLMS `ReservedAddresses`, docs/dlms.md §2). */
export const HdlcClientSap = {
  NoStation: 0x00,
  Management: 0x01,
  Public: 0x10,
  AllStation: 0x7f,
} as const;

/** Reserved server upper/lower values (docs/dlms.md §2). */
export const HdlcServerReserved = {
  ManagementLogicalDevice: 0x01,
  AllStation1: 0x7f,
  AllStation2: 0x3fff,
  Calling1: 0x7e,
  Calling2: 0x3ffe,
} as const;

/** A one-octet client address (SAP 0..127). */
export function hdlcClient(sap: number): HdlcAddress {
  return { logical: sap, size: 1 };
}

/**
 * A server address in the smallest form that holds it: 1 octet without a physical part,
 * 2 octets when both parts fit 7 bits, else 4 octets.
 */
export function hdlcServer(logical: number, physical?: number): HdlcAddress {
  if (physical === undefined) return { logical, size: 1 };
  return logical <= 0x7f && physical <= 0x7f
    ? { logical, physical, size: 2 }
    : { logical, physical, size: 4 };
}

/** Same station, whatever the octet count used to write it. */
export function sameHdlcAddress(a: HdlcAddress, b: HdlcAddress): boolean {
  return a.logical === b.logical && a.physical === b.physical;
}

/** A stable map key: `1/17`, or `16` for a one-part address. */
export function hdlcAddressKey(a: { logical: number; physical?: number }): string {
  return a.physical === undefined ? `${a.logical}` : `${a.logical}/${a.physical}`;
}

function invalid(message: string, context: Record<string, unknown>): SimError {
  return new SimError(ErrorCode.EncodeInvalid, `HdlcAddress: ${message}`, context);
}

/** EncodeInvalid unless the address fits its octet count. */
export function checkHdlcAddress(a: HdlcAddress): void {
  const lim7 = (v: number): boolean => Number.isInteger(v) && v >= 0 && v <= 0x7f;
  const lim14 = (v: number): boolean => Number.isInteger(v) && v >= 0 && v <= 0x3fff;
  switch (a.size) {
    case 1:
      if (!lim7(a.logical) || a.physical !== undefined)
        throw invalid('1-octet address needs logical 0..127 only', { a });
      return;
    case 2:
      if (!lim7(a.logical) || a.physical === undefined || !lim7(a.physical))
        throw invalid('2-octet address needs logical and physical 0..127', { a });
      return;
    case 4:
      if (!lim14(a.logical) || a.physical === undefined || !lim14(a.physical))
        throw invalid('4-octet address needs logical and physical 0..16383', { a });
      return;
    default:
      throw invalid(`bad size ${String((a as { size: unknown }).size)}`, { a });
  }
}

/**
 * Write the octets of an address checkHdlcAddress accepted into `out` at `at`; returns the
 * offset after them. The frame encoder's allocation-free path (it sizes the frame from
 * `a.size` first).
 */
export function writeHdlcAddress(a: HdlcAddress, out: Uint8Array, at: number): number {
  const physical = a.physical ?? 0;
  switch (a.size) {
    case 1:
      out[at] = (a.logical << 1) | 1;
      return at + 1;
    case 2:
      out[at] = a.logical << 1;
      out[at + 1] = (physical << 1) | 1;
      return at + 2;
    default:
      out[at] = (a.logical >> 7) << 1;
      out[at + 1] = (a.logical & 0x7f) << 1;
      out[at + 2] = (physical >> 7) << 1;
      out[at + 3] = ((physical & 0x7f) << 1) | 1;
      return at + 4;
  }
}

export function encodeHdlcAddress(a: HdlcAddress, w: ByteWriter = new ByteWriter(4)): ByteWriter {
  checkHdlcAddress(a);
  const octets = new Uint8Array(4);
  const n = writeHdlcAddress(a, octets, 0);
  return w.bytes(octets.subarray(0, n));
}

/** Reads octets up to and including the one with the end bit; 1, 2 or 4 octets are valid. */
export function decodeHdlcAddress(r: ByteReader, field: string): HdlcAddress {
  const octets: number[] = [];
  for (;;) {
    const b = r.u8(field);
    octets.push(b >> 1);
    if (b & 1) break;
    if (octets.length === 4) r.fail('address longer than 4 octets', field);
  }
  switch (octets.length) {
    case 1:
      return { logical: octets[0]!, size: 1 };
    case 2:
      return { logical: octets[0]!, physical: octets[1]!, size: 2 };
    case 4:
      return {
        logical: (octets[0]! << 7) | octets[1]!,
        physical: (octets[2]! << 7) | octets[3]!,
        size: 4,
      };
    default:
      return r.fail(`address of ${octets.length} octets (1, 2 or 4 expected)`, field);
  }
}
