import { ByteReader, ByteWriter } from '../../core/bytes';
import { ErrorCode, SimError } from '../../core/errors';

/**
 * The client's view of C12.19 procedures (docs/c1218.md §3 "ST7 / ST8"): ST7 is written with a
 * full write (0x40) as TABLE_IDB_BFLD(2) SEQ_NBR(1) PARM..., ST8 is read back as
 * TABLE_IDB_BFLD(2) SEQ_NBR(1) RESULT_CODE(1) RESP_DATA.... The bitfield is in device byte order
 * (ST0 DATA_ORDER): b0-10 procedure number, b11 STD_VS_MFG, b12-15 SELECTOR.
 * (src/protocols/c1219/procedure-codec.ts encodes the same bytes from the table layouts for the
 * meter side; this one keeps the client free of the table engine.)
 */

export type DataOrder = 'little' | 'big';

export const ST7 = 7;
export const ST8 = 8;

export interface ProcedureCall {
  /** 0..2047. */
  procedure: number;
  /** Manufacturer procedure (MPn = 2048 + n). */
  mfg: boolean;
  /** 0 response on completion, 1 on exception, 2 never, 3 immediately and on completion. */
  selector: number;
  seq: number;
  params: Buffer;
}

export interface ProcedureResult {
  procedure: number;
  mfg: boolean;
  selector: number;
  seq: number;
  /** 0 completed, 1 accepted not completed, 2 invalid parameter, 3 setup conflict,
   *  4 timing constraint, 5 no authorisation, 6 unrecognised procedure. */
  result: number;
  data: Buffer;
}

export const PROCEDURE_RESULT_NAMES: readonly string[] = [
  'completed',
  'notCompleted',
  'invalidParameter',
  'setupConflict',
  'timingConstraint',
  'noAuthorisation',
  'unrecognisedProcedure',
];

export function procedureResultName(result: number): string {
  return PROCEDURE_RESULT_NAMES[result] ?? `result ${result}`;
}

function bitfield(call: { procedure: number; mfg: boolean; selector: number }): number {
  if (!Number.isInteger(call.procedure) || call.procedure < 0 || call.procedure > 0x7ff) {
    throw new SimError(ErrorCode.EncodeInvalid, `ST7: procedure ${call.procedure} is not 0..2047`);
  }
  if (!Number.isInteger(call.selector) || call.selector < 0 || call.selector > 15) {
    throw new SimError(ErrorCode.EncodeInvalid, `ST7: selector ${call.selector} is not 0..15`);
  }
  return call.procedure | (call.mfg ? 0x0800 : 0) | (call.selector << 12);
}

export function encodeProcedureCall(call: ProcedureCall, order: DataOrder): Buffer {
  return new ByteWriter(3 + call.params.length)
    .uint(bitfield(call), 2, order === 'little')
    .u8(call.seq)
    .bytes(call.params)
    .toBuffer();
}

export function decodeProcedureCall(bytes: Uint8Array, order: DataOrder): ProcedureCall {
  const r = new ByteReader(bytes, 'ST7');
  const b = r.uint(2, order === 'little', 'TABLE_IDB_BFLD');
  const seq = r.u8('SEQ_NBR');
  return { procedure: b & 0x7ff, mfg: (b & 0x0800) !== 0, selector: b >>> 12, seq, params: r.rest() };
}

export function encodeProcedureResult(res: ProcedureResult, order: DataOrder): Buffer {
  return new ByteWriter(4 + res.data.length)
    .uint(bitfield(res), 2, order === 'little')
    .u8(res.seq)
    .u8(res.result)
    .bytes(res.data)
    .toBuffer();
}

export function decodeProcedureResult(bytes: Uint8Array, order: DataOrder): ProcedureResult {
  const r = new ByteReader(bytes, 'ST8');
  const b = r.uint(2, order === 'little', 'TABLE_IDB_BFLD');
  const seq = r.u8('SEQ_NBR');
  const result = r.u8('RESULT_CODE');
  return { procedure: b & 0x7ff, mfg: (b & 0x0800) !== 0, selector: b >>> 12, seq, result, data: r.rest() };
}

/** ST0 FORMAT_CONTROL_1 bit 0: 0 little-endian, 1 big-endian (docs/c1218.md §3). */
export function dataOrderFromSt0(st0: Uint8Array): DataOrder {
  if (st0.length < 1)
    throw new SimError(ErrorCode.DecodeTruncated, 'ST0: empty, DATA_ORDER unknown', { path: 'ST0' });
  return (st0[0]! & 0x01) !== 0 ? 'big' : 'little';
}
