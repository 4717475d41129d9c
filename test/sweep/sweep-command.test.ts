/**
 * `smets1-sim sweep` as a function (runSweepCommand) over the fake fleet: flags, summary and
 * JSON output, progress lines when not on a terminal, exit codes, Ctrl-C and resume.
 */
import { EventEmitter } from 'node:events';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { serializeManifest } from '../../src/farm/manifest';
import {
  progressLine,
  progressRenderer,
  runSweepCommand,
  SWEEP_INTERRUPTED_EXIT,
  type ProgressSink,
} from '../../src/cli/commands/sweep';
import { ExitCode } from '../../src/cli/exit-codes';
import type { Io } from '../../src/cli/output';
import type { SweepProgress } from '../../src/sweep/progress';
import { FakeFleet, tempDir, testManifest } from './fake-fleet';

const manifest = testManifest();

function capture(): Io & { outText: () => string; errText: () => string } {
  const out: string[] = [];
  const err: string[] = [];
  return {
    out: (t) => void out.push(t),
    err: (t) => void err.push(t),
    outText: () => out.join('\n'),
    errText: () => err.join('\n'),
  };
}

function sink(): ProgressSink & { lines: string[] } {
  const lines: string[] = [];
  return { isTTY: false, write: (t) => void lines.push(t), lines };
}

const PRODUCTS_YAML = [
  'id: cmd-test',
  'products:',
  '  - { manufacturer: Secure, model: Liberty 100, firmware: P4X2G04, deviceType: ESME }',
  '  - { manufacturer: Secure, model: Liberty 110, firmware: G1X2G01, deviceType: GSME }',
].join('\n');

let dir: string;
let cleanup: () => void;
let manifestPath: string;
let productsPath: string;
beforeEach(() => {
  ({ dir, cleanup } = tempDir('sweep-cmd-'));
  manifestPath = join(dir, 'manifest.json');
  productsPath = join(dir, 'products.yaml');
  writeFileSync(manifestPath, serializeManifest(manifest));
  writeFileSync(productsPath, PRODUCTS_YAML);
});
afterEach(() => cleanup());

test('sweeps a manifest file, prints the summary and the report paths, exit 0', async () => {
  const fleet = new FakeFleet(manifest);
  const io = capture();
  const progress = sink();
  const code = await runSweepCommand(
    {
      manifest: manifestPath,
      ruleset: 'mehrs-5.0',
      products: productsPath,
      report: join(dir, 'report'),
      concurrency: '4',
    },
    io,
    { sessionFactory: fleet.factory, progress, signals: new EventEmitter() },
  );
  expect(code).toBe(ExitCode.Ok);
  const text = io.outText();
  expect(text).toMatch(/sweep done under mehrs-5.0 v5.0: 60\/60 devices/);
  expect(text).toMatch(/blocked by MA516\s+6/);
  expect(text).toMatch(/blocked by MA517\s+6/);
  expect(text).toContain(join(dir, 'report', 'report.json'));
  // Not a terminal: a final progress line (and one every 5 s, which this sweep is too quick for).
  expect(progress.lines.at(-1)).toMatch(/^sweep mehrs-5.0: 60\/60 devices \(100%\), .* blocked 12, /);
});

test('--json, --shard and --meters select meters; a communication failure exits 5', async () => {
  const fleet = new FakeFleet(manifest);
  const shard0 = manifest.meters.filter((m) => m.index % 3 === 0);
  fleet.unreachable.add(shard0[0]!.id);
  const io = capture();
  const code = await runSweepCommand(
    {
      manifest: manifestPath,
      ruleset: 'mehrs-5.1',
      products: productsPath,
      shard: '0/3',
      retries: '2',
      json: true,
      quiet: true,
    },
    io,
    { sessionFactory: fleet.factory, signals: new EventEmitter() },
  );
  expect(code).toBe(ExitCode.Communication);
  const json = JSON.parse(io.outText()) as {
    exitCode: number;
    summary: { installations: number; communicationFailures: number; passed: number };
    files: unknown;
  };
  expect(json.exitCode).toBe(5);
  expect(io.errText()).toBe('');
  expect(json.summary.installations).toBe(shard0.length);
  expect(json.summary.communicationFailures).toBe(1);
  expect(json.summary.passed).toBe(shard0.length - 1);
  expect(json.files).toBeNull();
  // --retries 2: the unreachable meter was tried twice.
  expect(fleet.attempts.filter((a) => a.meterId === shard0[0]!.id)).toHaveLength(2);

  const only = capture();
  const ids = `${manifest.meters[2]!.id},${manifest.meters[0]!.id}`;
  await runSweepCommand(
    {
      manifest: manifestPath,
      ruleset: 'mehrs-5.1',
      products: productsPath,
      meters: ids,
      json: true,
      quiet: true,
    },
    only,
    { sessionFactory: new FakeFleet(manifest).factory, signals: new EventEmitter() },
  );
  expect((JSON.parse(only.outText()) as { summary: { installations: number } }).summary.installations).toBe(
    2,
  );
});

test('Ctrl-C stops cleanly with exit 130; the rerun resumes and finishes', async () => {
  const fleet = new FakeFleet(manifest);
  const signals = new EventEmitter();
  const io = capture();
  const report = join(dir, 'report');
  let seen = 0;
  const factory: typeof fleet.factory = (m, l) => {
    // Ctrl-C once a few devices are under way.
    if (++seen === 5) signals.emit('SIGINT');
    return fleet.factory(m, l);
  };
  const code = await runSweepCommand(
    {
      manifest: manifestPath,
      ruleset: 'mehrs-5.0',
      products: productsPath,
      report,
      concurrency: '2',
      quiet: true,
    },
    io,
    { sessionFactory: factory, signals },
  );
  expect(code).toBe(SWEEP_INTERRUPTED_EXIT);
  expect(io.errText()).toMatch(/stopping: finishing in-flight flows/);
  expect(io.outText()).toMatch(/sweep STOPPED/);
  expect(io.outText()).toMatch(/rerun with the same --report to resume/);
  expect(signals.listenerCount('SIGINT')).toBe(0);

  const again = capture();
  const code2 = await runSweepCommand(
    { manifest: manifestPath, ruleset: 'mehrs-5.0', products: productsPath, report, json: true, quiet: true },
    again,
    { sessionFactory: fleet.factory, signals },
  );
  expect(code2).toBe(ExitCode.Ok);
  const json = JSON.parse(again.outText()) as { summary: { finished: number; fromJournal: number } };
  expect(json.summary.finished).toBe(60);
  expect(json.summary.fromJournal).toBeGreaterThan(0);
  expect(json.summary.fromJournal).toBeLessThan(60);
});

test('without --products the command says MA110 cannot be evaluated, and it is not', async () => {
  const io = capture();
  const code = await runSweepCommand(
    { manifest: manifestPath, ruleset: 'mehrs-5.1', meters: manifest.meters[0]!.id, json: true, quiet: true },
    io,
    { sessionFactory: new FakeFleet(manifest).factory, signals: new EventEmitter() },
  );
  expect(code).toBe(ExitCode.Ok);
  expect(io.errText()).toMatch(/^note: mehrs-5.1 applies MA110 and no --products list was given/);
  const json = JSON.parse(io.outText()) as { summary: { cannotEvaluate: number; undeterminedBy: object } };
  expect(json.summary.cannotEvaluate).toBe(1);
  expect(json.summary.undeterminedBy).toEqual({ MA110: 1 });
});

test('usage errors: a bad concurrency, an unknown --reads, an unknown rule set', async () => {
  const fleet = new FakeFleet(manifest);
  await expect(
    runSweepCommand({ manifest: manifestPath, ruleset: 'mehrs-5.0', reads: 'some' }, capture(), {
      sessionFactory: fleet.factory,
    }),
  ).rejects.toMatchObject({
    codeName: 'UsageError',
    message: expect.stringMatching(/--reads must be one of all, checks/),
  });
  await expect(
    runSweepCommand({ manifest: manifestPath, ruleset: 'mehrs-5.0', concurrency: 'many' }, capture(), {
      sessionFactory: fleet.factory,
    }),
  ).rejects.toMatchObject({ codeName: 'UsageError' });
  await expect(
    runSweepCommand({ manifest: manifestPath, ruleset: join(dir, 'nope.yaml') }, capture(), {
      sessionFactory: fleet.factory,
    }),
  ).rejects.toMatchObject({ codeName: 'MigrationRulesetInvalid' });
});

test('progress lines carry rate, ETA and the counts', () => {
  const p: SweepProgress = {
    phase: 'device',
    total: 200,
    done: 50,
    inFlight: 8,
    fromJournal: 0,
    passed: 40,
    blocked: 8,
    cannotEvaluate: 1,
    communicationFailures: 1,
    failed: 0,
    elapsedMs: 10_000,
    ratePerSec: 5,
    etaMs: 30_000,
    stopping: false,
  };
  expect(progressLine('sweep mehrs-5.0', p)).toBe(
    'sweep mehrs-5.0: 50/200 devices (25%), 5.0/s, ETA 30s, passed 40, blocked 8, cannot-evaluate 1, comm failures 1',
  );
  expect(progressLine('x', { ...p, etaMs: 125_000, stopping: true, failed: 2 })).toMatch(
    /ETA 2m5s, .*, failed 2 — stopping$/,
  );
  // Non-TTY renderer: nothing until the end (or the interval), then one line.
  const s = sink();
  const r = progressRenderer(s, 'x', 60_000);
  r.onProgress(p);
  expect(s.lines).toEqual([]);
  r.onProgress({ ...p, phase: 'end', done: 200, etaMs: 0 });
  r.stop();
  expect(s.lines).toEqual([progressLine('x', { ...p, phase: 'end', done: 200, etaMs: 0 }) + '\n']);
});
