import type { ByteReader, ByteWriter } from '../../../core/bytes';
import { readData, writeData } from '../axdr/data-codec';
import { encodeError, type DecodeBudget } from '../axdr/limits';
import type { Data } from '../axdr/types';
import { checkU32, checkU8 } from './checks';
import {
  invokeByte,
  readDataBlockSA,
  readGetDataResult,
  readInvoke,
  readList,
  readMethodDescriptor,
  readPresence,
  writeDataBlockSA,
  writeGetDataResult,
  writeList,
  writeMethodDescriptor,
  type DataBlockSA,
  type GetDataResult,
  type InvokeIdAndPriority,
  type MethodDescriptor,
} from './xdlms-common';

/**
 * ACTION service, LN referencing (docs/dlms.md §4.2, §7; U9N `tests/test_xdlms/test_action.py`):
 *
 *   Action-Request  C3 01 inv method (00 | 01 Data)                       normal
 *                   C3 02 inv block(4)                                    next-pblock
 *                   C3 03 inv n {method} n {Data}                         with-list
 *                   C3 04 inv method DataBlock-SA                         with-first-pblock
 *                   C3 05 inv n {method} DataBlock-SA                     with-list-and-first-pblock
 *                   C3 06 inv DataBlock-SA                                with-pblock
 *   Action-Response C7 01 inv result (00 | 01 (00 Data | 01 DAR))         normal   C701C00000, C701C0000101FA
 *                   C7 02 inv DataBlock-SA                                with-pblock
 *                   C7 03 inv n {result (00 | 01 Get-Data-Result)}        with-list
 *                   C7 04 inv block(4)                                    next-pblock
 */
export const TAG_ACTION_REQUEST = 0xc3;
export const TAG_ACTION_RESPONSE = 0xc7;

export interface ActionRequestNormal {
  readonly type: 'action-request-normal';
  readonly invoke: InvokeIdAndPriority;
  readonly method: MethodDescriptor;
  readonly parameters?: Data | undefined;
}

export interface ActionRequestNextPblock {
  readonly type: 'action-request-next-pblock';
  readonly invoke: InvokeIdAndPriority;
  readonly blockNumber: number;
}

export interface ActionRequestWithList {
  readonly type: 'action-request-with-list';
  readonly invoke: InvokeIdAndPriority;
  readonly methods: readonly MethodDescriptor[];
  readonly parameters: readonly Data[];
}

export interface ActionRequestWithFirstPblock {
  readonly type: 'action-request-with-first-pblock';
  readonly invoke: InvokeIdAndPriority;
  readonly method: MethodDescriptor;
  readonly block: DataBlockSA;
}

export interface ActionRequestWithListAndFirstPblock {
  readonly type: 'action-request-with-list-and-first-pblock';
  readonly invoke: InvokeIdAndPriority;
  readonly methods: readonly MethodDescriptor[];
  readonly block: DataBlockSA;
}

export interface ActionRequestWithPblock {
  readonly type: 'action-request-with-pblock';
  readonly invoke: InvokeIdAndPriority;
  readonly block: DataBlockSA;
}

/** Action-Response-With-Optional-Data: an Action-Result and optional return parameters. */
export interface ActionOutcome {
  readonly result: number;
  readonly returnParameters?: GetDataResult | undefined;
}

export interface ActionResponseNormal extends ActionOutcome {
  readonly type: 'action-response-normal';
  readonly invoke: InvokeIdAndPriority;
}

export interface ActionResponseWithPblock {
  readonly type: 'action-response-with-pblock';
  readonly invoke: InvokeIdAndPriority;
  readonly block: DataBlockSA;
}

export interface ActionResponseWithList {
  readonly type: 'action-response-with-list';
  readonly invoke: InvokeIdAndPriority;
  readonly responses: readonly ActionOutcome[];
}

export interface ActionResponseNextPblock {
  readonly type: 'action-response-next-pblock';
  readonly invoke: InvokeIdAndPriority;
  readonly blockNumber: number;
}

export type ActionRequest =
  | ActionRequestNormal
  | ActionRequestNextPblock
  | ActionRequestWithList
  | ActionRequestWithFirstPblock
  | ActionRequestWithListAndFirstPblock
  | ActionRequestWithPblock;

export type ActionResponse =
  ActionResponseNormal | ActionResponseWithPblock | ActionResponseWithList | ActionResponseNextPblock;

const METHOD_DESCRIPTOR_BYTES = 9;

export function readActionRequest(r: ByteReader, b: DecodeBudget): ActionRequest {
  const choice = r.u8('choice');
  const invoke = readInvoke(r);
  const methods = (): MethodDescriptor[] =>
    readList(r, b, 'methods', METHOD_DESCRIPTOR_BYTES, (_i, f) => readMethodDescriptor(r, f));
  switch (choice) {
    case 1: {
      const method = readMethodDescriptor(r, 'method');
      const parameters = readPresence(r, 'parameters') ? readData(r, b, 'parameters') : undefined;
      return { type: 'action-request-normal', invoke, method, parameters };
    }
    case 2:
      return { type: 'action-request-next-pblock', invoke, blockNumber: r.u32be('blockNumber') };
    case 3: {
      const ms = methods();
      const parameters = readList(r, b, 'parameters', 1, (_i, f) => readData(r, b, f));
      return { type: 'action-request-with-list', invoke, methods: ms, parameters };
    }
    case 4: {
      const method = readMethodDescriptor(r, 'method');
      return { type: 'action-request-with-first-pblock', invoke, method, block: readDataBlockSA(r, 'block') };
    }
    case 5: {
      const ms = methods();
      return {
        type: 'action-request-with-list-and-first-pblock',
        invoke,
        methods: ms,
        block: readDataBlockSA(r, 'block'),
      };
    }
    case 6:
      return { type: 'action-request-with-pblock', invoke, block: readDataBlockSA(r, 'block') };
    default:
      return r.fail(`Action-Request choice ${choice} unknown`, 'choice', { choice });
  }
}

export function writeActionRequest(w: ByteWriter, v: ActionRequest, path: string): void {
  w.u8(TAG_ACTION_REQUEST);
  const inv = (choice: number): void => {
    w.u8(choice).u8(invokeByte(v.invoke, `${path}.invoke`));
  };
  const methods = (ms: readonly MethodDescriptor[]): void =>
    writeList(w, ms, `${path}.methods`, (m, p) => writeMethodDescriptor(w, m, p));
  switch (v.type) {
    case 'action-request-normal':
      inv(1);
      writeMethodDescriptor(w, v.method, `${path}.method`);
      if (v.parameters === undefined) w.u8(0);
      else {
        w.u8(1);
        writeData(w, v.parameters, `${path}.parameters`);
      }
      return;
    case 'action-request-next-pblock':
      inv(2);
      checkU32(v.blockNumber, `${path}.blockNumber`);
      w.u32be(v.blockNumber);
      return;
    case 'action-request-with-list':
      inv(3);
      methods(v.methods);
      writeList(w, v.parameters, `${path}.parameters`, (d, p) => writeData(w, d, p));
      return;
    case 'action-request-with-first-pblock':
      inv(4);
      writeMethodDescriptor(w, v.method, `${path}.method`);
      writeDataBlockSA(w, v.block, `${path}.block`);
      return;
    case 'action-request-with-list-and-first-pblock':
      inv(5);
      methods(v.methods);
      writeDataBlockSA(w, v.block, `${path}.block`);
      return;
    case 'action-request-with-pblock':
      inv(6);
      writeDataBlockSA(w, v.block, `${path}.block`);
      return;
    default:
      throw encodeError(path, `unknown Action-Request ${(v as { type: string }).type}`);
  }
}

function readOutcome(r: ByteReader, b: DecodeBudget, field: string): ActionOutcome {
  const result = r.u8(field ? `${field}.result` : 'result');
  const pfield = field ? `${field}.returnParameters` : 'returnParameters';
  const returnParameters = readPresence(r, pfield) ? readGetDataResult(r, b, pfield) : undefined;
  return { result, returnParameters };
}

function writeOutcome(w: ByteWriter, v: ActionOutcome, path: string): void {
  checkU8(v.result, `${path}.result`);
  w.u8(v.result);
  if (v.returnParameters === undefined) w.u8(0);
  else {
    w.u8(1);
    writeGetDataResult(w, v.returnParameters, `${path}.returnParameters`);
  }
}

export function readActionResponse(r: ByteReader, b: DecodeBudget): ActionResponse {
  const choice = r.u8('choice');
  const invoke = readInvoke(r);
  switch (choice) {
    case 1: {
      const o = readOutcome(r, b, '');
      return {
        type: 'action-response-normal',
        invoke,
        result: o.result,
        returnParameters: o.returnParameters,
      };
    }
    case 2:
      return { type: 'action-response-with-pblock', invoke, block: readDataBlockSA(r, 'block') };
    case 3:
      return {
        type: 'action-response-with-list',
        invoke,
        responses: readList(r, b, 'responses', 2, (_i, f) => readOutcome(r, b, f)),
      };
    case 4:
      return { type: 'action-response-next-pblock', invoke, blockNumber: r.u32be('blockNumber') };
    default:
      return r.fail(`Action-Response choice ${choice} unknown`, 'choice', { choice });
  }
}

export function writeActionResponse(w: ByteWriter, v: ActionResponse, path: string): void {
  w.u8(TAG_ACTION_RESPONSE);
  const inv = (choice: number): void => {
    w.u8(choice).u8(invokeByte(v.invoke, `${path}.invoke`));
  };
  switch (v.type) {
    case 'action-response-normal':
      inv(1);
      writeOutcome(w, v, path);
      return;
    case 'action-response-with-pblock':
      inv(2);
      writeDataBlockSA(w, v.block, `${path}.block`);
      return;
    case 'action-response-with-list':
      inv(3);
      writeList(w, v.responses, `${path}.responses`, (o, p) => writeOutcome(w, o, p));
      return;
    case 'action-response-next-pblock':
      inv(4);
      checkU32(v.blockNumber, `${path}.blockNumber`);
      w.u32be(v.blockNumber);
      return;
    default:
      throw encodeError(path, `unknown Action-Response ${(v as { type: string }).type}`);
  }
}
