import { ByteReader } from '../../../core/bytes';
import { encodeError } from './limits';

/**
 * COSEM date-time (docs/dlms.md §5 "date-time"): 12 octets
 *
 *   year(2) month day day-of-week hour minute second hundredths deviation(int16 minutes) clock-status
 *
 * 0xFF (0xFFFF for the year) means "not specified" and is `null` here; deviation 0x8000 means
 * not specified. Month 0xFD/0xFE (DST end/begin) and day 0xFD/0xFE (second-last/last day of the
 * month) are Blue Book wildcards: they are kept as their raw numbers. Attributes usually carry
 * the 12 octets as an octet-string `09 0C` (U9N; GXPY `GXDLMSClock` attribute 2), which is why
 * this module works on Buffers and leaves tagging to the caller.
 *
 * Deviation sign: U9N `tests/test_time.py` pairs `...FF88FF` with +02:00 and `...FFC4FF` with
 * +01:00, so deviation = UTC - local in minutes, i.e. UTC = local + deviation.
 */
export interface CosemDateTime {
  year: number | null;
  month: number | null;
  dayOfMonth: number | null;
  /** 1 = Monday ... 7 = Sunday. */
  dayOfWeek: number | null;
  hour: number | null;
  minute: number | null;
  second: number | null;
  hundredths: number | null;
  /** Minutes, UTC - local; null when not specified (0x8000). */
  deviation: number | null;
  /** Clock status bits; null when not specified (0xFF). */
  clockStatus: number | null;
}

export type CosemDate = Pick<CosemDateTime, 'year' | 'month' | 'dayOfMonth' | 'dayOfWeek'>;
export type CosemTime = Pick<CosemDateTime, 'hour' | 'minute' | 'second' | 'hundredths'>;

export const MONTH_DST_END = 0xfd;
export const MONTH_DST_BEGIN = 0xfe;
export const DAY_SECOND_LAST = 0xfd;
export const DAY_LAST = 0xfe;
const DEVIATION_UNSPECIFIED = -0x8000;

function u8OrNull(v: number): number | null {
  return v === 0xff ? null : v;
}

function readDate(r: ByteReader): CosemDate {
  const year = r.u16be('year');
  return {
    year: year === 0xffff ? null : year,
    month: u8OrNull(r.u8('month')),
    dayOfMonth: u8OrNull(r.u8('dayOfMonth')),
    dayOfWeek: u8OrNull(r.u8('dayOfWeek')),
  };
}

function readTime(r: ByteReader): CosemTime {
  return {
    hour: u8OrNull(r.u8('hour')),
    minute: u8OrNull(r.u8('minute')),
    second: u8OrNull(r.u8('second')),
    hundredths: u8OrNull(r.u8('hundredths')),
  };
}

export function decodeCosemDateTime(octets: Uint8Array, path = 'dateTime'): CosemDateTime {
  const r = new ByteReader(octets, path);
  if (octets.length !== 12) r.fail(`a date-time is 12 octets, got ${octets.length}`);
  const date = readDate(r);
  const time = readTime(r);
  const deviation = r.i16be('deviation');
  const clockStatus = u8OrNull(r.u8('clockStatus'));
  return { ...date, ...time, deviation: deviation === DEVIATION_UNSPECIFIED ? null : deviation, clockStatus };
}

export function decodeCosemDate(octets: Uint8Array, path = 'date'): CosemDate {
  const r = new ByteReader(octets, path);
  if (octets.length !== 5) r.fail(`a date is 5 octets, got ${octets.length}`);
  return readDate(r);
}

export function decodeCosemTime(octets: Uint8Array, path = 'time'): CosemTime {
  const r = new ByteReader(octets, path);
  if (octets.length !== 4) r.fail(`a time is 4 octets, got ${octets.length}`);
  return readTime(r);
}

function byteField(out: Buffer, at: number, v: number | null, path: string, name: string): void {
  if (v === null) {
    out[at] = 0xff;
    return;
  }
  if (!Number.isInteger(v) || v < 0 || v > 0xfe) {
    throw encodeError(`${path}.${name}`, `value ${v} out of range 0..254 (or null)`, { value: v });
  }
  out[at] = v;
}

function writeDate(out: Buffer, at: number, d: CosemDate, path: string): void {
  if (d.year === null) out.writeUInt16BE(0xffff, at);
  else if (!Number.isInteger(d.year) || d.year < 0 || d.year > 0xfffe) {
    throw encodeError(`${path}.year`, `value ${d.year} out of range 0..65534 (or null)`);
  } else out.writeUInt16BE(d.year, at);
  byteField(out, at + 2, d.month, path, 'month');
  byteField(out, at + 3, d.dayOfMonth, path, 'dayOfMonth');
  byteField(out, at + 4, d.dayOfWeek, path, 'dayOfWeek');
}

function writeTime(out: Buffer, at: number, t: CosemTime, path: string): void {
  byteField(out, at, t.hour, path, 'hour');
  byteField(out, at + 1, t.minute, path, 'minute');
  byteField(out, at + 2, t.second, path, 'second');
  byteField(out, at + 3, t.hundredths, path, 'hundredths');
}

export function encodeCosemDateTime(dt: CosemDateTime, path = 'dateTime'): Buffer {
  const out = Buffer.alloc(12);
  writeDate(out, 0, dt, path);
  writeTime(out, 5, dt, path);
  if (dt.deviation === null) out.writeInt16BE(DEVIATION_UNSPECIFIED, 9);
  else if (
    !Number.isInteger(dt.deviation) ||
    dt.deviation <= DEVIATION_UNSPECIFIED ||
    dt.deviation > 0x7fff
  ) {
    throw encodeError(`${path}.deviation`, `value ${dt.deviation} out of range -32767..32767 (or null)`);
  } else out.writeInt16BE(dt.deviation, 9);
  byteField(out, 11, dt.clockStatus, path, 'clockStatus');
  return out;
}

export function encodeCosemDate(d: CosemDate, path = 'date'): Buffer {
  const out = Buffer.alloc(5);
  writeDate(out, 0, d, path);
  return out;
}

export function encodeCosemTime(t: CosemTime, path = 'time'): Buffer {
  const out = Buffer.alloc(4);
  writeTime(out, 0, t, path);
  return out;
}

export interface FromDateOptions {
  /** Minutes, UTC - local (e.g. -60 for BST/CET). The fields are local time at this offset. Default 0. */
  deviation?: number;
  /** Default 0x00 (status OK). */
  clockStatus?: number | null;
  /** Fill day-of-week (default true) or leave it unspecified. */
  dayOfWeek?: boolean;
}

/** A COSEM date-time for an instant, expressed in the local time of the given deviation. */
export function cosemDateTimeFromDate(date: Date, opts: FromDateOptions = {}): CosemDateTime {
  const deviation = opts.deviation ?? 0;
  const t = date.getTime();
  if (!Number.isFinite(t)) throw encodeError('dateTime', 'invalid Date');
  // Local wall clock = UTC - deviation; read the fields of that shifted instant in UTC.
  const local = new Date(t - deviation * 60_000);
  const jsDay = local.getUTCDay();
  return {
    year: local.getUTCFullYear(),
    month: local.getUTCMonth() + 1,
    dayOfMonth: local.getUTCDate(),
    dayOfWeek: opts.dayOfWeek === false ? null : jsDay === 0 ? 7 : jsDay,
    hour: local.getUTCHours(),
    minute: local.getUTCMinutes(),
    second: local.getUTCSeconds(),
    hundredths: Math.floor(local.getUTCMilliseconds() / 10),
    deviation,
    clockStatus: opts.clockStatus === undefined ? 0 : opts.clockStatus,
  };
}

export interface ToDateOptions {
  /**
   * Deviation to assume when the date-time leaves it unspecified. Default 0 (GMT): SMETS1
   * meters are in GB. Modelled assumption, not from a standard.
   */
  unspecifiedDeviation?: number;
}

/**
 * The instant a fully specified date-time names, or undefined when a field the instant needs
 * (year .. second) is unspecified or a wildcard, or the fields do not form a real calendar date.
 * Unspecified hundredths count as 0.
 */
export function cosemDateTimeToDate(dt: CosemDateTime, opts: ToDateOptions = {}): Date | undefined {
  const { year, month, dayOfMonth, hour, minute, second } = dt;
  if (
    year === null ||
    month === null ||
    dayOfMonth === null ||
    hour === null ||
    minute === null ||
    second === null
  ) {
    return undefined;
  }
  if (
    month < 1 ||
    month > 12 ||
    dayOfMonth < 1 ||
    dayOfMonth > 31 ||
    hour > 23 ||
    minute > 59 ||
    second > 59
  ) {
    return undefined;
  }
  const hundredths = dt.hundredths ?? 0;
  if (hundredths > 99) return undefined;
  const localMs = Date.UTC(year, month - 1, dayOfMonth, hour, minute, second, hundredths * 10);
  // Date.UTC maps years 0..99 to 1900..1999; rebuild with setUTCFullYear to keep the real year.
  const check = new Date(localMs);
  check.setUTCFullYear(year);
  if (check.getUTCMonth() !== month - 1 || check.getUTCDate() !== dayOfMonth) return undefined;
  const deviation = dt.deviation ?? opts.unspecifiedDeviation ?? 0;
  return new Date(check.getTime() + deviation * 60_000);
}
