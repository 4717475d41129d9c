import { ByteReader, ByteWriter } from '../../../core/bytes';
import { readCompactArray, writeCompactArray } from './compact-array';
import { readLength, writeLength } from './length';
import {
  DecodeBudget,
  checkInputSize,
  encodeError,
  joinPath,
  resolveLimits,
  type AxdrLimits,
} from './limits';
import { readSimple, writeSimple } from './simple-values';
import { DataTag, type Data } from './types';

/**
 * Tagged A-XDR Data (docs/dlms.md §5): one tag octet, then the contents. Arrays and structures
 * carry an A-XDR count. Decoding spends a DecodeBudget (limits.ts) so hostile counts and depths
 * fail with DecodeTooLarge / DecodeTooDeep naming the path, e.g. `GetResponse.data.items[3]`.
 */
export function readData(r: ByteReader, budget: DecodeBudget, field: string, depth = 0): Data {
  budget.take(r, field);
  const tag = r.u8(field);
  if (tag === DataTag.array || tag === DataTag.structure) {
    budget.checkDepth(r, field, depth);
    const count = readLength(r, field);
    budget.checkCount(r, field, count);
    const items: Data[] = [];
    for (let i = 0; i < count; i++)
      items.push(readData(r, budget, joinPath(field, `items[${i}]`), depth + 1));
    return tag === DataTag.array ? { type: 'array', items } : { type: 'structure', items };
  }
  if (tag === DataTag['compact-array']) return readCompactArray(r, budget, field, depth);
  return readSimple(r, tag, field);
}

/** Deeper than this on encode means a cyclic or absurd value; refuse rather than overflow. */
const MAX_ENCODE_DEPTH = 256;

export function writeData(w: ByteWriter, d: Data, path = 'data', depth = 0): void {
  if (depth > MAX_ENCODE_DEPTH) throw encodeError(path, 'value nested too deep (cyclic?)');
  const tag = (DataTag as Record<string, number>)[d?.type];
  if (tag === undefined)
    throw encodeError(path, `unknown data type ${String((d as { type?: unknown })?.type)}`);
  w.u8(tag);
  if (d.type === 'array' || d.type === 'structure') {
    writeLength(w, d.items.length, path);
    for (let i = 0; i < d.items.length; i++) writeData(w, d.items[i]!, `${path}.items[${i}]`, depth + 1);
    return;
  }
  if (d.type === 'compact-array') {
    writeCompactArray(w, d, path, depth);
    return;
  }
  writeSimple(w, d, path);
}

export function encodeData(d: Data, path = 'data'): Buffer {
  const w = new ByteWriter(32);
  writeData(w, d, path);
  return w.toBuffer();
}

/** Decode exactly one Data value filling the whole input. */
export function decodeData(input: Uint8Array, limits?: Partial<AxdrLimits>, path = 'data'): Data {
  const l = resolveLimits(limits);
  checkInputSize(input, l, path);
  const r = new ByteReader(input, path);
  const d = readData(r, new DecodeBudget(l), '');
  r.expectEnd();
  return d;
}
