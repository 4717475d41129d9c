/**
 * The migration flow: interrogate -> evaluate -> migrate (record the migration, replace the
 * SMSO credentials) -> post-migration clearing (Payment Card ID and Site ID) -> verify by
 * reading again (DESIGN.md "Migration"; the issue text in docs/migration.md).
 *
 * Every step is journaled (journal.ts): `start` before it acts, `done` with its data after.
 * A run killed anywhere resumes from the journal and never repeats an effect, because the
 * effectful steps are idempotent by construction, not by trusting the journal alone:
 *  - migrate first re-reads the migration state; a meter already migrated by `migratedBy`
 *    after an earlier journaled attempt is marked done without a second migrate;
 *  - clear first re-reads the card record and Site ID; if both are empty, no clear is sent.
 *  - key hand-over (stacks with `transferKeys`, i.e. DLMS): the journal records the intent
 *    (levels and key fingerprints, never key bytes) before the keys are sent and the fact
 *    (`live`) once a new association with them succeeded. A resumed flow that finds an intent
 *    without its fact asks the session factory for the new keys first and the old ones second,
 *    so it continues with whichever set is live (docs/migration.md "Key hand-over").
 * Transient faults (isTransient) are retried with back-off on the injectable Clock; data
 * faults are not. Sessions obtained after the first interrogation must report the journaled
 * device id, so a resumed flow cannot act on a different meter.
 */

import { randomUUID } from 'node:crypto';
import type { Clock } from '../core/clock';
import { systemClock } from '../core/clock';
import { ErrorCode, SimError, isTransient } from '../core/errors';
import type { CheckRegistry } from './checks/registry';
import type { CheckContext } from './checks/types';
import { evaluate, fieldsForChecks } from './evaluate';
import { snapshotFromJournal, type MigrationFlowResult } from './flow-result';
import { interrogateWith } from './interrogate';
import {
  CardRecordSchema,
  MeterRegistrationSchema,
  MigrationStateSchema,
  formatIssues,
  summariseError,
  type InterrogationField,
  type InterrogationResult,
} from './interrogation-schema';
import { z } from 'zod';
import {
  FileJournal,
  type FlowStep,
  type JournalEntryInput,
  type JournalStore,
  type KeyIdentity,
  type KeyPhase,
  keyIdentity,
} from './journal';
import { OUTCOME_INFO, type FlowOutcome } from './outcome';
import type { RegistrationData, RegistrationRecord } from './registration';
import { DEFAULT_RETRY_POLICY, validateRetryPolicy, withRetry, type RetryPolicy } from './retry';
import type { Ruleset } from './ruleset';
import type { Credential, Evidence, MeterSession, SessionRequest, SessionSource } from './session';
import { SessionHandle } from './session-handle';

export type StopAfter = 'evaluate' | 'migrate' | 'clear' | 'verify';

/** How much an interrogation before evaluation reads (MigrationFlowOptions.reads). */
export type InterrogationReads = 'all' | 'checks';
export const INTERROGATION_READS: readonly InterrogationReads[] = ['all', 'checks'];
/**
 * What the flow reads for itself besides the checks: the migration state (an already migrated
 * meter ends the flow) and the card record (what migration clears: every report shows it
 * before and after, whatever the rule set; on C12.18 it shares its table with the Site ID).
 */
const FLOW_READS: readonly InterrogationField[] = ['cardRecord', 'migrationState'];

export interface MigrationFlowOptions {
  /** A ready session, or a factory that opens one (needed to reconnect after a dropped link). */
  session: SessionSource;
  /** DCC's registration data, or the one record for this meter point. */
  registration?: RegistrationData | RegistrationRecord;
  ruleset: Ruleset;
  registry?: CheckRegistry;
  /** Eligible product list for MA110, card issuer prefixes. */
  context?: CheckContext;
  /** The credentials that replace the SMSO's on migration. Never journaled. */
  newCredentials: readonly Credential[];
  /** Recorded on the meter as "migrated by"; default 'smets1-sim'. */
  migratedBy?: string;
  /** A journal file path (JSON lines) or a store. */
  journal: string | JournalStore;
  retry?: RetryPolicy;
  clock?: Clock;
  /** Last step to run; default 'verify' (the whole flow). */
  stopAfter?: StopAfter;
  eventLogTail?: number;
  /**
   * What the first interrogation reads: 'all' (default) every field; 'checks' only what the
   * rule set's checks need (fieldsForChecks) and what the flow itself needs (FLOW_READS: the
   * migration state and the card record), the rest listed in its `notRead`. The migrate, clear
   * and verify steps read what they need either way; verify reads every field.
   */
  reads?: InterrogationReads;
  /** A name for reports (farm meter id, endpoint). */
  label?: string;
}

const STOP_OUTCOME: Record<Exclude<StopAfter, 'verify'>, FlowOutcome> = {
  evaluate: 'passed',
  migrate: 'migrated',
  clear: 'cleared',
};

/** Run (or resume) a migration flow. Throws SimError only for bad options or a bad journal. */
export async function runMigrationFlow(options: MigrationFlowOptions): Promise<MigrationFlowResult> {
  validateCredentials(options.newCredentials);
  const policy = validateRetryPolicy(options.retry ?? DEFAULT_RETRY_POLICY);
  const journal = typeof options.journal === 'string' ? new FileJournal(options.journal) : options.journal;
  try {
    return await new FlowRun(options, journal, policy).run();
  } finally {
    if (typeof options.journal === 'string') journal.close();
  }
}

function validateCredentials(credentials: readonly Credential[]): void {
  const levels = credentials.map((c) => c.level);
  const problem =
    credentials.length === 0
      ? 'at least one credential is needed'
      : credentials.some((c) => c.level === '' || c.secret.length === 0)
        ? 'every credential needs a level name and a non-empty secret'
        : new Set(levels).size !== levels.length
          ? `access levels repeat: ${levels.join(', ')}`
          : undefined;
  if (problem) throw new SimError(ErrorCode.ConfigInvalid, `newCredentials: ${problem}`, { levels });
}

type StepResult = { ok: true; data: Record<string, unknown> } | { ok: false };

class FlowRun {
  private readonly clock: Clock;
  private readonly migratedBy: string;
  private readonly stopAfter: StopAfter;
  private readonly handle: SessionHandle;
  /** Journal entries from this seq on are this run's own (snapshotFromJournal `ownFrom`). */
  private readonly ownFrom: number;

  constructor(
    private readonly options: MigrationFlowOptions,
    private readonly journal: JournalStore,
    private readonly policy: RetryPolicy,
  ) {
    this.clock = options.clock ?? systemClock;
    this.migratedBy = options.migratedBy ?? 'smets1-sim';
    this.stopAfter = options.stopAfter ?? 'verify';
    this.handle = new SessionHandle(options.session);
    this.ownFrom = journal.entries().length;
  }

  private append(entry: JournalEntryInput): void {
    this.journal.append(entry, this.clock.now());
  }

  private result(): MigrationFlowResult {
    const snap = snapshotFromJournal(this.journal.entries(), { ownFrom: this.ownFrom });
    if (snap.outcome === null) throw new Error('flow ended without an outcome');
    return { ...snap, outcome: snap.outcome };
  }

  async run(): Promise<MigrationFlowResult> {
    const entries = this.journal.entries();
    if (entries.length === 0) {
      this.append({
        event: 'begin',
        data: {
          flowId: randomUUID(),
          label: this.options.label ?? null,
          ruleset: { id: this.options.ruleset.id, version: this.options.ruleset.version },
          migratedBy: this.migratedBy,
          // Level names only: neither secrets nor anything derived from them is journaled.
          credentialLevels: this.options.newCredentials.map((c) => c.level),
        },
      });
    } else {
      const snap = snapshotFromJournal(entries);
      this.assertSameFlow(snap.ruleset, snap.migratedBy);
      if (snap.outcome !== null && OUTCOME_INFO[snap.outcome].terminal) return this.result();
      this.append({ event: 'resume', data: { tornTail: this.journal.tornTail, stopAfter: this.stopAfter } });
    }
    this.chooseCredentials();
    try {
      await this.steps();
    } finally {
      await this.handle.close();
    }
    return this.result();
  }

  /** The last key hand-over record: its phase and keys, or undefined when none was journaled. */
  private keyRecord(): { phase: KeyPhase; keys: KeyIdentity[] } | undefined {
    const entries = this.journal.entries();
    for (let i = entries.length - 1; i >= 0; i--) {
      const e = entries[i]!;
      if (e.event === 'keys') return { phase: e.phase, keys: e.keys };
    }
    return undefined;
  }

  private request(credentials: SessionRequest['credentials']): SessionRequest {
    return { credentials, newCredentials: this.options.newCredentials };
  }

  /**
   * Which secrets new sessions open with: the SMSO's until the hand-over may have happened,
   * the new ones once it is journaled (key fact, or migrate done), and new-then-old while a
   * journaled key intent has no fact yet.
   */
  private chooseCredentials(): void {
    const k = this.keyRecord();
    const order: SessionRequest['credentials'][] =
      k?.phase === 'live' || this.lastDone('migrate')
        ? ['new']
        : k?.phase === 'intent'
          ? ['new', 'old']
          : ['old'];
    this.handle.setCandidates(order.map((c) => this.request(c)));
  }

  private assertSameFlow(ruleset: { id: string; version: string }, migratedBy: string): void {
    const r = this.options.ruleset;
    if (ruleset.id !== r.id || ruleset.version !== r.version || migratedBy !== this.migratedBy) {
      throw new SimError(
        ErrorCode.MigrationJournalInvalid,
        `journal belongs to a flow with rule set ${ruleset.id} v${ruleset.version} by ${migratedBy}; ` +
          `this run has ${r.id} v${r.version} by ${this.migratedBy}: use a new journal`,
        { journalRuleset: ruleset, ruleset: { id: r.id, version: r.version } },
      );
    }
  }

  private end(outcome: FlowOutcome, error: SimError | null = null): void {
    this.append({ event: 'end', outcome, error: error ? summariseError(error) : null });
  }

  private lastDone(step: FlowStep): Record<string, unknown> | undefined {
    const entries = this.journal.entries();
    for (let i = entries.length - 1; i >= 0; i--) {
      const e = entries[i]!;
      if (e.event === 'done' && e.step === step) return e.data;
    }
    return undefined;
  }

  private starts(step: FlowStep): number {
    return this.journal.entries().filter((e) => e.event === 'start' && e.step === step).length;
  }

  /**
   * Run one step: journal `start` per attempt, retry transient faults with back-off when
   * `retrying` (reads inside interrogations retry on their own), journal `done` or `failed`.
   * Anything that is not a SimError is a bug or a crash and propagates with nothing journaled.
   */
  private async step(
    step: FlowStep,
    retrying: boolean,
    body: (previousStarts: number) => Promise<Record<string, unknown>>,
  ): Promise<StepResult> {
    const before = this.starts(step);
    const policy = retrying ? this.policy : { ...this.policy, attempts: 1 };
    try {
      const data = await withRetry(
        async (attempt) => {
          this.append({ event: 'start', step, attempt: before + attempt });
          return body(before + attempt - 1);
        },
        policy,
        this.clock,
        {
          onRetry: async (e, attempt, delayMs) => {
            this.append({
              event: 'retry',
              step,
              attempt: before + attempt,
              delayMs,
              error: summariseError(e),
            });
            await this.handle.drop();
          },
        },
      );
      this.append({ event: 'done', step, data });
      return { ok: true, data };
    } catch (e) {
      if (!(e instanceof SimError)) throw e;
      this.append({ event: 'failed', step, error: summariseError(e) });
      this.end(isTransient(e) ? 'communication-failure' : 'failed', e);
      return { ok: false };
    }
  }

  private interrogation(step: FlowStep): Promise<InterrogationResult> {
    const scoped = step === 'interrogate' && this.options.reads === 'checks';
    return interrogateWith(this.handle, {
      clock: this.clock,
      retry: this.policy,
      eventLogTail: this.options.eventLogTail,
      ...(scoped ? { fields: fieldsForChecks(this.options.ruleset, this.options.registry, FLOW_READS) } : {}),
      onRetry: async (e, attempt, delayMs) => {
        this.append({ event: 'retry', step, attempt, delayMs, error: summariseError(e) });
      },
    });
  }

  private async steps(): Promise<void> {
    // Journaled results come back through the snapshot, which validates them.
    const journaled = snapshotFromJournal(this.journal.entries(), { ownFrom: this.ownFrom });
    // 1. Interrogate (or take the journaled result).
    let before = journaled.before ?? undefined;
    const freshSession = before === undefined;
    if (!before) {
      const r = await this.step('interrogate', false, async () => ({
        result: await this.interrogation('interrogate'),
      }));
      if (!r.ok) return;
      before = r.data.result as InterrogationResult;
    }
    this.guardIdentity(before, freshSession);

    // 2. Evaluate (pure; journaled so a resumed run reports the same verdict).
    let evaluation = journaled.evaluation ?? undefined;
    if (!evaluation) {
      const result = before;
      const r = await this.step('evaluate', false, async () => ({
        evaluation: evaluate(result, this.options.registration, this.options.ruleset, {
          registry: this.options.registry,
          context: this.options.context,
        }),
      }));
      if (!r.ok) return;
      evaluation = r.data.evaluation as ReturnType<typeof evaluate>;
    }
    if (evaluation.outcome !== 'passed') return this.end(evaluation.outcome);
    if (before.migrationState?.state === 'migrated' && this.starts('migrate') === 0)
      return this.end('already-migrated');
    if (this.stopAfter === 'evaluate') return this.end(STOP_OUTCOME.evaluate);

    // 3. Migrate.
    if (!this.lastDone('migrate')) {
      const r = await this.step('migrate', true, (previous) => this.migrate(previous));
      if (!r.ok) return;
      this.chooseCredentials();
    }
    if (this.stopAfter === 'migrate') return this.end(STOP_OUTCOME.migrate);

    // 4. Post-migration clearing.
    if (!this.lastDone('clear')) {
      const r = await this.step('clear', true, () => this.clear());
      if (!r.ok) return;
    }
    if (this.stopAfter === 'clear') return this.end(STOP_OUTCOME.clear);

    // 5. Verify by reading again (a journaled verify is only ever done when it held).
    if (this.lastDone('verify')) return this.end('verified');
    await this.verify(before);
  }

  /** After the first interrogation every new session must be the same meter. */
  private guardIdentity(before: InterrogationResult, currentIsKnown: boolean): void {
    const expected = before.identity?.deviceId;
    if (expected === undefined) return;
    const verify = async (s: MeterSession): Promise<void> => {
      const id = (await s.readIdentity()).value.deviceId;
      if (id !== expected) {
        throw new SimError(
          ErrorCode.MigrationStateConflict,
          `meter identity changed: device id ${id}, journaled ${expected}`,
          { expected, found: id },
        );
      }
    };
    this.handle.setVerifier(verify, currentIsKnown);
  }

  private async migrate(previousStarts: number): Promise<Record<string, unknown>> {
    const s = await this.handle.get();
    const current = checked(MigrationStateSchema, (await s.readMigrationState()).value, 'migration state');
    if (current.state === 'migrated') {
      // Only an earlier attempt of this flow can have migrated it with our name on it.
      if (previousStarts > 0 && current.by === this.migratedBy) {
        return { state: current, skipped: true, evidence: [] };
      }
      throw new SimError(
        ErrorCode.MigrationStateConflict,
        `meter was migrated by ${current.by} at ${current.at}, not by this flow`,
        { by: current.by, at: current.at },
      );
    }
    const transfer = await this.handOverKeys(s);
    const r = await s.migrate({
      migratedBy: this.migratedBy,
      at: this.clock.now(),
      credentials: this.options.newCredentials,
    });
    const state = checked(MigrationStateSchema, r.value, 'migrate answer');
    if (state.state !== 'migrated' || state.by !== this.migratedBy) {
      throw new SimError(
        ErrorCode.MigrationStateConflict,
        `meter answered migrate with state ${JSON.stringify(state)}`,
        {
          state,
        },
      );
    }
    return {
      state,
      skipped: false,
      evidence: redactSecrets([...transfer, ...r.evidence], this.options.newCredentials),
    };
  }

  /**
   * Key transfer before migrate (docs/migration.md "Key hand-over"): journal the intent, send
   * the keys, verify by associating with them, journal the fact. Safe to repeat: a session
   * already on the new keys sends nothing, and a journaled intent must name the same keys.
   */
  private async handOverKeys(s: MeterSession): Promise<Evidence[]> {
    const levels = s.keyTransferLevels?.() ?? [];
    if (!s.transferKeys || !s.verifyKeys || levels.length === 0) return [];
    const credentials = this.options.newCredentials.filter((c) => levels.includes(c.level));
    if (credentials.length === 0) return [];
    const keys = credentials
      .map((c) => keyIdentity(c.level, c.secret))
      .sort((a, b) => a.level.localeCompare(b.level));
    const recorded = this.keyRecord();
    if (recorded && JSON.stringify(recorded.keys) !== JSON.stringify(keys)) {
      throw new SimError(
        ErrorCode.MigrationJournalInvalid,
        `the journal records a key hand-over of other keys (${recorded.keys
          .map((k) => `${k.level} ${k.fingerprint}`)
          .join(', ')}) than this run's (${keys.map((k) => `${k.level} ${k.fingerprint}`).join(', ')})`,
        { journaled: recorded.keys, given: keys },
      );
    }
    if (recorded?.phase === 'live') return [];
    if (!recorded) this.append({ event: 'keys', phase: 'intent', keys });
    // From here on the new keys may be live: a reopened session tries them first.
    this.handle.setCandidates([this.request('new'), this.request('old')]);
    // All the new credentials go in, so the session can refuse one it must not hand over (the
    // master key) before anything is sent.
    const sent = await s.transferKeys(this.options.newCredentials);
    await s.verifyKeys();
    this.handle.setCandidates([this.request('new')]);
    this.append({ event: 'keys', phase: 'live', keys });
    return [...sent.evidence];
  }

  private async clear(): Promise<Record<string, unknown>> {
    const s = await this.handle.get();
    const card = checked(CardRecordSchema.nullable(), (await s.readCardRecord()).value, 'card record');
    const registration = checked(MeterRegistrationSchema, (await s.readRegistration()).value, 'registration');
    if (card === null && registration.siteId === null) {
      return { cleared: false, alreadyEmpty: true, evidence: [] };
    }
    const r = await s.clearCardData();
    return { cleared: r.value.cleared, alreadyEmpty: false, evidence: [...r.evidence] };
  }

  private async verify(before: InterrogationResult): Promise<void> {
    const start = this.starts('verify');
    this.append({ event: 'start', step: 'verify', attempt: start + 1 });
    let after: InterrogationResult;
    try {
      after = await this.interrogation('verify');
    } catch (e) {
      if (!(e instanceof SimError)) throw e;
      this.append({ event: 'failed', step: 'verify', error: summariseError(e) });
      return this.end(isTransient(e) ? 'communication-failure' : 'failed', e);
    }
    const mismatches = verificationMismatches(before, after, this.migratedBy);
    const data = { ok: mismatches.length === 0, mismatches, result: after };
    if (mismatches.length === 0) {
      this.append({ event: 'done', step: 'verify', data });
      return this.end('verified');
    }
    const error = new SimError(
      ErrorCode.MigrationVerifyFailed,
      `verification failed: ${mismatches.join('; ')}`,
      {
        mismatches,
      },
    );
    this.append({ event: 'failed', step: 'verify', error: summariseError(error), data });
    this.end('failed', error);
  }
}

/** A session value outside the documented shape is the session's data fault. */
function checked<T>(schema: z.ZodType<T>, value: unknown, what: string): T {
  const r = schema.safeParse(value);
  if (!r.success) {
    throw new SimError(
      ErrorCode.ServiceInvalidResponse,
      `${what}: session returned an invalid value: ${formatIssues(r.error)}`,
      {
        what,
      },
    );
  }
  return r.data;
}

/** What must hold after the flow: same meter, migrated by us, no card record, no Site ID. */
export function verificationMismatches(
  before: InterrogationResult,
  after: InterrogationResult,
  migratedBy: string,
): string[] {
  const out: string[] = [];
  if (after.identity === null) out.push('identity could not be read');
  else if (before.identity && after.identity.deviceId !== before.identity.deviceId)
    out.push(`device id ${after.identity.deviceId} differs from ${before.identity.deviceId}`);
  if (after.migrationState === null) out.push('migration state could not be read');
  else if (after.migrationState.state !== 'migrated') out.push('meter is not migrated');
  else if (after.migrationState.by !== migratedBy)
    out.push(`meter was migrated by ${after.migrationState.by}, expected ${migratedBy}`);
  if (after.cardRecord === null) out.push('card record could not be read');
  else if (after.cardRecord.present)
    out.push(`card record still holds Payment Card ID ${after.cardRecord.paymentCardId}`);
  if (after.registration === null) out.push('registration (Site ID) could not be read');
  else if (after.registration.siteId !== null) out.push(`Site ID still set (${after.registration.siteId})`);
  return out;
}

/**
 * Evidence of the migrate call would carry the new secrets on a stack that writes them in the
 * clear; any item holding one (at a byte boundary) is replaced by a labelled empty item.
 */
export function redactSecrets(evidence: readonly Evidence[], credentials: readonly Credential[]): Evidence[] {
  const secrets = credentials.map((c) => Buffer.from(c.secret).toString('hex')).filter((h) => h.length > 0);
  const holds = (hex: string): boolean =>
    secrets.some((s) => {
      for (let i = hex.indexOf(s); i >= 0; i = hex.indexOf(s, i + 1)) if (i % 2 === 0) return true;
      return false;
    });
  return evidence.map((e) => {
    const texts = e.kind === 'c1219-procedure' ? [e.request, e.response] : [e.bytes];
    if (!texts.some(holds)) return e;
    const what =
      e.kind === 'c1219-table'
        ? `table ${e.tableId}`
        : e.kind === 'c1219-procedure'
          ? `procedure ${e.procedureId}`
          : e.kind === 'cosem'
            ? `${e.obis}`
            : e.label;
    return { kind: 'raw', label: `redacted (held a credential): ${e.kind} ${what}`, bytes: '' };
  });
}
