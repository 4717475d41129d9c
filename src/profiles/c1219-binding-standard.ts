/**
 * Standard tables a bound meter serves from its profile and identity: ST1 GENERAL_MFG_ID,
 * ST5 DEVICE_IDENT and ST6 UTIL_INFO (docs/c1218.md §3). The engine serves ST0, ST3, ST7, ST8,
 * ST41, ST42, ST44 and ST52 itself; any other standard table a profile lists has no model
 * behind it here and is refused when binding.
 */
import type { MeterState } from '../device/state';
import { parseEui64 } from '../device/identifiers';
import type { CodecContext, TableLayout, TableRecord } from '../protocols/c1219/field-types';
import { ST6_LAYOUT, StdTable, st1Layout, st5Layout } from '../protocols/c1219/standard-layouts';
import type { FirmwareProfile } from './schema';

/** Standard tables this binding registers (the engine owns the rest of those it serves). */
export const BOUND_STANDARD_TABLES: ReadonlySet<number> = new Set([
  StdTable.GENERAL_MFG_ID,
  StdTable.DEVICE_IDENT,
  StdTable.UTIL_INFO,
]);

/** Standard tables the table engine itself serves (their access comes from the profile). */
export const ENGINE_STANDARD_TABLES: ReadonlySet<number> = new Set([
  StdTable.GEN_CONFIG,
  StdTable.ED_MODE_STATUS,
  StdTable.PROC_INITIATE,
  StdTable.PROC_RESPONSE,
  StdTable.ACT_SECURITY_LIMITING,
  StdTable.SECURITY,
  StdTable.ACCESS_CONTROL,
  StdTable.CLOCK,
]);

/** The last `n` characters: serials are unique at their tail (prefix + counter). modelled. */
function tail(s: string, n: number): string {
  return s.length <= n ? s : s.slice(s.length - n);
}

function digitsTail(s: string, n: number): string {
  return tail(s.replace(/\D/g, ''), n).padStart(n, '0');
}

/** EUI-64 as 16 upper-case hex digits (fits ST5's 20 characters). */
function euiHex(deviceId: string): string {
  return parseEui64(deviceId).toString('hex').toUpperCase();
}

/** EUI-64 as 20 decimal digits (BCD(10) for ID_FORM 1): 2^64 has 20 digits, so it is lossless. */
function euiDecimal(deviceId: string): string {
  return BigInt('0x' + parseEui64(deviceId).toString('hex'))
    .toString()
    .padStart(20, '0');
}

export function standardTableLayout(id: number, ctx: CodecContext): TableLayout {
  switch (id) {
    case StdTable.GENERAL_MFG_ID:
      return st1Layout(ctx.idForm);
    case StdTable.DEVICE_IDENT:
      return st5Layout(ctx.idForm);
    default:
      return ST6_LAYOUT;
  }
}

/**
 * ST1: identification from the profile (docs/c1218.md §3: MANUFACTURER 4, ED_MODEL 8, versions),
 * MFG_SERIAL_NUMBER from the meter: the serial's last 16 characters, or with ID_FORM 1 its last
 * 16 digits (modelled: how a Liberty fills it is not public).
 */
export function st1Record(p: FirmwareProfile, s: MeterState, ctx: CodecContext): TableRecord {
  const id = p.c1219!.identification;
  return {
    MANUFACTURER: id.manufacturer,
    ED_MODEL: id.edModel,
    HW_VERSION_NUMBER: id.hwVersion,
    HW_REVISION_NUMBER: id.hwRevision,
    FW_VERSION_NUMBER: id.fwVersion,
    FW_REVISION_NUMBER: id.fwRevision,
    MFG_SERIAL_NUMBER: ctx.idForm === 1 ? digitsTail(s.identity.serial, 16) : tail(s.identity.serial, 16),
  };
}

/** ST5 IDENTIFICATION: the Device ID (EUI-64), hex or decimal by ID_FORM. modelled. */
export function st5Record(s: MeterState, ctx: CodecContext): TableRecord {
  return {
    IDENTIFICATION: ctx.idForm === 1 ? euiDecimal(s.identity.deviceId) : euiHex(s.identity.deviceId),
  };
}

/**
 * ST6: the utility's view, modelled: OWNER_NAME = registered supplier id, SERVICE_POINT_ID =
 * MPAN core / MPRN, DEVICE_ID = EUI-64 in hex, UTIL_SER_NO = serial; the rest blank.
 */
export function st6Record(s: MeterState): TableRecord {
  const zero10 = Buffer.alloc(10);
  return {
    OWNER_NAME: s.registration.supplierId,
    UTILITY_DIV: '',
    SERVICE_POINT_ID: s.registration.mpanCore ?? s.registration.mprn ?? '',
    ELEC_ADDR: '',
    DEVICE_ID: euiHex(s.identity.deviceId),
    UTIL_SER_NO: tail(s.identity.serial, 20),
    CUSTOMER_ID: '',
    COORDINATE_1: zero10,
    COORDINATE_2: zero10,
    COORDINATE_3: zero10,
    TARIFF_ID: '',
    EX1_SW_VENDOR: '',
    EX1_SW_VERSION_NUMBER: 0,
    EX1_SW_REVISION_NUMBER: 0,
    EX2_SW_VENDOR: '',
    EX2_SW_VERSION_NUMBER: 0,
    EX2_SW_REVISION_NUMBER: 0,
    PROGRAMMER_NAME: '',
    MISC_ID: '',
  };
}

export function standardTableRecord(
  id: number,
  p: FirmwareProfile,
  s: MeterState,
  ctx: CodecContext,
): TableRecord {
  switch (id) {
    case StdTable.GENERAL_MFG_ID:
      return st1Record(p, s, ctx);
    case StdTable.DEVICE_IDENT:
      return st5Record(s, ctx);
    default:
      return st6Record(s);
  }
}
