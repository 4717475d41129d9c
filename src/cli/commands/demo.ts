/**
 * `smets1-sim demo [--meters N] [--seed S] [--report DIR] [--concurrency N] [--json]` — the
 * project's main job, what `npm start` runs (docs/demo.md): a built-in fleet of about 1,000
 * meters in this process on loopback TCP, swept under MEHRS 5.0 and 5.1 side by side, the 5.1
 * passes migrated, cleared and verified, the report paths printed. Everything it starts is
 * stopped before it returns, so the process exits on its own.
 *
 * Exit codes: 0 the demo ran to the end (meters that failed to migrate or communicate are
 * findings, named in the output and the reports, not a failure of the demo); 130 stopped by
 * Ctrl-C (the farm is stopped first); 2 usage; otherwise the CLI's error mapping.
 */
import type { Command } from 'commander';
import { ErrorCode, SimError } from '../../core/errors';
import { runDemo, type DemoPhase, type DemoResult } from '../../demo/demo';
import { renderDemo } from '../../demo/render';
import type { SweepSessionFactory } from '../../sweep/session-source';
import { ExitCode } from '../exit-codes';
import { printJson, type Io } from '../output';
import { progressRenderer, stderrSink, SWEEP_INTERRUPTED_EXIT, type ProgressSink } from './sweep';

export interface DemoFlags {
  meters?: string;
  seed?: string;
  report?: string;
  concurrency?: string;
  json?: boolean;
  quiet?: boolean;
}

export interface DemoCommandDeps {
  progress?: ProgressSink;
  signals?: NodeJS.EventEmitter;
  sessionFactory?: SweepSessionFactory;
}

function intFlag(flag: string, value: string | undefined, min: number): number | undefined {
  if (value === undefined) return undefined;
  const v = Number(value);
  if (!/^\d+$/.test(value) || !Number.isSafeInteger(v) || v < min)
    throw new SimError(
      ErrorCode.UsageError,
      `${flag} must be an integer ≥ ${min} (got ${JSON.stringify(value)})`,
      {
        flag,
        value,
      },
    );
  return v;
}

export function demoExitCode(r: DemoResult): number {
  return r.interrupted ? SWEEP_INTERRUPTED_EXIT : ExitCode.Ok;
}

function phaseLine(p: DemoPhase): string | undefined {
  switch (p.phase) {
    case 'farm-starting':
      return `starting ${p.meters.toLocaleString('en-GB')} simulated meters on 127.0.0.1 (fleet: ${p.source}) …`;
    case 'farm-started':
      return `  ${p.meters.toLocaleString('en-GB')} meters listening after ${(p.ms / 1000).toFixed(1)} s`;
    case 'sweep-starting':
      return `sweeping under ${p.label} …`;
    case 'sweep-done':
      return `  done in ${(p.ms / 1000).toFixed(1)} s`;
    case 'stopping':
      return 'stopping the farm …';
  }
}

export async function runDemoCommand(flags: DemoFlags, io: Io, deps: DemoCommandDeps = {}): Promise<number> {
  const meters = intFlag('--meters', flags.meters, 1);
  const concurrency = intFlag('--concurrency', flags.concurrency, 1);
  const ac = new AbortController();
  const signals = deps.signals ?? process;
  const onSigint = (): void => {
    io.err('stopping the demo: finishing in-flight flows, then stopping the farm');
    ac.abort();
    signals.off('SIGINT', onSigint);
  };
  signals.on('SIGINT', onSigint);
  // Progress and phase lines go to stderr when --json keeps stdout for the result.
  const say = (t: string): void => (flags.json ? io.err(t) : io.out(t));
  const sink = deps.progress ?? stderrSink;
  let bar: ReturnType<typeof progressRenderer> | undefined;
  try {
    const result = await runDemo({
      ...(meters !== undefined ? { meters } : {}),
      ...(flags.seed !== undefined ? { seed: flags.seed } : {}),
      ...(flags.report !== undefined ? { reportDir: flags.report } : {}),
      ...(concurrency !== undefined ? { concurrency } : {}),
      ...(deps.sessionFactory ? { sessionFactory: deps.sessionFactory } : {}),
      signal: ac.signal,
      onPhase: (p) => {
        if (p.phase === 'sweep-done' || p.phase === 'stopping') {
          bar?.stop();
          bar = undefined;
        }
        const line = flags.quiet ? undefined : phaseLine(p);
        if (line) say(line);
        // Only a terminal gets a bar: a log gets the phase lines (a sweep here takes seconds).
        if (p.phase === 'sweep-starting' && !flags.quiet && sink.isTTY) bar = progressRenderer(sink, p.label);
      },
      onProgress: (_label, p) => bar?.onProgress(p),
    });
    if (flags.json) printJson(io, { ...result, exitCode: demoExitCode(result) });
    else io.out('\n' + renderDemo(result));
    return demoExitCode(result);
  } finally {
    bar?.stop();
    signals.off('SIGINT', onSigint);
  }
}

export function registerDemo(program: Command, io: Io, setExit: (code: number) => void): void {
  program
    .command('demo')
    .description(
      'the main job: ~1,000 simulated meters swept under MEHRS 5.0 and 5.1 side by side, then the 5.1 passes migrated',
    )
    .option('--meters <n>', 'fleet size (default: fleets/demo.yaml, 1,000 meters), mix kept')
    .option('--seed <seed>', 'fleet seed (default: the demo fleet seed)')
    .option('--report <dir>', 'report directory, new or empty (default: a fresh temp directory)')
    .option('--concurrency <n>', 'flows in flight per sweep (default 128)')
    .option('--quiet', 'no progress lines')
    .option('--json', 'print the result as JSON')
    .action(async (flags: DemoFlags) => {
      setExit(await runDemoCommand(flags, io));
    });
}
