import { ErrorCode, toSimError, type SimError } from '../../../core/errors';
import { ExceptionServiceError, ExceptionStateError } from '../apdu/result-codes';
import type { ExceptionResponse } from '../apdu/xdlms-exception';
import type { RequestProtection } from '../cosem/access';
import { cipherApdu, decipherApdu } from '../security/apdu-cipher';
import type { CipheredForm } from '../security/ciphered-tags';
import { takeNextIc } from '../security/invocation-counter';
import type { KeySet } from '../security/keys';
import { securityControlByte } from '../security/security-control';
import { policyAccepts } from '../security/security-policy';
import type { Negotiated } from './association';
import type { SecuritySetupConfig } from './config';

/**
 * Ciphering of one request/response exchange (docs/dlms.md §7): a ciphered request is opened
 * with the association's keys, policy and the client's invocation counters; its answer goes back
 * in the same form (glo / ded / general) with the same security control byte, under the server's
 * next IC and the keys that were in force when the request arrived (so a key_transfer's own
 * answer still uses the old keys; modelled).
 */
export interface RequestSecurity {
  readonly form: CipheredForm;
  readonly sc: number;
  readonly keys: KeySet;
  readonly dedicatedKey: Buffer | undefined;
}

export type OpenedRequest =
  | {
      readonly ok: true;
      readonly plaintext: Buffer;
      readonly protection: RequestProtection;
      readonly security: RequestSecurity;
    }
  | { readonly ok: false; readonly response: ExceptionResponse; readonly error: SimError };

const NOT_ALLOWED = ExceptionStateError['service-not-allowed'];

/** An exception-response for a request that could not be deciphered (docs/dlms.md §4.2 table). */
export function decipherFailure(error: SimError): ExceptionResponse {
  if (error.code === ErrorCode.SessionReplay) {
    const last = typeof error.context['lastIc'] === 'number' ? (error.context['lastIc'] as number) : 0;
    return {
      type: 'exception-response',
      stateError: NOT_ALLOWED,
      serviceError: ExceptionServiceError['invocation-counter-error'],
      // The IC the server expects next (modelled reading of the IC carried with error 6).
      invocationCounter: Math.min(last + 1, 0xffffffff),
    };
  }
  return {
    type: 'exception-response',
    stateError: NOT_ALLOWED,
    serviceError: ExceptionServiceError['deciphering-error'],
  };
}

export function openRequest(bytes: Buffer, assoc: Negotiated, sec: SecuritySetupConfig): OpenedRequest {
  const keys = sec.keys();
  try {
    const d = decipherApdu(bytes, {
      peerSystemTitle: assoc.clientSystemTitle,
      keys: { ek: keys.ek, ak: keys.ak, broadcastEk: keys.broadcastEk, dedicatedKey: assoc.dedicatedKey },
      accept: policyAccepts(sec.policy()),
      counters: sec.peerCounters,
    });
    return {
      ok: true,
      plaintext: d.plaintext,
      protection: { authenticated: d.security.authentication, encrypted: d.security.encryption },
      security: { form: d.form, sc: securityControlByte(d.security), keys, dedicatedKey: assoc.dedicatedKey },
    };
  } catch (e) {
    const error = toSimError(e, ErrorCode.SessionCipherFailed);
    return { ok: false, response: decipherFailure(error), error };
  }
}

/** Cipher a plaintext response the way its request came. */
export function protectResponse(plaintext: Buffer, rs: RequestSecurity, sec: SecuritySetupConfig): Buffer {
  const dedicated = rs.form === 'ded' || rs.form === 'general-ded';
  // A broadcast-key request is answered with the unicast key: responses are never broadcast (modelled).
  const sc = rs.sc & ~0x40;
  return cipherApdu(plaintext, {
    security: sc,
    ic: takeNextIc(sec.ownCounter),
    systemTitle: rs.keys.systemTitle,
    ek: dedicated ? rs.dedicatedKey! : rs.keys.ek,
    ak: rs.keys.ak,
    form: rs.form,
  });
}

/**
 * Octets ciphering adds to a response, worst case: tag, BER length (3), SC, IC (4), GMAC (12),
 * plus length and system title (9) for the general forms. Block sizes leave this much room.
 */
export function cipherOverhead(rs: RequestSecurity | undefined): number {
  if (!rs) return 0;
  return 1 + 3 + 5 + 12 + (rs.form === 'general-glo' || rs.form === 'general-ded' ? 9 : 0);
}
