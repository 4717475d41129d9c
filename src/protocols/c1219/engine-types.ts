/**
 * The types through which a caller (later: a profile + device binding) plugs live data and
 * durable operations into the table engine. The engine knows no device: values come from
 * callbacks, and writes/procedures call back and are awaited, so the device operation is durable
 * before the PSEM response leaves (DESIGN.md "durable before the protocol acknowledges it").
 */
import type { Clock } from '../../core/clock';
import type { Logger } from '../../core/logger';
import type { Access } from './access-control';
import type { PsemCodeName, PsemCodeValue, SessionAccess } from './contract';
import type { CodecContext, LTime, TableLayout, TableRecord } from './field-types';
import type { ProcResultCode } from './procedure-codec';

export type MaybePromise<T> = T | Promise<T>;

export interface TableWriteInfo {
  /** The bytes written (whole table image after a partial write was applied). */
  bytes: Buffer;
  /** Offset of a partial write; undefined for a full write. */
  offset: number | undefined;
  access: SessionAccess;
}

export interface TableDefinition {
  /** STn (n < 2048) or MTn (use `mt(n)`). ST0/3/7/8/41/42/44/52 belong to the engine. */
  id: number;
  layout: TableLayout;
  /** Current contents: a record to encode with `layout`, or the table bytes themselves. */
  read: () => MaybePromise<TableRecord | Buffer>;
  /**
   * Absent = the table is read-only (not in ST0 *_TBLS_WRITE). Called with the decoded record
   * after access and length checks; return nothing for ok, or a PSEM code to refuse.
   */
  write?: (record: TableRecord, info: TableWriteInfo) => MaybePromise<PsemCodeValue | void>;
  access: Access;
}

export interface ProcedureOutcome {
  result: ProcResultCode;
  /** ST8 RESP_DATA. */
  response?: Buffer;
}

export interface ProcedureDefinition {
  /** SPn (n < 2048) or MPn (use `mp(n)`). */
  id: number;
  name: string;
  run: (params: Buffer, access: SessionAccess) => MaybePromise<ProcedureOutcome>;
  /** `write` (or `anyWrite`) grants the right to run it. */
  access: Access;
  /** Reported in ST0 MAX_PROC_PARM_LENGTH / MAX_RESP_DATA_LEN (the maximum over all procedures). */
  maxParamLength?: number;
  maxResponseLength?: number;
}

/** ST3 state and the SP6/SP7/SP8 operations on it. */
export interface ModeStatusStore {
  /** ED_MODE bits: b0 metering, b1 test, b2 meter shop, b3 factory. */
  getMode(): MaybePromise<number>;
  setMode(mode: number): MaybePromise<void>;
  /** ED_STD_STATUS1 (16 flag bits), ED_STD_STATUS2, ED_MFG_STATUS (set item numbers). */
  getStatus(): MaybePromise<{ std1: number; std2: number; mfg: readonly number[] }>;
  clearStdStatus(): MaybePromise<void>;
  clearMfgStatus(): MaybePromise<void>;
}

export interface TimeDateQualifier {
  dst?: boolean;
  gmt?: boolean;
  tmZnApplied?: boolean;
  dstApplied?: boolean;
}

/** SP10 Set Date and/or Time, decoded (modelled parameter layout, see SP10_PARAM_LAYOUT). */
export interface SetDateTimeRequest {
  setTime: boolean;
  setDate: boolean;
  setQualifier: boolean;
  dateTime: LTime;
  qualifier: TimeDateQualifier;
}

/** The meter's own clock (ST52, SP10). Distinct from the injectable `Clock` used for lock-out timing. */
export interface MeterClock {
  /** Meter local time as epoch ms whose UTC fields are the local wall-clock fields. */
  now(): MaybePromise<number>;
  qualifier?(): MaybePromise<TimeDateQualifier>;
  /** SP10; absent = SP10 is not offered. Return nothing for "completed". */
  set?(req: SetDateTimeRequest, access: SessionAccess): MaybePromise<ProcedureOutcome | void>;
}

export interface PasswordEntry {
  /** Up to 20 bytes; shorter ones are padded with `SecurityOptions.pad`. A string is Latin-1. */
  password: Buffer | string;
  /** ACCESS_PERMISSIONS group mask granted by this password. */
  groups: number;
}

/** Failed-attempt counter and lock-out deadline, kept by the caller so the device can persist them. */
export interface LockoutStore {
  getFailures(): MaybePromise<number>;
  setFailures(n: number): MaybePromise<void>;
  /** Wall-clock ms (Clock.now) until which Security answers dlk; 0 = not locked. */
  getLockedUntil(): MaybePromise<number>;
  setLockedUntil(ms: number): MaybePromise<void>;
}

export interface SecurityOptions {
  /** ST42 entries; read on every Security request and ST42 read so the device may change them. */
  passwords: () => MaybePromise<readonly PasswordEntry[]>;
  /**
   * Pad byte of stored passwords shorter than 20 bytes: termineter pads with 0x00, MeteringSDK
   * with 0x20 (docs/c1218.md §2 "Security padding differs", §7.3). Default 0x00.
   */
  pad?: 0x00 | 0x20;
  /** Failures before lock-out; 0 disables lock-out. Default 0. */
  maxFailures?: number;
  /** Lock-out duration in ms. Default 60000 (modelled). */
  lockoutMs?: number;
  /** Default: an in-memory store. */
  lockout?: LockoutStore;
}

/** Codes the engine answers where the sources disagree or are silent (all modelled). */
export interface ResponsePolicy {
  /** A table id not served. Default 'iar'. */
  unknownTable?: PsemCodeName;
  /** A write to a table that has no writer (or a read of write-only ST7). Default 'onp'. */
  notWritable?: PsemCodeName;
  /** A partial read that starts inside the table but runs past its end. Default 'iar'. */
  readOverlap?: 'iar' | 'truncate';
}

export interface GenConfigOptions {
  /** ST0 DEVICE_CLASS, 4 bytes. Default 00 00 00 00 (modelled). */
  deviceClass?: Buffer;
  /** ST0 NAMEPLATE_TYPE: 0 gas (GSME), 2 electric (ESME). Default 2. */
  nameplateType?: number;
  /** Default 2 (termineter maps 2 = C12.19-2008; modelled). */
  stdVersion?: number;
  stdRevision?: number;
  niFormat1?: number;
  niFormat2?: number;
  /** DIM_MFG_STATUS_USED: bytes of ST3 ED_MFG_STATUS. Default 1 ([I] docs/c1218.md §3). */
  mfgStatusBytes?: number;
}

export interface TableEngineOptions {
  /** ST0 DATA_ORDER / CHAR_FORMAT / TM_FORMAT / ID_FORM. Default little-endian, ISO 646, TM 2, string ids. */
  format?: Partial<CodecContext>;
  genConfig?: GenConfigOptions;
  /** ST3 + SP6/SP7/SP8. Default: in-memory, metering mode, no flags. */
  modeStatus?: ModeStatusStore;
  /** ST52 + SP10 when given. */
  meterClock?: MeterClock;
  /** SP3 Clear Data when given. Return nothing for "completed". */
  clearData?: (params: Buffer, access: SessionAccess) => MaybePromise<ProcedureOutcome | void>;
  security?: SecurityOptions;
  /** Access to the engine's own tables (ST0, 3, 7, 8, 41, 42, 44, 52) by table id; merged over defaults. */
  tableAccess?: Partial<Record<number, Access>>;
  /** Access to the built-in standard procedures (SP3, 6, 7, 8, 10) by number; merged over defaults. */
  procedureAccess?: Partial<Record<number, Access>>;
  responses?: ResponsePolicy;
  /** Time source for lock-out. Default systemClock. */
  clock?: Clock;
  logger?: Logger;
}
