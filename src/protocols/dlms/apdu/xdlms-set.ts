import type { ByteReader, ByteWriter } from '../../../core/bytes';
import { readData, writeData } from '../axdr/data-codec';
import { encodeError, type DecodeBudget } from '../axdr/limits';
import type { Data } from '../axdr/types';
import { checkU32, checkU8 } from './checks';
import {
  invokeByte,
  readAttributeDescriptor,
  readAttributeWithSelection,
  readDataBlockSA,
  readInvoke,
  readList,
  readOptionalAccess,
  writeAttributeDescriptor,
  writeAttributeWithSelection,
  writeDataBlockSA,
  writeList,
  writeOptionalAccess,
  type AttributeDescriptor,
  type AttributeWithSelection,
  type DataBlockSA,
  type InvokeIdAndPriority,
  type SelectiveAccess,
} from './xdlms-common';

/**
 * SET service, LN referencing (docs/dlms.md §4.2; U9N `tests/test_xdlms/test_set.py`):
 *
 *   Set-Request  C1 01 inv desc access? Data                    normal   C101C100080000010000FF0200090C...
 *                C1 02 inv desc access? DataBlock-SA            with-first-datablock
 *                C1 03 inv DataBlock-SA                         with-datablock
 *                C1 04 inv n {desc access?} n {Data}            with-list
 *                C1 05 inv n {desc access?} DataBlock-SA        with-list-and-first-datablock
 *   Set-Response C5 01 inv DAR                                  normal   C501C100
 *                C5 02 inv block(4)                             datablock            C502C100000001
 *                C5 03 inv DAR block(4)                         last-datablock       C503C10000000002
 *                C5 04 inv n {DAR} block(4)                     last-datablock-with-list
 *                C5 05 inv n {DAR}                              with-list
 */
export const TAG_SET_REQUEST = 0xc1;
export const TAG_SET_RESPONSE = 0xc5;

export interface SetRequestNormal {
  readonly type: 'set-request-normal';
  readonly invoke: InvokeIdAndPriority;
  readonly attribute: AttributeDescriptor;
  readonly access?: SelectiveAccess | undefined;
  readonly value: Data;
}

export interface SetRequestWithFirstDatablock {
  readonly type: 'set-request-with-first-datablock';
  readonly invoke: InvokeIdAndPriority;
  readonly attribute: AttributeDescriptor;
  readonly access?: SelectiveAccess | undefined;
  readonly block: DataBlockSA;
}

export interface SetRequestWithDatablock {
  readonly type: 'set-request-with-datablock';
  readonly invoke: InvokeIdAndPriority;
  readonly block: DataBlockSA;
}

export interface SetRequestWithList {
  readonly type: 'set-request-with-list';
  readonly invoke: InvokeIdAndPriority;
  readonly attributes: readonly AttributeWithSelection[];
  readonly values: readonly Data[];
}

export interface SetRequestWithListAndFirstDatablock {
  readonly type: 'set-request-with-list-and-first-datablock';
  readonly invoke: InvokeIdAndPriority;
  readonly attributes: readonly AttributeWithSelection[];
  readonly block: DataBlockSA;
}

export interface SetResponseNormal {
  readonly type: 'set-response-normal';
  readonly invoke: InvokeIdAndPriority;
  readonly result: number;
}

export interface SetResponseDatablock {
  readonly type: 'set-response-datablock';
  readonly invoke: InvokeIdAndPriority;
  readonly blockNumber: number;
}

export interface SetResponseLastDatablock {
  readonly type: 'set-response-last-datablock';
  readonly invoke: InvokeIdAndPriority;
  readonly result: number;
  readonly blockNumber: number;
}

export interface SetResponseLastDatablockWithList {
  readonly type: 'set-response-last-datablock-with-list';
  readonly invoke: InvokeIdAndPriority;
  readonly results: readonly number[];
  readonly blockNumber: number;
}

export interface SetResponseWithList {
  readonly type: 'set-response-with-list';
  readonly invoke: InvokeIdAndPriority;
  readonly results: readonly number[];
}

export type SetRequest =
  | SetRequestNormal
  | SetRequestWithFirstDatablock
  | SetRequestWithDatablock
  | SetRequestWithList
  | SetRequestWithListAndFirstDatablock;

export type SetResponse =
  | SetResponseNormal
  | SetResponseDatablock
  | SetResponseLastDatablock
  | SetResponseLastDatablockWithList
  | SetResponseWithList;

const MIN_DESCRIPTOR_WITH_SELECTION = 10;

export function readSetRequest(r: ByteReader, b: DecodeBudget): SetRequest {
  const choice = r.u8('choice');
  const invoke = readInvoke(r);
  switch (choice) {
    case 1: {
      const attribute = readAttributeDescriptor(r, 'attribute');
      const access = readOptionalAccess(r, b, 'access');
      return { type: 'set-request-normal', invoke, attribute, access, value: readData(r, b, 'value') };
    }
    case 2: {
      const attribute = readAttributeDescriptor(r, 'attribute');
      const access = readOptionalAccess(r, b, 'access');
      return {
        type: 'set-request-with-first-datablock',
        invoke,
        attribute,
        access,
        block: readDataBlockSA(r, 'block'),
      };
    }
    case 3:
      return { type: 'set-request-with-datablock', invoke, block: readDataBlockSA(r, 'block') };
    case 4: {
      const attributes = readList(r, b, 'attributes', MIN_DESCRIPTOR_WITH_SELECTION, (_i, f) =>
        readAttributeWithSelection(r, b, f),
      );
      const values = readList(r, b, 'values', 1, (_i, f) => readData(r, b, f));
      return { type: 'set-request-with-list', invoke, attributes, values };
    }
    case 5: {
      const attributes = readList(r, b, 'attributes', MIN_DESCRIPTOR_WITH_SELECTION, (_i, f) =>
        readAttributeWithSelection(r, b, f),
      );
      return {
        type: 'set-request-with-list-and-first-datablock',
        invoke,
        attributes,
        block: readDataBlockSA(r, 'block'),
      };
    }
    default:
      return r.fail(`Set-Request choice ${choice} unknown`, 'choice', { choice });
  }
}

export function writeSetRequest(w: ByteWriter, v: SetRequest, path: string): void {
  w.u8(TAG_SET_REQUEST);
  const inv = (choice: number): void => {
    w.u8(choice).u8(invokeByte(v.invoke, `${path}.invoke`));
  };
  switch (v.type) {
    case 'set-request-normal':
      inv(1);
      writeAttributeDescriptor(w, v.attribute, `${path}.attribute`);
      writeOptionalAccess(w, v.access, `${path}.access`);
      writeData(w, v.value, `${path}.value`);
      return;
    case 'set-request-with-first-datablock':
      inv(2);
      writeAttributeDescriptor(w, v.attribute, `${path}.attribute`);
      writeOptionalAccess(w, v.access, `${path}.access`);
      writeDataBlockSA(w, v.block, `${path}.block`);
      return;
    case 'set-request-with-datablock':
      inv(3);
      writeDataBlockSA(w, v.block, `${path}.block`);
      return;
    case 'set-request-with-list':
      inv(4);
      writeList(w, v.attributes, `${path}.attributes`, (a, p) => writeAttributeWithSelection(w, a, p));
      writeList(w, v.values, `${path}.values`, (d, p) => writeData(w, d, p));
      return;
    case 'set-request-with-list-and-first-datablock':
      inv(5);
      writeList(w, v.attributes, `${path}.attributes`, (a, p) => writeAttributeWithSelection(w, a, p));
      writeDataBlockSA(w, v.block, `${path}.block`);
      return;
    default:
      throw encodeError(path, `unknown Set-Request ${(v as { type: string }).type}`);
  }
}

export function readSetResponse(r: ByteReader, b: DecodeBudget): SetResponse {
  const choice = r.u8('choice');
  const invoke = readInvoke(r);
  switch (choice) {
    case 1:
      return { type: 'set-response-normal', invoke, result: r.u8('result') };
    case 2:
      return { type: 'set-response-datablock', invoke, blockNumber: r.u32be('blockNumber') };
    case 3: {
      const result = r.u8('result');
      return { type: 'set-response-last-datablock', invoke, result, blockNumber: r.u32be('blockNumber') };
    }
    case 4: {
      const results = readList(r, b, 'results', 1, (_i, f) => r.u8(f));
      return {
        type: 'set-response-last-datablock-with-list',
        invoke,
        results,
        blockNumber: r.u32be('blockNumber'),
      };
    }
    case 5:
      return {
        type: 'set-response-with-list',
        invoke,
        results: readList(r, b, 'results', 1, (_i, f) => r.u8(f)),
      };
    default:
      return r.fail(`Set-Response choice ${choice} unknown`, 'choice', { choice });
  }
}

export function writeSetResponse(w: ByteWriter, v: SetResponse, path: string): void {
  w.u8(TAG_SET_RESPONSE);
  const inv = (choice: number): void => {
    w.u8(choice).u8(invokeByte(v.invoke, `${path}.invoke`));
  };
  const dar = (x: number, p: string): void => {
    checkU8(x, p);
    w.u8(x);
  };
  const block = (n: number): void => {
    checkU32(n, `${path}.blockNumber`);
    w.u32be(n);
  };
  switch (v.type) {
    case 'set-response-normal':
      inv(1);
      dar(v.result, `${path}.result`);
      return;
    case 'set-response-datablock':
      inv(2);
      block(v.blockNumber);
      return;
    case 'set-response-last-datablock':
      inv(3);
      dar(v.result, `${path}.result`);
      block(v.blockNumber);
      return;
    case 'set-response-last-datablock-with-list':
      inv(4);
      writeList(w, v.results, `${path}.results`, dar);
      block(v.blockNumber);
      return;
    case 'set-response-with-list':
      inv(5);
      writeList(w, v.results, `${path}.results`, dar);
      return;
    default:
      throw encodeError(path, `unknown Set-Response ${(v as { type: string }).type}`);
  }
}
