import fc from 'fast-check';
import { ErrorCode, SimError } from '../../../src/core/errors';
import { mp, mt, PsemCode, type SessionAccess } from '../../../src/protocols/c1219/contract';
import {
  type BitField,
  type CodecContext,
  type FieldDef,
  type FieldType,
  type FieldValue,
  type ScalarField,
  type TableLayout,
  type TableRecord,
  INTEGER_WIDTH,
  isGroup,
  layoutSize,
  validateLayout,
} from '../../../src/protocols/c1219/field-types';
import { ltimeFromEpochMs } from '../../../src/protocols/c1219/ltime';
import {
  decodeProcedureRequest,
  decodeProcedureResponse,
  encodeProcedureRequest,
  encodeProcedureResponse,
} from '../../../src/protocols/c1219/procedure-codec';
import { decodeGenConfig } from '../../../src/protocols/c1219/standard-layouts';
import {
  createMemoryModeStatus,
  decodeSetDateTime,
  encodeSetDateTime,
} from '../../../src/protocols/c1219/standard-procedures';
import { decodeTable, encodeTable } from '../../../src/protocols/c1219/table-codec';
import { createTableEngine } from '../../../src/protocols/c1219/table-engine';
import { session } from './helpers';

// ---------------------------------------------------------------------------------------------
// Random layouts and records

const ctxArb: fc.Arbitrary<CodecContext> = fc.record({
  dataOrder: fc.constantFrom('little' as const, 'big' as const),
  charFormat: fc.constantFrom(1 as const, 2 as const),
  tmFormat: fc.constantFrom(1 as const, 2 as const, 3 as const, 4 as const),
  idForm: fc.constantFrom(0 as const, 1 as const),
});

const SCALAR_TYPES: FieldType[] = [
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
];

/** Consecutive sub-fields with random widths and gaps inside `totalBits`. */
function bitsArb(totalBits: number): fc.Arbitrary<BitField[]> {
  return fc
    .array(fc.tuple(fc.integer({ min: 0, max: 3 }), fc.integer({ min: 1, max: 12 })), { maxLength: 5 })
    .map((parts) => {
      const out: BitField[] = [];
      let shift = 0;
      for (const [gap, width] of parts) {
        shift += gap;
        if (shift + width > totalBits) break;
        out.push({ name: `b${out.length}`, shift, width });
        shift += width;
      }
      return out;
    });
}

function scalarArb(name: string): fc.Arbitrary<ScalarField> {
  return fc.constantFrom(...SCALAR_TYPES).chain((type) => {
    const count = fc.option(fc.integer({ min: 0, max: 3 }), { nil: undefined });
    const size = fc.integer({ min: 1, max: 6 });
    const width = INTEGER_WIDTH[type];
    if (width !== undefined && type.startsWith('UINT'))
      return fc
        .record({ count, bits: fc.option(bitsArb(width * 8), { nil: undefined }) })
        .map(({ count: c, bits }) => {
          const f: ScalarField = { name, type };
          if (c !== undefined) f.count = c;
          if (bits && bits.length > 0) f.bits = bits;
          return f;
        });
    return fc.record({ count, size }).map(({ count: c, size: s }) => {
      const f: ScalarField = { name, type };
      if (['STRING', 'BINARY', 'BCD', 'SET', 'FILL'].includes(type)) f.size = s;
      if (c !== undefined) f.count = c;
      return f;
    });
  });
}

const fieldsArb = (depth: number): fc.Arbitrary<FieldDef[]> =>
  fc.integer({ min: 1, max: 6 }).chain((n) =>
    fc.tuple(
      ...Array.from({ length: n }, (_, i): fc.Arbitrary<FieldDef> => {
        const name = `F${i}`;
        if (depth === 0) return scalarArb(name);
        return fc.oneof(
          { weight: 4, arbitrary: scalarArb(name) },
          {
            weight: 1,
            arbitrary: fc
              .tuple(fieldsArb(depth - 1), fc.option(fc.integer({ min: 0, max: 2 }), { nil: undefined }))
              .map(([group, count]) => (count === undefined ? { name, group } : { name, group, count })),
          },
        );
      }),
    ),
  );

const layoutArb: fc.Arbitrary<TableLayout> = fc.tuple(fieldsArb(1), fc.boolean()).map(([fields, rest]) => ({
  id: mt(1),
  name: 'RANDOM',
  fields: rest ? [...fields, { name: 'REST', type: 'BINARY' as const, rest: true }] : fields,
}));

const LTIME_MIN = Date.UTC(1990, 0, 1);
const LTIME_MAX = Date.UTC(2089, 11, 31, 23, 59, 59);

function scalarValueArb(f: ScalarField, ctx: CodecContext): fc.Arbitrary<FieldValue> {
  const width = INTEGER_WIDTH[f.type];
  if (width !== undefined) {
    if (f.bits) {
      const rec: Record<string, fc.Arbitrary<number>> = {};
      for (const b of f.bits) rec[b.name] = fc.integer({ min: 0, max: 2 ** b.width - 1 });
      return fc.record(rec);
    }
    if (f.type.startsWith('INT'))
      return fc.integer({ min: -(2 ** (width * 8 - 1)), max: 2 ** (width * 8 - 1) - 1 });
    return fc.integer({ min: 0, max: 2 ** (width * 8) - 1 });
  }
  const size = f.size ?? 0;
  switch (f.type) {
    case 'BOOL':
      return fc.boolean();
    case 'STRING':
      return fc
        .array(fc.integer({ min: 0, max: ctx.charFormat === 1 ? 0x7f : 0xff }), { maxLength: size })
        .map((codes) => String.fromCharCode(...codes).replace(/ +$/, ''));
    case 'BINARY':
      return f.rest
        ? fc.uint8Array({ maxLength: 8 }).map((a) => Buffer.from(a))
        : fc.uint8Array({ minLength: size, maxLength: size }).map((a) => Buffer.from(a));
    case 'BCD':
      return fc
        .array(fc.integer({ min: 0, max: 9 }), { minLength: size * 2, maxLength: size * 2 })
        .map((d) => d.join(''));
    case 'LTIME':
      return fc
        .integer({ min: LTIME_MIN / 1000, max: LTIME_MAX / 1000 })
        .map((s) => ltimeFromEpochMs(s * 1000));
    case 'SET':
      return fc
        .uniqueArray(fc.integer({ min: 0, max: size * 8 - 1 }))
        .map((a) => [...a].sort((x, y) => x - y));
    default:
      throw new Error(`no arbitrary for ${f.type}`);
  }
}

function recordArb(fields: readonly FieldDef[], ctx: CodecContext): fc.Arbitrary<TableRecord> {
  const rec: Record<string, fc.Arbitrary<FieldValue>> = {};
  for (const f of fields) {
    if (!isGroup(f) && f.type === 'FILL') continue;
    const one = isGroup(f) ? recordArb(f.group, ctx) : scalarValueArb(f, ctx);
    rec[f.name] = f.count === undefined ? one : fc.array(one, { minLength: f.count, maxLength: f.count });
  }
  return fc.record(rec);
}

const caseArb = fc
  .tuple(layoutArb, ctxArb)
  .chain(([layout, ctx]) => recordArb(layout.fields, ctx).map((record) => ({ layout, ctx, record })));

function expectCodedDecodeError(e: unknown): void {
  expect(e).toBeInstanceOf(SimError);
  expect([ErrorCode.DecodeTruncated, ErrorCode.DecodeInvalid, ErrorCode.DecodeTrailingBytes]).toContain(
    (e as SimError).code,
  );
}

describe('table codec properties', () => {
  it('decodeTable(encodeTable(x)) == x for random records of random layouts', () => {
    fc.assert(
      fc.property(caseArb, ({ layout, ctx, record }) => {
        validateLayout(layout);
        const bytes = encodeTable(layout, record, ctx);
        const restLen = record['REST'] instanceof Uint8Array ? record['REST'].length : 0;
        expect(bytes.length).toBe(layoutSize(layout, ctx) + restLen);
        expect(decodeTable(layout, bytes, ctx)).toEqual(record);
      }),
      { numRuns: 1000 },
    );
  });

  it('random bytes never crash the decoder: a record or a coded decode error', () => {
    fc.assert(
      fc.property(layoutArb, ctxArb, fc.uint8Array({ maxLength: 64 }), (layout, ctx, bytes) => {
        const copy = Buffer.from(bytes);
        try {
          const rec = decodeTable(layout, bytes, ctx);
          expect(typeof rec).toBe('object');
        } catch (e) {
          expectCodedDecodeError(e);
        }
        expect(Buffer.from(bytes)).toEqual(copy); // input untouched
      }),
      { numRuns: 2000 },
    );
  });

  it('mutated valid encodings decode to a record or a coded decode error', () => {
    fc.assert(
      fc.property(
        caseArb,
        fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 4 }),
        fc.integer({ min: -2, max: 2 }),
        ({ layout, ctx, record }, flips, lengthDelta) => {
          const bytes = encodeTable(layout, record, ctx);
          const mutated = Buffer.alloc(Math.max(0, bytes.length + lengthDelta));
          bytes.copy(mutated, 0, 0, Math.min(bytes.length, mutated.length));
          if (mutated.length > 0) for (const [pos, v] of flips) mutated[pos % mutated.length] = v;
          try {
            decodeTable(layout, mutated, ctx);
          } catch (e) {
            expectCodedDecodeError(e);
          }
        },
      ),
      { numRuns: 2000 },
    );
  });
});

describe('standard-table decoder properties', () => {
  const orderArb = fc.constantFrom('little' as const, 'big' as const);

  it('ST7/ST8 codecs round-trip and reject short input with a coded error only', () => {
    fc.assert(
      fc.property(
        fc.record({
          procedure: fc.integer({ min: 0, max: 2047 }),
          mfg: fc.boolean(),
          selector: fc.integer({ min: 0, max: 15 }),
          seq: fc.integer({ min: 0, max: 255 }),
          params: fc.uint8Array({ maxLength: 12 }).map((a) => Buffer.from(a)),
        }),
        fc.integer({ min: 0, max: 6 }),
        orderArb,
        fc.uint8Array({ maxLength: 8 }),
        (req, result, order, junk) => {
          expect(decodeProcedureRequest(encodeProcedureRequest(req, order), order)).toEqual(req);
          const res = { ...req, result, data: req.params };
          const { params: _p, ...rest } = res;
          expect(decodeProcedureResponse(encodeProcedureResponse(res, order), order)).toEqual(rest);
          for (const decode of [decodeProcedureRequest, decodeProcedureResponse]) {
            try {
              decode(junk, order);
            } catch (e) {
              expectCodedDecodeError(e);
            }
          }
        },
      ),
      { numRuns: 1000 },
    );
  });

  it('decodeGenConfig yields a record or a coded error for random and truncated input', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 80 }), (bytes) => {
        try {
          const st0 = decodeGenConfig(bytes);
          expect(typeof st0['NBR_PENDING']).toBe('number');
        } catch (e) {
          expectCodedDecodeError(e);
        }
      }),
      { numRuns: 2000 },
    );
  });

  it('SP10 parameters: encode/decode round-trip; random bytes give a request or undefined, never a throw', () => {
    fc.assert(
      fc.property(
        ctxArb,
        fc.integer({ min: LTIME_MIN / 1000, max: LTIME_MAX / 1000 }),
        fc.boolean(),
        fc.boolean(),
        fc.uint8Array({ maxLength: 10 }),
        (ctx, secs, dst, gmt, junk) => {
          const req = {
            setTime: true,
            setDate: dst,
            setQualifier: gmt,
            dateTime: ltimeFromEpochMs(secs * 1000),
            qualifier: { dst, gmt, tmZnApplied: false, dstApplied: false },
          };
          expect(decodeSetDateTime(encodeSetDateTime(req, ctx), ctx)).toEqual(req);
          const got = decodeSetDateTime(Buffer.from(junk), ctx);
          expect(got === undefined || typeof got.setTime === 'boolean').toBe(true);
        },
      ),
      { numRuns: 1000 },
    );
  });
});

// ---------------------------------------------------------------------------------------------
// Engine: random requests never throw and never change state unless authorised and valid

const CARD: TableLayout = {
  id: mt(10),
  name: 'MT10',
  fields: [
    { name: 'CARD_ID', type: 'BCD', size: 4 },
    { name: 'SUPPLIER', type: 'UINT16' },
    { name: 'FLAGS', type: 'UINT8' },
  ],
};
const OP = 0x02;
const CLEARER = 0x04;

type Op =
  | { kind: 'read'; id: number; range?: { offset: number; count: number }; groups: number }
  | { kind: 'write'; id: number; offset?: number; data: Uint8Array; groups: number }
  | { kind: 'proc'; proc: number; mfg: boolean; selector: number; params: Uint8Array; groups: number }
  | { kind: 'raw7'; offset?: number; data: Uint8Array; groups: number }
  | { kind: 'end' };

const idArb = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom(0, 1, 3, 7, 8, 41, 42, 44, 52, mt(10), mt(11), mt(12)) },
  { weight: 1, arbitrary: fc.integer({ min: 0, max: 0xffff }) },
);
/** Bytes that decode as MT10 (valid BCD card id) and slices of them, so some writes succeed. */
const cardImageArb = fc
  .tuple(
    fc.array(fc.integer({ min: 0, max: 9 }), { minLength: 8, maxLength: 8 }),
    fc.integer({ min: 0, max: 0xffff }),
    fc.integer({ min: 0, max: 0xff }),
  )
  .map(([digits, supplier, flags]) => {
    const b = Buffer.alloc(7);
    for (let i = 0; i < 4; i++) b[i] = digits[2 * i]! * 16 + digits[2 * i + 1]!;
    b.writeUInt16LE(supplier, 4);
    b[6] = flags;
    return b;
  });
const groupsArb = fc.constantFrom(0, 0x01, OP, CLEARER, 0xff);
const optOffset = fc.option(fc.integer({ min: -1, max: 10 }), { nil: undefined });
const opArb: fc.Arbitrary<Op> = fc.oneof(
  fc.record(
    {
      kind: fc.constant('read' as const),
      id: idArb,
      range: fc.record({ offset: fc.integer({ min: -1, max: 70 }), count: fc.integer({ min: -1, max: 10 }) }),
      groups: groupsArb,
    },
    { requiredKeys: ['kind', 'id', 'groups'] },
  ),
  fc.record(
    {
      kind: fc.constant('write' as const),
      id: idArb,
      offset: optOffset,
      data: fc.uint8Array({ maxLength: 10 }),
      groups: groupsArb,
    },
    { requiredKeys: ['kind', 'id', 'data', 'groups'] },
  ),
  fc
    .record({
      image: cardImageArb,
      from: fc.integer({ min: 0, max: 7 }),
      partial: fc.boolean(),
      groups: groupsArb,
    })
    .map(({ image, from, partial, groups }): Op =>
      partial
        ? { kind: 'write', id: mt(10), offset: from, data: image.subarray(from), groups }
        : { kind: 'write', id: mt(10), data: image, groups },
    ),
  fc.record({
    kind: fc.constant('proc' as const),
    proc: fc.constantFrom(1, 3, 6, 7, 8, 10, 99),
    mfg: fc.boolean(),
    selector: fc.integer({ min: 0, max: 5 }),
    params: fc.oneof(fc.constant(new Uint8Array([2])), fc.uint8Array({ maxLength: 4 })),
    groups: groupsArb,
  }),
  fc.record(
    {
      kind: fc.constant('raw7' as const),
      offset: optOffset,
      data: fc.uint8Array({ maxLength: 8 }),
      groups: groupsArb,
    },
    { requiredKeys: ['kind', 'data', 'groups'] },
  ),
  fc.constant({ kind: 'end' as const }),
);

describe('table engine properties', () => {
  it('random reads, writes and procedure requests never throw and change state only when authorised and valid', async () => {
    // Totals over all runs, to show the property is not vacuous (some requests do succeed).
    const seen = { cardWrites: 0, mp1Runs: 0, clears: 0, refusedIsc: 0, reads: 0 };
    await fc.assert(
      fc.asyncProperty(
        fc.array(opArb, { minLength: 5, maxLength: 25 }),
        fc.constantFrom('little' as const, 'big' as const),
        async (ops, dataOrder) => {
          let card: TableRecord = { CARD_ID: '12345678', SUPPLIER: 0x0102, FLAGS: 1 };
          let cardWrites = 0;
          let clears = 0;
          let mp1Runs = 0;
          const modeStatus = createMemoryModeStatus({ std1: 0xffff, mfg: [1] });
          const engine = createTableEngine({
            format: { dataOrder },
            modeStatus,
            clearData: () => void clears++,
            security: { passwords: () => [{ password: 'p', groups: OP }] },
          });
          engine.registerTable({
            id: mt(10),
            layout: CARD,
            read: () => card,
            write: (rec) => {
              cardWrites++;
              card = rec;
            },
            access: { read: 0x01 | OP, write: OP },
          });
          engine.registerTable({
            id: mt(11),
            layout: { id: mt(11), name: 'MT11', fields: [{ name: 'B', type: 'BINARY', size: 64 }] },
            read: () => ({ B: Buffer.alloc(64, 7) }),
            access: { anyRead: true },
          });
          engine.registerProcedure({
            id: mp(1),
            name: 'clear card (modelled)',
            access: { write: CLEARER },
            run: () => {
              mp1Runs++;
              return { result: 0 };
            },
          });

          for (const op of ops) {
            const before = {
              card,
              cardWrites,
              clears,
              mp1Runs,
              mode: await modeStatus.getMode(),
              status: JSON.stringify(await modeStatus.getStatus()),
              st8: engine.procedureResponse(),
            };
            let code: number;
            let access: SessionAccess = session(0);
            if (op.kind === 'end') {
              engine.endSession(access);
              expect(engine.procedureResponse()).toBeUndefined();
              continue;
            }
            access = session(op.groups);
            if (op.kind === 'read') {
              const r = await engine.read(op.id, op.range, access);
              code = r.code;
              if (r.code === PsemCode.ok) expect(Buffer.isBuffer(r.data)).toBe(true);
            } else if (op.kind === 'write') {
              code = (await engine.write(op.id, op.offset, Buffer.from(op.data), access)).code;
            } else if (op.kind === 'raw7') {
              code = (await engine.write(7, op.offset, Buffer.from(op.data), access)).code;
            } else {
              const data = encodeProcedureRequest(
                {
                  procedure: op.proc,
                  mfg: op.mfg,
                  selector: op.selector,
                  seq: 1,
                  params: Buffer.from(op.params),
                },
                dataOrder,
              );
              code = (await engine.write(7, undefined, data, access)).code;
            }
            expect(Number.isInteger(code) && code >= 0 && code <= 0x0a).toBe(true);
            if (code === PsemCode.isc) seen.refusedIsc++;
            if (op.kind === 'read' && code === PsemCode.ok) seen.reads++;

            const isWrite = op.kind !== 'read';
            const target = op.kind === 'write' ? op.id : 7;
            // Card table: changes only by an ok write from a session holding the write group.
            if (card !== before.card || cardWrites !== before.cardWrites) {
              expect(isWrite && target === mt(10) && code === PsemCode.ok && (op.groups & OP) !== 0).toBe(
                true,
              );
              expect(cardWrites).toBe(before.cardWrites + 1);
            }
            // Procedures: run only for an ok ST7 write from a session allowed to run them.
            if (mp1Runs !== before.mp1Runs)
              expect(isWrite && target === 7 && code === PsemCode.ok && (op.groups & CLEARER) !== 0).toBe(
                true,
              );
            if (clears !== before.clears)
              expect(isWrite && target === 7 && code === PsemCode.ok && op.groups !== 0).toBe(true);
            const mode = await modeStatus.getMode();
            const status = JSON.stringify(await modeStatus.getStatus());
            if (mode !== before.mode || status !== before.status)
              expect(isWrite && target === 7 && code === PsemCode.ok && op.groups !== 0).toBe(true);
            // ST8 changes only through an accepted ST7 write.
            if (engine.procedureResponse() !== before.st8)
              expect(isWrite && target === 7 && code === PsemCode.ok).toBe(true);
            // Reads change nothing, and a refused request changes nothing.
            if (!isWrite || code !== PsemCode.ok) {
              expect(card).toBe(before.card);
              expect(engine.procedureResponse()).toBe(before.st8);
              expect([clears, mp1Runs, mode]).toEqual([before.clears, before.mp1Runs, before.mode]);
            }
          }
          seen.cardWrites += cardWrites;
          seen.mp1Runs += mp1Runs;
          seen.clears += clears;
        },
      ),
      { numRuns: 300 },
    );
    for (const v of Object.values(seen)) expect(v).toBeGreaterThan(0);
  });
});
