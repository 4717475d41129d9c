import { ErrorCode, SimError } from '../../../core/errors';
import { axdr } from '../axdr/builders';
import type { Data, DataOf, DataTypeName } from '../axdr/types';
import type { SelectiveAccess } from './xdlms-common';

/**
 * Profile generic (class 7) selective access parameters, typed (docs/dlms.md §4.2 "Profile range
 * read", U9N `tests/test_xdlms/test_selective_access.py`):
 *
 *   selector 1, range_descriptor  structure { restricting_object, from_value, to_value, selected_values }
 *   selector 2, entry_descriptor  structure { from_entry u32, to_entry u32, from_selected_value u16, to_selected_value u16 }
 *
 * A capture_object_definition is structure { class_id long-unsigned, logical_name octet-string(6),
 * attribute_index integer, data_index long-unsigned } (`0204 120008 0906 0000010000FF 0F02 120000`).
 * selected_values `01 00` (empty array) means all columns.
 */
export const SELECTOR_RANGE = 1;
export const SELECTOR_ENTRY = 2;

export interface CaptureObject {
  readonly classId: number;
  readonly obis: Buffer;
  readonly attributeId: number;
  readonly dataIndex: number;
}

export interface RangeDescriptor {
  readonly restrictingObject: CaptureObject;
  /** Usually date-time octet-strings for a clock restricting object. */
  readonly from: Data;
  readonly to: Data;
  /** Empty = all columns. */
  readonly selectedValues: readonly CaptureObject[];
}

export interface EntryDescriptor {
  readonly fromEntry: number;
  /** 0 = up to the last entry (Blue Book convention). */
  readonly toEntry: number;
  readonly fromSelectedValue: number;
  /** 0 = up to the last column. */
  readonly toSelectedValue: number;
}

export function captureObjectData(c: CaptureObject): Data {
  return axdr.struct(axdr.u16(c.classId), axdr.octets(c.obis), axdr.i8(c.attributeId), axdr.u16(c.dataIndex));
}

export function rangeAccess(rd: RangeDescriptor): SelectiveAccess {
  return {
    selector: SELECTOR_RANGE,
    parameters: axdr.struct(
      captureObjectData(rd.restrictingObject),
      rd.from,
      rd.to,
      axdr.array(...rd.selectedValues.map(captureObjectData)),
    ),
  };
}

export function entryAccess(ed: EntryDescriptor): SelectiveAccess {
  return {
    selector: SELECTOR_ENTRY,
    parameters: axdr.struct(
      axdr.u32(ed.fromEntry),
      axdr.u32(ed.toEntry),
      axdr.u16(ed.fromSelectedValue),
      axdr.u16(ed.toSelectedValue),
    ),
  };
}

function invalid(path: string, message: string): SimError {
  return new SimError(ErrorCode.DecodeInvalid, `${path}: ${message}`, { path });
}

function want<T extends DataTypeName>(d: Data | undefined, type: T, path: string): DataOf<T> {
  if (d === undefined || d.type !== type)
    throw invalid(path, `expected ${type}, got ${d?.type ?? 'nothing'}`);
  return d as DataOf<T>;
}

function fields(d: Data, n: number, path: string): readonly Data[] {
  const s = want(d, 'structure', path);
  if (s.items.length !== n) throw invalid(path, `structure of ${s.items.length}, expected ${n}`);
  return s.items;
}

export function parseCaptureObject(d: Data, path = 'captureObject'): CaptureObject {
  const [c, ln, a, i] = fields(d, 4, path);
  const obis = want(ln, 'octet-string', `${path}.logicalName`).value;
  if (obis.length !== 6) throw invalid(`${path}.logicalName`, `logical name of ${obis.length} octets`);
  return {
    classId: want(c, 'long-unsigned', `${path}.classId`).value,
    obis,
    attributeId: want(a, 'integer', `${path}.attributeIndex`).value,
    dataIndex: want(i, 'long-unsigned', `${path}.dataIndex`).value,
  };
}

/** Parameters of selector 1; throws DecodeInvalid with the path of the offending field. */
export function parseRangeDescriptor(parameters: Data, path = 'rangeDescriptor'): RangeDescriptor {
  const [restricting, from, to, selected] = fields(parameters, 4, path);
  return {
    restrictingObject: parseCaptureObject(restricting!, `${path}.restrictingObject`),
    from: from!,
    to: to!,
    selectedValues: want(selected, 'array', `${path}.selectedValues`).items.map((c, k) =>
      parseCaptureObject(c, `${path}.selectedValues[${k}]`),
    ),
  };
}

/** Parameters of selector 2. */
export function parseEntryDescriptor(parameters: Data, path = 'entryDescriptor'): EntryDescriptor {
  const [fe, te, fs, ts] = fields(parameters, 4, path);
  return {
    fromEntry: want(fe, 'double-long-unsigned', `${path}.fromEntry`).value,
    toEntry: want(te, 'double-long-unsigned', `${path}.toEntry`).value,
    fromSelectedValue: want(fs, 'long-unsigned', `${path}.fromSelectedValue`).value,
    toSelectedValue: want(ts, 'long-unsigned', `${path}.toSelectedValue`).value,
  };
}
