/**
 * The A-XDR `Data` CHOICE as a typed union (docs/dlms.md §5; tag numbers from GXPY
 * `enums/DataType.py`). Values are typed, not presentation: integers up to 32 bits are numbers,
 * 64-bit integers are bigints, strings are strings, octet-based values are Buffers. A COSEM
 * layer maps attributes onto these; a client renders them.
 */

/** Tag byte of every Data choice (docs/dlms.md §5). `dont-care` (0xFF) is the Blue Book's [255]. */
export const DataTag = {
  null: 0x00,
  array: 0x01,
  structure: 0x02,
  boolean: 0x03,
  'bit-string': 0x04,
  'double-long': 0x05,
  'double-long-unsigned': 0x06,
  'octet-string': 0x09,
  'visible-string': 0x0a,
  'utf8-string': 0x0c,
  bcd: 0x0d,
  integer: 0x0f,
  long: 0x10,
  unsigned: 0x11,
  'long-unsigned': 0x12,
  'compact-array': 0x13,
  long64: 0x14,
  'long64-unsigned': 0x15,
  enum: 0x16,
  float32: 0x17,
  float64: 0x18,
  'date-time': 0x19,
  date: 0x1a,
  time: 0x1b,
  'dont-care': 0xff,
} as const;

export type DataTypeName = keyof typeof DataTag;

export const DATA_TYPE_BY_TAG: ReadonlyMap<number, DataTypeName> = new Map(
  (Object.keys(DataTag) as DataTypeName[]).map((name) => [DataTag[name], name]),
);

/** Types whose values are not containers (everything a compact array can describe as a leaf). */
export type SimpleTypeName = Exclude<DataTypeName, 'array' | 'structure' | 'compact-array'>;

/**
 * Compact-array contents-description (Blue Book TypeDescription): an array is described by its
 * fixed element count (Unsigned16) and one element type, a structure by its field types.
 */
export type TypeDescription =
  | { readonly type: 'array'; readonly count: number; readonly element: TypeDescription }
  | { readonly type: 'structure'; readonly fields: readonly TypeDescription[] }
  | { readonly type: SimpleTypeName };

export type Data =
  | { readonly type: 'null' }
  | { readonly type: 'array'; readonly items: readonly Data[] }
  | { readonly type: 'structure'; readonly items: readonly Data[] }
  | { readonly type: 'boolean'; readonly value: boolean }
  /** `bits` is the length in bits; `data` holds ceil(bits/8) bytes, bit 0 = MSB of data[0]. */
  | { readonly type: 'bit-string'; readonly bits: number; readonly data: Buffer }
  | { readonly type: 'double-long'; readonly value: number }
  | { readonly type: 'double-long-unsigned'; readonly value: number }
  | { readonly type: 'octet-string'; readonly value: Buffer }
  /** Decoded as latin1 so that any byte survives a round trip. */
  | { readonly type: 'visible-string'; readonly value: string }
  | { readonly type: 'utf8-string'; readonly value: string }
  /** One octet holding two BCD digits (Blue Book: bcd [13] IMPLICIT Integer8); kept as 0..255. */
  | { readonly type: 'bcd'; readonly value: number }
  | { readonly type: 'integer'; readonly value: number }
  | { readonly type: 'long'; readonly value: number }
  | { readonly type: 'unsigned'; readonly value: number }
  | { readonly type: 'long-unsigned'; readonly value: number }
  /** Items are full typed values; on the wire they travel untagged after one description. */
  | { readonly type: 'compact-array'; readonly description: TypeDescription; readonly items: readonly Data[] }
  | { readonly type: 'long64'; readonly value: bigint }
  | { readonly type: 'long64-unsigned'; readonly value: bigint }
  | { readonly type: 'enum'; readonly value: number }
  | { readonly type: 'float32'; readonly value: number }
  | { readonly type: 'float64'; readonly value: number }
  /** 12 octets, see date-time.ts for the field layout. */
  | { readonly type: 'date-time'; readonly value: Buffer }
  /** 5 octets: year(2) month day day-of-week. */
  | { readonly type: 'date'; readonly value: Buffer }
  /** 4 octets: hour minute second hundredths. */
  | { readonly type: 'time'; readonly value: Buffer }
  | { readonly type: 'dont-care' };

/** The Data member with a given type name, e.g. `DataOf<'long-unsigned'>`. */
export type DataOf<T extends DataTypeName> = Extract<Data, { readonly type: T }>;

/** Fixed content sizes of the types that carry no length prefix (docs/dlms.md §5). */
export const FIXED_SIZE: Readonly<Partial<Record<DataTypeName, number>>> = {
  null: 0,
  'dont-care': 0,
  boolean: 1,
  'double-long': 4,
  'double-long-unsigned': 4,
  bcd: 1,
  integer: 1,
  long: 2,
  unsigned: 1,
  'long-unsigned': 2,
  long64: 8,
  'long64-unsigned': 8,
  enum: 1,
  float32: 4,
  float64: 8,
  'date-time': 12,
  date: 5,
  time: 4,
};
