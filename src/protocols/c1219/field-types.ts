/**
 * C12.19 field types and table layouts as data (CONVENTIONS.md "spec tables are data").
 *
 * One layout drives encode and decode, on the meter side (table engine) and on the client side
 * (a C12.18 client decodes tables with the same rows). The type names are the vocabulary
 * agreed with the profile schema (src/profiles), so a profile can describe a manufacturer
 * table with exactly these words.
 */
import { ErrorCode, SimError } from '../../core/errors';

export const FIELD_TYPES = [
  'UINT8',
  'UINT16',
  'UINT24',
  'UINT32',
  'UINT48',
  'INT8',
  'INT16',
  'INT32',
  'BOOL',
  'STRING',
  'BINARY',
  'BCD',
  'LTIME',
  'SET',
  'FILL',
] as const;
export type FieldType = (typeof FIELD_TYPES)[number];

/** Byte width of the fixed-size integer types. BOOL is one byte (0 = false). */
export const INTEGER_WIDTH: Readonly<Record<string, number>> = {
  UINT8: 1,
  UINT16: 2,
  UINT24: 3,
  UINT32: 4,
  UINT48: 6,
  INT8: 1,
  INT16: 2,
  INT32: 4,
};

/** Types whose `size` must be given: chars for STRING, bytes for the others. */
export const SIZED_TYPES: ReadonlySet<FieldType> = new Set<FieldType>([
  'STRING',
  'BINARY',
  'BCD',
  'SET',
  'FILL',
]);

/** A sub-field of an unsigned integer bit field (C12.19 *_BFLD): value = (raw >> shift) & (2^width - 1). */
export interface BitField {
  name: string;
  shift: number;
  width: number;
}

export interface ScalarField {
  name: string;
  type: FieldType;
  /** STRING: characters; BINARY/BCD/SET/FILL: bytes. Ignored by the other types. */
  size?: number;
  /** Array of `count` elements (C12.19 ARRAY[n] OF ...). */
  count?: number;
  /** Bit field sub-fields; allowed on UINT8..UINT48 only. The value becomes {sub: number}. */
  bits?: readonly BitField[];
  /**
   * BINARY only, last top-level field: takes every remaining byte (ST7 PARM, ST8 RESP_DATA,
   * whose length the request decides).
   */
  rest?: boolean;
}

/** A nested record (C12.19 PACKED RECORD), optionally repeated (ST42 passwords, ST44 entries). */
export interface GroupField {
  name: string;
  group: readonly FieldDef[];
  count?: number;
}

export type FieldDef = ScalarField | GroupField;

export interface TableLayout {
  /** Table id as on the wire: STn = n, MTn = 2048 + n. */
  id: number;
  name: string;
  fields: readonly FieldDef[];
}

export type DataOrder = 'little' | 'big';

/** ST0 CHAR_FORMAT values this engine encodes: 1 = ISO 646 (7-bit), 2 = ISO 8859-1 (Latin-1). */
export const CharFormat = { iso646: 1, latin1: 2 } as const;
export type CharFormatValue = (typeof CharFormat)[keyof typeof CharFormat];

/** ST0 TM_FORMAT values (docs/c1218.md §3 "Byte order and time format"). 0 = no clock is not a codec format. */
export const TmFormat = { bcd: 1, uint8: 2, uint32Minutes: 3, uint32Seconds: 4 } as const;
export type TmFormatValue = (typeof TmFormat)[keyof typeof TmFormat];

/** ST0 ID_FORM: 0 = identifiers are STRING, 1 = BCD (docs/c1218.md §3 ST0, ST1, ST5). */
export type IdForm = 0 | 1;

/** The narrow context a table codec gets: the four ST0 settings that change bytes on the wire. */
export interface CodecContext {
  dataOrder: DataOrder;
  charFormat: CharFormatValue;
  tmFormat: TmFormatValue;
  idForm: IdForm;
}

export const DEFAULT_CODEC_CONTEXT: Readonly<CodecContext> = {
  // Little-endian is what termineter assumes before it has read ST0 (docs/c1218.md §3).
  dataOrder: 'little',
  charFormat: CharFormat.iso646,
  // TM_FORMAT 2 is the layout the ST52 source describes (docs/c1218.md §3 "Other tables").
  tmFormat: TmFormat.uint8,
  idForm: 0,
};

/** A local date-time as its calendar fields; `year` is the full year (e.g. 2026). */
export interface LTime {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
}

export type BitValues = { [sub: string]: number };

/**
 * Decoded values by type: integers -> number (bit fields -> {sub: number}), BOOL -> boolean,
 * STRING -> string (trailing 0x20 pad removed), BINARY -> Buffer, BCD -> string of decimal digits
 * (2 per byte), LTIME -> LTime, SET -> ascending item numbers (bit i of byte p = item 8p+i),
 * arrays -> arrays, groups -> records. FILL fields do not appear in records.
 */
export type FieldValue =
  | number
  | boolean
  | string
  | Buffer
  | LTime
  | BitValues
  | readonly number[]
  | TableRecord
  | readonly FieldValue[];

export interface TableRecord {
  [name: string]: FieldValue;
}

/** LTIME byte length per TM_FORMAT [T `LTIME_LENGTH`, docs/c1218.md §3]. */
export function ltimeSize(tmFormat: TmFormatValue): number {
  switch (tmFormat) {
    case 1:
    case 2:
      return 6;
    case 3:
      return 5;
    case 4:
      return 4;
  }
}

export function isGroup(f: FieldDef): f is GroupField {
  return (f as GroupField).group !== undefined;
}

/** Bytes of one element of a scalar field (ignoring `count`). */
export function scalarSize(f: ScalarField, ctx: CodecContext): number {
  const w = INTEGER_WIDTH[f.type];
  if (w !== undefined) return w;
  switch (f.type) {
    case 'BOOL':
      return 1;
    case 'LTIME':
      return ltimeSize(ctx.tmFormat);
    default:
      // STRING is one byte per char for the supported CHAR_FORMATs (ISO 646, Latin-1).
      return f.size ?? 0;
  }
}

/** Bytes taken by a field including its array count; a `rest` field counts 0 here. */
export function fieldSize(f: FieldDef, ctx: CodecContext): number {
  const n = f.count ?? 1;
  if (isGroup(f)) {
    let s = 0;
    for (const g of f.group) s += fieldSize(g, ctx);
    return s * n;
  }
  if (f.rest) return 0;
  return scalarSize(f, ctx) * n;
}

/** Fixed byte size of a layout (a trailing `rest` field adds whatever follows). */
export function layoutSize(layout: TableLayout, ctx: CodecContext): number {
  let s = 0;
  for (const f of layout.fields) s += fieldSize(f, ctx);
  return s;
}

/** True when the layout ends in a variable-length `rest` field. */
export function hasRest(layout: TableLayout): boolean {
  const last = layout.fields[layout.fields.length - 1];
  return last !== undefined && !isGroup(last) && last.rest === true;
}

function invalid(path: string, message: string): never {
  throw new SimError(ErrorCode.ConfigInvalid, `${path}: ${message}`, { path });
}

function validateFields(fields: readonly FieldDef[], path: string, topLevel: boolean): void {
  const names = new Set<string>();
  fields.forEach((f, i) => {
    const p = `${path}.${f.name || `#${i}`}`;
    if (typeof f.name !== 'string' || f.name.length === 0) invalid(p, 'field name is empty');
    if (names.has(f.name)) invalid(p, 'duplicate field name');
    names.add(f.name);
    if (f.count !== undefined && (!Number.isInteger(f.count) || f.count < 0 || f.count > 0xffff))
      invalid(p, `count ${f.count} is not an integer 0..65535`);
    if (isGroup(f)) {
      if (f.group.length === 0) invalid(p, 'group has no fields');
      validateFields(f.group, p, false);
      return;
    }
    if (!(FIELD_TYPES as readonly string[]).includes(f.type)) invalid(p, `unknown type ${String(f.type)}`);
    if (SIZED_TYPES.has(f.type) && !f.rest) {
      if (f.size === undefined || !Number.isInteger(f.size) || f.size < 1 || f.size > 0xffff)
        invalid(p, `${f.type} needs an integer size 1..65535`);
    }
    if (f.rest) {
      if (f.type !== 'BINARY') invalid(p, 'only BINARY may take the rest of the table');
      if (!topLevel || i !== fields.length - 1) invalid(p, 'a rest field must be the last top-level field');
      if (f.count !== undefined) invalid(p, 'a rest field cannot be an array');
    }
    if (f.bits) {
      const width = INTEGER_WIDTH[f.type];
      if (width === undefined || f.type.startsWith('INT')) invalid(p, 'bits are allowed on UINT types only');
      let used = 0;
      const subNames = new Set<string>();
      for (const b of f.bits) {
        if (!b.name || subNames.has(b.name)) invalid(p, `bad or duplicate sub-field ${b.name}`);
        subNames.add(b.name);
        if (!Number.isInteger(b.shift) || !Number.isInteger(b.width) || b.width < 1 || b.shift < 0)
          invalid(`${p}.${b.name}`, 'shift/width must be integers, width >= 1');
        if (b.shift + b.width > width * 8) invalid(`${p}.${b.name}`, `does not fit in ${width * 8} bits`);
        // Overlap check over at most 48 bits: use arithmetic, not 32-bit operators.
        const mask = 2 ** (b.shift + b.width) - 2 ** b.shift;
        if (overlaps(used, mask)) invalid(`${p}.${b.name}`, 'overlaps another sub-field');
        used += mask;
      }
    }
  });
}

function overlaps(a: number, b: number): boolean {
  // a and b are sums of distinct powers of two below 2^48; split into 24-bit halves.
  const lo = (x: number): number => x % 0x1000000;
  const hi = (x: number): number => Math.floor(x / 0x1000000);
  return (lo(a) & lo(b)) !== 0 || (hi(a) & hi(b)) !== 0;
}

/**
 * Layouts already found well formed. Layouts are data that is built once and then only read
 * (a profile's are per-profile constants, shared by every connection's table engine), so the
 * same object need not be walked again each time an engine registers it. A layout that is
 * changed after it was validated is a new layout only if it is a new object.
 */
const validLayouts = new WeakSet<TableLayout>();

/** Throw SimError(ConfigInvalid) naming the field path unless the layout is well formed. */
export function validateLayout(layout: TableLayout): void {
  if (validLayouts.has(layout)) return;
  const path = layout.name || `table ${layout.id}`;
  if (!Number.isInteger(layout.id) || layout.id < 0 || layout.id > 0xffff)
    invalid(path, `table id ${layout.id} is not a 16-bit integer`);
  validateFields(layout.fields, path, true);
  validLayouts.add(layout);
}
