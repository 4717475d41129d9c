/**
 * Symmetric table codec: `encodeTable(layout, record, ctx)` and `decodeTable(layout, bytes, ctx)`.
 * The same layout rows serve the meter (table engine) and the client (a C12.18 client decoding
 * what it read). Integers follow ST0 DATA_ORDER, strings ST0 CHAR_FORMAT, LTIME ST0 TM_FORMAT
 * (docs/c1218.md §3).
 *
 * Decoding never mutates its input and throws only SimError (DecodeTruncated / DecodeInvalid /
 * DecodeTrailingBytes) carrying the field path, e.g. `SECURITY_TBL.PASSWORDS[1].PASSWORD`.
 * Encoding throws SimError(EncodeInvalid) with the path of the offending value.
 */
import { ByteReader, ByteWriter } from '../../core/bytes';
import { ErrorCode, SimError } from '../../core/errors';
import {
  type BitField,
  type BitValues,
  type CodecContext,
  type FieldDef,
  type FieldValue,
  type ScalarField,
  type TableLayout,
  type TableRecord,
  INTEGER_WIDTH,
  isGroup,
  layoutSize,
} from './field-types';
import { decodeLtime, encodeLtime } from './ltime';

function encodeFail(path: string, message: string, value?: unknown): never {
  throw new SimError(ErrorCode.EncodeInvalid, `${path}: ${message}`, { path, value });
}

function decodeFail(path: string, message: string, offset: number): never {
  throw new SimError(ErrorCode.DecodeInvalid, `${path}: ${message}`, { path, offset });
}

// ---------------------------------------------------------------------------------------------
// Bit fields. Widths reach 48 bits (UINT48), beyond JS 32-bit operators: use arithmetic.

function packBits(bits: readonly BitField[], value: unknown, path: string): number {
  if (typeof value !== 'object' || value === null || Array.isArray(value) || Buffer.isBuffer(value))
    encodeFail(path, 'bit field needs an object of sub-field values', value);
  const o = value as Record<string, unknown>;
  let raw = 0;
  for (const b of bits) {
    const v = o[b.name];
    if (v === undefined) continue; // an absent sub-field is 0
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v >= 2 ** b.width)
      encodeFail(`${path}.${b.name}`, `not an integer 0..${2 ** b.width - 1}`, v);
    raw += v * 2 ** b.shift;
  }
  return raw;
}

/** Sub-field values of a raw bit-field integer (also used to present device bit masks as records). */
export function unpackBits(bits: readonly BitField[], raw: number): BitValues {
  const out: BitValues = {};
  for (const b of bits) out[b.name] = Math.floor(raw / 2 ** b.shift) % 2 ** b.width;
  return out;
}

// ---------------------------------------------------------------------------------------------
// Characters. CHAR_FORMAT 1 = ISO 646 (7-bit), 2 = ISO 8859-1; one byte per character.

function encodeString(w: ByteWriter, s: unknown, size: number, ctx: CodecContext, path: string): void {
  if (typeof s !== 'string') encodeFail(path, 'STRING needs a string', s);
  if (s.length > size) encodeFail(path, `${s.length} chars exceed the field size ${size}`, s);
  const max = ctx.charFormat === 1 ? 0x7f : 0xff;
  const bytes = Buffer.allocUnsafe(size);
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c > max)
      encodeFail(path, `char U+${c.toString(16).padStart(4, '0')} not in CHAR_FORMAT ${ctx.charFormat}`, s);
    bytes[i] = c;
  }
  // Pad with spaces (0x20), as STRING fields are padded (E: ST1/ST5/ST6 left-justified strings).
  bytes.fill(0x20, s.length);
  w.bytes(bytes);
}

function decodeString(r: ByteReader, size: number, ctx: CodecContext, path: string): string {
  const start = r.offset;
  const raw = r.view(size, path);
  let end = raw.length;
  while (end > 0 && raw[end - 1] === 0x20) end--;
  if (ctx.charFormat === 1) {
    for (let i = 0; i < end; i++) {
      if (raw[i]! > 0x7f) decodeFail(path, `byte 0x${raw[i]!.toString(16)} is not ISO 646`, start + i);
    }
  }
  return raw.toString('latin1', 0, end);
}

// ---------------------------------------------------------------------------------------------
// BCD: two decimal digits per byte, high nibble first.

function encodeBcd(w: ByteWriter, s: unknown, size: number, path: string): void {
  if (typeof s !== 'string' || s.length !== size * 2 || !/^[0-9]*$/.test(s))
    encodeFail(path, `BCD(${size}) needs a string of exactly ${size * 2} decimal digits`, s);
  for (let i = 0; i < size; i++) w.u8((s.charCodeAt(2 * i) - 48) * 16 + (s.charCodeAt(2 * i + 1) - 48));
}

function decodeBcd(r: ByteReader, size: number, path: string): string {
  const start = r.offset;
  const raw = r.view(size, path);
  let out = '';
  for (let i = 0; i < size; i++) {
    const b = raw[i]!;
    if (b >> 4 > 9 || (b & 0x0f) > 9) decodeFail(path, `0x${b.toString(16)} is not BCD`, start + i);
    out += String(b >> 4) + String(b & 0x0f);
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// SET: bit i of byte p = item 8p + i (docs/c1218.md §3 ST0 bit sets).

function encodeSet(w: ByteWriter, items: unknown, size: number, path: string): void {
  if (!Array.isArray(items)) encodeFail(path, 'SET needs an array of item numbers', items);
  const bytes = Buffer.alloc(size);
  for (const it of items as unknown[]) {
    if (typeof it !== 'number' || !Number.isInteger(it) || it < 0 || it >= size * 8)
      encodeFail(path, `item ${String(it)} outside 0..${size * 8 - 1}`, it);
    bytes[it >> 3] = bytes[it >> 3]! | (1 << (it & 7));
  }
  w.bytes(bytes);
}

function decodeSet(r: ByteReader, size: number, path: string): number[] {
  const raw = r.view(size, path);
  const out: number[] = [];
  for (let p = 0; p < size; p++) {
    const b = raw[p]!;
    if (b === 0) continue;
    for (let i = 0; i < 8; i++) if (b & (1 << i)) out.push(p * 8 + i);
  }
  return out;
}

// ---------------------------------------------------------------------------------------------

function encodeScalar(w: ByteWriter, f: ScalarField, v: unknown, ctx: CodecContext, path: string): void {
  const width = INTEGER_WIDTH[f.type];
  if (width !== undefined) {
    const le = ctx.dataOrder === 'little';
    const signed = f.type.startsWith('INT');
    let n: number;
    if (f.bits) n = packBits(f.bits, v, path);
    else {
      if (typeof v !== 'number' || !Number.isInteger(v)) encodeFail(path, `${f.type} needs an integer`, v);
      n = v;
    }
    const lo = signed ? -(2 ** (width * 8 - 1)) : 0;
    const hi = signed ? 2 ** (width * 8 - 1) - 1 : 2 ** (width * 8) - 1;
    if (n < lo || n > hi) encodeFail(path, `${n} out of range ${lo}..${hi}`, v);
    if (signed) w.int(n, width, le);
    else w.uint(n, width, le);
    return;
  }
  switch (f.type) {
    case 'BOOL':
      if (typeof v !== 'boolean') encodeFail(path, 'BOOL needs a boolean', v);
      w.u8(v ? 1 : 0);
      return;
    case 'STRING':
      encodeString(w, v, f.size!, ctx, path);
      return;
    case 'BINARY': {
      if (!(v instanceof Uint8Array)) encodeFail(path, 'BINARY needs a Buffer', v);
      if (!f.rest && v.length !== f.size) encodeFail(path, `BINARY(${f.size}) got ${v.length} bytes`, v);
      w.bytes(v);
      return;
    }
    case 'BCD':
      encodeBcd(w, v, f.size!, path);
      return;
    case 'LTIME':
      encodeLtime(w, v, ctx, path);
      return;
    case 'SET':
      encodeSet(w, v, f.size!, path);
      return;
    case 'FILL':
      w.fill(0, f.size!);
      return;
    default:
      encodeFail(path, `unknown type ${String(f.type)}`);
  }
}

function decodeScalar(r: ByteReader, f: ScalarField, ctx: CodecContext, path: string): FieldValue {
  const width = INTEGER_WIDTH[f.type];
  if (width !== undefined) {
    const le = ctx.dataOrder === 'little';
    if (f.type.startsWith('INT')) return r.int(width, le, path);
    const n = r.uint(width, le, path);
    return f.bits ? unpackBits(f.bits, n) : n;
  }
  switch (f.type) {
    case 'BOOL':
      // Any non-zero byte reads as true (modelled: lenient, as a C-struct reader would be).
      return r.u8(path) !== 0;
    case 'STRING':
      return decodeString(r, f.size!, ctx, path);
    case 'BINARY':
      return r.bytes(f.rest ? r.remaining : f.size!, path);
    case 'BCD':
      return decodeBcd(r, f.size!, path);
    case 'LTIME':
      return decodeLtime(r, ctx, path);
    case 'SET':
      return decodeSet(r, f.size!, path);
    default:
      return decodeFail(path, `unknown type ${String(f.type)}`, r.offset);
  }
}

function encodeOne(w: ByteWriter, f: FieldDef, v: unknown, ctx: CodecContext, path: string): void {
  if (isGroup(f)) {
    if (typeof v !== 'object' || v === null || Array.isArray(v) || Buffer.isBuffer(v))
      encodeFail(path, 'group needs a record', v);
    encodeFields(w, f.group, v as TableRecord, ctx, path);
  } else encodeScalar(w, f, v, ctx, path);
}

function encodeFields(
  w: ByteWriter,
  fields: readonly FieldDef[],
  rec: TableRecord,
  ctx: CodecContext,
  path: string,
): void {
  for (const f of fields) {
    const p = `${path}.${f.name}`;
    if (!isGroup(f) && f.type === 'FILL') {
      w.fill(0, f.size! * (f.count ?? 1));
      continue;
    }
    const v: unknown = rec[f.name];
    if (v === undefined) encodeFail(p, 'missing');
    if (f.count === undefined) {
      encodeOne(w, f, v, ctx, p);
      continue;
    }
    if (!Array.isArray(v) || v.length !== f.count) encodeFail(p, `needs an array of ${f.count} elements`, v);
    for (let i = 0; i < f.count; i++) encodeOne(w, f, (v as unknown[])[i], ctx, `${p}[${i}]`);
  }
}

function decodeOne(r: ByteReader, f: FieldDef, ctx: CodecContext, path: string): FieldValue {
  return isGroup(f) ? decodeFields(r, f.group, ctx, path) : decodeScalar(r, f, ctx, path);
}

function decodeFields(
  r: ByteReader,
  fields: readonly FieldDef[],
  ctx: CodecContext,
  path: string,
): TableRecord {
  const rec: TableRecord = {};
  for (const f of fields) {
    const p = `${path}.${f.name}`;
    if (!isGroup(f) && f.type === 'FILL') {
      // FILL carries no data: skipped without checking, as a reader of reserved bytes should.
      r.skip(f.size! * (f.count ?? 1), p);
      continue;
    }
    if (f.count === undefined) {
      rec[f.name] = decodeOne(r, f, ctx, p);
      continue;
    }
    const arr: FieldValue[] = [];
    for (let i = 0; i < f.count; i++) arr.push(decodeOne(r, f, ctx, `${p}[${i}]`));
    rec[f.name] = arr;
  }
  return rec;
}

/** Encode a record with a layout. The result is exactly `layoutSize` bytes (+ any `rest` bytes). */
export function encodeTable(layout: TableLayout, record: TableRecord, ctx: CodecContext): Buffer {
  const w = new ByteWriter(layoutSize(layout, ctx) + 16);
  encodeFields(w, layout.fields, record, ctx, layout.name);
  return w.toBuffer();
}

/** Decode a whole table. Fails with DecodeTrailingBytes if bytes are left over (no `rest` field). */
export function decodeTable(layout: TableLayout, bytes: Uint8Array, ctx: CodecContext): TableRecord {
  const r = new ByteReader(bytes);
  const rec = decodeFields(r, layout.fields, ctx, layout.name);
  if (!r.atEnd)
    throw new SimError(
      ErrorCode.DecodeTrailingBytes,
      `${layout.name}: ${r.remaining} unexpected trailing byte(s) at offset ${r.offset}`,
      { path: layout.name, offset: r.offset, trailing: r.remaining },
    );
  return rec;
}

/** Decode the leading fields of a table and ignore what follows (e.g. the ST0 header before its sets). */
export function decodeTablePrefix(layout: TableLayout, bytes: Uint8Array, ctx: CodecContext): TableRecord {
  return decodeFields(new ByteReader(bytes), layout.fields, ctx, layout.name);
}
