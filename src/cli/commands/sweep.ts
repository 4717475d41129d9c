/**
 * `smets1-sim sweep --manifest FILE --ruleset ID|FILE [--concurrency N] [--reads checks|all] [--migrate] [--report DIR]
 *  [--products FILE] [--shard i/N] [--meters ID,...] [--level NAME] [--migrated-by NAME]
 *  [--new-credentials-key TEXT] [--retries N] [--fsync] [--profiles-dir DIR] [--quiet] [--json]`
 *
 * The migration flow over every meter of a farm manifest (docs/sweep.md). Progress: a bar with
 * rate and ETA when stderr is a terminal (cli-progress), otherwise a log line every 5 s. The
 * final summary goes to stdout (JSON with --json). Ctrl-C stops cleanly: no new meter is
 * started, in-flight flows stop at their next journal boundary, partial reports are written;
 * a rerun with the same --report resumes. A second Ctrl-C kills at once (the journals stay
 * consistent: every line is written whole before the flow acts on it).
 *
 * Exit codes (docs/sweep.md "Exit codes"): 0 every device has an outcome and none failed to
 * communicate or failed (blocked and cannot-evaluate are findings, not failures); 5 some
 * communication failures; 1 some flows failed or could not run; 70 a bug; 130 stopped by
 * Ctrl-C (SWEEP_INTERRUPTED_EXIT: 128 + SIGINT, the shell convention); 2 usage.
 */
import { INTERROGATION_READS, type InterrogationReads } from '../../migration/flow';
import { SingleBar } from 'cli-progress';
import type { Command } from 'commander';
import { ErrorCode, SimError } from '../../core/errors';
import { parseShard } from '../../farm/shard';
import { loadEligibleProducts } from '../../migration/eligible-products';
import { resolveRuleset } from '../../migration/ruleset';
import { c1218SessionFactory } from '../../sweep/c1218-sessions';
import { dlmsMeterSessions } from '../../sweep/dlms-sessions';
import type { SweepProgress } from '../../sweep/progress';
import { renderSweepSummary } from '../../sweep/summary';
import { runSweep, type SweepOptions, type SweepResult } from '../../sweep/sweep';
import { ExitCode } from '../exit-codes';
import { printJson, type Io } from '../output';

/** 128 + SIGINT (2): what a shell reports for a job stopped by Ctrl-C. */
export const SWEEP_INTERRUPTED_EXIT = ExitCode.Interrupted;

/** Where progress goes: a terminal gets a bar, anything else a line every `intervalMs`. */
export interface ProgressSink {
  isTTY: boolean;
  write(text: string): void;
  /** For the bar (cli-progress writes to a stream). */
  stream?: NodeJS.WritableStream;
}

export const stderrSink: ProgressSink = {
  get isTTY() {
    return process.stderr.isTTY === true;
  },
  write: (t) => void process.stderr.write(t),
  stream: process.stderr,
};

const secs = (ms: number | null): string =>
  ms === null
    ? '?'
    : ms >= 60_000
      ? `${Math.floor(ms / 60_000)}m${Math.round((ms % 60_000) / 1000)}s`
      : `${Math.round(ms / 1000)}s`;

/** One progress line (the non-TTY form, also the bar's payload). */
export function progressLine(label: string, p: SweepProgress): string {
  return (
    `${label}: ${p.done}/${p.total} devices (${p.total ? Math.floor((p.done * 100) / p.total) : 100}%), ` +
    `${p.ratePerSec.toFixed(1)}/s, ETA ${secs(p.etaMs)}, passed ${p.passed}, blocked ${p.blocked}, ` +
    `cannot-evaluate ${p.cannotEvaluate}, comm failures ${p.communicationFailures}` +
    (p.failed ? `, failed ${p.failed}` : '') +
    (p.stopping ? ' — stopping' : '')
  );
}

/**
 * Render sweep progress: cli-progress on a TTY, a line every `intervalMs` otherwise (and one
 * at the end). Returns the onProgress callback and a stop() that releases the timer/bar.
 */
export function progressRenderer(
  sink: ProgressSink,
  label: string,
  intervalMs = 5000,
): { onProgress: (p: SweepProgress) => void; stop: () => void } {
  let last: SweepProgress | undefined;
  if (sink.isTTY) {
    const bar = new SingleBar({
      format: `${label} [{bar}] {value}/{total} | {rate}/s | ETA {eta_formatted} | blocked {blocked} | comm fail {comm}{stopping}`,
      stream: sink.stream ?? process.stderr,
      hideCursor: true,
      etaBuffer: 200,
      fps: 5,
    });
    let started = false;
    const payload = (p: SweepProgress): Record<string, string | number> => ({
      rate: p.ratePerSec.toFixed(1),
      blocked: p.blocked,
      comm: p.communicationFailures,
      stopping: p.stopping ? ' — stopping' : '',
    });
    return {
      onProgress: (p) => {
        if (!started) {
          bar.start(p.total, p.done, payload(p));
          started = true;
        } else bar.update(p.done, payload(p));
        last = p;
      },
      stop: () => {
        if (started) bar.stop();
        started = false;
      },
    };
  }
  const timer = setInterval(() => {
    if (last && last.phase !== 'end') sink.write(progressLine(label, last) + '\n');
  }, intervalMs);
  timer.unref();
  return {
    onProgress: (p) => {
      last = p;
      if (p.phase === 'end') sink.write(progressLine(label, p) + '\n');
    },
    stop: () => clearInterval(timer),
  };
}

/** The exit code of a finished sweep (see the file comment). */
export function sweepExitCode(r: SweepResult): number {
  if (r.interrupted) return SWEEP_INTERRUPTED_EXIT;
  if (r.errors.some((e) => e.error.codeName === 'Unknown')) return ExitCode.Internal;
  if (r.summary.failed > 0 || r.errors.length > 0) return ExitCode.Failure;
  if (r.summary.communicationFailures > 0) return ExitCode.Communication;
  return ExitCode.Ok;
}

export interface SweepFlags {
  manifest: string;
  ruleset: string;
  concurrency?: string;
  reads?: string;
  migrate?: boolean;
  report?: string;
  products?: string;
  shard?: string;
  meters?: string;
  level?: string;
  association?: string;
  migratedBy?: string;
  newCredentialsKey?: string;
  retries?: string;
  fsync?: boolean;
  profilesDir?: string;
  quiet?: boolean;
  json?: boolean;
}

function positiveInt(flag: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!/^\d+$/.test(value) || !Number.isSafeInteger(n) || n < 1)
    throw new SimError(
      ErrorCode.UsageError,
      `${flag} must be a positive integer (got ${JSON.stringify(value)})`,
      {
        flag,
        value,
      },
    );
  return n;
}

function parseReads(value: string | undefined): InterrogationReads | undefined {
  if (value === undefined) return undefined;
  if ((INTERROGATION_READS as readonly string[]).includes(value)) return value as InterrogationReads;
  throw new SimError(
    ErrorCode.UsageError,
    `--reads must be one of ${INTERROGATION_READS.join(', ')} (got ${JSON.stringify(value)})`,
    { flag: '--reads', value },
  );
}

export interface SweepCommandDeps {
  /** Progress output (default stderr). */
  progress?: ProgressSink;
  /** Where SIGINT comes from (default process). */
  signals?: NodeJS.EventEmitter;
  /** Override the session factory (tests). */
  sessionFactory?: SweepOptions['sessionFactory'];
}

/** The command as a function: parse flags, run, print; resolves with the exit code. */
export async function runSweepCommand(
  flags: SweepFlags,
  io: Io,
  deps: SweepCommandDeps = {},
): Promise<number> {
  const concurrency = positiveInt('--concurrency', flags.concurrency);
  const reads = parseReads(flags.reads);
  const retries = positiveInt('--retries', flags.retries);
  const ruleset = await resolveRuleset(flags.ruleset);
  const eligibleProducts = flags.products ? await loadEligibleProducts(flags.products) : undefined;
  const shard = flags.shard ? parseShard(flags.shard) : undefined;
  if (!eligibleProducts && ruleset.checks.some((c) => c.code === 'MA110' && c.severity === 'block'))
    io.err(
      `note: ${ruleset.id} applies MA110 and no --products list was given, so MA110 cannot be evaluated ` +
        '(every device not blocked by another check ends cannot-evaluate)',
    );
  const meters = flags.meters
    ? flags.meters
        .split(',')
        .map((s) => s.trim())
        .filter((s) => s !== '')
    : undefined;
  const ac = new AbortController();
  const signals = deps.signals ?? process;
  let sigints = 0;
  const onSigint = (): void => {
    sigints++;
    if (sigints === 1) {
      io.err(
        'stopping: finishing in-flight flows (Ctrl-C again to kill; a rerun with the same --report resumes)',
      );
      ac.abort();
      // A second Ctrl-C gets the default action again (the journals stay consistent).
      signals.off('SIGINT', onSigint);
    }
  };
  signals.on('SIGINT', onSigint);
  const render = flags.quiet
    ? undefined
    : progressRenderer(
        deps.progress ?? stderrSink,
        `sweep ${ruleset.id}${flags.migrate ? ' (migrate)' : ''}`,
      );
  let result: SweepResult;
  try {
    result = await runSweep({
      manifest: flags.manifest,
      ruleset,
      ...(eligibleProducts ? { eligibleProducts } : {}),
      ...(concurrency ? { concurrency } : {}),
      ...(reads ? { reads } : {}),
      migrate: flags.migrate === true,
      ...(flags.report ? { reportDir: flags.report } : {}),
      ...(flags.newCredentialsKey
        ? { newCredentials: { kind: 'derived', key: flags.newCredentialsKey } }
        : {}),
      ...(flags.level ? { logonLevel: flags.level } : {}),
      ...(flags.migratedBy ? { migratedBy: flags.migratedBy } : {}),
      ...(retries ? { retry: { attempts: retries, baseDelayMs: 500, maxDelayMs: 8000 } } : {}),
      ...(flags.fsync ? { journalSync: 'fsync' as const } : {}),
      ...(meters ? { meters } : {}),
      ...(shard ? { shard } : {}),
      sessionFactory:
        deps.sessionFactory ??
        c1218SessionFactory(flags.profilesDir ? { profilesDir: flags.profilesDir } : {}),
      // DLMS meters of the manifest open their own sessions (associations, not logons).
      meterSessions: dlmsMeterSessions({
        ...(flags.profilesDir ? { profilesDir: flags.profilesDir } : {}),
        ...(flags.association ? { association: flags.association } : {}),
      }),
      ...(render ? { onProgress: render.onProgress } : {}),
      signal: ac.signal,
    });
  } finally {
    render?.stop();
    signals.off('SIGINT', onSigint);
  }
  const code = sweepExitCode(result);
  if (flags.json) {
    printJson(io, {
      fleet: result.fleet,
      ruleset: result.ruleset,
      migrate: result.migrate,
      interrupted: result.interrupted,
      exitCode: code,
      elapsedMs: result.elapsedMs,
      summary: result.summary,
      aggregate: result.aggregate,
      errors: result.errors,
      files: result.files,
    });
    return code;
  }
  io.out(
    renderSweepSummary(result.summary, {
      ruleset: `${result.ruleset.id} v${result.ruleset.version}`,
      migrate: result.migrate,
      interrupted: result.interrupted,
      elapsedMs: result.elapsedMs,
    }),
  );
  for (const e of result.errors.slice(0, 10)) io.err(`${e.meterId}: ${e.error.codeName}: ${e.error.message}`);
  if (result.errors.length > 10) io.err(`… and ${result.errors.length - 10} more (see the journals)`);
  if (result.files) {
    io.out(
      [
        `reports in ${result.files.dir}:`,
        `  ${result.files.json}`,
        `  ${result.files.devicesCsv}`,
        `  ${result.files.summaryCsv}`,
        `  ${result.files.summaryTxt}`,
        `  ${result.files.journals}/ (one journal per meter)`,
      ].join('\n'),
    );
  } else {
    io.out('no --report directory: journals were kept in memory, so this sweep cannot be resumed');
  }
  if (result.interrupted) io.out(`stopped: rerun with the same --report to resume`);
  return code;
}

export function registerSweep(program: Command, io: Io, setExit: (code: number) => void): void {
  program
    .command('sweep')
    .description('run the migration flow over every meter of a farm manifest, with bounded concurrency')
    .requiredOption('--manifest <file>', 'farm manifest (smets1-sim farm --manifest, or GET /manifest)')
    .requiredOption('--ruleset <id|file>', 'mehrs-5.0, mehrs-5.1 or a rule set file')
    .option('--concurrency <n>', 'flows in flight at once (default 256)')
    .option(
      '--reads <what>',
      "what each device's interrogation reads: checks (what the rule set's checks need; default) or all",
    )
    .option('--migrate', 'migrate, clear and verify every device that passes (default: evaluate only)')
    .option('--report <dir>', 'journals and reports here; a rerun with the same dir resumes')
    .option('--products <file>', 'eligible product list for MA110 (without one MA110 cannot be evaluated)')
    .option('--shard <i/N>', 'only the meters of shard i of N (fleet index mod N)')
    .option('--meters <ids>', 'only these meter ids, comma-separated')
    .option('--level <name>', 'access level to log on as (default privileged)')
    .option('--association <name>', 'DLMS meters: the association to open (default management)')
    .option('--migrated-by <name>', 'recorded on migrated meters (default smets1-sim-sweep)')
    .option(
      '--new-credentials-key <text>',
      'key the new per-meter secrets are derived from (default <fleet seed>/dcc)',
    )
    .option('--retries <n>', 'tries per operation on transient faults (default 4)')
    .option('--fsync', 'fsync every journal line (survives a power cut; slower)')
    .option('--profiles-dir <dir>', 'firmware profiles directory (default the shipped firmware-profiles/)')
    .option('--quiet', 'no progress output')
    .option('--json', 'print the result as JSON')
    .action(async (flags: SweepFlags) => {
      setExit(await runSweepCommand(flags, io));
    });
}
