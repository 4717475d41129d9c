import type { ByteReader, ByteWriter } from '../../../core/bytes';
import { readLength, writeLength } from '../axdr/length';
import { encodeError, type DecodeBudget } from '../axdr/limits';
import { checkU32, checkU8 } from './checks';
import {
  invokeByte,
  readAttributeDescriptor,
  readAttributeWithSelection,
  readBoolean,
  readGetDataResult,
  readInvoke,
  readList,
  readOptionalAccess,
  writeAttributeDescriptor,
  writeAttributeWithSelection,
  writeGetDataResult,
  writeList,
  writeOptionalAccess,
  type AttributeDescriptor,
  type AttributeWithSelection,
  type GetDataResult,
  type InvokeIdAndPriority,
  type SelectiveAccess,
} from './xdlms-common';

/**
 * GET service, LN referencing (docs/dlms.md §4.2):
 *
 *   Get-Request  C0 01 inv desc access?              normal        C001C1000100002B0100FF0200
 *                C0 02 inv block(4)                  next          C002C100000001
 *                C0 03 inv n {desc access?}          with-list
 *   Get-Response C4 01 inv (00 Data | 01 DAR)        normal        C401C1000600001391, C401C10101
 *                C4 02 inv last block(4) (00 len raw | 01 DAR)    with-datablock (§8B)
 *                C4 03 inv n {00 Data | 01 DAR}      with-list
 */
export const TAG_GET_REQUEST = 0xc0;
export const TAG_GET_RESPONSE = 0xc4;

export interface GetRequestNormal {
  readonly type: 'get-request-normal';
  readonly invoke: InvokeIdAndPriority;
  readonly attribute: AttributeDescriptor;
  readonly access?: SelectiveAccess | undefined;
}

export interface GetRequestNext {
  readonly type: 'get-request-next';
  readonly invoke: InvokeIdAndPriority;
  /** Number of the last block received. */
  readonly blockNumber: number;
}

export interface GetRequestWithList {
  readonly type: 'get-request-with-list';
  readonly invoke: InvokeIdAndPriority;
  readonly attributes: readonly AttributeWithSelection[];
}

export interface GetResponseNormal {
  readonly type: 'get-response-normal';
  readonly invoke: InvokeIdAndPriority;
  readonly result: GetDataResult;
}

/** DataBlock-G result: raw-data [0] (a slice of the encoded Data) or data-access-result [1]. */
export type DataBlockResult =
  { readonly kind: 'raw'; readonly raw: Buffer } | { readonly kind: 'dar'; readonly dar: number };

export interface GetResponseWithDatablock {
  readonly type: 'get-response-with-datablock';
  readonly invoke: InvokeIdAndPriority;
  readonly lastBlock: boolean;
  readonly blockNumber: number;
  readonly result: DataBlockResult;
}

export interface GetResponseWithList {
  readonly type: 'get-response-with-list';
  readonly invoke: InvokeIdAndPriority;
  readonly results: readonly GetDataResult[];
}

export type GetRequest = GetRequestNormal | GetRequestNext | GetRequestWithList;
export type GetResponse = GetResponseNormal | GetResponseWithDatablock | GetResponseWithList;

/** Minimum octets of one Cosem-Attribute-Descriptor-With-Selection: 9 + presence. */
const MIN_DESCRIPTOR_WITH_SELECTION = 10;

export function readGetRequest(r: ByteReader, b: DecodeBudget): GetRequest {
  const choice = r.u8('choice');
  const invoke = readInvoke(r);
  switch (choice) {
    case 1:
      return {
        type: 'get-request-normal',
        invoke,
        attribute: readAttributeDescriptor(r, 'attribute'),
        access: readOptionalAccess(r, b, 'access'),
      };
    case 2:
      return { type: 'get-request-next', invoke, blockNumber: r.u32be('blockNumber') };
    case 3:
      return {
        type: 'get-request-with-list',
        invoke,
        attributes: readList(r, b, 'attributes', MIN_DESCRIPTOR_WITH_SELECTION, (_i, f) =>
          readAttributeWithSelection(r, b, f),
        ),
      };
    default:
      return r.fail(`Get-Request choice ${choice} unknown`, 'choice', { choice });
  }
}

export function writeGetRequest(w: ByteWriter, v: GetRequest, path: string): void {
  w.u8(TAG_GET_REQUEST);
  switch (v.type) {
    case 'get-request-normal':
      w.u8(1).u8(invokeByte(v.invoke, `${path}.invoke`));
      writeAttributeDescriptor(w, v.attribute, `${path}.attribute`);
      writeOptionalAccess(w, v.access, `${path}.access`);
      return;
    case 'get-request-next':
      checkU32(v.blockNumber, `${path}.blockNumber`);
      w.u8(2)
        .u8(invokeByte(v.invoke, `${path}.invoke`))
        .u32be(v.blockNumber);
      return;
    case 'get-request-with-list':
      w.u8(3).u8(invokeByte(v.invoke, `${path}.invoke`));
      writeList(w, v.attributes, `${path}.attributes`, (a, p) => writeAttributeWithSelection(w, a, p));
      return;
    default:
      throw encodeError(path, `unknown Get-Request ${(v as { type: string }).type}`);
  }
}

export function readGetResponse(r: ByteReader, b: DecodeBudget): GetResponse {
  const choice = r.u8('choice');
  const invoke = readInvoke(r);
  switch (choice) {
    case 1:
      return { type: 'get-response-normal', invoke, result: readGetDataResult(r, b, 'result') };
    case 2: {
      const lastBlock = readBoolean(r, 'lastBlock');
      const blockNumber = r.u32be('blockNumber');
      const kind = r.u8('result');
      let result: DataBlockResult;
      if (kind === 0) result = { kind: 'raw', raw: r.bytes(readLength(r, 'result.raw'), 'result.raw') };
      else if (kind === 1) result = { kind: 'dar', dar: r.u8('result.dar') };
      else return r.fail(`DataBlock-G result choice ${kind}, expected 0 or 1`, 'result', { choice: kind });
      return { type: 'get-response-with-datablock', invoke, lastBlock, blockNumber, result };
    }
    case 3:
      return {
        type: 'get-response-with-list',
        invoke,
        results: readList(r, b, 'results', 2, (_i, f) => readGetDataResult(r, b, f)),
      };
    default:
      return r.fail(`Get-Response choice ${choice} unknown`, 'choice', { choice });
  }
}

export function writeGetResponse(w: ByteWriter, v: GetResponse, path: string): void {
  w.u8(TAG_GET_RESPONSE);
  switch (v.type) {
    case 'get-response-normal':
      w.u8(1).u8(invokeByte(v.invoke, `${path}.invoke`));
      writeGetDataResult(w, v.result, `${path}.result`);
      return;
    case 'get-response-with-datablock':
      checkU32(v.blockNumber, `${path}.blockNumber`);
      w.u8(2)
        .u8(invokeByte(v.invoke, `${path}.invoke`))
        .u8(v.lastBlock ? 1 : 0)
        .u32be(v.blockNumber);
      if (v.result.kind === 'raw') {
        if (!Buffer.isBuffer(v.result.raw)) throw encodeError(`${path}.result.raw`, 'expected a Buffer');
        w.u8(0);
        writeLength(w, v.result.raw.length, `${path}.result.raw`);
        w.bytes(v.result.raw);
      } else if (v.result.kind === 'dar') {
        checkU8(v.result.dar, `${path}.result.dar`);
        w.u8(1).u8(v.result.dar);
      } else {
        throw encodeError(`${path}.result`, 'unknown result kind');
      }
      return;
    case 'get-response-with-list':
      w.u8(3).u8(invokeByte(v.invoke, `${path}.invoke`));
      writeList(w, v.results, `${path}.results`, (res, p) => writeGetDataResult(w, res, p));
      return;
    default:
      throw encodeError(path, `unknown Get-Response ${(v as { type: string }).type}`);
  }
}
