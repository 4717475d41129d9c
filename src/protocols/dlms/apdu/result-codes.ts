/**
 * Result enumerations carried as values on the wire, named as in docs/dlms.md §4.1 / §4.2 (U9N
 * `enumerations.py`, GXPY `enums/Initiate.py`). Decoders keep unknown numbers as numbers, so a
 * meter that answers 42 is reported as 42, not refused; these tables only give names.
 */

export const DataAccessResult = {
  success: 0,
  'hardware-fault': 1,
  'temporary-failure': 2,
  'read-write-denied': 3,
  'object-undefined': 4,
  'object-class-inconsistent': 9,
  'object-unavailable': 11,
  'type-unmatched': 12,
  'scope-of-access-violated': 13,
  'data-block-unavailable': 14,
  'long-get-aborted': 15,
  'no-long-get': 16,
  'long-set-aborted': 17,
  'no-long-set': 18,
  'data-block-number-invalid': 19,
  other: 250,
} as const;
export type DataAccessResultName = keyof typeof DataAccessResult;

/** Action-Result: the DAR list with 15/16 meaning long-action (docs/dlms.md §4.2). */
export const ActionResult = {
  success: 0,
  'hardware-fault': 1,
  'temporary-failure': 2,
  'read-write-denied': 3,
  'object-undefined': 4,
  'object-class-inconsistent': 9,
  'object-unavailable': 11,
  'type-unmatched': 12,
  'scope-of-access-violated': 13,
  'data-block-unavailable': 14,
  'long-action-aborted': 15,
  'no-long-action': 16,
  other: 250,
} as const;
export type ActionResultName = keyof typeof ActionResult;

export const ExceptionStateError = {
  'service-not-allowed': 1,
  'service-unknown': 2,
} as const;

export const ExceptionServiceError = {
  'operation-not-possible': 1,
  'not-supported': 2,
  other: 3,
  'pdu-too-long': 4,
  'deciphering-error': 5,
  'invocation-counter-error': 6,
} as const;

/** AARE result (docs/dlms.md §4.1). */
export const AssociationResult = {
  accepted: 0,
  'rejected-permanent': 1,
  'rejected-transient': 2,
} as const;

/** acse-service-user diagnostics as listed in docs/dlms.md §4.1 (U9N `enumerations.py`). */
export const AcseServiceUserDiagnostic = {
  null: 0,
  'no-reason-given': 1,
  'application-context-name-not-supported': 2,
  'authentication-mechanism-name-not-recognised': 11,
  'authentication-mechanism-name-required': 12,
  'authentication-failure': 13,
  'authentication-required': 14,
} as const;

/** acse-service-provider diagnostics (ISO 8650 ACSE; not in docs/dlms.md). */
export const AcseServiceProviderDiagnostic = {
  null: 0,
  'no-reason-given': 1,
  'no-common-acse-version': 2,
} as const;

/** InitiateError values of ServiceError `initiate` (docs/dlms.md §4.1; GXPY `enums/Initiate.py`). */
export const InitiateError = {
  other: 0,
  'dlms-version-too-low': 1,
  'incompatible-conformance': 2,
  'pdu-size-too-short': 3,
  'refused-by-the-vde-handler': 4,
} as const;

/** ConfirmedServiceError CHOICE index for an initiate failure, and the ServiceError kind `initiate`. */
export const CONFIRMED_SERVICE_INITIATE_ERROR = 1;
export const SERVICE_ERROR_KIND_INITIATE = 6;

/** RLRQ / RLRE reasons (ISO 8650 ACSE Release-request/response-reason; not in docs/dlms.md). */
export const ReleaseRequestReason = { normal: 0, urgent: 1, 'user-defined': 30 } as const;
export const ReleaseResponseReason = { normal: 0, 'not-finished': 1, 'user-defined': 30 } as const;

function inverse<T extends Record<string, number>>(table: T): ReadonlyMap<number, keyof T & string> {
  return new Map(Object.entries(table).map(([k, v]) => [v, k as keyof T & string]));
}

const darNames = inverse(DataAccessResult);
const actionNames = inverse(ActionResult);

/** `read-write-denied` for 3; `unknown(42)` for a value outside the table. */
export function dataAccessResultName(v: number): string {
  return darNames.get(v) ?? `unknown(${v})`;
}

export function actionResultName(v: number): string {
  return actionNames.get(v) ?? `unknown(${v})`;
}
