import type { ByteReader, ByteWriter } from '../../../core/bytes';
import { readData, writeData } from '../axdr/data-codec';
import { readLength, writeLength } from '../axdr/length';
import { encodeError, joinPath, type DecodeBudget } from '../axdr/limits';
import type { Data } from '../axdr/types';
import { checkI8, checkInt, checkOctets, checkU16, checkU32, checkU8 } from './checks';

/**
 * Building blocks shared by the LN xDLMS services (docs/dlms.md §4.2; layouts per U9N
 * `tests/test_xdlms/`). All are A-XDR: fixed-size integers big-endian, OPTIONAL as a presence
 * octet, SEQUENCE OF as an A-XDR count.
 */

/** Invoke-Id-And-Priority: bit 7 high priority, bit 6 confirmed, low nibble the id (`C1` = id 1). */
export interface InvokeIdAndPriority {
  readonly invokeId: number;
  readonly confirmed: boolean;
  readonly highPriority: boolean;
}

/** `C1`: id 1, confirmed, high priority, what U9N and Gurux clients send. */
export const DEFAULT_INVOKE: InvokeIdAndPriority = { invokeId: 1, confirmed: true, highPriority: true };

/** Bits 4-5 are reserved; they are ignored on decode (a lenient reading of peers) and sent as 0. */
export function readInvoke(r: ByteReader, field = 'invoke'): InvokeIdAndPriority {
  const b = r.u8(field);
  return { invokeId: b & 0x0f, confirmed: (b & 0x40) !== 0, highPriority: (b & 0x80) !== 0 };
}

export function invokeByte(v: InvokeIdAndPriority, path = 'invoke'): number {
  checkInt(v.invokeId, 0, 15, `${path}.invokeId`);
  return (v.highPriority ? 0x80 : 0) | (v.confirmed ? 0x40 : 0) | v.invokeId;
}

/** Cosem-Attribute-Descriptor: class-id Unsigned16, instance-id octet-string(6) (no length), attribute-id Integer8. */
export interface AttributeDescriptor {
  readonly classId: number;
  /** The 6-octet OBIS logical name (see obis.ts). */
  readonly obis: Buffer;
  /** Integer8 on the wire; negative indices are manufacturer-specific. */
  readonly attributeId: number;
}

/** Cosem-Method-Descriptor: the same layout with method-id Integer8. */
export interface MethodDescriptor {
  readonly classId: number;
  readonly obis: Buffer;
  readonly methodId: number;
}

/** Selective-Access-Descriptor: access-selector Unsigned8, access-parameters Data (see selective-access.ts). */
export interface SelectiveAccess {
  readonly selector: number;
  readonly parameters: Data;
}

export interface AttributeWithSelection {
  readonly attribute: AttributeDescriptor;
  readonly access?: SelectiveAccess | undefined;
}

/** Get-Data-Result CHOICE: data [0] Data, or data-access-result [1]. */
export type GetDataResult =
  { readonly kind: 'data'; readonly data: Data } | { readonly kind: 'dar'; readonly dar: number };

/** DataBlock-SA: last-block BOOLEAN, block-number Unsigned32, raw-data OCTET STRING. */
export interface DataBlockSA {
  readonly lastBlock: boolean;
  readonly blockNumber: number;
  readonly raw: Buffer;
}

export function readAttributeDescriptor(r: ByteReader, field: string): AttributeDescriptor {
  return {
    classId: r.u16be(joinPath(field, 'classId')),
    obis: r.bytes(6, joinPath(field, 'obis')),
    attributeId: r.i8(joinPath(field, 'attributeId')),
  };
}

export function writeAttributeDescriptor(w: ByteWriter, d: AttributeDescriptor, path: string): void {
  checkU16(d.classId, `${path}.classId`);
  checkOctets(d.obis, 6, `${path}.obis`);
  checkI8(d.attributeId, `${path}.attributeId`);
  w.u16be(d.classId).bytes(d.obis).i8(d.attributeId);
}

export function readMethodDescriptor(r: ByteReader, field: string): MethodDescriptor {
  return {
    classId: r.u16be(joinPath(field, 'classId')),
    obis: r.bytes(6, joinPath(field, 'obis')),
    methodId: r.i8(joinPath(field, 'methodId')),
  };
}

export function writeMethodDescriptor(w: ByteWriter, d: MethodDescriptor, path: string): void {
  checkU16(d.classId, `${path}.classId`);
  checkOctets(d.obis, 6, `${path}.obis`);
  checkI8(d.methodId, `${path}.methodId`);
  w.u16be(d.classId).bytes(d.obis).i8(d.methodId);
}

/** OPTIONAL presence octet: 00 absent, 01 present; anything else is refused. */
export function readPresence(r: ByteReader, field: string): boolean {
  const p = r.u8(field);
  if (p > 1) r.fail(`presence flag 0x${p.toString(16)}, expected 00 or 01`, field, { flag: p });
  return p === 1;
}

export function readOptionalAccess(
  r: ByteReader,
  b: DecodeBudget,
  field: string,
): SelectiveAccess | undefined {
  if (!readPresence(r, field)) return undefined;
  return {
    selector: r.u8(joinPath(field, 'selector')),
    parameters: readData(r, b, joinPath(field, 'parameters')),
  };
}

export function writeOptionalAccess(w: ByteWriter, a: SelectiveAccess | undefined, path: string): void {
  if (a === undefined) {
    w.u8(0);
    return;
  }
  checkU8(a.selector, `${path}.selector`);
  w.u8(1).u8(a.selector);
  writeData(w, a.parameters, `${path}.parameters`);
}

export function readAttributeWithSelection(
  r: ByteReader,
  b: DecodeBudget,
  field: string,
): AttributeWithSelection {
  const attribute = readAttributeDescriptor(r, joinPath(field, 'attribute'));
  const access = readOptionalAccess(r, b, joinPath(field, 'access'));
  return { attribute, access };
}

export function writeAttributeWithSelection(w: ByteWriter, a: AttributeWithSelection, path: string): void {
  writeAttributeDescriptor(w, a.attribute, `${path}.attribute`);
  writeOptionalAccess(w, a.access, `${path}.access`);
}

/**
 * SEQUENCE OF: an A-XDR count checked against the budget (each item takes at least
 * `minItemBytes` octets) before any item is read.
 */
export function readList<T>(
  r: ByteReader,
  b: DecodeBudget,
  field: string,
  minItemBytes: number,
  item: (i: number, itemField: string) => T,
): T[] {
  const n = readLength(r, field);
  b.checkCount(r, field, n, minItemBytes);
  const out: T[] = [];
  for (let i = 0; i < n; i++) {
    b.take(r, field);
    out.push(item(i, `${field}[${i}]`));
  }
  return out;
}

export function writeList<T>(
  w: ByteWriter,
  items: readonly T[],
  path: string,
  item: (v: T, itemPath: string) => void,
): void {
  if (!Array.isArray(items)) throw encodeError(path, 'expected a list');
  writeLength(w, items.length, path);
  items.forEach((v, i) => item(v, `${path}[${i}]`));
}

export function readGetDataResult(r: ByteReader, b: DecodeBudget, field: string): GetDataResult {
  const choice = r.u8(field);
  if (choice === 0) return { kind: 'data', data: readData(r, b, joinPath(field, 'data')) };
  if (choice === 1) return { kind: 'dar', dar: r.u8(joinPath(field, 'dar')) };
  return r.fail(`Get-Data-Result choice ${choice}, expected 0 or 1`, field, { choice });
}

export function writeGetDataResult(w: ByteWriter, v: GetDataResult, path: string): void {
  if (v.kind === 'data') {
    w.u8(0);
    writeData(w, v.data, `${path}.data`);
  } else if (v.kind === 'dar') {
    checkU8(v.dar, `${path}.dar`);
    w.u8(1).u8(v.dar);
  } else {
    throw encodeError(path, `unknown result kind ${String((v as { kind?: unknown }).kind)}`);
  }
}

/** BOOLEAN: any non-zero octet is TRUE on decode; TRUE is sent as 01 (§8B trace `C402C1 01 ...`). */
export function readBoolean(r: ByteReader, field: string): boolean {
  return r.u8(field) !== 0;
}

export function readDataBlockSA(r: ByteReader, field: string): DataBlockSA {
  const lastBlock = readBoolean(r, joinPath(field, 'lastBlock'));
  const blockNumber = r.u32be(joinPath(field, 'blockNumber'));
  const raw = r.bytes(readLength(r, joinPath(field, 'raw')), joinPath(field, 'raw'));
  return { lastBlock, blockNumber, raw };
}

export function writeDataBlockSA(w: ByteWriter, v: DataBlockSA, path: string): void {
  checkU32(v.blockNumber, `${path}.blockNumber`);
  if (!Buffer.isBuffer(v.raw)) throw encodeError(`${path}.raw`, 'expected a Buffer');
  w.u8(v.lastBlock ? 1 : 0).u32be(v.blockNumber);
  writeLength(w, v.raw.length, `${path}.raw`);
  w.bytes(v.raw);
}
