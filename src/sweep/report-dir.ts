/**
 * The sweep's report directory (docs/sweep.md "Report directory"):
 *
 *   sweep.json        what this directory belongs to (fleet, seed, shard, rule set, migratedBy)
 *                     and one record per run (started, finished, stopped, summary)
 *   journals/         one journal per meter (journals.ts): the resumable truth
 *   report.json       run report (schema smets1-sim/migration-run-report v1), interrogations omitted
 *   devices.csv       one row per (device, check)        (docs/migration.md §8)
 *   summary.csv       the aggregate as tidy rows         (docs/migration.md §8)
 *   summary.txt       the human summary
 *
 * A directory belongs to one fleet and one rule set (and one product list and migratedBy):
 * rerunning it with another would mix verdicts, because verdicts are journaled and finished
 * devices are not evaluated again (and the flows would refuse journals of another rule set
 * anyway), so that is refused up front with MigrationJournalInvalid. Switching --migrate on for a rerun is allowed: that is how a sweep
 * that evaluated first goes on to migrate the passes.
 *
 * Files are written to a temporary name and renamed, so a reader never sees half a report.
 */
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ErrorCode, SimError } from '../core/errors';
import type { Manifest } from '../farm/manifest';
import type { AggregateReport } from '../migration/report-aggregate';
import { aggregateToCsv } from '../migration/report-aggregate';
import {
  devicesToCsv,
  REPORT_SCHEMA_VERSION,
  RUN_REPORT_SCHEMA,
  reportToJson,
  type DeviceReport,
  type RunReport,
} from '../migration/report';
import { JOURNALS_DIR } from './journals';
import type { SweepSummary } from './summary';

export const SWEEP_META_SCHEMA = 'smets1-sim/sweep' as const;

export interface SweepRunRecord {
  startedAt: string;
  finishedAt: string;
  migrate: boolean;
  interrupted: boolean;
  summary: SweepSummary;
}

export interface SweepMeta {
  schema: typeof SWEEP_META_SCHEMA;
  version: 1;
  fleet: string;
  seed: string;
  shard: { index: number; count: number };
  ruleset: { id: string; version: string };
  migratedBy: string;
  /** Id of the eligible product list (MA110), or null when none was given. */
  products: string | null;
  runs: SweepRunRecord[];
}

export interface SweepReportFiles {
  dir: string;
  meta: string;
  journals: string;
  json: string;
  devicesCsv: string;
  summaryCsv: string;
  summaryTxt: string;
}

export function reportFiles(dir: string): SweepReportFiles {
  return {
    dir,
    meta: join(dir, 'sweep.json'),
    journals: join(dir, JOURNALS_DIR),
    json: join(dir, 'report.json'),
    devicesCsv: join(dir, 'devices.csv'),
    summaryCsv: join(dir, 'summary.csv'),
    summaryTxt: join(dir, 'summary.txt'),
  };
}

function ioError(path: string, what: string, e: unknown): SimError {
  return new SimError(
    ErrorCode.IoError,
    `${path}: cannot ${what}: ${e instanceof Error ? e.message : String(e)}`,
    { path },
    { cause: e },
  );
}

export function writeAtomic(path: string, text: string): void {
  const tmp = `${path}.${process.pid}.tmp`;
  try {
    writeFileSync(tmp, text);
    renameSync(tmp, path);
  } catch (e) {
    throw ioError(path, 'write', e);
  }
}

/**
 * Create the directory (and journals/) or check that an existing one belongs to this fleet,
 * rule set and migratedBy. Returns the meta record to append this run to.
 */
export function openReportDir(
  dir: string,
  want: {
    manifest: Manifest;
    /** The meters swept: the manifest's shard, or the --shard applied to it. */
    shard: { index: number; count: number };
    ruleset: { id: string; version: string };
    migratedBy: string;
    products: string | null;
  },
): SweepMeta {
  const files = reportFiles(dir);
  try {
    mkdirSync(files.journals, { recursive: true });
  } catch (e) {
    throw ioError(dir, 'create the report directory', e);
  }
  const m = want.manifest;
  const fresh: SweepMeta = {
    schema: SWEEP_META_SCHEMA,
    version: 1,
    fleet: m.fleet,
    seed: m.seed,
    shard: { index: want.shard.index, count: want.shard.count },
    ruleset: { id: want.ruleset.id, version: want.ruleset.version },
    migratedBy: want.migratedBy,
    products: want.products,
    runs: [],
  };
  if (!existsSync(files.meta)) {
    writeAtomic(files.meta, JSON.stringify(fresh, null, 2) + '\n');
    return fresh;
  }
  let have: SweepMeta;
  try {
    have = JSON.parse(readFileSync(files.meta, 'utf8')) as SweepMeta;
  } catch (e) {
    throw new SimError(
      ErrorCode.MigrationJournalInvalid,
      `${files.meta}: unreadable sweep record: ${(e as Error).message}`,
      { path: files.meta },
    );
  }
  if (typeof have !== 'object' || have === null || Array.isArray(have))
    throw new SimError(ErrorCode.MigrationJournalInvalid, `${files.meta}: not a sweep record`, {
      path: files.meta,
    });
  // The file may be anything: values from it are shown as JSON (String() throws on some objects).
  const shown = (v: unknown): string => (typeof v === 'string' ? v : (JSON.stringify(v) ?? 'none'));
  const differs: string[] = [];
  if (have.schema !== SWEEP_META_SCHEMA) differs.push(`schema ${shown(have.schema)}`);
  if (have.fleet !== fresh.fleet || have.seed !== fresh.seed)
    differs.push(
      `fleet ${shown(have.fleet)} seed ${shown(have.seed)} (this run: ${fresh.fleet} seed ${fresh.seed})`,
    );
  if (have.shard?.index !== fresh.shard.index || have.shard?.count !== fresh.shard.count)
    differs.push(`shard ${shown(have.shard?.index)}/${shown(have.shard?.count)}`);
  if (have.ruleset?.id !== fresh.ruleset.id || have.ruleset?.version !== fresh.ruleset.version)
    differs.push(
      `rule set ${shown(have.ruleset?.id)} v${shown(have.ruleset?.version)} (this run: ${fresh.ruleset.id} v${fresh.ruleset.version})`,
    );
  if (have.migratedBy !== fresh.migratedBy)
    differs.push(`migratedBy ${shown(have.migratedBy)} (this run: ${fresh.migratedBy})`);
  // Verdicts are journaled: a device found cannot-evaluate without a product list would stay so.
  if ((have.products ?? null) !== fresh.products)
    differs.push(`product list ${shown(have.products ?? 'none')} (this run: ${fresh.products ?? 'none'})`);
  if (differs.length > 0)
    throw new SimError(
      ErrorCode.MigrationJournalInvalid,
      `${dir} holds a sweep of ${differs.join(', ')}: use another --report directory`,
      { dir, differs },
    );
  return { ...fresh, runs: Array.isArray(have.runs) ? have.runs : [] };
}

export function recordRun(dir: string, meta: SweepMeta, run: SweepRunRecord): SweepMeta {
  const next = { ...meta, runs: [...meta.runs, run] };
  writeAtomic(reportFiles(dir).meta, JSON.stringify(next, null, 2) + '\n');
  return next;
}

/** Write report.json, devices.csv, summary.csv and summary.txt. */
export function writeReports(
  dir: string,
  input: {
    generatedAt: number;
    aggregate: AggregateReport;
    devices: readonly DeviceReport[];
    summaryText: string;
  },
): SweepReportFiles {
  const files = reportFiles(dir);
  const run: RunReport = {
    schema: RUN_REPORT_SCHEMA,
    version: REPORT_SCHEMA_VERSION,
    generatedAt: new Date(input.generatedAt).toISOString(),
    summary: input.aggregate,
    devices: [...input.devices],
  };
  writeAtomic(files.json, reportToJson(run));
  writeAtomic(files.devicesCsv, devicesToCsv(input.devices));
  writeAtomic(files.summaryCsv, aggregateToCsv(input.aggregate));
  writeAtomic(files.summaryTxt, input.summaryText);
  return files;
}
