/**
 * The sweep engine over fake meters (test/sweep/fake-fleet.ts): verdict counts the seed
 * implies, the concurrency bound, stop-and-resume through the report directory, migration of
 * the passes with credential hand-over, communication failures, report files.
 */
import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ErrorCode, SimError } from '../../src/core/errors';
import { readJournalFile } from '../../src/migration/journal';
import { parseCsv } from '../../src/migration/csv';
import { loadBuiltinRuleset, type Ruleset } from '../../src/migration/ruleset';
import { deriveSecret } from '../../src/sweep/credentials';
import { journalPath } from '../../src/sweep/journals';
import type { SweepProgress } from '../../src/sweep/progress';
import { reportFiles, type SweepMeta } from '../../src/sweep/report-dir';
import { runSweep, type SweepOptions } from '../../src/sweep/sweep';
import { expectedBlocked, FakeFleet, PRODUCTS, SteppingClock, tempDir, testManifest } from './fake-fleet';

let v50: Ruleset;
let v51: Ruleset;
beforeAll(async () => {
  v50 = await loadBuiltinRuleset('mehrs-5.0');
  v51 = await loadBuiltinRuleset('mehrs-5.1');
});

const manifest = testManifest();
const expected = expectedBlocked(manifest);
const FAST_RETRY = { attempts: 3, baseDelayMs: 100, maxDelayMs: 400 };

function options(fleet: FakeFleet, over: Partial<SweepOptions> = {}): SweepOptions {
  return {
    manifest,
    ruleset: v50,
    eligibleProducts: PRODUCTS,
    sessionFactory: fleet.factory,
    clock: new SteppingClock(Date.UTC(2026, 2, 1)),
    retry: FAST_RETRY,
    concurrency: 8,
    ...over,
  };
}

describe('verdicts', () => {
  test('the fixture fleet has foreign cards in every group (else the counts prove little)', () => {
    expect(manifest.meters).toHaveLength(60);
    // round(30 x 0.2) = 6 ESMEs, round(20 x 0.3) = 6 GSMEs in MOC Secure (src/farm/seeded.ts shareCount).
    expect(expected.MA516).toHaveLength(6);
    expect(expected.MA517).toHaveLength(6);
    expect(manifest.meters.filter((m) => m.cohort === 'IOC' && m.card?.foreign)).toHaveLength(5);
  });

  test('mehrs-5.0 blocks exactly the MOC Secure meters with foreign cards; 5.1 blocks none', async () => {
    const fleet = new FakeFleet(manifest);
    const r50 = await runSweep(options(fleet));
    expect(r50.interrupted).toBe(false);
    expect(r50.summary.installations).toBe(60);
    expect(r50.summary.finished).toBe(60);
    expect(r50.summary.blockedBy).toEqual({ MA516: 6, MA517: 6 });
    expect(r50.summary.blocked).toBe(12);
    expect(r50.summary.passed).toBe(48);
    expect(r50.summary.cannotEvaluate).toBe(0);
    expect(r50.summary.communicationFailures).toBe(0);
    const blocked = (code: string): string[] =>
      r50.devices.filter((d) => d.blockingCodes.includes(code)).map((d) => d.meterId);
    expect(blocked('MA516')).toEqual(expected.MA516);
    expect(blocked('MA517')).toEqual(expected.MA517);
    expect(r50.aggregate.blockedBy).toEqual({ MA516: 6, MA517: 6 });
    expect(r50.aggregate.byOutcome.passed).toBe(48);
    expect(r50.aggregate.byOutcome.blocked).toBe(12);
    // Evaluate-only: nothing was migrated or cleared.
    expect([...fleet.meters.values()].every((m) => m.effects.length === 0)).toBe(true);

    const r51 = await runSweep(options(fleet, { ruleset: v51 }));
    expect(r51.summary.blocked).toBe(0);
    expect(r51.summary.passed).toBe(60);
    expect(r51.summary.blockedBy).toEqual({});
  });

  test('without an eligible product list MA110 cannot be evaluated for anyone', async () => {
    const fleet = new FakeFleet(manifest);
    const { eligibleProducts: _none, ...rest } = options(fleet, { ruleset: v51 });
    const r = await runSweep(rest);
    expect(r.summary.cannotEvaluate).toBe(60);
    expect(r.summary.undeterminedBy).toEqual({ MA110: 60 });
    expect(r.summary.passed).toBe(0);
  });

  test('a subset of meters by id, in manifest order', async () => {
    const fleet = new FakeFleet(manifest);
    const ids = [manifest.meters[5]!.id, manifest.meters[1]!.id];
    const r = await runSweep(options(fleet, { meters: ids }));
    expect(r.devices.map((d) => d.meterId)).toEqual([manifest.meters[1]!.id, manifest.meters[5]!.id]);
    await expect(runSweep(options(fleet, { meters: ['no-such-meter'] }))).rejects.toMatchObject({
      code: ErrorCode.FarmMeterNotFound,
    });
  });
});

describe('concurrency', () => {
  test.each([1, 5, 16])('never more than %i sessions open, and the bound is used', async (n) => {
    const fleet = new FakeFleet(manifest);
    const r = await runSweep(options(fleet, { concurrency: n }));
    expect(r.summary.finished).toBe(60);
    expect(fleet.maxOpen).toBe(n);
    expect(fleet.open).toBe(0);
    // One session per device: the flow reuses it across reads.
    expect(fleet.logons).toBe(60);
    expect(r.sessionsOpened).toBe(60);
  });

  test('a bad concurrency is refused', async () => {
    const fleet = new FakeFleet(manifest);
    await expect(runSweep(options(fleet, { concurrency: 0 }))).rejects.toMatchObject({
      code: ErrorCode.ConfigInvalid,
    });
  });
});

describe('stop and resume', () => {
  test('abort stops new devices, finishes in-flight ones, and a rerun resumes the rest', async () => {
    const { dir, cleanup } = tempDir('sweep-resume-');
    try {
      const fleet = new FakeFleet(manifest);
      const ac = new AbortController();
      const progress: SweepProgress[] = [];
      const first = await runSweep(
        options(fleet, {
          reportDir: dir,
          concurrency: 4,
          signal: ac.signal,
          onProgress: (p) => {
            progress.push(p);
            if (p.phase === 'device' && p.done === 10) ac.abort();
          },
        }),
      );
      expect(first.interrupted).toBe(true);
      // In flight at the abort: at most 3 more devices finish (concurrency 4), or stop at a boundary.
      expect(first.summary.finished).toBeGreaterThanOrEqual(10);
      expect(first.summary.finished).toBeLessThanOrEqual(13);
      expect(first.summary.notFinished).toBe(60 - first.summary.finished);
      expect(progress.some((p) => p.stopping)).toBe(true);
      expect(progress.at(-1)!.phase).toBe('end');
      // Partial reports are written.
      const partial = JSON.parse(readFileSync(join(dir, 'report.json'), 'utf8')) as { devices: unknown[] };
      expect(partial.devices).toHaveLength(first.summary.finished);
      const done = new Set(first.devices.map((d) => d.meterId));
      const logonsBefore = new Map([...fleet.meters].map(([id, m]) => [id, m.sessionsOpened]));

      const second = await runSweep(options(fleet, { reportDir: dir, concurrency: 4 }));
      expect(second.interrupted).toBe(false);
      expect(second.summary.finished).toBe(60);
      expect(second.summary.fromJournal).toBe(done.size);
      expect(second.summary.blockedBy).toEqual({ MA516: 6, MA517: 6 });
      for (const id of done) {
        // Finished devices are not contacted again.
        expect(fleet.meter(id).sessionsOpened).toBe(logonsBefore.get(id));
        expect(second.devices.find((d) => d.meterId === id)!.fromJournal).toBe(true);
      }
      const meta = JSON.parse(readFileSync(join(dir, 'sweep.json'), 'utf8')) as SweepMeta;
      expect(meta.runs.map((r) => r.interrupted)).toEqual([true, false]);
      expect(meta.ruleset).toEqual({ id: 'mehrs-5.0', version: '5.0' });
      expect(readdirSync(join(dir, 'journals'))).toHaveLength(60);
    } finally {
      cleanup();
    }
  });

  test('an abort raised mid-interrogation lets that step finish and the rerun resumes the flow', async () => {
    const { dir, cleanup } = tempDir('sweep-boundary-');
    try {
      const fleet = new FakeFleet(manifest);
      const target = manifest.meters[0]!;
      const ac = new AbortController();
      // Abort while the first device reads its card: the interrogation completes, then evaluation.
      const meter = fleet.meter(target.id);
      const read = meter.op.bind(meter);
      meter.op = (op, act) => {
        if (op === 'readCardRecord') ac.abort();
        return read(op, act);
      };
      const first = await runSweep(
        options(fleet, { reportDir: dir, concurrency: 1, signal: ac.signal, meters: [target.id] }),
      );
      // Evaluation touches no meter, so the device still gets its verdict and outcome.
      expect(first.summary.finished).toBe(1);
      const entries = readJournalFile(journalPath(dir, target.id)).entries.map((e) => e.event);
      expect(entries).toEqual(['begin', 'start', 'done', 'start', 'done', 'end']);
    } finally {
      cleanup();
    }
  });

  test('a corrupt journal is reported for its device; the others are swept', async () => {
    const { dir, cleanup } = tempDir('sweep-corrupt-');
    try {
      const fleet = new FakeFleet(manifest);
      const ids = [manifest.meters[0]!.id, manifest.meters[1]!.id];
      await runSweep(options(fleet, { reportDir: dir, meters: ids }));
      // Damage the middle of the first meter's journal (not a torn tail: corruption).
      const path = journalPath(dir, ids[0]!);
      const lines = readFileSync(path, 'utf8').split('\n');
      lines[1] = '{"not": "a journal entry"}';
      writeFileSync(path, lines.join('\n'));
      const r = await runSweep(options(fleet, { reportDir: dir, meters: ids }));
      expect(r.errors).toHaveLength(1);
      expect(r.errors[0]!.meterId).toBe(ids[0]);
      expect(r.errors[0]!.error.codeName).toBe('MigrationJournalInvalid');
      expect(r.devices.map((d) => d.meterId)).toEqual([ids[1]]);
      expect(r.summary.internalErrors).toBe(1);
      expect(r.summary.notFinished).toBe(0);
    } finally {
      cleanup();
    }
  });

  test('a report directory of another rule set, fleet or product list is refused', async () => {
    const { dir, cleanup } = tempDir('sweep-mismatch-');
    try {
      const fleet = new FakeFleet(manifest);
      await runSweep(options(fleet, { reportDir: dir, meters: [manifest.meters[0]!.id] }));
      await expect(runSweep(options(fleet, { reportDir: dir, ruleset: v51 }))).rejects.toMatchObject({
        code: ErrorCode.MigrationJournalInvalid,
      });
      await expect(
        runSweep(options(fleet, { reportDir: dir, manifest: testManifest('other-seed') })),
      ).rejects.toMatchObject({ code: ErrorCode.MigrationJournalInvalid });
      // Without the product list its cannot-evaluate verdicts would be mixed with these.
      const { eligibleProducts: _none, ...noProducts } = options(fleet, { reportDir: dir });
      await expect(runSweep(noProducts)).rejects.toThrow(/product list sweep-test \(this run: none\)/);
    } finally {
      cleanup();
    }
  });
});

test('a corrupt sweep record is refused as such, whatever JSON it holds', async () => {
  const { dir, cleanup } = tempDir('sweep-corrupt-');
  try {
    const fleet = new FakeFleet(manifest);
    await runSweep(options(fleet, { reportDir: dir, meters: [manifest.meters[0]!.id] }));
    const meta = reportFiles(dir).meta;
    for (const text of ['null', '[1]', '{"schema":{"toString":[]},"fleet":{"toString":[]},"shard":"x"}']) {
      writeFileSync(meta, text);
      await expect(runSweep(options(fleet, { reportDir: dir }))).rejects.toMatchObject({
        code: ErrorCode.MigrationJournalInvalid,
      });
    }
  } finally {
    cleanup();
  }
});

describe('migration', () => {
  test('an evaluate-first sweep, rerun with migrate, migrates exactly the passes', async () => {
    const { dir, cleanup } = tempDir('sweep-migrate-');
    try {
      const fleet = new FakeFleet(manifest);
      const evaluated = await runSweep(options(fleet, { reportDir: dir }));
      expect(evaluated.summary.passed).toBe(48);
      const migrated = await runSweep(options(fleet, { reportDir: dir, migrate: true }));
      expect(migrated.summary.migrated).toBe(48);
      expect(migrated.summary.cleared).toBe(48);
      expect(migrated.summary.verified).toBe(48);
      expect(migrated.summary.byOutcome.blocked).toBe(12);
      // Blocked devices are terminal: taken from their journals.
      expect(migrated.summary.fromJournal).toBe(12);
      for (const d of migrated.devices) {
        const m = fleet.meter(d.meterId);
        const blocked = d.outcome === 'blocked';
        expect(m.state.migration.state).toBe(blocked ? 'smso-managed' : 'migrated');
        expect(m.state.card === null).toBe(!blocked);
      }
      // The new secrets are the derived ones (key = <seed>/dcc), sized like the old.
      const spec = manifest.meters.find(
        (m) => migrated.devices.find((d) => d.meterId === m.id)!.outcome === 'verified',
      )!;
      const privileged = spec.credentials.find((c) => c.level === 'privileged')!;
      const want = deriveSecret(
        `${manifest.seed}/dcc`,
        spec.id,
        'privileged',
        Buffer.from(privileged.secretHex, 'hex'),
      );
      expect(fleet.meter(spec.id).state.secrets['privileged']).toBe(want.toString('hex'));
      expect(want).toHaveLength(20);
      // Journals and reports never hold a secret.
      const journal = readFileSync(journalPath(dir, spec.id), 'utf8');
      expect(journal.includes(want.toString('hex'))).toBe(false);
      expect(readFileSync(join(dir, 'report.json'), 'utf8').includes(want.toString('hex'))).toBe(false);
      // A third run has nothing to do.
      const again = await runSweep(options(fleet, { reportDir: dir, migrate: true }));
      expect(again.summary.fromJournal).toBe(60);
      expect(again.summary.verified).toBe(48);
    } finally {
      cleanup();
    }
  });

  test('a migrate whose answer was lost reconnects with the new secret, and is not repeated', async () => {
    const fleet = new FakeFleet(manifest);
    const target = manifest.meters.find((m) => m.card === null || !m.card.foreign)!;
    const m = fleet.meter(target.id);
    m.inject('migrate', { after: new SimError(ErrorCode.LinkTimeout, 'answer lost') });
    const r = await runSweep(options(fleet, { migrate: true, meters: [target.id] }));
    expect(r.devices[0]!.outcome).toBe('verified');
    expect(r.devices[0]!.retries).toBe(1);
    expect(m.effects.filter((e) => e === 'migrate')).toHaveLength(1);
    // Logons: the SMSO secret first, then the new one after the lost answer (no wrong-password try).
    const secrets = fleet.attempts.filter((a) => a.meterId === target.id).map((a) => a.secretHex);
    expect(secrets).toHaveLength(2);
    expect(secrets[0]).toBe(target.credentials.find((c) => c.level === 'privileged')!.secretHex);
    expect(secrets[1]).toBe(m.state.secrets['privileged']);
    expect(fleet.failedLogons).toBe(0);
  });

  test('a migrate that failed before the meter acted: the new secret is refused once, the old one works', async () => {
    const fleet = new FakeFleet(manifest);
    const target = manifest.meters.find((m) => m.card === null || !m.card.foreign)!;
    const m = fleet.meter(target.id);
    m.inject('migrate', { before: new SimError(ErrorCode.LinkTimeout, 'request lost') });
    const r = await runSweep(options(fleet, { migrate: true, meters: [target.id] }));
    expect(r.devices[0]!.outcome).toBe('verified');
    expect(fleet.failedLogons).toBe(1);
    expect(m.effects.filter((e) => e === 'migrate')).toHaveLength(1);
  });
});

describe('communication failures', () => {
  test('an unreachable meter is retried and reported; the others are unaffected', async () => {
    const fleet = new FakeFleet(manifest);
    const dead = manifest.meters[3]!.id;
    fleet.unreachable.add(dead);
    const r = await runSweep(options(fleet));
    const d = r.devices.find((x) => x.meterId === dead)!;
    expect(d.outcome).toBe('communication-failure');
    expect(d.verdict).toBeNull();
    expect(d.error?.codeName).toBe('TransportConnectionRefused');
    // attempts = 3: two retries of the first read.
    expect(d.retries).toBe(2);
    expect(fleet.attempts.filter((a) => a.meterId === dead)).toHaveLength(3);
    expect(r.summary.communicationFailures).toBe(1);
    expect(r.summary.finished).toBe(60);
    expect(r.summary.passed + r.summary.blocked).toBe(59);
  });

  test('a meter that fails transiently once recovers on retry', async () => {
    const fleet = new FakeFleet(manifest);
    const id = manifest.meters[7]!.id;
    fleet.meter(id).inject('readCardRecord', { before: new SimError(ErrorCode.ServiceBusy, 'bsy') });
    const r = await runSweep(options(fleet, { meters: [id] }));
    expect(r.devices[0]!.retries).toBe(1);
    expect(r.devices[0]!.verdict).not.toBeNull();
    expect(r.summary.communicationFailures).toBe(0);
  });
});

describe('report files', () => {
  test('report.json, devices.csv, summary.csv and summary.txt agree with the result', async () => {
    const { dir, cleanup } = tempDir('sweep-files-');
    try {
      const fleet = new FakeFleet(manifest);
      const r = await runSweep(options(fleet, { reportDir: dir }));
      expect(r.files?.json).toBe(join(dir, 'report.json'));
      const report = JSON.parse(readFileSync(r.files!.json, 'utf8')) as {
        schema: string;
        summary: { devices: number; blockedBy: Record<string, number> };
        devices: { label: string; outcome: string; interrogations?: unknown }[];
      };
      expect(report.schema).toBe('smets1-sim/migration-run-report');
      expect(report.summary.devices).toBe(60);
      expect(report.summary.blockedBy).toEqual({ MA516: 6, MA517: 6 });
      expect(report.devices.map((d) => d.label)).toEqual(manifest.meters.map((m) => m.id));
      expect(report.devices[0]!.interrogations).toBeUndefined();
      // devices.csv: header + one row per (device, check); 3 rules in mehrs-5.0.
      const rows = parseCsv(readFileSync(r.files!.devicesCsv, 'utf8'), 'devices.csv');
      expect(rows).toHaveLength(1 + 60 * 3);
      const summaryCsv = readFileSync(r.files!.summaryCsv, 'utf8');
      expect(summaryCsv).toContain('blocked-by,MA516,blocked,6');
      expect(summaryCsv).toContain('blocked-by,MA517,blocked,6');
      const text = readFileSync(r.files!.summaryTxt, 'utf8');
      expect(text).toMatch(/installations\s+60/);
      expect(text).toMatch(/blocked by MA516\s+6/);
      expect(text).toMatch(/communication failures\s+0/);
      expect(existsSync(join(dir, 'journals'))).toBe(true);
    } finally {
      cleanup();
    }
  });
});
