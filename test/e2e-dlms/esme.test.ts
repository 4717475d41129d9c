/**
 * End to end against the DLMS ESME profile (generic-dlms-esme-v1): a bound Meter served by
 * serveDlmsMeter on a real listener, the DLMS MeterSession opened from a transport URI, and the
 * migration layer on top, unchanged — over HDLC and the TCP wrapper, in memory and on TCP
 * loopback. A card of another supplier: interrogate() reads it, MEHRS 5.0 blocks with MA516,
 * MEHRS 5.1 migrates (new keys installed through the command object), clears by Script table
 * execute, and verifies. Real clock; nothing waits on a timer.
 */
import { interrogate } from '../../src/migration/interrogate';
import { runMigrationFlow } from '../../src/migration/flow';
import { MemoryJournal } from '../../src/migration/journal';
import { loadBuiltinRuleset } from '../../src/migration/ruleset';
import type { Credential } from '../../src/migration/session';
import {
  openDlmsSession,
  type DlmsCredentials,
  type DlmsMeterSession,
} from '../../src/migration/sessions/dlms-session';
import { serveDlmsMeter, type DlmsTraceEntry } from '../../src/profiles/dlms-serve';
import type { FirmwareProfile } from '../../src/profiles/schema';
import { listen } from '../../src/transport/open';
import type { Listener } from '../../src/transport/types';
import {
  DLMS_ESME,
  defaultCredentials,
  eligible,
  makeMeter,
  profile,
  registrationFor,
  withLink,
} from './helpers';

const NEW_CREDENTIALS: Credential[] = [
  { level: 'reader', secret: Buffer.from('rdr-after-migration') },
  { level: 'management-ek', secret: Buffer.alloc(16, 0x5e) },
  { level: 'management-ak', secret: Buffer.alloc(16, 0xa5) },
];

let memCount = 0;

async function rig(p: FirmwareProfile, where: 'mem' | 'tcp') {
  const { meter } = makeMeter(p, { card: 'SUPB', supplierId: 'SUPA' });
  const listener: Listener = await listen(
    where === 'mem' ? `mem:dlms-esme-${++memCount}` : 'tcp-listen://127.0.0.1:0',
  );
  const serverTrace: DlmsTraceEntry[] = [];
  const served = serveDlmsMeter(listener, meter, p, { trace: (e) => serverTrace.push(e) });
  const uri = where === 'mem' ? `mem:dlms-esme-${memCount}` : `tcp://${listener.info.path}`;
  const sessions: DlmsMeterSession[] = [];
  const open = async (
    creds: DlmsCredentials,
    onMigrated?: (installed: readonly Credential[], current: DlmsCredentials) => void,
  ): Promise<DlmsMeterSession> => {
    const s = await openDlmsSession({
      connect: uri,
      profile: p,
      credentials: creds,
      timeoutMs: 10_000,
      ...(onMigrated ? { onMigrated } : {}),
    });
    sessions.push(s);
    return s;
  };
  const close = async (): Promise<void> => {
    for (const s of sessions) await s.close();
    await served.close();
    await listener.close();
  };
  return { meter, open, close, served, serverTrace };
}

describe.each([
  ['HDLC over mem', 'hdlc', 'mem'],
  ['wrapper over mem', 'wrapper', 'mem'],
  ['wrapper over TCP', 'wrapper', 'tcp'],
  ['HDLC over TCP', 'hdlc', 'tcp'],
] as const)('DLMS ESME, %s', (_label, link, where) => {
  const p = withLink(profile(DLMS_ESME), link);

  it('interrogate() reads every field; MEHRS 5.0 blocks with MA516 and changes nothing', async () => {
    const r = await rig(p, where);
    try {
      const reader = await r.open(defaultCredentials(p, 'reader'));
      const result = await interrogate(reader);
      expect(result.gaps).toEqual([]);
      expect(result.session).toMatchObject({
        stack: 'dlms',
        details: { link, association: 'reader', profile: DLMS_ESME },
      });
      const id = r.meter.readIdentity();
      expect(result.identity).toEqual({
        manufacturer: 'Generic',
        model: 'GD-E1',
        deviceType: 'ESME',
        serial: id.serial,
        deviceId: id.deviceId,
        applicationFirmwareId: 'GDE-1.0',
        metrologyFirmwareId: 'GDM-1.0',
      });
      const card = r.meter.readCardRecord()!;
      expect(result.cardRecord).toEqual({
        present: true,
        paymentCardId: card.paymentCardId,
        issuerSupplierId: 'SUPB',
        registeredAt: new Date(card.registeredAt).toISOString(),
      });
      expect(result.registration).toEqual({
        mpxn: r.meter.readRegistration().mpanCore,
        supplierId: 'SUPA',
        siteId: r.meter.readRegistration().siteId,
      });
      expect(result.prepayment).toMatchObject({
        paymentMode: 'prepayment',
        balancePence: 1000,
        debtPence: 0,
      });
      expect(result.migrationState).toEqual({ state: 'smso-managed' });
      expect(result.events?.map((e) => e.type)).toEqual(['meter-created']);
      const cardEvidence = result.evidence.find((e) => e.field === 'cardRecord')!.item;
      expect(cardEvidence).toMatchObject({
        kind: 'cosem',
        op: 'get',
        classId: 1,
        obis: '0-128:96.50.0.255',
        index: 2,
      });

      const management = await r.open(defaultCredentials(p, 'management'));
      const flow = await runMigrationFlow({
        session: management,
        registration: registrationFor(r.meter, 'SUPA'),
        ruleset: await loadBuiltinRuleset('mehrs-5.0'),
        context: { eligibleProducts: eligible(p) },
        newCredentials: NEW_CREDENTIALS,
        journal: new MemoryJournal(),
      });
      expect(flow.outcome).toBe('blocked');
      expect(flow.evaluation?.blockingCodes).toEqual(['MA516']);
      expect(r.meter.readCardRecord()).toEqual(card);
      expect(r.meter.readMigration().state).toBe('smso-managed');
    } finally {
      await r.close();
    }
  });

  it('MEHRS 5.1: migrates, clears by script, verifies; new keys in the device; sessions reopen with them', async () => {
    const r = await rig(p, where);
    try {
      let creds = defaultCredentials(p, 'management');
      const opened: string[] = [];
      const flow = await runMigrationFlow({
        session: async () => {
          opened.push(Buffer.from(creds.keys!.ek).toString('hex'));
          return r.open(creds, (_installed, current) => (creds = current));
        },
        registration: registrationFor(r.meter, 'SUPA'),
        ruleset: await loadBuiltinRuleset('mehrs-5.1'),
        context: { eligibleProducts: eligible(p) },
        newCredentials: NEW_CREDENTIALS,
        journal: new MemoryJournal(),
      });
      expect(flow.error).toBeNull();
      expect(flow.outcome).toBe('verified');
      expect(flow.clearing).toMatchObject({ cleared: true, alreadyEmpty: false });
      expect(r.meter.readCardRecord()).toBeNull();
      expect(r.meter.readRegistration().siteId).toBeNull();
      expect(r.meter.readMigration()).toMatchObject({ state: 'migrated', by: 'smets1-sim' });
      const types = r.meter.events().map((e) => e.type);
      expect(types).toEqual(expect.arrayContaining(['migrated', 'card-cleared']));
      expect(r.meter.events().find((e) => e.type === 'card-cleared')?.actor).toBe('dlms/management');
      expect(r.meter.state.security.secrets['management-ek']).toBe('5e'.repeat(16));
      expect(Buffer.from(creds.keys!.ek).toString('hex')).toBe('5e'.repeat(16));
      // The clear was the Script table execute, script 1.
      expect(flow.clearing?.evidence).toContainEqual({
        kind: 'cosem',
        op: 'action',
        classId: 9,
        obis: '0-128:10.0.0.255',
        index: 1,
        bytes: '120001',
      });
      // New secrets never reach the journal (the migrate SET carried them, ciphered).
      expect(JSON.stringify(flow)).not.toContain('5e'.repeat(16));
      // Every management APDU on the wire was ciphered (glo-* tags C8..CF) after the AARQ/AARE.
      const xdlms = r.serverTrace.filter((e) => e.client === 1 && !/^6[0-3]/.test(e.apdu));
      expect(xdlms.length).toBeGreaterThan(10);
      expect(xdlms.every((e) => /^c[89a-f]/.test(e.apdu))).toBe(true);

      // A later session with the new keys (reader password changed too) sees the result.
      creds = { association: 'reader', secret: NEW_CREDENTIALS[0]!.secret };
      const after = await interrogate(await r.open(creds));
      expect(after.cardRecord).toEqual({ present: false });
      expect(after.migrationState).toMatchObject({ state: 'migrated', by: 'smets1-sim' });
      expect(after.events?.map((e) => e.type)).toEqual(expect.arrayContaining(['migrated', 'card-cleared']));
      expect(opened).toHaveLength(1);
    } finally {
      await r.close();
    }
  });
});
