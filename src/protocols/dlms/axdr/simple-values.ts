import type { ByteReader, ByteWriter } from '../../../core/bytes';
import { encodeError } from './limits';
import { readLength, writeLength } from './length';
import type { Data } from './types';

/**
 * Contents (everything after the tag) of the non-container Data types, shared by the tagged
 * codec and the compact-array codec, where the same contents travel without tags
 * (docs/dlms.md §5). Integers are big-endian; strings and bit-strings carry an A-XDR length;
 * date-time / date / time are fixed 12 / 5 / 4 octets with no length.
 */
export function readSimple(r: ByteReader, tag: number, field: string): Data {
  switch (tag) {
    case 0x00:
      return { type: 'null' };
    case 0x03:
      return { type: 'boolean', value: r.u8(field) !== 0 };
    case 0x04: {
      const bits = readLength(r, field);
      return { type: 'bit-string', bits, data: r.bytes(Math.ceil(bits / 8), field) };
    }
    case 0x05:
      return { type: 'double-long', value: r.i32be(field) };
    case 0x06:
      return { type: 'double-long-unsigned', value: r.u32be(field) };
    case 0x09:
      return { type: 'octet-string', value: r.bytes(readLength(r, field), field) };
    case 0x0a:
      return { type: 'visible-string', value: r.view(readLength(r, field), field).toString('latin1') };
    case 0x0c:
      return { type: 'utf8-string', value: r.view(readLength(r, field), field).toString('utf8') };
    case 0x0d:
      return { type: 'bcd', value: r.u8(field) };
    case 0x0f:
      return { type: 'integer', value: r.i8(field) };
    case 0x10:
      return { type: 'long', value: r.i16be(field) };
    case 0x11:
      return { type: 'unsigned', value: r.u8(field) };
    case 0x12:
      return { type: 'long-unsigned', value: r.u16be(field) };
    case 0x14:
      return { type: 'long64', value: r.i64be(field) };
    case 0x15:
      return { type: 'long64-unsigned', value: r.u64be(field) };
    case 0x16:
      return { type: 'enum', value: r.u8(field) };
    case 0x17:
      return { type: 'float32', value: r.f32be(field) };
    case 0x18:
      return { type: 'float64', value: r.f64be(field) };
    case 0x19:
      return { type: 'date-time', value: r.bytes(12, field) };
    case 0x1a:
      return { type: 'date', value: r.bytes(5, field) };
    case 0x1b:
      return { type: 'time', value: r.bytes(4, field) };
    case 0xff:
      return { type: 'dont-care' };
    default:
      return r.fail(`unknown A-XDR data tag 0x${tag.toString(16).padStart(2, '0')}`, field, { tag });
  }
}

function intIn(v: number, min: number, max: number, path: string): void {
  if (!Number.isInteger(v) || v < min || v > max) {
    throw encodeError(path, `value ${v} out of range ${min}..${max}`, { value: v });
  }
}

const I64_MIN = -(1n << 63n);
const I64_MAX = (1n << 63n) - 1n;
const U64_MAX = (1n << 64n) - 1n;

function bigIn(v: bigint, min: bigint, max: bigint, path: string): void {
  if (typeof v !== 'bigint' || v < min || v > max) {
    throw encodeError(path, `value ${String(v)} out of range ${min}..${max}`, { value: String(v) });
  }
}

function fixedBytes(v: Buffer, n: number, path: string): void {
  if (!Buffer.isBuffer(v) || v.length !== n) {
    throw encodeError(path, `needs exactly ${n} octets, got ${Buffer.isBuffer(v) ? v.length : typeof v}`);
  }
}

/** Characters a latin1 (visible-string) encoding can carry without loss. */
const NOT_LATIN1 = /[^\u0000-\u00ff]/;

/** Write the contents of a non-container value. Containers are refused here. */
export function writeSimple(w: ByteWriter, d: Data, path: string): void {
  switch (d.type) {
    case 'null':
    case 'dont-care':
      return;
    case 'boolean':
      w.u8(d.value ? 1 : 0);
      return;
    case 'bit-string': {
      intIn(d.bits, 0, 0xffffffff, `${path}.bits`);
      if (!Buffer.isBuffer(d.data) || d.data.length !== Math.ceil(d.bits / 8)) {
        throw encodeError(path, `bit-string of ${d.bits} bits needs ${Math.ceil(d.bits / 8)} octets`);
      }
      writeLength(w, d.bits, path);
      w.bytes(d.data);
      return;
    }
    case 'double-long':
      intIn(d.value, -0x80000000, 0x7fffffff, path);
      w.i32be(d.value);
      return;
    case 'double-long-unsigned':
      intIn(d.value, 0, 0xffffffff, path);
      w.u32be(d.value);
      return;
    case 'octet-string':
      if (!Buffer.isBuffer(d.value)) throw encodeError(path, 'octet-string value must be a Buffer');
      writeLength(w, d.value.length, path);
      w.bytes(d.value);
      return;
    case 'visible-string': {
      if (NOT_LATIN1.test(d.value)) throw encodeError(path, 'visible-string holds characters above U+00FF');
      const b = Buffer.from(d.value, 'latin1');
      writeLength(w, b.length, path);
      w.bytes(b);
      return;
    }
    case 'utf8-string': {
      const b = Buffer.from(d.value, 'utf8');
      writeLength(w, b.length, path);
      w.bytes(b);
      return;
    }
    case 'bcd':
    case 'unsigned':
    case 'enum':
      intIn(d.value, 0, 0xff, path);
      w.u8(d.value);
      return;
    case 'integer':
      intIn(d.value, -0x80, 0x7f, path);
      w.i8(d.value);
      return;
    case 'long':
      intIn(d.value, -0x8000, 0x7fff, path);
      w.i16be(d.value);
      return;
    case 'long-unsigned':
      intIn(d.value, 0, 0xffff, path);
      w.u16be(d.value);
      return;
    case 'long64':
      bigIn(d.value, I64_MIN, I64_MAX, path);
      w.i64be(d.value);
      return;
    case 'long64-unsigned':
      bigIn(d.value, 0n, U64_MAX, path);
      w.u64be(d.value);
      return;
    case 'float32':
      if (typeof d.value !== 'number') throw encodeError(path, 'float32 value must be a number');
      w.f32be(d.value);
      return;
    case 'float64':
      if (typeof d.value !== 'number') throw encodeError(path, 'float64 value must be a number');
      w.f64be(d.value);
      return;
    case 'date-time':
      fixedBytes(d.value, 12, path);
      w.bytes(d.value);
      return;
    case 'date':
      fixedBytes(d.value, 5, path);
      w.bytes(d.value);
      return;
    case 'time':
      fixedBytes(d.value, 4, path);
      w.bytes(d.value);
      return;
    case 'array':
    case 'structure':
    case 'compact-array':
      throw encodeError(path, `${d.type} is not a simple value`);
    default: {
      const never: never = d;
      throw encodeError(path, `unknown data type ${(never as { type: unknown }).type as string}`);
    }
  }
}
