import { ManualClock } from '../../src/core/clock';
import { ErrorCode, SimError } from '../../src/core/errors';
import { interrogate } from '../../src/migration/interrogate';
import {
  INTERROGATION_FIELDS,
  interrogationJsonSchema,
  parseInterrogationResult,
} from '../../src/migration/interrogation-schema';
import { CARD_FOREIGN, FOREIGN, FakeMeter, MPAN_A, esmeState } from './fake-session';
import { drive } from './drive';

const start = Date.UTC(2026, 0, 1, 12, 0, 0);

describe('interrogate', () => {
  it('reads every field into the versioned result, with wire evidence per field', async () => {
    const clock = new ManualClock(start);
    const meter = new FakeMeter(esmeState(), clock);
    const r = await interrogate(meter.session(), { clock, eventLogTail: 4 });
    expect(Object.keys(r)).toEqual([
      'schema',
      'version',
      'interrogatedAt',
      ...INTERROGATION_FIELDS,
      'gaps',
      'evidence',
    ]);
    expect(r.schema).toBe('smets1-sim/interrogation');
    expect(r.version).toBe(1);
    expect(r.interrogatedAt).toBe('2026-01-01T12:00:00.000Z');
    expect(r.session).toEqual({
      stack: 'fake',
      protocol: 'in-memory test meter',
      details: { maxPacket: 64 },
    });
    expect(r.identity).toEqual(esmeState().identity);
    expect(r.registration).toEqual({ mpxn: MPAN_A, supplierId: 'ABCD', siteId: 'SITE-0001' });
    expect(r.cardRecord).toEqual({
      present: true,
      paymentCardId: CARD_FOREIGN,
      issuerSupplierId: FOREIGN,
      registeredAt: '2019-05-01T10:00:00.000Z',
    });
    expect(r.prepayment?.balancePence).toBe(1250);
    // The fake meter runs 1.5 s ahead of the host (clockOffsetMs).
    expect(r.clock).toEqual({
      meterTime: '2026-01-01T12:00:01.500Z',
      hostTime: '2026-01-01T12:00:00.000Z',
      skewMs: 1500,
    });
    expect(r.migrationState).toEqual({ state: 'smso-managed' });
    expect(r.events).toEqual([]);
    expect(r.gaps).toEqual([]);
    expect(r.evidence).toEqual([
      { field: 'session', item: { kind: 'raw', label: 'ident', bytes: '00' } },
      // MT1 (2049) holds the serial "E17UP000001" as ASCII (modelled layout)
      {
        field: 'identity',
        item: {
          kind: 'c1219-table',
          op: 'read',
          tableId: 2049,
          bytes: Buffer.from('E17UP000001').toString('hex'),
        },
      },
      {
        field: 'registration',
        item: {
          kind: 'c1219-table',
          op: 'read',
          tableId: 2050,
          bytes: Buffer.from(`${MPAN_A}|SITE-0001`).toString('hex'),
        },
      },
      {
        field: 'cardRecord',
        item: {
          kind: 'c1219-table',
          op: 'read',
          tableId: 2051,
          bytes: Buffer.from(CARD_FOREIGN).toString('hex'),
        },
      },
      {
        field: 'migrationState',
        item: {
          kind: 'c1219-table',
          op: 'read',
          tableId: 2052,
          bytes: Buffer.from('smso-managed').toString('hex'),
        },
      },
    ]);
    // What it wrote validates against its own schema and survives a JSON round trip.
    expect(parseInterrogationResult(JSON.parse(JSON.stringify(r)))).toEqual(r);
  });

  it('no card held and unreadable card are different values', async () => {
    const clock = new ManualClock(start);
    const none = await interrogate(new FakeMeter(esmeState({ card: null }), clock).session(), { clock });
    expect(none.cardRecord).toEqual({ present: false });
    const m = new FakeMeter(esmeState(), clock);
    m.refuse.set('readCardRecord', new SimError(ErrorCode.ServiceAccessDenied, 'isc'));
    const unreadable = await interrogate(m.session(), { clock });
    expect(unreadable.cardRecord).toBeNull();
    expect(unreadable.gaps.map((g) => [g.field, g.error.codeName])).toEqual([
      ['cardRecord', 'ServiceAccessDenied'],
    ]);
  });

  it('a session value outside the schema becomes a gap (ServiceInvalidResponse), not a crash', async () => {
    const clock = new ManualClock(start);
    const m = new FakeMeter(esmeState(), clock);
    (m.state.prepayment as unknown as { balancePence: number }).balancePence = 12.5; // not integer pence
    const r = await interrogate(m.session(), { clock });
    expect(r.prepayment).toBeNull();
    expect(r.gaps[0]!.field).toBe('prepayment');
    expect(r.gaps[0]!.error.codeName).toBe('ServiceInvalidResponse');
    expect(r.gaps[0]!.error.message).toMatch(
      /^prepayment: session returned an invalid value: balancePence: /,
    );
  });

  it('retries a transient fault with back-off, reopening a factory session', async () => {
    const clock = new ManualClock(start);
    const m = new FakeMeter(esmeState(), clock);
    m.inject(
      'readCardRecord',
      { before: new SimError(ErrorCode.LinkTimeout, 't1') },
      { before: new SimError(ErrorCode.ServiceBusy, 'bsy') },
    );
    const retries: Array<[string, number, number]> = [];
    const r = await drive(
      interrogate(async () => m.session(), {
        clock,
        retry: { attempts: 3, baseDelayMs: 100, maxDelayMs: 1000 },
        onRetry: (e, attempt, delay) => {
          retries.push([e.codeName, attempt, delay]);
        },
      }),
      clock,
    );
    expect(r.cardRecord?.present).toBe(true);
    expect(retries).toEqual([
      ['LinkTimeout', 1, 100],
      ['ServiceBusy', 2, 200],
    ]);
    expect(m.calls.readCardRecord).toBe(3);
    expect(m.sessionsOpened).toBe(3); // a fresh session after each transient fault
  });

  it('throws when transient faults outlast the policy', async () => {
    const clock = new ManualClock(start);
    const m = new FakeMeter(esmeState(), clock);
    const drop = new SimError(ErrorCode.TransportDisconnected, 'link dropped');
    m.inject('readIdentity', { before: drop }, { before: drop });
    await expect(
      drive(
        interrogate(m.session(), { clock, retry: { attempts: 2, baseDelayMs: 10, maxDelayMs: 10 } }),
        clock,
      ),
    ).rejects.toBe(drop);
  });

  it('publishes a JSON Schema of the result', () => {
    const schema = interrogationJsonSchema();
    expect(schema.$id).toBe('https://smets1-sim/schemas/interrogation-v1.json');
    expect(schema.required).toEqual([
      'schema',
      'version',
      'interrogatedAt',
      ...INTERROGATION_FIELDS,
      'gaps',
      'evidence',
    ]);
  });

  it('rejects stored results of another shape with a coded error', () => {
    expect(() =>
      parseInterrogationResult({ schema: 'smets1-sim/interrogation', version: 2 }, 'old.json'),
    ).toThrow(expect.objectContaining({ code: ErrorCode.MigrationResultInvalid }));
  });
});

describe('interrogate with fields (a sweep reads what its checks need)', () => {
  it('asks the meter only for the fields given; the rest are null and listed in notRead, not in gaps', async () => {
    const clock = new ManualClock(start);
    const meter = new FakeMeter(esmeState(), clock);
    const r = await interrogate(meter.session(), {
      clock,
      eventLogTail: 4,
      fields: ['identity', 'registration', 'cardRecord'],
    });
    expect(meter.calls).toMatchObject({
      identify: 1,
      readIdentity: 1,
      readRegistration: 1,
      readCardRecord: 1,
      readPrepaymentSummary: 0,
      readClock: 0,
      readMigrationState: 0,
      readEventLog: 0,
    });
    expect(r.cardRecord).toMatchObject({ present: true, paymentCardId: CARD_FOREIGN });
    expect([r.prepayment, r.clock, r.migrationState, r.events]).toEqual([null, null, null, null]);
    expect(r.notRead).toEqual(['prepayment', 'clock', 'migrationState', 'events']);
    expect(r.gaps).toEqual([]);
    expect(new Set(r.evidence.map((e) => e.field))).toEqual(
      new Set(['session', 'identity', 'registration', 'cardRecord']),
    );
    // notRead sits between gaps and evidence, and the result parses as a v1 interrogation.
    expect(Object.keys(r).slice(-3)).toEqual(['gaps', 'notRead', 'evidence']);
    expect(parseInterrogationResult(JSON.parse(JSON.stringify(r)), 'scoped.json')).toEqual(r);
  });

  it('session is always read, even when the fields leave it out; every field given: no notRead key', async () => {
    const clock = new ManualClock(start);
    const meter = new FakeMeter(esmeState(), clock);
    const r = await interrogate(meter.session(), { clock, fields: [] });
    expect(meter.calls.identify).toBe(1);
    expect(r.session).not.toBeNull();
    expect(r.notRead).toEqual([...INTERROGATION_FIELDS].filter((f) => f !== 'session'));
    const full = await interrogate(new FakeMeter(esmeState(), clock).session(), {
      clock,
      fields: INTERROGATION_FIELDS,
    });
    expect('notRead' in full).toBe(false);
  });
});
