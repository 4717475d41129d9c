/**
 * Interrogation: read everything the checks and the audit need from one meter, into an
 * InterrogationResult (interrogation-schema.ts).
 *
 * Reads are idempotent, so each read is retried on its own when it fails transiently (with a
 * factory source the session is reopened first). A read that fails with a data fault (access
 * denied, not supported, ...) leaves its field null and records a gap: missing data is an
 * outcome the checks must see (cannot-evaluate), not a reason to abandon the other reads.
 * Transient faults that outlast the retry policy are thrown: the meter cannot be reached.
 */

import type { Clock } from '../core/clock';
import { isoAt, systemClock } from '../core/clock';
import { z } from 'zod';
import { ErrorCode, SimError, isTransient } from '../core/errors';
import {
  CardRecordFieldSchema,
  ClockReadingSchema,
  DeviceIdentitySchema,
  EvidenceSchema,
  INTERROGATION_SCHEMA_ID,
  INTERROGATION_SCHEMA_VERSION,
  MeterEventSchema,
  MeterRegistrationSchema,
  MigrationStateSchema,
  PrepaymentSummarySchema,
  SessionIdentificationSchema,
  formatIssues,
  summariseError,
  type CardRecordField,
  type ClockReading,
  type FieldEvidence,
  type Gap,
  type InterrogationField,
  type InterrogationResult,
} from './interrogation-schema';
import {
  checkFast,
  fastCardRecordField,
  fastClockReading,
  fastDeviceIdentity,
  fastEvidenceList,
  fastMeterEvents,
  fastMeterRegistration,
  fastMigrationState,
  fastPrepaymentSummary,
  fastSessionIdentification,
  type FastCheck,
} from './reading-checks';
import { DEFAULT_RETRY_POLICY, withRetry, type RetryObserver, type RetryPolicy } from './retry';
import type { MeterSession, Reading, SessionSource } from './session';
import { SessionHandle } from './session-handle';

export interface InterrogateOptions extends RetryObserver {
  clock?: Clock;
  retry?: RetryPolicy;
  /** How many of the newest meter events to read (0 skips the event log). Default 16. */
  eventLogTail?: number;
  /**
   * Which fields to read (default: all of them). `session` is always read: it starts the
   * interrogation. A field left out is not asked of the meter at all: its value is null and it
   * is listed in the result's `notRead` (never in `gaps`, which are fields the meter could not
   * give). A sweep passes the fields its rule set's checks need (fieldsForChecks, evaluate.ts).
   */
  fields?: readonly InterrogationField[];
}

export const DEFAULT_EVENT_LOG_TAIL = 16;

/** Built once: a zod schema costs far more to construct than to run. */
const EVIDENCE_LIST = z.array(EvidenceSchema);
const EVENT_LIST = z.array(MeterEventSchema);

const iso = isoAt;

/**
 * Interrogate one meter. With a session factory the sessions it opens are closed before
 * returning; a session passed in stays open (the caller owns it).
 */
export async function interrogate(
  source: SessionSource,
  options: InterrogateOptions = {},
): Promise<InterrogationResult> {
  const handle = new SessionHandle(source);
  try {
    return await interrogateWith(handle, options);
  } finally {
    await handle.close();
  }
}

/** Interrogate through an existing handle (the flow shares one across steps). */
export async function interrogateWith(
  handle: SessionHandle,
  options: InterrogateOptions = {},
): Promise<InterrogationResult> {
  const clock = options.clock ?? systemClock;
  const policy = options.retry ?? DEFAULT_RETRY_POLICY;
  const tail = options.eventLogTail ?? DEFAULT_EVENT_LOG_TAIL;
  const gaps: Gap[] = [];
  const evidence: FieldEvidence[] = [];
  const interrogatedAt = iso(clock.now());
  const wanted = options.fields ? new Set<InterrogationField>(options.fields) : undefined;
  const notRead: InterrogationField[] = [];
  /** Whether to read `field`; a field left out is recorded in notRead. */
  const reads = (field: InterrogationField): boolean => {
    if (!wanted || wanted.has(field)) return true;
    notRead.push(field);
    return false;
  };

  const read = async <T>(
    field: InterrogationField,
    fast: FastCheck<T>,
    schema: z.ZodType<T>,
    op: (s: MeterSession) => Promise<Reading<T>>,
  ): Promise<T | null> => {
    // A field left out of `fields` is not asked for (session always is: it starts the read).
    if (field !== 'session' && !reads(field)) return null;
    // A fault while obtaining the session (logon refused, wrong meter) is not missing data
    // for this field: it ends the interrogation.
    let acquireFault: unknown;
    try {
      const r = await withRetry(
        async () => {
          let s: MeterSession;
          try {
            s = await handle.get();
          } catch (e) {
            acquireFault = e;
            throw e;
          }
          return op(s);
        },
        policy,
        clock,
        {
          onRetry: async (e, attempt, delayMs) => {
            await handle.drop();
            await options.onRetry?.(e, attempt, delayMs);
          },
        },
      );
      // A value or evidence outside the documented shape is the session's data fault: record
      // it as a gap rather than let it reach a check or a report. Plain checks vouch for the
      // usual values (reading-checks.ts); zod judges and words anything else.
      const value = checkFast(fast, schema, r.value);
      const items = checkFast(fastEvidenceList, EVIDENCE_LIST, r.evidence);
      if (!value.success || !items.success) {
        const issues = !value.success ? value.error : (items as { error: z.ZodError }).error;
        throw new SimError(
          ErrorCode.ServiceInvalidResponse,
          `${field}: session returned an invalid value: ${formatIssues(issues)}`,
          {
            field,
          },
        );
      }
      for (const item of items.data) evidence.push({ field, item });
      return value.data;
    } catch (e) {
      // Only a coded data fault of this read becomes a gap; anything else is not ours to hide.
      if (!(e instanceof SimError) || isTransient(e) || e === acquireFault) throw e;
      gaps.push({ field, error: summariseError(e) });
      return null;
    }
  };

  const session = await read('session', fastSessionIdentification, SessionIdentificationSchema, (s) =>
    s.identify(),
  );
  const identity = await read('identity', fastDeviceIdentity, DeviceIdentitySchema, (s) => s.readIdentity());
  const registration = await read('registration', fastMeterRegistration, MeterRegistrationSchema, (s) =>
    s.readRegistration(),
  );
  // Wrapped so that "no card held" (null from the session) and "unreadable" (null here) differ.
  const card = await read('cardRecord', fastCardRecordField, CardRecordFieldSchema, async (s) => {
    const r = await s.readCardRecord();
    const value: CardRecordField = r.value === null ? { present: false } : { present: true, ...r.value };
    return { value, evidence: r.evidence };
  });
  const prepayment = await read('prepayment', fastPrepaymentSummary, PrepaymentSummarySchema, (s) =>
    s.readPrepaymentSummary(),
  );
  const clockReading = await read(
    'clock',
    fastClockReading,
    ClockReadingSchema,
    async (s): Promise<Reading<ClockReading>> => {
      // Skew against the midpoint of the request/response round trip.
      const before = clock.now();
      const r = await s.readClock();
      const host = Math.round((before + clock.now()) / 2);
      return {
        value: { meterTime: iso(r.value), hostTime: iso(host), skewMs: Math.round(r.value - host) },
        evidence: r.evidence,
      };
    },
  );
  const migrationState = await read('migrationState', fastMigrationState, MigrationStateSchema, (s) =>
    s.readMigrationState(),
  );
  // A tail of 0 asks the meter for nothing and says so with an empty list.
  const events =
    tail > 0
      ? await read('events', fastMeterEvents, EVENT_LIST, (s) => s.readEventLog(tail))
      : reads('events')
        ? []
        : null;

  // Every part was checked (and copied in its schema's key order) above, gaps and evidence
  // are built here, so the whole needs no second pass: it is InterrogationResultSchema's
  // shape and key order by construction (test/migration/interrogate.test.ts parses real
  // results with the schema to hold it to that).
  const result: InterrogationResult = {
    schema: INTERROGATION_SCHEMA_ID,
    version: INTERROGATION_SCHEMA_VERSION,
    interrogatedAt,
    session,
    identity,
    registration,
    cardRecord: card,
    prepayment,
    clock: clockReading,
    migrationState,
    events,
    gaps,
    ...(notRead.length ? { notRead } : {}),
    evidence,
  };
  return result;
}
