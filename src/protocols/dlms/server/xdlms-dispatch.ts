import { ByteWriter } from '../../../core/bytes';
import type { Apdu } from '../apdu/apdu';
import {
  continueGetTransfer,
  maxChunkSize,
  startGetTransfer,
  startSetReassembly,
  stepSetReassembly,
  type GetTransferState,
  type SetReassemblyState,
  type SetReassemblyStep,
} from '../apdu/block-transfer';
import type { ConformanceName } from '../apdu/conformance';
import {
  ActionResult,
  DataAccessResult,
  ExceptionServiceError,
  ExceptionStateError,
} from '../apdu/result-codes';
import type { ActionRequest, ActionResponseNormal } from '../apdu/xdlms-action';
import { writeGetDataResult, type GetDataResult, type InvokeIdAndPriority } from '../apdu/xdlms-common';
import type { ExceptionResponse } from '../apdu/xdlms-exception';
import type { GetRequest, GetResponse } from '../apdu/xdlms-get';
import type { SetRequest, SetResponse } from '../apdu/xdlms-set';
import { encodeData } from '../axdr/data-codec';
import { writeLength } from '../axdr/length';
import type { AxdrLimits } from '../axdr/limits';
import type { Data } from '../axdr/types';
import { ClassId } from '../cosem/class-catalog';
import type { CosemContext } from '../cosem/context';
import type { CosemRegistry } from '../cosem/object-registry';
import { parseObis } from '../apdu/obis';
import { CURRENT_ASSOCIATION_OBIS } from './config';

/**
 * GET / SET / ACTION service dispatch for one associated client (docs/dlms.md §4.2). Object and
 * access decisions belong to the registry; this module checks the negotiated conformance, the
 * association phase, and PDU sizes (block transfer for long GET answers, datablocks for long
 * SETs via ../apdu/block-transfer.ts).
 */

export interface DispatchContext {
  readonly registry: CosemRegistry;
  readonly conformance: ReadonlySet<ConformanceName>;
  /** HLS pass 3 outstanding: only reply_to_HLS_authentication is served. */
  readonly pending: boolean;
  readonly base: Omit<CosemContext, 'access'>;
  /** Largest plaintext response the client can receive (its max PDU less ciphering overhead). */
  readonly limit: number;
  readonly limits: Partial<AxdrLimits> | undefined;
  /** Called when a value from a callback cannot be encoded. */
  readonly onFault: (error: unknown, where: string) => void;
}

/** Long GET / SET in progress on this association (owned by the session). */
export interface TransferSlots {
  get: GetTransferState | undefined;
  set: SetReassemblyState | undefined;
}

export function exception(
  state: keyof typeof ExceptionStateError,
  service: Exclude<keyof typeof ExceptionServiceError, 'invocation-counter-error'>,
): ExceptionResponse {
  return {
    type: 'exception-response',
    stateError: ExceptionStateError[state],
    serviceError: ExceptionServiceError[service],
  };
}

/** A service the association did not negotiate (modelled exception values). */
const NOT_NEGOTIATED = exception('service-not-allowed', 'not-supported');
const DENIED = DataAccessResult['read-write-denied'];
const CURRENT_ASSOCIATION = parseObis(CURRENT_ASSOCIATION_OBIS);

function getNormal(invoke: InvokeIdAndPriority, result: GetDataResult): GetResponse {
  return { type: 'get-response-normal', invoke, result };
}

function respondData(
  d: DispatchContext,
  t: TransferSlots,
  invoke: InvokeIdAndPriority,
  data: Data,
): GetResponse {
  try {
    if (d.conformance.has('block-transfer-with-get-or-read')) {
      const step = startGetTransfer(invoke, data, d.limit);
      t.get = step.state;
      return step.response;
    }
    // Modelled: without block transfer an answer too long for the client is refused as "other".
    const size = 4 + encodeData(data).length;
    return size <= d.limit
      ? getNormal(invoke, { kind: 'data', data })
      : getNormal(invoke, { kind: 'dar', dar: DataAccessResult.other });
  } catch (e) {
    d.onFault(e, 'get: encode');
    return getNormal(invoke, { kind: 'dar', dar: DataAccessResult.other });
  }
}

function respondList(
  d: DispatchContext,
  t: TransferSlots,
  invoke: InvokeIdAndPriority,
  results: GetDataResult[],
): GetResponse {
  const w = new ByteWriter(64);
  try {
    writeLength(w, results.length);
    results.forEach((r, i) => writeGetDataResult(w, r, `results[${i}]`));
  } catch (e) {
    d.onFault(e, 'get-with-list: encode');
    return {
      type: 'get-response-with-list',
      invoke,
      results: results.map(() => ({ kind: 'dar', dar: DataAccessResult.other })),
    };
  }
  const raw = w.toBuffer();
  if (3 + raw.length <= d.limit) return { type: 'get-response-with-list', invoke, results };
  if (!d.conformance.has('block-transfer-with-get-or-read')) {
    return {
      type: 'get-response-with-list',
      invoke,
      results: results.map(() => ({ kind: 'dar', dar: DataAccessResult.other })),
    };
  }
  // raw-data of a long with-list answer is the encoded SEQUENCE OF Get-Data-Result (modelled).
  const start: GetTransferState = { invoke, data: raw, chunk: maxChunkSize(d.limit, 9), lastSent: 0 };
  const step = continueGetTransfer(start, { type: 'get-request-next', invoke, blockNumber: 0 });
  t.get = step.state;
  return step.response;
}

export async function serveGet(req: GetRequest, d: DispatchContext, t: TransferSlots): Promise<Apdu> {
  switch (req.type) {
    case 'get-request-normal': {
      if (!d.conformance.has('get')) return NOT_NEGOTIATED;
      if (req.access && !d.conformance.has('selective-access')) return NOT_NEGOTIATED;
      t.get = undefined;
      if (d.pending) return getNormal(req.invoke, { kind: 'dar', dar: DENIED });
      const r = await d.registry.get(req.attribute, req.access, d.base);
      return r.kind === 'dar' ? getNormal(req.invoke, r) : respondData(d, t, req.invoke, r.data);
    }
    case 'get-request-next': {
      if (!d.conformance.has('block-transfer-with-get-or-read')) return NOT_NEGOTIATED;
      const step = continueGetTransfer(t.get, req);
      t.get = step.state;
      return step.response;
    }
    case 'get-request-with-list': {
      if (!d.conformance.has('get') || !d.conformance.has('multiple-references')) return NOT_NEGOTIATED;
      if (req.attributes.some((a) => a.access) && !d.conformance.has('selective-access'))
        return NOT_NEGOTIATED;
      t.get = undefined;
      const results: GetDataResult[] = [];
      for (const a of req.attributes) {
        results.push(
          d.pending ? { kind: 'dar', dar: DENIED } : await d.registry.get(a.attribute, a.access, d.base),
        );
      }
      return respondList(d, t, req.invoke, results);
    }
  }
}

async function finishSetStep(
  step: SetReassemblyStep,
  d: DispatchContext,
  t: TransferSlots,
): Promise<SetResponse> {
  if (step.kind === 'ack') {
    t.set = step.state;
    return step.response;
  }
  t.set = undefined;
  if (step.kind === 'failed') return step.response;
  const result = await d.registry.set(step.attribute, step.access, step.value, d.base);
  return { type: 'set-response-last-datablock', invoke: step.invoke, result, blockNumber: step.blockNumber };
}

/** Resolves undefined for an unconfirmed SET (executed, never answered). */
export async function serveSet(
  req: SetRequest,
  d: DispatchContext,
  t: TransferSlots,
): Promise<Apdu | undefined> {
  const response = await setResponse(req, d, t);
  return req.invoke.confirmed ? response : undefined;
}

async function setResponse(req: SetRequest, d: DispatchContext, t: TransferSlots): Promise<Apdu> {
  if (!d.conformance.has('set')) return NOT_NEGOTIATED;
  if (d.pending) return { type: 'set-response-normal', invoke: req.invoke, result: DENIED };
  switch (req.type) {
    case 'set-request-normal':
      if (req.access && !d.conformance.has('selective-access')) return NOT_NEGOTIATED;
      return {
        type: 'set-response-normal',
        invoke: req.invoke,
        result: await d.registry.set(req.attribute, req.access, req.value, d.base),
      };
    case 'set-request-with-first-datablock':
      if (!d.conformance.has('block-transfer-with-set-or-write')) return NOT_NEGOTIATED;
      t.set = undefined;
      return finishSetStep(startSetReassembly(req, d.limits), d, t);
    case 'set-request-with-datablock':
      if (!d.conformance.has('block-transfer-with-set-or-write')) return NOT_NEGOTIATED;
      return finishSetStep(stepSetReassembly(t.set, req, d.limits), d, t);
    case 'set-request-with-list': {
      if (!d.conformance.has('multiple-references')) return NOT_NEGOTIATED;
      // Modelled: a list whose values do not pair up with its attributes is malformed.
      if (req.values.length !== req.attributes.length) return exception('service-not-allowed', 'other');
      const results: number[] = [];
      for (let i = 0; i < req.attributes.length; i++) {
        const a = req.attributes[i]!;
        results.push(await d.registry.set(a.attribute, a.access, req.values[i]!, d.base));
      }
      return { type: 'set-response-with-list', invoke: req.invoke, results };
    }
    case 'set-request-with-list-and-first-datablock':
      return exception('service-not-allowed', 'not-supported');
  }
}

function isHlsReply(req: ActionRequest): boolean {
  return (
    req.type === 'action-request-normal' &&
    req.method.classId === ClassId.AssociationLn &&
    req.method.methodId === 1 &&
    req.method.obis.equals(CURRENT_ASSOCIATION)
  );
}

/** Resolves undefined for an unconfirmed ACTION. Only Action-Request-Normal is served. */
export async function serveAction(req: ActionRequest, d: DispatchContext): Promise<Apdu | undefined> {
  if (!d.conformance.has('action')) return NOT_NEGOTIATED;
  if (req.type !== 'action-request-normal') return exception('service-not-allowed', 'not-supported');
  let response: ActionResponseNormal;
  if (d.pending && !isHlsReply(req)) {
    response = {
      type: 'action-response-normal',
      invoke: req.invoke,
      result: ActionResult['read-write-denied'],
    };
  } else {
    const outcome = await d.registry.action(req.method, req.parameters, d.base);
    response = { type: 'action-response-normal', invoke: req.invoke, ...outcome };
    const data = outcome.returnParameters?.kind === 'data' ? outcome.returnParameters.data : undefined;
    if (data !== undefined) {
      try {
        // Modelled: no action-response-with-pblock; a return value too long for the client is "other".
        if (6 + encodeData(data).length > d.limit)
          response = { type: 'action-response-normal', invoke: req.invoke, result: ActionResult.other };
      } catch (e) {
        d.onFault(e, 'action: encode');
        response = { type: 'action-response-normal', invoke: req.invoke, result: ActionResult.other };
      }
    }
  }
  return req.invoke.confirmed ? response : undefined;
}
