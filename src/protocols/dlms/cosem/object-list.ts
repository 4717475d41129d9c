import { ErrorCode, SimError } from '../../../core/errors';
import { axdr } from '../axdr/builders';
import type { Data, DataOf, DataTypeName } from '../axdr/types';
import {
  AttributeAccess,
  MethodAccess,
  attributeAccessName,
  methodAccessName,
  type AttributeAccessMode,
  type MethodAccessMode,
} from './access';
import type { InterfaceClass } from './interface-class';
import type { ResolvedRights } from './rights';

/**
 * Association LN object_list (attribute 2), docs/dlms.md §6 "object_list element":
 *
 *   structure { long-unsigned class_id, unsigned version, octet-string(6) logical_name,
 *     structure { array of structure { integer attribute_id, enum access_mode, null | array of integer selectors },
 *                 array of structure { integer method_id, enum access_mode } } }
 *
 * Real element (TOH): `0204 120008 1100 0906 0000010000FF 0202 0109...`. Method modes are enums
 * (Association LN version 1); a version-0 list carries a boolean, which decode accepts
 * (true = access).
 */
export interface ObjectListAttribute {
  readonly index: number;
  /** Known mode name, or the raw number when a meter sends one outside the table. */
  readonly access: AttributeAccessMode | number;
  /** Selective access selectors, when the attribute has any. */
  readonly selectors: readonly number[] | undefined;
}

export interface ObjectListMethod {
  readonly index: number;
  readonly access: MethodAccessMode | number;
}

export interface ObjectListEntry {
  readonly classId: number;
  readonly version: number;
  readonly obis: Buffer;
  readonly attributes: readonly ObjectListAttribute[];
  readonly methods: readonly ObjectListMethod[];
}

function modeNumber<T extends string>(table: Readonly<Record<T, number>>, v: T | number): number {
  return typeof v === 'number' ? v : table[v];
}

export function encodeObjectListEntry(e: ObjectListEntry): Data {
  return axdr.struct(
    axdr.u16(e.classId),
    axdr.u8(e.version),
    axdr.octets(e.obis),
    axdr.struct(
      axdr.array(
        ...e.attributes.map((a) =>
          axdr.struct(
            axdr.i8(a.index),
            axdr.enum(modeNumber(AttributeAccess, a.access)),
            a.selectors === undefined ? axdr.null() : axdr.array(...a.selectors.map((s) => axdr.i8(s))),
          ),
        ),
      ),
      axdr.array(
        ...e.methods.map((m) => axdr.struct(axdr.i8(m.index), axdr.enum(modeNumber(MethodAccess, m.access)))),
      ),
    ),
  );
}

export function encodeObjectList(entries: readonly ObjectListEntry[]): Data {
  return axdr.array(...entries.map(encodeObjectListEntry));
}

/** The entry the server lists for an object and an association's resolved rights. */
export function objectListEntry(
  o: { readonly cls: InterfaceClass; readonly obis: Buffer; readonly version: number },
  rights: ResolvedRights,
): ObjectListEntry {
  return {
    classId: o.cls.classId,
    version: o.version,
    obis: o.obis,
    attributes: o.cls.attributes.map((a) => ({
      index: a.index,
      access: rights.attributes[a.index] ?? 'no-access',
      selectors: a.selectors,
    })),
    methods: o.cls.methods.map((m) => ({ index: m.index, access: rights.methods[m.index] ?? 'no-access' })),
  };
}

export function objectListData(
  items: ReadonlyArray<{
    readonly obj: { readonly cls: InterfaceClass; readonly obis: Buffer; readonly version: number };
    readonly rights: ResolvedRights;
  }>,
): Data {
  return encodeObjectList(items.map((i) => objectListEntry(i.obj, i.rights)));
}

function bad(path: string, message: string): never {
  throw new SimError(ErrorCode.DecodeInvalid, `${path}: ${message}`, { path });
}

function want<T extends DataTypeName>(d: Data | undefined, type: T, path: string): DataOf<T> {
  if (d === undefined || d.type !== type) bad(path, `expected ${type}, got ${d?.type ?? 'nothing'}`);
  return d as DataOf<T>;
}

function fields(d: Data | undefined, n: number, path: string): readonly Data[] {
  const s = want(d, 'structure', path);
  if (s.items.length !== n) bad(path, `structure of ${s.items.length}, expected ${n}`);
  return s.items;
}

/** Decode an object_list value read from a meter; DecodeInvalid names the offending path. */
export function decodeObjectList(d: Data, path = 'object_list'): ObjectListEntry[] {
  return want(d, 'array', path).items.map((item, i) => decodeObjectListEntry(item, `${path}[${i}]`));
}

export function decodeObjectListEntry(d: Data, path: string): ObjectListEntry {
  const [cls, ver, ln, rights] = fields(d, 4, path);
  const obis = want(ln, 'octet-string', `${path}.logical_name`).value;
  if (obis.length !== 6) bad(`${path}.logical_name`, `logical name of ${obis.length} octets`);
  const [attrs, methods] = fields(rights, 2, `${path}.access_rights`);
  return {
    classId: want(cls, 'long-unsigned', `${path}.class_id`).value,
    version: want(ver, 'unsigned', `${path}.version`).value,
    obis,
    attributes: want(attrs, 'array', `${path}.attribute_access`).items.map((a, k) => {
      const p = `${path}.attribute_access[${k}]`;
      const [id, mode, sel] = fields(a, 3, p);
      const raw = want(mode, 'enum', `${p}.access_mode`).value;
      let selectors: number[] | undefined;
      if (sel!.type === 'array') {
        selectors = sel!.items.map((s, j) => want(s, 'integer', `${p}.access_selectors[${j}]`).value);
      } else want(sel, 'null', `${p}.access_selectors`);
      return {
        index: want(id, 'integer', `${p}.attribute_id`).value,
        access: attributeAccessName(raw) ?? raw,
        selectors,
      };
    }),
    methods: want(methods, 'array', `${path}.method_access`).items.map((m, k) => {
      const p = `${path}.method_access[${k}]`;
      const [id, mode] = fields(m, 2, p);
      let access: MethodAccessMode | number;
      if (mode!.type === 'boolean') access = mode!.value ? 'access' : 'no-access';
      else {
        const raw = want(mode, 'enum', `${p}.access_mode`).value;
        access = methodAccessName(raw) ?? raw;
      }
      return { index: want(id, 'integer', `${p}.method_id`).value, access };
    }),
  };
}
