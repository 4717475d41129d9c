import type { Aare, Aarq, ApplicationContextName } from '../apdu/acse';
import { intersectConformance, type ConformanceName } from '../apdu/conformance';
import {
  AcseServiceUserDiagnostic,
  AssociationResult,
  CONFIRMED_SERVICE_INITIATE_ERROR,
  InitiateError,
  SERVICE_ERROR_KIND_INITIATE,
} from '../apdu/result-codes';
import type { ConfirmedServiceError, InitiateRequest, UserInformation } from '../apdu/xdlms-initiate';
import type { AuthMechanism } from '../cosem/context';
import { HLS_CHALLENGE_MAX, HLS_CHALLENGE_MIN } from '../security/hls-gmac';
import { verifyLlsSecret } from '../security/lls';
import type { SecurityPolicyV0Value } from '../security/security-policy';
import {
  DEFAULT_SERVER_CONFORMANCE,
  DLMS_VERSION,
  LN_VAA_NAME,
  MIN_CLIENT_PDU,
  type AssociationConfig,
} from './config';

/**
 * The application association as a pure state machine (CONVENTIONS; docs/dlms.md §4.1):
 *
 *   idle --AARQ accepted (none / LLS)------------------> associated
 *   idle --AARQ accepted, HLS-GMAC (AARE diag 14)-----> pending --f(StoC) ok--> associated
 *                                                        pending --f(StoC) bad--> idle
 *   any  --AARQ (decodes)--> re-evaluated from scratch (modelled: one AA per client per link)
 *   any  --RLRQ / link down--> idle
 *
 * evaluateAarq is pure: randomness (StoC), secrets and the deciphered InitiateRequest come in as
 * inputs; the session runs the crypto and ciphers the AARE's user-information when told to.
 */

export interface Negotiated {
  readonly config: AssociationConfig;
  readonly clientSap: number;
  readonly serverSap: number;
  readonly context: 'LN' | 'LN-ciphered';
  readonly mechanism: AuthMechanism;
  readonly conformance: ReadonlySet<ConformanceName>;
  /** As proposed; 0 = no limit (modelled reading of the Green Book). */
  readonly clientMaxReceivePduSize: number;
  readonly serverMaxReceivePduSize: number;
  readonly dlmsVersion: number;
  readonly clientSystemTitle: Buffer | undefined;
  /** Dedicated key from the (ciphered) InitiateRequest, for ded-* APDUs. */
  readonly dedicatedKey: Buffer | undefined;
}

export type AssociationState =
  | { readonly phase: 'idle' }
  | { readonly phase: 'pending'; readonly assoc: Negotiated; readonly stoc: Buffer; readonly ctos: Buffer }
  | { readonly phase: 'associated'; readonly assoc: Negotiated };

export const IDLE: AssociationState = Object.freeze({ phase: 'idle' });

/** The InitiateRequest as the session found it in the AARQ user-information. */
export type InitiateInput =
  | { readonly kind: 'plain'; readonly request: InitiateRequest }
  | { readonly kind: 'ciphered'; readonly request: InitiateRequest; readonly security: number }
  | { readonly kind: 'missing' }
  | { readonly kind: 'undecipherable'; readonly reason: string };

export interface AarqInput {
  readonly aarq: Aarq;
  readonly initiate: InitiateInput;
  readonly clientSap: number;
  readonly serverSap: number;
  /** The association configured for this client SAP, if any. */
  readonly association: AssociationConfig | undefined;
  /** The association's LLS secret, resolved now. */
  readonly secret: Uint8Array | undefined;
  /** The association's Security setup: the server system title and current policy. */
  readonly security: { readonly systemTitle: Buffer; readonly policy: SecurityPolicyV0Value } | undefined;
  /** A fresh StoC challenge, used only when the mechanism is HLS-GMAC. */
  readonly stoc: Buffer;
  readonly serverMaxReceivePduSize: number;
}

export interface AarqOutcome {
  readonly state: AssociationState;
  /** User-information, when present, is plaintext; see cipherResponseSc. */
  readonly aare: Aare;
  /** Cipher the InitiateResponse as glo-initiate-response with this SC (the request's). */
  readonly cipherResponseSc: number | undefined;
  /** Why: 'accepted', 'hls-pending', or the rejection reason (for events and logs). */
  readonly reason: string;
}

function requestedMechanism(aarq: Aarq): AuthMechanism | 'unknown' {
  const m = aarq.mechanismName;
  if (m === undefined || m === 'lowest') return 'none';
  if (m === 'low') return 'low';
  if (m === 'high-gmac') return 'high-gmac';
  return 'unknown';
}

function knownContext(c: Aarq['applicationContextName']): ApplicationContextName {
  return typeof c === 'string' ? c : 'LN';
}

function acceptedContexts(
  a: AssociationConfig,
  policy: SecurityPolicyV0Value | undefined,
): ReadonlyArray<string> {
  const declared = a.contexts ?? (a.securitySetup ? ['LN', 'LN-ciphered'] : ['LN']);
  // Modelled: a policy that protects every message cannot be met in a context without ciphering.
  return policy !== undefined && policy > 0 ? declared.filter((c) => c === 'LN-ciphered') : declared;
}

function reject(
  input: AarqInput,
  diagnostic: number,
  reason: string,
  userInformation?: ConfirmedServiceError,
): AarqOutcome {
  return {
    state: IDLE,
    aare: {
      type: 'aare',
      applicationContextName: knownContext(input.aarq.applicationContextName),
      result: AssociationResult['rejected-permanent'],
      resultSourceDiagnostic: { source: 'acse-service-user', value: diagnostic },
      userInformation,
    },
    cipherResponseSc: undefined,
    reason,
  };
}

function initiateError(error: number): ConfirmedServiceError {
  return {
    type: 'confirmed-service-error',
    service: CONFIRMED_SERVICE_INITIATE_ERROR,
    errorKind: SERVICE_ERROR_KIND_INITIATE,
    error,
  };
}

const D = AcseServiceUserDiagnostic;

/** Evaluate an AARQ against the association its client SAP maps to. Pure. */
export function evaluateAarq(input: AarqInput): AarqOutcome {
  const { aarq, association: a } = input;
  if (!a) return reject(input, D['no-reason-given'], 'unknown-client');

  const context = aarq.applicationContextName;
  if (
    typeof context !== 'string' ||
    (context !== 'LN' && context !== 'LN-ciphered') ||
    !acceptedContexts(a, input.security?.policy).includes(context)
  ) {
    return reject(input, D['application-context-name-not-supported'], 'context');
  }

  const mechanism = requestedMechanism(aarq);
  if (mechanism === 'unknown')
    return reject(input, D['authentication-mechanism-name-not-recognised'], 'mechanism');
  if (mechanism !== a.mechanism) {
    return mechanism === 'none'
      ? reject(input, D['authentication-mechanism-name-required'], 'mechanism-required')
      : reject(input, D['authentication-mechanism-name-not-recognised'], 'mechanism');
  }

  // Lock-out refuses every authenticated mechanism alike (modelled: docs/dlms.md has no
  // lock-out rule; the profile's security.lockout says when, the device counts the failures).
  if (mechanism !== 'none' && a.lockedOut?.())
    return reject(input, D['authentication-failure'], 'locked-out');

  const auth = aarq.callingAuthenticationValue;
  let ctos: Buffer | undefined;
  if (mechanism === 'low') {
    const ok =
      auth?.kind === 'charstring' && input.secret !== undefined && verifyLlsSecret(input.secret, auth.value);
    if (!ok) return reject(input, D['authentication-failure'], 'lls-failure');
  } else if (mechanism === 'high-gmac') {
    const title = aarq.callingApTitle;
    const ok =
      auth?.kind === 'charstring' &&
      auth.value.length >= HLS_CHALLENGE_MIN &&
      auth.value.length <= HLS_CHALLENGE_MAX &&
      title?.length === 8 &&
      input.security !== undefined;
    if (!ok) return reject(input, D['authentication-failure'], 'hls-request');
    ctos = auth.value;
  }

  const init = input.initiate;
  if (init.kind === 'missing') return reject(input, D['no-reason-given'], 'no-initiate');
  if (init.kind === 'undecipherable') return reject(input, D['no-reason-given'], `initiate-${init.reason}`);
  if (context === 'LN-ciphered' && (input.security?.policy ?? 0) > 0 && init.kind !== 'ciphered') {
    // Modelled: under a protecting policy the InitiateRequest itself must be ciphered.
    return reject(input, D['no-reason-given'], 'initiate-not-ciphered');
  }
  const req = init.request;
  if (req.proposedDlmsVersionNumber < DLMS_VERSION) {
    return reject(
      input,
      D['no-reason-given'],
      'dlms-version',
      initiateError(InitiateError['dlms-version-too-low']),
    );
  }
  const negotiated = intersectConformance(
    req.proposedConformance,
    a.conformance ?? DEFAULT_SERVER_CONFORMANCE,
  );
  if (negotiated.size === 0) {
    return reject(
      input,
      D['no-reason-given'],
      'conformance',
      initiateError(InitiateError['incompatible-conformance']),
    );
  }
  const clientPdu = req.clientMaxReceivePduSize;
  if (clientPdu !== 0 && clientPdu < MIN_CLIENT_PDU) {
    return reject(
      input,
      D['no-reason-given'],
      'pdu-size',
      initiateError(InitiateError['pdu-size-too-short']),
    );
  }

  const assoc: Negotiated = {
    config: a,
    clientSap: input.clientSap,
    serverSap: input.serverSap,
    context,
    mechanism,
    conformance: negotiated,
    clientMaxReceivePduSize: clientPdu,
    serverMaxReceivePduSize: input.serverMaxReceivePduSize,
    dlmsVersion: DLMS_VERSION,
    clientSystemTitle: aarq.callingApTitle,
    dedicatedKey: req.dedicatedKey,
  };
  const userInformation: UserInformation = {
    type: 'initiate-response',
    negotiatedDlmsVersionNumber: DLMS_VERSION,
    negotiatedConformance: negotiated,
    serverMaxReceivePduSize: input.serverMaxReceivePduSize,
    vaaName: LN_VAA_NAME,
  };
  const hls = mechanism === 'high-gmac';
  // Modelled (docs/dlms.md §10 item 4): the server system title goes in A4 whenever the client
  // needs it, i.e. for ciphering and for verifying f(CtoS).
  const respondingApTitle = context === 'LN-ciphered' || hls ? input.security?.systemTitle : undefined;
  const aare: Aare = {
    type: 'aare',
    applicationContextName: context,
    result: AssociationResult.accepted,
    resultSourceDiagnostic: {
      source: 'acse-service-user',
      value: hls ? D['authentication-required'] : D.null,
    },
    respondingApTitle,
    responderAcseRequirements: mechanism !== 'none' ? true : undefined,
    mechanismName: mechanism === 'none' ? undefined : mechanism,
    respondingAuthenticationValue: hls ? { kind: 'charstring', value: input.stoc } : undefined,
    userInformation,
  };
  return {
    state: hls ? { phase: 'pending', assoc, stoc: input.stoc, ctos: ctos! } : { phase: 'associated', assoc },
    aare,
    cipherResponseSc: init.kind === 'ciphered' ? init.security : undefined,
    reason: hls ? 'hls-pending' : 'accepted',
  };
}

/** HLS pass 3/4 outcome: pending -> associated on success, -> idle on failure. Other states keep. */
export function afterHlsReply(state: AssociationState, ok: boolean): AssociationState {
  if (state.phase !== 'pending') return state;
  return ok ? { phase: 'associated', assoc: state.assoc } : IDLE;
}

/** RLRQ or the data link going down ends the association. */
export function released(_state: AssociationState): AssociationState {
  return IDLE;
}

/** The association's status as Association LN attribute 8 reports it. */
export function associationStatus(
  state: AssociationState,
): 'non-associated' | 'association-pending' | 'associated' {
  return state.phase === 'idle'
    ? 'non-associated'
    : state.phase === 'pending'
      ? 'association-pending'
      : 'associated';
}
