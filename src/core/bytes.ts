import { ErrorCode, SimError } from './errors';

/**
 * Bounds-checked cursors for hand-written symmetric codecs. A reader never mutates its input
 * and never throws anything but a SimError (DecodeTruncated / DecodeInvalid) that carries the
 * path of the field being read, e.g. `PsemReadResponse.data[12]`.
 */
export class ByteReader {
  private readonly buf: Buffer;
  private pos: number;
  private readonly end: number;
  /** Logical path of the structure being decoded, used in error messages. */
  readonly path: string;

  constructor(input: Uint8Array, path = '', start = 0, end = input.length) {
    this.buf = Buffer.isBuffer(input) ? input : Buffer.from(input.buffer, input.byteOffset, input.byteLength);
    this.pos = start;
    this.end = end;
    this.path = path;
  }

  get offset(): number {
    return this.pos;
  }

  get remaining(): number {
    return this.end - this.pos;
  }

  get atEnd(): boolean {
    return this.pos >= this.end;
  }

  private fieldPath(field?: string): string {
    if (!field) return this.path || '<root>';
    if (!this.path) return field;
    return field.startsWith('[') ? `${this.path}${field}` : `${this.path}.${field}`;
  }

  private need(n: number, field?: string): void {
    if (n < 0 || this.pos + n > this.end) {
      throw new SimError(
        ErrorCode.DecodeTruncated,
        `${this.fieldPath(field)}: needs ${n} byte(s) at offset ${this.pos}, ${this.remaining} left`,
        { path: this.fieldPath(field), offset: this.pos, needed: n, remaining: this.remaining },
      );
    }
  }

  /** Raise a coded format error at the current position. */
  fail(message: string, field?: string, context: Record<string, unknown> = {}): never {
    throw new SimError(ErrorCode.DecodeInvalid, `${this.fieldPath(field)}: ${message}`, {
      path: this.fieldPath(field),
      offset: this.pos,
      ...context,
    });
  }

  peekU8(field?: string): number {
    this.need(1, field);
    return this.buf[this.pos]!;
  }

  u8(field?: string): number {
    this.need(1, field);
    return this.buf[this.pos++]!;
  }

  i8(field?: string): number {
    this.need(1, field);
    const v = this.buf.readInt8(this.pos);
    this.pos += 1;
    return v;
  }

  u16be(field?: string): number {
    this.need(2, field);
    const v = this.buf.readUInt16BE(this.pos);
    this.pos += 2;
    return v;
  }

  u16le(field?: string): number {
    this.need(2, field);
    const v = this.buf.readUInt16LE(this.pos);
    this.pos += 2;
    return v;
  }

  i16be(field?: string): number {
    this.need(2, field);
    const v = this.buf.readInt16BE(this.pos);
    this.pos += 2;
    return v;
  }

  i16le(field?: string): number {
    this.need(2, field);
    const v = this.buf.readInt16LE(this.pos);
    this.pos += 2;
    return v;
  }

  u24be(field?: string): number {
    this.need(3, field);
    const v = this.buf.readUIntBE(this.pos, 3);
    this.pos += 3;
    return v;
  }

  u24le(field?: string): number {
    this.need(3, field);
    const v = this.buf.readUIntLE(this.pos, 3);
    this.pos += 3;
    return v;
  }

  u32be(field?: string): number {
    this.need(4, field);
    const v = this.buf.readUInt32BE(this.pos);
    this.pos += 4;
    return v;
  }

  u32le(field?: string): number {
    this.need(4, field);
    const v = this.buf.readUInt32LE(this.pos);
    this.pos += 4;
    return v;
  }

  i32be(field?: string): number {
    this.need(4, field);
    const v = this.buf.readInt32BE(this.pos);
    this.pos += 4;
    return v;
  }

  i32le(field?: string): number {
    this.need(4, field);
    const v = this.buf.readInt32LE(this.pos);
    this.pos += 4;
    return v;
  }

  u64be(field?: string): bigint {
    this.need(8, field);
    const v = this.buf.readBigUInt64BE(this.pos);
    this.pos += 8;
    return v;
  }

  i64be(field?: string): bigint {
    this.need(8, field);
    const v = this.buf.readBigInt64BE(this.pos);
    this.pos += 8;
    return v;
  }

  u64le(field?: string): bigint {
    this.need(8, field);
    const v = this.buf.readBigUInt64LE(this.pos);
    this.pos += 8;
    return v;
  }

  f32be(field?: string): number {
    this.need(4, field);
    const v = this.buf.readFloatBE(this.pos);
    this.pos += 4;
    return v;
  }

  f64be(field?: string): number {
    this.need(8, field);
    const v = this.buf.readDoubleBE(this.pos);
    this.pos += 8;
    return v;
  }

  /** Unsigned integer of `size` bytes (1-6) in the given byte order. */
  uint(size: number, littleEndian: boolean, field?: string): number {
    this.need(size, field);
    const v = littleEndian ? this.buf.readUIntLE(this.pos, size) : this.buf.readUIntBE(this.pos, size);
    this.pos += size;
    return v;
  }

  /** Signed integer of `size` bytes (1-6) in the given byte order. */
  int(size: number, littleEndian: boolean, field?: string): number {
    this.need(size, field);
    const v = littleEndian ? this.buf.readIntLE(this.pos, size) : this.buf.readIntBE(this.pos, size);
    this.pos += size;
    return v;
  }

  /** A copy of the next `n` bytes (callers may keep it; the input is never aliased). */
  bytes(n: number, field?: string): Buffer {
    this.need(n, field);
    const out = Buffer.from(this.buf.subarray(this.pos, this.pos + n));
    this.pos += n;
    return out;
  }

  /** A read-only view of the next `n` bytes without copying. Do not mutate it. */
  view(n: number, field?: string): Buffer {
    this.need(n, field);
    const out = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return out;
  }

  /** A copy of everything left. */
  rest(): Buffer {
    return this.bytes(this.remaining);
  }

  skip(n: number, field?: string): void {
    this.need(n, field);
    this.pos += n;
  }

  /** A reader over the next `n` bytes with a nested path; advances this reader past them. */
  sub(n: number, field: string): ByteReader {
    this.need(n, field);
    const r = new ByteReader(this.buf, this.fieldPath(field), this.pos, this.pos + n);
    this.pos += n;
    return r;
  }

  /** A reader for a nested structure that shares this reader's position window. */
  child(field: string): ByteReader {
    return new ByteReader(this.buf, this.fieldPath(field), this.pos, this.end);
  }

  /** Advance to the position another reader (made with child()) has reached. */
  syncFrom(child: ByteReader): void {
    this.pos = child.offset;
  }

  /** Fail with DecodeTrailingBytes unless the whole input was consumed. */
  expectEnd(): void {
    if (this.pos !== this.end) {
      throw new SimError(
        ErrorCode.DecodeTrailingBytes,
        `${this.fieldPath()}: ${this.end - this.pos} unexpected trailing byte(s) at offset ${this.pos}`,
        { path: this.fieldPath(), offset: this.pos, trailing: this.end - this.pos },
      );
    }
  }
}

/**
 * Growable writer. Methods chain: `new ByteWriter().u8(0xee).u16be(len).bytes(data).toBuffer()`.
 */
export class ByteWriter {
  private buf: Buffer;
  private pos = 0;

  constructor(initialCapacity = 64) {
    this.buf = Buffer.allocUnsafe(Math.max(8, initialCapacity));
  }

  get length(): number {
    return this.pos;
  }

  private ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    let cap = this.buf.length * 2;
    while (cap < this.pos + n) cap *= 2;
    const next = Buffer.allocUnsafe(cap);
    this.buf.copy(next, 0, 0, this.pos);
    this.buf = next;
  }

  private checkRange(v: number, min: number, max: number, what: string): void {
    if (!Number.isInteger(v) || v < min || v > max) {
      throw new SimError(ErrorCode.EncodeInvalid, `${what}: value ${v} out of range ${min}..${max}`, {
        value: v,
      });
    }
  }

  u8(v: number): this {
    this.checkRange(v, 0, 0xff, 'u8');
    this.ensure(1);
    this.buf[this.pos++] = v;
    return this;
  }

  i8(v: number): this {
    this.checkRange(v, -0x80, 0x7f, 'i8');
    this.ensure(1);
    this.buf.writeInt8(v, this.pos);
    this.pos += 1;
    return this;
  }

  u16be(v: number): this {
    this.checkRange(v, 0, 0xffff, 'u16');
    this.ensure(2);
    this.buf.writeUInt16BE(v, this.pos);
    this.pos += 2;
    return this;
  }

  u16le(v: number): this {
    this.checkRange(v, 0, 0xffff, 'u16');
    this.ensure(2);
    this.buf.writeUInt16LE(v, this.pos);
    this.pos += 2;
    return this;
  }

  i16be(v: number): this {
    this.checkRange(v, -0x8000, 0x7fff, 'i16');
    this.ensure(2);
    this.buf.writeInt16BE(v, this.pos);
    this.pos += 2;
    return this;
  }

  i16le(v: number): this {
    this.checkRange(v, -0x8000, 0x7fff, 'i16');
    this.ensure(2);
    this.buf.writeInt16LE(v, this.pos);
    this.pos += 2;
    return this;
  }

  u24be(v: number): this {
    this.checkRange(v, 0, 0xffffff, 'u24');
    this.ensure(3);
    this.buf.writeUIntBE(v, this.pos, 3);
    this.pos += 3;
    return this;
  }

  u24le(v: number): this {
    this.checkRange(v, 0, 0xffffff, 'u24');
    this.ensure(3);
    this.buf.writeUIntLE(v, this.pos, 3);
    this.pos += 3;
    return this;
  }

  u32be(v: number): this {
    this.checkRange(v, 0, 0xffffffff, 'u32');
    this.ensure(4);
    this.buf.writeUInt32BE(v, this.pos);
    this.pos += 4;
    return this;
  }

  u32le(v: number): this {
    this.checkRange(v, 0, 0xffffffff, 'u32');
    this.ensure(4);
    this.buf.writeUInt32LE(v, this.pos);
    this.pos += 4;
    return this;
  }

  i32be(v: number): this {
    this.checkRange(v, -0x80000000, 0x7fffffff, 'i32');
    this.ensure(4);
    this.buf.writeInt32BE(v, this.pos);
    this.pos += 4;
    return this;
  }

  i32le(v: number): this {
    this.checkRange(v, -0x80000000, 0x7fffffff, 'i32');
    this.ensure(4);
    this.buf.writeInt32LE(v, this.pos);
    this.pos += 4;
    return this;
  }

  u64be(v: bigint): this {
    this.ensure(8);
    this.buf.writeBigUInt64BE(v, this.pos);
    this.pos += 8;
    return this;
  }

  i64be(v: bigint): this {
    this.ensure(8);
    this.buf.writeBigInt64BE(v, this.pos);
    this.pos += 8;
    return this;
  }

  u64le(v: bigint): this {
    this.ensure(8);
    this.buf.writeBigUInt64LE(v, this.pos);
    this.pos += 8;
    return this;
  }

  f32be(v: number): this {
    this.ensure(4);
    this.buf.writeFloatBE(v, this.pos);
    this.pos += 4;
    return this;
  }

  f64be(v: number): this {
    this.ensure(8);
    this.buf.writeDoubleBE(v, this.pos);
    this.pos += 8;
    return this;
  }

  /** Unsigned integer of `size` bytes (1-6) in the given byte order. */
  uint(v: number, size: number, littleEndian: boolean): this {
    this.checkRange(v, 0, 2 ** (8 * size) - 1, `uint${size * 8}`);
    this.ensure(size);
    if (littleEndian) this.buf.writeUIntLE(v, this.pos, size);
    else this.buf.writeUIntBE(v, this.pos, size);
    this.pos += size;
    return this;
  }

  /** Signed integer of `size` bytes (1-6) in the given byte order. */
  int(v: number, size: number, littleEndian: boolean): this {
    const half = 2 ** (8 * size - 1);
    this.checkRange(v, -half, half - 1, `int${size * 8}`);
    this.ensure(size);
    if (littleEndian) this.buf.writeIntLE(v, this.pos, size);
    else this.buf.writeIntBE(v, this.pos, size);
    this.pos += size;
    return this;
  }

  bytes(data: Uint8Array): this {
    this.ensure(data.length);
    this.buf.set(data, this.pos);
    this.pos += data.length;
    return this;
  }

  /** `n` copies of `value`. */
  fill(value: number, n: number): this {
    this.ensure(n);
    this.buf.fill(value, this.pos, this.pos + n);
    this.pos += n;
    return this;
  }

  /** Overwrite a big-endian u16 already written at `offset` (e.g. a length back-patch). */
  patchU16be(offset: number, v: number): this {
    this.checkRange(v, 0, 0xffff, 'u16');
    if (offset + 2 > this.pos) throw new SimError(ErrorCode.EncodeInvalid, `patch at ${offset} past end`);
    this.buf.writeUInt16BE(v, offset);
    return this;
  }

  /** A copy of what was written. */
  toBuffer(): Buffer {
    return Buffer.from(this.buf.subarray(0, this.pos));
  }
}

/** Hex without separators, lower case: `ee000000`. */
export function toHex(data: Uint8Array): string {
  return Buffer.from(data.buffer, data.byteOffset, data.byteLength).toString('hex');
}

/** Parse hex, ignoring whitespace, `0x` prefixes and `-`/`:` separators. */
export function fromHex(text: string): Buffer {
  const clean = text.replace(/0x/gi, '').replace(/[\s:-]/g, '');
  if (clean.length % 2 !== 0 || /[^0-9a-f]/i.test(clean)) {
    throw new SimError(ErrorCode.DecodeInvalid, `not a hex string: ${text.slice(0, 40)}`);
  }
  return Buffer.from(clean, 'hex');
}
