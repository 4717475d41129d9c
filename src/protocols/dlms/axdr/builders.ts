import { ErrorCode, SimError } from '../../../core/errors';
import { encodeCosemDate, encodeCosemDateTime, encodeCosemTime } from './date-time';
import type { CosemDate, CosemDateTime, CosemTime } from './date-time';
import type { Data, DataOf, DataTypeName, TypeDescription } from './types';

function octets(v: Uint8Array): Buffer {
  return Buffer.isBuffer(v) ? v : Buffer.from(v);
}

/**
 * Short constructors for typed values: `axdr.u32(5009)`, `axdr.struct(axdr.u16(8), axdr.octets(ln))`.
 * They build values only; range checks happen once, in the encoder, with the value's path.
 */
export const axdr = {
  null: (): DataOf<'null'> => ({ type: 'null' }),
  dontCare: (): DataOf<'dont-care'> => ({ type: 'dont-care' }),
  bool: (value: boolean): DataOf<'boolean'> => ({ type: 'boolean', value }),
  /** `data` holds ceil(bits/8) octets, bit 0 = MSB of the first octet. */
  bits: (bits: number, data: Uint8Array): DataOf<'bit-string'> => ({
    type: 'bit-string',
    bits,
    data: octets(data),
  }),
  i8: (value: number): DataOf<'integer'> => ({ type: 'integer', value }),
  i16: (value: number): DataOf<'long'> => ({ type: 'long', value }),
  i32: (value: number): DataOf<'double-long'> => ({ type: 'double-long', value }),
  i64: (value: bigint): DataOf<'long64'> => ({ type: 'long64', value }),
  u8: (value: number): DataOf<'unsigned'> => ({ type: 'unsigned', value }),
  u16: (value: number): DataOf<'long-unsigned'> => ({ type: 'long-unsigned', value }),
  u32: (value: number): DataOf<'double-long-unsigned'> => ({ type: 'double-long-unsigned', value }),
  u64: (value: bigint): DataOf<'long64-unsigned'> => ({ type: 'long64-unsigned', value }),
  enum: (value: number): DataOf<'enum'> => ({ type: 'enum', value }),
  bcd: (value: number): DataOf<'bcd'> => ({ type: 'bcd', value }),
  f32: (value: number): DataOf<'float32'> => ({ type: 'float32', value }),
  f64: (value: number): DataOf<'float64'> => ({ type: 'float64', value }),
  octets: (value: Uint8Array): DataOf<'octet-string'> => ({ type: 'octet-string', value: octets(value) }),
  visible: (value: string): DataOf<'visible-string'> => ({ type: 'visible-string', value }),
  utf8: (value: string): DataOf<'utf8-string'> => ({ type: 'utf8-string', value }),
  array: (...items: Data[]): DataOf<'array'> => ({ type: 'array', items }),
  struct: (...items: Data[]): DataOf<'structure'> => ({ type: 'structure', items }),
  compactArray: (description: TypeDescription, items: Data[]): DataOf<'compact-array'> => ({
    type: 'compact-array',
    description,
    items,
  }),
  /** Tagged date-time (0x19). Attributes such as Clock.time use `dateTimeOctets` instead. */
  dateTime: (v: CosemDateTime | Uint8Array): DataOf<'date-time'> => ({
    type: 'date-time',
    value: v instanceof Uint8Array ? octets(v) : encodeCosemDateTime(v),
  }),
  /** A date-time as the octet-string `09 0C ...` COSEM attributes carry (docs/dlms.md §5). */
  dateTimeOctets: (v: CosemDateTime): DataOf<'octet-string'> => ({
    type: 'octet-string',
    value: encodeCosemDateTime(v),
  }),
  date: (v: CosemDate | Uint8Array): DataOf<'date'> => ({
    type: 'date',
    value: v instanceof Uint8Array ? octets(v) : encodeCosemDate(v),
  }),
  time: (v: CosemTime | Uint8Array): DataOf<'time'> => ({
    type: 'time',
    value: v instanceof Uint8Array ? octets(v) : encodeCosemTime(v),
  }),
};

export function isDataOf<T extends DataTypeName>(d: Data, type: T): d is DataOf<T> {
  return d.type === type;
}

/**
 * Narrow a value to the type a caller requires, or fail with a coded error naming the path
 * (e.g. a client reading `Clock.time` that expects an octet-string). ServiceInvalidResponse:
 * a peer answered with a value of the wrong type.
 */
export function expectData<T extends DataTypeName>(d: Data, type: T, path = 'data'): DataOf<T> {
  if (d.type !== type) {
    throw new SimError(ErrorCode.ServiceInvalidResponse, `${path}: expected ${type}, got ${d.type}`, {
      path,
      expected: type,
      actual: d.type,
    });
  }
  return d as DataOf<T>;
}
