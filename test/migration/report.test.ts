import { ManualClock } from '../../src/core/clock';
import { ErrorCode, SimError } from '../../src/core/errors';
import { parseCsv } from '../../src/migration/csv';
import { parseEligibleProducts } from '../../src/migration/eligible-products';
import { runMigrationFlow } from '../../src/migration/flow';
import type { MigrationFlowResult } from '../../src/migration/flow-result';
import { MemoryJournal } from '../../src/migration/journal';
import { parseRegistrationCsv } from '../../src/migration/registration';
import {
  DEVICE_CSV_COLUMNS,
  deviceReport,
  devicesToCsv,
  reportToJson,
  runReport,
} from '../../src/migration/report';
import { ReportAggregator, aggregateReports, aggregateToCsv } from '../../src/migration/report-aggregate';
import { renderAggregateSummary, renderDeviceSummary, renderTable } from '../../src/migration/report-summary';
import { loadBuiltinRuleset, type Ruleset } from '../../src/migration/ruleset';
import { drive } from './drive';
import {
  CARD_FOREIGN,
  FakeMeter,
  MPAN_A,
  MPAN_B,
  MPRN_A,
  OWN,
  esmeState,
  gsmeState,
  type FakeMeterState,
} from './fake-session';

const registration = parseRegistrationCsv(
  `mpxn,supplier_id,cohort\n${MPAN_A},${OWN},MOC Secure\n${MPRN_A},${OWN},MOC Secure\n${MPAN_B},${OWN},FOC\n`,
  'dcc.csv',
);
const products = parseEligibleProducts(
  'id: t\nproducts:\n  - { model: Liberty 100, firmware: P4X2G04 }\n',
  'p.yaml',
);

let v50: Ruleset;
beforeAll(async () => {
  v50 = await loadBuiltinRuleset('mehrs-5.0');
});

async function flow(
  state: FakeMeterState,
  label: string,
  setup?: (m: FakeMeter) => void,
): Promise<MigrationFlowResult> {
  const clock = new ManualClock(Date.UTC(2026, 0, 1, 9));
  const meter = new FakeMeter(state, clock);
  setup?.(meter);
  return drive(
    runMigrationFlow({
      session: () => Promise.resolve(meter.session()),
      registration,
      ruleset: v50,
      context: { eligibleProducts: products },
      newCredentials: [{ level: 'supplier', secret: Buffer.from([1, 2, 3]) }],
      journal: new MemoryJournal(),
      retry: { attempts: 2, baseDelayMs: 10, maxDelayMs: 10 },
      clock,
      label,
    }),
    clock,
  );
}

let results: MigrationFlowResult[];
beforeAll(async () => {
  const own = { paymentCardId: '9826176001000000013', issuerSupplierId: OWN, registeredAt: null };
  const down = new SimError(ErrorCode.TransportConnectionRefused, 'refused');
  results = [
    await flow(esmeState(), 'm1'), // foreign card, MOC Secure: blocked by MA516
    await flow(esmeState({ card: own }), 'm2'), // own card: verified
    await flow(esmeState({ registration: { mpxn: MPAN_B, supplierId: OWN, siteId: 'S-3' } }), 'm3'), // FOC: verified
    await flow(gsmeState(), 'm4'), // GSME model not on the product list: blocked by MA517 and MA110
    await flow(esmeState(), 'm5', (m) => m.inject('identify', { before: down }, { before: down })), // unreachable
  ];
});

describe('device report', () => {
  it('has a schema header and a stable key order', () => {
    const r = deviceReport(results[0]!);
    expect(Object.keys(r)).toEqual([
      'schema',
      'version',
      'flowId',
      'label',
      'device',
      'ruleset',
      'outcome',
      'error',
      'blockingCodes',
      'undeterminedCodes',
      'warningCodes',
      'checks',
      'steps',
      'verification',
      'runs',
      'startedAt',
      'finishedAt',
      'interrogations',
    ]);
    expect(r.schema).toBe('smets1-sim/migration-device-report');
    expect(r.version).toBe(1);
    expect(r.device).toEqual({
      deviceId: '90-B3-D5-1F-30-01-00-01',
      deviceType: 'ESME',
      manufacturer: 'Secure',
      model: 'Liberty 100',
      applicationFirmwareId: 'P4X2G04',
      mpxn: MPAN_A,
    });
    expect(r.outcome).toBe('blocked');
    expect(r.checks.map((c) => [c.code, c.outcome])).toEqual([
      ['MA516', 'fail'],
      ['MA517', 'not-applicable'],
      ['MA110', 'pass'],
    ]);
    expect(deviceReport(results[0]!, { includeInterrogations: false }).interrogations).toBeUndefined();
    expect(JSON.parse(reportToJson(r))).toEqual(r);
  });

  it('CSV: a header row, one row per check, one row for a device with no checks', () => {
    const csv = devicesToCsv([deviceReport(results[0]!), deviceReport(results[4]!)]);
    const rows = parseCsv(csv).map((r) => r.fields);
    expect(rows[0]).toEqual([...DEVICE_CSV_COLUMNS]);
    expect(rows).toHaveLength(1 + 3 + 1);
    const row = Object.fromEntries(DEVICE_CSV_COLUMNS.map((c, i) => [c, rows[1]![i]]));
    expect(row).toMatchObject({
      label: 'm1',
      device_id: '90-B3-D5-1F-30-01-00-01',
      device_type: 'ESME',
      mpxn: MPAN_A,
      ruleset: 'mehrs-5.0',
      ruleset_version: '5.0',
      outcome: 'blocked',
      error: '',
      check_code: 'MA516',
      severity: 'block',
      check_outcome: 'fail',
      reason: `payment card ${CARD_FOREIGN} was issued by WXYZ; the Responsible Supplier is ABCD`,
      evidence:
        'registration:supplierId=ABCD@dcc.csv:2 | meter:cardRecord.paymentCardId=9826176066000000024@c1219 read table 2051 | ' +
        'meter:cardRecord.issuerSupplierId=WXYZ@c1219 read table 2051',
    });
    expect(rows[4]!.slice(9, 12)).toEqual([
      'communication-failure',
      'TransportConnectionRefused: refused',
      '',
    ]);
  });
});

describe('aggregate', () => {
  it('counts devices by outcome and by check code', () => {
    const agg = aggregateReports(results.map((r) => deviceReport(r)));
    expect(agg).toEqual({
      schema: 'smets1-sim/migration-aggregate',
      version: 1,
      devices: 5,
      byOutcome: {
        verified: 2,
        cleared: 0,
        migrated: 0,
        passed: 0,
        blocked: 2,
        'cannot-evaluate': 0,
        'already-migrated': 0,
        'communication-failure': 1,
        failed: 0,
      },
      byCheck: {
        MA110: { pass: 3, fail: 1, 'cannot-evaluate': 0, 'not-applicable': 0 },
        MA516: { pass: 1, fail: 1, 'cannot-evaluate': 0, 'not-applicable': 2 },
        MA517: { pass: 0, fail: 1, 'cannot-evaluate': 0, 'not-applicable': 3 },
      },
      blockedBy: { MA110: 1, MA516: 1, MA517: 1 },
      rulesets: { 'mehrs-5.0@5.0': 5 },
    });
    // Incremental aggregation gives the same answer.
    const inc = new ReportAggregator();
    for (const r of results) inc.add(deviceReport(r, { includeInterrogations: false }));
    expect(inc.result()).toEqual(agg);
  });

  it('aggregate CSV is tidy: dimension, key, outcome, count', () => {
    const rows = parseCsv(aggregateToCsv(aggregateReports(results.map((r) => deviceReport(r))))).map(
      (r) => r.fields,
    );
    expect(rows[0]).toEqual(['dimension', 'key', 'outcome', 'count']);
    expect(rows).toContainEqual(['total', 'devices', '', '5']);
    expect(rows).toContainEqual(['outcome', 'blocked', 'blocked', '2']);
    expect(rows).toContainEqual(['check', 'MA516', 'not-applicable', '2']);
    expect(rows).toContainEqual(['blocked-by', 'MA517', 'blocked', '1']);
    expect(rows).toContainEqual(['ruleset', 'mehrs-5.0@5.0', '', '5']);
    expect(rows).toHaveLength(1 + 1 + 9 + 3 * 4 + 3 + 1);
  });

  it('run report holds the devices and their aggregate', () => {
    const run = runReport(results, Date.UTC(2026, 0, 2), { includeInterrogations: false });
    expect(Object.keys(run)).toEqual(['schema', 'version', 'generatedAt', 'summary', 'devices']);
    expect(run.generatedAt).toBe('2026-01-02T00:00:00.000Z');
    expect(run.summary.devices).toBe(5);
    expect(run.devices.map((d) => d.label)).toEqual(['m1', 'm2', 'm3', 'm4', 'm5']);
  });
});

describe('human summaries', () => {
  it('renders aligned tables', () => {
    expect(renderTable(['A', 'BB', 'C'], [['xxx', 'y', 'last column not padded']])).toBe(
      'A    BB  C\nxxx  y   last column not padded',
    );
  });

  it('renders one device', () => {
    expect(renderDeviceSummary(deviceReport(results[0]!))).toBe(
      [
        `m1: ESME Secure Liberty 100 P4X2G04, MPAN ${MPAN_A}`,
        'rule set mehrs-5.0 v5.0: BLOCKED (MA516)',
        'CHECK  SEVERITY  OUTCOME         REASON',
        `MA516  block     fail            payment card ${CARD_FOREIGN} was issued by WXYZ; the Responsible Supplier is ABCD`,
        'MA517  block     not-applicable  device type ESME is outside the scope (GSME)',
        'MA110  block     pass            Secure Liberty 100 firmware P4X2G04 is on eligible product list t',
        'steps: interrogate done, evaluate done, migrate not-run, clear not-run, verify not-run',
        '',
      ].join('\n'),
    );
    expect(renderDeviceSummary(deviceReport(results[4]!))).toBe(
      [
        'm5: identity unknown, meter point unknown',
        'rule set mehrs-5.0 v5.0: COMMUNICATION-FAILURE',
        'error 111 TransportConnectionRefused: refused',
        'steps: interrogate failed, evaluate not-run, migrate not-run, clear not-run, verify not-run',
        '',
      ].join('\n'),
    );
  });

  it('renders the aggregate', () => {
    expect(renderAggregateSummary(aggregateReports(results.map((r) => deviceReport(r))))).toBe(
      [
        '5 device(s); rule set(s): mehrs-5.0@5.0',
        'OUTCOME                DEVICES',
        'verified               2',
        'blocked                2',
        'communication-failure  1',
        'CHECK  PASS  FAIL  CANNOT-EVALUATE  NOT-APPLICABLE  BLOCKED',
        'MA110  3     1     0                0               1',
        'MA516  1     1     0                2               1',
        'MA517  0     1     0                3               1',
        '',
      ].join('\n'),
    );
  });
});
