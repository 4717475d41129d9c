/**
 * The fleet sweep (DESIGN.md "Farm"; docs/sweep.md): run the migration flow over every meter
 * of a farm manifest with bounded concurrency, one journal per meter, and write the reports.
 *
 * - Evaluate-only by default (the flow stops after evaluation: interrogate + checks); with
 *   `migrate` the passes go on to migrate, clear and verify.
 * - Resumable: with a report directory every meter has a journal file. A rerun takes devices
 *   whose flow finished from their journals without contacting them, and resumes the others
 *   where they stopped (the flow's own rules, docs/migration.md §7).
 * - Stoppable: on `signal` it starts no new device, lets every in-flight flow reach its next
 *   journal boundary (journals.ts), writes partial reports and returns `interrupted: true`.
 * - Quiet: no per-request logging, progress as data through `onProgress` (progress.ts).
 *
 * The flow throws SimError only for bad options or a bad journal, and anything else is a bug
 * in a session; the sweep records both per device (`errors`) and carries on with the others.
 */
import { systemClock, type Clock } from '../core/clock';
import { ErrorCode, SimError } from '../core/errors';
import { silentLogger, type Logger } from '../core/logger';
import type { MeterSpec } from '../farm/generator';
import { parseManifest, type Manifest } from '../farm/manifest';
import { shardOf, type Shard } from '../farm/shard';
import { readFileSync } from 'node:fs';
import type { CheckRegistry } from '../migration/checks/registry';
import type { CheckContext } from '../migration/checks/types';
import type { EligibleProductList } from '../migration/eligible-products';
import { runMigrationFlow, type InterrogationReads, type StopAfter } from '../migration/flow';
import type { JournalSnapshot, MigrationFlowResult } from '../migration/flow-result';
import { summariseError, type ErrorSummary } from '../migration/interrogation-schema';
import { OUTCOME_INFO, type FlowOutcome } from '../migration/outcome';
import {
  registrationFromRecords,
  type RegistrationData,
  type RegistrationRecord,
} from '../migration/registration';
import { deviceReport, type DeviceReport } from '../migration/report';
import { ReportAggregator, type AggregateReport } from '../migration/report-aggregate';
import type { RetryPolicy } from '../migration/retry';
import type { Ruleset } from '../migration/ruleset';
import { newCredentialsFor, type NewCredentialsPolicy } from './credentials';
import {
  InterruptibleJournal,
  openJournal,
  readJournalSnapshot,
  SweepInterrupted,
  type JournalSync,
} from './journals';
import { runPool } from './pool';
import { ProgressTracker, type SweepProgress } from './progress';
import { openReportDir, recordRun, writeReports, type SweepReportFiles } from './report-dir';
import type { MeterSessionsHook } from './dlms-sessions';
import { MeterSessionSource, phaseFromJournal, type SweepSessionFactory } from './session-source';
import {
  deviceResult,
  renderSweepSummary,
  summarise,
  type SweepDeviceResult,
  type SweepSummary,
} from './summary';

/**
 * Default in-flight flows. A flow waits on its meter most of the time: the shipped profiles
 * answer each of the 11 requests of an evaluation (14 with `reads: 'all'`) after 20 ms (ESME) or 50 ms (GSME, plus a
 * 50 ms wake-up), about 0.3-0.8 s per device, so 64 flows cap a sweep near 140 devices/s
 * whatever the CPU. 256 lifts the cap above what 2 cores sustain (docs/sweep.md "Performance").
 */
export const DEFAULT_SWEEP_CONCURRENCY = 256;
/** The access level the sweep logs on as by default (reads the card, runs migrate). */
export const DEFAULT_LOGON_LEVEL = 'privileged';
export const DEFAULT_MIGRATED_BY = 'smets1-sim-sweep';
/** A sweep reads what its checks need (SweepOptions.reads). */
export const DEFAULT_SWEEP_READS: InterrogationReads = 'checks';

export interface SweepOptions {
  /** A parsed manifest, or the path of a manifest file (`smets1-sim farm --manifest`). */
  manifest: Manifest | string;
  ruleset: Ruleset;
  registry?: CheckRegistry;
  /** Eligible product list for MA110; without one MA110 cannot be evaluated (docs/migration.md §3). */
  eligibleProducts?: EligibleProductList;
  /** Card prefix per issuer for cards held without an issuer; default the manifest's. */
  cardIssuerPrefixes?: Readonly<Record<string, string>>;
  /** Flows in flight at once (default 256, DEFAULT_SWEEP_CONCURRENCY). */
  concurrency?: number;
  /** Go on to migrate, clear and verify every device that passes (default: evaluate only). */
  migrate?: boolean;
  /** Journals and reports go here; absent: journals in memory, no files. */
  reportDir?: string;
  /** Default: derived per meter from `<manifest seed>/dcc` (credentials.ts). */
  newCredentials?: NewCredentialsPolicy;
  /** Access level to log on as (default 'privileged'). */
  logonLevel?: string;
  /** Opens sessions; required (the C12.18 one is `c1218SessionFactory`). */
  sessionFactory: SweepSessionFactory;
  /**
   * Sessions for meters of another stack, per meter (DLMS: `dlmsMeterSessions`, dlms-sessions.ts);
   * meters it returns undefined for use `sessionFactory`.
   */
  meterSessions?: MeterSessionsHook;
  migratedBy?: string;
  retry?: RetryPolicy;
  clock?: Clock;
  /** Meter events read per interrogation (default 0: the checks do not need them). */
  eventLogTail?: number;
  /**
   * What each device's first interrogation reads: 'checks' (default) what the rule set's
   * checks and the flow need, 'all' every field (prepayment, clock, events too) for a full
   * audit. Fields not read are listed in the interrogation's `notRead` (docs/sweep.md "Reads").
   */
  reads?: InterrogationReads;
  /** Only these meter ids (in manifest order); default every meter of the manifest. */
  meters?: readonly string[];
  /**
   * Only this shard's meters (fleet index mod N = i, docs/farm.md "Sharding"), so a sweep shard
   * can be handed its farm pod's manifest part or the merged manifest alike.
   */
  shard?: Shard;
  journalSync?: JournalSync;
  /** Keep device reports in memory for report files even without a report dir (default: only with one). */
  keepReports?: boolean;
  onProgress?: (p: SweepProgress) => void;
  signal?: AbortSignal;
  logger?: Logger;
}

export interface SweepDeviceError {
  meterId: string;
  error: ErrorSummary;
}

export interface SweepResult {
  fleet: string;
  ruleset: { id: string; version: string };
  migrate: boolean;
  /** The stop signal was raised: some devices were not finished (they resume on a rerun). */
  interrupted: boolean;
  summary: SweepSummary;
  aggregate: AggregateReport;
  /** Devices with an outcome, in manifest order. */
  devices: SweepDeviceResult[];
  /** Devices whose flow could not run (a corrupt journal, a bug in a session). */
  errors: SweepDeviceError[];
  /** Device reports (no interrogations) when kept: with a report dir, or keepReports. */
  reports: DeviceReport[] | null;
  startedAt: string;
  finishedAt: string;
  elapsedMs: number;
  /** Sessions opened (connections with a logon), for request-rate accounting. */
  sessionsOpened: number;
  files: SweepReportFiles | null;
}

export function loadManifestFile(path: string): Manifest {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new SimError(ErrorCode.IoError, `${path}: cannot read manifest: ${(e as Error).message}`, {
      path,
    });
  }
  return parseManifest(text, path);
}

/**
 * DCC's registration data from the manifest rows. `line` is the 1-based row number within
 * `registration` (so evidence reads `manifest.json#registration:12`).
 */
export function manifestRegistration(manifest: Manifest, source = 'manifest'): RegistrationData {
  const records = manifest.registration.map((r, i): RegistrationRecord => ({
    mpxn: r.mpxn,
    kind: r.mpxn.length === 13 ? 'mpan-core' : 'mprn',
    deviceType: r.mpxn.length === 13 ? 'ESME' : 'GSME',
    supplierId: r.supplierId,
    cohort: r.cohort,
    source: `${source}#registration`,
    line: i + 1,
  }));
  return registrationFromRecords(records, `${source}#registration`);
}

/** Finished for this sweep: nothing left to do, so the journal's result stands. */
function finishedFor(outcome: FlowOutcome | null, migrate: boolean): boolean {
  if (outcome === null) return false;
  if (OUTCOME_INFO[outcome].terminal) return true;
  // An evaluate-only sweep is done with a device once it passed (or went further before).
  return !migrate && (outcome === 'passed' || outcome === 'migrated' || outcome === 'cleared');
}

function selectMeters(
  manifest: Manifest,
  ids: readonly string[] | undefined,
  shard: Shard | undefined,
): MeterSpec[] {
  const inShard =
    shard === undefined || shard.count === 1
      ? manifest.meters
      : manifest.meters.filter((m) => shardOf(m.index, shard.count) === shard.index);
  if (ids === undefined) return inShard;
  const byId = new Map(manifest.meters.map((m) => [m.id, m]));
  const missing = ids.filter((id) => !byId.has(id));
  if (missing.length > 0)
    throw new SimError(
      ErrorCode.FarmMeterNotFound,
      `not in the manifest: ${missing.slice(0, 5).join(', ')}${missing.length > 5 ? ', …' : ''}`,
      { missing },
    );
  const wanted = new Set(ids);
  return inShard.filter((m) => wanted.has(m.id));
}

export async function runSweep(o: SweepOptions): Promise<SweepResult> {
  const clock = o.clock ?? systemClock;
  const log = o.logger ?? silentLogger;
  const source = typeof o.manifest === 'string' ? o.manifest : `${o.manifest.fleet}.manifest`;
  const manifest = typeof o.manifest === 'string' ? loadManifestFile(o.manifest) : o.manifest;
  const migrate = o.migrate ?? false;
  const stopAfter: StopAfter = migrate ? 'verify' : 'evaluate';
  const migratedBy = o.migratedBy ?? DEFAULT_MIGRATED_BY;
  const level = o.logonLevel ?? DEFAULT_LOGON_LEVEL;
  const policy: NewCredentialsPolicy = o.newCredentials ?? { kind: 'derived', key: `${manifest.seed}/dcc` };
  const concurrency = o.concurrency ?? DEFAULT_SWEEP_CONCURRENCY;
  if (!Number.isInteger(concurrency) || concurrency < 1)
    throw new SimError(ErrorCode.ConfigInvalid, `concurrency must be an integer >= 1 (got ${concurrency})`, {
      concurrency,
    });
  const meters = selectMeters(manifest, o.meters, o.shard);
  const registration = manifestRegistration(manifest, source);
  const context: CheckContext = {
    cardIssuerPrefixes: o.cardIssuerPrefixes ?? manifest.issuerPrefixes,
    ...(o.eligibleProducts ? { eligibleProducts: o.eligibleProducts } : {}),
  };
  const ruleset = { id: o.ruleset.id, version: o.ruleset.version };
  const reportDir = o.reportDir;
  let meta =
    reportDir === undefined
      ? undefined
      : openReportDir(reportDir, {
          manifest,
          shard: o.shard ?? manifest.shard,
          ruleset,
          migratedBy,
          products: o.eligibleProducts?.id ?? null,
        });
  const keepReports = o.keepReports ?? reportDir !== undefined;

  const startedAt = clock.now();
  const t0 = clock.monotonic();
  const tracker = new ProgressTracker(meters.length, () => clock.monotonic());
  const emit = (p: SweepProgress): void => o.onProgress?.(p);
  const slots: (SweepDeviceResult | undefined)[] = new Array<SweepDeviceResult | undefined>(meters.length);
  const reports: (DeviceReport | undefined)[] = new Array<DeviceReport | undefined>(meters.length);
  const aggregator = new ReportAggregator();
  const errors: SweepDeviceError[] = [];
  let sessionsOpened = 0;

  const onAbort = (): void => {
    tracker.stopping();
    emit(tracker.snapshot('device'));
  };
  o.signal?.addEventListener('abort', onAbort, { once: true });

  const record = (i: number, meter: MeterSpec, r: MigrationFlowResult, fromJournal: boolean): void => {
    const d = deviceResult(meter.id, r, fromJournal);
    slots[i] = d;
    const rep = deviceReport(r, { includeInterrogations: false });
    aggregator.add(rep);
    if (keepReports) reports[i] = rep;
    if (o.onProgress) emit(tracker.finished(d, !fromJournal));
    else tracker.count(d, !fromJournal);
  };

  emit(tracker.snapshot('start'));
  try {
    await runPool(
      meters,
      concurrency,
      async (meter, i) => {
        let snap: JournalSnapshot | undefined;
        try {
          snap = reportDir === undefined ? undefined : readJournalSnapshot(reportDir, meter.id);
        } catch (e) {
          // A journal that cannot be read (corrupt mid-file) is left for a human to look at.
          errors.push({ meterId: meter.id, error: summariseError(e) });
          tracker.deviceStarted();
          tracker.abandoned(true);
          emit(tracker.snapshot('device'));
          return;
        }
        if (snap && finishedFor(snap.outcome, migrate)) {
          record(i, meter, { ...snap, outcome: snap.outcome! }, true);
          return;
        }
        tracker.deviceStarted();
        let sessions: Pick<MeterSessionSource, 'opened'> | undefined;
        const journal = (() => {
          try {
            return new InterruptibleJournal(
              openJournal(reportDir, meter.id, o.journalSync ?? 'write'),
              o.signal,
              meter.id,
            );
          } catch (e) {
            errors.push({ meterId: meter.id, error: summariseError(e) });
            tracker.abandoned(true);
            return undefined;
          }
        })();
        if (!journal) return;
        try {
          const own = o.meterSessions?.(meter, policy, phaseFromJournal(snap));
          const newCredentials =
            own?.newCredentials ?? newCredentialsFor(policy, meter.id, meter.credentials);
          const source =
            own ??
            new MeterSessionSource(meter, o.sessionFactory, level, newCredentials, phaseFromJournal(snap));
          sessions = source;
          const r = await runMigrationFlow({
            session: source.open,
            registration,
            ruleset: o.ruleset,
            ...(o.registry ? { registry: o.registry } : {}),
            context,
            newCredentials,
            migratedBy,
            journal,
            ...(o.retry ? { retry: o.retry } : {}),
            clock,
            stopAfter,
            eventLogTail: o.eventLogTail ?? 0,
            reads: o.reads ?? DEFAULT_SWEEP_READS,
            label: meter.id,
          });
          record(i, meter, r, false);
        } catch (e) {
          if (e instanceof SweepInterrupted) {
            tracker.abandoned(false);
          } else {
            log.warn({ meterId: meter.id, err: summariseError(e) }, 'sweep: flow could not run');
            errors.push({ meterId: meter.id, error: summariseError(e) });
            tracker.abandoned(true);
          }
        } finally {
          sessionsOpened += sessions?.opened ?? 0;
          journal.close();
        }
      },
      o.signal,
    );
  } finally {
    o.signal?.removeEventListener('abort', onAbort);
  }

  const devices = slots.filter((d): d is SweepDeviceResult => d !== undefined);
  const interrupted = o.signal?.aborted === true && devices.length + errors.length < meters.length;
  const summary = summarise(meters.length, devices, errors.length);
  const aggregate = aggregator.result();
  const elapsedMs = Math.round(clock.monotonic() - t0);
  const finishedAt = clock.now();
  const kept = keepReports ? reports.filter((r): r is DeviceReport => r !== undefined) : null;
  let files: SweepReportFiles | null = null;
  if (reportDir !== undefined && meta !== undefined) {
    const summaryText = renderSweepSummary(summary, {
      ruleset: `${ruleset.id} v${ruleset.version}`,
      migrate,
      interrupted,
      elapsedMs,
    });
    files = writeReports(reportDir, { generatedAt: finishedAt, aggregate, devices: kept ?? [], summaryText });
    meta = recordRun(reportDir, meta, {
      startedAt: new Date(startedAt).toISOString(),
      finishedAt: new Date(finishedAt).toISOString(),
      migrate,
      interrupted,
      summary,
    });
  }
  emit(tracker.snapshot('end'));
  return {
    fleet: manifest.fleet,
    ruleset,
    migrate,
    interrupted,
    summary,
    aggregate,
    devices,
    errors,
    reports: kept,
    startedAt: new Date(startedAt).toISOString(),
    finishedAt: new Date(finishedAt).toISOString(),
    elapsedMs,
    sessionsOpened,
    files,
  };
}
