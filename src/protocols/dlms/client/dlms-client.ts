import { ByteReader } from '../../../core/bytes';
import { systemClock, type Clock } from '../../../core/clock';
import { ErrorCode, SimError, toSimError } from '../../../core/errors';
import { decodeApdu, encodeApdu, type Apdu } from '../apdu/apdu';
import {
  checkSetResponse,
  splitSetRequest,
  startGetReassembly,
  stepGetReassembly,
} from '../apdu/block-transfer';
import type { ConformanceName } from '../apdu/conformance';
import { parseObis } from '../apdu/obis';
import {
  readGetDataResult,
  type AttributeDescriptor,
  type GetDataResult,
  type InvokeIdAndPriority,
  type SelectiveAccess,
} from '../apdu/xdlms-common';
import type { GetResponse, GetResponseWithDatablock } from '../apdu/xdlms-get';
import type { InitiateResponse } from '../apdu/xdlms-initiate';
import { axdr } from '../axdr/builders';
import { readLength } from '../axdr/length';
import { DecodeBudget, resolveLimits, type AxdrLimits } from '../axdr/limits';
import type { Data } from '../axdr/types';
import { decodeObjectList, type ObjectListEntry } from '../cosem/object-list';
import { cipherApdu, decipherApdu } from '../security/apdu-cipher';
import { isCipheredTag } from '../security/ciphered-tags';
import { generateChallenge, hlsGmacResponse, verifyHlsGmacResponse } from '../security/hls-gmac';
import { takeNextIc } from '../security/invocation-counter';
import type { LinkAddress } from '../link/types';
import type { ApduChannel, ApduClientChannel } from '../server/apdu-channel';
import {
  buildAarq,
  checkAare,
  resolveClientCrypto,
  type AssociateOptions,
  type ClientCrypto,
} from './client-association';
import { actionError, darError, exceptionError, type ObjectRef } from './client-errors';

/**
 * The interrogator's DLMS application layer over an APDU channel (docs/dlms.md §4): associate
 * (none / LLS / HLS-GMAC, optionally ciphered), GET with automatic block-transfer reassembly,
 * GET-with-list, SET (with datablocks when the value is too long for the server), ACTION,
 * object_list, release. One request at a time; answers are matched by invoke id. Results are
 * typed A-XDR values; any result other than success is a SimError carrying the wire code.
 */

/** An attribute or method: class id, logical name (text or 6 octets) and index. */
export interface CosemRef {
  readonly classId: number;
  readonly obis: string | Uint8Array;
  readonly index: number;
}

export type ListItemResult =
  { readonly ok: true; readonly data: Data } | { readonly ok: false; readonly error: SimError };

export interface DlmsClientOptions {
  /** Defaults to the channel's own address (HDLC client link, mem pair). */
  readonly address?: LinkAddress;
  readonly clock?: Clock;
  /** How long to wait for each answer (default 30 s). */
  readonly timeoutMs?: number;
  readonly limits?: Partial<AxdrLimits>;
}

export interface ClientAssociation {
  readonly conformance: ReadonlySet<ConformanceName>;
  readonly serverMaxReceivePduSize: number;
  readonly serverSystemTitle: Buffer | undefined;
  readonly mechanism: string;
  readonly ciphered: boolean;
}

interface Waiter {
  resolve(apdu: Apdu): void;
  reject(e: SimError): void;
}

const CURRENT_ASSOCIATION = parseObis('0-0:40.0.0.255');

function toRef(r: CosemRef): ObjectRef {
  return {
    classId: r.classId,
    obis: typeof r.obis === 'string' ? parseObis(r.obis) : Buffer.from(r.obis),
    index: r.index,
  };
}

export class DlmsClient {
  private readonly address: LinkAddress;
  private readonly clock: Clock;
  private readonly timeoutMs: number;
  private waiter: Waiter | undefined;
  private lock: Promise<unknown> = Promise.resolve();
  private invokeId = 0;
  private crypto: ClientCrypto | undefined;
  private cipherRequests = false;
  private negotiated: ClientAssociation | undefined;
  private closedError: SimError | undefined;

  constructor(
    private readonly channel: ApduChannel,
    private readonly options: DlmsClientOptions = {},
  ) {
    const address = options.address ?? (channel as Partial<ApduClientChannel>).address;
    if (!address) throw new SimError(ErrorCode.ConfigInvalid, 'DlmsClient needs a link address');
    this.address = address;
    this.clock = options.clock ?? systemClock;
    this.timeoutMs = options.timeoutMs ?? 30_000;
    channel.on('apdu', ((apdu: Buffer, addr: LinkAddress) => this.receive(apdu, addr)) as (
      ...a: unknown[]
    ) => void);
    channel.on('close', (e) => {
      this.closedError = toSimError(
        e ?? new SimError(ErrorCode.LinkDisconnected, 'link closed'),
        ErrorCode.LinkDisconnected,
      );
      this.negotiated = undefined;
      this.waiter?.reject(this.closedError);
      this.waiter = undefined;
    });
  }

  /** The negotiated association, while associated. */
  get association(): ClientAssociation | undefined {
    return this.negotiated;
  }

  private receive(bytes: Buffer, addr: LinkAddress): void {
    if (addr.client !== this.address.client || addr.server !== this.address.server) return;
    const w = this.waiter;
    if (!w) return;
    try {
      let plain = bytes;
      if (bytes.length > 0 && isCipheredTag(bytes[0]!)) {
        const c = this.crypto;
        if (!c?.serverSystemTitle)
          throw new SimError(ErrorCode.SessionKeyMissing, 'ciphered answer but no server keys');
        plain = decipherApdu(bytes, {
          peerSystemTitle: c.serverSystemTitle,
          keys: { ek: c.ek, ak: c.ak, dedicatedKey: c.dedicatedKey },
          accept: () => true,
          counters: c.peerCounters,
        }).plaintext;
      }
      w.resolve(decodeApdu(plain, this.options.limits));
    } catch (e) {
      w.reject(toSimError(e, ErrorCode.ServiceInvalidResponse));
    }
  }

  private nextInvoke(): InvokeIdAndPriority {
    this.invokeId = (this.invokeId + 1) & 0x0f;
    return { invokeId: this.invokeId, confirmed: true, highPriority: true };
  }

  /** Serialise whole operations (a GET with its blocks is one operation). */
  private exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.lock.then(fn, fn);
    this.lock = run.catch(() => undefined);
    return run;
  }

  /** Send one APDU and wait for the answer with the same invoke id (or an exception-response). */
  private async exchange(request: Apdu): Promise<Apdu> {
    if (this.closedError) throw this.closedError;
    let bytes = encodeApdu(request);
    const xdlms = request.type !== 'aarq' && request.type !== 'rlrq';
    const c = this.crypto;
    if (xdlms && this.cipherRequests && c) {
      const dedicated = c.form === 'ded' || c.form === 'general-ded';
      bytes = cipherApdu(bytes, {
        security: c.sc,
        ic: takeNextIc(c.counter),
        systemTitle: c.systemTitle,
        ek: dedicated && c.dedicatedKey ? c.dedicatedKey : c.ek,
        ak: c.ak,
        form: c.form,
      });
    }
    const wanted = 'invoke' in request ? request.invoke.invokeId : undefined;
    return new Promise<Apdu>((resolve, reject) => {
      const timer = this.clock.setTimeout(() => {
        this.waiter = undefined;
        reject(
          new SimError(ErrorCode.LinkTimeout, `no answer to ${request.type} within ${this.timeoutMs} ms`),
        );
      }, this.timeoutMs);
      this.waiter = {
        resolve: (apdu) => {
          // A stale answer to an earlier invoke id is ignored; keep waiting.
          if (wanted !== undefined && 'invoke' in apdu && apdu.invoke.invokeId !== wanted) return;
          this.clock.clearTimeout(timer);
          this.waiter = undefined;
          resolve(apdu);
        },
        reject: (e) => {
          this.clock.clearTimeout(timer);
          this.waiter = undefined;
          reject(e);
        },
      };
      this.channel
        .send(bytes, this.address)
        .catch((e: unknown) => this.waiter?.reject(toSimError(e, ErrorCode.LinkDisconnected)));
    });
  }

  private unexpected(apdu: Apdu, wanted: string): SimError {
    if (apdu.type === 'exception-response') return exceptionError(apdu);
    return new SimError(ErrorCode.ServiceInvalidResponse, `expected ${wanted}, got ${apdu.type}`, {
      received: apdu.type,
    });
  }

  /** Open an application association. Throws SessionAuthFailed / SessionAssociationRejected on refusal. */
  associate(options: AssociateOptions = {}): Promise<ClientAssociation> {
    return this.exclusive(async () => {
      const mechanism = options.mechanism ?? 'none';
      this.negotiated = undefined;
      this.cipherRequests = false;
      this.crypto = options.security ? await resolveClientCrypto(options.security) : undefined;
      if (mechanism === 'high-gmac' && !this.crypto) {
        throw new SimError(ErrorCode.SessionKeyMissing, 'HLS-GMAC needs security keys and a system title');
      }
      const ctos =
        mechanism === 'high-gmac' ? Buffer.from(options.challenge ?? generateChallenge()) : undefined;
      const aarq = buildAarq(options, this.crypto, ctos);
      const answer = await this.exchange(aarq);
      if (answer.type !== 'aare') throw this.unexpected(answer, 'AARE');
      if (this.crypto && answer.respondingApTitle && !this.crypto.serverSystemTitle) {
        this.crypto.serverSystemTitle = answer.respondingApTitle;
      }
      const initiate: InitiateResponse = checkAare(answer, this.crypto);
      const ciphered =
        aarq.applicationContextName === 'LN-ciphered' && (options.cipher ?? true) && !!this.crypto;
      this.cipherRequests = ciphered;
      const assoc: ClientAssociation = {
        conformance: initiate.negotiatedConformance,
        serverMaxReceivePduSize: initiate.serverMaxReceivePduSize,
        serverSystemTitle: this.crypto?.serverSystemTitle,
        mechanism,
        ciphered,
      };
      if (answer.resultSourceDiagnostic.value === 14) {
        await this.completeHls(answer.respondingAuthenticationValue?.value, ctos!);
      }
      this.negotiated = assoc;
      return assoc;
    });
  }

  /** HLS pass 3/4 (docs/dlms.md §7 "HLS5 flow"). */
  private async completeHls(stoc: Buffer | undefined, ctos: Buffer): Promise<void> {
    const c = this.crypto!;
    const fail = (message: string, cause?: unknown): SimError =>
      new SimError(ErrorCode.SessionAuthFailed, `HLS-GMAC: ${message}`, { reason: 'hls' }, { cause });
    if (!stoc) throw fail('the AARE carries no StoC challenge');
    if (!c.serverSystemTitle) throw fail('the server system title is unknown');
    const f = hlsGmacResponse({
      ek: c.ek,
      ak: c.ak,
      challenge: stoc,
      systemTitle: c.systemTitle,
      ic: takeNextIc(c.counter),
    });
    const answer = await this.exchange({
      type: 'action-request-normal',
      invoke: this.nextInvoke(),
      method: { classId: 15, obis: CURRENT_ASSOCIATION, methodId: 1 },
      parameters: axdr.octets(f),
    });
    if (answer.type !== 'action-response-normal') throw this.unexpected(answer, 'action-response-normal');
    if (answer.result !== 0) throw fail('the server refused f(StoC)', actionError(answer.result));
    const r = answer.returnParameters;
    if (r?.kind !== 'data' || r.data.type !== 'octet-string') throw fail('the server returned no f(CtoS)');
    try {
      verifyHlsGmacResponse({
        ek: c.ek,
        ak: c.ak,
        response: r.data.value,
        challenge: ctos,
        peerSystemTitle: c.serverSystemTitle,
        // Modelled like the server: the fresh CtoS, not the IC inside f(), prevents replay.
        counter: { getLastIc: () => undefined, setLastIc: () => undefined },
      });
    } catch (e) {
      throw fail('f(CtoS) does not verify: the server does not hold the shared keys', e);
    }
  }

  private requireAssociation(): ClientAssociation {
    if (!this.negotiated) throw new SimError(ErrorCode.SessionNotOpen, 'not associated');
    return this.negotiated;
  }

  /** Largest request the server takes, less ciphering overhead. */
  private requestLimit(a: ClientAssociation): number {
    return a.serverMaxReceivePduSize - (this.cipherRequests ? 30 : 0);
  }

  private descriptor(r: CosemRef): AttributeDescriptor {
    const ref = toRef(r);
    return { classId: ref.classId, obis: ref.obis, attributeId: ref.index };
  }

  /** GET one attribute, reassembling block transfer. */
  get(ref: CosemRef, access?: SelectiveAccess): Promise<Data> {
    return this.exclusive(async () => {
      this.requireAssociation();
      const answer = await this.exchange({
        type: 'get-request-normal',
        invoke: this.nextInvoke(),
        attribute: this.descriptor(ref),
        access,
      });
      if (answer.type === 'get-response-normal') {
        if (answer.result.kind === 'dar') throw darError(answer.result.dar, 'get', toRef(ref));
        return answer.result.data;
      }
      if (answer.type === 'get-response-with-datablock') return this.reassemble(answer, toRef(ref));
      throw this.unexpected(answer, 'get-response');
    });
  }

  private async reassemble(first: GetResponseWithDatablock, ref: ObjectRef): Promise<Data> {
    let state = startGetReassembly();
    let response: GetResponse = first;
    for (;;) {
      if (response.type !== 'get-response-with-datablock')
        throw this.unexpected(response, 'get-response-with-datablock');
      if (response.result.kind === 'dar') throw darError(response.result.dar, 'get', ref);
      const step = stepGetReassembly(state, response, this.options.limits);
      if (step.kind === 'complete') return step.data;
      if (step.kind === 'failed') throw step.error;
      state = step.state;
      const next = await this.exchange(step.request);
      if (next.type !== 'get-response-with-datablock')
        throw this.unexpected(next, 'get-response-with-datablock');
      response = next;
    }
  }

  /** GET several attributes in one request; each item is a value or the error its DAR means. */
  getWithList(
    refs: ReadonlyArray<CosemRef | { ref: CosemRef; access?: SelectiveAccess }>,
  ): Promise<ListItemResult[]> {
    return this.exclusive(async () => {
      this.requireAssociation();
      const items = refs.map((r) => ('ref' in r ? r : { ref: r, access: undefined }));
      const answer = await this.exchange({
        type: 'get-request-with-list',
        invoke: this.nextInvoke(),
        attributes: items.map((i) => ({ attribute: this.descriptor(i.ref), access: i.access })),
      });
      let results: readonly GetDataResult[];
      if (answer.type === 'get-response-with-list') results = answer.results;
      else if (answer.type === 'get-response-with-datablock') results = await this.reassembleList(answer);
      else throw this.unexpected(answer, 'get-response-with-list');
      if (results.length !== items.length) {
        throw new SimError(
          ErrorCode.ServiceInvalidResponse,
          `asked for ${items.length} values, got ${results.length}`,
        );
      }
      return results.map((r, i) =>
        r.kind === 'data'
          ? { ok: true, data: r.data }
          : { ok: false, error: darError(r.dar, 'get', toRef(items[i]!.ref)) },
      );
    });
  }

  /** A long with-list answer: raw blocks holding the encoded SEQUENCE OF Get-Data-Result. */
  private async reassembleList(first: GetResponseWithDatablock): Promise<GetDataResult[]> {
    const limits = resolveLimits(this.options.limits);
    const parts: Buffer[] = [];
    let size = 0;
    let response: Apdu = first;
    for (let expected = 1; ; expected++) {
      if (response.type !== 'get-response-with-datablock')
        throw this.unexpected(response, 'get-response-with-datablock');
      if (response.result.kind === 'dar') throw darError(response.result.dar, 'get');
      if (response.blockNumber !== expected) {
        throw new SimError(
          ErrorCode.ServiceBadSequence,
          `got block ${response.blockNumber}, expected ${expected}`,
        );
      }
      parts.push(response.result.raw);
      size += response.result.raw.length;
      if (size > limits.maxBytes)
        throw new SimError(ErrorCode.DecodeTooLarge, `list answer over ${limits.maxBytes} bytes`);
      if (response.lastBlock) break;
      response = await this.exchange({
        type: 'get-request-next',
        invoke: response.invoke,
        blockNumber: response.blockNumber,
      });
    }
    const r = new ByteReader(Buffer.concat(parts, size), 'GetResponseWithList');
    const budget = new DecodeBudget(limits);
    const n = readLength(r, 'results');
    budget.checkCount(r, 'results', n, 2);
    const out: GetDataResult[] = [];
    for (let i = 0; i < n; i++) out.push(readGetDataResult(r, budget, `results[${i}]`));
    r.expectEnd();
    return out;
  }

  /** SET one attribute; long values go in datablocks when the association allows it. */
  set(ref: CosemRef, value: Data, access?: SelectiveAccess): Promise<void> {
    return this.exclusive(async () => {
      const a = this.requireAssociation();
      const invoke = this.nextInvoke();
      const blocks = a.conformance.has('block-transfer-with-set-or-write');
      const requests = splitSetRequest(
        invoke,
        this.descriptor(ref),
        access,
        value,
        blocks ? this.requestLimit(a) : Number.MAX_SAFE_INTEGER,
      );
      for (const req of requests) {
        const answer = await this.exchange(req);
        if (
          answer.type !== 'set-response-normal' &&
          answer.type !== 'set-response-datablock' &&
          answer.type !== 'set-response-last-datablock'
        ) {
          throw this.unexpected(answer, 'set-response');
        }
        const check = checkSetResponse(req, answer);
        if (check.kind === 'failed') throw check.error;
        if (check.kind === 'done') {
          if (check.result !== 0) throw darError(check.result, 'set', toRef(ref));
          return;
        }
      }
      throw new SimError(ErrorCode.ServiceInvalidResponse, 'SET: the server never confirmed the last block');
    });
  }

  /** Invoke a method; resolves its return value, if any. */
  action(ref: CosemRef, parameters?: Data): Promise<Data | undefined> {
    return this.exclusive(async () => {
      this.requireAssociation();
      const r = toRef(ref);
      const answer = await this.exchange({
        type: 'action-request-normal',
        invoke: this.nextInvoke(),
        method: { classId: r.classId, obis: r.obis, methodId: r.index },
        parameters,
      });
      if (answer.type !== 'action-response-normal') throw this.unexpected(answer, 'action-response-normal');
      if (answer.result !== 0) throw actionError(answer.result, r);
      const ret = answer.returnParameters;
      if (ret === undefined) return undefined;
      if (ret.kind === 'dar') throw darError(ret.dar, 'get', r);
      return ret.data;
    });
  }

  /** Association LN object_list of the current association, decoded. */
  async readObjectList(): Promise<ObjectListEntry[]> {
    return decodeObjectList(await this.get({ classId: 15, obis: CURRENT_ASSOCIATION, index: 2 }));
  }

  /** RLRQ / RLRE. The association is over whatever the answer. */
  release(): Promise<void> {
    return this.exclusive(async () => {
      if (!this.negotiated) return;
      this.negotiated = undefined;
      const answer = await this.exchange({ type: 'rlrq', reason: 0 });
      this.cipherRequests = false;
      if (answer.type !== 'rlre') throw this.unexpected(answer, 'RLRE');
    });
  }
}
