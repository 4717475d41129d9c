import { ByteWriter, type ByteReader } from '../../../core/bytes';
import { encodeError } from '../axdr/limits';

/**
 * The small part of BER the ACSE APDUs need (docs/dlms.md §4.1): single-octet tags (every ACSE
 * tag number is below 31), definite lengths (short form, 81 xx, 82 xx xx — an AARQ never comes
 * near 64 KiB, so longer forms and the indefinite form 0x80 are refused), INTEGER and OBJECT
 * IDENTIFIER contents kept as raw octets.
 */
export function readBerLength(r: ByteReader, field: string): number {
  const first = r.u8(field);
  if (first < 0x80) return first;
  if (first === 0x81) return r.u8(field);
  if (first === 0x82) return r.u16be(field);
  return r.fail(`unsupported BER length prefix 0x${first.toString(16)}`, field, { prefix: first });
}

export function writeBerLength(w: ByteWriter, n: number, path: string): void {
  if (n < 0x80) w.u8(n);
  else if (n <= 0xff) w.u8(0x81).u8(n);
  else if (n <= 0xffff) w.u8(0x82).u16be(n);
  else throw encodeError(path, `BER length ${n} too large`);
}

/** Read one TLV and return its tag and a reader bounded to its contents, named `field`. */
export function readTlv(r: ByteReader, field: string): { tag: number; content: ByteReader } {
  const tag = r.u8(field);
  if ((tag & 0x1f) === 0x1f)
    r.fail(`multi-octet tag 0x${tag.toString(16)} not expected here`, field, { tag });
  const len = readBerLength(r, field);
  return { tag, content: r.sub(len, field) };
}

/** Read a TLV that must carry `tag`; returns the contents reader. */
export function expectTlv(r: ByteReader, tag: number, field: string): ByteReader {
  const t = readTlv(r, field);
  if (t.tag !== tag) {
    r.fail(`expected tag 0x${tag.toString(16)}, got 0x${t.tag.toString(16)}`, field, { tag: t.tag });
  }
  return t.content;
}

export function writeTlv(w: ByteWriter, tag: number, content: Uint8Array, path: string): void {
  w.u8(tag);
  writeBerLength(w, content.length, path);
  w.bytes(content);
}

export function tlv(tag: number, content: Uint8Array, path: string): Buffer {
  const w = new ByteWriter(content.length + 4);
  writeTlv(w, tag, content, path);
  return w.toBuffer();
}

/** BER INTEGER contents: big-endian two's complement, 1..6 octets here. */
export function readBerIntegerContent(c: ByteReader, field: string): number {
  const n = c.remaining;
  if (n < 1 || n > 6) c.fail(`INTEGER of ${n} octets not supported`, field, { length: n });
  return c.int(n, false, field);
}

/** Minimal two's complement contents of a safe integer in the 48-bit range. */
export function berIntegerContent(v: number, path: string): Buffer {
  if (!Number.isInteger(v) || v < -(2 ** 47) || v >= 2 ** 47)
    throw encodeError(path, `INTEGER ${v} out of range`);
  let size = 1;
  while (size < 6 && (v < -(2 ** (8 * size - 1)) || v >= 2 ** (8 * size - 1))) size++;
  const out = Buffer.alloc(size);
  out.writeIntBE(v, 0, size);
  return out;
}
