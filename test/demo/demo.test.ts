/**
 * The demo (`smets1-sim demo`, what `npm start` runs) with a small fleet: the side-by-side
 * numbers must be exactly what the seed implies for the generated fleet (computed here from the
 * fleet plan, independently of the run), the 5.1 passes are migrated and cleared, the report
 * files exist, the command's output and exit codes, Ctrl-C, and nothing is left running.
 */
import { EventEmitter } from 'node:events';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { runDemoCommand } from '../../src/cli/commands/demo';
import { SWEEP_INTERRUPTED_EXIT } from '../../src/cli/commands/sweep';
import type { Io } from '../../src/cli/output';
import { runDemo, type DemoResult } from '../../src/demo/demo';
import { EMBEDDED_DEMO_FLEET, loadDemoFleet, scaleFleet } from '../../src/demo/demo-fleet';
import { renderDemo } from '../../src/demo/render';
import { c1218SessionFactory } from '../../src/sweep/c1218-sessions';
import { firmwareProfileResolver } from '../../src/farm/farm-profile';
import { validateFleetSpec } from '../../src/farm/fleet-spec';
import { generateFleet } from '../../src/farm/generator';
import { tempDir } from '../sweep/fake-fleet';

const METERS = 60;
const G05 = 'secure-liberty100-esme-p4x2g05';

/** What the seed implies for the scaled demo fleet, from the plan alone. */
function implied(meters: number): { MA516: number; MA517: number; outside: number } {
  const plan = generateFleet(scaleFleet(loadDemoFleet().spec, meters), firmwareProfileResolver());
  const count = (f: (m: (typeof plan.meters)[number]) => boolean): number => plan.meters.filter(f).length;
  return {
    MA516: count((m) => m.deviceType === 'ESME' && m.cohort === 'MOC Secure' && m.card?.foreign === true),
    MA517: count((m) => m.deviceType === 'GSME' && m.cohort === 'MOC Secure' && m.card?.foreign === true),
    outside: count((m) => m.cohort !== 'MOC Secure' && m.card?.foreign === true),
  };
}

function refused(uri: string): Promise<boolean> {
  const m = /^tcp:\/\/127\.0\.0\.1:(\d+)$/.exec(uri)!;
  return new Promise((resolve) => {
    const s = net.connect({ host: '127.0.0.1', port: Number(m[1]) });
    s.once('connect', () => {
      s.destroy();
      resolve(false);
    });
    s.once('error', () => resolve(true));
  });
}

describe('the demo fleet', () => {
  test('the embedded fleet is fleets/demo.yaml (so an installed package demos the same fleet)', () => {
    const file = loadDemoFleet();
    expect(file.source).toMatch(/fleets[\\/]demo\.yaml$/);
    expect(validateFleetSpec(EMBEDDED_DEMO_FLEET)).toEqual(file.spec);
  });

  test('scaling keeps the group mix and the total', () => {
    const spec = loadDemoFleet().spec;
    expect(spec.groups.map((g) => g.count)).toEqual([450, 100, 350, 100]);
    expect(scaleFleet(spec, 60).groups.map((g) => g.count)).toEqual([27, 6, 21, 6]);
    expect(scaleFleet(spec, 3).groups.map((g) => g.name)).toEqual(['moc-esme-g04', 'moc-gsme']);
    expect(() => scaleFleet(spec, 0)).toThrow(/--meters/);
  });
});

describe('runDemo', () => {
  let result: DemoResult;
  let dir: string;
  let cleanup: () => void;
  const phases: string[] = [];

  beforeAll(async () => {
    ({ dir, cleanup } = tempDir('demo-'));
    result = await runDemo({
      meters: METERS,
      reportDir: join(dir, 'report'),
      onPhase: (p) => phases.push(p.phase === 'sweep-starting' ? `${p.phase} ${p.label}` : p.phase),
    });
  }, 120_000);
  afterAll(() => cleanup());

  test('the side-by-side numbers are what the seed implies', () => {
    const want = implied(METERS);
    // round(27 x 0.1) + round(6 x 0.1) ESMEs, round(21 x 0.1) GSMEs, round(6 x 0.1) IOC.
    expect(want).toEqual({ MA516: 4, MA517: 2, outside: 1 });
    expect(result.expected).toEqual({ MA516: 4, MA517: 2, foreignCardsOutsideMocSecure: 1 });
    expect(result.rows).toEqual([
      {
        ruleset: 'mehrs-5.0',
        installations: 60,
        passed: 54,
        blockedMA516: 4,
        blockedMA517: 2,
        blocked: 6,
        cannotEvaluate: 0,
        communicationFailures: 0,
      },
      {
        ruleset: 'mehrs-5.1',
        installations: 60,
        passed: 60,
        blockedMA516: 0,
        blockedMA517: 0,
        blocked: 0,
        cannotEvaluate: 0,
        communicationFailures: 0,
      },
    ]);
    expect(result.unblocked).toBe(6);
    expect(result.unblockedBy).toEqual({ MA516: 4, MA517: 2 });
    expect(result.interrupted).toBe(false);
  });

  test('the 5.1 passes are migrated and their card data cleared, as the farm confirms', () => {
    const m = result.migration!;
    expect(m.candidates).toBe(60);
    expect(m.migrated).toBe(60);
    expect(m.cleared).toBe(60);
    expect(m.communicationFailures).toBe(0);
    expect(m.farmMigrated).toBe(60);
    expect(m.farmMigratedHoldingCard).toBe(0);
    // Whatever did not verify is accounted for, grouped by reason, with its firmware named.
    expect(m.verified + m.failures.reduce((n, g) => n + g.count, 0)).toBe(60);
    expect(m.failed).toBe(60 - m.verified);
    for (const g of m.failures) expect(g.profiles).toEqual([G05]);
  });

  test('phases, report files and the rendered text', () => {
    expect(phases).toEqual([
      'farm-starting',
      'farm-started',
      'sweep-starting mehrs-5.0',
      'sweep-done',
      'sweep-starting mehrs-5.1 + migration',
      'sweep-done',
      'stopping',
    ]);
    for (const f of [
      result.files.manifest,
      result.files.products,
      result.files.v50!.json,
      result.files.v50!.summaryTxt,
      result.files.v51!.devicesCsv,
    ])
      expect(existsSync(f)).toBe(true);
    const products = parseYaml(readFileSync(result.files.products, 'utf8')) as { products: unknown[] };
    expect(products.products).toHaveLength(3);
    const text = renderDemo(result);
    expect(text).toMatch(/MEHRS 5\.0\s+60\s+54\s+4\s+2\s+0\s+0/);
    expect(text).toMatch(/MEHRS 5\.1\s+60\s+60\s+0\s+0\s+0\s+0/);
    expect(text).toContain('MEHRS 5.1 unblocks 6 installation(s) (MA516 4, MA517 2)');
    expect(text).toContain(`Reports in ${result.reportDir}`);
    expect(result.timings.totalMs).toBeGreaterThanOrEqual(
      result.timings.sweep50Ms + result.timings.sweep51Ms,
    );
  });

  test('nothing is left running: every meter endpoint refuses connections', async () => {
    const manifest = JSON.parse(readFileSync(result.files.manifest, 'utf8')) as {
      meters: { endpoint: { connect: string } }[];
    };
    const sample = manifest.meters.filter((_, i) => i % 10 === 0);
    expect((await Promise.all(sample.map((m) => refused(m.endpoint.connect)))).every(Boolean)).toBe(true);
  });
});

describe('smets1-sim demo (runDemoCommand)', () => {
  function capture(): Io & { out_: string[]; err_: string[] } {
    const out_: string[] = [];
    const err_: string[] = [];
    return { out: (t) => void out_.push(t), err: (t) => void err_.push(t), out_, err_ };
  }

  test('--json prints the result; phase lines go to stderr; exit 0', async () => {
    const { dir, cleanup } = tempDir('demo-cmd-');
    try {
      const io = capture();
      const code = await runDemoCommand({ meters: '20', report: join(dir, 'r'), json: true }, io, {
        signals: new EventEmitter(),
        progress: { isTTY: false, write: () => undefined },
      });
      expect(code).toBe(0);
      const json = JSON.parse(io.out_.join('')) as DemoResult & { exitCode: number };
      expect(json.exitCode).toBe(0);
      expect(json.fleet.meters).toBe(20);
      expect(json.rows[1].passed).toBe(20);
      expect(io.err_.some((l) => l.startsWith('starting 20 simulated meters'))).toBe(true);
    } finally {
      cleanup();
    }
  }, 60_000);

  test('a non-empty --report is refused before anything starts', async () => {
    const { dir, cleanup } = tempDir('demo-used-');
    try {
      mkdirSync(join(dir, 'r'));
      writeFileSync(join(dir, 'r', 'old.txt'), 'x');
      await expect(
        runDemoCommand({ meters: '5', report: join(dir, 'r') }, capture(), { signals: new EventEmitter() }),
      ).rejects.toMatchObject({ codeName: 'UsageError' });
      await expect(runDemoCommand({ meters: 'lots' }, capture())).rejects.toMatchObject({
        codeName: 'UsageError',
      });
    } finally {
      cleanup();
    }
  });

  test('Ctrl-C during the first sweep: exit 130, the farm stopped, the output says so', async () => {
    const { dir, cleanup } = tempDir('demo-int-');
    try {
      const signals = new EventEmitter();
      const io = capture();
      const real = c1218SessionFactory();
      let opened = 0;
      const code = await runDemoCommand({ meters: '40', report: join(dir, 'r'), concurrency: '2' }, io, {
        signals,
        progress: { isTTY: false, write: () => undefined },
        // Ctrl-C once the first sweep has opened a few sessions.
        sessionFactory: (m, l) => {
          if (++opened === 4) signals.emit('SIGINT');
          return real(m, l);
        },
      });
      expect(code).toBe(SWEEP_INTERRUPTED_EXIT);
      const out = io.out_.join('\n');
      expect(out).toContain('Stopped before the end (Ctrl-C).');
      expect(io.err_.join('\n')).toContain('stopping the demo');
      // The 5.1 sweep never started; in-flight flows of the 5.0 sweep finished (concurrency 2).
      expect(opened).toBeLessThanOrEqual(6);
      expect(signals.listenerCount('SIGINT')).toBe(0);
      const manifest = JSON.parse(readFileSync(join(dir, 'r', 'manifest.json'), 'utf8')) as {
        meters: { endpoint: { connect: string } }[];
      };
      expect(await refused(manifest.meters[0]!.endpoint.connect)).toBe(true);
      expect(existsSync(join(dir, 'r', 'mehrs-5.0', 'report.json'))).toBe(true);
      expect(existsSync(join(dir, 'r', 'mehrs-5.1'))).toBe(false);
    } finally {
      cleanup();
    }
  }, 60_000);
});
