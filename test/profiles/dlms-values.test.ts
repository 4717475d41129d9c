/**
 * The DLMS value codec (src/profiles/dlms-binding-values.ts) and the event-log rows
 * (dlms-binding-events.ts): byte vectors for the conventions docs/dlms-profiles.md states,
 * round trips of every attribute of the shipped profiles over random meters, and property
 * tests: random and mutated A-XDR data never crash a decoder — it yields values or a coded
 * SimError naming the path.
 */
import fc from 'fast-check';
import { ManualClock } from '../../src/core/clock';
import { SimError } from '../../src/core/errors';
import { Meter } from '../../src/device/meter';
import { readModelPath, type ModelValue } from '../../src/device/model-paths';
import type { MeterEvent } from '../../src/device/state';
import { MemoryMeterStore } from '../../src/device/storage';
import { decodeData, encodeData } from '../../src/protocols/dlms/axdr/data-codec';
import { axdr } from '../../src/protocols/dlms/axdr/builders';
import type { Data } from '../../src/protocols/dlms/axdr/types';
import { decodeEventBuffer, decodeEventRow, eventRow } from '../../src/profiles/dlms-binding-events';
import { kindOfPath } from '../../src/profiles/dlms-binding-values';
import type { DlmsValueSpec } from '../../src/profiles/dlms-binding-schema';
import {
  attributeValue,
  dateTimeOctets,
  decodeParam,
  decodeValue,
  encodeValue,
  msFromDateTime,
  valueSources,
} from '../../src/profiles/dlms-binding-values';
import { deviceBehaviour, newMeterFromProfile } from '../../src/profiles/device-binding';
import type { FirmwareProfile } from '../../src/profiles/schema';
import { dataArb } from '../protocols/dlms/axdr/arbitraries';
import { DLMS_ESME, DLMS_GSME, profile } from '../e2e-dlms/helpers';

const hex = (d: Data): string => encodeData(d).toString('hex');

function values(p: FirmwareProfile): { where: string; spec: DlmsValueSpec }[] {
  return p.cosem!.objects.flatMap((o) =>
    o.attributes.flatMap((a) => {
      const v = attributeValue(a);
      return v ? [{ where: `${o.name}/${a.index}`, spec: v }] : [];
    }),
  );
}

describe('value conventions (vectors)', () => {
  it('a model time is a 12-octet date-time in UTC, deviation 0, status 0 (docs/dlms.md §5)', () => {
    // 2021-01-24 14:48:57.80 UTC
    const ms = Date.UTC(2021, 0, 24, 14, 48, 57, 804);
    expect(dateTimeOctets(ms).toString('hex')).toBe(
      [
        '07e5', // year 2021
        '01', // January
        '18', // 24th
        '07', // Sunday
        '0e', // 14 h
        '30', // 48 min
        '39', // 57 s
        '50', // 80 hundredths (4 ms dropped)
        '0000', // deviation 0 (UTC)
        '00', // clock status OK
      ].join(''),
    );
    expect(msFromDateTime(dateTimeOctets(ms), 'x')).toBe(ms - 4);
    // docs/dlms.md §5 example: local 14:48:57.80, deviation -60 (UTC = local + deviation) = 13:48:57.80 UTC.
    expect(msFromDateTime(Buffer.from('07E50118FF0E303950FFC400', 'hex'), 'x')).toBe(
      Date.UTC(2021, 0, 24, 13, 48, 57, 800),
    );
    expect(() => msFromDateTime(Buffer.from('FFFFFFFFFFFFFFFFFF8000FF', 'hex'), 'clock')).toThrow(
      /clock: date-time does not name an instant/,
    );
  });

  it('the ESME card record: a structure, and an empty structure once every field is null', () => {
    const spec = values(profile(DLMS_ESME)).find((v) => v.where === 'card-record/2')!.spec;
    const at = Date.UTC(2026, 0, 1);
    const held: Record<string, ModelValue> = {
      'card.paymentCardId': '9826176066000000015',
      'card.issuerSupplierId': 'SUPB',
      'card.registeredAt': at,
      'registration.siteId': 'SITE-1',
    };
    const d = encodeValue(spec, (path) => held[path] ?? null, kindOfPath);
    expect(hex(d)).toBe(
      [
        '0204', // structure, 4 fields
        '0a13' + Buffer.from('9826176066000000015').toString('hex'), // visible-string(19) Payment Card ID
        '0a04' + Buffer.from('SUPB').toString('hex'), // visible-string(4) issuer
        '090c' + dateTimeOctets(at).toString('hex'), // octet-string(12) registered at
        '0a06' + Buffer.from('SITE-1').toString('hex'), // visible-string(6) Site ID
      ].join(''),
    );
    const out = new Map<string, ModelValue>();
    decodeValue(spec, d, kindOfPath, out);
    expect(Object.fromEntries(out)).toEqual(held);
    const cleared = encodeValue(spec, () => null, kindOfPath);
    expect(hex(cleared)).toBe('0200'); // structure, 0 fields
    decodeValue(spec, cleared, kindOfPath, out);
    expect([...out.values()]).toEqual([null, null, null, null]);
    // A card-only clear (Site ID kept) still shows the structure, with null-data fields.
    expect(hex(encodeValue(spec, (p) => (p === 'registration.siteId' ? 'S1' : null), kindOfPath))).toBe(
      '0204' + '00' + '00' + '00' + '0a02' + Buffer.from('S1').toString('hex'),
    );
  });

  it('names what is wrong, with the path', () => {
    const spec = values(profile(DLMS_ESME)).find((v) => v.where === 'migration-state/2')!.spec;
    const out = new Map<string, ModelValue>();
    expect(() =>
      decodeValue(spec, axdr.struct(axdr.enum(7), axdr.null(), axdr.null()), kindOfPath, out, 'ms'),
    ).toThrow('ms.fields[0]: 7 names no known value');
    expect(() => decodeValue(spec, axdr.struct(axdr.enum(1)), kindOfPath, out, 'ms')).toThrow(
      'ms: expected 3 fields, got 1',
    );
    expect(() => decodeValue(spec, axdr.struct(), kindOfPath, out, 'ms')).toThrow(
      /ms: expected a structure of 3/,
    );
    const serial = values(profile(DLMS_ESME)).find((v) => v.where === 'logical-device-name/2')!.spec;
    expect(() => decodeValue(serial, axdr.octets(Buffer.from('ABC123')), kindOfPath, out, 'ldn')).toThrow(
      'ldn: "ABC123" lacks the prefix "XSM"',
    );
  });
});

describe('round trips over random meters', () => {
  it.each([DLMS_ESME, DLMS_GSME])('%s: every attribute decodes back to the model values it encoded', (id) => {
    const p = profile(id);
    const specs = values(p);
    fc.assert(
      fc.property(
        fc.nat(10_000),
        fc.boolean(),
        fc.boolean(),
        fc.integer({ min: 0, max: 5 }),
        (index, card, migrated, vends) => {
          const clock = new ManualClock(Date.UTC(2026, 0, 1) + index * 12_345);
          const state = newMeterFromProfile(p, {
            id: 'm',
            index,
            ids: 'round-trip',
            supplierId: 'SUPA',
            card: card ? { issuerSupplierId: 'SUPB' } : null,
            now: clock.now(),
            ...(migrated ? { migration: { state: 'migrated' as const, at: clock.now(), by: 'DCC' } } : {}),
          });
          const meter = Meter.create(state, {
            store: new MemoryMeterStore(),
            clock,
            behaviour: deviceBehaviour(p),
          });
          for (let i = 0; i < vends; i++)
            meter.applySync('applyVend', {
              actor: 't',
              mode: 'add',
              amountPence: 10 + i,
              source: 'local',
              utrnRef: `U${i}`,
            });
          const read = (path: string): ModelValue => readModelPath(meter.state, path, meter.now()) ?? null;
          for (const { where, spec } of specs) {
            const bytes = encodeData(encodeValue(spec, read, kindOfPath, where));
            const out = new Map<string, ModelValue>();
            decodeValue(spec, decodeData(bytes), kindOfPath, out, where);
            for (const s of valueSources(spec)) {
              const want = read(s.path);
              const k = kindOfPath(s.path)!.kind;
              expect([where, s.path, out.get(s.path)]).toEqual([
                where,
                s.path,
                k === 'time' && typeof want === 'number' ? want - (want % 10) : want,
              ]);
            }
          }
        },
      ),
      { numRuns: 60 },
    );
  });

  it('event rows decode back to the events', () => {
    const eventArb: fc.Arbitrary<MeterEvent> = fc.record({
      seq: fc.integer({ min: 1, max: 2 ** 32 - 1 }),
      at: fc.integer({ min: Date.UTC(2000, 0, 1), max: Date.UTC(2099, 0, 1) }).map((t) => t - (t % 10)),
      type: fc.constantFrom('card-cleared', 'migrated', 'bad-password' as const),
      actor: fc.option(fc.string({ minLength: 1, maxLength: 64 }), { nil: null }),
      data: fc.dictionary(
        fc.string({ minLength: 1, maxLength: 8 }),
        fc.oneof(fc.string(), fc.integer(), fc.boolean(), fc.constant(null)),
      ),
    }) as fc.Arbitrary<MeterEvent>;
    fc.assert(
      fc.property(fc.array(eventArb, { maxLength: 5 }), (events) => {
        const buffer = decodeData(encodeData(axdr.array(...events.map((e) => axdr.struct(...eventRow(e))))));
        expect(decodeEventBuffer(buffer)).toEqual(events);
      }),
      { numRuns: 300 },
    );
  });
});

function codedOrValue(run: () => unknown): void {
  try {
    run();
  } catch (e) {
    expect(e).toBeInstanceOf(SimError);
    expect((e as SimError).codeName).toBe('ServiceInvalidResponse');
    expect((e as SimError).message).toMatch(/^\S+: /);
  }
}

describe('decoders never crash (fast-check)', () => {
  const specs = [...values(profile(DLMS_ESME)), ...values(profile(DLMS_GSME))];
  const migrate = profile(DLMS_ESME).cosem!.objects.find((o) => o.name === 'migrate-command')!.attributes[0]!
    .set!.params!;

  it('random data: decodeValue, decodeEventRow and decodeParam yield values or coded errors', () => {
    fc.assert(
      fc.property(dataArb, fc.nat(specs.length - 1), (d, i) => {
        codedOrValue(() => decodeValue(specs[i]!.spec, d, kindOfPath, new Map(), specs[i]!.where));
        codedOrValue(() => decodeEventRow(d, 'row'));
        codedOrValue(() => decodeEventBuffer(d));
        codedOrValue(() =>
          decodeParam(migrate[i % migrate.length]!, i % 4 === 0 ? 'text' : 'binary', d, 'p'),
        );
      }),
      { numRuns: 2_000 },
    );
  });

  it('mutated valid attribute bytes: decode to data and values, or a coded error', () => {
    const clock = new ManualClock(Date.UTC(2026, 0, 1));
    const p = profile(DLMS_ESME);
    const state = newMeterFromProfile(p, {
      id: 'm',
      index: 1,
      ids: 'mut',
      supplierId: 'SUPA',
      card: { issuerSupplierId: 'SUPB' },
      now: clock.now(),
    });
    const meter = Meter.create(state, {
      store: new MemoryMeterStore(),
      clock,
      behaviour: deviceBehaviour(p),
    });
    const read = (path: string): ModelValue => readModelPath(meter.state, path, meter.now()) ?? null;
    const valid = values(p).map(({ where, spec }) => ({
      where,
      spec,
      bytes: encodeData(encodeValue(spec, read, kindOfPath)),
    }));
    fc.assert(
      fc.property(
        fc.nat(valid.length - 1),
        fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 4 }),
        (i, edits) => {
          const v = valid[i]!;
          const bytes = Buffer.from(v.bytes);
          for (const [at, b] of edits) bytes[at % bytes.length] = b;
          let d: Data;
          try {
            d = decodeData(bytes);
          } catch (e) {
            expect(e).toBeInstanceOf(SimError);
            return;
          }
          codedOrValue(() => decodeValue(v.spec, d, kindOfPath, new Map(), v.where));
        },
      ),
      { numRuns: 3_000 },
    );
  });
});
