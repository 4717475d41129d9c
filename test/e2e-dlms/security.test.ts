/**
 * DLMS security acceptance (issue #8) over a pty (HDLC) and TCP (wrapper): the generic DLMS
 * ESME served by serveDlmsMeter, our interrogator on the other end.
 *
 * - HLS-GMAC associates with the right keys and is refused with a wrong one (counted);
 * - a captured ciphered GET sent again in the same association is refused with
 *   invocation-counter-error, and a captured ciphered AARQ replayed after the meter restarted
 *   from its SQLite state file is refused (the accepted counters are durable device state);
 * - the reader reads the card record but cannot clear it; the management association clears;
 * - after key_transfer the old keys no longer associate and the new ones do;
 * - lock-out: failed HLS proofs lock the meter, after which even the right keys are refused
 *   until the lock-out ends (in memory, on a ManualClock).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ManualClock, systemClock } from '../../src/core/clock';
import { ErrorCode } from '../../src/core/errors';
import { silentLogger } from '../../src/core/logger';
import { Meter } from '../../src/device/meter';
import { MemoryMeterStore, SqliteMeterStore } from '../../src/device/storage';
import { openDlmsSession, type DlmsCredentials } from '../../src/migration/sessions/dlms-session';
import { bindDlms, dlmsParts } from '../../src/profiles/dlms-binding';
import { closeConnection, openConnection } from '../../src/profiles/dlms-binding-client';
import { deviceBehaviour, newMeterFromProfile } from '../../src/profiles/device-binding';
import { serveDlmsMeter, type DlmsTraceEntry } from '../../src/profiles/dlms-serve';
import type { FirmwareProfile } from '../../src/profiles/schema';
import { decodeApdu } from '../../src/protocols/dlms/apdu/apdu';
import { connect, listen } from '../../src/transport/open';
import type { Listener } from '../../src/transport/types';
import {
  DLMS_ESME,
  DLMS_GSME,
  START,
  apduClient,
  associateAs,
  defaultCredentials,
  persistentCounter,
  profile,
  rejection,
  sapOf,
  withLink,
} from './helpers';

const CLOCK = { classId: 8, obis: '0-0:1.0.0.255', index: 2 };
const NEW_KEYS = { ek: Buffer.alloc(16, 0x5e), ak: Buffer.alloc(16, 0xa5) };

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'dlms-sec-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

type Kind = 'pty' | 'tcp';
let n = 0;

function fileMeter(p: FirmwareProfile, file: string): Meter {
  const store = new SqliteMeterStore(file);
  const state = newMeterFromProfile(p, {
    id: 'm-sec',
    index: 5,
    ids: 'dlms-security',
    supplierId: 'SUPA',
    card: { issuerSupplierId: 'SUPB' },
    now: systemClock.now(),
  });
  return Meter.create(state, { store, behaviour: deviceBehaviour(p) });
}

/** Serve `meter` on a fresh pty or TCP listener; the trace keeps every APDU the meter saw. */
async function serve(kind: Kind, p: FirmwareProfile, meter: Meter) {
  const ptyPath = join(dir, `meter-${++n}`);
  const listener: Listener = await listen(kind === 'pty' ? `pty:${ptyPath}` : 'tcp-listen://127.0.0.1:0');
  const trace: DlmsTraceEntry[] = [];
  const served = serveDlmsMeter(listener, meter, p, { trace: (e) => trace.push(e) });
  const uri = kind === 'pty' ? `pty:${ptyPath}` : `tcp://${listener.info.path}`;
  const close = async () => {
    await served.close();
    await listener.close();
  };
  return { uri, trace, close };
}

/** A link of our own to the meter: the DlmsClient for normal requests, `raw` to send any bytes. */
async function rawLink(p: FirmwareProfile, uri: string, clientSap: number) {
  const transport = await connect(uri);
  const conn = await openConnection(
    {
      dlms: dlmsParts(p).dlms,
      profile: p,
      transport,
      clock: systemClock,
      logger: silentLogger,
      options: { timeoutMs: 10_000 },
    },
    clientSap,
    false,
  );
  const raw = (bytes: Buffer): Promise<Buffer> =>
    new Promise((resolve, reject) => {
      const guard = setTimeout(() => reject(new Error('no answer')), 10_000);
      conn.link.once('apdu', (a: Uint8Array) => {
        clearTimeout(guard);
        resolve(Buffer.from(a));
      });
      conn.link.send(bytes, conn.link.address).catch(reject);
    });
  const close = async () => {
    await closeConnection(conn, true);
    await transport.close();
  };
  return { client: conn.client, raw, close };
}

const lastRx = (trace: DlmsTraceEntry[], prefix: string): Buffer => {
  const e = [...trace].reverse().find((t) => t.dir === 'rx' && t.client === 1 && t.apdu.startsWith(prefix));
  if (!e) throw new Error(`no ${prefix} APDU from client 1`);
  return Buffer.from(e.apdu, 'hex');
};

describe.each<[string, Kind, 'hdlc' | 'wrapper']>([
  ['pty (HDLC)', 'pty', 'hdlc'],
  ['TCP (wrapper)', 'tcp', 'wrapper'],
])('DLMS security over %s', (_label, kind, link) => {
  const p = withLink(profile(DLMS_ESME), link);
  const OLD = defaultCredentials(p, 'management');
  const open = (uri: string, credentials: DlmsCredentials, counter = persistentCounter()) =>
    openDlmsSession({ connect: uri, profile: p, credentials, timeoutMs: 10_000, counter });

  it('HLS with the right keys associates; a wrong key is refused and counted on the meter', async () => {
    const meter = fileMeter(p, join(dir, 'a.db'));
    const m = await serve(kind, p, meter);
    try {
      const counter = persistentCounter();
      const good = await open(m.uri, OLD, counter);
      expect((await good.identify()).value.details).toMatchObject({ mechanism: 'hls-gmac', ciphered: true });
      await good.close();
      const wrong = { ...OLD, keys: { ...OLD.keys!, ak: Buffer.alloc(16, 0x01) } };
      const e = await rejection(open(m.uri, wrong, counter));
      expect(e.code).toBe(ErrorCode.SessionAssociationRejected);
      expect(meter.state.security.failures.consecutive).toBe(1);
      expect(meter.events().at(-1)).toMatchObject({ type: 'bad-password', actor: 'dlms/management' });
    } finally {
      await m.close();
      meter.store.close();
    }
  });

  it('the reader reads the card record but cannot clear it; the management association clears', async () => {
    const meter = fileMeter(p, join(dir, 'b.db'));
    const m = await serve(kind, p, meter);
    try {
      const reader = await open(m.uri, defaultCredentials(p, 'reader'));
      const card = (await reader.readCardRecord()).value;
      expect(card?.paymentCardId).toBe(meter.readCardRecord()!.paymentCardId);
      expect((await rejection(reader.clearCardData())).code).toBe(ErrorCode.ServiceAccessDenied);
      await reader.close();
      expect(meter.readCardRecord()).not.toBeNull();
      const management = await open(m.uri, OLD);
      expect((await management.clearCardData()).value).toEqual({ cleared: true });
      await management.close();
      expect(meter.readCardRecord()).toBeNull();
    } finally {
      await m.close();
      meter.store.close();
    }
  });

  it('after key_transfer the old keys no longer associate and the new ones do', async () => {
    const meter = fileMeter(p, join(dir, 'c.db'));
    const m = await serve(kind, p, meter);
    try {
      const counter = persistentCounter();
      const s = await open(m.uri, OLD, counter);
      const t = await s.transferKeys([
        { level: 'management-ek', secret: NEW_KEYS.ek },
        { level: 'management-ak', secret: NEW_KEYS.ak },
      ]);
      expect(t.value).toEqual({ levels: ['management-ek', 'management-ak'], alreadyLive: false });
      await s.verifyKeys();
      expect((await s.readClock()).value).toBeGreaterThan(0);
      await s.close();
      expect(meter.state.security.secrets['management-ek']).toBe(NEW_KEYS.ek.toString('hex'));
      // The key_transfer request itself travelled ciphered (glo-action-request CB).
      expect(lastRx(m.trace, 'cb').length).toBeGreaterThan(50);
      expect((await rejection(open(m.uri, OLD, counter))).code).toBe(ErrorCode.SessionAssociationRejected);
      const fresh = await open(m.uri, { ...OLD, keys: { ...NEW_KEYS, kek: OLD.keys!.kek! } }, counter);
      expect((await fresh.readMigrationState()).value).toEqual({ state: 'smso-managed' });
      await fresh.close();
    } finally {
      await m.close();
      meter.store.close();
    }
  });

  it('a replayed ciphered GET is refused in the association; a replayed AARQ is refused after a restart', async () => {
    const file = join(dir, 'd.db');
    const counter = persistentCounter();
    let aarq: Buffer;
    {
      const meter = fileMeter(p, file);
      const m = await serve(kind, p, meter);
      const l = await rawLink(p, m.uri, sapOf(p, 'management'));
      try {
        await l.client.associate(associateAs(p, 'management', counter));
        aarq = lastRx(m.trace, '60');
        await l.client.get(CLOCK);
        const get = lastRx(m.trace, 'c8');
        // Exception-response: service-not-allowed, invocation-counter-error, the IC expected next.
        const answer = await l.raw(get);
        expect(answer.subarray(0, 3)).toEqual(Buffer.from([0xd8, 0x01, 0x06]));
        expect(answer.readUInt32BE(3)).toBe(counter.last! + 1);
        // The association goes on: a fresh request is served.
        expect((await l.client.get(CLOCK)).type).toBe('octet-string');
      } finally {
        await l.close();
        await m.close();
        meter.store.close();
      }
    }
    // A new process: the meter loads its state file; its accepted counters came with it.
    const store = new SqliteMeterStore(file);
    const meter = Meter.load('m-sec', { store, behaviour: deviceBehaviour(p) });
    const m = await serve(kind, p, meter);
    try {
      const l = await rawLink(p, m.uri, sapOf(p, 'management'));
      try {
        const aare = decodeApdu(await l.raw(aarq));
        expect(aare).toMatchObject({ type: 'aare', result: 1 });
      } finally {
        await l.close();
      }
      // The client continuing its own counter still gets in.
      const s = await open(m.uri, OLD, counter);
      expect((await s.readMigrationState()).value).toEqual({ state: 'smso-managed' });
      await s.close();
    } finally {
      await m.close();
      store.close();
    }
  });
});

describe('lock-out counts failed HLS proofs (GSME: HLS without ciphering, f(StoC) checked)', () => {
  const p = profile(DLMS_GSME);
  it('maxFailures wrong f(StoC) lock the meter; the right keys are refused until the lock-out ends', async () => {
    const clock = new ManualClock(START);
    const state = newMeterFromProfile(p, {
      id: 'm-lock',
      index: 1,
      ids: 'dlms-lock',
      supplierId: 'SUPA',
      card: { issuerSupplierId: 'SUPB' },
      now: START,
    });
    const meter = Meter.create(state, {
      store: new MemoryMeterStore(),
      clock,
      behaviour: deviceBehaviour(p),
    });
    const server = bindDlms(p, meter).createServer();
    const sap = sapOf(p, 'management');
    const good = defaultCredentials(p, 'management');
    const wrong: DlmsCredentials = { ...good, keys: { ...good.keys!, ek: Buffer.alloc(16, 9) } };
    const { maxFailures, lockoutMs } = p.security.lockout;
    for (let i = 0; i < maxFailures; i++) {
      const e = await rejection(
        apduClient(server, sap).associate(associateAs(p, 'management', undefined, wrong)),
      );
      expect(e.code).toBe(ErrorCode.SessionAuthFailed);
    }
    expect(meter.isLockedOut()).toBe(true);
    expect(meter.events().map((e) => e.type)).toContain('locked-out');
    const locked = await rejection(apduClient(server, sap).associate(associateAs(p, 'management')));
    expect(locked.code).toBe(ErrorCode.SessionAuthFailed);
    // The reader's LLS is locked out too (lock-out is meter-wide).
    const reader = await rejection(
      apduClient(server, sapOf(p, 'reader')).associate(associateAs(p, 'reader')),
    );
    expect(reader.code).toBe(ErrorCode.SessionAuthFailed);
    clock.advance(lockoutMs);
    const c = apduClient(server, sap);
    await c.associate(associateAs(p, 'management'));
    expect((await c.get(CLOCK)).type).toBe('octet-string');
    expect(meter.state.security.failures.consecutive).toBe(0);
  });
});
