/**
 * ST7 procedure requests and ST8 procedure responses (docs/c1218.md §3 "ST7 / ST8"), encoded
 * with the ST7/ST8 layout rows so client and meter share one definition. TABLE_IDB_BFLD is in
 * device byte order (ST0 DATA_ORDER): b0-10 procedure number, b11 STD_VS_MFG, b12-15 SELECTOR.
 */
import { MFG_FLAG } from './contract';
import { DEFAULT_CODEC_CONTEXT, type CodecContext, type DataOrder, type TableRecord } from './field-types';
import { ST7_LAYOUT, ST8_LAYOUT } from './standard-layouts';
import { decodeTable, encodeTable } from './table-codec';

/** ST8 RESULT_CODE values [T; M `MEC12BadProcedureResult`]. */
export const ProcResult = {
  completed: 0,
  notCompleted: 1,
  invalidParameter: 2,
  setupConflict: 3,
  timingConstraint: 4,
  noAuthorisation: 5,
  unrecognised: 6,
} as const;
export type ProcResultCode = (typeof ProcResult)[keyof typeof ProcResult];

export function isProcResultCode(v: unknown): v is ProcResultCode {
  return typeof v === 'number' && Number.isInteger(v) && v >= 0 && v <= 6;
}

/** ST7 SELECTOR values [T `C1219ProcedureInit`]; 4..15 are reserved. */
export const ProcSelector = {
  /** Post the response in ST8 on completion. */
  onCompletion: 0,
  /** Post it only when the procedure did not complete normally. */
  onException: 1,
  /** Never post it. */
  never: 2,
  /** Post "accepted" immediately and the final response on completion. */
  immediateAndCompletion: 3,
} as const;

export interface ProcedureRequest {
  /** TBL_PROC_NBR, 0..2047. */
  procedure: number;
  /** STD_VS_MFG_FLAG: true for a manufacturer procedure (MPn = 2048 + n). */
  mfg: boolean;
  selector: number;
  seq: number;
  params: Buffer;
}

export interface ProcedureResponse {
  procedure: number;
  mfg: boolean;
  selector: number;
  seq: number;
  result: number;
  data: Buffer;
}

/** Procedure id as the engine registers it: SPn = n, MPn = 2048 + n. */
export function procedureId(req: { procedure: number; mfg: boolean }): number {
  return req.mfg ? MFG_FLAG + req.procedure : req.procedure;
}

function ctxFor(dataOrder: DataOrder): CodecContext {
  return { ...DEFAULT_CODEC_CONTEXT, dataOrder };
}

/** What ST7 and ST8 both begin with: the procedure (TABLE_IDB_BFLD) and SEQ_NBR. */
type ProcedureHeader = Pick<ProcedureRequest, 'procedure' | 'mfg' | 'selector' | 'seq'>;

function headerFields(h: ProcedureHeader): TableRecord {
  return {
    TABLE_IDB_BFLD: {
      TBL_PROC_NBR: h.procedure,
      STD_VS_MFG_FLAG: h.mfg ? 1 : 0,
      SELECTOR: h.selector,
    },
    SEQ_NBR: h.seq,
  };
}

function headerFrom(rec: TableRecord): ProcedureHeader {
  const idb = rec['TABLE_IDB_BFLD'] as Record<string, number>;
  return {
    procedure: idb['TBL_PROC_NBR']!,
    mfg: idb['STD_VS_MFG_FLAG'] === 1,
    selector: idb['SELECTOR']!,
    seq: rec['SEQ_NBR'] as number,
  };
}

export function encodeProcedureRequest(req: ProcedureRequest, dataOrder: DataOrder): Buffer {
  return encodeTable(ST7_LAYOUT, { ...headerFields(req), PARM: req.params }, ctxFor(dataOrder));
}

/** Throws SimError (DecodeTruncated) if fewer than the 3 header bytes are given. */
export function decodeProcedureRequest(bytes: Uint8Array, dataOrder: DataOrder): ProcedureRequest {
  const rec = decodeTable(ST7_LAYOUT, bytes, ctxFor(dataOrder));
  return { ...headerFrom(rec), params: rec['PARM'] as Buffer };
}

export function encodeProcedureResponse(res: ProcedureResponse, dataOrder: DataOrder): Buffer {
  return encodeTable(
    ST8_LAYOUT,
    { ...headerFields(res), RESULT_CODE: res.result, RESP_DATA: res.data },
    ctxFor(dataOrder),
  );
}

export function decodeProcedureResponse(bytes: Uint8Array, dataOrder: DataOrder): ProcedureResponse {
  const rec = decodeTable(ST8_LAYOUT, bytes, ctxFor(dataOrder));
  return {
    ...headerFrom(rec),
    result: rec['RESULT_CODE'] as number,
    data: rec['RESP_DATA'] as Buffer,
  };
}
