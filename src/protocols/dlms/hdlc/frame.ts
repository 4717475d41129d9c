import { ByteReader } from '../../../core/bytes';
import { crc16x25 } from '../../../core/crc16';
import { ErrorCode, SimError } from '../../../core/errors';
import { checkHdlcAddress, decodeHdlcAddress, writeHdlcAddress, type HdlcAddress } from './address';
import { decodeHdlcControl, encodeHdlcControl, type HdlcControl } from './control';

/**
 * HDLC frame type 3 (IEC 62056-46; docs/dlms.md §2 "Frame"):
 *   7E | format(2) | dest | src | control | [HCS(2) info] | FCS(2) | 7E
 * Format = 1010 S LLL LLLLLLLL: type 0xA, S = segmentation (0x0800), 11-bit length of
 * everything between the flags. HCS covers format..control and is present only with an info
 * field; FCS covers format..info. Both are CRC-16/X.25 sent low byte first. No byte stuffing.
 */
export const HDLC_FLAG = 0x7e;
export const HDLC_FORMAT_TYPE = 0xa000;
export const HDLC_SEGMENTED = 0x0800;
export const HDLC_MAX_LENGTH = 0x7ff;
/** format(2) + dest(1) + src(1) + control(1) + FCS(2): the shortest legal frame body. */
export const HDLC_MIN_LENGTH = 7;

export interface HdlcFrame {
  /** S bit: more segments of this APDU follow. */
  readonly segmented: boolean;
  readonly dest: HdlcAddress;
  readonly src: HdlcAddress;
  readonly control: HdlcControl;
  /** Information field; empty when the frame has none (and then no HCS). */
  readonly info: Buffer;
}

const EMPTY = Buffer.alloc(0);

export function hdlcFrame(
  dest: HdlcAddress,
  src: HdlcAddress,
  control: HdlcControl,
  info: Buffer = EMPTY,
  segmented = false,
): HdlcFrame {
  return { segmented, dest, src, control, info };
}

/**
 * Encode with both flags, into one buffer sized from the addresses and the info field; HCS and
 * FCS are computed over ranges of that buffer (no intermediate copies).
 */
export function encodeHdlcFrame(f: HdlcFrame): Buffer {
  checkHdlcAddress(f.dest);
  checkHdlcAddress(f.src);
  const hasInfo = f.info.length > 0;
  // format(2) + addresses + control, then [HCS(2) + info], then FCS(2): between the flags.
  const head = 2 + f.dest.size + f.src.size + 1;
  const length = head + (hasInfo ? 2 + f.info.length : 0) + 2;
  if (length > HDLC_MAX_LENGTH) {
    throw new SimError(ErrorCode.EncodeTooLarge, `HdlcFrame: ${length} octets exceed the 11-bit length`, {
      length,
    });
  }
  const out = Buffer.allocUnsafe(length + 2);
  out[0] = HDLC_FLAG;
  out.writeUInt16BE(HDLC_FORMAT_TYPE | (f.segmented ? HDLC_SEGMENTED : 0) | length, 1);
  let p = writeHdlcAddress(f.dest, out, 3);
  p = writeHdlcAddress(f.src, out, p);
  out[p++] = encodeHdlcControl(f.control);
  if (hasInfo) {
    out.writeUInt16LE(crc16x25(out, 1, p), p);
    p += 2;
    out.set(f.info, p);
    p += f.info.length;
  }
  out.writeUInt16LE(crc16x25(out, 1, p), p);
  out[p + 2] = HDLC_FLAG;
  return out;
}

function crcError(path: string, expected: number, actual: number): SimError {
  return new SimError(
    ErrorCode.FrameCrc,
    `${path}: CRC 0x${actual.toString(16)} where 0x${expected.toString(16)} was computed`,
    { path, expected, actual },
  );
}

/**
 * Decode one frame, flags included. Throws only SimError: FrameLength, FrameCrc,
 * DecodeInvalid / DecodeTruncated with a `HdlcFrame.*` path.
 */
export function decodeHdlcFrame(raw: Uint8Array): HdlcFrame {
  const p = parseHdlcFrame(raw);
  if (p.frame) return p.frame;
  throw p.error!;
}

/**
 * A lenient parse for the link: when the frame is malformed it still reports whatever of the
 * header could be read, so a server can answer FRMR to the station that sent it.
 */
export interface HdlcParse {
  readonly frame?: HdlcFrame;
  readonly error?: SimError;
  readonly dest?: HdlcAddress;
  readonly src?: HdlcAddress;
  /** The raw control octet, when it was reached. */
  readonly controlByte?: number;
  /** True when the frame was readable but its control octet is not one we implement. */
  readonly badControl?: boolean;
}

export function parseHdlcFrame(raw: Uint8Array): HdlcParse {
  const r = new ByteReader(raw, 'HdlcFrame');
  let dest: HdlcAddress | undefined;
  let src: HdlcAddress | undefined;
  let controlByte: number | undefined;
  try {
    if (r.u8('flag') !== HDLC_FLAG) r.fail('missing opening flag 0x7E', 'flag');
    const format = r.u16be('format');
    if ((format & 0xf000) !== HDLC_FORMAT_TYPE)
      r.fail(`frame type 0x${(format >> 12).toString(16)} is not 0xA`, 'format');
    const length = format & HDLC_MAX_LENGTH;
    if (length + 2 !== raw.length) {
      throw new SimError(
        ErrorCode.FrameLength,
        `HdlcFrame.format: length ${length} but ${raw.length - 2} octets between the flags`,
        { path: 'HdlcFrame.format', length, actual: raw.length - 2 },
      );
    }
    if (raw[raw.length - 1] !== HDLC_FLAG) r.fail('missing closing flag 0x7E', 'flag');
    const fcsAt = raw.length - 3;
    const fcs = raw[fcsAt]! | (raw[fcsAt + 1]! << 8);
    const fcsCalc = crc16x25(raw, 1, fcsAt);
    if (fcs !== fcsCalc) throw crcError('HdlcFrame.fcs', fcsCalc, fcs);
    const body = new ByteReader(raw, 'HdlcFrame', 3, fcsAt);
    dest = decodeHdlcAddress(body, 'dest');
    src = decodeHdlcAddress(body, 'src');
    controlByte = body.u8('control');
    let info: Buffer = EMPTY;
    if (!body.atEnd) {
      const hcsAt = body.offset;
      const hcs = body.u16le('hcs');
      const hcsCalc = crc16x25(raw, 1, hcsAt);
      if (hcs !== hcsCalc) throw crcError('HdlcFrame.hcs', hcsCalc, hcs);
      // An HCS with nothing after it would be a header-only frame written the long way;
      // nothing in the standard's examples does that, so it is refused (modelled).
      if (body.atEnd) body.fail('HCS present without an information field', 'info');
      info = body.rest();
    }
    let control: HdlcControl;
    try {
      control = decodeHdlcControl(controlByte);
    } catch (e) {
      return { error: e as SimError, dest, src, controlByte, badControl: true };
    }
    return {
      frame: { segmented: (format & HDLC_SEGMENTED) !== 0, dest, src, control, info },
      dest,
      src,
      controlByte,
    };
  } catch (e) {
    if (e instanceof SimError) return { error: e, dest, src, controlByte };
    throw e;
  }
}
