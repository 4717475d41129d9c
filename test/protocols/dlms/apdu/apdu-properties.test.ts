import fc from 'fast-check';
import { isDeepStrictEqual } from 'node:util';
import { fromHex } from '../../../../src/core/bytes';
import { SimError } from '../../../../src/core/errors';
import { APDU_DECODERS, decodeApdu, encodeApdu, type Apdu } from '../../../../src/protocols/dlms/apdu';
import { apduArb } from './arbitraries';

/**
 * Properties over every APDU kind: encode/decode are inverse on random values, and arbitrary or
 * mutated bytes always decode to a value or a coded SimError (never another exception, never a
 * hang). The fuzz loop avoids `expect` per run to keep 100,000 runs within seconds.
 */

/** Documented vectors (docs/dlms.md §4, §8) seed the mutation corpus. */
const VECTORS = [
  '601DA109060760857405080101BE10040E01000000065F1F0400007E1F04B0',
  '6036A1090607608574050801018A0207808B0760857405080201AC0A80083132333435363738BE10040E01000000065F1F0400007E1F04B0',
  '6129A109060760857405080101A203020100A305A103020100BE10040E0800065F1F040000501F01F40007',
  '611FA109060760857405080101A203020101A305A103020101BE0604040E010601',
  '6142A109060760857405080101A203020100A305A10302010E88020780890760857405080205AA0A8008503677524A323146BE10040E0800065F1F040000501F01F40007',
  '6203800100',
  '6303800100',
  'C001C1000100002B0100FF0200',
  'C401C1000600001391',
  'C401C10101',
  'C002C100000001',
  'C003C102000100002A0000FF020000080000010000FF0200',
  'C403C10200091049534B313033303737373736343336360009' + '0C07E50603040E091700FFC400',
  'C101C100080000010000FF0200090C07E50118FF0E303950FFC400',
  'C501C100',
  'C701C00000',
  'C701C0000101FA',
  'C001C100070100630100FF020101020402041200080906000001' +
    '0000FF0F02120000090C07E10A0107000000' +
    '00FFC480090C07E10A010701000000FFC4800100',
  'C402C1000000000100020150',
  'C402C101000000F300020100',
  'D8010600000005',
].map((h) => fromHex(h));

const corpus: Buffer[] = [
  ...VECTORS,
  ...fc.sample(apduArb, { numRuns: 400, seed: 20240601 }).map(encodeApdu),
];

type Mutation = { op: 0 | 1 | 2 | 3 | 4; at: number; byte: number };
const mutation: fc.Arbitrary<Mutation> = fc.record({
  op: fc.constantFrom(0 as const, 1 as const, 2 as const, 3 as const, 4 as const),
  at: fc.nat(),
  byte: fc
    .constantFrom(0x00, 0x01, 0x7f, 0x80, 0x81, 0x82, 0x84, 0xff, 0x13, 0x02)
    .chain((b) => fc.oneof(fc.constant(b), fc.integer({ min: 0, max: 255 }))),
});

function mutate(input: Buffer, ms: Mutation[]): Buffer {
  let b = Buffer.from(input);
  for (const m of ms) {
    const at = b.length === 0 ? 0 : m.at % b.length;
    if (m.op === 0 && b.length > 0)
      b[at] = m.byte; // overwrite
    else if (m.op === 1 && b.length > 0)
      b[at] = b[at]! ^ (1 << (m.byte % 8)); // flip a bit
    else if (m.op === 2)
      b = Buffer.concat([b.subarray(0, at), Buffer.from([m.byte]), b.subarray(at)]); // insert
    else if (m.op === 3)
      b = Buffer.concat([b.subarray(0, at), b.subarray(at + 1)]); // delete
    else b = b.subarray(0, at); // truncate
  }
  return b;
}

const input: fc.Arbitrary<Uint8Array> = fc.oneof(
  fc.uint8Array({ maxLength: 64 }),
  fc
    .tuple(fc.constantFrom(...APDU_DECODERS.keys()), fc.uint8Array({ maxLength: 40 }))
    .map(([tag, rest]) => Buffer.concat([Buffer.from([tag]), rest])),
  fc
    .tuple(fc.nat({ max: corpus.length - 1 }), fc.array(mutation, { minLength: 1, maxLength: 4 }))
    .map(([i, ms]) => mutate(corpus[i]!, ms)),
);

describe('APDU properties', () => {
  it('decode(encode(apdu)) equals apdu for random APDUs of every kind', () => {
    fc.assert(
      fc.property(apduArb, (a) => {
        expect(decodeApdu(encodeApdu(a))).toEqual(a);
      }),
      { numRuns: 1000 },
    );
  });

  it('every documented vector decodes and re-encodes to itself', () => {
    for (const v of VECTORS) expect(encodeApdu(decodeApdu(v)).equals(v)).toBe(true);
  });

  it('100,000 random and mutated byte strings yield a value or a coded SimError', () => {
    let decoded = 0;
    let rejected = 0;
    fc.assert(
      fc.property(input, (bytes) => {
        let apdu: Apdu;
        try {
          apdu = decodeApdu(bytes);
        } catch (e) {
          if (!(e instanceof SimError) || e.layer !== 'framing' || typeof e.context['path'] !== 'string') {
            throw new Error(`not a coded decode error: ${String(e)}`);
          }
          rejected++;
          return;
        }
        decoded++;
        // Whatever decodes re-encodes, and the re-encoding decodes to the same value.
        if (!isDeepStrictEqual(decodeApdu(encodeApdu(apdu)), apdu))
          throw new Error('re-encoding changed the value');
      }),
      { numRuns: 100_000 },
    );
    // The corpus arm must reach the decoders' deep paths, not only fail at the first byte.
    expect(decoded).toBeGreaterThan(5_000);
    expect(rejected).toBeGreaterThan(5_000);
  });

  it('hostile counts in every list field fail fast', () => {
    for (const h of [
      'C003C1 847FFFFFFF',
      'C403C1 847FFFFFFF',
      'C104C1 847FFFFFFF',
      'C505C1 847FFFFFFF',
      'C303C1 847FFFFFFF',
      'C703C1 847FFFFFFF',
      'C401C1 00 01 847FFFFFFF',
      'C401C1 00 13 02 847FFFFFFF',
    ]) {
      expect(() => decodeApdu(fromHex(h))).toThrow(expect.objectContaining({ code: 203 }));
    }
  });
});
