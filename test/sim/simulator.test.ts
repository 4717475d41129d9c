/**
 * Issue 4 acceptance: a simulated meter over a real pseudo-terminal (pty: URI) and TCP on
 * loopback, with a SQLite state file. A C12.18 client reads identity (ST1 + MT5), registration
 * and the card record with the credentials the profile allows; the clear procedure is refused
 * with isc for the reader and succeeds for the privileged level; a second read shows the card
 * record and Site ID empty; the event log shows the clear; a restart with the same state file
 * keeps all of it. Real I/O, so the system clock (no timed assertions).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { ErrorCode, SimError } from '../../src/core/errors';
import { createLogger } from '../../src/core/logger';
import { openC1218Session } from '../../src/migration/sessions/c1218-session';
import { startSimulator, type Simulator } from '../../src/sim/simulator';
import { ESME, profile, secretOf } from './helpers';

const p = profile(ESME);
const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

async function rejection(work: Promise<unknown>): Promise<SimError> {
  try {
    await work;
  } catch (e) {
    if (e instanceof SimError) return e;
    throw e;
  }
  throw new Error('expected a SimError');
}

function open(sim: Simulator, level: string) {
  return openC1218Session({
    connect: sim.endpoint.connect!,
    profile: p,
    credentials: { level, secret: secretOf(p, level) },
  });
}

function logCapture(): { lines: () => string[]; logger: ReturnType<typeof createLogger> } {
  const chunks: string[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _enc, cb) {
      chunks.push(chunk.toString('utf8'));
      cb();
    },
  });
  return {
    lines: () =>
      chunks
        .join('')
        .split('\n')
        .filter(Boolean)
        .map((l) => (JSON.parse(l) as { msg: string }).msg),
    logger: createLogger({ level: 'info', destination }),
  };
}

describe('simulate over a pty with a state file', () => {
  it('reader/privileged access, clear, read-back, event log, and a restart that keeps it all', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'smets1-sim-'));
    dirs.push(dir);
    const link = join(dir, 'meter-1');
    const statePath = join(dir, 'state.db');
    const log = logCapture();
    let sim = await startSimulator({
      profileId: ESME,
      listen: `pty:${link}`,
      statePath,
      card: 'SUPB',
      logger: log.logger,
    });
    try {
      expect(sim.resumed).toBe(false);
      expect(sim.endpoint).toMatchObject({ kind: 'pty', path: link, connect: `pty:${link}` });
      expect(sim.endpoint.peer).toMatch(/^\/dev\/pts\/\d+$/);
      const card = sim.meter.readCardRecord()!;
      const siteId = sim.meter.readRegistration().siteId!;
      expect(card.issuerSupplierId).toBe('SUPB');

      const reader = await open(sim, 'reader');
      const identity = await reader.readIdentity();
      expect(identity.value).toMatchObject({
        model: 'Liberty 100',
        applicationFirmwareId: 'P4X2G04',
        serial: sim.meter.readIdentity().serial,
      });
      expect(identity.evidence.map((e) => (e.kind === 'c1219-table' ? e.tableId : -1))).toEqual([1, 2053]);
      expect((await rejection(reader.readRegistration())).code).toBe(ErrorCode.ServiceAccessDenied);
      const meterTime = (await reader.readClock()).value;
      expect(Math.abs(meterTime - Date.now())).toBeLessThan(60_000);
      const denied = await rejection(reader.readCardRecord());
      expect(denied.code).toBe(ErrorCode.ServiceAccessDenied);
      const refused = await rejection(reader.clearCardData());
      expect(refused.code).toBe(ErrorCode.ServiceAccessDenied);
      expect(refused.context['wireCode']).toBe(0x03);
      await reader.close();
      expect(sim.meter.readCardRecord()).toEqual(card);

      const priv = await open(sim, 'privileged');
      expect((await priv.readCardRecord()).value).toMatchObject({
        paymentCardId: card.paymentCardId,
        issuerSupplierId: 'SUPB',
      });
      expect((await priv.readRegistration()).value).toMatchObject({ siteId, supplierId: 'SUPA' });
      expect((await priv.clearCardData()).value).toEqual({ cleared: true });
      expect((await priv.readCardRecord()).value).toBeNull();
      expect((await priv.readRegistration()).value.siteId).toBeNull();
      await priv.close();

      const cleared = sim.meter.events().filter((e) => e.type === 'card-cleared');
      expect(cleared.map((e) => [e.actor, e.data['paymentCardId'], e.data['siteId']])).toEqual([
        ['c1218/privileged', card.paymentCardId, siteId],
      ]);
      expect(log.lines()).toEqual(
        expect.arrayContaining([
          'logged on as reader (user 0 "reader")',
          'read MT1 PAYMENT_CARD_TBL: isc',
          'procedure MP1 CLEAR_PAYMENT_CARD_DATA by c1218/reader: isc',
          'logged on as privileged (user 1 "privileged")',
          'procedure MP1 CLEAR_PAYMENT_CARD_DATA by c1218/privileged: completed',
          'meter event 2 card-cleared by c1218/privileged',
        ]),
      );

      await sim.close();
      sim = await startSimulator({ profileId: ESME, listen: `pty:${link}`, statePath, card: 'SUPB' });
      expect(sim.resumed).toBe(true);
      expect(sim.meter.readCardRecord()).toBeNull();
      expect(sim.meter.readRegistration().siteId).toBeNull();
      expect(sim.meter.events().map((e) => e.type)).toEqual(['meter-created', 'card-cleared']);
      const again = await open(sim, 'privileged');
      expect((await again.readCardRecord()).value).toBeNull();
      await again.close();
    } finally {
      await sim.close();
    }
  });

  it('a state file of another profile is refused', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'smets1-sim-'));
    dirs.push(dir);
    const statePath = join(dir, 'state.db');
    const sim = await startSimulator({ profileId: ESME, listen: 'tcp-listen://127.0.0.1:0', statePath });
    await sim.close();
    const e = await rejection(
      startSimulator({
        profileId: 'secure-liberty110-gsme-g1x2g01',
        listen: 'tcp-listen://127.0.0.1:0',
        statePath,
      }),
    );
    expect(e.code).toBe(ErrorCode.ProfileIncompatible);
    expect(e.message).toBe(
      `state file holds meter sim of profile ${ESME}, not secure-liberty110-gsme-g1x2g01`,
    );
  });
});

describe('simulate over TCP', () => {
  it('serves concurrent sessions, each with its own logon', async () => {
    const sim = await startSimulator({ profileId: ESME, listen: 'tcp-listen://127.0.0.1:0', card: 'none' });
    try {
      expect(sim.endpoint.connect).toMatch(/^tcp:\/\/127\.0\.0\.1:\d+$/);
      const [a, b] = await Promise.all([open(sim, 'reader'), open(sim, 'privileged')]);
      const [ra, rb] = await Promise.all([a.readRegistration().catch((e: unknown) => e), b.readCardRecord()]);
      expect((ra as SimError).code).toBe(ErrorCode.ServiceAccessDenied);
      expect(rb.value).toBeNull();
      await Promise.all([a.close(), b.close()]);
    } finally {
      await sim.close();
    }
  });
});
