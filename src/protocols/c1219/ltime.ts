/**
 * LTIME_DATE codec for the four ST0 TM_FORMATs (docs/c1218.md §3 "Byte order and time format"):
 *   1 = BCD YY MM DD hh mm ss (6 bytes)
 *   2 = UINT8 YY MM DD hh mm ss (6 bytes)
 *   3 = UINT32 minutes since 1970 + UINT8 seconds (5 bytes)
 *   4 = UINT32 seconds since 1970 (4 bytes)
 * The counters of formats 3 and 4 follow ST0 DATA_ORDER like every other integer.
 */
import type { ByteReader, ByteWriter } from '../../core/bytes';
import { ErrorCode, SimError } from '../../core/errors';
import type { CodecContext, LTime } from './field-types';

/**
 * Two-digit years: 90..99 -> 1990s, 00..89 -> 2000..2089. This is the window termineter applies
 * in `format_ltime` [T]; the C12.19 text itself was not available (docs/c1218.md preamble).
 */
export const YEAR_WINDOW = { first: 1990, last: 2089 } as const;

function yearFromYY(yy: number): number {
  return yy >= 90 ? 1900 + yy : 2000 + yy;
}

function encodeFail(path: string, message: string, value: unknown): never {
  throw new SimError(ErrorCode.EncodeInvalid, `${path}: ${message}`, { path, value });
}

const FIELDS = ['year', 'month', 'day', 'hour', 'minute', 'second'] as const;

function checkShape(t: unknown, path: string): LTime {
  if (typeof t !== 'object' || t === null)
    encodeFail(path, 'LTIME needs {year, month, day, hour, minute, second}', t);
  const o = t as Record<string, unknown>;
  for (const k of FIELDS) {
    const v = o[k];
    if (typeof v !== 'number' || !Number.isInteger(v)) encodeFail(`${path}.${k}`, 'not an integer', v);
  }
  return t as LTime;
}

/** Epoch seconds of a calendar time (UTC arithmetic), or undefined if the fields are not a real date. */
export function calendarToEpochSeconds(t: LTime): number | undefined {
  const ms = Date.UTC(t.year, t.month - 1, t.day, t.hour, t.minute, t.second);
  const d = new Date(ms);
  if (
    !Number.isFinite(ms) ||
    d.getUTCFullYear() !== t.year ||
    d.getUTCMonth() !== t.month - 1 ||
    d.getUTCDate() !== t.day ||
    d.getUTCHours() !== t.hour ||
    d.getUTCMinutes() !== t.minute ||
    d.getUTCSeconds() !== t.second
  )
    return undefined;
  return ms / 1000;
}

/** Calendar fields of an epoch-ms instant read as UTC (the meter's local wall time is passed as such). */
export function ltimeFromEpochMs(ms: number): LTime {
  const d = new Date(Math.floor(ms / 1000) * 1000);
  return {
    year: d.getUTCFullYear(),
    month: d.getUTCMonth() + 1,
    day: d.getUTCDate(),
    hour: d.getUTCHours(),
    minute: d.getUTCMinutes(),
    second: d.getUTCSeconds(),
  };
}

/** Epoch ms of calendar fields read as UTC; NaN when they are not a real date. */
export function ltimeToEpochMs(t: LTime): number {
  const s = calendarToEpochSeconds(t);
  return s === undefined ? NaN : s * 1000;
}

function toBcd(v: number): number {
  return ((v / 10) | 0) * 16 + (v % 10);
}

export function encodeLtime(w: ByteWriter, value: unknown, ctx: CodecContext, path: string): void {
  const t = checkShape(value, path);
  const le = ctx.dataOrder === 'little';
  if (ctx.tmFormat === 1 || ctx.tmFormat === 2) {
    if (t.year < YEAR_WINDOW.first || t.year > YEAR_WINDOW.last)
      encodeFail(
        `${path}.year`,
        `outside the two-digit window ${YEAR_WINDOW.first}..${YEAR_WINDOW.last}`,
        t.year,
      );
    const max = ctx.tmFormat === 1 ? 99 : 255;
    const parts = [t.year % 100, t.month, t.day, t.hour, t.minute, t.second];
    parts.forEach((v, i) => {
      if (v < 0 || v > max) encodeFail(`${path}.${FIELDS[i]!}`, `out of range 0..${max}`, v);
    });
    for (const v of parts) w.u8(ctx.tmFormat === 1 ? toBcd(v) : v);
    return;
  }
  const secs = calendarToEpochSeconds(t);
  if (secs === undefined) encodeFail(path, 'not a valid calendar date-time', t);
  if (ctx.tmFormat === 3) {
    const minutes = Math.floor(secs / 60);
    if (minutes < 0 || minutes > 0xffffffff) encodeFail(path, 'outside the UINT32 minute counter', t);
    w.uint(minutes, 4, le).u8(secs - minutes * 60);
    return;
  }
  if (secs < 0 || secs > 0xffffffff) encodeFail(path, 'outside the UINT32 second counter (1970..2106)', t);
  w.uint(secs, 4, le);
}

export function decodeLtime(r: ByteReader, ctx: CodecContext, path: string): LTime {
  const le = ctx.dataOrder === 'little';
  if (ctx.tmFormat === 1 || ctx.tmFormat === 2) {
    const raw = r.view(6, path);
    const parts: number[] = [];
    for (let i = 0; i < 6; i++) {
      const b = raw[i]!;
      if (ctx.tmFormat === 1) {
        const hi = b >> 4;
        const lo = b & 0x0f;
        if (hi > 9 || lo > 9)
          throw new SimError(
            ErrorCode.DecodeInvalid,
            `${path}.${FIELDS[i]!}: 0x${b.toString(16)} is not BCD`,
            {
              path: `${path}.${FIELDS[i]!}`,
            },
          );
        parts.push(hi * 10 + lo);
      } else parts.push(b);
    }
    if (parts[0]! > 99)
      throw new SimError(ErrorCode.DecodeInvalid, `${path}.year: ${parts[0]!} is not a two-digit year`, {
        path: `${path}.year`,
      });
    // Formats 1 and 2 carry discrete fields: keep them as sent (a meter may send 00-00-00 for "unset").
    return {
      year: yearFromYY(parts[0]!),
      month: parts[1]!,
      day: parts[2]!,
      hour: parts[3]!,
      minute: parts[4]!,
      second: parts[5]!,
    };
  }
  if (ctx.tmFormat === 3) {
    const minutes = r.uint(4, le, path);
    const seconds = r.u8(path);
    return ltimeFromEpochMs((minutes * 60 + seconds) * 1000);
  }
  return ltimeFromEpochMs(r.uint(4, le, path) * 1000);
}
