/**
 * The DLMS MeterSession itself (src/migration/sessions/dlms-session.ts) against a served DLMS
 * ESME over the TCP wrapper on an in-memory listener: opening checks (association, firmware,
 * keys), the invocation counter (given, or discovered through the public association), the event
 * log through entry selective access, refusals as coded SimErrors, and close().
 */
import { ErrorCode } from '../../src/core/errors';
import type { DlmsOperationActivity } from '../../src/profiles/dlms-binding';
import {
  credentialsAfterMigrate,
  openDlmsSession,
  type DlmsCredentials,
} from '../../src/migration/sessions/dlms-session';
import { serveDlmsMeter, type DlmsTraceEntry } from '../../src/profiles/dlms-serve';
import type { FirmwareProfile } from '../../src/profiles/schema';
import { listen } from '../../src/transport/open';
import {
  DLMS_ESME,
  defaultCredentials,
  makeMeter,
  persistentCounter,
  profile,
  rejection,
  withLink,
} from './helpers';

const p = withLink(profile(DLMS_ESME), 'wrapper');
let n = 0;

async function rig() {
  const { meter } = makeMeter(p, { card: 'SUPB' });
  const name = `dlms-session-${++n}`;
  const listener = await listen(`mem:${name}`);
  const trace: DlmsTraceEntry[] = [];
  const served = serveDlmsMeter(listener, meter, p, { trace: (e) => trace.push(e) });
  const operations: DlmsOperationActivity[] = [];
  served.binding.on('operation', (a) => operations.push(a));
  const closers: Array<() => Promise<void>> = [];
  const open = async (
    credentials: DlmsCredentials,
    extra: {
      profile?: FirmwareProfile;
      counter?: ReturnType<typeof persistentCounter>;
      trace?: (e: DlmsTraceEntry) => void;
    } = {},
  ) => {
    const s = await openDlmsSession({
      connect: `mem:${name}`,
      profile: extra.profile ?? p,
      credentials,
      timeoutMs: 5_000,
      ...(extra.counter ? { counter: extra.counter } : {}),
      ...(extra.trace ? { trace: extra.trace } : {}),
    });
    closers.push(() => s.close());
    return s;
  };
  const close = async (): Promise<void> => {
    for (const c of closers) await c();
    await served.close();
    await listener.close();
  };
  return { meter, open, close, trace, operations, served };
}

describe('openDlmsSession', () => {
  it('refuses an association the profile does not have, naming the known ones', async () => {
    const r = await rig();
    try {
      const e = await rejection(r.open({ association: 'installer' }));
      expect(e.code).toBe(ErrorCode.ConfigInvalid);
      expect(e.message).toBe(
        `profile ${DLMS_ESME} has no association "installer" (known: public, reader, management)`,
      );
    } finally {
      await r.close();
    }
  });

  it("refuses a meter whose firmware is not the profile's (like ST1 for C12.18)", async () => {
    const r = await rig();
    try {
      const other = { ...p, identity: { ...p.identity, applicationFirmwareId: 'GDE-9.9' } };
      const e = await rejection(r.open(defaultCredentials(p, 'reader'), { profile: other }));
      expect(e.code).toBe(ErrorCode.ProfileIncompatible);
      expect(e.message).toBe(`the meter reports firmware GDE-1.0, profile ${DLMS_ESME} describes GDE-9.9`);
    } finally {
      await r.close();
    }
  });

  it('wrong HLS keys: the ciphered AARQ does not verify, refused and counted on the device', async () => {
    const r = await rig();
    try {
      const e = await rejection(
        r.open({ association: 'management', keys: { ek: Buffer.alloc(16, 1), ak: Buffer.alloc(16, 2) } }),
      );
      // Policy 3: the InitiateRequest travels ciphered, so wrong keys fail before HLS (docs/dlms-implementation.md).
      expect(e.code).toBe(ErrorCode.SessionAssociationRejected);
      await new Promise<void>((res) => setImmediate(res));
      expect(r.meter.state.security.failures.consecutive).toBe(1);
    } finally {
      await r.close();
    }
  });

  it('ciphered association: discovers the IC through the public association, or uses the one given', async () => {
    const r = await rig();
    try {
      const first = await r.open(defaultCredentials(p, 'management'));
      await first.readClock();
      await first.close();
      // The public association (client 16) read 0-0:43.1.0.255 before the management AARQ.
      expect(r.trace.some((t) => t.client === 16)).toBe(true);
      const second = await r.open(defaultCredentials(p, 'management'));
      expect((await second.readClock()).value).toBe(r.meter.now() - (r.meter.now() % 10));
      await second.close();

      const counter = persistentCounter();
      counter.setLastIc(1_000_000);
      const before = r.trace.filter((t) => t.client === 16).length;
      const third = await r.open(defaultCredentials(p, 'management'), { counter });
      await third.readClock();
      expect(r.trace.filter((t) => t.client === 16).length).toBe(before);
      expect(counter.last).toBeGreaterThan(1_000_000);
    } finally {
      await r.close();
    }
  });
});

describe('DlmsMeterSession', () => {
  it('reads the newest events, oldest first, through entry access', async () => {
    const r = await rig();
    try {
      for (const s of ['SUPC', 'SUPD', 'SUPE']) await r.meter.changeSupplier('test', s);
      const s = await r.open(defaultCredentials(p, 'reader'));
      const got = await s.readEventLog(2);
      expect(got.value.map((e) => [e.seq, e.type, e.data['to']])).toEqual([
        [3, 'supplier-changed', 'SUPD'],
        [4, 'supplier-changed', 'SUPE'],
      ]);
      expect(got.evidence.map((e) => (e.kind === 'cosem' ? `${e.op} ${e.obis}/${e.index}` : ''))).toEqual([
        'get 0-0:99.98.0.255/7',
        'get 0-0:99.98.0.255/2',
      ]);
      expect((await s.readEventLog(0)).value).toEqual([]);
      expect((await s.readEventLog(50)).value).toHaveLength(4);
    } finally {
      await r.close();
    }
  });

  it('reader: clearing is refused by the meter (access denied); migrate checks its credentials first', async () => {
    const r = await rig();
    try {
      const s = await r.open(defaultCredentials(p, 'reader'));
      const e = await rejection(s.clearCardData());
      expect(e.code).toBe(ErrorCode.ServiceAccessDenied);
      expect(r.meter.readCardRecord()).not.toBeNull();
      const mismatch = await rejection(
        s.migrate({
          migratedBy: 'DCC',
          at: 0,
          credentials: [{ level: 'management-ek', secret: Buffer.alloc(16) }],
        }),
      );
      expect(mismatch.code).toBe(ErrorCode.ConfigInvalid);
      // The reader association has no keys to transfer: only the migrate command's reader password.
      expect(mismatch.message).toBe(
        'migrate hands over new secrets for reader; none given for reader; it cannot set management-ek',
      );
      expect(s.migrateLevels).toEqual(['reader']);
    } finally {
      await r.close();
    }
  });

  it('a device refusal is `other` on the wire and a reasoned operation event on the meter', async () => {
    const r = await rig();
    try {
      await r.meter.migrate({ by: 'someone-else', newSecrets: { reader: '00'.repeat(8) } });
      const s = await r.open(defaultCredentials(p, 'management'));
      // The keys already match: no key_transfer, straight to the migrate command, which the device refuses.
      const keys = defaultCredentials(p, 'management').keys!;
      const creds = [
        { level: 'reader', secret: Buffer.from('r') },
        { level: 'management-ek', secret: keys.ek },
        { level: 'management-ak', secret: keys.ak },
      ];
      const e = await rejection(s.migrate({ migratedBy: 'DCC', at: 0, credentials: creds }));
      expect(e.code).toBe(ErrorCode.ServiceError);
      expect(e.context).toMatchObject({ darName: 'other', obis: '0-128:96.51.1.255' });
      expect(r.operations.at(-1)).toMatchObject({
        object: 'migrate-command',
        action: 'migrate',
        ok: false,
        reason: 'already-migrated',
        actor: 'dlms/management',
      });
      expect(s.credentials.keys?.ek).toEqual(defaultCredentials(p, 'management').keys?.ek);
    } finally {
      await r.close();
    }
  });

  it('close() releases the association once, and is idempotent; the client trace shows the APDUs', async () => {
    const r = await rig();
    try {
      const released: Array<string | undefined> = [];
      r.served.server.on('released', (e) => released.push(e.association));
      const clientTrace: DlmsTraceEntry[] = [];
      const s = await r.open(defaultCredentials(p, 'reader'), { trace: (e) => clientTrace.push(e) });
      await s.close();
      await s.close();
      await new Promise<void>((res) => setImmediate(res));
      expect(released).toEqual(['reader']);
      // AARQ out (60...), AARE in (61...), the firmware GET, then RLRQ (62...) / RLRE (63...).
      expect(clientTrace.map((t) => `${t.dir} ${t.apdu.slice(0, 2)}`)).toEqual([
        'tx 60',
        'rx 61',
        'tx c0',
        'rx c4',
        'tx 62',
        'rx 63',
      ]);
      expect(clientTrace.every((t) => t.link === 'wrapper' && t.client === 32 && t.server === 1)).toBe(true);
    } finally {
      await r.close();
    }
  });
});

describe('credentialsAfterMigrate', () => {
  it("takes the new secrets of the association's own levels and keeps the rest", () => {
    const before = defaultCredentials(p, 'management');
    const after = credentialsAfterMigrate(p, before, [
      { level: 'reader', secret: Buffer.from('r') },
      { level: 'management-ak', secret: Buffer.alloc(16, 9) },
    ]);
    expect(after.keys?.ak).toEqual(Buffer.alloc(16, 9));
    expect(after.keys?.ek).toEqual(before.keys?.ek);
    expect(after.keys?.kek).toEqual(before.keys?.kek);
    expect(after.secret).toBeUndefined();
  });
});
