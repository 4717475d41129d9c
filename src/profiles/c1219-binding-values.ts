/**
 * Model values <-> C12.19 field values, by value kind (src/device/model-paths.ts) and wire type
 * (the profile's field type). Both directions live here so that the meter (encoding what it
 * holds) and the client (decoding what it read) use one rule per pair. Every rule that is a
 * choice rather than a C12.19 fact is marked modelled:
 *
 * - null ("not held", e.g. after a clear) is sent as a blank field: spaces for STRING, zero bytes
 *   for BINARY/BCD/LTIME/integers, false for BOOL. Decoding turns a blank field back into null.
 *   (modelled; C12.19 has no null. An all-zero LTIME is not a date for TM_FORMAT 1/2, and epoch 0
 *   is taken as "unset" for TM_FORMAT 3/4 and UINT32 times.)
 * - digits in BCD are right-aligned and zero-filled (a 19-digit Payment Card ID in BCD(10) is
 *   "0" + the ID); decoding drops leading zeros. No identifier carried here starts with 0 (an
 *   MPAN core starts with its distributor id 10..23; MPRNs and Payment Card IDs have no leading
 *   zero), so this round-trips. modelled.
 * - digits and text in BINARY are ISO 646 bytes padded with 0x00. modelled.
 * - an EUI-64 is 8 raw bytes in BINARY, or its canonical form "02-53-4D-..." in STRING. modelled.
 * - time is device time in ms; LTIME carries it as calendar fields read in UTC (the meter's
 *   clock keeps GMT; modelled), UINT32 as seconds since 1970. Milliseconds are dropped.
 * - enum in an integer field uses the profile's `enum:` map; null encodes as 0 (only nullable
 *   enums of empty vend slots hit this, and their time field says the slot is empty). In a
 *   STRING field the enum member's name is sent.
 * - bool in UINT8 is 0/1.
 * - binary (procedure parameters such as new secrets) is raw bytes padded with the profile's
 *   password pad byte, so a short secret compares equal to the same secret padded by Security
 *   (docs/c1218.md §2, §7.3).
 */
import { ErrorCode, SimError } from '../core/errors';
import { formatEui64, parseEui64 } from '../device/identifiers';
import type { ModelValue } from '../device/model-paths';
import type { CodecContext, FieldValue, LTime, ScalarField } from '../protocols/c1219/field-types';
import { ltimeFromEpochMs, ltimeToEpochMs } from '../protocols/c1219/ltime';
import type { ArgKind } from './procedure-actions';

export interface ValueContext {
  ctx: CodecContext;
  /** Pad byte of BINARY parameters (the profile's C12.18 password pad). */
  pad: number;
}

export interface ValueSpec {
  kind: ArgKind;
  /** Wire values of enum members (integer fields). */
  enum?: Readonly<Record<string, number>> | undefined;
  /** Allowed enum members (STRING fields). */
  values?: readonly string[] | undefined;
}

/** A decoded argument or model value; binary arguments are lower-case hex. */
export type WireModelValue = ModelValue;

function encodeFail(path: string, message: string, value?: unknown): never {
  throw new SimError(ErrorCode.EncodeInvalid, `${path}: ${message}`, { path, value });
}

function decodeFail(path: string, message: string, value?: unknown): never {
  throw new SimError(ErrorCode.DecodeInvalid, `${path}: ${message}`, { path, value });
}

const ISO646 = /^[\x00-\x7f]*$/;

function padBytes(bytes: Buffer, size: number, pad: number, path: string): Buffer {
  if (bytes.length > size) encodeFail(path, `${bytes.length} bytes exceed the field size ${size}`);
  const out = Buffer.alloc(size, pad);
  bytes.copy(out);
  return out;
}

function stripTrailing(b: Buffer, byte: number): Buffer {
  let end = b.length;
  while (end > 0 && b[end - 1] === byte) end--;
  return b.subarray(0, end);
}

function rightAlignedDigits(digits: string, size: number, path: string): string {
  if (!/^\d*$/.test(digits)) encodeFail(path, 'BCD needs decimal digits', digits);
  if (digits.length > size * 2) encodeFail(path, `${digits.length} digits exceed BCD(${size})`, digits);
  return digits.padStart(size * 2, '0');
}

/** The LTIME that encodes as all-zero bytes in the context's TM_FORMAT (the blank time). */
export function blankLtime(ctx: CodecContext): LTime {
  return ctx.tmFormat === 1 || ctx.tmFormat === 2
    ? { year: 2000, month: 0, day: 0, hour: 0, minute: 0, second: 0 }
    : { year: 1970, month: 1, day: 1, hour: 0, minute: 0, second: 0 };
}

function isInteger(type: ScalarField['type']): boolean {
  return /^U?INT\d+$/.test(type);
}

/** Encode one model value (or argument) for a field of type `def.type`. */
export function modelToWire(
  def: ScalarField,
  spec: ValueSpec,
  value: ModelValue,
  vc: ValueContext,
  path = def.name,
): FieldValue {
  const size = def.size ?? 0;
  const t = def.type;
  switch (spec.kind) {
    case 'text':
    case 'digits': {
      if (value !== null && typeof value !== 'string') encodeFail(path, `${spec.kind} needs a string`, value);
      const s = value ?? '';
      if (t === 'STRING') return s;
      if (t === 'BCD') return rightAlignedDigits(s, size, path);
      if (t === 'BINARY') {
        if (!ISO646.test(s)) encodeFail(path, 'not ISO 646 text', s);
        return padBytes(Buffer.from(s, 'latin1'), size, 0x00, path);
      }
      break;
    }
    case 'eui64': {
      if (value !== null && typeof value !== 'string') encodeFail(path, 'EUI-64 needs a string', value);
      if (t === 'BINARY') return value === null ? Buffer.alloc(8) : parseEui64(value, path);
      if (t === 'STRING') return value === null ? '' : formatEui64(parseEui64(value, path));
      break;
    }
    case 'int':
    case 'uint': {
      if (value !== null && (typeof value !== 'number' || !Number.isInteger(value)))
        encodeFail(path, 'needs an integer', value);
      const n = value ?? 0;
      if (isInteger(t)) return n;
      if (t === 'BCD') {
        if (n < 0) encodeFail(path, 'BCD cannot carry a negative number', n);
        return rightAlignedDigits(String(n), size, path);
      }
      break;
    }
    case 'bool': {
      if (value !== null && typeof value !== 'boolean') encodeFail(path, 'needs a boolean', value);
      if (t === 'BOOL') return value === true;
      if (t === 'UINT8') return value === true ? 1 : 0;
      break;
    }
    case 'time': {
      if (value !== null && (typeof value !== 'number' || !Number.isFinite(value)))
        encodeFail(path, 'needs ms since the epoch', value);
      if (t === 'LTIME') return value === null ? blankLtime(vc.ctx) : ltimeFromEpochMs(value);
      if (t === 'UINT32') return value === null ? 0 : Math.floor(value / 1000);
      break;
    }
    case 'enum': {
      if (value !== null && typeof value !== 'string') encodeFail(path, 'enum needs a member name', value);
      if (t === 'STRING') return value ?? '';
      if (isInteger(t)) {
        if (value === null) return 0;
        const n = spec.enum?.[value];
        if (n === undefined) encodeFail(path, `no wire value for "${value}"`, value);
        return n;
      }
      break;
    }
    case 'binary': {
      if (value !== null && typeof value !== 'string') encodeFail(path, 'binary needs hex', value);
      const bytes = Buffer.from(value ?? '', 'hex');
      if (t === 'BINARY') return padBytes(bytes, size, vc.pad, path);
      if (t === 'STRING') return stripTrailing(bytes, vc.pad).toString('latin1');
      break;
    }
  }
  return encodeFail(path, `${t} cannot carry a ${spec.kind} value`);
}

/** Decode one field value back to a model value (or argument): the inverse of modelToWire. */
export function wireToModel(
  def: ScalarField,
  spec: ValueSpec,
  wire: FieldValue,
  vc: ValueContext,
  path = def.name,
): ModelValue {
  const t = def.type;
  switch (spec.kind) {
    case 'text':
    case 'digits': {
      let s: string | undefined;
      if (t === 'STRING' && typeof wire === 'string') s = wire;
      else if (t === 'BCD' && typeof wire === 'string') s = wire.replace(/^0+/, '');
      else if (t === 'BINARY' && Buffer.isBuffer(wire)) s = stripTrailing(wire, 0x00).toString('latin1');
      if (s === undefined) break;
      if (spec.kind === 'digits' && !/^\d*$/.test(s)) decodeFail(path, 'not a digit string', s);
      return s === '' ? null : s;
    }
    case 'eui64': {
      if (t === 'BINARY' && Buffer.isBuffer(wire)) {
        if (wire.length !== 8) decodeFail(path, `EUI-64 needs 8 bytes, got ${wire.length}`);
        return wire.every((b) => b === 0) ? null : formatEui64(wire);
      }
      if (t === 'STRING' && typeof wire === 'string') {
        if (wire === '') return null;
        try {
          return formatEui64(parseEui64(wire, path));
        } catch {
          return decodeFail(path, 'not an EUI-64', wire);
        }
      }
      break;
    }
    case 'int':
    case 'uint': {
      if (isInteger(t) && typeof wire === 'number') return wire;
      if (t === 'BCD' && typeof wire === 'string') {
        const n = Number(wire);
        if (!Number.isSafeInteger(n)) decodeFail(path, 'BCD value beyond a safe integer', wire);
        return n;
      }
      break;
    }
    case 'bool': {
      if (t === 'BOOL' && typeof wire === 'boolean') return wire;
      if (t === 'UINT8' && typeof wire === 'number') return wire !== 0;
      break;
    }
    case 'time': {
      if (t === 'LTIME' && typeof wire === 'object' && wire !== null && 'month' in wire) {
        const ms = ltimeToEpochMs(wire as LTime);
        return Number.isNaN(ms) || ms === 0 ? null : ms;
      }
      if (t === 'UINT32' && typeof wire === 'number') return wire === 0 ? null : wire * 1000;
      break;
    }
    case 'enum': {
      if (t === 'STRING' && typeof wire === 'string') {
        if (wire === '') return null;
        if (spec.values && !spec.values.includes(wire))
          decodeFail(path, `"${wire}" is not one of ${spec.values.join('|')}`, wire);
        return wire;
      }
      if (isInteger(t) && typeof wire === 'number') {
        const hit = Object.entries(spec.enum ?? {}).find(([, n]) => n === wire);
        if (!hit) decodeFail(path, `wire value ${wire} names no enum member`, wire);
        return hit[0];
      }
      break;
    }
    case 'binary': {
      if (t === 'BINARY' && Buffer.isBuffer(wire)) return wire.toString('hex');
      if (t === 'STRING' && typeof wire === 'string') return Buffer.from(wire, 'latin1').toString('hex');
      break;
    }
  }
  return decodeFail(path, `${t} field does not hold a ${spec.kind} value`, wire);
}

/** A `value:` constant of a profile field as its field value. */
export function constantToWire(
  def: ScalarField,
  value: string | number | boolean,
  path = def.name,
): FieldValue {
  const t = def.type;
  if (isInteger(t) && typeof value === 'number') return value;
  if (t === 'BOOL' && typeof value === 'boolean') return value;
  if (t === 'STRING' && typeof value === 'string') return value;
  if (t === 'BCD' && typeof value === 'string') return rightAlignedDigits(value, def.size ?? 0, path);
  if (t === 'BINARY' && typeof value === 'string')
    return padBytes(Buffer.from(value, 'latin1'), def.size ?? 0, 0x00, path);
  return encodeFail(path, `${t} cannot hold the constant ${JSON.stringify(value)}`, value);
}
