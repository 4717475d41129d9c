import { ErrorCode, SimError, type ErrorCodeValue } from '../../../core/errors';
import type { Aare } from '../apdu/acse';
import { formatObis } from '../apdu/obis';
import {
  AcseServiceUserDiagnostic,
  ActionResult,
  DataAccessResult,
  actionResultName,
  dataAccessResultName,
} from '../apdu/result-codes';
import type { ExceptionResponse } from '../apdu/xdlms-exception';
import type { ConfirmedServiceError } from '../apdu/xdlms-initiate';

/**
 * Result codes from the wire turned into SimErrors for the client's caller (CONVENTIONS: the
 * code says which layer; the wire value stays in `context`).
 */

export interface ObjectRef {
  readonly classId: number;
  readonly obis: Buffer;
  readonly index: number;
}

function codeForResult(v: number): ErrorCodeValue {
  switch (v) {
    case DataAccessResult['read-write-denied']:
    case DataAccessResult['scope-of-access-violated']:
      return ErrorCode.ServiceAccessDenied;
    case DataAccessResult['object-undefined']:
    case DataAccessResult['object-class-inconsistent']:
      return ErrorCode.ServiceObjectUndefined;
    case DataAccessResult['temporary-failure']:
      return ErrorCode.ServiceBusy;
    case DataAccessResult['hardware-fault']:
    case DataAccessResult['object-unavailable']:
      return ErrorCode.ServiceOperationNotPossible;
    case DataAccessResult['data-block-unavailable']:
    case DataAccessResult['long-get-aborted']:
    case DataAccessResult['no-long-get']:
    case DataAccessResult['long-set-aborted']:
    case DataAccessResult['no-long-set']:
    case DataAccessResult['data-block-number-invalid']:
      return ErrorCode.ServiceBadSequence;
    default:
      return ErrorCode.ServiceError;
  }
}

function refContext(ref: ObjectRef | undefined): Record<string, unknown> {
  return ref ? { classId: ref.classId, obis: formatObis(ref.obis), index: ref.index } : {};
}

/** A Data-Access-Result other than success, from GET or SET. */
export function darError(dar: number, service: 'get' | 'set', ref?: ObjectRef): SimError {
  const name = dataAccessResultName(dar);
  const where = ref ? ` ${formatObis(ref.obis)}/${ref.index}` : '';
  return new SimError(codeForResult(dar), `${service.toUpperCase()}${where}: ${name}`, {
    service,
    dar,
    darName: name,
    ...refContext(ref),
  });
}

/** An Action-Result other than success. */
export function actionError(result: number, ref?: ObjectRef): SimError {
  const name = actionResultName(result);
  const where = ref ? ` ${formatObis(ref.obis)}/${ref.index}` : '';
  // 15/16 are long-action values for ACTION: sequencing problems like their GET twins.
  const code =
    result === ActionResult['long-action-aborted'] || result === ActionResult['no-long-action']
      ? ErrorCode.ServiceBadSequence
      : codeForResult(result);
  return new SimError(code, `ACTION${where}: ${name}`, {
    service: 'action',
    result,
    resultName: name,
    ...refContext(ref),
  });
}

/** An exception-response (docs/dlms.md §4.2): deciphering and IC errors are session faults. */
export function exceptionError(x: ExceptionResponse): SimError {
  const context = {
    stateError: x.stateError,
    serviceError: x.serviceError,
    invocationCounter: x.invocationCounter,
  };
  if (x.serviceError === 5)
    return new SimError(ErrorCode.SessionCipherFailed, 'server could not decipher the request', context);
  if (x.serviceError === 6)
    return new SimError(ErrorCode.SessionReplay, 'server refused the invocation counter', context);
  if (x.serviceError === 2)
    return new SimError(ErrorCode.ServiceNotSupported, 'service not supported by the server', context);
  return new SimError(
    ErrorCode.ServiceOperationNotPossible,
    `exception-response ${x.stateError}/${x.serviceError}`,
    context,
  );
}

/** A rejected AARE: authentication failures are SessionAuthFailed, the rest SessionAssociationRejected. */
export function aareError(aare: Aare, initiate?: ConfirmedServiceError): SimError {
  const d = aare.resultSourceDiagnostic;
  const context = {
    result: aare.result,
    diagnostic: d.value,
    source: d.source,
    ...(initiate ? { initiateError: initiate.error } : {}),
  };
  if (d.source === 'acse-service-user' && d.value === AcseServiceUserDiagnostic['authentication-failure']) {
    return new SimError(ErrorCode.SessionAuthFailed, 'association rejected: authentication failure', context);
  }
  return new SimError(
    ErrorCode.SessionAssociationRejected,
    `association rejected (diagnostic ${d.value})`,
    context,
  );
}
