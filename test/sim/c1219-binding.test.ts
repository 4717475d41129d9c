/**
 * Integration: C1218Client <-> C1218Server <-> the profile-bound C12.19 engine <-> a Meter,
 * over an in-memory pair on a ManualClock. Profiles are the shipped ones
 * (firmware-profiles/*.yaml): MT1 = payment card + Site ID (privileged/engineering only),
 * MT2 = registration, MP1 = clear, MP2 = migrate, MP5 = clear Site ID (P4X2G05 only).
 */
import { ErrorCode, SimError } from '../../src/core/errors';
import { mp, mt } from '../../src/protocols/c1219/contract';
import { decodeProcedureResponse } from '../../src/protocols/c1219/procedure-codec';
import { ST52_LAYOUT, st1Layout, st42Layout } from '../../src/protocols/c1219/standard-layouts';
import { decodeTable } from '../../src/protocols/c1219/table-codec';
import { ltimeToEpochMs } from '../../src/protocols/c1219/ltime';
import type { LTime } from '../../src/protocols/c1219/field-types';
import { c1219Map } from '../../src/profiles/c1219-binding-layouts';
import { encodeProcedureParams, tableValues } from '../../src/profiles/c1219-binding-records';
import { bindC1219, type ProcedureActivity } from '../../src/profiles/c1219-binding';
import type { FirmwareProfile } from '../../src/profiles/schema';
import { ESME, ESME_G05, GSME, boundPair, makeMeter, profile, secretOf, withWritableTable } from './helpers';

const vcOf = (p: FirmwareProfile) => ({ ctx: c1219Map(p).context, pad: 0x00 });

function values(p: FirmwareProfile, n: number, bytes: Buffer): Map<string, unknown> {
  return tableValues(c1219Map(p).table(mt(n))!, bytes, vcOf(p));
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

describe('bindC1219: ESME P4X2G04 over C12.18', () => {
  const p = profile(ESME);

  it('serves ST1 from the profile and the meter serial to anyone logged on', async () => {
    const { meter, clock } = makeMeter(p);
    const s = boundPair(p, meter, clock);
    await s.logon('reader');
    const st1 = decodeTable(st1Layout(0), await s.run(s.client.readTable(1)), c1219Map(p).context);
    expect(st1).toEqual({
      MANUFACTURER: 'SECU',
      ED_MODEL: 'LIB100',
      HW_VERSION_NUMBER: 1,
      HW_REVISION_NUMBER: 0,
      FW_VERSION_NUMBER: 4,
      FW_REVISION_NUMBER: 0,
      MFG_SERIAL_NUMBER: meter.readIdentity().serial,
    });
  });

  it('reader: MT2 registration yes, MT1 card record isc, MP1 clear isc (nothing cleared)', async () => {
    const { meter, clock } = makeMeter(p);
    const s = boundPair(p, meter, clock);
    const seen: ProcedureActivity[] = [];
    s.binding.on('procedure', (a) => seen.push(a));
    await s.logon('reader');
    const mt2 = values(p, 2, await s.run(s.client.readTable(mt(2))));
    expect(mt2.get('registration.supplierId')).toBe('SUPA');
    expect(mt2.get('registration.mpanCore')).toBe(meter.readRegistration().mpanCore);

    const denied = await rejection(s.run(s.client.readTable(mt(1))));
    expect(denied.code).toBe(ErrorCode.ServiceAccessDenied);
    expect(denied.context['wireCode']).toBe(0x03);

    const clear = await rejection(s.run(s.client.runProcedure(1, Buffer.alloc(0), { mfg: true })));
    expect(clear.code).toBe(ErrorCode.ServiceAccessDenied);
    expect(meter.readCardRecord()).not.toBeNull();
    expect(seen).toEqual([
      expect.objectContaining({
        label: 'MP1',
        name: 'CLEAR_PAYMENT_CARD_DATA',
        code: 0x03,
        result: null,
        actor: 'c1218/reader',
      }),
    ]);
  });

  it('privileged: reads the card record, clears it with MP1, reads it back empty; the event log shows the clear', async () => {
    const { meter, clock } = makeMeter(p);
    const card = meter.readCardRecord()!;
    const siteId = meter.readRegistration().siteId;
    const s = boundPair(p, meter, clock);
    await s.logon('privileged');

    const before = values(p, 1, await s.run(s.client.readTable(mt(1))));
    expect(before.get('card.present')).toBe(true);
    expect(before.get('card.paymentCardId')).toBe(card.paymentCardId);
    expect(before.get('card.issuerSupplierId')).toBe('SUPB');
    // LTIME carries whole seconds (TM_FORMAT 2).
    expect(before.get('card.registeredAt')).toBe(Math.floor(card.registeredAt / 1000) * 1000);
    expect(before.get('registration.siteId')).toBe(siteId);

    const res = await s.run(s.client.runProcedure(1, Buffer.alloc(0), { mfg: true }));
    expect(res.result).toBe(0);
    // RESP_DATA 01: something was cleared (modelled, c1219-binding-procedures.ts).
    expect([...res.data]).toEqual([0x01]);

    const after = values(p, 1, await s.run(s.client.readTable(mt(1))));
    expect(after.get('card.present')).toBe(false);
    expect(after.get('card.paymentCardId')).toBeNull();
    expect(after.get('card.issuerSupplierId')).toBeNull();
    expect(after.get('card.registeredAt')).toBeNull();
    expect(after.get('registration.siteId')).toBeNull();

    const cleared = meter.events().filter((e) => e.type === 'card-cleared');
    expect(cleared).toHaveLength(1);
    expect(cleared[0]!.actor).toBe('c1218/privileged');
    expect(cleared[0]!.data).toMatchObject({ paymentCardId: card.paymentCardId, siteId });

    // A second clear finds nothing: completed, RESP_DATA 00, no second event.
    const again = await s.run(s.client.runProcedure(1, Buffer.alloc(0), { mfg: true }));
    expect([...again.data]).toEqual([0x00]);
    expect(meter.events().filter((e) => e.type === 'card-cleared')).toHaveLength(1);
  });

  it('wrong password: isc, counted on the device; the 5th locks out (dlk even for the right one)', async () => {
    const { meter, clock } = makeMeter(p);
    const s = boundPair(p, meter, clock);
    const wrong = Buffer.from('not-the-password');
    for (let i = 1; i <= 5; i++) {
      const e = await rejection(s.logon('privileged', wrong));
      expect(e.code).toBe(ErrorCode.SessionAuthFailed);
      expect(meter.state.security.failures.consecutive).toBe(i);
    }
    const until = meter.state.security.lockedUntil!;
    expect(until).toBeGreaterThan(clock.now());
    expect(until).toBeLessThanOrEqual(clock.now() + p.security.lockout.lockoutMs);
    const locked = await rejection(s.logon('privileged'));
    expect(locked.code).toBe(ErrorCode.SessionLockedOut);
    expect(meter.events().map((e) => e.type)).toEqual(expect.arrayContaining(['bad-password', 'locked-out']));
    // The lock-out runs on the device's time source: after it, the right password works.
    await s.run(s.client.terminate());
    await clock.advanceAsync(p.security.lockout.lockoutMs + 1, 1000);
    await s.logon('privileged');
    expect(meter.state.security.failures.consecutive).toBe(0);
  });

  it('MP2 migrate replaces the secrets at once: ST42 follows, the old password fails, the new one works', async () => {
    const { meter, clock } = makeMeter(p);
    const s = boundPair(p, meter, clock);
    await s.logon('privileged');
    const proc = c1219Map(p).procedureByAction('migrate')!;
    const newReader = Buffer.from('new-reader-secret');
    const newPriv = Buffer.alloc(20, 0xab);
    const params = encodeProcedureParams(
      proc,
      {
        by: 'DCC',
        'newSecrets.reader': newReader.toString('hex'),
        'newSecrets.privileged': newPriv.toString('hex'),
      },
      vcOf(p),
    );
    // BY STRING(16) + READER_SECRET BINARY(20) + PRIVILEGED_SECRET BINARY(20)
    expect(params).toHaveLength(56);
    const r = await s.run(s.client.runProcedure(2, params, { mfg: true }));
    expect([...r.data]).toEqual([0x01]);
    expect(meter.readMigration()).toMatchObject({ state: 'migrated', by: 'DCC' });
    // The stored secret is the 20-byte padded form (pad 0x00): equal for Security.
    expect(meter.state.security.secrets['reader']).toBe(
      Buffer.concat([newReader, Buffer.alloc(3)]).toString('hex'),
    );
    const st42 = decodeTable(st42Layout(3, 20), await s.run(s.client.readTable(42)), c1219Map(p).context);
    expect((st42['PASSWORDS'] as { ACCESS_PERMISSIONS: number }[]).map((x) => x.ACCESS_PERMISSIONS)).toEqual([
      1, 2, 4,
    ]);
    await s.run(s.client.terminate());

    const old = await rejection(s.logon('privileged'));
    expect(old.code).toBe(ErrorCode.SessionAuthFailed);
    await s.logon('privileged', newPriv);
    await s.run(s.client.terminate());
    await s.logon('reader', newReader);
  });

  it('SP10 sets the meter clock (device operation), ST52 then reads the new time', async () => {
    const { meter, clock } = makeMeter(p);
    const s = boundPair(p, meter, clock);
    await s.logon('privileged');
    const target = Date.UTC(2027, 5, 15, 8, 30, 0);
    const sp10 = c1219Map(p).procedures.find((x) => x.ref.label === 'SP10')!;
    await s.run(s.client.runProcedure(10, encodeProcedureParams(sp10, { to: target }, vcOf(p))));
    const st52 = decodeTable(ST52_LAYOUT, await s.run(s.client.readTable(52)), c1219Map(p).context);
    const read = ltimeToEpochMs(st52['CLOCK_CALENDAR'] as LTime);
    expect(read - target).toBeGreaterThanOrEqual(0);
    expect(read - target).toBeLessThan(60_000);
    expect(meter.events().at(-1)).toMatchObject({
      type: 'clock-set',
      actor: 'c1218/privileged',
      data: { to: target },
    });
  });

  it('a procedure with undecodable parameters answers ST8 result 2 and changes nothing', async () => {
    const { meter, clock } = makeMeter(p);
    const s = boundPair(p, meter, clock);
    await s.logon('privileged');
    const e = await rejection(s.run(s.client.runProcedure(2, Buffer.alloc(5), { mfg: true })));
    expect(e.code).toBe(ErrorCode.ServiceProcedureFailed);
    expect(e.context['result']).toBe(2);
    expect(meter.readMigration().state).toBe('smso-managed');
  });
});

describe('bindC1219: firmware variants and device types', () => {
  it('P4X2G05: MP1 clears the card only; MP5 refuses while a card is present (result 3, reason in ST8)', async () => {
    const p = profile(ESME_G05);
    const { meter, clock } = makeMeter(p);
    const s = boundPair(p, meter, clock);
    await s.logon('privileged');
    const refused = await rejection(s.run(s.client.runProcedure(5, Buffer.alloc(0), { mfg: true })));
    expect(refused.code).toBe(ErrorCode.ServiceProcedureFailed);
    expect(refused.context['result']).toBe(3);
    const st8 = decodeProcedureResponse(await s.run(s.client.readTable(8)), 'little');
    expect(st8.data.toString('latin1')).toBe('card-present');

    await s.run(s.client.runProcedure(1, Buffer.alloc(0), { mfg: true }));
    expect(meter.readCardRecord()).toBeNull();
    expect(meter.readRegistration().siteId).not.toBeNull();
    const mt1 = values(p, 1, await s.run(s.client.readTable(mt(1))));
    expect(mt1.get('card.present')).toBe(false);
    expect(mt1.get('registration.siteId')).toBe(meter.readRegistration().siteId);

    await s.run(s.client.runProcedure(5, Buffer.alloc(0), { mfg: true }));
    expect(meter.readRegistration().siteId).toBeNull();
  });

  it('GSME: MT2 carries the MPRN; ST0 NAMEPLATE_TYPE is gas (0)', async () => {
    const p = profile(GSME);
    const { meter, clock } = makeMeter(p);
    const s = boundPair(p, meter, clock);
    await s.logon('reader');
    const mt2 = values(p, 2, await s.run(s.client.readTable(mt(2))));
    expect(mt2.get('registration.mprn')).toBe(meter.readRegistration().mprn);
    expect(s.binding.engine.genConfig()['NAMEPLATE_TYPE']).toBe(0);
  });

  it('engineering level may reset a lock-out with MP3 (resetFailures)', async () => {
    const p = profile(ESME);
    const { meter, clock } = makeMeter(p);
    const s = boundPair(p, meter, clock);
    await s.logon('engineering');
    // Failures counted meanwhile (e.g. by a second optical session), then reset over this one.
    await meter.recordFailedLogon('test', 'reader');
    await meter.recordFailedLogon('test', 'reader');
    await s.run(s.client.runProcedure(3, Buffer.alloc(0), { mfg: true }));
    expect(meter.state.security.failures.consecutive).toBe(0);
    expect(meter.events().at(-1)).toMatchObject({
      type: 'failures-reset',
      actor: 'c1218/engineering',
      data: { previous: 2 },
    });
  });
});

describe('bindC1219: writable tables and configuration errors', () => {
  const base = profile(ESME);
  // A modelled writable table (no shipped profile has one): supplier and low-credit threshold.
  const writable = withWritableTable(base);

  function image(supplier: string, lowCredit: number): Buffer {
    return Buffer.from([
      ...Buffer.from(supplier.padEnd(4, ' '), 'latin1'), // SUPPLIER_ID STRING(4)
      lowCredit & 0xff,
      (lowCredit >> 8) & 0xff,
      0,
      0, // LOW_CREDIT UINT32, little-endian (dataOrder)
    ]);
  }

  it('a write runs one device operation per changed setter', async () => {
    const { meter, clock } = makeMeter(writable);
    const s = boundPair(writable, meter, clock);
    await s.logon('privileged');
    await s.run(s.client.writeTable(mt(9), image('SUPC', 300)));
    expect(meter.readRegistration().supplierId).toBe('SUPC');
    expect(meter.readPrepayment().lowCreditThreshold).toBe(300);
    const types = meter
      .events()
      .slice(-2)
      .map((e) => [e.type, e.actor]);
    expect(types).toEqual([
      ['supplier-changed', 'c1218/privileged'],
      ['prepayment-configured', 'c1218/privileged'],
    ]);
    // Same values again: nothing changes, no event.
    const seq = meter.state.eventSeq;
    await s.run(s.client.writeTable(mt(9), image('SUPC', 300)));
    expect(meter.state.eventSeq).toBe(seq);
  });

  it('a value the device refuses answers iar; a reader may not write (isc)', async () => {
    const { meter, clock } = makeMeter(writable);
    const s = boundPair(writable, meter, clock);
    await s.logon('privileged');
    const bad = await rejection(s.run(s.client.writeTable(mt(9), image('s!', 200))));
    expect(bad.context['wireCode']).toBe(0x05);
    expect(meter.readRegistration().supplierId).toBe('SUPA');
    await s.run(s.client.terminate());
    await s.logon('reader');
    const denied = await rejection(s.run(s.client.writeTable(mt(9), image('SUPC', 200))));
    expect(denied.context['wireCode']).toBe(0x03);
  });

  it('refuses a profile listing a standard table it has no data for, and a meter of another profile', () => {
    const { meter } = makeMeter(base);
    const st116: FirmwareProfile = {
      ...base,
      c1219: {
        ...base.c1219!,
        standardTables: [...base.c1219!.standardTables, { id: 'ST116', read: 'any', write: [] }],
      },
    };
    expect(() => bindC1219(st116, meter)).toThrow(
      expect.objectContaining({ code: ErrorCode.ProfileIncompatible }),
    );
    expect(() => bindC1219(profile(GSME), meter)).toThrow(
      expect.objectContaining({ code: ErrorCode.ProfileIncompatible }),
    );
  });

  it('MP and SP ids land on the wire as the profile names them', () => {
    const m = c1219Map(base);
    expect(m.procedures.map((x) => [x.ref.label, x.ref.wireId, x.action])).toEqual([
      ['SP10', 10, 'setClock'],
      ['MP1', mp(1), 'clearPaymentCardData'],
      ['MP2', mp(2), 'migrate'],
      ['MP3', mp(3), 'resetFailures'],
      ['MP4', mp(4), 'setCardRecord'],
    ]);
    expect(m.procedureByAction('migrate')!.perLevel).toEqual(['reader', 'privileged']);
    expect(secretOf(base, 'privileged').toString('latin1')).toBe('SMSO-PRIVILEGED-0001');
  });
});
