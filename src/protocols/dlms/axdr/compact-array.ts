import type { ByteReader } from '../../../core/bytes';
import { ByteWriter } from '../../../core/bytes';
import { readLength, writeLength } from './length';
import { encodeError, joinPath, type DecodeBudget } from './limits';
import { readSimple, writeSimple } from './simple-values';
import {
  DATA_TYPE_BY_TAG,
  DataTag,
  FIXED_SIZE,
  type Data,
  type SimpleTypeName,
  type TypeDescription,
} from './types';

/**
 * compact-array [19] (Blue Book Data CHOICE):
 *
 *   13 | contents-description TypeDescription | array-contents OCTET STRING (A-XDR length + bytes)
 *
 * TypeDescription is a type tag; `array` adds number-of-elements (Unsigned16, fixed 2 octets)
 * and one element description; `structure` adds a count (A-XDR length) and one description per
 * field. array-contents is the concatenation of every element's contents *without tags*; strings
 * and bit-strings keep their length prefixes, so the number of elements is whatever fills the
 * contents. Layout cross-checked against GXPY `_GXCommon.getCompactArray` / `getDataTypes`
 * (which reads nested array counts as UInt16 and item strings with their lengths). GXPY refuses a
 * top-level `array` description; the Blue Book syntax allows it, so we accept it.
 */

const MAX_ENCODE_DEPTH = 256;

export function readTypeDescription(
  r: ByteReader,
  budget: DecodeBudget,
  field: string,
  depth: number,
): TypeDescription {
  budget.take(r, field);
  const tag = r.u8(field);
  if (tag === DataTag.array) {
    budget.checkDepth(r, field, depth);
    const count = r.u16be(field);
    return {
      type: 'array',
      count,
      element: readTypeDescription(r, budget, joinPath(field, 'element'), depth + 1),
    };
  }
  if (tag === DataTag.structure) {
    budget.checkDepth(r, field, depth);
    const n = readLength(r, field);
    budget.checkCount(r, field, n);
    const fields: TypeDescription[] = [];
    for (let i = 0; i < n; i++)
      fields.push(readTypeDescription(r, budget, joinPath(field, `fields[${i}]`), depth + 1));
    return { type: 'structure', fields };
  }
  if (tag === DataTag['compact-array']) r.fail('a compact-array cannot describe a compact-array', field);
  const name = DATA_TYPE_BY_TAG.get(tag);
  if (name === undefined) {
    r.fail(`unknown type tag 0x${tag.toString(16).padStart(2, '0')} in compact-array description`, field, {
      tag,
    });
  }
  return { type: name as SimpleTypeName };
}

export function writeTypeDescription(w: ByteWriter, desc: TypeDescription, path: string, depth = 0): void {
  if (depth > MAX_ENCODE_DEPTH) throw encodeError(path, 'type description nested too deep');
  switch (desc.type) {
    case 'array':
      if (!Number.isInteger(desc.count) || desc.count < 0 || desc.count > 0xffff) {
        throw encodeError(path, `array description count ${desc.count} out of range 0..65535`);
      }
      w.u8(DataTag.array).u16be(desc.count);
      writeTypeDescription(w, desc.element, `${path}.element`, depth + 1);
      return;
    case 'structure':
      w.u8(DataTag.structure);
      writeLength(w, desc.fields.length, path);
      desc.fields.forEach((f, i) => writeTypeDescription(w, f, `${path}.fields[${i}]`, depth + 1));
      return;
    default: {
      const tag = (DataTag as Record<string, number>)[desc.type];
      // Values built at run time may carry any string; compact-array is never a leaf.
      if (tag === undefined || tag === DataTag['compact-array']) {
        throw encodeError(path, `cannot describe type ${String(desc.type)}`);
      }
      w.u8(tag);
    }
  }
}

/**
 * Smallest number of content bytes one element of this description takes. Zero means an
 * element can be empty (null-data, dont-care, or containers of them), in which case the number
 * of elements could not be recovered from the contents length.
 */
export function minContentSize(desc: TypeDescription): number {
  switch (desc.type) {
    case 'array':
      return desc.count * minContentSize(desc.element);
    case 'structure':
      return desc.fields.reduce((sum, f) => sum + minContentSize(f), 0);
    default:
      // Variable-length types carry at least their one-byte length.
      return FIXED_SIZE[desc.type] ?? 1;
  }
}

function readUntyped(
  c: ByteReader,
  desc: TypeDescription,
  budget: DecodeBudget,
  field: string,
  depth: number,
): Data {
  budget.take(c, field);
  if (desc.type === 'array' || desc.type === 'structure') {
    budget.checkDepth(c, field, depth);
    const descs = desc.type === 'array' ? undefined : desc.fields;
    const n = desc.type === 'array' ? desc.count : desc.fields.length;
    budget.checkCount(c, field, n, 0);
    const items: Data[] = [];
    for (let i = 0; i < n; i++) {
      const d = descs ? descs[i]! : (desc as { element: TypeDescription }).element;
      items.push(readUntyped(c, d, budget, joinPath(field, `items[${i}]`), depth + 1));
    }
    return { type: desc.type, items };
  }
  return readSimple(c, DataTag[desc.type], field);
}

/** Decode a compact array whose tag (0x13) has just been read. */
export function readCompactArray(r: ByteReader, budget: DecodeBudget, field: string, depth: number): Data {
  budget.checkDepth(r, field, depth);
  const description = readTypeDescription(r, budget, joinPath(field, 'description'), depth + 1);
  const len = readLength(r, joinPath(field, 'contents'));
  const c = r.sub(len, joinPath(field, 'contents'));
  if (len > 0 && minContentSize(description) === 0) {
    c.fail('elements of this description take no bytes, so non-empty contents are ambiguous');
  }
  const items: Data[] = [];
  for (let i = 0; !c.atEnd; i++) items.push(readUntyped(c, description, budget, `[${i}]`, depth + 1));
  return { type: 'compact-array', description, items };
}

function writeUntyped(w: ByteWriter, desc: TypeDescription, d: Data, path: string, depth: number): void {
  if (depth > MAX_ENCODE_DEPTH) throw encodeError(path, 'value nested too deep');
  if (d.type !== desc.type) {
    throw encodeError(path, `element is ${d.type}, the description says ${desc.type}`);
  }
  if (desc.type === 'array' || desc.type === 'structure') {
    const items = (d as { items: readonly Data[] }).items;
    const n = desc.type === 'array' ? desc.count : desc.fields.length;
    if (items.length !== n) throw encodeError(path, `${items.length} item(s), the description says ${n}`);
    items.forEach((item, i) => {
      const sub = desc.type === 'array' ? desc.element : desc.fields[i]!;
      writeUntyped(w, sub, item, `${path}.items[${i}]`, depth + 1);
    });
    return;
  }
  writeSimple(w, d, path);
}

export function writeCompactArray(
  w: ByteWriter,
  d: Extract<Data, { type: 'compact-array' }>,
  path: string,
  depth: number,
): void {
  writeTypeDescription(w, d.description, `${path}.description`, depth + 1);
  if (d.items.length > 0 && minContentSize(d.description) === 0) {
    throw encodeError(
      path,
      'elements of this description take no bytes; only an empty compact array is encodable',
    );
  }
  const contents = new ByteWriter(64);
  d.items.forEach((item, i) => writeUntyped(contents, d.description, item, `${path}[${i}]`, depth + 1));
  writeLength(w, contents.length, `${path}.contents`);
  w.bytes(contents.toBuffer());
}
