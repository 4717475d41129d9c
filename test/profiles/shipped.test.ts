/**
 * The shipped firmware profiles (firmware-profiles/*.yaml): each validates, carries the
 * documented identity facts, marks its assumptions, and drives a device meter the way its
 * firmware is described (docs/profiles.md "Shipped profiles").
 */
import { ManualClock } from '../../src/core/clock';
import { invariantViolations } from '../../src/device/invariants';
import { Meter } from '../../src/device/meter';
import { readModelPath } from '../../src/device/model-paths';
import type { OperationName } from '../../src/device/operations';
import { MemoryMeterStore } from '../../src/device/storage/memory-store';
import {
  accessMask,
  defaultSecrets,
  deviceBehaviour,
  newMeterFromProfile,
  secretBytes,
} from '../../src/profiles/device-binding';
import { defaultProfilesDir, listProfiles, loadProfile } from '../../src/profiles/loader';
import { provenanceOf } from '../../src/profiles/provenance';
import type { FirmwareProfile } from '../../src/profiles/schema';
import { resolveProfilePath } from '../../src/profiles/semantic';
import { parseWireRef } from '../../src/profiles/wire-ids';

const CONCRETE = [
  'secure-liberty100-esme-p4x2g04',
  'secure-liberty100-esme-p4x2g05',
  'secure-liberty110-gsme-g1x2g01',
];
const START = Date.UTC(2026, 0, 1);

function meterFor(p: FirmwareProfile, index = 0, card = true): Meter {
  const state = newMeterFromProfile(p, {
    id: `${p.id}-${index}`,
    index,
    ids: 'shipped',
    supplierId: 'SUPA',
    card: card ? { issuerSupplierId: 'SUPB' } : null,
    now: START,
  });
  return Meter.create(state, {
    store: new MemoryMeterStore(),
    clock: new ManualClock(START),
    behaviour: deviceBehaviour(p),
  });
}

/** Run a manufacturer procedure the way a table engine would: by its action. */
async function runProcedure(m: Meter, p: FirmwareProfile, label: string, actor: string): Promise<unknown> {
  const proc = p.c1219!.procedures.find((x) => {
    const ref = parseWireRef('MP', x.id);
    return typeof ref !== 'string' && ref.label === label;
  });
  if (!proc) throw new Error(`${p.id} has no ${label}`);
  expect(proc.params).toEqual([]);
  return m.apply(proc.action as OperationName, { actor } as never);
}

describe('shipped profiles', () => {
  it('are all listed and valid, templates flagged', () => {
    const list = listProfiles();
    expect(list.map((s) => [s.id, s.valid, s.template, s.deviceType, s.stack])).toEqual([
      ['_secure-liberty-base', true, true, null, 'c1218'],
      ['generic-dlms-esme-v1', true, false, 'ESME', 'dlms'],
      ['generic-dlms-gsme-v1', true, false, 'GSME', 'dlms'],
      ['secure-liberty100-esme-p4x2g04', true, false, 'ESME', 'c1218'],
      ['secure-liberty100-esme-p4x2g05', true, false, 'ESME', 'c1218'],
      ['secure-liberty110-gsme-g1x2g01', true, false, 'GSME', 'c1218'],
    ]);
    expect(list.every((s) => s.issues.length === 0)).toBe(true);
    expect(defaultProfilesDir()).toMatch(/firmware-profiles$/);
  });

  it('refuses an unknown id, listing what exists', () => {
    try {
      loadProfile('secure-liberty999');
      throw new Error('expected ProfileNotFound');
    } catch (e) {
      expect((e as { codeName?: string }).codeName).toBe('ProfileNotFound');
      expect((e as { context: { available: string[] } }).context.available).toContain(
        'secure-liberty100-esme-p4x2g04',
      );
    }
  });

  it('P4X2G04 carries the documented Liberty 100 identity and the modelled card table', () => {
    const { profile: p, chain } = loadProfile('secure-liberty100-esme-p4x2g04');
    expect(chain.map((f) => f.split('/').pop())).toEqual([
      '_secure-liberty-base.yaml',
      'secure-liberty100-esme-p4x2g04.yaml',
    ]);
    expect(p.identity).toEqual({
      manufacturer: 'Secure',
      model: 'Liberty 100',
      deviceType: 'ESME',
      applicationFirmwareId: 'P4X2G04',
      metrologyFirmwareId: 'B2-00',
      serialPrefix: 'SL100',
    });
    expect(p.protocol).toMatchObject({
      stack: 'c1218',
      c1218: {
        baud: 9600,
        passwordPad: 0,
        timers: { channelTrafficMs: 6000, interCharacterMs: 500, responseMs: 2000 },
      },
    });
    const mt1 = p.c1219!.tables.find((t) => t.id === 'MT1')!;
    expect(mt1.fields.map((f) => [f.name, f.type, f.size ?? null, f.source])).toEqual([
      ['CARD_PRESENT', 'BOOL', null, 'card.present'],
      ['PAYMENT_CARD_ID', 'BCD', 10, 'card.paymentCardId'],
      ['ISSUER_SUPPLIER_ID', 'STRING', 4, 'card.issuerSupplierId'],
      ['REGISTERED_AT', 'LTIME', null, 'card.registeredAt'],
      ['SITE_ID', 'STRING', 20, 'registration.siteId'],
    ]);
    expect(parseWireRef('MT', mt1.id)).toEqual({ kind: 'MT', number: 1, wireId: 2049, label: 'MT1' });
    expect(accessMask(p, mt1.read)).toEqual({ any: false, groups: 0b110 });
    expect(p.c1219!.tables.find((t) => t.id === 'MT2')!.fields.map((f) => f.name)).toEqual([
      'SUPPLIER_ID',
      'MPAN_CORE',
    ]);
    expect(p.c1219!.procedures.map((x) => [x.id, x.action])).toEqual([
      ['MP1', 'clearPaymentCardData'],
      ['MP2', 'migrate'],
      ['MP3', 'resetFailures'],
      ['MP4', 'setCardRecord'],
    ]);
  });

  it('marks what is modelled and what is sourced', () => {
    const { profile: p } = loadProfile('secure-liberty100-esme-p4x2g04');
    expect(provenanceOf(p, 'c1219.tables[MT1].fields[PAYMENT_CARD_ID]')).toMatchObject({
      kind: 'modelled',
      path: 'c1219.tables',
    });
    expect(provenanceOf(p, 'identity.applicationFirmwareId')).toMatchObject({ kind: 'fact' });
    expect(provenanceOf(p, 'protocol.c1218.timers.responseMs')).toMatchObject({
      kind: 'fact',
      path: 'protocol.c1218.timers',
    });
    expect(provenanceOf(p, 'accessLevels[engineering].secret')).toMatchObject({
      kind: 'modelled',
      path: 'accessLevels',
    });
    expect(resolveProfilePath(p, 'c1219.tables[MT1].fields[PAYMENT_CARD_ID].size')).toBe(10);
    expect(resolveProfilePath(p, 'c1219.tables[0].name')).toBe('PAYMENT_CARD_TBL');
    expect(resolveProfilePath(p, 'accessLevels[0].name')).toBe('reader');
    expect(resolveProfilePath(p, 'nope..x')).toBeUndefined();
    const g05 = loadProfile('secure-liberty100-esme-p4x2g05').profile;
    expect(provenanceOf(g05, 'device.clearing.mode')).toMatchObject({
      kind: 'modelled',
      path: 'device.clearing',
    });
    expect(provenanceOf(g05, 'identity.applicationFirmwareId')).toMatchObject({ kind: 'modelled' });
  });

  it('P4X2G04 clears Payment Card ID and Site ID together with MP1', async () => {
    const p = loadProfile('secure-liberty100-esme-p4x2g04').profile;
    const m = meterFor(p);
    expect(m.readRegistration().siteId).not.toBeNull();
    await runProcedure(m, p, 'MP1', 'privileged');
    expect([m.readCardRecord(), m.readRegistration().siteId]).toEqual([null, null]);
  });

  it('P4X2G05 needs MP1 then MP5, and refuses MP5 first', async () => {
    const p = loadProfile('secure-liberty100-esme-p4x2g05').profile;
    expect(p.device.clearing).toEqual({ mode: 'card-only', requireMigrated: false });
    expect(p.quirks['clear-leaves-site-id']?.enabled).toBe(true);
    const m = meterFor(p);
    await expect(runProcedure(m, p, 'MP5', 'privileged')).rejects.toMatchObject({
      context: { reason: 'card-present' },
    });
    await runProcedure(m, p, 'MP1', 'privileged');
    expect(m.readCardRecord()).toBeNull();
    expect(m.readRegistration().siteId).not.toBeNull();
    await runProcedure(m, p, 'MP5', 'privileged');
    expect(m.readRegistration().siteId).toBeNull();
    expect(m.events().map((e) => e.type)).toEqual(['meter-created', 'card-id-cleared', 'site-id-cleared']);
  });

  it('the GSME is battery powered and registered by MPRN', () => {
    const p = loadProfile('secure-liberty110-gsme-g1x2g01').profile;
    expect(p.identity).toMatchObject({ model: 'Liberty 110', deviceType: 'GSME' });
    expect(p.timing.wake).toEqual({
      awakeMs: 30000,
      sleepMs: 3600000,
      wakeOn: ['optical-activity', 'button', 'wake-byte'],
      wakeByte: 0x55,
    });
    expect(p.c1219!.tables.find((t) => t.id === 'MT2')!.fields.map((f) => f.source)).toEqual([
      'registration.supplierId',
      'registration.mprn',
    ]);
    expect(provenanceOf(p, 'identity.model')).toMatchObject({ kind: 'modelled' });
  });

  it.each(CONCRETE)('%s generates valid meters whose every mapped source reads', async (id) => {
    const p = loadProfile(id).profile;
    const m = meterFor(p, 7);
    expect(invariantViolations(m.state)).toEqual([]);
    expect(m.state.identity.applicationFirmwareId).toBe(p.identity.applicationFirmwareId);
    // Same seed and index, same identity: farms are reproducible.
    expect(meterFor(p, 7).state.identity).toEqual(m.state.identity);
    for (const t of p.c1219!.tables)
      for (const f of t.fields)
        if (f.source)
          expect([t.name, f.name, readModelPath(m.state, f.source, START) === undefined]).toEqual([
            t.name,
            f.name,
            false,
          ]);
    // The default reader secret, padded as this profile's C12.18 pads, authenticates.
    const reader = p.accessLevels.find((l) => l.name === 'reader')!;
    const pad = p.protocol.stack === 'c1218' ? p.protocol.c1218.passwordPad : 0;
    const presented = Buffer.concat([
      secretBytes(reader),
      Buffer.alloc(20 - secretBytes(reader).length, pad),
    ]);
    expect(await m.authenticate({ actor: 'port', presented, padTo: 20, padByte: pad })).toEqual({
      level: 'reader',
    });
    expect(Object.keys(defaultSecrets(p))).toEqual(['reader', 'privileged', 'engineering']);
    expect(Buffer.from(defaultSecrets(p)['engineering']!, 'hex').toString()).toBe('000000');
  });

  it('refuses to generate a card without an issuer prefix', () => {
    const p = loadProfile('secure-liberty100-esme-p4x2g04').profile;
    expect(() =>
      newMeterFromProfile(p, {
        id: 'x',
        index: 0,
        ids: 1,
        supplierId: 'SUPA',
        card: { issuerSupplierId: 'ZZZZ' },
      }),
    ).toThrow(
      expect.objectContaining({
        code: 601,
        context: expect.objectContaining({ field: 'card.issuerPrefix' }),
      }),
    );
  });
});
