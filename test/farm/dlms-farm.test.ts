/**
 * A mixed C12.18 + DLMS farm (issue 7 item 2): one fleet with a C12.18 group and DLMS groups —
 * the DLMS ESME on TCP over the wrapper (the default on tcp-listen) and over HDLC (the group's
 * `link: hdlc`), the battery DLMS GSME in memory behind IEC 62056-21 mode E (its own link) — all
 * served in one farm by stackServerFactory, then swept by the real clients (C12.18 sessions and
 * dlmsMeterSessions) under MEHRS 5.0 and 5.1. The blocked meters are what the manifest says; 5.1
 * migrates, clears and verifies every meter of both stacks. Faults on a DLMS meter: busy answers
 * are retried, a powered-off meter is a communication failure.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ErrorCode } from '../../src/core/errors';
import { farmDlmsProfile, stackServerFactory } from '../../src/farm/dlms-serving';
import { openDlmsSession } from '../../src/migration/sessions/dlms-session';
import { loadProfile } from '../../src/profiles/loader';
import { parseEligibleProducts } from '../../src/migration/eligible-products';
import { loadBuiltinRuleset, type Ruleset } from '../../src/migration/ruleset';
import { c1218SessionFactory } from '../../src/sweep/c1218-sessions';
import { dlmsMeterSessions } from '../../src/sweep/dlms-sessions';
import { runSweep } from '../../src/sweep/sweep';
import { c1218ServerFactory, startFarm, type StartedFarm } from '../../src/testing';

const PRODUCTS = parseEligibleProducts(
  [
    'id: mixed',
    'products:',
    '  - { manufacturer: Secure, model: Liberty 100, firmware: P4X2G04, deviceType: ESME }',
    '  - { manufacturer: Generic, model: GD-E1, firmware: GDE-1.0, deviceType: ESME }',
    '  - { manufacturer: Generic, model: GD-G1, firmware: GDG-1.0, deviceType: GSME }',
  ].join('\n'),
  'mixed-products.yaml',
);

const tcp = { kind: 'tcp-listen', host: '127.0.0.1', portStart: 0 };
const common = {
  cohort: 'MOC Secure',
  suppliers: [{ id: 'SUPA' }, { id: 'SUPB' }],
  foreignCardShare: 0.5,
};
const FLEET = {
  fleet: 'mixed-dlms',
  seed: 'mixed-dlms-1',
  groups: [
    { name: 'c1218', profile: 'secure-liberty100-esme-p4x2g04', count: 4, transport: tcp, ...common },
    { name: 'dlms-wrapper', profile: 'generic-dlms-esme-v1', count: 4, transport: tcp, ...common },
    { name: 'dlms-hdlc', profile: 'generic-dlms-esme-v1', count: 2, transport: tcp, link: 'hdlc', ...common },
    {
      name: 'dlms-gsme',
      profile: 'generic-dlms-gsme-v1',
      count: 2,
      transport: { kind: 'mem', namePattern: `dlms-farm-${process.pid}-{id}` },
      ...common,
    },
  ],
};

const RETRY = { attempts: 4, baseDelayMs: 20, maxDelayMs: 100 };
let v50: Ruleset;
let v51: Ruleset;
let farm: StartedFarm;

const sweep = (ruleset: Ruleset, extra: Partial<Parameters<typeof runSweep>[0]> = {}) =>
  runSweep({
    manifest: farm.manifest,
    ruleset,
    eligibleProducts: PRODUCTS,
    sessionFactory: c1218SessionFactory(),
    meterSessions: dlmsMeterSessions({ timeoutMs: 5_000 }),
    retry: RETRY,
    concurrency: 8,
    ...extra,
  });

beforeAll(async () => {
  v50 = await loadBuiltinRuleset('mehrs-5.0');
  v51 = await loadBuiltinRuleset('mehrs-5.1');
  farm = await startFarm({
    fleet: FLEET,
    transport: 'as-declared',
    factory: stackServerFactory(c1218ServerFactory),
  });
}, 60_000);
afterAll(() => farm?.stop());

test('the manifest names each DLMS link the fleet chose; defaults stay implicit', () => {
  const byGroup = (g: string) => farm.meters.filter((m) => m.group === g);
  expect(byGroup('dlms-hdlc').map((m) => m.link)).toEqual(['hdlc', 'hdlc']);
  expect(byGroup('dlms-wrapper').every((m) => m.link === undefined)).toBe(true);
  expect(byGroup('dlms-gsme').every((m) => m.endpoint.connect.startsWith('mem:'))).toBe(true);
});

test('faults on DLMS meters (evaluate only): busy answers are retried, a powered-off meter fails', async () => {
  const [busy, dead] = farm.meters.filter((m) => m.group === 'dlms-wrapper').map((m) => m.id);
  farm.farm.setFaults(busy!, { busy: 2 });
  farm.farm.setFaults(dead!, { power: 'off' });
  try {
    const r = await sweep(v51, { meters: [busy!, dead!] });
    const by = new Map(r.devices.map((d) => [d.meterId, d]));
    expect(by.get(busy!)!.verdict).toBe('passed');
    expect(by.get(busy!)!.retries).toBe(2);
    expect(farm.farm.detail(busy!).faults.busy).toBe(0);
    const d = by.get(dead!)!;
    expect(d.outcome).toBe('communication-failure');
    expect(d.retries).toBe(RETRY.attempts - 1);
  } finally {
    farm.farm.resetFaults(busy!);
    farm.farm.resetFaults(dead!);
  }
}, 60_000);

test('MEHRS 5.0 blocks the foreign cards of both stacks; 5.1 migrates, clears and verifies all', async () => {
  const foreign = (type: string): string[] =>
    farm.meters.filter((m) => m.deviceType === type && m.card?.foreign).map((m) => m.id);
  // round(4 x 0.5) per ESME group of 4, 1 of each group of 2.
  expect(foreign('ESME')).toHaveLength(2 + 2 + 1);
  expect(foreign('GSME')).toHaveLength(1);

  const r50 = await sweep(v50);
  expect(r50.errors).toEqual([]);
  expect(r50.summary.communicationFailures).toBe(0);
  expect(r50.summary.cannotEvaluate).toBe(0);
  expect(r50.summary.blockedBy).toEqual({ MA516: 5, MA517: 1 });
  const blockedBy = (code: string): string[] =>
    r50.devices.filter((d) => d.blockingCodes.includes(code)).map((d) => d.meterId);
  expect(blockedBy('MA516')).toEqual(foreign('ESME'));
  expect(blockedBy('MA517')).toEqual(foreign('GSME'));
  for (const id of foreign('ESME')) expect(farm.farm.detail(id).state.card).not.toBeNull();

  const r51 = await sweep(v51, { migrate: true });
  expect(r51.errors).toEqual([]);
  expect(r51.summary.blocked).toBe(0);
  expect(r51.devices.map((d) => d.outcome)).toEqual(farm.meters.map(() => 'verified'));
  for (const m of farm.meters) {
    const s = farm.farm.detail(m.id).state;
    expect(s.card).toBeNull();
    expect(s.registration.siteId).toBeNull();
    expect(s.migration.state).toBe('migrated');
  }
  // The DLMS meters were cleared by their management association, not through the API.
  const dlms = farm.meters.filter((m) => m.profile.startsWith('generic-dlms'));
  for (const m of dlms.filter((x) => x.card))
    expect(
      farm.farm
        .detail(m.id, 100)
        .events.some((e) => e.type === 'card-cleared' && e.actor === 'dlms/management'),
    ).toBe(true);
}, 120_000);

describe('a DLMS meter of a farm on a pty', () => {
  it('serves HDLC on the line; a dropped link forgets the HDLC state, the line stays up', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'smets1-dlms-farm-pty-'));
    const f = await startFarm({
      fleet: {
        fleet: 'dlms-pty',
        seed: 'dlms-pty-1',
        groups: [
          {
            name: 'esme',
            profile: 'generic-dlms-esme-v1',
            count: 1,
            transport: { kind: 'pty', pathPattern: join(dir, 'esme-{n}') },
            ...common,
          },
        ],
      },
      transport: 'as-declared',
      factory: stackServerFactory(c1218ServerFactory),
    });
    const m = f.meters[0]!;
    const p = farmDlmsProfile(m, loadProfile(m.profile).profile);
    const reader = () =>
      openDlmsSession({
        connect: `${m.endpoint.connect}?baud=115200`,
        profile: p,
        credentials: { association: 'reader', secret: Buffer.from('12345678') },
        timeoutMs: 2_000,
      });
    try {
      expect(p.protocol).toMatchObject({ stack: 'dlms', dlms: { link: 'hdlc' } });
      const before = await reader();
      expect((await before.readRegistration()).value.mpxn).toBe(m.registration.mpxn);
      f.farm.setFaults(m.id, { dropLink: true });
      // The meter forgot the HDLC connection: it answers the old session's next I-frame with DM.
      await expect(before.readRegistration()).rejects.toMatchObject({ code: ErrorCode.LinkDisconnected });
      await before.close();
      const after = await reader();
      expect((await after.readRegistration()).value.supplierId).toBe(m.registration.supplierId);
      await after.close();
      expect(f.farm.detail(m.id).faults.linkDrops).toBe(1);
    } finally {
      await f.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);
});
