import fc from 'fast-check';
import type { Data } from '../../../../src/protocols/dlms/axdr/types';

/** Random A-XDR values for the COSEM decoders' property tests (kept small: shapes matter here). */
const leaf: fc.Arbitrary<Data> = fc.oneof(
  fc.constant<Data>({ type: 'null' }),
  fc.boolean().map((value): Data => ({ type: 'boolean', value })),
  fc.integer({ min: -128, max: 127 }).map((value): Data => ({ type: 'integer', value })),
  fc.integer({ min: 0, max: 255 }).map((value): Data => ({ type: 'unsigned', value })),
  fc.integer({ min: 0, max: 255 }).map((value): Data => ({ type: 'enum', value })),
  fc.integer({ min: 0, max: 0xffff }).map((value): Data => ({ type: 'long-unsigned', value })),
  fc.integer({ min: 0, max: 0xffffffff }).map((value): Data => ({ type: 'double-long-unsigned', value })),
  fc.integer({ min: -0x80000000, max: 0x7fffffff }).map((value): Data => ({ type: 'double-long', value })),
  fc.uint8Array({ maxLength: 14 }).map((a): Data => ({ type: 'octet-string', value: Buffer.from(a) })),
  fc
    .constantFrom(6, 12)
    .chain((n) =>
      fc
        .uint8Array({ minLength: n, maxLength: n })
        .map((a): Data => ({ type: 'octet-string', value: Buffer.from(a) })),
    ),
);

export const dataArb: fc.Arbitrary<Data> = fc.letrec<{ d: Data }>((tie) => ({
  d: fc.oneof(
    { depthSize: 'small', maxDepth: 5 },
    leaf,
    fc.array(tie('d'), { maxLength: 5 }).map((items): Data => ({ type: 'array', items })),
    fc.array(tie('d'), { maxLength: 5 }).map((items): Data => ({ type: 'structure', items })),
  ),
})).d;

/** Replace one node of a value (depth-first index) by another: a "mutated valid" input. */
export function mutate(d: Data, at: number, replacement: Data): Data {
  let n = at;
  const walk = (x: Data): Data => {
    if (n-- === 0) return replacement;
    if (x.type === 'array' || x.type === 'structure') return { ...x, items: x.items.map(walk) };
    return x;
  };
  return walk(d);
}
