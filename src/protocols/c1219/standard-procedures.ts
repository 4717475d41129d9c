/**
 * The standard procedures a simulated meter offers (docs/c1218.md §3 "Standard procedure numbers"):
 * SP3 Clear Data, SP6 Change End Device Mode, SP7/SP8 Clear Standard/Manufacturer Status Flags,
 * SP10 Set Date and/or Time. Each delegates device state to a callback; SP3 and SP10 exist only
 * when the caller supplies their callback (ST0 STD_PROC_USED then lists them).
 */
import type { Access } from './access-control';
import type { SessionAccess } from './contract';
import type {
  MeterClock,
  ModeStatusStore,
  MaybePromise,
  ProcedureDefinition,
  ProcedureOutcome,
  SetDateTimeRequest,
  TimeDateQualifier,
} from './engine-types';
import { type CodecContext, type LTime, type TableRecord, layoutSize } from './field-types';
import { calendarToEpochSeconds } from './ltime';
import { ProcResult } from './procedure-codec';
import { SP10_PARAM_LAYOUT } from './standard-layouts';
import { decodeTable, encodeTable } from './table-codec';

export const StdProc = {
  CLEAR_DATA: 3,
  CHANGE_END_DEVICE_MODE: 6,
  CLEAR_STD_STATUS_FLAGS: 7,
  CLEAR_MFG_STATUS_FLAGS: 8,
  SET_DATE_TIME: 10,
} as const;

/** SP6 parameter = ST3 ED_MODE bit [T `set_meter_mode`: 1 metering, 2 test, 4 meter shop, 8 factory]. */
export const EdMode = { metering: 1, test: 2, meterShop: 4, factory: 8 } as const;
const ED_MODES: readonly number[] = Object.values(EdMode);

/**
 * Default right to run a built-in procedure: any password that grants at least one group.
 * modelled: the SMETS1 meters' ST44 contents are not public.
 */
export const DEFAULT_PROCEDURE_ACCESS: Access = { write: 0xff };

/**
 * In-memory ST3 state. A class rather than closures: every table engine without a mode-status
 * store of its own (one per connection on a farm) holds one, so it is kept to one small object.
 */
class MemoryModeStatus implements ModeStatusStore {
  private mode: number;
  private std1: number;
  private std2: number;
  private mfg: number[];

  constructor(initial: { mode?: number; std1?: number; std2?: number; mfg?: readonly number[] }) {
    this.mode = initial.mode ?? EdMode.metering;
    this.std1 = initial.std1 ?? 0;
    this.std2 = initial.std2 ?? 0;
    this.mfg = [...(initial.mfg ?? [])];
  }

  getMode(): number {
    return this.mode;
  }

  setMode(m: number): void {
    this.mode = m;
  }

  getStatus(): { std1: number; std2: number; mfg: readonly number[] } {
    return { std1: this.std1, std2: this.std2, mfg: this.mfg };
  }

  clearStdStatus(): void {
    this.std1 = 0;
    this.std2 = 0;
  }

  clearMfgStatus(): void {
    this.mfg = [];
  }
}

export function createMemoryModeStatus(
  initial: { mode?: number; std1?: number; std2?: number; mfg?: readonly number[] } = {},
): ModeStatusStore {
  return new MemoryModeStatus(initial);
}

const completed: ProcedureOutcome = { result: ProcResult.completed };
const invalidParameter: ProcedureOutcome = { result: ProcResult.invalidParameter };

function orCompleted(o: ProcedureOutcome | void): ProcedureOutcome {
  return o ?? completed;
}

/** Encode SP10 parameters (client side). modelled layout, see SP10_PARAM_LAYOUT. */
export function encodeSetDateTime(req: SetDateTimeRequest, ctx: CodecContext): Buffer {
  return encodeTable(
    SP10_PARAM_LAYOUT,
    {
      SET_MASK: {
        SET_TIME_FLAG: req.setTime ? 1 : 0,
        SET_DATE_FLAG: req.setDate ? 1 : 0,
        SET_TIME_DATE_QUAL: req.setQualifier ? 1 : 0,
      },
      DATE_TIME: req.dateTime,
      TIME_DATE_QUAL: qualifierBits(req.qualifier, dayOfWeek(req.dateTime)),
    },
    ctx,
  );
}

/** TIME_DATE_QUAL DAY_OF_WEEK, 0 = Sunday (modelled: same numbering as JS getUTCDay); 0 if not a date. */
export function dayOfWeek(t: LTime): number {
  const s = calendarToEpochSeconds(t);
  return s === undefined ? 0 : new Date(s * 1000).getUTCDay();
}

export function qualifierBits(q: TimeDateQualifier, dayOfWeek: number): TableRecord {
  return {
    DAY_OF_WEEK: dayOfWeek,
    DST_FLAG: q.dst ? 1 : 0,
    GMT_FLAG: q.gmt ? 1 : 0,
    TM_ZN_APPLIED_FLAG: q.tmZnApplied ? 1 : 0,
    DST_APPLIED_FLAG: q.dstApplied ? 1 : 0,
  };
}

/** Decode SP10 parameters; undefined when their length or content is invalid (result 2). */
export function decodeSetDateTime(params: Buffer, ctx: CodecContext): SetDateTimeRequest | undefined {
  if (params.length !== layoutSize(SP10_PARAM_LAYOUT, ctx)) return undefined;
  let rec: TableRecord;
  try {
    rec = decodeTable(SP10_PARAM_LAYOUT, params, ctx);
  } catch {
    return undefined;
  }
  const mask = rec['SET_MASK'] as Record<string, number>;
  const q = rec['TIME_DATE_QUAL'] as Record<string, number>;
  const req: SetDateTimeRequest = {
    setTime: mask['SET_TIME_FLAG'] === 1,
    setDate: mask['SET_DATE_FLAG'] === 1,
    setQualifier: mask['SET_TIME_DATE_QUAL'] === 1,
    dateTime: rec['DATE_TIME'] as SetDateTimeRequest['dateTime'],
    qualifier: {
      dst: q['DST_FLAG'] === 1,
      gmt: q['GMT_FLAG'] === 1,
      tmZnApplied: q['TM_ZN_APPLIED_FLAG'] === 1,
      dstApplied: q['DST_APPLIED_FLAG'] === 1,
    },
  };
  // A date-time that is going to be applied must be a real one (e.g. not 31 February).
  if ((req.setTime || req.setDate) && calendarToEpochSeconds(req.dateTime) === undefined) return undefined;
  return req;
}

export interface BuiltinProcedureOptions {
  ctx: CodecContext;
  modeStatus: ModeStatusStore;
  meterClock?: MeterClock;
  clearData?: (params: Buffer, access: SessionAccess) => MaybePromise<ProcedureOutcome | void>;
  access?: Partial<Record<number, Access>>;
}

export function builtinProcedures(o: BuiltinProcedureOptions): ProcedureDefinition[] {
  const acc = (n: number): Access => o.access?.[n] ?? DEFAULT_PROCEDURE_ACCESS;
  const procs: ProcedureDefinition[] = [];
  const { clearData, meterClock } = o;
  if (clearData) {
    procs.push({
      id: StdProc.CLEAR_DATA,
      name: 'Clear Data',
      access: acc(StdProc.CLEAR_DATA),
      // T sends one parameter byte (00) with SP3 (docs/c1218.md §6); parameters are passed through.
      run: async (params, access) => orCompleted(await clearData(params, access)),
    });
  }
  procs.push(
    {
      id: StdProc.CHANGE_END_DEVICE_MODE,
      name: 'Change End Device Mode',
      access: acc(StdProc.CHANGE_END_DEVICE_MODE),
      maxParamLength: 1,
      run: async (params) => {
        if (params.length !== 1 || !ED_MODES.includes(params[0]!)) return invalidParameter;
        await o.modeStatus.setMode(params[0]!);
        return completed;
      },
    },
    {
      id: StdProc.CLEAR_STD_STATUS_FLAGS,
      name: 'Clear Standard Status Flags',
      access: acc(StdProc.CLEAR_STD_STATUS_FLAGS),
      run: async () => {
        await o.modeStatus.clearStdStatus();
        return completed;
      },
    },
    {
      id: StdProc.CLEAR_MFG_STATUS_FLAGS,
      name: 'Clear Manufacturer Status Flags',
      access: acc(StdProc.CLEAR_MFG_STATUS_FLAGS),
      run: async () => {
        await o.modeStatus.clearMfgStatus();
        return completed;
      },
    },
  );
  const set = meterClock?.set?.bind(meterClock);
  if (set) {
    procs.push({
      id: StdProc.SET_DATE_TIME,
      name: 'Set Date and/or Time',
      access: acc(StdProc.SET_DATE_TIME),
      maxParamLength: layoutSize(SP10_PARAM_LAYOUT, o.ctx),
      run: async (params, access) => {
        const req = decodeSetDateTime(params, o.ctx);
        if (!req) return invalidParameter;
        return orCompleted(await set(req, access));
      },
    });
  }
  return procs;
}
