import { ErrorCode, SimError, toSimError } from '../../../core/errors';
import { TAG_AARQ, TAG_RLRQ, type Aare, type Aarq } from '../apdu/acse';
import { APDU_DECODERS, decodeApdu, encodeApdu } from '../apdu/apdu';
import { decodeInitiateApdu } from '../apdu/xdlms-initiate';
import type { AxdrLimits } from '../axdr/limits';
import { UNPROTECTED, type RequestProtection } from '../cosem/access';
import type { AssociationView, SessionHooks } from '../cosem/context';
import { obisKey, type CosemRegistry } from '../cosem/object-registry';
import { parseObis } from '../apdu/obis';
import { cipherApdu, decipherApdu } from '../security/apdu-cipher';
import { isCipheredTag } from '../security/ciphered-tags';
import {
  generateChallenge,
  hlsGmacResponse,
  verifyHlsGmacResponse,
  type RandomBytes,
} from '../security/hls-gmac';
import { takeNextIc } from '../security/invocation-counter';
import { securityControlByte } from '../security/security-control';
import { policyAccepts } from '../security/security-policy';
import type { LinkAddress } from '../link/types';
import {
  IDLE,
  afterHlsReply,
  associationStatus,
  evaluateAarq,
  released,
  type AssociationState,
  type InitiateInput,
  type Negotiated,
} from './association';
import {
  DEFAULT_SERVER_MAX_PDU,
  associationSecret,
  type AssociationConfig,
  type LogicalDeviceConfig,
  type SecuritySetupConfig,
} from './config';
import { cipherOverhead, openRequest, protectResponse, type RequestSecurity } from './session-crypto';
import {
  exception,
  serveAction,
  serveGet,
  serveSet,
  type DispatchContext,
  type TransferSlots,
} from './xdlms-dispatch';
import type { Apdu } from '../apdu/apdu';

/**
 * One client's application session with one logical device over one data link connection
 * (docs/dlms.md §4): association handling, then GET/SET/ACTION, with ciphering per the
 * association's security policy. handle() takes the APDU bytes the link delivered and resolves
 * the bytes to answer (or undefined where the standard says nothing is answered). It never
 * throws: whatever arrives, the answer is a well-formed APDU.
 */

export type SessionEvent =
  | { readonly kind: 'associated'; readonly association: string; readonly mechanism: string }
  | { readonly kind: 'rejected'; readonly reason: string; readonly diagnostic: number }
  | { readonly kind: 'hls-failed'; readonly association: string; readonly error: SimError }
  | { readonly kind: 'released'; readonly association: string | undefined }
  | { readonly kind: 'cipher-failed'; readonly error: SimError }
  | { readonly kind: 'fault'; readonly error: SimError; readonly where: string };

/** A logical device as the server runs it: config plus lookups built once. */
export interface LogicalDeviceRuntime {
  readonly config: LogicalDeviceConfig;
  readonly registry: CosemRegistry;
  readonly byClientSap: ReadonlyMap<number, AssociationConfig>;
  readonly security: ReadonlyMap<number, SecuritySetupConfig>;
  readonly maxReceivePduSize: number;
}

export function logicalDeviceRuntime(config: LogicalDeviceConfig): LogicalDeviceRuntime {
  return {
    config,
    registry: config.registry,
    byClientSap: new Map(config.associations.map((a) => [a.clientSap, a])),
    security: new Map((config.securitySetups ?? []).map((s) => [obisKey(parseObis(s.obis)), s])),
    maxReceivePduSize: config.maxReceivePduSize ?? DEFAULT_SERVER_MAX_PDU,
  };
}

export interface SessionOptions {
  readonly rng?: RandomBytes;
  /** StoC length (default 16; modelled). */
  readonly challengeLength?: number;
  readonly limits?: Partial<AxdrLimits>;
  readonly onEvent?: (e: SessionEvent) => void;
}

const UNLIMITED = Number.MAX_SAFE_INTEGER;

export class ServerSession implements SessionHooks {
  private assoc: AssociationState = IDLE;
  private readonly transfers: TransferSlots = { get: undefined, set: undefined };
  private viewCache: { state: AssociationState; view: AssociationView } | undefined;

  constructor(
    readonly device: LogicalDeviceRuntime,
    readonly address: LinkAddress,
    private readonly options: SessionOptions = {},
  ) {}

  get state(): AssociationState {
    return this.assoc;
  }

  private emit(e: SessionEvent): void {
    this.options.onEvent?.(e);
  }

  private setState(s: AssociationState): void {
    if (s !== this.assoc) {
      this.transfers.get = undefined;
      this.transfers.set = undefined;
    }
    this.assoc = s;
  }

  /** The data link connection went down: the association is gone (docs/dlms.md §2). */
  linkDown(): void {
    if (this.assoc.phase !== 'idle')
      this.emit({ kind: 'released', association: this.assoc.assoc.config.name });
    this.setState(released(this.assoc));
  }

  private securityOf(n: Negotiated | AssociationConfig | undefined): SecuritySetupConfig | undefined {
    const cfg = n === undefined ? undefined : 'config' in n ? n.config : n;
    return cfg?.securitySetup ? this.device.security.get(obisKey(parseObis(cfg.securitySetup))) : undefined;
  }

  async handle(bytes: Buffer): Promise<Buffer | undefined> {
    try {
      const out = await this.dispatch(bytes);
      const answer = out === undefined ? undefined : Buffer.isBuffer(out) ? out : encodeApdu(out);
      this.flushCounters();
      return answer;
    } catch (e) {
      const error = toSimError(e, ErrorCode.ServiceError);
      this.emit({ kind: 'fault', error, where: 'session' });
      try {
        this.flushCounters();
      } catch (f) {
        this.emit({ kind: 'fault', error: toSimError(f, ErrorCode.ServiceError), where: 'counters' });
      }
      return encodeApdu(exception('service-not-allowed', 'other'));
    }
  }

  /** Accepted client ICs become durable before any answer leaves (replay protection across restarts). */
  private flushCounters(): void {
    for (const s of this.device.security.values()) s.peerCounters.flush?.();
  }

  private async dispatch(bytes: Buffer): Promise<Apdu | Buffer | undefined> {
    if (bytes.length === 0) return exception('service-unknown', 'not-supported');
    const tag = bytes[0]!;
    if (tag === TAG_AARQ) return this.onAarq(bytes);
    if (tag === TAG_RLRQ) return this.onRlrq(bytes);
    if (this.assoc.phase === 'idle') {
      return APDU_DECODERS.has(tag)
        ? exception('service-not-allowed', 'operation-not-possible')
        : exception('service-unknown', 'not-supported');
    }
    const assoc = this.assoc.assoc;
    if (bytes.length > assoc.serverMaxReceivePduSize) return exception('service-not-allowed', 'pdu-too-long');
    const sec = this.securityOf(assoc);
    if (isCipheredTag(tag)) {
      // Modelled: ciphered xDLMS APDUs belong to the LN-ciphered context only.
      if (assoc.context !== 'LN-ciphered' || !sec)
        return exception('service-not-allowed', 'deciphering-error');
      const opened = openRequest(bytes, assoc, sec);
      if (!opened.ok) {
        this.emit({ kind: 'cipher-failed', error: opened.error });
        return opened.response;
      }
      const response = await this.serve(opened.plaintext, opened.protection, opened.security);
      if (response === undefined || response.type === 'exception-response') return response;
      return protectResponse(encodeApdu(response), opened.security, sec);
    }
    // Modelled: under a policy that protects every message, a plaintext request is not served.
    if (sec && assoc.context === 'LN-ciphered' && sec.policy() > 0) {
      return exception('service-not-allowed', 'operation-not-possible');
    }
    return this.serve(bytes, UNPROTECTED, undefined);
  }

  private async serve(
    bytes: Buffer,
    protection: RequestProtection,
    rs: RequestSecurity | undefined,
  ): Promise<Apdu | undefined> {
    let apdu: Apdu;
    try {
      apdu = decodeApdu(bytes, this.options.limits);
    } catch {
      return APDU_DECODERS.has(bytes[0]!)
        ? exception('service-not-allowed', 'other')
        : exception('service-unknown', 'not-supported');
    }
    if (this.assoc.phase === 'idle') return exception('service-not-allowed', 'operation-not-possible');
    const assoc = this.assoc.assoc;
    const clientLimit = assoc.clientMaxReceivePduSize === 0 ? UNLIMITED : assoc.clientMaxReceivePduSize;
    const d: DispatchContext = {
      registry: this.device.registry,
      conformance: assoc.conformance,
      pending: this.assoc.phase === 'pending',
      base: { association: this.view(), protection, session: this },
      limit: clientLimit - cipherOverhead(rs),
      limits: this.options.limits,
      onFault: (e, where) =>
        this.emit({ kind: 'fault', error: toSimError(e, ErrorCode.EncodeInvalid), where }),
    };
    switch (apdu.type) {
      case 'get-request-normal':
      case 'get-request-next':
      case 'get-request-with-list':
        return serveGet(apdu, d, this.transfers);
      case 'set-request-normal':
      case 'set-request-with-first-datablock':
      case 'set-request-with-datablock':
      case 'set-request-with-list':
      case 'set-request-with-list-and-first-datablock':
        return serveSet(apdu, d, this.transfers);
      case 'action-request-normal':
      case 'action-request-next-pblock':
      case 'action-request-with-list':
      case 'action-request-with-first-pblock':
      case 'action-request-with-list-and-first-pblock':
      case 'action-request-with-pblock':
        return serveAction(apdu, d);
      case 'aarq':
      case 'rlrq':
        // ACSE APDUs inside a ciphered xDLMS APDU are not a thing (modelled answer).
        return exception('service-not-allowed', 'operation-not-possible');
      default:
        return exception('service-unknown', 'not-supported');
    }
  }

  /** What handlers see of the association; rebuilt only when the state changes. */
  private view(): AssociationView {
    const s = this.assoc;
    if (this.viewCache?.state === s) return this.viewCache.view;
    if (s.phase === 'idle') throw new SimError(ErrorCode.SessionNotOpen, 'no association');
    const a = s.assoc;
    const setup = a.config.securitySetup;
    const view: AssociationView = {
      name: a.config.name,
      clientSap: a.clientSap,
      serverSap: a.serverSap,
      mechanism: a.mechanism,
      status: associationStatus(s),
      applicationContext: a.context,
      conformance: a.conformance,
      clientMaxReceivePduSize: a.clientMaxReceivePduSize,
      serverMaxReceivePduSize: a.serverMaxReceivePduSize,
      dlmsVersion: a.dlmsVersion,
      clientSystemTitle: a.clientSystemTitle,
      securitySetup: setup ? parseObis(setup) : undefined,
    };
    this.viewCache = { state: s, view };
    return view;
  }

  private initiateOf(
    ui: NonNullable<Aarq['userInformation']>,
    callingApTitle: Buffer | undefined,
    sec: SecuritySetupConfig | undefined,
  ): InitiateInput {
    if (ui.type === 'initiate-request') return { kind: 'plain', request: ui };
    if (ui.type !== 'ciphered') return { kind: 'missing' };
    if (!sec) return { kind: 'undecipherable', reason: 'no-security-setup' };
    const keys = sec.keys();
    try {
      const d = decipherApdu(ui.raw, {
        peerSystemTitle: callingApTitle,
        keys: { ek: keys.ek, ak: keys.ak, broadcastEk: keys.broadcastEk },
        accept: policyAccepts(sec.policy()),
        counters: sec.peerCounters,
      });
      const inner = decodeInitiateApdu(d.plaintext);
      if (inner.type !== 'initiate-request') return { kind: 'undecipherable', reason: 'not-initiate' };
      return { kind: 'ciphered', request: inner, security: securityControlByte(d.security) };
    } catch (e) {
      const err = toSimError(e, ErrorCode.SessionCipherFailed);
      this.emit({ kind: 'cipher-failed', error: err });
      return { kind: 'undecipherable', reason: err.codeName };
    }
  }

  private onAarq(bytes: Buffer): Buffer | Apdu | undefined {
    let aarq: Aarq;
    try {
      const a = decodeApdu(bytes, this.options.limits);
      if (a.type !== 'aarq') throw new SimError(ErrorCode.DecodeInvalid, 'not an AARQ');
      aarq = a;
    } catch {
      // Modelled: an AARQ that does not decode is rejected and changes nothing.
      const reject: Aare = {
        type: 'aare',
        applicationContextName: 'LN',
        result: 1,
        resultSourceDiagnostic: { source: 'acse-service-user', value: 1 },
      };
      this.emit({ kind: 'rejected', reason: 'malformed', diagnostic: 1 });
      return reject;
    }
    const association = this.device.byClientSap.get(this.address.client);
    const sec = this.securityOf(association);
    const keys = sec?.keys();
    const initiate: InitiateInput = aarq.userInformation
      ? this.initiateOf(aarq.userInformation, aarq.callingApTitle, sec)
      : { kind: 'missing' };
    const outcome = evaluateAarq({
      aarq,
      initiate,
      clientSap: this.address.client,
      serverSap: this.address.server,
      association,
      secret: association ? associationSecret(association) : undefined,
      security: sec && keys ? { systemTitle: keys.systemTitle, policy: sec.policy() } : undefined,
      stoc:
        association?.mechanism === 'high-gmac'
          ? generateChallenge(this.options.challengeLength, this.options.rng)
          : Buffer.alloc(0),
      serverMaxReceivePduSize: this.device.maxReceivePduSize,
    });
    if (this.assoc.phase !== 'idle')
      this.emit({ kind: 'released', association: this.assoc.assoc.config.name });
    this.setState(outcome.state);
    let aare = outcome.aare;
    if (
      outcome.cipherResponseSc !== undefined &&
      sec &&
      keys &&
      aare.userInformation?.type === 'initiate-response'
    ) {
      const raw = cipherApdu(encodeApdu(aare.userInformation), {
        security: outcome.cipherResponseSc,
        ic: takeNextIc(sec.ownCounter),
        systemTitle: keys.systemTitle,
        ek: keys.ek,
        ak: keys.ak,
      });
      aare = { ...aare, userInformation: { type: 'ciphered', tag: raw[0]!, raw } };
    }
    if (outcome.state.phase === 'idle') {
      this.emit({ kind: 'rejected', reason: outcome.reason, diagnostic: aare.resultSourceDiagnostic.value });
    } else if (outcome.state.phase === 'associated') {
      this.emit({
        kind: 'associated',
        association: outcome.state.assoc.config.name,
        mechanism: outcome.state.assoc.mechanism,
      });
    }
    // response-allowed FALSE: the association is established without an AARE (Green Book).
    if (
      initiate.kind !== 'missing' &&
      initiate.kind !== 'undecipherable' &&
      !initiate.request.responseAllowed
    )
      return undefined;
    return aare;
  }

  private onRlrq(bytes: Buffer): Apdu {
    try {
      const a = decodeApdu(bytes, this.options.limits);
      if (a.type !== 'rlrq') throw new SimError(ErrorCode.DecodeInvalid, 'not an RLRQ');
    } catch {
      return exception('service-not-allowed', 'other');
    }
    const name = this.assoc.phase === 'idle' ? undefined : this.assoc.assoc.config.name;
    this.setState(released(this.assoc));
    this.emit({ kind: 'released', association: name });
    return { type: 'rlre', reason: 0 };
  }

  /** Association LN method 1 (docs/dlms.md §7 "HLS5 flow" steps 2-3). */
  replyToHlsAuthentication(response: Buffer): Promise<Buffer | undefined> {
    const s = this.assoc;
    if (s.phase !== 'pending') return Promise.resolve(undefined);
    const sec = this.securityOf(s.assoc);
    const clientTitle = s.assoc.clientSystemTitle;
    if (!sec || !clientTitle) {
      this.setState(afterHlsReply(s, false));
      return Promise.resolve(undefined);
    }
    if (s.assoc.config.lockedOut?.()) {
      this.emit({
        kind: 'hls-failed',
        association: s.assoc.config.name,
        error: new SimError(ErrorCode.SessionAuthFailed, 'HLS proof refused: the device is locked out', {
          reason: 'locked-out',
        }),
      });
      this.setState(afterHlsReply(s, false));
      return Promise.resolve(undefined);
    }
    const keys = sec.keys();
    try {
      verifyHlsGmacResponse({
        ek: keys.ek,
        ak: keys.ak,
        response,
        challenge: s.stoc,
        peerSystemTitle: clientTitle,
        // Modelled: the IC inside f(StoC) is not checked against the ciphering counters. The
        // request carrying f() may itself be ciphered under a later IC (checked first), and the
        // fresh StoC already makes a replayed f() useless.
        counter: { getLastIc: () => undefined, setLastIc: () => undefined },
      });
    } catch (e) {
      this.emit({
        kind: 'hls-failed',
        association: s.assoc.config.name,
        error: toSimError(e, ErrorCode.SessionAuthFailed),
      });
      this.setState(afterHlsReply(s, false));
      return Promise.resolve(undefined);
    }
    const reply = hlsGmacResponse({
      ek: keys.ek,
      ak: keys.ak,
      challenge: s.ctos,
      systemTitle: keys.systemTitle,
      ic: takeNextIc(sec.ownCounter),
    });
    this.setState(afterHlsReply(s, true));
    this.emit({ kind: 'associated', association: s.assoc.config.name, mechanism: s.assoc.mechanism });
    return Promise.resolve(reply);
  }
}
