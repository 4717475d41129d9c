/**
 * The DLMS binding of the shipped profiles (src/profiles/dlms-binding.ts): every mapped object
 * reads the model value it names, in the A-XDR type the profile gives it; the access rights
 * of docs/dlms-profiles.md (public sees neither the card record nor its clearing, reader reads
 * but cannot clear, management with HLS clears); clearing by Script table execute (ESME) and
 * by SET to an empty structure (GSME), read back empty, with the clear in the meter event log;
 * migrate through the command object and key_transfer replacing the keys held in the device state.
 * DlmsClient <-> DlmsServer over an in-memory APDU pair; no timers involved.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ManualClock } from '../../src/core/clock';
import { ErrorCode } from '../../src/core/errors';
import { Meter } from '../../src/device/meter';
import { SqliteMeterStore } from '../../src/device/storage';
import { deviceBehaviour, newMeterFromProfile } from '../../src/profiles/device-binding';
import { parseObis } from '../../src/protocols/dlms/apdu/obis';
import { entryAccess } from '../../src/protocols/dlms/apdu/selective-access';
import { axdr } from '../../src/protocols/dlms/axdr/builders';
import { cosemDateTimeFromDate, encodeCosemDateTime } from '../../src/protocols/dlms/axdr/date-time';
import { encodeKeyTransferParams } from '../../src/protocols/dlms/cosem/key-transfer-data';
import { buildKeyTransfer } from '../../src/protocols/dlms/security/key-transfer';
import { bindDlms } from '../../src/profiles/dlms-binding';
import { ownCounterName } from '../../src/profiles/dlms-binding-security';
import {
  DLMS_ESME,
  DLMS_GSME,
  START,
  apduClient,
  associateAs,
  makeMeter,
  persistentCounter,
  profile,
  rejection,
  sapOf,
  secretOf,
} from '../e2e-dlms/helpers';

const ESME = profile(DLMS_ESME);
const GSME = profile(DLMS_GSME);

/** Date-time octets as docs/dlms.md §5 lays them out: UTC, deviation 0, status 0. */
function dateTime(ms: number): Buffer {
  return encodeCosemDateTime(cosemDateTimeFromDate(new Date(ms), { deviation: 0, clockStatus: 0 }));
}

function rig(p = ESME, card: string | null = 'SUPB') {
  const { meter, clock } = makeMeter(p, { card });
  const binding = bindDlms(p, meter);
  const server = binding.createServer();
  const counter = persistentCounter();
  const open = async (association: 'public' | 'reader' | 'management') => {
    const c = apduClient(server, sapOf(p, association));
    await c.associate(associateAs(p, association, counter));
    return c;
  };
  return { meter, clock, binding, server, open, counter };
}

/** key_transfer parameters: the new EK and AK wrapped under the profile's master key. */
function transferParams(p: typeof ESME, ek: Buffer, ak: Buffer) {
  return encodeKeyTransferParams(
    buildKeyTransfer(secretOf(p, 'master'), [
      { keyId: 0, key: ek },
      { keyId: 2, key: ak },
    ]),
  );
}

const OBJ = {
  keyTransfer: { classId: 64, obis: '0-0:43.0.0.255', index: 2 },
  ldn: { classId: 1, obis: '0-0:42.0.0.255', index: 2 },
  serial: { classId: 1, obis: '0-0:96.1.0.255', index: 2 },
  deviceId: { classId: 1, obis: '0-0:96.1.1.255', index: 2 },
  manufacturer: { classId: 1, obis: '0-0:96.1.2.255', index: 2 },
  model: { classId: 1, obis: '0-0:96.1.3.255', index: 2 },
  appFw: { classId: 1, obis: '0-0:0.2.0.255', index: 2 },
  meterFw: { classId: 1, obis: '1-0:0.2.0.255', index: 2 },
  clock: { classId: 8, obis: '0-0:1.0.0.255', index: 2 },
  registration: { classId: 1, obis: '0-128:96.52.0.255', index: 2 },
  card: { classId: 1, obis: '0-128:96.50.0.255', index: 2 },
  script: { classId: 9, obis: '0-128:10.0.0.255', index: 1 },
  scripts: { classId: 9, obis: '0-128:10.0.0.255', index: 2 },
  migration: { classId: 1, obis: '0-128:96.51.0.255', index: 2 },
  migrate: { classId: 1, obis: '0-128:96.51.1.255', index: 2 },
  account: { classId: 111, obis: '0-0:19.0.0.255', index: 2 },
  balance: { classId: 111, obis: '0-0:19.0.0.255', index: 5 },
  ecStatus: { classId: 112, obis: '0-0:19.10.1.255', index: 8 },
  ecLimit: { classId: 112, obis: '0-0:19.10.1.255', index: 6 },
  ecUsed: { classId: 3, obis: '0-128:19.10.1.255', index: 2 },
  ecScaler: { classId: 3, obis: '0-128:19.10.1.255', index: 3 },
  debt: { classId: 113, obis: '0-0:19.20.0.255', index: 12 },
  debt1: { classId: 113, obis: '0-0:19.20.1.255', index: 12 },
  token: { classId: 115, obis: '0-0:19.40.0.255', index: 2 },
  tokenTime: { classId: 115, obis: '0-0:19.40.0.255', index: 3 },
  eventsInUse: { classId: 7, obis: '0-0:99.98.0.255', index: 7 },
  events: { classId: 7, obis: '0-0:99.98.0.255', index: 2 },
  ic: { classId: 1, obis: '0-0:43.1.0.255', index: 2 },
} as const;

describe('DLMS binding: each mapped object reads its model value', () => {
  it('identity, clock and registration (reader)', async () => {
    const { meter, open } = rig();
    const c = await open('reader');
    const id = meter.readIdentity();
    expect(await c.get(OBJ.ldn)).toEqual(axdr.octets(Buffer.from(`XSM${id.serial}`, 'latin1')));
    expect(await c.get(OBJ.serial)).toEqual(axdr.visible(id.serial));
    expect(id.serial).toMatch(/^GDE\d{8}$/);
    expect(await c.get(OBJ.deviceId)).toEqual(axdr.octets(Buffer.from(id.deviceId.replace(/-/g, ''), 'hex')));
    expect(await c.get(OBJ.manufacturer)).toEqual(axdr.visible('Generic'));
    expect(await c.get(OBJ.model)).toEqual(axdr.visible('GD-E1'));
    expect(await c.get(OBJ.appFw)).toEqual(axdr.visible('GDE-1.0'));
    expect(await c.get(OBJ.meterFw)).toEqual(axdr.visible('GDM-1.0'));
    expect(await c.get(OBJ.clock)).toEqual(axdr.octets(dateTime(START)));
    expect(await c.get({ classId: 8, obis: '0-0:1.0.0.255', index: 9 })).toEqual(axdr.enum(1));
    const r = meter.readRegistration();
    expect(await c.get(OBJ.registration)).toEqual(
      axdr.struct(axdr.visible(r.mpanCore!), axdr.visible('SUPA')),
    );
  });

  it('card record, migration state and the script table (reader)', async () => {
    const { meter, open } = rig();
    const c = await open('reader');
    const card = meter.readCardRecord()!;
    expect(card.issuerSupplierId).toBe('SUPB');
    expect(await c.get(OBJ.card)).toEqual(
      axdr.struct(
        axdr.visible(card.paymentCardId),
        axdr.visible('SUPB'),
        axdr.octets(dateTime(card.registeredAt)),
        axdr.visible(meter.readRegistration().siteId!),
      ),
    );
    // smso-managed = enum 0; when and by whom are null-data until migrated.
    expect(await c.get(OBJ.migration)).toEqual(axdr.struct(axdr.enum(0), axdr.null(), axdr.null()));
    expect(await c.get(OBJ.scripts)).toEqual(axdr.array(axdr.struct(axdr.u16(1), axdr.array())));
  });

  it('prepayment in the payment classes, with a vend and emergency credit', async () => {
    const { meter, open } = rig();
    const c = await open('reader');
    expect(await c.get(OBJ.account)).toEqual(axdr.struct(axdr.enum(2), axdr.enum(2)));
    expect(await c.get(OBJ.balance)).toEqual(axdr.i32(1000));
    expect(await c.get({ classId: 111, obis: '0-0:19.0.0.255', index: 16 })).toEqual(axdr.i32(200));
    expect(await c.get(OBJ.ecLimit)).toEqual(axdr.i32(1000));
    expect(await c.get(OBJ.ecStatus)).toEqual(axdr.enum(1));
    expect(await c.get(OBJ.ecUsed)).toEqual(axdr.u32(0));
    expect(await c.get(OBJ.ecScaler)).toEqual(axdr.struct(axdr.i8(-2), axdr.enum(10)));
    expect(await c.get(OBJ.debt)).toEqual(axdr.i32(0));
    // No time-based debt register: null-data.
    expect(await c.get(OBJ.debt1)).toEqual(axdr.null());
    expect(await c.get(OBJ.token)).toEqual(axdr.null());

    await meter.applyVend({
      actor: 'test',
      mode: 'deduct',
      amountPence: 950,
      source: 'local',
      utrnRef: 'U-1',
    });
    await meter.activateEmergencyCredit('test');
    expect(await c.get(OBJ.balance)).toEqual(axdr.i32(50));
    expect(await c.get(OBJ.ecStatus)).toEqual(axdr.enum(3));
    expect(await c.get(OBJ.token)).toEqual(axdr.octets(Buffer.from('U-1', 'latin1')));
    expect(await c.get(OBJ.tokenTime)).toEqual(axdr.octets(dateTime(START)));
  });

  it('event log as a Profile generic, entry access, and the invocation counter object', async () => {
    const { meter, open } = rig();
    await meter.changeSupplier('test', 'SUPC');
    const c = await open('reader');
    expect(await c.get(OBJ.eventsInUse)).toEqual(axdr.u32(2));
    const last = await c.get(
      OBJ.events,
      entryAccess({ fromEntry: 2, toEntry: 2, fromSelectedValue: 1, toSelectedValue: 0 }),
    );
    expect(last).toEqual(
      axdr.array(
        axdr.struct(
          axdr.octets(dateTime(START)),
          axdr.u32(2),
          axdr.visible('supplier-changed'),
          axdr.utf8('test'),
          axdr.utf8(JSON.stringify({ from: 'SUPA', to: 'SUPC' })),
        ),
      ),
    );
    expect(await c.get({ classId: 7, obis: '0-0:99.98.0.255', index: 8 })).toEqual(axdr.u32(100));
    const pub = await open('public');
    expect(await pub.get(OBJ.ic)).toEqual(axdr.u32(0));
  });
});

describe('DLMS binding: access rights per association', () => {
  it('public sees neither the card record nor its clearing', async () => {
    const { meter, open } = rig();
    const c = await open('public');
    const listed = (await c.readObjectList()).map((e) => e.obis.toString('hex'));
    expect(listed).toContain(parseObis('0-0:96.1.0.255').toString('hex'));
    expect(listed).not.toContain(parseObis(OBJ.card.obis).toString('hex'));
    expect(listed).not.toContain(parseObis(OBJ.script.obis).toString('hex'));
    expect(listed).not.toContain(parseObis(OBJ.migrate.obis).toString('hex'));
    expect((await rejection(c.get(OBJ.card))).context).toMatchObject({ darName: 'read-write-denied' });
    const e = await rejection(c.action(OBJ.script, axdr.u16(1)));
    expect(e.code).toBe(ErrorCode.ServiceAccessDenied);
    expect(meter.readCardRecord()).not.toBeNull();
  });

  it('reader reads the card but its clear is denied', async () => {
    const { meter, open } = rig();
    const c = await open('reader');
    expect((await c.get(OBJ.card)).type).toBe('structure');
    const e = await rejection(c.action(OBJ.script, axdr.u16(1)));
    expect(e.code).toBe(ErrorCode.ServiceAccessDenied);
    expect(e.context).toMatchObject({ resultName: 'read-write-denied' });
    expect(meter.readCardRecord()).not.toBeNull();
    expect(meter.events().map((x) => x.type)).not.toContain('card-cleared');
  });

  it('management (HLS-GMAC, every APDU ciphered) clears by script; the card reads back empty; the log has the clear', async () => {
    const { meter, open, counter } = rig();
    const before = meter.readCardRecord()!;
    const c = await open('management');
    expect(c.association?.ciphered).toBe(true);
    expect(await c.action(OBJ.script, axdr.u16(1))).toBeUndefined();
    expect(meter.readCardRecord()).toBeNull();
    expect(meter.readRegistration().siteId).toBeNull();
    expect(await c.get(OBJ.card)).toEqual(axdr.struct());
    const cleared = meter.events().find((x) => x.type === 'card-cleared')!;
    expect(cleared.actor).toBe('dlms/management');
    expect(cleared.data).toMatchObject({ paymentCardId: before.paymentCardId });
    // A script the firmware does not have.
    expect((await rejection(c.action(OBJ.script, axdr.u16(7)))).context).toMatchObject({
      resultName: 'object-unavailable',
    });
    // The meter's sending IC is a durable device counter; the client's reached the IC object.
    expect(meter.state.security.invocationCounters[ownCounterName('0-0:43.0.0.255')]).toBeGreaterThan(2);
    const pub = await open('public');
    expect(await pub.get(OBJ.ic)).toEqual(axdr.u32(counter.last!));
  });

  it('one Association LN object per profile association: its own object_list, partners and mechanism', async () => {
    const { open } = rig();
    const reader = await open('reader');
    const hex = (obis: string): string => parseObis(obis).toString('hex');
    const readerList = (await reader.readObjectList()).map((e) => e.obis.toString('hex'));
    expect(readerList).toContain(hex('0-0:40.0.2.255'));
    expect(readerList).not.toContain(hex('0-0:40.0.3.255'));
    expect(await reader.get({ classId: 15, obis: '0-0:40.0.2.255', index: 3 })).toEqual(
      axdr.struct(axdr.i8(32), axdr.u16(1)),
    );
    const m = await open('management');
    // Management sees the reader's association object and reads the reader's view of the meter.
    const ofReader = await m.get({ classId: 15, obis: '0-0:40.0.2.255', index: 2 });
    expect(ofReader.type === 'array' && ofReader.items.length).toBe(readerList.length);
    // {2, 16, 756, 5, 8, 2, 5}: mechanism HLS-GMAC (docs/dlms.md §4.1 "OIDs").
    expect(await m.get({ classId: 15, obis: '0-0:40.0.3.255', index: 6 })).toEqual(
      axdr.struct(axdr.u8(2), axdr.u8(16), axdr.u16(756), axdr.u8(5), axdr.u8(8), axdr.u8(2), axdr.u8(5)),
    );
    expect(await m.get({ classId: 15, obis: '0-0:40.0.3.255', index: 9 })).toEqual(
      axdr.octets(parseObis('0-0:43.0.0.255')),
    );
    expect((await rejection(reader.get({ classId: 15, obis: '0-0:40.0.3.255', index: 2 }))).code).toBe(
      ErrorCode.ServiceAccessDenied,
    );
  });

  it('the card record answers authenticated requests only: management reads it ciphered', async () => {
    const { meter, open } = rig();
    const c = await open('management');
    const v = await c.get(OBJ.card);
    expect(v.type === 'structure' && v.items[0]).toEqual(axdr.visible(meter.readCardRecord()!.paymentCardId));
  });

  it('a wrong LLS password counts a failure on the device; lock-out refuses even the right one', async () => {
    const { meter, server } = rig();
    const p = ESME;
    for (let i = 0; i < 5; i++) {
      const c = apduClient(server, sapOf(p, 'reader'));
      const e = await rejection(c.associate({ mechanism: 'low', secret: Buffer.from('wrong-pw') }));
      expect(e.code).toBe(ErrorCode.SessionAuthFailed);
    }
    await new Promise<void>((r) => setImmediate(r));
    expect(meter.state.security.failures.consecutive).toBe(5);
    expect(meter.isLockedOut()).toBe(true);
    const c = apduClient(server, sapOf(p, 'reader'));
    const e = await rejection(c.associate({ mechanism: 'low', secret: secretOf(p, 'reader') }));
    expect(e.code).toBe(ErrorCode.SessionAuthFailed);
    expect(meter.events().filter((x) => x.type === 'bad-password')).toHaveLength(5);
  });
});

describe('DLMS binding: GSME clears by SET to an empty structure; migrate replaces the keys', () => {
  it('reader SET is denied; a SET of the wrong shape is type-unmatched; an empty structure clears', async () => {
    const { meter, open } = rig(GSME);
    const reader = await open('reader');
    expect((await rejection(reader.set(OBJ.card, axdr.struct()))).code).toBe(ErrorCode.ServiceAccessDenied);
    const m = await open('management');
    expect(m.association?.ciphered).toBe(false);
    const bad = await rejection(m.set(OBJ.card, axdr.struct(axdr.u8(0))));
    expect(bad.context).toMatchObject({ darName: 'type-unmatched' });
    expect(meter.readCardRecord()).not.toBeNull();
    await m.set(OBJ.card, axdr.struct());
    expect(meter.readCardRecord()).toBeNull();
    expect(await reader.get(OBJ.card)).toEqual(axdr.struct());
    expect(meter.events().at(-1)).toMatchObject({ type: 'card-cleared', actor: 'dlms/management' });
    // Clearing again is idempotent on the device: success, no second event.
    await m.set(OBJ.card, axdr.struct());
    expect(meter.events().filter((x) => x.type === 'card-cleared')).toHaveLength(1);
  });

  it('migrate SET and key_transfer hand over; the old keys no longer associate, the new ones do', async () => {
    const { meter, server, open } = rig(GSME);
    const m = await open('management');
    const ek = Buffer.alloc(16, 0x11);
    const ak = Buffer.alloc(16, 0x22);
    await m.set(OBJ.migrate, axdr.struct(axdr.visible('DCC'), axdr.octets(Buffer.from('new-reader'))));
    await m.action(OBJ.keyTransfer, transferParams(GSME, ek, ak));
    expect(meter.readMigration()).toMatchObject({ state: 'migrated', by: 'DCC', at: START });
    expect(meter.state.security.secrets['management-ek']).toBe(ek.toString('hex'));
    const reader = await open('reader').catch((e: unknown) => e);
    expect(reader).toMatchObject({ code: ErrorCode.SessionAuthFailed });
    const old = apduClient(server, sapOf(GSME, 'management'));
    expect((await rejection(old.associate(associateAs(GSME, 'management')))).code).toBe(
      ErrorCode.SessionAuthFailed,
    );
    const fresh = apduClient(server, sapOf(GSME, 'management'));
    await fresh.associate(
      associateAs(GSME, 'management', persistentCounter(), { association: 'management', keys: { ek, ak } }),
    );
    expect(await fresh.get(OBJ.migration)).toEqual(
      axdr.struct(axdr.enum(1), axdr.octets(dateTime(START)), axdr.visible('DCC')),
    );
    // The refused reader password and HLS proof counted; the new keys' association reset them.
    expect(
      meter
        .events()
        .map((x) => x.type)
        .slice(-4),
    ).toEqual(['keys-transferred', 'bad-password', 'bad-password', 'failures-reset']);
  });

  it('a migrate SET with a malformed secret is refused type-unmatched and changes nothing', async () => {
    const { meter, open } = rig(GSME);
    const m = await open('management');
    const e = await rejection(
      m.set(
        OBJ.migrate,
        axdr.struct(
          axdr.visible('DCC'),
          axdr.u8(1),
          axdr.octets(Buffer.alloc(16)),
          axdr.octets(Buffer.alloc(16)),
        ),
      ),
    );
    expect(e.context).toMatchObject({ darName: 'type-unmatched' });
    expect(meter.readMigration().state).toBe('smso-managed');
  });

  it('management sets the clock through Clock.time', async () => {
    const { meter, open } = rig(GSME);
    const m = await open('management');
    const to = Date.UTC(2026, 5, 1, 12, 0, 0);
    await m.set(OBJ.clock, axdr.octets(dateTime(to)));
    expect(meter.now()).toBe(to);
    expect(meter.events().at(-1)).toMatchObject({ type: 'clock-set', actor: 'dlms/management' });
    const reader = await open('reader');
    expect((await rejection(reader.set(OBJ.clock, axdr.octets(dateTime(to))))).code).toBe(
      ErrorCode.ServiceAccessDenied,
    );
  });
});

describe('DLMS binding: keys and counters live in the durable device state', () => {
  it('after a restart from the SQLite state file, the migrated keys associate and the meter IC continues', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'dlms-keys-')), 'state.db');
    const clock = new ManualClock(START);
    const behaviour = deviceBehaviour(ESME);
    const state = newMeterFromProfile(ESME, {
      id: 'm',
      index: 3,
      ids: 'durable',
      supplierId: 'SUPA',
      card: { issuerSupplierId: 'SUPB' },
      now: START,
    });
    const ek = Buffer.alloc(16, 0x44);
    const ak = Buffer.alloc(16, 0x55);
    const counter = persistentCounter();
    const icName = ownCounterName('0-0:43.0.0.255');
    let lastServerIc: number;
    {
      const store = new SqliteMeterStore(file);
      const meter = Meter.create(state, { store, clock, behaviour });
      const server = bindDlms(ESME, meter).createServer();
      const m = apduClient(server, sapOf(ESME, 'management'));
      await m.associate(associateAs(ESME, 'management', counter));
      await m.set(OBJ.migrate, axdr.struct(axdr.visible('DCC'), axdr.octets(Buffer.from('pw2'))));
      await m.action(OBJ.keyTransfer, transferParams(ESME, ek, ak));
      lastServerIc = meter.state.security.invocationCounters[icName]!;
      expect(lastServerIc).toBeGreaterThan(0);
      store.close();
    }
    const store = new SqliteMeterStore(file);
    try {
      const meter = Meter.load('m', { store, clock, behaviour });
      expect(meter.state.security.invocationCounters[icName]).toBe(lastServerIc);
      const server = bindDlms(ESME, meter).createServer();
      const old = apduClient(server, sapOf(ESME, 'management'));
      expect((await rejection(old.associate(associateAs(ESME, 'management', counter)))).code).toBe(
        ErrorCode.SessionAssociationRejected,
      );
      const fresh = apduClient(server, sapOf(ESME, 'management'));
      await fresh.associate(
        associateAs(ESME, 'management', counter, { association: 'management', keys: { ek, ak } }),
      );
      expect(await fresh.get(OBJ.migration)).toEqual(
        axdr.struct(axdr.enum(1), axdr.octets(dateTime(START)), axdr.visible('DCC')),
      );
      expect(meter.state.security.invocationCounters[icName]).toBeGreaterThan(lastServerIc);
    } finally {
      store.close();
    }
  });
});
