/**
 * The demo, the project's main job (issue text "Demo"; docs/demo.md): start a built-in fleet of
 * about 1,000 simulated meters in this process on loopback TCP, sweep it under MEHRS 5.0 and
 * 5.1, show side by side how many installations MA516 and MA517 block and how many the change
 * unblocks, then migrate the 5.1 passes (migrate, clear the card data and Site ID, verify), and
 * say where the reports are. Everything it starts is stopped before it returns.
 *
 * Steps, each a library call a user can repeat by hand:
 *   1. startFarm(demo fleet)                            (src/testing/farm.ts)
 *   2. runSweep(mehrs-5.0), evaluate-only               -> <report>/mehrs-5.0/
 *   3. runSweep(mehrs-5.1, migrate)                      -> <report>/mehrs-5.1/
 *      each device is evaluated under 5.1 and, when it passes, migrated, cleared and verified
 *      in the same session (what `smets1-sim sweep --migrate` does)
 *   4. the farm's own view of the meters confirms it: migrated meters hold no card any more
 */
import { existsSync, mkdirSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { systemClock, type Clock } from '../core/clock';
import { ErrorCode, SimError } from '../core/errors';
import { serializeManifest } from '../farm/manifest';
import { loadBuiltinRuleset, type Ruleset } from '../migration/ruleset';
import { c1218SessionFactory } from '../sweep/c1218-sessions';
import type { SweepProgress } from '../sweep/progress';
import type { SweepReportFiles } from '../sweep/report-dir';
import type { SweepSessionFactory } from '../sweep/session-source';
import { runSweep, type SweepResult } from '../sweep/sweep';
import { startFarm, type StartedFarm } from '../testing/farm';
import { fleetSize, loadDemoFleet, scaleFleet } from './demo-fleet';
import { buildDemoProducts, demoProductsYaml } from './demo-products';

/** In-flight flows per sweep: enough to hide the meters' response delays (20–50 ms, profiles). */
export const DEMO_CONCURRENCY = 128;

export type DemoPhase =
  | { phase: 'farm-starting'; meters: number; source: string }
  | { phase: 'farm-started'; meters: number; ms: number }
  | { phase: 'sweep-starting'; label: string }
  | { phase: 'sweep-done'; label: string; ms: number }
  | { phase: 'stopping' };

export interface DemoOptions {
  /** Meters in the fleet (default: the demo fleet's 1,000), mix kept. */
  meters?: number;
  seed?: string;
  /** Must be absent or empty: the demo farm is fresh every run. Default: a new temp dir. */
  reportDir?: string;
  concurrency?: number;
  profilesDir?: string;
  clock?: Clock;
  signal?: AbortSignal;
  onPhase?: (p: DemoPhase) => void;
  onProgress?: (label: string, p: SweepProgress) => void;
  /** Override the client side (tests). */
  sessionFactory?: SweepSessionFactory;
}

export interface DemoRow {
  ruleset: string;
  installations: number;
  passed: number;
  blockedMA516: number;
  blockedMA517: number;
  /** Devices blocked by any code (MA110 included, should the product list not cover one). */
  blocked: number;
  cannotEvaluate: number;
  communicationFailures: number;
}

export interface DemoFailureGroup {
  outcome: string;
  codeName: string | null;
  /** The error message without per-meter values (parenthesised parts). */
  reason: string;
  count: number;
  /** Firmware profiles of the meters in the group. */
  profiles: string[];
  example: string;
}

export interface DemoMigration {
  /** Installations that passed under 5.1 and were handed to migration. */
  candidates: number;
  migrated: number;
  cleared: number;
  verified: number;
  failed: number;
  communicationFailures: number;
  /** Passes that did not end verified, grouped by what went wrong (largest group first). */
  failures: DemoFailureGroup[];
  /** From the farm's side: meters now in state migrated, and how many of them still hold a card. */
  farmMigrated: number;
  farmMigratedHoldingCard: number;
}

export interface DemoResult {
  fleet: { name: string; seed: string; meters: number; source: string };
  /** What the seed implies (from the generated manifest): MOC Secure ESMEs/GSMEs holding a foreign card. */
  expected: { MA516: number; MA517: number; foreignCardsOutsideMocSecure: number };
  rows: [DemoRow, DemoRow];
  /** Blocked under 5.0 and passed under 5.1. */
  unblocked: number;
  unblockedBy: { MA516: number; MA517: number };
  migration: DemoMigration | null;
  interrupted: boolean;
  reportDir: string;
  files: {
    manifest: string;
    products: string;
    v50: SweepReportFiles | null;
    v51: SweepReportFiles | null;
  };
  /** sweep51Ms includes the migration of the passes. */
  timings: { startMs: number; sweep50Ms: number; sweep51Ms: number; totalMs: number };
}

function prepareReportDir(dir: string | undefined): string {
  if (dir === undefined) return mkdtempSync(join(tmpdir(), 'smets1-demo-'));
  const abs = resolve(dir);
  if (existsSync(abs) && readdirSync(abs).length > 0)
    throw new SimError(
      ErrorCode.UsageError,
      `--report ${dir} is not empty: the demo farm is fresh every run, so its journals would not match; give a new directory`,
      { dir },
    );
  mkdirSync(abs, { recursive: true });
  return abs;
}

function row(label: string, r: SweepResult): DemoRow {
  return {
    ruleset: label,
    installations: r.summary.installations,
    passed: r.summary.passed,
    blockedMA516: r.summary.blockedBy['MA516'] ?? 0,
    blockedMA517: r.summary.blockedBy['MA517'] ?? 0,
    blocked: r.summary.blocked,
    cannotEvaluate: r.summary.cannotEvaluate,
    communicationFailures: r.summary.communicationFailures,
  };
}

export async function runDemo(o: DemoOptions = {}): Promise<DemoResult> {
  const clock = o.clock ?? systemClock;
  const t0 = clock.monotonic();
  const phase = (p: DemoPhase): void => o.onPhase?.(p);
  const { spec: base, source } = loadDemoFleet();
  let spec = o.meters === undefined ? base : scaleFleet(base, o.meters);
  if (o.seed !== undefined) spec = { ...spec, seed: o.seed };
  const reportDir = prepareReportDir(o.reportDir);
  const concurrency = o.concurrency ?? DEMO_CONCURRENCY;
  const [v50, v51]: Ruleset[] = await Promise.all([
    loadBuiltinRuleset('mehrs-5.0'),
    loadBuiltinRuleset('mehrs-5.1'),
  ]);

  phase({ phase: 'farm-starting', meters: fleetSize(spec), source });
  const farm: StartedFarm = await startFarm({
    fleet: spec,
    transport: 'tcp',
    ...(o.profilesDir ? { profilesDir: o.profilesDir } : {}),
    clock,
  });
  const startMs = Math.round(clock.monotonic() - t0);
  phase({ phase: 'farm-started', meters: farm.meters.length, ms: startMs });
  let result: DemoResult;
  try {
    const manifest = farm.manifest;
    const files = {
      manifest: join(reportDir, 'manifest.json'),
      products: join(reportDir, 'eligible-products.yaml'),
    };
    writeFileSync(files.manifest, serializeManifest(manifest));
    writeFileSync(files.products, demoProductsYaml(manifest));
    const eligibleProducts = buildDemoProducts(manifest, files.products);
    const foreignIn = (type: string): number =>
      manifest.meters.filter((m) => m.deviceType === type && m.cohort === 'MOC Secure' && m.card?.foreign)
        .length;
    const expected = {
      MA516: foreignIn('ESME'),
      MA517: foreignIn('GSME'),
      foreignCardsOutsideMocSecure: manifest.meters.filter(
        (m) => m.cohort !== 'MOC Secure' && m.card?.foreign,
      ).length,
    };
    const sessionFactory =
      o.sessionFactory ??
      c1218SessionFactory({ clock, ...(o.profilesDir ? { profilesDir: o.profilesDir } : {}) });
    const sweep = async (label: string, ruleset: Ruleset, dir: string, migrate: boolean) => {
      phase({ phase: 'sweep-starting', label });
      const t = clock.monotonic();
      const r = await runSweep({
        manifest,
        ruleset,
        eligibleProducts,
        sessionFactory,
        concurrency,
        migrate,
        reportDir: dir,
        clock,
        migratedBy: 'smets1-sim-demo',
        ...(o.signal ? { signal: o.signal } : {}),
        ...(o.onProgress ? { onProgress: (p: SweepProgress) => o.onProgress!(label, p) } : {}),
      });
      const ms = Math.round(clock.monotonic() - t);
      phase({ phase: 'sweep-done', label, ms });
      return { r, ms };
    };

    const s50 = await sweep('mehrs-5.0', v50!, join(reportDir, 'mehrs-5.0'), false);
    // Under 5.1 each device that passes goes straight on to migrate, clear and verify: the same
    // flow a user runs with `sweep --migrate`, one session per meter instead of two.
    const s51 = s50.r.interrupted
      ? undefined
      : await sweep('mehrs-5.1 + migration', v51!, join(reportDir, 'mehrs-5.1'), true);
    const verdict51 = new Map((s51?.r.devices ?? []).map((d) => [d.meterId, d.verdict]));
    const unblockedDevices = s50.r.devices.filter(
      (d) => d.verdict === 'blocked' && verdict51.get(d.meterId) === 'passed',
    );

    let migration: DemoMigration | null = null;
    if (s51) {
      const m = s51.r;
      const farmMigrated = farm.farm.list({ migrated: true });
      const profileOf = new Map(manifest.meters.map((x) => [x.id, x.profile]));
      const groups = new Map<string, DemoFailureGroup>();
      for (const d of m.devices) {
        if (d.verdict !== 'passed' || d.outcome === 'verified') continue;
        // Group by what went wrong, without the per-meter values in parentheses.
        const reason = (d.error?.message ?? d.outcome).replace(/\s*\([^)]*\)/g, '');
        const key = `${d.outcome}|${d.error?.codeName ?? ''}|${reason}`;
        let g = groups.get(key);
        if (!g) {
          g = {
            outcome: d.outcome,
            codeName: d.error?.codeName ?? null,
            reason,
            count: 0,
            profiles: [],
            example: d.meterId,
          };
          groups.set(key, g);
        }
        g.count++;
        const p = profileOf.get(d.meterId)!;
        if (!g.profiles.includes(p)) g.profiles.push(p);
      }
      migration = {
        candidates: m.summary.passed,
        migrated: m.summary.migrated,
        cleared: m.summary.cleared,
        verified: m.summary.verified,
        failed: m.summary.failed,
        communicationFailures: m.summary.communicationFailures,
        failures: [...groups.values()].sort((a, b) => b.count - a.count),
        farmMigrated: farmMigrated.length,
        farmMigratedHoldingCard: farmMigrated.filter((x) => x.card !== null).length,
      };
    }
    const interrupted = s50.r.interrupted || (s51?.r.interrupted ?? true);
    const empty: DemoRow = {
      ruleset: 'mehrs-5.1',
      installations: farm.meters.length,
      passed: 0,
      blockedMA516: 0,
      blockedMA517: 0,
      blocked: 0,
      cannotEvaluate: 0,
      communicationFailures: 0,
    };
    result = {
      fleet: { name: manifest.fleet, seed: manifest.seed, meters: manifest.meters.length, source },
      expected,
      rows: [row('mehrs-5.0', s50.r), s51 ? row('mehrs-5.1', s51.r) : empty],
      unblocked: unblockedDevices.length,
      unblockedBy: {
        MA516: unblockedDevices.filter((d) => d.blockingCodes.includes('MA516')).length,
        MA517: unblockedDevices.filter((d) => d.blockingCodes.includes('MA517')).length,
      },
      migration,
      interrupted,
      reportDir,
      files: { ...files, v50: s50.r.files, v51: s51?.r.files ?? null },
      timings: { startMs, sweep50Ms: s50.ms, sweep51Ms: s51?.ms ?? 0, totalMs: 0 },
    };
  } finally {
    phase({ phase: 'stopping' });
    await farm.stop();
  }
  result.timings.totalMs = Math.round(clock.monotonic() - t0);
  return result;
}
