/**
 * Acceptance (issue "Sweep" + "startFarm"): a 200-meter farm of the shipped profiles started
 * through startFarm, served over loopback TCP by the real C12.18 server, swept by the real
 * C12.18 client under mehrs-5.0 and mehrs-5.1. The expected blocked counts are computed from
 * the generated manifest (what the seed implies) and the engine must agree meter by meter.
 * Fault injection through the farm makes chosen meters fail: transient faults are retried and
 * recovered from, a powered-off meter ends as a reported communication failure.
 */
import { parseEligibleProducts } from '../../src/migration/eligible-products';
import { loadBuiltinRuleset, type Ruleset } from '../../src/migration/ruleset';
import { c1218SessionFactory } from '../../src/sweep/c1218-sessions';
import { runSweep } from '../../src/sweep/sweep';
import { FarmMetrics } from '../../src/farm/metrics';
import { startFarm, type StartedFarm } from '../../src/testing';

/** Counts the PSEM requests the farm answers. */
class CountingMetrics extends FarmMetrics {
  answered = 0;
  override onRequest(service: string, result: string, seconds: number): void {
    this.answered++;
    super.onRequest(service, result, seconds);
  }
}
const metrics = new CountingMetrics();

const ESME_G04 = 'secure-liberty100-esme-p4x2g04';
const ESME_G05 = 'secure-liberty100-esme-p4x2g05';
const GSME = 'secure-liberty110-gsme-g1x2g01';

/** The eligible products of the shipped profiles, so MA110 passes and MA516/MA517 show alone. */
const PRODUCTS = parseEligibleProducts(
  [
    'id: shipped-profiles',
    'products:',
    '  - { manufacturer: Secure, model: Liberty 100, firmware: P4X2G04, deviceType: ESME }',
    '  - { manufacturer: Secure, model: Liberty 100, firmware: P4X2G05, deviceType: ESME }',
    '  - { manufacturer: Secure, model: Liberty 110, firmware: G1X2G01, deviceType: GSME }',
  ].join('\n'),
  'shipped-products.yaml',
);

const tcp = { kind: 'tcp-listen', host: '127.0.0.1', portStart: 0 };
const FLEET = {
  fleet: 'acceptance',
  seed: 'acceptance-200',
  groups: [
    {
      name: 'moc-g04',
      profile: ESME_G04,
      count: 80,
      transport: tcp,
      cohort: 'MOC Secure',
      suppliers: [{ id: 'SUPA', weight: 3 }, { id: 'SUPB', weight: 2 }, { id: 'SUPC' }],
      foreignCardShare: 0.15,
      noCardShare: 0.05,
    },
    {
      name: 'moc-g05',
      profile: ESME_G05,
      count: 30,
      transport: tcp,
      cohort: 'MOC Secure',
      suppliers: [{ id: 'SUPA' }, { id: 'SUPB' }],
      foreignCardShare: 0.1,
    },
    {
      name: 'moc-gsme',
      profile: GSME,
      count: 60,
      transport: tcp,
      cohort: 'MOC Secure',
      suppliers: [{ id: 'SUPA' }, { id: 'SUPB' }, { id: 'SUPC' }],
      foreignCardShare: 0.2,
    },
    {
      name: 'ioc-g04',
      profile: ESME_G04,
      count: 30,
      transport: tcp,
      cohort: 'IOC',
      suppliers: [{ id: 'SUPA' }, { id: 'SUPB' }],
      foreignCardShare: 0.2,
    },
  ],
};

let v50: Ruleset;
let v51: Ruleset;
let farm: StartedFarm;
const sessions = c1218SessionFactory({ client: { timers: { ackTimeoutMs: 500 } } });
const RETRY = { attempts: 4, baseDelayMs: 20, maxDelayMs: 100 };

beforeAll(async () => {
  v50 = await loadBuiltinRuleset('mehrs-5.0');
  v51 = await loadBuiltinRuleset('mehrs-5.1');
  farm = await startFarm({ fleet: FLEET, metrics });
}, 60_000);
afterAll(() => farm?.stop());

function expectedFromManifest(f: StartedFarm): { MA516: string[]; MA517: string[] } {
  const foreign = (type: string): string[] =>
    f.meters
      .filter((m) => m.deviceType === type && m.cohort === 'MOC Secure' && m.card?.foreign === true)
      .map((m) => m.id);
  return { MA516: foreign('ESME'), MA517: foreign('GSME') };
}

test('startFarm serves 200 meters on loopback TCP with a manifest and registration', () => {
  expect(farm.meters).toHaveLength(200);
  expect(Object.keys(farm.endpoints)).toHaveLength(200);
  for (const m of farm.meters) expect(farm.endpoints[m.id]).toMatch(/^tcp:\/\/127\.0\.0\.1:\d+$/);
  expect(new Set(Object.values(farm.endpoints)).size).toBe(200);
  expect(farm.registration.records).toHaveLength(200);
  expect(farm.manifest.fleet).toBe('acceptance');
});

test('the sweep blocks exactly what the seed implies under 5.0, and nothing under 5.1', async () => {
  const expected = expectedFromManifest(farm);
  // round(80 x 0.15) + round(30 x 0.1) = 12 + 3 ESMEs; round(60 x 0.2) = 12 GSMEs (exact shares).
  expect(expected.MA516).toHaveLength(15);
  expect(expected.MA517).toHaveLength(12);
  const common = {
    manifest: farm.manifest,
    eligibleProducts: PRODUCTS,
    sessionFactory: sessions,
    concurrency: 50,
    retry: RETRY,
  };
  const r50 = await runSweep({ ...common, ruleset: v50 });
  expect(r50.errors).toEqual([]);
  expect(r50.summary.communicationFailures).toBe(0);
  expect(r50.summary.blockedBy).toEqual({ MA516: 15, MA517: 12 });
  expect(r50.summary.passed).toBe(200 - 27);
  expect(r50.summary.cannotEvaluate).toBe(0);
  const blockedBy = (code: string): string[] =>
    r50.devices.filter((d) => d.blockingCodes.includes(code)).map((d) => d.meterId);
  expect(blockedBy('MA516')).toEqual(expected.MA516);
  expect(blockedBy('MA517')).toEqual(expected.MA517);
  // The IOC meters' foreign cards (6 of them) never count: the checks are scoped to MOC Secure.
  expect(farm.meters.filter((m) => m.cohort === 'IOC' && m.card?.foreign)).toHaveLength(6);

  const r51 = await runSweep({ ...common, ruleset: v51 });
  expect(r51.summary.blocked).toBe(0);
  expect(r51.summary.passed).toBe(200);
}, 120_000);

test("reads 'checks' (the default) gives the verdicts of a full read with 11 requests a meter, not 14", async () => {
  const common = {
    manifest: farm.manifest,
    ruleset: v50,
    eligibleProducts: PRODUCTS,
    sessionFactory: sessions,
    concurrency: 50,
    retry: RETRY,
  };
  const n0 = metrics.answered;
  const scoped = await runSweep({ ...common, keepReports: true });
  const n1 = metrics.answered;
  const full = await runSweep({ ...common, reads: 'all', keepReports: true });
  const n2 = metrics.answered;
  const verdicts = (r: typeof scoped): unknown[] =>
    r.devices.map((d) => [d.meterId, d.outcome, d.blockingCodes]);
  expect(verdicts(scoped)).toEqual(verdicts(full));
  // Ident, Negotiate, Logon, Security, ST1, identity, registration + card (one table), the
  // migration state, Logoff, Terminate; a full read adds prepayment (two tables) and the clock.
  expect(n1 - n0).toBe(200 * 11);
  expect(n2 - n1).toBe(200 * 14);
  expect(scoped.summary).toEqual(full.summary);
}, 120_000);

test('injected faults: transient ones are retried and recovered, a dead meter is reported', async () => {
  const [busy, dead, slow] = [farm.meters[3]!.id, farm.meters[120]!.id, farm.meters[170]!.id];
  // Two table requests answered bsy; a meter powered off; one with every table read delayed.
  farm.farm.setFaults(busy, { busy: 2 });
  farm.farm.setFaults(dead, { power: 'off' });
  farm.farm.setFaults(slow, { delayMs: 30 });
  try {
    const r = await runSweep({
      manifest: farm.manifest,
      ruleset: v51,
      eligibleProducts: PRODUCTS,
      sessionFactory: sessions,
      meters: [busy, dead, slow],
      retry: RETRY,
    });
    const by = new Map(r.devices.map((d) => [d.meterId, d]));
    expect(by.get(busy)!.verdict).toBe('passed');
    expect(by.get(busy)!.retries).toBe(2);
    expect(by.get(slow)!.verdict).toBe('passed');
    expect(by.get(slow)!.retries).toBe(0);
    const d = by.get(dead)!;
    expect(d.outcome).toBe('communication-failure');
    expect(d.retries).toBe(RETRY.attempts - 1);
    expect(d.error?.codeName).toMatch(/^(Transport|Link)/);
    expect(r.summary.communicationFailures).toBe(1);
    expect(r.summary.retries).toBe(2 + RETRY.attempts - 1);
  } finally {
    for (const id of [busy, dead, slow]) farm.farm.resetFaults(id);
  }
}, 60_000);
