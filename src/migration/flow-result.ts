/**
 * The result of a migration flow is derived from its journal alone, so a resumed run, a
 * re-run after a terminal outcome and an offline look at a journal all give the same answer.
 */

import { z } from 'zod';
import { ErrorCode, SimError } from '../core/errors';
import { EvaluationSchema, type Evaluation } from './evaluate';
import {
  EvidenceSchema,
  MigrationStateSchema,
  formatIssues,
  parseInterrogationResult,
  type ErrorSummary,
  type InterrogationResult,
} from './interrogation-schema';
import { FLOW_STEPS, type FlowStep, type JournalEntry } from './journal';
import { isFlowOutcome, type FlowOutcome } from './outcome';
import { checkFast, fastEvaluation } from './reading-checks';
import type { Evidence, MigrationState } from './session';

export interface StepSummary {
  step: FlowStep;
  /** `done` once it completed; `failed` if its last attempt failed; `not-run` otherwise. */
  status: 'done' | 'failed' | 'not-run';
  /** Journaled starts (a resumed or retried step has more than one). */
  attempts: number;
  /** Journaled transient failures that were retried. */
  retries: number;
  startedAt: string | null;
  finishedAt: string | null;
  note: string | null;
}

export interface MigrationRecord {
  state: MigrationState;
  /** True when the meter was found already migrated by this flow (after an interruption). */
  skipped: boolean;
  evidence: Evidence[];
}

export interface ClearingRecord {
  /** The meter reported clearing something. */
  cleared: boolean;
  /** The card record and Site ID were already empty: no clear was sent. */
  alreadyEmpty: boolean;
  evidence: Evidence[];
}

export interface VerificationRecord {
  ok: boolean;
  mismatches: string[];
}

export interface JournalSnapshot {
  flowId: string;
  label: string | null;
  ruleset: { id: string; version: string };
  migratedBy: string;
  /** Null when no end is journaled (the flow was interrupted). */
  outcome: FlowOutcome | null;
  error: ErrorSummary | null;
  /** Number of runs that worked on this journal (1 + resumes). */
  runs: number;
  tornTailSeen: boolean;
  startedAt: string;
  finishedAt: string | null;
  evaluation: Evaluation | null;
  before: InterrogationResult | null;
  migration: MigrationRecord | null;
  clearing: ClearingRecord | null;
  verification: VerificationRecord | null;
  after: InterrogationResult | null;
  steps: StepSummary[];
}

export interface MigrationFlowResult extends JournalSnapshot {
  outcome: FlowOutcome;
}

const BeginSchema = z.object({
  flowId: z.string(),
  label: z.string().nullable(),
  ruleset: z.object({ id: z.string(), version: z.string() }),
  migratedBy: z.string(),
});
const MigrationDataSchema = z.object({
  state: MigrationStateSchema,
  skipped: z.boolean(),
  evidence: z.array(EvidenceSchema),
});
const ClearDataSchema = z.object({
  cleared: z.boolean(),
  alreadyEmpty: z.boolean(),
  evidence: z.array(EvidenceSchema),
});
const VerifyDataSchema = z.object({ ok: z.boolean(), mismatches: z.array(z.string()), result: z.unknown() });

function parseData<T>(schema: z.ZodType<T>, value: unknown, where: string): T {
  const r = schema.safeParse(value);
  if (!r.success) {
    throw new SimError(ErrorCode.MigrationJournalInvalid, `journal ${where}: ${formatIssues(r.error)}`, {
      where,
    });
  }
  return r.data;
}

function parseEvaluation(value: unknown, where: string): Evaluation {
  const r = checkFast(fastEvaluation, EvaluationSchema, value);
  if (!r.success) {
    throw new SimError(ErrorCode.MigrationJournalInvalid, `journal ${where}: ${formatIssues(r.error)}`, {
      where,
    });
  }
  return r.data;
}

function parseResult(value: unknown, where: string): InterrogationResult {
  try {
    return parseInterrogationResult(value, `journal ${where}`);
  } catch (e) {
    throw new SimError(ErrorCode.MigrationJournalInvalid, e instanceof Error ? e.message : String(e), {
      where,
    });
  }
}

export interface SnapshotOptions {
  /**
   * Entries from this index on were appended by the running flow itself, from values its own
   * code built and checked (the interrogation result, the begin record): they are taken as
   * they are instead of being validated again like entries read back from a file. Default:
   * every entry is validated.
   */
  ownFrom?: number;
}

export function snapshotFromJournal(
  entries: readonly JournalEntry[],
  options: SnapshotOptions = {},
): JournalSnapshot {
  const ownFrom = options.ownFrom ?? entries.length;
  const own = (e: JournalEntry): boolean => e.seq >= ownFrom;
  const begin = entries.find((e) => e.event === 'begin');
  if (!begin || begin.event !== 'begin') {
    throw new SimError(ErrorCode.MigrationJournalInvalid, 'journal has no begin entry', {});
  }
  const b = own(begin)
    ? (begin.data as z.infer<typeof BeginSchema>)
    : parseData(BeginSchema, begin.data, `seq ${begin.seq} begin`);

  const lastDone = (step: FlowStep): Extract<JournalEntry, { event: 'done' }> | undefined => {
    for (let i = entries.length - 1; i >= 0; i--) {
      const e = entries[i]!;
      if (e.event === 'done' && e.step === step) return e;
    }
    return undefined;
  };

  const steps = FLOW_STEPS.map((step): StepSummary => {
    let attempts = 0;
    let retries = 0;
    let startedAt: string | null = null;
    let finishedAt: string | null = null;
    let status: StepSummary['status'] = 'not-run';
    for (const e of entries) {
      if (!('step' in e) || e.step !== step) continue;
      if (e.event === 'start') {
        attempts++;
        startedAt ??= e.at;
      } else if (e.event === 'retry') {
        retries++;
      } else if (e.event === 'done') {
        status = 'done';
        finishedAt = e.at;
      } else if (e.event === 'failed' && status !== 'done') {
        status = 'failed';
        finishedAt = e.at;
      }
    }
    return { step, status, attempts, retries, startedAt, finishedAt, note: null };
  });

  const interrogate = lastDone('interrogate');
  const evaluation = lastDone('evaluate');
  const migrate = lastDone('migrate');
  const clear = lastDone('clear');
  let verifyEntry: JournalEntry | undefined;
  for (const e of entries)
    if ((e.event === 'done' || e.event === 'failed') && e.step === 'verify' && e.data) verifyEntry = e;

  const migration = migrate
    ? parseData(MigrationDataSchema, migrate.data, `seq ${migrate.seq} migrate`)
    : null;
  const clearing = clear ? parseData(ClearDataSchema, clear.data, `seq ${clear.seq} clear`) : null;
  let verification: VerificationRecord | null = null;
  let after: InterrogationResult | null = null;
  if (verifyEntry && (verifyEntry.event === 'done' || verifyEntry.event === 'failed')) {
    const v = parseData(VerifyDataSchema, verifyEntry.data, `seq ${verifyEntry.seq} verify`);
    verification = { ok: v.ok, mismatches: v.mismatches };
    after = own(verifyEntry)
      ? (v.result as InterrogationResult)
      : parseResult(v.result, `seq ${verifyEntry.seq} verify`);
  }

  for (const s of steps) {
    if (s.step === 'migrate' && migration?.skipped)
      s.note = 'found already migrated by this flow; not migrated again';
    if (s.step === 'clear' && clearing?.alreadyEmpty)
      s.note = 'card record and Site ID already empty; no clear sent';
  }

  let end: Extract<JournalEntry, { event: 'end' }> | undefined;
  for (const e of entries) if (e.event === 'end') end = e;
  const outcome = end && isFlowOutcome(end.outcome) ? end.outcome : null;
  if (end && outcome === null) {
    throw new SimError(
      ErrorCode.MigrationJournalInvalid,
      `journal seq ${end.seq}: unknown outcome "${end.outcome}"`,
      {},
    );
  }

  return {
    flowId: b.flowId,
    label: b.label,
    ruleset: b.ruleset,
    migratedBy: b.migratedBy,
    outcome,
    error: end?.error ?? null,
    runs: 1 + entries.filter((e) => e.event === 'resume').length,
    tornTailSeen: entries.some((e) => e.event === 'resume' && e.data.tornTail === true),
    startedAt: begin.at,
    finishedAt: end?.at ?? null,
    // Checks may be user code, so an evaluation is checked even when this run made it.
    evaluation: evaluation
      ? parseEvaluation(evaluation.data.evaluation, `seq ${evaluation.seq} evaluate`)
      : null,
    before: !interrogate
      ? null
      : own(interrogate)
        ? (interrogate.data.result as InterrogationResult)
        : parseResult(interrogate.data.result, `seq ${interrogate.seq} interrogate`),
    migration,
    clearing,
    verification,
    after,
    steps,
  };
}
