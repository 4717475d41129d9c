/**
 * A MEHRS-style check is code: a pure function of (interrogation result, registration record,
 * context) -> verdict. Unknown or missing data is its own verdict, `cannot-evaluate`, never a
 * pass. Whether a check applies at all (cohort, device type) is decided by the evaluator from
 * the rule set's scope before the function is called (evaluate.ts), and reported as
 * `not-applicable`.
 */

import type { DeviceType } from '../cohorts';
import type { EligibleProductList } from '../eligible-products';
import type { InterrogationField, InterrogationResult } from '../interrogation-schema';
import type { RegistrationRecord } from '../registration';

/** Where a piece of evidence came from. */
export type EvidenceSource = 'meter' | 'registration' | 'product-list' | 'config';

export interface CheckEvidence {
  source: EvidenceSource;
  /** Field path in its source: `cardRecord.issuerSupplierId`, `supplierId`, `products.3`. */
  field: string;
  value: string | number | boolean | null;
  /** Where to look: wire evidence for meter data (`c1219 read table 2049`), `file:line` for files. */
  ref: string | null;
}

export type CheckVerdict =
  | { outcome: 'pass'; reason: string; evidence: CheckEvidence[] }
  | { outcome: 'fail'; reason: string; evidence: CheckEvidence[] }
  | {
      outcome: 'cannot-evaluate';
      reason: string;
      /** The data that was missing or unknown, as field paths. */
      missing: string[];
      evidence: CheckEvidence[];
    };

/** Inputs that are neither meter data nor registration data, supplied by the user. */
export interface CheckContext {
  /** For MA110. Absent: MA110 cannot be evaluated. */
  eligibleProducts?: EligibleProductList;
  /**
   * Supplier id -> Payment Card ID prefix, used when the meter holds the PID without its
   * issuer. The mapping is not public (docs/domain.md §8 item 3): configuration, modelled.
   */
  cardIssuerPrefixes?: Readonly<Record<string, string>>;
}

export interface CheckInput {
  result: InterrogationResult;
  /** DCC's registration record for the meter point, if one was found. */
  registration: RegistrationRecord | undefined;
  context: CheckContext;
}

export interface CheckDefinition {
  /** Code as used in rule sets and reports. Built-ins: MA516, MA517, MA110. */
  code: string;
  title: string;
  description: string;
  /** Device types the check is defined for; outside them it is not applicable. */
  deviceTypes: readonly DeviceType[] | 'all';
  /** True when the semantics are a model, not the (unpublished) MEHRS text. */
  modelled: boolean;
  /** Where the semantics come from. */
  source: string;
  /**
   * The interrogation fields `evaluate` looks at (besides identity and registration, which the
   * evaluator always needs to decide scope). A sweep with `reads: 'checks'` reads only these
   * from the meter (fieldsForChecks, evaluate.ts). Absent: every field, so a user-defined
   * check that does not say what it reads never sees a field left unread.
   */
  reads?: readonly InterrogationField[];
  evaluate(input: CheckInput): CheckVerdict;
}

export const CHECK_CODE_PATTERN = /^[A-Za-z][A-Za-z0-9_-]{1,31}$/;
