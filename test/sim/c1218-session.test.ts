/**
 * The C12.18 MeterSession against a simulated meter (binding + C1218Server) over an in-memory
 * pair on a ManualClock: profile selection from ST1, every MeterSession read through the
 * profile's tables, refusals as one-line SimErrors, and the migration layer's interrogate() and
 * runMigrationFlow() on top.
 */
import type { ManualClock } from '../../src/core/clock';
import { ErrorCode, SimError } from '../../src/core/errors';
import type { Meter } from '../../src/device/meter';
import { runMigrationFlow } from '../../src/migration/flow';
import { interrogate } from '../../src/migration/interrogate';
import { MemoryJournal } from '../../src/migration/journal';
import { registrationFromRecords } from '../../src/migration/registration';
import { loadBuiltinRuleset } from '../../src/migration/ruleset';
import {
  openC1218Session,
  type C1218MeterSession,
  type C1218SessionOptions,
} from '../../src/migration/sessions/c1218-session';
import { C1218Server } from '../../src/protocols/c1218/server';
import { bindC1219, c1218ServerOptions } from '../../src/profiles/c1219-binding';
import type { FirmwareProfile } from '../../src/profiles/schema';
import { createMemPair } from '../../src/transport/mem';
import { ESME, ESME_G05, GSME, drive, makeMeter, profile, secretOf } from './helpers';

function rig(p: FirmwareProfile, card: string | null = 'SUPB') {
  const { meter, clock } = makeMeter(p, { card });
  const open = async (
    level: string,
    extra: Partial<C1218SessionOptions> = {},
    secret: Uint8Array = secretOf(p, level),
  ): Promise<C1218MeterSession> => {
    const [a, b] = createMemPair();
    new C1218Server({ transport: b, tables: bindC1219(p, meter), clock, options: c1218ServerOptions(p) });
    return drive(clock, openC1218Session({ connect: a, credentials: { level, secret }, clock, ...extra }));
  };
  return { meter, clock, open };
}

async function rejection(work: Promise<unknown>): Promise<SimError> {
  try {
    await work;
  } catch (e) {
    if (e instanceof SimError) return e;
    throw e;
  }
  throw new Error('expected a SimError');
}

function registrationFor(meter: Meter, supplierId: string, cohort: 'MOC Secure' | 'IOC' = 'MOC Secure') {
  const r = meter.readRegistration();
  const esme = meter.readIdentity().deviceType === 'ESME';
  return registrationFromRecords([
    {
      mpxn: (esme ? r.mpanCore : r.mprn)!,
      kind: esme ? 'mpan-core' : 'mprn',
      deviceType: esme ? 'ESME' : 'GSME',
      supplierId,
      cohort,
      source: 'test',
      line: 2,
    },
  ]);
}

describe('openC1218Session', () => {
  it('without a profile: identifies the firmware from ST1 and says so', async () => {
    const { clock, open } = rig(profile(ESME));
    const s = await open('privileged');
    expect(s.profile.id).toBe(ESME);
    expect(s.selection).toEqual({ profile: ESME, source: 'st1', st1: 'SECU LIB100 hw 1.0 fw 4.0' });
    const id = await drive(clock, s.identify());
    expect(id.value).toMatchObject({
      stack: 'c1218',
      protocol: 'ANSI C12.18 v1.0',
      details: {
        profile: ESME,
        profileSelection: 'identified from ST1',
        level: 'privileged',
        packetSize: 1024,
      },
    });
    expect(id.evidence[0]).toMatchObject({ kind: 'c1219-table', op: 'read', tableId: 1 });
    // P4X2G05 differs from P4X2G04 in ST1 FW_VERSION only; ST1 tells them apart.
    const g05 = rig(profile(ESME_G05));
    expect((await g05.open('reader')).profile.id).toBe(ESME_G05);
    await drive(clock, s.close());
  });

  it('a given profile that does not describe the meter is refused before Security', async () => {
    const { open, meter } = rig(profile(ESME));
    const e = await rejection(open('privileged', { profile: profile(GSME) }));
    expect(e.code).toBe(ErrorCode.ProfileIncompatible);
    expect(e.message).toContain('SECU LIB100 hw 1.0 fw 4.0');
    expect(meter.state.security.failures.total).toBe(0);
  });

  it('wrong password: SessionAuthFailed; unknown level: ConfigInvalid', async () => {
    const { open, meter } = rig(profile(ESME));
    const bad = await rejection(open('privileged', {}, Buffer.from('guess')));
    expect(bad.code).toBe(ErrorCode.SessionAuthFailed);
    expect(meter.state.security.failures.consecutive).toBe(1);
    const unknown = await rejection(open('supervisor', {}, Buffer.from('x')));
    expect(unknown.code).toBe(ErrorCode.ConfigInvalid);
    expect(unknown.message).toContain('known: reader, privileged, engineering');
  });
});

describe('C1218MeterSession reads and operations', () => {
  it('interrogate() reads every field through the profile tables (events: a documented gap)', async () => {
    const p = profile(ESME);
    const { meter, clock, open } = rig(p);
    const s = await open('privileged');
    const result = await drive(clock, interrogate(s, { clock }));
    const id = meter.readIdentity();
    const card = meter.readCardRecord()!;
    expect(result.identity).toEqual({
      manufacturer: 'Secure',
      model: 'Liberty 100',
      deviceType: 'ESME',
      serial: id.serial,
      deviceId: id.deviceId,
      applicationFirmwareId: 'P4X2G04',
      metrologyFirmwareId: 'B2-00',
    });
    expect(result.registration).toEqual({
      mpxn: meter.readRegistration().mpanCore,
      supplierId: 'SUPA',
      siteId: meter.readRegistration().siteId,
    });
    expect(result.cardRecord).toEqual({
      present: true,
      paymentCardId: card.paymentCardId,
      issuerSupplierId: 'SUPB',
      registeredAt: new Date(Math.floor(card.registeredAt / 1000) * 1000).toISOString(),
    });
    expect(result.prepayment).toEqual({
      paymentMode: 'prepayment',
      balancePence: 1000,
      emergencyCreditPence: 0,
      emergencyCreditActive: false,
      debtPence: 0,
      lastVendAt: null,
    });
    expect(result.migrationState).toEqual({ state: 'smso-managed' });
    expect(Math.abs(result.clock!.skewMs)).toBeLessThan(2000);
    expect(result.gaps.map((g) => [g.field, g.error.codeName])).toEqual([['events', 'ServiceNotSupported']]);
    const cardEvidence = result.evidence.find((e) => e.field === 'cardRecord')!.item;
    expect(cardEvidence).toMatchObject({ kind: 'c1219-table', op: 'read', tableId: 2049 });
    await drive(clock, s.close());
  });

  it('reader: the card table is denied, so card record and registration (Site ID) are gaps', async () => {
    const { clock, open } = rig(profile(ESME));
    const s = await open('reader');
    const result = await drive(clock, interrogate(s, { clock }));
    expect(result.identity?.applicationFirmwareId).toBe('P4X2G04');
    expect(result.cardRecord).toBeNull();
    expect(result.gaps.map((g) => [g.field, g.error.codeName])).toEqual([
      ['registration', 'ServiceAccessDenied'],
      ['cardRecord', 'ServiceAccessDenied'],
      ['prepayment', 'ServiceAccessDenied'],
      ['events', 'ServiceNotSupported'],
    ]);
    const e = await rejection(drive(clock, s.clearCardData()));
    expect(e.code).toBe(ErrorCode.ServiceAccessDenied);
    expect(e.message).toBe('MP1 CLEAR_PAYMENT_CARD_DATA: access level reader may not run it (isc)');
  });

  it('clearCardData on P4X2G05 runs both steps the profile declares: MP1 (card) then MP5 (Site ID)', async () => {
    const { meter, clock, open } = rig(profile(ESME_G05));
    const s = await open('privileged');
    const r = await drive(clock, s.clearCardData());
    expect(r.value).toEqual({ cleared: true });
    expect(r.evidence).toEqual([
      { kind: 'c1219-procedure', procedureId: 2049, request: '', response: '01' },
      { kind: 'c1219-procedure', procedureId: 2053, request: '', response: '01' },
    ]);
    expect((await drive(clock, s.readCardRecord())).value).toBeNull();
    expect((await drive(clock, s.readRegistration())).value.siteId).toBeNull();
    expect(meter.readRegistration().siteId).toBeNull();
  });

  it('migrate needs a new secret for every level the procedure sets', async () => {
    const { clock, open, meter } = rig(profile(ESME));
    const s = await open('privileged');
    const e = await rejection(
      drive(
        clock,
        s.migrate({
          migratedBy: 'DCC',
          at: clock.now(),
          credentials: [{ level: 'privileged', secret: Buffer.from('x') }],
        }),
      ),
    );
    expect(e.code).toBe(ErrorCode.ConfigInvalid);
    expect(e.message).toBe('MP2 MIGRATE sets new secrets for reader, privileged; none given for reader');
    expect(meter.readMigration().state).toBe('smso-managed');
  });
});

describe('runMigrationFlow over the C12.18 session', () => {
  const creds = [
    { level: 'reader', secret: Buffer.from('new-reader') },
    { level: 'privileged', secret: Buffer.from('new-privileged') },
  ];

  async function flow(
    p: FirmwareProfile,
    card: string | null,
    ruleset: 'mehrs-5.0' | 'mehrs-5.1',
    clock?: ManualClock,
  ) {
    const r = rig(p, card);
    const s = await r.open('privileged');
    const result = await drive(
      clock ?? r.clock,
      runMigrationFlow({
        session: s,
        registration: registrationFor(r.meter, 'SUPA'),
        ruleset: await loadBuiltinRuleset(ruleset),
        context: {
          eligibleProducts: {
            id: 'test',
            source: 'test',
            description: null,
            modelled: true,
            products: [
              {
                model: p.identity.model,
                firmware: p.identity.applicationFirmwareId,
                manufacturer: null,
                deviceType: null,
                line: 1,
              },
            ],
          } as never,
        },
        newCredentials: creds,
        journal: new MemoryJournal(),
        clock: r.clock,
      }),
    );
    return { result, meter: r.meter };
  }

  it('ESME, card of another supplier: mehrs-5.0 blocks with MA516; mehrs-5.1 migrates, clears and verifies', async () => {
    const blocked = await flow(profile(ESME), 'SUPB', 'mehrs-5.0');
    expect(blocked.result.outcome).toBe('blocked');
    expect(blocked.result.evaluation?.blockingCodes).toEqual(['MA516']);
    expect(blocked.meter.readCardRecord()).not.toBeNull();

    const done = await flow(profile(ESME), 'SUPB', 'mehrs-5.1');
    expect(done.result.outcome).toBe('verified');
    expect(done.meter.readCardRecord()).toBeNull();
    expect(done.meter.readRegistration().siteId).toBeNull();
    expect(done.meter.readMigration()).toMatchObject({ state: 'migrated', by: 'smets1-sim' });
    expect(done.meter.events().map((e) => e.type)).toEqual(
      expect.arrayContaining(['migrated', 'card-cleared']),
    );
    // The secrets in the MP2 parameters never reach the journal.
    expect(JSON.stringify(done.result)).not.toContain(Buffer.from('new-privileged').toString('hex'));
  });

  it('GSME, card of another supplier: MA517 blocks under 5.0', async () => {
    const r = await flow(profile(GSME), 'SUPB', 'mehrs-5.0');
    expect(r.result.outcome).toBe('blocked');
    expect(r.result.evaluation?.blockingCodes).toEqual(['MA517']);
  });

  it('P4X2G05 two-step clearing: the flow clears card and Site ID and verifies', async () => {
    const r = await flow(profile(ESME_G05), 'SUPB', 'mehrs-5.1');
    expect(r.result.outcome).toBe('verified');
  });
});
