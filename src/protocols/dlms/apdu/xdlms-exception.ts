import type { ByteReader, ByteWriter } from '../../../core/bytes';
import { encodeError } from '../axdr/limits';
import { checkU32, checkU8 } from './checks';
import { ExceptionServiceError } from './result-codes';

/**
 * Exception-Response (docs/dlms.md §4.2): `D8 state-error service-error [IC(4) if service = 6]`.
 * state-error: 1 service-not-allowed, 2 service-unknown. service-error: 1 operation-not-possible,
 * 2 not-supported, 3 other, 4 pdu-too-long, 5 deciphering-error, 6 invocation-counter-error
 * (which carries the expected invocation counter as Unsigned32).
 */
export const TAG_EXCEPTION_RESPONSE = 0xd8;

export interface ExceptionResponse {
  readonly type: 'exception-response';
  readonly stateError: number;
  readonly serviceError: number;
  /** Present exactly when serviceError is invocation-counter-error (6). */
  readonly invocationCounter?: number | undefined;
}

const IC_ERROR = ExceptionServiceError['invocation-counter-error'];

export function readExceptionResponse(r: ByteReader): ExceptionResponse {
  const stateError = r.u8('stateError');
  const serviceError = r.u8('serviceError');
  const invocationCounter = serviceError === IC_ERROR ? r.u32be('invocationCounter') : undefined;
  return { type: 'exception-response', stateError, serviceError, invocationCounter };
}

export function writeExceptionResponse(w: ByteWriter, v: ExceptionResponse, path: string): void {
  checkU8(v.stateError, `${path}.stateError`);
  checkU8(v.serviceError, `${path}.serviceError`);
  w.u8(TAG_EXCEPTION_RESPONSE).u8(v.stateError).u8(v.serviceError);
  if (v.serviceError === IC_ERROR) {
    if (v.invocationCounter === undefined) {
      throw encodeError(`${path}.invocationCounter`, 'required with invocation-counter-error');
    }
    checkU32(v.invocationCounter, `${path}.invocationCounter`);
    w.u32be(v.invocationCounter);
  } else if (v.invocationCounter !== undefined) {
    throw encodeError(`${path}.invocationCounter`, 'only allowed with invocation-counter-error (6)');
  }
}
