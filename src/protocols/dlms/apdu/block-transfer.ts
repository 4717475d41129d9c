import { ErrorCode, SimError, toSimError } from '../../../core/errors';
import { decodeData, encodeData } from '../axdr/data-codec';
import { lengthSize } from '../axdr/length';
import { resolveLimits, type AxdrLimits } from '../axdr/limits';
import type { Data } from '../axdr/types';
import { DataAccessResult, dataAccessResultName } from './result-codes';
import type { AttributeDescriptor, InvokeIdAndPriority, SelectiveAccess } from './xdlms-common';
import type { GetRequestNext, GetResponseNormal, GetResponseWithDatablock } from './xdlms-get';
import type {
  SetRequest,
  SetRequestNormal,
  SetRequestWithDatablock,
  SetRequestWithFirstDatablock,
  SetResponse,
  SetResponseDatablock,
  SetResponseLastDatablock,
} from './xdlms-set';

/**
 * Block transfer with GET and SET (docs/dlms.md §4.2, trace §8B): the encoded Data of one
 * attribute is cut into raw-data blocks numbered from 1; the receiver asks for / acknowledges
 * each block by number. All functions here are pure: they take a state and an APDU and return
 * the next state and the APDU to send; the session layer owns the wire and the timers.
 *
 * `maxPdu` is the peer's max receive PDU size (client-max-receive-pdu-size from the
 * InitiateRequest for responses; server-max-receive-pdu-size from the InitiateResponse for
 * requests). When ciphering, the caller subtracts the cipher overhead first.
 */

/** C4 02 inv last block(4) choice: the Get-Response-With-Datablock octets before the raw length. */
const GET_BLOCK_HEADER = 9;
/** C4 01 inv 00: a Get-Response-Normal before its Data. */
const GET_NORMAL_HEADER = 4;
/** C1 0x inv + attribute descriptor (9). */
const SET_REQUEST_HEADER = 12;
/** last(1) block(4) of DataBlock-SA. */
const DATABLOCK_SA_HEADER = 5;

/** Largest raw chunk such that header + A-XDR length + chunk fits in maxPdu. */
export function maxChunkSize(maxPdu: number, header: number): number {
  let n = maxPdu - header - 1;
  while (n > 0 && header + lengthSize(n) + n > maxPdu) n--;
  if (n <= 0) {
    throw new SimError(
      ErrorCode.EncodeTooLarge,
      `block transfer: max PDU ${maxPdu} leaves no room for data`,
      {
        maxPdu,
        header,
      },
    );
  }
  return n;
}

// ---------------------------------------------------------------------------------------------
// GET, server side

export interface GetTransferState {
  readonly invoke: InvokeIdAndPriority;
  /** The encoded Data being sent. */
  readonly data: Buffer;
  readonly chunk: number;
  /** Number of the last block sent. */
  readonly lastSent: number;
}

export interface GetTransferStep {
  readonly response: GetResponseNormal | GetResponseWithDatablock;
  /** undefined once the transfer is over (normal response, last block, or aborted). */
  readonly state: GetTransferState | undefined;
}

function nextGetBlock(s: GetTransferState, invoke: InvokeIdAndPriority): GetTransferStep {
  const blockNumber = s.lastSent + 1;
  const start = s.lastSent * s.chunk;
  const end = Math.min(start + s.chunk, s.data.length);
  const lastBlock = end >= s.data.length;
  return {
    response: {
      type: 'get-response-with-datablock',
      invoke,
      lastBlock,
      blockNumber,
      result: { kind: 'raw', raw: s.data.subarray(start, end) },
    },
    state: lastBlock ? undefined : { ...s, lastSent: blockNumber },
  };
}

/**
 * Answer a Get-Request-Normal: a Get-Response-Normal when it fits in maxPdu, otherwise the
 * first Get-Response-With-Datablock and the state to answer Get-Request-Next with.
 */
export function startGetTransfer(invoke: InvokeIdAndPriority, data: Data, maxPdu: number): GetTransferStep {
  const encoded = encodeData(data, 'GetResponse.result.data');
  if (GET_NORMAL_HEADER + encoded.length <= maxPdu) {
    return {
      response: { type: 'get-response-normal', invoke, result: { kind: 'data', data } },
      state: undefined,
    };
  }
  return nextGetBlock(
    { invoke, data: encoded, chunk: maxChunkSize(maxPdu, GET_BLOCK_HEADER), lastSent: 0 },
    invoke,
  );
}

function abortedGet(req: GetRequestNext, dar: number): GetTransferStep {
  return {
    response: {
      type: 'get-response-with-datablock',
      invoke: req.invoke,
      lastBlock: true,
      blockNumber: req.blockNumber,
      result: { kind: 'dar', dar },
    },
    state: undefined,
  };
}

/**
 * Answer a Get-Request-Next. The client names the last block it received; anything but the
 * block just sent aborts the transfer with data-block-number-invalid, and a Next with no
 * transfer in progress gets no-long-get (both DAR values from docs/dlms.md §4.2; answering them
 * in a last Get-Response-With-Datablock is a modelled choice).
 */
export function continueGetTransfer(
  state: GetTransferState | undefined,
  req: GetRequestNext,
): GetTransferStep {
  if (!state) return abortedGet(req, DataAccessResult['no-long-get']);
  if (req.blockNumber !== state.lastSent)
    return abortedGet(req, DataAccessResult['data-block-number-invalid']);
  return nextGetBlock(state, req.invoke);
}

// ---------------------------------------------------------------------------------------------
// GET, client side

export interface GetReassemblyState {
  readonly expectedBlock: number;
  readonly chunks: readonly Buffer[];
  readonly size: number;
}

export type GetReassemblyStep =
  | { readonly kind: 'next'; readonly state: GetReassemblyState; readonly request: GetRequestNext }
  | { readonly kind: 'complete'; readonly data: Data; readonly raw: Buffer }
  | { readonly kind: 'failed'; readonly error: SimError };

export function startGetReassembly(): GetReassemblyState {
  return { expectedBlock: 1, chunks: [], size: 0 };
}

/** Feed one Get-Response-With-Datablock; ask for the next block, or finish with the decoded Data. */
export function stepGetReassembly(
  state: GetReassemblyState,
  response: GetResponseWithDatablock,
  limits?: Partial<AxdrLimits>,
): GetReassemblyStep {
  const l = resolveLimits(limits);
  if (response.result.kind === 'dar') {
    const dar = response.result.dar;
    return {
      kind: 'failed',
      error: new SimError(
        ErrorCode.ServiceError,
        `GET block ${response.blockNumber}: ${dataAccessResultName(dar)}`,
        {
          dar,
          blockNumber: response.blockNumber,
        },
      ),
    };
  }
  if (response.blockNumber !== state.expectedBlock) {
    return {
      kind: 'failed',
      error: new SimError(
        ErrorCode.ServiceBadSequence,
        `GET block transfer: got block ${response.blockNumber}, expected ${state.expectedBlock}`,
        { blockNumber: response.blockNumber, expected: state.expectedBlock },
      ),
    };
  }
  const raw = response.result.raw;
  const size = state.size + raw.length;
  if (size > l.maxBytes) {
    return {
      kind: 'failed',
      error: new SimError(ErrorCode.DecodeTooLarge, `GET block transfer: more than ${l.maxBytes} bytes`, {
        size,
        maxBytes: l.maxBytes,
      }),
    };
  }
  const chunks = [...state.chunks, raw];
  if (!response.lastBlock) {
    return {
      kind: 'next',
      state: { expectedBlock: state.expectedBlock + 1, chunks, size },
      request: { type: 'get-request-next', invoke: response.invoke, blockNumber: response.blockNumber },
    };
  }
  const all = Buffer.concat(chunks, size);
  try {
    return { kind: 'complete', data: decodeData(all, l, 'GetResponse.data'), raw: all };
  } catch (e) {
    return { kind: 'failed', error: toSimError(e, ErrorCode.DecodeInvalid) };
  }
}

// ---------------------------------------------------------------------------------------------
// SET, client side

function accessSize(access: SelectiveAccess | undefined): number {
  return access === undefined ? 1 : 2 + encodeData(access.parameters, 'SetRequest.access.parameters').length;
}

/**
 * The Set requests to send, in order: one Set-Request-Normal when it fits in maxPdu, otherwise a
 * Set-Request-With-First-Datablock followed by Set-Request-With-Datablock blocks 2..n.
 */
export function splitSetRequest(
  invoke: InvokeIdAndPriority,
  attribute: AttributeDescriptor,
  access: SelectiveAccess | undefined,
  value: Data,
  maxPdu: number,
): [SetRequestNormal] | [SetRequestWithFirstDatablock, ...SetRequestWithDatablock[]] {
  const encoded = encodeData(value, 'SetRequest.value');
  const acc = accessSize(access);
  if (SET_REQUEST_HEADER + acc + encoded.length <= maxPdu) {
    return [{ type: 'set-request-normal', invoke, attribute, access, value }];
  }
  const firstChunk = maxChunkSize(maxPdu, SET_REQUEST_HEADER + acc + DATABLOCK_SA_HEADER);
  const chunk = maxChunkSize(maxPdu, 3 + DATABLOCK_SA_HEADER);
  const first: SetRequestWithFirstDatablock = {
    type: 'set-request-with-first-datablock',
    invoke,
    attribute,
    access,
    block: { lastBlock: firstChunk >= encoded.length, blockNumber: 1, raw: encoded.subarray(0, firstChunk) },
  };
  const rest: SetRequestWithDatablock[] = [];
  for (let at = firstChunk, n = 2; at < encoded.length; at += chunk, n++) {
    const end = Math.min(at + chunk, encoded.length);
    rest.push({
      type: 'set-request-with-datablock',
      invoke,
      block: { lastBlock: end >= encoded.length, blockNumber: n, raw: encoded.subarray(at, end) },
    });
  }
  return [first, ...rest];
}

export type SetAckCheck =
  | { readonly kind: 'continue' }
  | { readonly kind: 'done'; readonly result: number }
  | { readonly kind: 'failed'; readonly error: SimError };

/** Check the server's answer to one Set request sent from splitSetRequest. */
export function checkSetResponse(sent: SetRequest, response: SetResponse): SetAckCheck {
  if (sent.type === 'set-request-normal') {
    if (response.type === 'set-response-normal') return { kind: 'done', result: response.result };
  } else if (sent.type === 'set-request-with-first-datablock' || sent.type === 'set-request-with-datablock') {
    const n = sent.block.blockNumber;
    if (!sent.block.lastBlock && response.type === 'set-response-datablock' && response.blockNumber === n) {
      return { kind: 'continue' };
    }
    if (response.type === 'set-response-last-datablock' && (sent.block.lastBlock || response.result !== 0)) {
      // A last-datablock answer before the last block is the server aborting with a DAR.
      return { kind: 'done', result: response.result };
    }
  }
  return {
    kind: 'failed',
    error: new SimError(
      ErrorCode.ServiceInvalidResponse,
      `SET: unexpected ${response.type} to ${sent.type}`,
      {
        sent: sent.type,
        received: response.type,
      },
    ),
  };
}

// ---------------------------------------------------------------------------------------------
// SET, server side

export interface SetReassemblyState {
  readonly invoke: InvokeIdAndPriority;
  readonly attribute: AttributeDescriptor;
  readonly access?: SelectiveAccess | undefined;
  readonly lastReceived: number;
  readonly chunks: readonly Buffer[];
  readonly size: number;
}

export type SetReassemblyStep =
  /** More blocks to come: send `response` (Set-Response-Datablock) and keep `state`. */
  | { readonly kind: 'ack'; readonly state: SetReassemblyState; readonly response: SetResponseDatablock }
  /** All blocks in: apply `value`, then answer Set-Response-Last-Datablock with its result and `blockNumber`. */
  | {
      readonly kind: 'complete';
      readonly invoke: InvokeIdAndPriority;
      readonly attribute: AttributeDescriptor;
      readonly access?: SelectiveAccess | undefined;
      readonly value: Data;
      readonly blockNumber: number;
    }
  /** Transfer aborted: send `response` and drop the state. */
  | { readonly kind: 'failed'; readonly response: SetResponseLastDatablock; readonly error: SimError };

function setFailed(
  invoke: InvokeIdAndPriority,
  blockNumber: number,
  dar: number,
  error: SimError,
): SetReassemblyStep {
  return {
    kind: 'failed',
    response: { type: 'set-response-last-datablock', invoke, result: dar, blockNumber },
    error,
  };
}

function setAccept(
  s: SetReassemblyState,
  invoke: InvokeIdAndPriority,
  block: { lastBlock: boolean; blockNumber: number; raw: Buffer },
  l: AxdrLimits,
): SetReassemblyStep {
  const size = s.size + block.raw.length;
  if (size > l.maxBytes) {
    // Modelled DAR: the server gives up on an over-long set.
    return setFailed(
      invoke,
      block.blockNumber,
      DataAccessResult['long-set-aborted'],
      new SimError(ErrorCode.DecodeTooLarge, `SET block transfer: more than ${l.maxBytes} bytes`, { size }),
    );
  }
  const chunks = [...s.chunks, block.raw];
  if (!block.lastBlock) {
    return {
      kind: 'ack',
      state: { ...s, lastReceived: block.blockNumber, chunks, size },
      response: { type: 'set-response-datablock', invoke, blockNumber: block.blockNumber },
    };
  }
  try {
    const value = decodeData(Buffer.concat(chunks, size), l, 'SetRequest.value');
    return {
      kind: 'complete',
      invoke,
      attribute: s.attribute,
      access: s.access,
      value,
      blockNumber: block.blockNumber,
    };
  } catch (e) {
    // Modelled DAR: reassembled bytes that are not one valid Data are a type mismatch.
    return setFailed(
      invoke,
      block.blockNumber,
      DataAccessResult['type-unmatched'],
      toSimError(e, ErrorCode.DecodeInvalid),
    );
  }
}

export function startSetReassembly(
  req: SetRequestWithFirstDatablock,
  limits?: Partial<AxdrLimits>,
): SetReassemblyStep {
  const empty: SetReassemblyState = {
    invoke: req.invoke,
    attribute: req.attribute,
    access: req.access,
    lastReceived: 0,
    chunks: [],
    size: 0,
  };
  return stepSetBlock(empty, req.invoke, req.block, resolveLimits(limits));
}

export function stepSetReassembly(
  state: SetReassemblyState | undefined,
  req: SetRequestWithDatablock,
  limits?: Partial<AxdrLimits>,
): SetReassemblyStep {
  if (!state) {
    return setFailed(
      req.invoke,
      req.block.blockNumber,
      DataAccessResult['no-long-set'],
      new SimError(ErrorCode.ServiceBadSequence, 'SET datablock with no transfer in progress', {
        blockNumber: req.block.blockNumber,
      }),
    );
  }
  return stepSetBlock(state, req.invoke, req.block, resolveLimits(limits));
}

function stepSetBlock(
  s: SetReassemblyState,
  invoke: InvokeIdAndPriority,
  block: { lastBlock: boolean; blockNumber: number; raw: Buffer },
  l: AxdrLimits,
): SetReassemblyStep {
  if (block.blockNumber !== s.lastReceived + 1) {
    return setFailed(
      invoke,
      block.blockNumber,
      DataAccessResult['data-block-number-invalid'],
      new SimError(
        ErrorCode.ServiceBadSequence,
        `SET block transfer: got block ${block.blockNumber}, expected ${s.lastReceived + 1}`,
        { blockNumber: block.blockNumber, expected: s.lastReceived + 1 },
      ),
    );
  }
  return setAccept(s, invoke, block, l);
}
