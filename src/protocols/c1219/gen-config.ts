/**
 * ST0 GEN_CONFIG_TBL computed from what the engine serves (docs/c1218.md §3 ST0): the format
 * bytes come from the codec context, the DIM_* sizes and the USED/WRITE bit sets from the
 * registered tables and procedures, so ST0 can never disagree with what the meter answers.
 */
import { MFG_FLAG } from './contract';
import type { GenConfigOptions } from './engine-types';
import type { CodecContext, TableLayout, TableRecord } from './field-types';
import { type St0Dims, st0Layout } from './standard-layouts';

export interface GenConfigInput {
  ctx: CodecContext;
  options: GenConfigOptions;
  tables: readonly { id: number; writable: boolean }[];
  procedures: readonly number[];
  maxProcParmLength: number;
  maxRespDataLen: number;
}

/**
 * DATA_ACCESS_METHOD 1 = full and offset-partial access, which is what the engine serves
 * (index-partial reads 0x31-0x39 are unverified, docs/c1218.md §2). modelled.
 */
export const DATA_ACCESS_FULL_AND_OFFSET = 1;

function setBytes(items: readonly number[]): number {
  return items.length === 0 ? 0 : Math.floor(Math.max(...items) / 8) + 1;
}

export function buildGenConfig(i: GenConfigInput): { layout: TableLayout; record: TableRecord } {
  const byNumber = (a: number, b: number): number => a - b;
  const std = (ids: readonly number[]): number[] => ids.filter((id) => (id & MFG_FLAG) === 0).sort(byNumber);
  const mfg = (ids: readonly number[]): number[] =>
    ids
      .filter((id) => (id & MFG_FLAG) !== 0)
      .map((id) => id & 0x7ff)
      .sort(byNumber);
  const tableIds = i.tables.map((t) => t.id);
  const writeIds = i.tables.filter((t) => t.writable).map((t) => t.id);
  const dims: St0Dims = {
    stdTables: setBytes(std(tableIds)),
    mfgTables: setBytes(mfg(tableIds)),
    stdProcs: setBytes(std(i.procedures)),
    mfgProcs: setBytes(mfg(i.procedures)),
  };
  const o = i.options;
  const record: TableRecord = {
    FORMAT_CONTROL_1: {
      DATA_ORDER: i.ctx.dataOrder === 'big' ? 1 : 0,
      CHAR_FORMAT: i.ctx.charFormat,
      MODEL_SELECT: 0,
    },
    FORMAT_CONTROL_2: {
      TM_FORMAT: i.ctx.tmFormat,
      DATA_ACCESS_METHOD: DATA_ACCESS_FULL_AND_OFFSET,
      ID_FORM: i.ctx.idForm,
      // 0 = two's complement, the only integer format the codec writes.
      INT_FORMAT: 0,
    },
    FORMAT_CONTROL_3: { NI_FORMAT1: o.niFormat1 ?? 0, NI_FORMAT2: o.niFormat2 ?? 0 },
    DEVICE_CLASS: o.deviceClass ?? Buffer.alloc(4),
    NAMEPLATE_TYPE: o.nameplateType ?? 2,
    DEFAULT_SET_USED: 0,
    MAX_PROC_PARM_LENGTH: Math.min(255, i.maxProcParmLength),
    MAX_RESP_DATA_LEN: Math.min(255, i.maxRespDataLen),
    STD_VERSION_NO: o.stdVersion ?? 2,
    STD_REVISION_NO: o.stdRevision ?? 0,
    DIM_STD_TBLS_USED: dims.stdTables,
    DIM_MFG_TBLS_USED: dims.mfgTables,
    DIM_STD_PROC_USED: dims.stdProcs,
    DIM_MFG_PROC_USED: dims.mfgProcs,
    DIM_MFG_STATUS_USED: o.mfgStatusBytes ?? 1,
    NBR_PENDING: 0,
  };
  if (dims.stdTables) {
    record['STD_TBLS_USED'] = std(tableIds);
    record['STD_TBLS_WRITE'] = std(writeIds);
  }
  if (dims.mfgTables) {
    record['MFG_TBLS_USED'] = mfg(tableIds);
    record['MFG_TBLS_WRITE'] = mfg(writeIds);
  }
  if (dims.stdProcs) record['STD_PROC_USED'] = std(i.procedures);
  if (dims.mfgProcs) record['MFG_PROC_USED'] = mfg(i.procedures);
  return { layout: st0Layout(dims), record };
}
