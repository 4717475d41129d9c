import fc from 'fast-check';
import type { Data, SimpleTypeName, TypeDescription } from '../../../../src/protocols/dlms/axdr/types';

/** Random typed A-XDR values, nested, for round-trip properties. */

const buf = (min: number, max: number): fc.Arbitrary<Buffer> =>
  fc.uint8Array({ minLength: min, maxLength: max }).map((a) => Buffer.from(a));

const latin1 = fc
  .array(fc.integer({ min: 0, max: 255 }), { maxLength: 40 })
  .map((codes) => String.fromCharCode(...codes));

const leafArbs: Record<SimpleTypeName, fc.Arbitrary<Data>> = {
  null: fc.constant({ type: 'null' }),
  'dont-care': fc.constant({ type: 'dont-care' }),
  boolean: fc.boolean().map((value) => ({ type: 'boolean', value })),
  'bit-string': fc
    .integer({ min: 0, max: 70 })
    .chain((bits) =>
      buf(Math.ceil(bits / 8), Math.ceil(bits / 8)).map((data): Data => ({ type: 'bit-string', bits, data })),
    ),
  'double-long': fc
    .integer({ min: -0x80000000, max: 0x7fffffff })
    .map((value) => ({ type: 'double-long', value })),
  'double-long-unsigned': fc
    .integer({ min: 0, max: 0xffffffff })
    .map((value) => ({ type: 'double-long-unsigned', value })),
  // Lengths up to 300 exercise the 1-, 2- (81 xx) and 3-octet (82 xx xx) length forms.
  'octet-string': buf(0, 300).map((value) => ({ type: 'octet-string', value })),
  'visible-string': latin1.map((value) => ({ type: 'visible-string', value })),
  'utf8-string': fc
    .string({ unit: 'grapheme', maxLength: 20 })
    .map((value) => ({ type: 'utf8-string', value })),
  bcd: fc.integer({ min: 0, max: 255 }).map((value) => ({ type: 'bcd', value })),
  integer: fc.integer({ min: -128, max: 127 }).map((value) => ({ type: 'integer', value })),
  long: fc.integer({ min: -0x8000, max: 0x7fff }).map((value) => ({ type: 'long', value })),
  unsigned: fc.integer({ min: 0, max: 255 }).map((value) => ({ type: 'unsigned', value })),
  'long-unsigned': fc.integer({ min: 0, max: 0xffff }).map((value) => ({ type: 'long-unsigned', value })),
  long64: fc.bigInt({ min: -(1n << 63n), max: (1n << 63n) - 1n }).map((value) => ({ type: 'long64', value })),
  'long64-unsigned': fc
    .bigInt({ min: 0n, max: (1n << 64n) - 1n })
    .map((value) => ({ type: 'long64-unsigned', value })),
  enum: fc.integer({ min: 0, max: 255 }).map((value) => ({ type: 'enum', value })),
  float32: fc.float().map((value) => ({ type: 'float32', value })),
  float64: fc.double().map((value) => ({ type: 'float64', value })),
  'date-time': buf(12, 12).map((value) => ({ type: 'date-time', value })),
  date: buf(5, 5).map((value) => ({ type: 'date', value })),
  time: buf(4, 4).map((value) => ({ type: 'time', value })),
};

export const leafArb: fc.Arbitrary<Data> = fc.oneof(...Object.values(leafArbs));

/** Leaf types a compact array can carry unambiguously (each element takes at least one octet). */
const COMPACT_LEAVES = (Object.keys(leafArbs) as SimpleTypeName[]).filter(
  (t) => t !== 'null' && t !== 'dont-care',
);

export const descriptionArb: fc.Arbitrary<TypeDescription> = fc.letrec<{ d: TypeDescription }>((tie) => ({
  d: fc.oneof(
    { depthSize: 'small', maxDepth: 3 },
    fc.constantFrom(...COMPACT_LEAVES).map((type): TypeDescription => ({ type })),
    fc
      .tuple(fc.integer({ min: 1, max: 3 }), tie('d'))
      .map(([count, element]): TypeDescription => ({ type: 'array', count, element })),
    fc
      .array(tie('d'), { minLength: 1, maxLength: 3 })
      .map((fields): TypeDescription => ({ type: 'structure', fields })),
  ),
})).d;

export function valueFor(desc: TypeDescription): fc.Arbitrary<Data> {
  if (desc.type === 'array') {
    return fc
      .array(valueFor(desc.element), { minLength: desc.count, maxLength: desc.count })
      .map((items): Data => ({ type: 'array', items }));
  }
  if (desc.type === 'structure') {
    return fc.tuple(...desc.fields.map(valueFor)).map((items): Data => ({ type: 'structure', items }));
  }
  return leafArbs[desc.type];
}

export const compactArrayArb: fc.Arbitrary<Data> = descriptionArb.chain((description) =>
  fc
    .array(valueFor(description), { maxLength: 4 })
    .map((items): Data => ({ type: 'compact-array', description, items })),
);

export const dataArb: fc.Arbitrary<Data> = fc.letrec<{ data: Data }>((tie) => ({
  data: fc.oneof(
    { depthSize: 'small', maxDepth: 4 },
    leafArb,
    fc.array(tie('data'), { maxLength: 5 }).map((items): Data => ({ type: 'array', items })),
    fc.array(tie('data'), { maxLength: 5 }).map((items): Data => ({ type: 'structure', items })),
    compactArrayArb,
  ),
})).data;
