/**
 * End to end against the DLMS GSME profile (generic-dlms-gsme-v1): a battery meter behind an
 * IEC 62056-21 optical port (mode E, then HDLC), served on an in-memory listener, with the DLMS
 * MeterSession waking it (NULs), signing on and associating; the migration layer on top,
 * unchanged. A card of another supplier: MEHRS 5.0 blocks with MA517; MEHRS 5.1 migrates, clears
 * by SET to an empty structure and verifies. A ManualClock drives the sign-on delays and link
 * timers (no real time passes).
 */
import { ManualClock } from '../../src/core/clock';
import { ErrorCode } from '../../src/core/errors';
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
import { signOnModeE } from '../../src/protocols/dlms/link/mode-e-client';
import { serveDlmsMeter } from '../../src/profiles/dlms-serve';
import { connect, listen } from '../../src/transport/open';
import {
  DLMS_GSME,
  START,
  defaultCredentials,
  drive,
  eligible,
  makeMeter,
  profile,
  registrationFor,
  rejection,
} from './helpers';

const p = profile(DLMS_GSME);

const NEW_CREDENTIALS: Credential[] = [
  { level: 'reader', secret: Buffer.from('gas-reader-2') },
  { level: 'management-ek', secret: Buffer.alloc(16, 0x31) },
  { level: 'management-ak', secret: Buffer.alloc(16, 0x32) },
];

let n = 0;

async function rig() {
  const clock = new ManualClock(START);
  const { meter } = makeMeter(p, { card: 'SUPB', supplierId: 'SUPA', clock });
  const name = `dlms-gsme-${++n}`;
  const listener = await listen(`mem:${name}`, { clock });
  const served = serveDlmsMeter(listener, meter, p, { clock });
  const sessions: DlmsMeterSession[] = [];
  const open = (
    creds: DlmsCredentials,
    onMigrated?: (i: readonly Credential[], c: DlmsCredentials) => void,
  ) =>
    openDlmsSession({
      connect: `mem:${name}`,
      profile: p,
      credentials: creds,
      clock,
      ...(onMigrated ? { onMigrated } : {}),
    }).then((s) => {
      sessions.push(s);
      return s;
    });
  const close = async (): Promise<void> => {
    for (const s of sessions) await drive(clock, s.close());
    await served.close();
    await listener.close();
  };
  return { clock, meter, open, close, name };
}

describe('DLMS GSME over IEC 62056-21 mode E (battery meter)', () => {
  it('asleep until woken: a sign-on without the wake-up NULs gets no identification', async () => {
    const r = await rig();
    try {
      const t = await connect(`mem:${r.name}`, { clock: r.clock });
      const e = await rejection(drive(r.clock, signOnModeE(t, { clock: r.clock, identTimeoutMs: 1_000 })));
      expect(e.code).toBe(ErrorCode.LinkTimeout);
      await t.close();
      // The session wakes it first: the identification follows.
      const s = await drive(r.clock, r.open(defaultCredentials(p, 'public')));
      const id = await drive(r.clock, s.identify());
      expect(id.value).toMatchObject({
        stack: 'dlms',
        protocol: 'DLMS/COSEM LN, IEC 62056-21 mode E + HDLC',
        details: { link: 'mode-e', association: 'public', ciphered: false },
      });
      expect(id.evidence).toEqual([
        {
          kind: 'cosem',
          op: 'get',
          classId: 1,
          obis: '0-0:0.2.0.255',
          index: 2,
          bytes: '0a07' + Buffer.from('GDG-1.0').toString('hex'),
        },
      ]);
    } finally {
      await r.close();
    }
  });

  it('MEHRS 5.0 blocks with MA517; the interrogation reads the card, the MPRN and the events', async () => {
    const r = await rig();
    try {
      const s = await drive(r.clock, r.open(defaultCredentials(p, 'reader')));
      const result = await drive(r.clock, interrogate(s, { clock: r.clock }));
      expect(result.gaps).toEqual([]);
      expect(result.identity).toMatchObject({
        deviceType: 'GSME',
        model: 'GD-G1',
        applicationFirmwareId: 'GDG-1.0',
      });
      expect(result.registration).toMatchObject({
        mpxn: r.meter.readRegistration().mprn,
        supplierId: 'SUPA',
      });
      expect(result.cardRecord).toMatchObject({ present: true, issuerSupplierId: 'SUPB' });
      // The meter runs on the same (virtual) clock: skew is the 10 ms date-time resolution plus the read.
      expect(Math.abs(result.clock!.skewMs)).toBeLessThan(50);

      const flow = await drive(
        r.clock,
        runMigrationFlow({
          session: s,
          registration: registrationFor(r.meter, 'SUPA'),
          ruleset: await loadBuiltinRuleset('mehrs-5.0'),
          context: { eligibleProducts: eligible(p) },
          newCredentials: NEW_CREDENTIALS,
          journal: new MemoryJournal(),
          clock: r.clock,
        }),
      );
      expect(flow.outcome).toBe('blocked');
      expect(flow.evaluation?.blockingCodes).toEqual(['MA517']);
      expect(r.meter.readCardRecord()).not.toBeNull();
    } finally {
      await r.close();
    }
  });

  it('MEHRS 5.1: migrates, clears by SET to an empty structure, verifies', async () => {
    const r = await rig();
    try {
      let creds = defaultCredentials(p, 'management');
      const flow = await drive(
        r.clock,
        runMigrationFlow({
          session: () => r.open(creds, (_i, current) => (creds = current)),
          registration: registrationFor(r.meter, 'SUPA'),
          ruleset: await loadBuiltinRuleset('mehrs-5.1'),
          context: { eligibleProducts: eligible(p) },
          newCredentials: NEW_CREDENTIALS,
          journal: new MemoryJournal(),
          clock: r.clock,
        }),
      );
      expect(flow.error).toBeNull();
      expect(flow.outcome).toBe('verified');
      expect(flow.clearing?.evidence).toContainEqual({
        kind: 'cosem',
        op: 'set',
        classId: 1,
        obis: '0-128:96.50.0.255',
        index: 2,
        bytes: '0200',
      });
      expect(r.meter.readCardRecord()).toBeNull();
      expect(r.meter.readMigration()).toMatchObject({ state: 'migrated', by: 'smets1-sim' });
      expect(r.meter.events().find((e) => e.type === 'card-cleared')?.actor).toBe('dlms/management');
      expect(r.meter.state.security.secrets['management-ak']).toBe('32'.repeat(16));
      // The old reader password is gone; the new one works.
      const old = await rejection(drive(r.clock, r.open(defaultCredentials(p, 'reader'))));
      expect(old.code).toBe(ErrorCode.SessionAuthFailed);
      const s = await drive(r.clock, r.open({ association: 'reader', secret: NEW_CREDENTIALS[0]!.secret }));
      expect((await drive(r.clock, s.readCardRecord())).value).toBeNull();
    } finally {
      await r.close();
    }
  });
});
