/**
 * Model value <-> C12.19 field value rules of the profile binding (c1219-binding-values.ts),
 * one vector per (value kind, wire type), and property tests over every shipped profile's
 * tables and procedure parameters: random and mutated bytes never crash the decoders, and
 * meter state -> table bytes -> model values round-trips.
 */
import fc from 'fast-check';
import { ErrorCode, SimError, layerOf } from '../../src/core/errors';
import { readModelPath } from '../../src/device/model-paths';
import type { CodecContext, ScalarField } from '../../src/protocols/c1219/field-types';
import { encodeTable } from '../../src/protocols/c1219/table-codec';
import { c1219Map } from '../../src/profiles/c1219-binding-layouts';
import {
  decodeProcedureParams,
  encodeProcedureParams,
  encodeTableRecord,
  operationInput,
  tableValues,
} from '../../src/profiles/c1219-binding-records';
import {
  constantToWire,
  modelToWire,
  wireToModel,
  type ValueSpec,
} from '../../src/profiles/c1219-binding-values';
import { newMeterFromProfile } from '../../src/profiles/device-binding';
import { ESME, ESME_G05, GSME, START, profile } from './helpers';

const CTX: CodecContext = { dataOrder: 'little', charFormat: 1, tmFormat: 2, idForm: 0 };
const VC = { ctx: CTX, pad: 0x00 };

/** Encode one value as a one-field table and return the bytes, then decode them back. */
function roundTrip(def: ScalarField, spec: ValueSpec, value: string | number | boolean | null, ctx = CTX) {
  const vc = { ctx, pad: 0x00 };
  const wire = modelToWire(def, spec, value, vc);
  const bytes = encodeTable({ id: 2049, name: 'T', fields: [def] }, { [def.name]: wire }, ctx);
  return { bytes: [...bytes], back: wireToModel(def, spec, wire, vc) };
}

describe('value rules (one vector per kind and wire type)', () => {
  it('digits in BCD are right-aligned and zero-filled; blank is null', () => {
    const card = '9826176001000000126';
    expect(roundTrip({ name: 'PAYMENT_CARD_ID', type: 'BCD', size: 10 }, { kind: 'digits' }, card)).toEqual({
      // "0" + 19 digits, two digits per byte, high nibble first (docs/c1218.md §3 BCD)
      bytes: [0x09, 0x82, 0x61, 0x76, 0x00, 0x10, 0x00, 0x00, 0x01, 0x26],
      back: card,
    });
    expect(roundTrip({ name: 'P', type: 'BCD', size: 10 }, { kind: 'digits' }, null)).toEqual({
      bytes: Array(10).fill(0),
      back: null,
    });
  });

  it('text in STRING is space padded, in BINARY zero padded; blank is null', () => {
    expect(roundTrip({ name: 'S', type: 'STRING', size: 6 }, { kind: 'text' }, 'SUPA')).toEqual({
      bytes: [0x53, 0x55, 0x50, 0x41, 0x20, 0x20], // "SUPA" + 2 spaces
      back: 'SUPA',
    });
    expect(roundTrip({ name: 'S', type: 'BINARY', size: 6 }, { kind: 'text' }, 'SUPA')).toEqual({
      bytes: [0x53, 0x55, 0x50, 0x41, 0x00, 0x00],
      back: 'SUPA',
    });
    expect(roundTrip({ name: 'S', type: 'STRING', size: 4 }, { kind: 'text' }, null).back).toBeNull();
  });

  it('EUI-64: 8 raw bytes in BINARY, canonical text in STRING', () => {
    const id = '02-53-4D-00-00-00-12-34';
    expect(roundTrip({ name: 'D', type: 'BINARY', size: 8 }, { kind: 'eui64' }, id)).toEqual({
      bytes: [0x02, 0x53, 0x4d, 0x00, 0x00, 0x00, 0x12, 0x34],
      back: id,
    });
    expect(roundTrip({ name: 'D', type: 'STRING', size: 23 }, { kind: 'eui64' }, id).back).toBe(id);
    expect(roundTrip({ name: 'D', type: 'BINARY', size: 8 }, { kind: 'eui64' }, null).back).toBeNull();
  });

  it('time: LTIME calendar fields in UTC (TM_FORMAT 2), UINT32 seconds; blank is null', () => {
    const t = Date.UTC(2026, 2, 1, 10, 20, 30);
    expect(roundTrip({ name: 'T', type: 'LTIME' }, { kind: 'time' }, t)).toEqual({
      bytes: [26, 3, 1, 10, 20, 30], // YY MM DD hh mm ss
      back: t,
    });
    expect(roundTrip({ name: 'T', type: 'LTIME' }, { kind: 'time' }, null)).toEqual({
      bytes: [0, 0, 0, 0, 0, 0],
      back: null,
    });
    // TM_FORMAT 4: UINT32 seconds since 1970, little-endian; blank = 0 = null.
    const ctx4: CodecContext = { ...CTX, tmFormat: 4 };
    expect(roundTrip({ name: 'T', type: 'LTIME' }, { kind: 'time' }, t, ctx4).back).toBe(t);
    expect(roundTrip({ name: 'T', type: 'LTIME' }, { kind: 'time' }, null, ctx4)).toEqual({
      bytes: [0, 0, 0, 0],
      back: null,
    });
    expect(roundTrip({ name: 'T', type: 'UINT32' }, { kind: 'time' }, t + 999)).toEqual({
      bytes: [0xee, 0x12, 0xa4, 0x69], // 1772360430 s = 0x69A412EE, little-endian; the 999 ms drop
      back: t,
    });
  });

  it('enum: the profile map in integer fields, the member name in STRING', () => {
    const spec: ValueSpec = {
      kind: 'enum',
      enum: { credit: 0, prepayment: 1 },
      values: ['credit', 'prepayment'],
    };
    expect(roundTrip({ name: 'M', type: 'UINT8' }, spec, 'prepayment')).toEqual({
      bytes: [1],
      back: 'prepayment',
    });
    expect(() => wireToModel({ name: 'M', type: 'UINT8' }, spec, 7, VC)).toThrow(
      expect.objectContaining({ code: ErrorCode.DecodeInvalid }),
    );
    expect(() => modelToWire({ name: 'M', type: 'UINT8' }, spec, 'debt', VC)).toThrow(
      expect.objectContaining({ code: ErrorCode.EncodeInvalid }),
    );
    expect(roundTrip({ name: 'M', type: 'STRING', size: 10 }, spec, 'credit').back).toBe('credit');
  });

  it('bool in BOOL and UINT8; uint in BCD; int signed', () => {
    expect(roundTrip({ name: 'B', type: 'UINT8' }, { kind: 'bool' }, true)).toEqual({
      bytes: [1],
      back: true,
    });
    expect(roundTrip({ name: 'B', type: 'BOOL' }, { kind: 'bool' }, false)).toEqual({
      bytes: [0],
      back: false,
    });
    expect(roundTrip({ name: 'U', type: 'BCD', size: 3 }, { kind: 'uint' }, 1234)).toEqual({
      bytes: [0x00, 0x12, 0x34],
      back: 1234,
    });
    expect(roundTrip({ name: 'I', type: 'INT32' }, { kind: 'int' }, -250)).toEqual({
      bytes: [0x06, 0xff, 0xff, 0xff], // -250 little-endian two's complement
      back: -250,
    });
  });

  it('binary parameters pad with the password pad byte and keep every byte', () => {
    const def: ScalarField = { name: 'S', type: 'BINARY', size: 4 };
    const wire = modelToWire(def, { kind: 'binary' }, 'abcd', { ctx: CTX, pad: 0x20 });
    expect([...(wire as Buffer)]).toEqual([0xab, 0xcd, 0x20, 0x20]);
    expect(wireToModel(def, { kind: 'binary' }, wire, VC)).toBe('abcd2020');
  });

  it('constants: BCD right-aligned, BINARY zero padded', () => {
    expect(constantToWire({ name: 'C', type: 'BCD', size: 2 }, '7')).toBe('0007');
    expect([...(constantToWire({ name: 'C', type: 'BINARY', size: 3 }, 'A') as Buffer)]).toEqual([
      0x41, 0, 0,
    ]);
    expect(() => constantToWire({ name: 'C', type: 'BOOL' }, 'yes')).toThrow(SimError);
  });
});

const PROFILES = [ESME, ESME_G05, GSME].map(profile);

/** A decoder outcome is a value or a coded SimError of the framing/decoding layer. */
function decodesOrCodedError(run: () => unknown): void {
  try {
    run();
  } catch (e) {
    expect(e).toBeInstanceOf(SimError);
    expect(layerOf((e as SimError).code)).toBe('framing');
  }
}

describe('property: bound tables and procedure parameters', () => {
  it('meter state -> table bytes -> model values round-trips for every shipped table', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...PROFILES),
        fc.nat({ max: 100_000 }),
        fc.option(fc.constantFrom('SUPA', 'SUPB'), { nil: null }),
        (p, index, card) => {
          const state = newMeterFromProfile(p, {
            id: `m${index}`,
            index,
            ids: 'prop',
            supplierId: 'SUPA',
            card: card === null ? null : { issuerSupplierId: card },
            now: START + index * 1000,
          });
          const vc = { ctx: c1219Map(p).context, pad: 0x00 };
          for (const table of c1219Map(p).tables) {
            const values = tableValues(table, encodeTableRecord(table, state, START, vc), vc);
            for (const [path, v] of values) {
              const kind = table.fields.find((f) => f.path?.path === path)!.path!.kind;
              const model = readModelPath(state, path, START) ?? null;
              // Times travel in whole seconds; blank text reads back as null; a null integer
              // (an empty vend slot) is sent as 0 and reads back as 0 (c1219-binding-values.ts).
              const expected =
                typeof model === 'number' && kind === 'time'
                  ? Math.floor(model / 1000) * 1000
                  : model === null && (kind === 'uint' || kind === 'int')
                    ? 0
                    : model === ''
                      ? null
                      : model;
              expect(v).toEqual(expected);
            }
          }
        },
      ),
      { numRuns: 300 },
    );
  });

  it('random and mutated table images decode to values or a coded decode error', () => {
    const tables = PROFILES.flatMap((p) => c1219Map(p).tables.map((t) => ({ p, t })));
    const state = newMeterFromProfile(PROFILES[0]!, {
      id: 'm',
      index: 1,
      ids: 'prop',
      supplierId: 'SUPA',
      card: { issuerSupplierId: 'SUPB' },
      now: START,
    });
    fc.assert(
      fc.property(
        fc.constantFrom(...tables),
        fc.uint8Array({ maxLength: 200 }),
        fc.array(fc.tuple(fc.nat(), fc.nat({ max: 255 })), { maxLength: 4 }),
        ({ p, t }, random, flips) => {
          const vc = { ctx: c1219Map(p).context, pad: 0x00 };
          decodesOrCodedError(() => tableValues(t, random, vc));
          if (p !== PROFILES[0]) return;
          const valid = Buffer.from(encodeTableRecord(t, state, START, vc));
          for (const [at, b] of flips) if (valid.length) valid[at % valid.length] = b;
          decodesOrCodedError(() => tableValues(t, valid, vc));
        },
      ),
      { numRuns: 2000 },
    );
  });

  it('procedure parameters: random bytes never crash; encode -> decode round-trips', () => {
    const procs = PROFILES.flatMap((p) => c1219Map(p).procedures.map((x) => ({ p, x })));
    fc.assert(
      fc.property(fc.constantFrom(...procs), fc.uint8Array({ maxLength: 80 }), ({ p, x }, bytes) => {
        decodesOrCodedError(() =>
          decodeProcedureParams(x, Buffer.from(bytes), { ctx: c1219Map(p).context, pad: 0 }),
        );
      }),
      { numRuns: 2000 },
    );
    const migrate = c1219Map(profile(ESME)).procedureByAction('migrate')!;
    fc.assert(
      fc.property(
        fc.stringMatching(/^[A-Z][A-Za-z0-9-]{0,15}$/),
        fc.uint8Array({ minLength: 20, maxLength: 20 }),
        fc.uint8Array({ minLength: 20, maxLength: 20 }),
        (by, reader, privileged) => {
          const args = {
            by,
            'newSecrets.reader': Buffer.from(reader).toString('hex'),
            'newSecrets.privileged': Buffer.from(privileged).toString('hex'),
          };
          const back = decodeProcedureParams(migrate, encodeProcedureParams(migrate, args, VC), VC);
          expect(back).toEqual(args);
          expect(operationInput(migrate, back)).toEqual({
            by,
            newSecrets: { reader: args['newSecrets.reader'], privileged: args['newSecrets.privileged'] },
          });
        },
      ),
      { numRuns: 500 },
    );
  });
});
