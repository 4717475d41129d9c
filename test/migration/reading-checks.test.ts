/**
 * The plain-code reading checks (src/migration/reading-checks.ts) against the zod schemas
 * they stand in for: whenever a fast check vouches for a value, the schema accepts it and
 * answers an equal value with the same key order (random and mutated values, fast-check);
 * real readings of a simulated C12.18 meter take the fast path; and the interrogation
 * results built without a final schema pass are valid results.
 */
import fc from 'fast-check';
import { z } from 'zod';
import { ManualClock } from '../../src/core/clock';
import { ErrorCode } from '../../src/core/errors';
import { evaluate, EvaluationSchema } from '../../src/migration/evaluate';
import { runMigrationFlow } from '../../src/migration/flow';
import { snapshotFromJournal } from '../../src/migration/flow-result';
import { interrogate } from '../../src/migration/interrogate';
import {
  CardRecordFieldSchema,
  ClockReadingSchema,
  DeviceIdentitySchema,
  EvidenceSchema,
  InterrogationResultSchema,
  MeterEventSchema,
  MeterRegistrationSchema,
  MigrationStateSchema,
  PrepaymentSummarySchema,
  SessionIdentificationSchema,
} from '../../src/migration/interrogation-schema';
import {
  fastCardRecordField,
  fastClockReading,
  fastDeviceIdentity,
  fastEvaluation,
  fastEvidence,
  fastEvidenceList,
  fastMeterEvent,
  fastMeterEvents,
  fastMeterRegistration,
  fastMigrationState,
  fastPrepaymentSummary,
  fastSessionIdentification,
  type FastCheck,
} from '../../src/migration/reading-checks';
import { MemoryJournal, type JournalEntry } from '../../src/migration/journal';
import { loadBuiltinRuleset } from '../../src/migration/ruleset';
import { openC1218Session } from '../../src/migration/sessions/c1218-session';
import { C1218Server } from '../../src/protocols/c1218/server';
import { bindC1219, c1218ServerOptions } from '../../src/profiles/c1219-binding';
import { createMemPair } from '../../src/transport/mem';
import { ESME, GSME, drive, makeMeter, profile, secretOf } from '../sim/helpers';
import { FakeMeter, esmeState } from './fake-session';

/** Same value, same key order at every depth (toEqual alone ignores order). */
function expectSame(a: unknown, b: unknown): void {
  expect(a).toEqual(b);
  expect(JSON.stringify(a)).toBe(JSON.stringify(b));
}

/** The contract: fast never accepts what the schema rejects, and answers what it answers. */
function holdsContract<T>(fast: FastCheck<T>, schema: z.ZodType<T>, value: unknown): void {
  const f = fast(value);
  if (f === undefined) return;
  const z = schema.safeParse(value);
  expect(z.success).toBe(true);
  if (z.success) expectSame(f, z.data);
}

const iso = fc
  .integer({ min: Date.UTC(1970, 0, 1), max: Date.UTC(2100, 0, 1) })
  .map((t) => new Date(t).toISOString());
/** Mostly well-formed timestamps, some near misses. */
const time = fc.oneof(
  { weight: 5, arbitrary: iso },
  {
    weight: 1,
    arbitrary: fc.constantFrom(
      '2026-02-29T00:00:00.000Z',
      '2026-01-01T24:00:00.000Z',
      '2026-01-01T12:00:00Z',
      '2026-01-01T12:00:00.000+01:00',
      '2026-13-01T00:00:00.000Z',
      '+012026-01-01T00:00:00.000Z',
      '',
    ),
  },
);
const hex = fc.oneof(
  fc.uint8Array({ maxLength: 8 }).map((b) => Buffer.from(b).toString('hex')),
  fc.constantFrom('0', 'AB', 'zz', 'abc'),
);
const int = fc.oneof(fc.integer(), fc.constantFrom(-0, 0.5, 2 ** 53, NaN, Infinity));
const str = fc.string({ maxLength: 6 });
const strOrNull = fc.option(str, { nil: null });
const scalar = fc.oneof(str, fc.double(), fc.boolean());

/** A value of roughly the right shape, with some keys replaced, dropped or added. */
function mutated(base: fc.Arbitrary<Record<string, unknown>>): fc.Arbitrary<unknown> {
  return fc.oneof(
    { weight: 4, arbitrary: base },
    {
      weight: 3,
      arbitrary: fc.tuple(base, fc.nat(20), fc.anything()).map(([o, i, junk]) => {
        const keys = Object.keys(o);
        const copy: Record<string, unknown> = { ...o };
        if (keys.length > 0) copy[keys[i % keys.length]!] = junk;
        return copy;
      }),
    },
    {
      weight: 2,
      arbitrary: fc.tuple(base, fc.nat(20)).map(([o, i]) => {
        const keys = Object.keys(o);
        const copy: Record<string, unknown> = { ...o };
        if (keys.length > 0) delete copy[keys[i % keys.length]!];
        return copy;
      }),
    },
    // Extra keys are dropped by both; order of the input keys must not matter.
    {
      weight: 2,
      arbitrary: base.map((o) => ({ extra: 1, ...Object.fromEntries(Object.entries(o).reverse()) })),
    },
    { weight: 1, arbitrary: fc.anything() },
  );
}

const sessionId = fc.record({
  stack: str,
  protocol: str,
  details: fc.oneof(fc.dictionary(str, scalar, { maxKeys: 3 }), fc.anything()),
});
const identity = fc.record({
  manufacturer: str,
  model: str,
  deviceType: fc.constantFrom('ESME', 'GSME', 'PPMID'),
  serial: str,
  deviceId: str,
  applicationFirmwareId: str,
  metrologyFirmwareId: strOrNull,
});
const registration = fc.record({ mpxn: strOrNull, supplierId: strOrNull, siteId: strOrNull });
const card = fc.oneof(
  fc.record({ present: fc.constant(false) }),
  fc.record({
    present: fc.constantFrom(true, 'yes'),
    paymentCardId: str,
    issuerSupplierId: strOrNull,
    registeredAt: fc.option(time, { nil: null }),
  }),
);
const prepayment = fc.record({
  paymentMode: fc.constantFrom('prepayment', 'credit', 'smart'),
  balancePence: int,
  emergencyCreditPence: int,
  emergencyCreditActive: fc.boolean(),
  debtPence: int,
  lastVendAt: fc.option(time, { nil: null }),
});
const clockReading = fc.record({ meterTime: time, hostTime: time, skewMs: int });
const migrationState = fc.oneof(
  fc.record({ state: fc.constant('smso-managed') }),
  fc.record({ state: fc.constantFrom('migrated', 'other'), at: time, by: str }),
);
const event = fc.record({
  seq: int,
  at: time,
  type: str,
  actor: strOrNull,
  data: fc.dictionary(str, fc.oneof(scalar, fc.constant(null)), { maxKeys: 3 }),
});
const evidence = fc.oneof(
  fc.record(
    {
      kind: fc.constant('c1219-table'),
      op: fc.constantFrom('read', 'write', 'erase'),
      tableId: fc.oneof(fc.integer({ min: 0, max: 0xffff }), fc.constant(0x10000)),
      offset: fc.oneof(fc.nat(), fc.constant(-1), fc.constant(undefined)),
      count: fc.nat(),
      bytes: hex,
    },
    { requiredKeys: ['kind', 'op', 'tableId', 'bytes'] },
  ),
  fc.record({ kind: fc.constant('c1219-procedure'), procedureId: int, request: hex, response: hex }),
  fc.record({
    kind: fc.constant('cosem'),
    op: fc.constantFrom('get', 'set', 'action'),
    classId: fc.integer({ min: -1, max: 0x10000 }),
    obis: fc.constantFrom('0-0:96.1.0.255', '1-0:1.8.0.255', '0-0:96.1', 'x'),
    index: int,
    bytes: hex,
  }),
  fc.record({ kind: fc.constantFrom('raw', 'other'), label: str, bytes: hex }),
);

describe('reading checks agree with the schemas', () => {
  const cases: Array<
    [string, FastCheck<unknown>, z.ZodType<unknown>, fc.Arbitrary<Record<string, unknown>>]
  > = [
    ['session', fastSessionIdentification, SessionIdentificationSchema, sessionId],
    ['identity', fastDeviceIdentity, DeviceIdentitySchema, identity],
    ['registration', fastMeterRegistration, MeterRegistrationSchema, registration],
    ['card record', fastCardRecordField, CardRecordFieldSchema, card],
    ['prepayment', fastPrepaymentSummary, PrepaymentSummarySchema, prepayment],
    ['clock', fastClockReading, ClockReadingSchema, clockReading],
    ['migration state', fastMigrationState, MigrationStateSchema, migrationState],
    ['event', fastMeterEvent, MeterEventSchema, event],
    ['evidence', fastEvidence, EvidenceSchema, evidence],
  ];
  it.each(cases)(
    '%s: accepted only when zod accepts, with zod’s value and key order',
    (_, fast, schema, arb) => {
      fc.assert(
        fc.property(mutated(arb), (v) => holdsContract(fast, schema, v)),
        { numRuns: 400 },
      );
    },
  );

  it('times: a real instant in toISOString form passes, anything else is left to zod', () => {
    const clockAt = (meterTime: string): unknown =>
      fastClockReading({ meterTime, hostTime: '2024-01-01T00:00:00.000Z', skewMs: 0 });
    for (const ok of ['2024-02-29T23:59:59.999Z', '2000-02-29T00:00:00.000Z', '0000-01-01T00:00:00.000Z'])
      expect(clockAt(ok)).toBeDefined();
    for (const no of [
      '2023-02-29T00:00:00.000Z', // no 29 February in 2023
      '1900-02-29T00:00:00.000Z', // nor in 1900
      '2024-04-31T00:00:00.000Z',
      '2024-13-01T00:00:00.000Z',
      '2024-00-10T00:00:00.000Z',
      '2024-01-00T00:00:00.000Z',
      '2024-01-01T24:00:00.000Z',
      '2024-01-01T23:60:00.000Z',
      '2024-01-01T23:59:60.000Z',
      '2024-01-01T23:59:59.999+00:00',
    ])
      expect(clockAt(no)).toBeUndefined();
    // Every instant toISOString writes passes.
    fc.assert(
      fc.property(fc.integer({ min: -62167219200000, max: 253402300799999 }), (ms) => {
        expect(clockAt(new Date(ms).toISOString())).toBeDefined();
      }),
    );
  });

  it('lists: every item or nothing', () => {
    fc.assert(
      fc.property(fc.array(mutated(evidence), { maxLength: 4 }), (v) =>
        holdsContract(fastEvidenceList, z.array(EvidenceSchema), v),
      ),
    );
    fc.assert(
      fc.property(fc.array(mutated(event), { maxLength: 3 }), (v) =>
        holdsContract(fastMeterEvents, z.array(MeterEventSchema), v),
      ),
    );
  });

  it('vouches for well-formed values (the fast path is the usual one)', () => {
    fc.assert(
      fc.property(iso, iso, fc.integer(), (a, b, skew) => {
        expect(fastClockReading({ meterTime: a, hostTime: b, skewMs: skew })).toEqual({
          meterTime: a,
          hostTime: b,
          skewMs: skew,
        });
      }),
    );
    expect(fastEvidence({ kind: 'c1219-table', op: 'read', tableId: 2049, bytes: '00ff' })).toEqual({
      kind: 'c1219-table',
      op: 'read',
      tableId: 2049,
      bytes: '00ff',
    });
    // Defers (does not reject outright) on what it cannot judge cheaply: zod still decides.
    expect(
      fastClockReading({ meterTime: '2026-01-01T12:00:00+01:00', hostTime: 'x', skewMs: 0 }),
    ).toBeUndefined();
    expect(
      fastEvidence({ kind: 'c1219-table', op: 'read', tableId: 1, offset: undefined, bytes: '' }),
    ).toBeUndefined();
    expect(fastSessionIdentification({ stack: 'a', protocol: 'b', details: new Map() })).toBeUndefined();
  });
});

describe('real readings take the fast path and make valid results', () => {
  const start = Date.UTC(2026, 0, 1, 12, 0, 0);

  async function c1218Result(p: ReturnType<typeof profile>, card: string | null) {
    const { meter, clock } = makeMeter(p, { card });
    const [a, b] = createMemPair();
    new C1218Server({ transport: b, tables: bindC1219(p, meter), clock, options: c1218ServerOptions(p) });
    const s = await drive(
      clock,
      openC1218Session({
        connect: a,
        credentials: { level: 'privileged', secret: secretOf(p, 'privileged') },
        clock,
      }),
    );
    try {
      return await drive(clock, interrogate(s, { clock, eventLogTail: 0 }));
    } finally {
      await drive(clock, s.close());
    }
  }

  it.each([
    ['ESME with a card', ESME, 'SUPB'],
    ['GSME without a card', GSME, null],
  ] as const)('C12.18 %s', async (_, name, cardOwner) => {
    const r = await c1218Result(profile(name), cardOwner);
    // The schema still describes what interrogate() builds without a final parse.
    expectSame(InterrogationResultSchema.parse(r), r);
    expect(r.gaps).toEqual([]);
    // Each reading passes the fast check as it is (no zod fallback needed).
    const fields: Array<[unknown, FastCheck<unknown>]> = [
      [r.session, fastSessionIdentification],
      [r.identity, fastDeviceIdentity],
      [r.registration, fastMeterRegistration],
      [r.cardRecord, fastCardRecordField],
      [r.prepayment, fastPrepaymentSummary],
      [r.clock, fastClockReading],
      [r.migrationState, fastMigrationState],
    ];
    for (const [value, fast] of fields) expectSame(fast(value), value);
    expectSame(
      fastEvidenceList(r.evidence.map((e) => e.item)),
      r.evidence.map((e) => e.item),
    );
    // And the evaluation of it: the fast check answers exactly the schema's value.
    const evaluation = evaluate(r, undefined, await loadBuiltinRuleset('mehrs-5.0'));
    expectSame(fastEvaluation(evaluation), EvaluationSchema.parse(evaluation));
  });

  it('the fake meter’s readings, events included', async () => {
    const clock = new ManualClock(start);
    const state = esmeState();
    state.events.push(
      { seq: 1, at: '2025-12-31T09:00:00.000Z', type: 'card-registered', actor: 'smso', data: { card: 'x' } },
      {
        seq: 2,
        at: '2025-12-31T10:00:00.000Z',
        type: 'vend',
        actor: null,
        data: { pence: 500, ok: true, n: null },
      },
    );
    const r = await interrogate(new FakeMeter(state, clock).session(), { clock, eventLogTail: 4 });
    expectSame(InterrogationResultSchema.parse(r), r);
    expect(r.events!.map((e) => e.seq)).toEqual([1, 2]);
    expectSame(fastMeterEvents(r.events), r.events);
  });
});

describe('journal snapshots: own entries as they are, read-back entries validated', () => {
  const start = Date.UTC(2026, 0, 1, 12, 0, 0);

  async function evaluated(): Promise<{
    journal: MemoryJournal;
    ruleset: Awaited<ReturnType<typeof loadBuiltinRuleset>>;
  }> {
    const clock = new ManualClock(start);
    const ruleset = await loadBuiltinRuleset('mehrs-5.1');
    const journal = new MemoryJournal();
    const r = await runMigrationFlow({
      session: new FakeMeter(esmeState(), clock).session(),
      ruleset,
      newCredentials: [{ level: 'supplier', secret: Buffer.from('c0ffee', 'hex') }],
      journal,
      clock,
      stopAfter: 'evaluate',
    });
    expect(r.before).not.toBeNull();
    return { journal, ruleset };
  }

  it('ownFrom: entries at or after it are not parsed again; the default validates every entry', async () => {
    const { journal } = await evaluated();
    const entries = journal.entries();
    const done = entries.find((e) => e.event === 'done' && e.step === 'interrogate');
    const journaled = (done as unknown as { data: { result: unknown } }).data.result;
    expect(snapshotFromJournal(entries, { ownFrom: 0 }).before).toBe(journaled);
    const validated = snapshotFromJournal(entries).before;
    expect(validated).not.toBe(journaled);
    expectSame(validated, journaled);
  });

  it('a resumed flow still validates what it read back: a tampered result is MigrationJournalInvalid', async () => {
    const { journal, ruleset } = await evaluated();
    const tampered = journal
      .toText()
      .trimEnd()
      .split('\n')
      .map((line) => JSON.parse(line) as JournalEntry);
    const done = tampered.find((e) => e.event === 'done' && e.step === 'interrogate') as unknown as {
      data: { result: { identity: { deviceType: string } } };
    };
    done.data.result.identity.deviceType = 'PPMID';
    // Drop the end entry so the flow resumes instead of answering from the journal.
    const open = tampered.filter((e) => e.event !== 'end');
    const clock = new ManualClock(start);
    await expect(
      runMigrationFlow({
        session: new FakeMeter(esmeState(), clock).session(),
        ruleset,
        newCredentials: [{ level: 'supplier', secret: Buffer.from('c0ffee', 'hex') }],
        journal: new MemoryJournal(open),
        clock,
        stopAfter: 'evaluate',
      }),
    ).rejects.toMatchObject({ code: ErrorCode.MigrationJournalInvalid });
  });
});
