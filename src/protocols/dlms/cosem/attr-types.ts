import type { Data, DataTypeName } from '../axdr/types';

/**
 * The type of a COSEM attribute or method parameter, as the interface-class rows declare it
 * (docs/dlms.md §6). One description drives SET/ACTION type checks on the server (a value that
 * does not conform is answered type-unmatched, 12) and documents what a client gets back.
 *
 * - a Data type name (`'long-unsigned'`), meaning exactly that tag;
 * - `{ octets: n }`: an octet-string of exactly n octets (logical names 6, date-times 12);
 * - `{ structure: [...] }`: a structure with exactly these fields;
 * - `{ arrayOf: t }`: an array whose every element conforms to t;
 * - `{ oneOf: [...] }`: any of several types (a CHOICE, e.g. Register value);
 * - `'any'`: any Data (the Data class value is CHOICE of every type).
 */
export type AttrType =
  | DataTypeName
  | 'any'
  | { readonly octets: number }
  | { readonly structure: readonly AttrType[] }
  | { readonly arrayOf: AttrType }
  | { readonly oneOf: readonly AttrType[] };

/** Logical name: octet-string(6) (docs/dlms.md §6 "Attribute 1 is always logical_name"). */
export const LOGICAL_NAME: AttrType = { octets: 6 };
/** A date-time carried as octet-string `09 0C` (docs/dlms.md §5 "date-time"). */
export const DATE_TIME_OCTETS: AttrType = { octets: 12 };
/** A Register value: any simple (non-container) type (modelled: the Blue Book CHOICE is not quoted in docs/dlms.md). */
export const REGISTER_VALUE: AttrType = {
  oneOf: [
    'integer',
    'long',
    'double-long',
    'long64',
    'unsigned',
    'long-unsigned',
    'double-long-unsigned',
    'long64-unsigned',
    'float32',
    'float64',
    'enum',
    'boolean',
    'bit-string',
    'octet-string',
    'visible-string',
    'utf8-string',
    'bcd',
    'null',
  ],
};
/** capture_object_definition {long-unsigned class, octet-string LN, integer attr, long-unsigned data-index}. */
export const CAPTURE_OBJECT: AttrType = {
  structure: ['long-unsigned', LOGICAL_NAME, 'integer', 'long-unsigned'],
};

/** Whether a value conforms to a declared type. */
export function conformsTo(d: Data, t: AttrType): boolean {
  return typeMismatch(d, t, '') === undefined;
}

/**
 * The path of the first place where `d` does not conform to `t` (`''` is the value itself,
 * `.items[2]` a nested field), or undefined when it conforms.
 */
export function typeMismatch(d: Data, t: AttrType, path = ''): string | undefined {
  if (t === 'any') return undefined;
  if (typeof t === 'string') return d.type === t ? undefined : path || '<value>';
  if ('octets' in t) {
    return d.type === 'octet-string' && d.value.length === t.octets ? undefined : path || '<value>';
  }
  if ('oneOf' in t)
    return t.oneOf.some((alt) => typeMismatch(d, alt, path) === undefined) ? undefined : path || '<value>';
  if ('structure' in t) {
    if (d.type !== 'structure' || d.items.length !== t.structure.length) return path || '<value>';
    for (let i = 0; i < t.structure.length; i++) {
      const m = typeMismatch(d.items[i]!, t.structure[i]!, `${path}.items[${i}]`);
      if (m !== undefined) return m;
    }
    return undefined;
  }
  if (d.type !== 'array') return path || '<value>';
  for (let i = 0; i < d.items.length; i++) {
    const m = typeMismatch(d.items[i]!, t.arrayOf, `${path}.items[${i}]`);
    if (m !== undefined) return m;
  }
  return undefined;
}

/** A short human form of a type, for docs, errors and traces: `structure{integer, enum}`. */
export function describeType(t: AttrType): string {
  if (typeof t === 'string') return t;
  if ('octets' in t) return `octet-string(${t.octets})`;
  if ('oneOf' in t) return `choice{${t.oneOf.map(describeType).join(' | ')}}`;
  if ('structure' in t) return `structure{${t.structure.map(describeType).join(', ')}}`;
  return `array of ${describeType(t.arrayOf)}`;
}
