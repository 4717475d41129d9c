import { ByteReader, ByteWriter } from '../../../core/bytes';
import { ErrorCode, SimError } from '../../../core/errors';

/**
 * DLMS/COSEM TCP-UDP wrapper (IEC 62056-47; docs/dlms.md §3, after U9N `protocol/wrappers.py`
 * and JDLMS `WrapperHeader.java`): an 8-octet big-endian header in front of each APDU,
 *   version 0x0001 | source wPort | destination wPort | APDU length
 * No SNRM, no LLC header. The client writes its client SAP as the source and the server's
 * logical device as the destination; the server answers with the two swapped
 * (GXPY `GXDLMS.getWrapperFrame`).
 */
export const WRAPPER_VERSION = 0x0001;
export const WRAPPER_HEADER_LENGTH = 8;
/** IANA-registered DLMS/COSEM port (JDLMS `internal/Constants.java`). */
export const DLMS_WRAPPER_PORT = 4059;

export interface WrapperHeader {
  readonly version: number;
  /** Source wPort: the sender's SAP (client address, or server logical device). */
  readonly source: number;
  readonly dest: number;
  /** APDU length in octets. */
  readonly length: number;
}

export interface WrapperFrame {
  readonly source: number;
  readonly dest: number;
  readonly apdu: Buffer;
}

/** A frame to encode: the APDU may be any byte view (it is copied into the frame). */
export interface WrapperFrameOut {
  readonly source: number;
  readonly dest: number;
  readonly apdu: Uint8Array;
}

export function encodeWrapperHeader(h: WrapperHeader): Buffer {
  return new ByteWriter(WRAPPER_HEADER_LENGTH)
    .u16be(h.version)
    .u16be(h.source)
    .u16be(h.dest)
    .u16be(h.length)
    .toBuffer();
}

export function decodeWrapperHeader(bytes: Uint8Array): WrapperHeader {
  const r = new ByteReader(bytes, 'WrapperHeader');
  const h = {
    version: r.u16be('version'),
    source: r.u16be('source'),
    dest: r.u16be('dest'),
    length: r.u16be('length'),
  };
  r.expectEnd();
  return h;
}

export function encodeWrapperFrame(f: WrapperFrameOut): Buffer {
  if (f.apdu.length > 0xffff) {
    throw new SimError(
      ErrorCode.EncodeTooLarge,
      `WrapperFrame: APDU of ${f.apdu.length} octets exceeds 65535`,
      {
        length: f.apdu.length,
      },
    );
  }
  // One buffer, header written in place (the answer path of every wrapper request).
  const out = Buffer.allocUnsafe(WRAPPER_HEADER_LENGTH + f.apdu.length);
  out.writeUInt16BE(WRAPPER_VERSION, 0);
  out.writeUInt16BE(f.source, 2);
  out.writeUInt16BE(f.dest, 4);
  out.writeUInt16BE(f.apdu.length, 6);
  out.set(f.apdu, WRAPPER_HEADER_LENGTH);
  return out;
}

/** Decode one complete frame: header (version 1) and exactly `length` APDU octets. */
export function decodeWrapperFrame(bytes: Uint8Array): WrapperFrame {
  const r = new ByteReader(bytes, 'WrapperFrame');
  const version = r.u16be('version');
  if (version !== WRAPPER_VERSION) r.fail(`version 0x${version.toString(16)} is not 0x0001`, 'version');
  const source = r.u16be('source');
  const dest = r.u16be('dest');
  const length = r.u16be('length');
  const apdu = r.bytes(length, 'apdu');
  r.expectEnd();
  return { source, dest, apdu };
}

/** The addresses of an answer to `f`: source and destination swapped. */
export function wrapperReplyTo(f: Pick<WrapperFrame, 'source' | 'dest'>, apdu: Buffer): WrapperFrame {
  return { source: f.dest, dest: f.source, apdu };
}
