/**
 * What a sweep found, per device and in total (docs/sweep.md "Summary"). The issue asks for
 * installations, passed, blocked by each code, cannot-evaluate and communication failures; a
 * migrating sweep adds how many were migrated, cleared and verified.
 *
 * "Installation" here is one meter point (MPAN core or MPRN) of the manifest: the farm does
 * not pair ESMEs and GSMEs into premises, so each meter is counted as its own installation
 * (modelled simplification; MEHRS counts premises).
 *
 * passed / blocked / cannot-evaluate are the VERDICTS of evaluation, so a device that passed
 * its checks and then failed to migrate still counts as passed (and as failed below); the
 * flow outcomes are kept alongside, zero-filled, in `byOutcome`.
 */
import type { MigrationFlowResult } from '../migration/flow-result';
import type { ErrorSummary } from '../migration/interrogation-schema';
import { FLOW_OUTCOMES, type FlowOutcome } from '../migration/outcome';
import { renderTable } from '../migration/report-summary';

export type Verdict = 'passed' | 'blocked' | 'cannot-evaluate';

/** One device's result in compact form (the full record is its journal). */
export interface SweepDeviceResult {
  meterId: string;
  outcome: FlowOutcome;
  /** The evaluation verdict; null when the flow never got that far. */
  verdict: Verdict | null;
  blockingCodes: string[];
  undeterminedCodes: string[];
  error: ErrorSummary | null;
  /** The migrate step completed (in this run or an earlier one). */
  migrated: boolean;
  /** The post-migration clearing completed. */
  cleared: boolean;
  /** Transient faults retried, over every run of this device's flow. */
  retries: number;
  /** Runs of the flow on this journal (1 + resumes). */
  runs: number;
  /** Taken from the journal without contacting the meter (finished in an earlier run). */
  fromJournal: boolean;
}

export interface SweepSummary {
  installations: number;
  /** Devices that reached an outcome in this sweep (including those found finished). */
  finished: number;
  /** Devices not finished because the sweep was stopped (they resume on a rerun). */
  notFinished: number;
  passed: number;
  blocked: number;
  /** code -> devices blocked by it (a device blocked by two codes counts under both). */
  blockedBy: Record<string, number>;
  cannotEvaluate: number;
  /** code -> devices whose verdict was cannot-evaluate because of it. */
  undeterminedBy: Record<string, number>;
  alreadyMigrated: number;
  communicationFailures: number;
  failed: number;
  migrated: number;
  cleared: number;
  verified: number;
  /** Devices whose flow threw something other than a SimError (a bug), with the message. */
  internalErrors: number;
  /** Transient faults retried across all devices. */
  retries: number;
  /** Devices taken from their journals without contacting the meter. */
  fromJournal: number;
  byOutcome: Record<FlowOutcome, number>;
}

export function deviceResult(
  meterId: string,
  r: MigrationFlowResult,
  fromJournal: boolean,
): SweepDeviceResult {
  const ev = r.evaluation;
  return {
    meterId,
    outcome: r.outcome,
    verdict: ev ? ev.outcome : null,
    blockingCodes: ev ? [...ev.blockingCodes] : [],
    undeterminedCodes: ev ? [...ev.undeterminedCodes] : [],
    error: r.error,
    migrated: r.steps.some((s) => s.step === 'migrate' && s.status === 'done'),
    cleared: r.steps.some((s) => s.step === 'clear' && s.status === 'done'),
    retries: r.steps.reduce((n, s) => n + s.retries, 0),
    runs: r.runs,
    fromJournal,
  };
}

const bump = (m: Record<string, number>, k: string): void => void (m[k] = (m[k] ?? 0) + 1);

const sortKeys = (m: Record<string, number>): Record<string, number> =>
  Object.fromEntries(Object.entries(m).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));

export function summarise(
  installations: number,
  devices: readonly SweepDeviceResult[],
  internalErrors: number,
): SweepSummary {
  const byOutcome = Object.fromEntries(FLOW_OUTCOMES.map((o) => [o, 0])) as Record<FlowOutcome, number>;
  const blockedBy: Record<string, number> = {};
  const undeterminedBy: Record<string, number> = {};
  const s = {
    passed: 0,
    blocked: 0,
    cannotEvaluate: 0,
    migrated: 0,
    cleared: 0,
    retries: 0,
    fromJournal: 0,
  };
  for (const d of devices) {
    byOutcome[d.outcome]++;
    if (d.verdict === 'passed') s.passed++;
    else if (d.verdict === 'blocked') {
      s.blocked++;
      for (const c of new Set(d.blockingCodes)) bump(blockedBy, c);
    } else if (d.verdict === 'cannot-evaluate') {
      s.cannotEvaluate++;
      for (const c of new Set(d.undeterminedCodes)) bump(undeterminedBy, c);
    }
    if (d.migrated) s.migrated++;
    if (d.cleared) s.cleared++;
    if (d.fromJournal) s.fromJournal++;
    s.retries += d.retries;
  }
  return {
    installations,
    finished: devices.length,
    notFinished: installations - devices.length - internalErrors,
    passed: s.passed,
    blocked: s.blocked,
    blockedBy: sortKeys(blockedBy),
    cannotEvaluate: s.cannotEvaluate,
    undeterminedBy: sortKeys(undeterminedBy),
    alreadyMigrated: byOutcome['already-migrated'],
    communicationFailures: byOutcome['communication-failure'],
    failed: byOutcome.failed,
    migrated: s.migrated,
    cleared: s.cleared,
    verified: byOutcome.verified,
    internalErrors,
    retries: s.retries,
    fromJournal: s.fromJournal,
    byOutcome,
  };
}

/** Human summary for a terminal (not a stable interface; the JSON and CSV are). */
export function renderSweepSummary(
  s: SweepSummary,
  head: { ruleset: string; migrate: boolean; interrupted: boolean; elapsedMs: number },
): string {
  const rows: string[][] = [
    ['installations', String(s.installations)],
    ['passed', String(s.passed)],
    ['blocked', String(s.blocked)],
    ...Object.entries(s.blockedBy).map(([code, n]) => [`  blocked by ${code}`, String(n)]),
    ['cannot-evaluate', String(s.cannotEvaluate)],
    ...Object.entries(s.undeterminedBy).map(([code, n]) => [`  undetermined ${code}`, String(n)]),
    ['already migrated', String(s.alreadyMigrated)],
    ['communication failures', String(s.communicationFailures)],
    ['failed', String(s.failed)],
  ];
  if (head.migrate)
    rows.push(
      ['migrated', String(s.migrated)],
      ['cleared', String(s.cleared)],
      ['verified', String(s.verified)],
    );
  if (s.internalErrors > 0) rows.push(['internal errors', String(s.internalErrors)]);
  if (s.notFinished > 0) rows.push(['not finished (resume)', String(s.notFinished)]);
  const state = head.interrupted ? 'STOPPED' : 'done';
  const lines = [
    `sweep ${state} under ${head.ruleset}${head.migrate ? ' (migrating)' : ''}: ` +
      `${s.finished}/${s.installations} devices in ${(head.elapsedMs / 1000).toFixed(1)} s` +
      (s.fromJournal > 0 ? `, ${s.fromJournal} from earlier runs` : '') +
      (s.retries > 0 ? `, ${s.retries} transient fault(s) retried` : ''),
    renderTable(['', 'DEVICES'], rows),
  ];
  return lines.join('\n') + '\n';
}
