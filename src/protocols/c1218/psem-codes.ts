import { ErrorCode, SimError, type ErrorCodeValue, type ErrorContext } from '../../core/errors';

/**
 * PSEM response-code names (docs/c1218.md §2: T `C1218_RESPONSE_CODES`, M `MCOMExceptions.h`,
 * W `commandnames`). 0x00-0x0A are C12.18; 0x0B-0x12 are C12.21/22 additions.
 */
export const PSEM_CODE_NAMES: ReadonlyMap<number, string> = new Map([
  [0x00, 'ok'],
  [0x01, 'err'],
  [0x02, 'sns'],
  [0x03, 'isc'],
  [0x04, 'onp'],
  [0x05, 'iar'],
  [0x06, 'bsy'],
  [0x07, 'dnr'],
  [0x08, 'dlk'],
  [0x09, 'rno'],
  [0x0a, 'isss'],
  [0x0b, 'sme'],
  [0x0c, 'uat'],
  [0x0d, 'nett'],
  [0x0e, 'netr'],
  [0x0f, 'rqtl'],
  [0x10, 'rstl'],
  [0x11, 'sgnp'],
  [0x12, 'sgerr'],
]);

export function psemCodeName(code: number): string {
  return PSEM_CODE_NAMES.get(code) ?? `0x${code.toString(16).padStart(2, '0')}`;
}

/** bsy and dnr are worth retrying after a delay (M retries only these two, §1.4). */
export function isRetryablePsemCode(code: number): boolean {
  return code === 0x06 || code === 0x07;
}

const GENERAL: ReadonlyMap<number, ErrorCodeValue> = new Map<number, ErrorCodeValue>([
  [0x01, ErrorCode.ServiceError],
  [0x02, ErrorCode.ServiceNotSupported],
  [0x03, ErrorCode.ServiceAccessDenied],
  [0x04, ErrorCode.ServiceOperationNotPossible],
  [0x05, ErrorCode.ServiceOperationNotPossible],
  [0x06, ErrorCode.ServiceBusy],
  [0x07, ErrorCode.ServiceDataNotReady],
  [0x08, ErrorCode.ServiceDataLocked],
  [0x0a, ErrorCode.ServiceBadSequence],
]);

/**
 * Wrap a non-zero PSEM response in a SimError, keeping the wire value in `context.wireCode`
 * (errors.ts: protocol result codes are values, a client surfaces them as 4xx/5xx errors).
 * A rejected Security maps to the session layer: isc -> SessionAuthFailed, dlk ->
 * SessionLockedOut (TableServer.authenticate answers dlk while locked out, c1219/contract.ts).
 */
export function psemError(
  code: number,
  service: string,
  context: ErrorContext = {},
  extra?: Uint8Array,
): SimError {
  let mapped: ErrorCodeValue = GENERAL.get(code) ?? ErrorCode.ServiceError;
  if (service === 'security') {
    if (code === 0x03) mapped = ErrorCode.SessionAuthFailed;
    else if (code === 0x08) mapped = ErrorCode.SessionLockedOut;
  } else if (service === 'logon' && (code === 0x01 || code === 0x03 || code === 0x05)) {
    mapped = ErrorCode.SessionLogonFailed;
  }
  const name = psemCodeName(code);
  return new SimError(
    mapped,
    `${service}: device answered ${name} (0x${code.toString(16).padStart(2, '0')})`,
    {
      ...context,
      service,
      wireCode: code,
      wireName: name,
      ...(extra && extra.length ? { extra: Buffer.from(extra).toString('hex') } : {}),
    },
  );
}
