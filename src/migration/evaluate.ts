/**
 * Evaluation: run a rule set's checks over one interrogation result.
 *
 * For each rule the evaluator first decides applicability from data, not from the check:
 *  - device type: the meter's identity, else the registration record's meter point kind
 *    (MPAN core -> ESME, MPRN -> GSME); unknown while a rule depends on it -> cannot-evaluate;
 *  - cohort: from the registration record (DCC's data); unknown while the rule is scoped by
 *    cohort -> cannot-evaluate;
 *  - out of scope -> not-applicable, and the check function is not called at all (so a meter
 *    outside MOC Secure is never checked by MA516/MA517 under mehrs-5.0).
 *
 * Overall outcome: `blocked` if any block-severity check failed; else `cannot-evaluate` if any
 * block-severity check could not be evaluated; else `passed`. Warn-severity results are
 * reported in `warnings` and never change the outcome.
 */

import { z } from 'zod';
import {
  INTERROGATION_FIELDS,
  summariseError,
  type InterrogationField,
  type InterrogationResult,
} from './interrogation-schema';
import { COHORTS, DEVICE_TYPES, type Cohort, type DeviceType } from './cohorts';
import { createCheckRegistry, type CheckRegistry } from './checks/registry';
import type { CheckContext, CheckDefinition, CheckEvidence, CheckVerdict } from './checks/types';
import type { RegistrationData, RegistrationRecord } from './registration';
import type { Ruleset, RulesetCheck, Severity } from './ruleset';

export type CheckOutcome = 'pass' | 'fail' | 'cannot-evaluate' | 'not-applicable';
export const CHECK_OUTCOMES: readonly CheckOutcome[] = ['pass', 'fail', 'cannot-evaluate', 'not-applicable'];

export type EvaluationOutcome = 'passed' | 'blocked' | 'cannot-evaluate';

export interface CheckReport {
  code: string;
  title: string;
  severity: Severity;
  outcome: CheckOutcome;
  reason: string;
  /** Data that was missing or unknown (cannot-evaluate only; else empty). */
  missing: string[];
  evidence: CheckEvidence[];
  modelled: boolean;
}

export interface Evaluation {
  ruleset: { id: string; version: string; file: string; modelled: boolean };
  outcome: EvaluationOutcome;
  /** Codes of failed block-severity checks. */
  blockingCodes: string[];
  /** Codes of block-severity checks that could not be evaluated. */
  undeterminedCodes: string[];
  /** Codes of warn-severity checks that failed or could not be evaluated. */
  warningCodes: string[];
  /** What the scope decisions were based on. */
  subject: {
    mpxn: string | null;
    deviceType: DeviceType | null;
    cohort: Cohort | null;
    registration: string | null;
  };
  checks: CheckReport[];
}

const CheckEvidenceSchema = z.object({
  source: z.enum(['meter', 'registration', 'product-list', 'config']),
  field: z.string(),
  value: z.union([z.string(), z.number(), z.boolean(), z.null()]),
  ref: z.string().nullable(),
});

export const CheckReportSchema = z.object({
  code: z.string(),
  title: z.string(),
  severity: z.enum(['block', 'warn']),
  outcome: z.enum(['pass', 'fail', 'cannot-evaluate', 'not-applicable']),
  reason: z.string(),
  missing: z.array(z.string()),
  evidence: z.array(CheckEvidenceSchema),
  modelled: z.boolean(),
});

/** Validates evaluations read back from a journal or a report; key order as documented. */
export const EvaluationSchema = z.object({
  ruleset: z.object({ id: z.string(), version: z.string(), file: z.string(), modelled: z.boolean() }),
  outcome: z.enum(['passed', 'blocked', 'cannot-evaluate']),
  blockingCodes: z.array(z.string()),
  undeterminedCodes: z.array(z.string()),
  warningCodes: z.array(z.string()),
  subject: z.object({
    mpxn: z.string().nullable(),
    deviceType: z.enum(DEVICE_TYPES).nullable(),
    cohort: z.enum(COHORTS).nullable(),
    registration: z.string().nullable(),
  }),
  checks: z.array(CheckReportSchema),
});

const _evaluationShape: z.ZodType<Evaluation> = EvaluationSchema;
void _evaluationShape;

export interface EvaluateOptions {
  registry?: CheckRegistry;
  context?: CheckContext;
}

/** The registry used when none is given: the built-ins, never handed out (so never changed). */
let builtinRegistry: CheckRegistry | undefined;

/**
 * What an interrogation must read for `ruleset` to be evaluated exactly as after a full one:
 * `session`, `identity` and `registration` (the evaluator decides scope from the device type and
 * finds the registration record by the MPxN the meter reports), plus every field a check of the
 * rule set declares in `reads`. A check that declares nothing, or a code the registry does not
 * know, needs every field. `extra`: fields the caller needs for itself. In
 * INTERROGATION_FIELDS order.
 */
export function fieldsForChecks(
  ruleset: Ruleset,
  registry: CheckRegistry = (builtinRegistry ??= createCheckRegistry()),
  extra: readonly InterrogationField[] = [],
): InterrogationField[] {
  const need = new Set<InterrogationField>(['session', 'identity', 'registration', ...extra]);
  for (const rule of ruleset.checks) {
    const reads = registry.get(rule.code)?.reads;
    if (!reads) return [...INTERROGATION_FIELDS];
    for (const f of reads) need.add(f);
  }
  return INTERROGATION_FIELDS.filter((f) => need.has(f));
}

/** Find DCC's record for the meter point the meter reports. */
export function findRegistration(
  result: InterrogationResult,
  registration: RegistrationData | RegistrationRecord | undefined,
): RegistrationRecord | undefined {
  if (!registration) return undefined;
  if ('byMpxn' in registration) {
    const mpxn = result.registration?.mpxn;
    return mpxn ? registration.byMpxn.get(mpxn) : undefined;
  }
  return registration;
}

/** What every rule of one evaluation is judged against. */
interface RuleInput {
  registry: CheckRegistry;
  context: CheckContext;
  result: InterrogationResult;
  record: RegistrationRecord | undefined;
  deviceType: DeviceType | null;
  cohort: Cohort | null;
}

/** A check report (one object shape for every outcome: the hot path of a sweep builds many). */
function reportOf(
  rule: RulesetCheck,
  def: CheckDefinition | undefined,
  outcome: CheckOutcome,
  reason: string,
  missing: string[],
  evidence: CheckEvidence[],
): CheckReport {
  return {
    code: rule.code,
    title: def?.title ?? rule.code,
    severity: rule.severity,
    modelled: def?.modelled ?? false,
    outcome,
    reason,
    missing,
    evidence,
  };
}

function runRule(rule: RulesetCheck, input: RuleInput): CheckReport {
  const { deviceType, cohort, record } = input;
  const def = input.registry.get(rule.code);
  if (!def) {
    // The rule set was parsed against another registry: say so rather than pass silently.
    return reportOf(rule, def, 'cannot-evaluate', `check ${rule.code} is not registered`, [], []);
  }
  const typeScoped = def.deviceTypes !== 'all' || rule.scope.deviceTypes !== null;
  if (typeScoped) {
    if (deviceType === null) {
      return reportOf(
        rule,
        def,
        'cannot-evaluate',
        'device type unknown (identity unreadable, no registration record), so scope cannot be decided',
        ['identity.deviceType'],
        [],
      );
    }
    const allowed = (def.deviceTypes === 'all' ? [deviceType] : def.deviceTypes).filter(
      (t) => rule.scope.deviceTypes === null || rule.scope.deviceTypes.includes(t),
    );
    if (!allowed.includes(deviceType)) {
      return reportOf(
        rule,
        def,
        'not-applicable',
        `device type ${deviceType} is outside the scope (${allowed.join(', ')})`,
        [],
        [{ source: 'meter', field: 'identity.deviceType', value: deviceType, ref: null }],
      );
    }
  }
  if (rule.scope.cohorts !== null) {
    if (cohort === null) {
      return reportOf(
        rule,
        def,
        'cannot-evaluate',
        'cohort unknown (no registration record for the meter point), so scope cannot be decided',
        ['registration.cohort'],
        [],
      );
    }
    if (!rule.scope.cohorts.includes(cohort)) {
      return reportOf(
        rule,
        def,
        'not-applicable',
        `cohort ${cohort} is outside the scope (${rule.scope.cohorts.join(', ')})`,
        [],
        [
          {
            source: 'registration',
            field: 'cohort',
            value: cohort,
            ref: record ? `${record.source}:${record.line}` : null,
          },
        ],
      );
    }
  }
  let verdict: CheckVerdict;
  try {
    verdict = def.evaluate({ result: input.result, registration: record, context: input.context });
  } catch (e) {
    // A user-defined check that throws must not pass an installation nor stop a sweep of
    // thousands: it blocks this device as undetermined, with the error on record.
    const err = summariseError(e);
    verdict = {
      outcome: 'cannot-evaluate',
      reason: `check raised ${err.codeName}: ${err.message}`,
      missing: [],
      evidence: [],
    };
  }
  return reportOf(
    rule,
    def,
    verdict.outcome,
    verdict.reason,
    verdict.outcome === 'cannot-evaluate' ? verdict.missing : [],
    verdict.evidence,
  );
}

export function evaluate(
  result: InterrogationResult,
  registration: RegistrationData | RegistrationRecord | undefined,
  ruleset: Ruleset,
  options: EvaluateOptions = {},
): Evaluation {
  const record = findRegistration(result, registration);
  const input: RuleInput = {
    registry: options.registry ?? (builtinRegistry ??= createCheckRegistry()),
    context: options.context ?? {},
    result,
    record,
    deviceType: result.identity?.deviceType ?? record?.deviceType ?? null,
    cohort: record?.cohort ?? null,
  };
  const checks = ruleset.checks.map((rule) => runRule(rule, input));

  const blocking = checks.filter((c) => c.severity === 'block');
  const blockingCodes = blocking.filter((c) => c.outcome === 'fail').map((c) => c.code);
  const undeterminedCodes = blocking.filter((c) => c.outcome === 'cannot-evaluate').map((c) => c.code);
  const warningCodes = checks
    .filter((c) => c.severity === 'warn' && (c.outcome === 'fail' || c.outcome === 'cannot-evaluate'))
    .map((c) => c.code);
  const outcome: EvaluationOutcome =
    blockingCodes.length > 0 ? 'blocked' : undeterminedCodes.length > 0 ? 'cannot-evaluate' : 'passed';

  return {
    ruleset: { id: ruleset.id, version: ruleset.version, file: ruleset.file, modelled: ruleset.modelled },
    outcome,
    blockingCodes,
    undeterminedCodes,
    warningCodes,
    subject: {
      mpxn: result.registration?.mpxn ?? null,
      deviceType: input.deviceType,
      cohort: input.cohort,
      registration: record ? `${record.source}:${record.line}` : null,
    },
    checks,
  };
}
