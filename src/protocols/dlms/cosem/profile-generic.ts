import { isSimError } from '../../../core/errors';
import {
  SELECTOR_ENTRY,
  SELECTOR_RANGE,
  captureObjectData,
  parseEntryDescriptor,
  parseRangeDescriptor,
  type CaptureObject,
} from '../apdu/selective-access';
import type { SelectiveAccess } from '../apdu/xdlms-common';
import { axdr } from '../axdr/builders';
import { cosemDateTimeToDate, decodeCosemDateTime } from '../axdr/date-time';
import type { Data } from '../axdr/types';
import { refuse, type MethodHandler, type Refusal } from './context';
import type { CosemObjectDef } from './object-registry';
import type { ObjectRights } from './rights';

/**
 * Profile generic (class 7) buffers with selective access (docs/dlms.md §4.2 "Profile range
 * read", §6): selector 1 range_descriptor {restricting_object, from, to, selected_values} and
 * selector 2 entry_descriptor {from_entry, to_entry, from_selected_value, to_selected_value}.
 *
 * Modelled where the doc is silent: the range is inclusive at both ends; a from/to date-time
 * with unspecified fields is an open bound; entries and columns count from 1 and 0 as `to`
 * means "the last"; a restricting object or selected column that is not a capture object is
 * answered scope-of-access-violated; parameters of the wrong shape type-unmatched.
 */

export type ProfileRow = readonly Data[];

function sameColumn(a: CaptureObject, b: CaptureObject): boolean {
  return a.classId === b.classId && a.attributeId === b.attributeId && a.obis.equals(b.obis);
}

function columnIndex(columns: readonly CaptureObject[], c: CaptureObject): number {
  return columns.findIndex((k) => sameColumn(k, c));
}

/** A number (or instant in ms) to order a cell by, or undefined when it has none. */
function ordinal(d: Data): number | undefined {
  switch (d.type) {
    case 'integer':
    case 'long':
    case 'double-long':
    case 'unsigned':
    case 'long-unsigned':
    case 'double-long-unsigned':
    case 'enum':
    case 'float32':
    case 'float64':
      return d.value;
    case 'long64':
    case 'long64-unsigned':
      return Number(d.value);
    case 'octet-string':
    case 'date-time':
      if (d.value.length !== 12) return undefined;
      return cosemDateTimeToDate(decodeCosemDateTime(d.value))?.getTime();
    default:
      return undefined;
  }
}

function rowsData(rows: readonly ProfileRow[], cols: readonly number[] | undefined): Data {
  return axdr.array(...rows.map((r) => axdr.struct(...(cols ? cols.map((c) => r[c]!) : r))));
}

/** The buffer value for a GET, filtered by the request's selective access. */
export function selectProfileRows(
  columns: readonly CaptureObject[],
  rows: readonly ProfileRow[],
  access: SelectiveAccess | undefined,
): Data | Refusal {
  if (access === undefined) return rowsData(rows, undefined);
  try {
    if (access.selector === SELECTOR_RANGE) {
      const rd = parseRangeDescriptor(access.parameters);
      const col = columnIndex(columns, rd.restrictingObject);
      if (col < 0) return refuse('scope-of-access-violated');
      const from = ordinal(rd.from);
      const to = ordinal(rd.to);
      let cols: number[] | undefined;
      if (rd.selectedValues.length > 0) {
        cols = rd.selectedValues.map((c) => columnIndex(columns, c));
        if (cols.some((c) => c < 0)) return refuse('scope-of-access-violated');
      }
      const picked = rows.filter((r) => {
        const cell = r[col];
        const v = cell === undefined ? undefined : ordinal(cell);
        if (v === undefined) return false;
        return (from === undefined || v >= from) && (to === undefined || v <= to);
      });
      return rowsData(picked, cols);
    }
    if (access.selector === SELECTOR_ENTRY) {
      const ed = parseEntryDescriptor(access.parameters);
      const first = Math.max(1, ed.fromEntry);
      const last = ed.toEntry === 0 ? rows.length : Math.min(ed.toEntry, rows.length);
      const c0 = Math.max(1, ed.fromSelectedValue);
      const c1 = ed.toSelectedValue === 0 ? columns.length : Math.min(ed.toSelectedValue, columns.length);
      const cols: number[] = [];
      for (let c = c0; c <= c1; c++) cols.push(c - 1);
      return rowsData(rows.slice(first - 1, Math.max(first - 1, last)), cols);
    }
    return refuse('scope-of-access-violated');
  } catch (e) {
    if (isSimError(e)) return refuse('type-unmatched');
    throw e;
  }
}

export interface ProfileGenericDef {
  readonly obis: string | Uint8Array;
  readonly columns: readonly CaptureObject[];
  /** The current buffer, oldest first. */
  readonly rows: () => readonly ProfileRow[] | Promise<readonly ProfileRow[]>;
  /** Seconds; 0 = captured on events only. */
  readonly capturePeriod?: number;
  /** Largest number of rows kept. */
  readonly profileEntries?: number;
  /** 1 fifo (default), 2 lifo, ... (Blue Book sort_method). */
  readonly sortMethod?: number;
  readonly reset?: MethodHandler;
  readonly capture?: MethodHandler;
  readonly access: Readonly<Record<string, ObjectRights>>;
}

const NO_SORT_OBJECT: CaptureObject = { classId: 0, obis: Buffer.alloc(6), attributeId: 0, dataIndex: 0 };

/** A complete class 7 object over a row source: buffer (with selectors 1 and 2) and its metadata. */
export function profileGenericObject(def: ProfileGenericDef): CosemObjectDef {
  const captureObjects = axdr.array(...def.columns.map(captureObjectData));
  const methods: Record<number, MethodHandler> = {};
  if (def.reset) methods[1] = def.reset;
  if (def.capture) methods[2] = def.capture;
  return {
    classId: 7,
    obis: def.obis,
    attributes: {
      2: { get: async (ctx) => selectProfileRows(def.columns, await def.rows(), ctx.access) },
      3: { get: () => captureObjects },
      4: { get: () => axdr.u32(def.capturePeriod ?? 0) },
      5: { get: () => axdr.enum(def.sortMethod ?? 1) },
      6: { get: () => captureObjectData(NO_SORT_OBJECT) },
      7: { get: async () => axdr.u32((await def.rows()).length) },
      8: { get: () => axdr.u32(def.profileEntries ?? 0) },
    },
    methods,
    access: def.access,
  };
}
