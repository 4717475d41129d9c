/**
 * How model values travel as A-XDR data under a DLMS profile (docs/dlms-profiles.md "Values"):
 * one symmetric codec used by the simulated meter (encodeValue: model -> Data) and by the
 * interrogator (decodeValue: Data -> model values by source path), plus the SET parameters that
 * carry operation arguments (decodeParam on the meter, encodeParam on the client).
 *
 * Rules (modelled where docs/dlms.md is silent, §10 item 6):
 * - a null model value (a cleared card field, a meter never migrated) is null-data (tag 00);
 * - a structure with `absent:` reads as null-data or an empty structure when every sourced
 *   field in it is null, and either form decodes back to "all null";
 * - `date-time` is the 12-octet COSEM date-time as an octet-string (docs/dlms.md §5) in UTC
 *   (deviation 0, status 0): SMETS1 meters are in GB and the model keeps UTC instants;
 *   hundredths are the finest unit, so milliseconds are floored to 10 ms;
 * - an EUI-64 is 8 raw octets in an octet-string, or its canonical text in a visible-string;
 * - `prefix:` is prepended to a text on the way out and must be there on the way in.
 * Decoders never throw anything but SimError(ServiceInvalidResponse) naming the path.
 */
import { ErrorCode, SimError } from '../core/errors';
import { modelPathSpec, type ModelValue, type ModelValueKind } from '../device/model-paths';
import { axdr } from '../protocols/dlms/axdr/builders';
import {
  cosemDateTimeFromDate,
  cosemDateTimeToDate,
  decodeCosemDateTime,
  encodeCosemDateTime,
} from '../protocols/dlms/axdr/date-time';
import type { Data } from '../protocols/dlms/axdr/types';
import type { DlmsAttributeSpec, DlmsParamSpec, DlmsValueSpec, DlmsValueType } from './dlms-binding-schema';
import type { ArgKind } from './procedure-actions';

/** Which profile types can carry each kind of value (docs/dlms-profiles.md "Values"). */
export const DLMS_ACCEPTS: Readonly<Record<ArgKind, readonly DlmsValueType[]>> = {
  text: ['visible-string', 'octet-string', 'utf8-string'],
  digits: ['visible-string', 'octet-string', 'utf8-string'],
  eui64: ['octet-string', 'visible-string'],
  int: ['integer', 'long', 'double-long', 'long64'],
  uint: [
    'unsigned',
    'long-unsigned',
    'double-long-unsigned',
    'long64-unsigned',
    'integer',
    'long',
    'double-long',
    'long64',
  ],
  bool: ['boolean', 'unsigned', 'enum'],
  time: ['date-time', 'double-long-unsigned'],
  enum: ['enum', 'unsigned', 'long-unsigned', 'visible-string'],
  binary: ['octet-string'],
};

/** Integer ranges of the A-XDR integer types (docs/dlms.md §5 "Tags"). */
export const INTEGER_RANGE: Readonly<Partial<Record<DlmsValueType, readonly [number, number]>>> = {
  integer: [-128, 127],
  long: [-32768, 32767],
  'double-long': [-(2 ** 31), 2 ** 31 - 1],
  long64: [Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER],
  unsigned: [0, 255],
  'long-unsigned': [0, 65535],
  'double-long-unsigned': [0, 2 ** 32 - 1],
  'long64-unsigned': [0, Number.MAX_SAFE_INTEGER],
  enum: [0, 255],
};

/** The A-XDR tag a profile type travels as. */
export function wireTypeOf(t: DlmsValueType): Data['type'] {
  return t === 'date-time' ? 'octet-string' : t;
}

function invalid(path: string, message: string): SimError {
  return new SimError(ErrorCode.ServiceInvalidResponse, `${path}: ${message}`, { path });
}

function encodeFault(path: string, message: string): SimError {
  return new SimError(ErrorCode.EncodeInvalid, `${path}: ${message}`, { path });
}

/** A model time (ms) as date-time octets, UTC. */
export function dateTimeOctets(ms: number): Buffer {
  return encodeCosemDateTime(cosemDateTimeFromDate(new Date(ms), { deviation: 0, clockStatus: 0 }));
}

/** Date-time octets as ms; SimError when the octets do not name an instant. */
export function msFromDateTime(octets: Uint8Array, path: string): number {
  if (octets.length !== 12) throw invalid(path, `a date-time is 12 octets, got ${octets.length}`);
  let date: Date | undefined;
  try {
    date = cosemDateTimeToDate(decodeCosemDateTime(octets, path));
  } catch {
    date = undefined;
  }
  if (date === undefined) throw invalid(path, 'date-time does not name an instant');
  return date.getTime();
}

function eui64Text(bytes: Uint8Array): string {
  return [...bytes].map((b) => b.toString(16).padStart(2, '0').toUpperCase()).join('-');
}

const EUI64 = /^[0-9A-F]{2}(?:-[0-9A-F]{2}){7}$/;

function integerData(type: DlmsValueType, n: number, path: string): Data {
  const range = INTEGER_RANGE[type];
  if (!range || !Number.isInteger(n) || n < range[0] || n > range[1])
    throw encodeFault(path, `${n} does not fit ${type}`);
  switch (type) {
    case 'integer':
      return axdr.i8(n);
    case 'long':
      return axdr.i16(n);
    case 'double-long':
      return axdr.i32(n);
    case 'long64':
      return axdr.i64(BigInt(n));
    case 'unsigned':
      return axdr.u8(n);
    case 'long-unsigned':
      return axdr.u16(n);
    case 'double-long-unsigned':
      return axdr.u32(n);
    case 'long64-unsigned':
      return axdr.u64(BigInt(n));
    default:
      return axdr.enum(n);
  }
}

function integerOf(d: Data, path: string): number {
  switch (d.type) {
    case 'integer':
    case 'long':
    case 'double-long':
    case 'unsigned':
    case 'long-unsigned':
    case 'double-long-unsigned':
    case 'enum':
      return d.value;
    case 'long64':
    case 'long64-unsigned': {
      const n = Number(d.value);
      if (!Number.isSafeInteger(n)) throw invalid(path, `${d.value} is beyond a safe integer`);
      return n;
    }
    default:
      throw invalid(path, `expected an integer, got ${d.type}`);
  }
}

function stringData(type: DlmsValueType, text: string): Data {
  if (type === 'octet-string') return axdr.octets(Buffer.from(text, 'latin1'));
  if (type === 'utf8-string') return axdr.utf8(text);
  return axdr.visible(text);
}

function stringOf(d: Data, path: string): string {
  if (d.type === 'visible-string' || d.type === 'utf8-string') return d.value;
  if (d.type === 'octet-string') return d.value.toString('latin1');
  throw invalid(path, `expected a string, got ${d.type}`);
}

/** What a spec needs to encode or decode one scalar of a known kind. */
export interface ScalarSpec {
  type: DlmsValueType;
  enum?: Record<string, number> | undefined;
  prefix?: string | undefined;
}

/** One non-null model value of `kind` as A-XDR data. Throws EncodeInvalid for what cannot fit. */
export function encodeScalar(
  spec: ScalarSpec,
  kind: ArgKind,
  v: ModelValue | Uint8Array,
  path: string,
): Data {
  const t = spec.type;
  switch (kind) {
    case 'text':
    case 'digits':
      return stringData(t, `${spec.prefix ?? ''}${String(v)}`);
    case 'eui64': {
      const text = String(v);
      return t === 'octet-string'
        ? axdr.octets(Buffer.from(text.replace(/-/g, ''), 'hex'))
        : axdr.visible(text);
    }
    case 'int':
    case 'uint':
      return integerData(t, Number(v), path);
    case 'bool':
      if (t === 'boolean') return axdr.bool(v === true);
      if (t === 'unsigned') return axdr.u8(v === true ? 1 : 0);
      return enumData(spec, String(v === true), path);
    case 'time':
      if (t === 'date-time') return axdr.octets(dateTimeOctets(Number(v)));
      return integerData(t, Math.floor(Number(v) / 1000), path);
    case 'enum':
      if (t === 'visible-string') return axdr.visible(String(v));
      return enumData(spec, String(v), path);
    case 'binary':
      return axdr.octets(v instanceof Uint8Array ? Buffer.from(v) : Buffer.from(String(v), 'hex'));
  }
}

function enumData(spec: ScalarSpec, member: string, path: string): Data {
  const n = spec.enum?.[member];
  if (n === undefined) throw encodeFault(path, `no wire value for "${member}"`);
  return integerData(spec.type, n, path);
}

/**
 * One scalar back into a model value of `kind` (binary as lowercase hex). Null-data is null.
 * `values` are the members of an enum kind, checked when the wire carries a name.
 */
export function decodeScalar(
  spec: ScalarSpec,
  kind: ArgKind,
  d: Data,
  path: string,
  values?: readonly string[],
): ModelValue {
  if (d.type === 'null') return null;
  const t = spec.type;
  const want = wireTypeOf(t);
  if (d.type !== want) throw invalid(path, `expected ${t}, got ${d.type}`);
  switch (kind) {
    case 'text':
    case 'digits': {
      const s = stringOf(d, path);
      const prefix = spec.prefix ?? '';
      if (!s.startsWith(prefix)) throw invalid(path, `"${s}" lacks the prefix "${prefix}"`);
      const rest = s.slice(prefix.length);
      if (kind === 'digits' && !/^\d+$/.test(rest)) throw invalid(path, `"${rest}" is not all digits`);
      return rest;
    }
    case 'eui64': {
      if (d.type === 'octet-string') {
        if (d.value.length !== 8) throw invalid(path, `an EUI-64 is 8 octets, got ${d.value.length}`);
        return eui64Text(d.value);
      }
      const s = stringOf(d, path).toUpperCase();
      if (!EUI64.test(s)) throw invalid(path, `"${s}" is not an EUI-64`);
      return s;
    }
    case 'int':
    case 'uint': {
      const n = integerOf(d, path);
      if (kind === 'uint' && n < 0) throw invalid(path, `${n} is negative`);
      return n;
    }
    case 'bool':
      if (d.type === 'boolean') return d.value;
      if (t === 'unsigned') return integerOf(d, path) !== 0;
      return memberOf(spec, integerOf(d, path), path, ['false', 'true']) === 'true';
    case 'time':
      if (d.type === 'octet-string') return msFromDateTime(d.value, path);
      return integerOf(d, path) * 1000;
    case 'enum': {
      if (t === 'visible-string') {
        const s = stringOf(d, path);
        if (values && !values.includes(s)) throw invalid(path, `"${s}" is not one of ${values.join('|')}`);
        return s;
      }
      return memberOf(spec, integerOf(d, path), path, values);
    }
    case 'binary':
      if (d.type !== 'octet-string') throw invalid(path, `expected octet-string, got ${d.type}`);
      return d.value.toString('hex');
  }
}

function memberOf(spec: ScalarSpec, n: number, path: string, values?: readonly string[]): string {
  const hit = Object.entries(spec.enum ?? {}).find(([, v]) => v === n);
  if (!hit || (values && !values.includes(hit[0]))) throw invalid(path, `${n} names no known value`);
  return hit[0];
}

/** The value part of an attribute, or undefined for a write-only (command) attribute. */
export function attributeValue(a: DlmsAttributeSpec): DlmsValueSpec | undefined {
  if (a.type === undefined) return undefined;
  return {
    type: a.type,
    source: a.source,
    value: a.value,
    enum: a.enum,
    prefix: a.prefix,
    fields: a.fields,
    absent: a.absent,
  };
}

/** Kind of a model path, as the binding needs it (the caller validated the path). */
export type KindOf = (path: string) => { kind: ModelValueKind; values?: readonly string[] } | undefined;

const kinds = new Map<string, NonNullable<ReturnType<KindOf>>>();

/**
 * Kind (and enum members) of a model path, from src/device/model-paths.ts. Asked on every
 * encode and decode of a bound attribute: the answers are static, so each known path's is made
 * once (unknown paths are not remembered).
 */
export const kindOfPath: KindOf = (path) => {
  let k = kinds.get(path);
  if (k === undefined) {
    const spec = modelPathSpec(path);
    if (!spec) return undefined;
    k = Object.freeze({ kind: spec.kind, ...(spec.values ? { values: spec.values } : {}) });
    kinds.set(path, k);
  }
  return k;
};

/** A constant of a profile type. Throws EncodeInvalid when it does not fit. */
export function constantData(spec: DlmsValueSpec, path: string): Data {
  const v = spec.value;
  const t = spec.type;
  if (t === 'null') return axdr.null();
  if (t === 'boolean') {
    if (typeof v !== 'boolean') throw encodeFault(path, 'boolean constant must be true or false');
    return axdr.bool(v);
  }
  if (INTEGER_RANGE[t] !== undefined) {
    if (typeof v !== 'number') throw encodeFault(path, `${t} constant must be a number`);
    return integerData(t, v, path);
  }
  if (t === 'date-time') {
    const ms = typeof v === 'string' ? Date.parse(v) : NaN;
    if (Number.isNaN(ms)) throw encodeFault(path, 'date-time constant must be an ISO 8601 instant');
    return axdr.octets(dateTimeOctets(ms));
  }
  if (typeof v !== 'string') throw encodeFault(path, `${t} constant must be text`);
  return stringData(t, v);
}

function sourced(spec: DlmsValueSpec): boolean {
  return spec.source !== undefined || (spec.fields ?? []).some(sourced);
}

/** Model paths a value reads, with the field index path to each (`[0, 2]` = 3rd field of the 1st). */
export function valueSources(spec: DlmsValueSpec, at: number[] = []): { path: string; at: number[] }[] {
  if (spec.source !== undefined) return [{ path: spec.source, at }];
  return (spec.fields ?? []).flatMap((f, i) => valueSources(f, [...at, i]));
}

/**
 * Model -> Data. `read` gives the current value of a model path (null when absent); `kindOf`
 * its kind. Throws EncodeInvalid (the server answers the GET with a DAR) for a value that does
 * not fit its type.
 */
export function encodeValue(
  spec: DlmsValueSpec,
  read: (path: string) => ModelValue,
  kindOf: KindOf,
  path = 'value',
): Data {
  if (spec.type === 'structure') {
    const fields = spec.fields ?? [];
    if (spec.absent && sourced(spec) && valueSources(spec).every((s) => read(s.path) === null))
      return spec.absent === 'null' ? axdr.null() : axdr.struct();
    return axdr.struct(...fields.map((f, i) => encodeValue(f, read, kindOf, `${path}.fields[${i}]`)));
  }
  if (spec.source === undefined) return constantData(spec, path);
  const k = kindOf(spec.source);
  if (!k) throw encodeFault(path, `unknown source ${spec.source}`);
  const v = read(spec.source);
  return v === null ? axdr.null() : encodeScalar(spec, k.kind, v, path);
}

/**
 * Data -> model values: every source inside `spec` gets its value in `out`. Constants are
 * checked for their type only (a meter may report another firmware constant). Throws
 * SimError(ServiceInvalidResponse) naming the path.
 */
export function decodeValue(
  spec: DlmsValueSpec,
  d: Data,
  kindOf: KindOf,
  out: Map<string, ModelValue>,
  path = 'value',
): void {
  if (spec.type === 'structure') {
    const fields = spec.fields ?? [];
    const empty = d.type === 'null' || (d.type === 'structure' && d.items.length === 0 && fields.length > 0);
    if (empty) {
      if (!spec.absent) throw invalid(path, `expected a structure of ${fields.length}, got an empty value`);
      for (const s of valueSources(spec)) out.set(s.path, null);
      return;
    }
    if (d.type !== 'structure') throw invalid(path, `expected structure, got ${d.type}`);
    if (d.items.length !== fields.length)
      throw invalid(path, `expected ${fields.length} fields, got ${d.items.length}`);
    fields.forEach((f, i) => decodeValue(f, d.items[i]!, kindOf, out, `${path}.fields[${i}]`));
    return;
  }
  if (spec.source === undefined) {
    if (d.type !== wireTypeOf(spec.type)) throw invalid(path, `expected ${spec.type}, got ${d.type}`);
    return;
  }
  const k = kindOf(spec.source);
  if (!k) throw invalid(path, `unknown source ${spec.source}`);
  out.set(spec.source, decodeScalar(spec, k.kind, d, path, k.values));
}

/** A value of `spec` with every source at a typical non-null value (semantic type checks). */
export function sampleData(spec: DlmsValueSpec, kindOf: KindOf): Data {
  const sample = (path: string): ModelValue => {
    const k = kindOf(path);
    switch (k?.kind) {
      case 'text':
      case 'digits':
        return '1';
      case 'eui64':
        return '00-00-00-00-00-00-00-00';
      case 'int':
      case 'uint':
        return 1;
      case 'bool':
        return true;
      case 'time':
        return Date.UTC(2026, 0, 1);
      case 'enum':
        return k.values?.[0] ?? '';
      default:
        return null;
    }
  };
  try {
    return encodeValue(spec, sample, kindOf);
  } catch {
    return axdr.dontCare();
  }
}

/** SET parameter -> operation argument value (binary as hex). Null-data is refused. */
export function decodeParam(
  param: DlmsParamSpec,
  kind: ArgKind,
  d: Data,
  path: string,
  values?: readonly string[],
): string | number | boolean {
  const v = decodeScalar(param, kind, d, path, values);
  if (v === null) throw invalid(path, `${param.arg} must not be null`);
  return v;
}

/** Operation argument -> SET parameter (client side). */
export function encodeParam(
  param: DlmsParamSpec,
  kind: ArgKind,
  value: string | number | boolean | Uint8Array,
  path: string,
): Data {
  return encodeScalar(param, kind, value, path);
}
