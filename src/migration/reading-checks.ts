/**
 * Plain-code checks for the values a MeterSession returns, so the interrogation does not run
 * zod on each of the ~100k readings of a sweep (docs/sweep.md "Performance").
 *
 * Each `fast*` function answers a copy of its input in the schema's key order, keeping only
 * the schema's keys (what zod's parse would answer), or `undefined` when it cannot vouch for
 * the value. It is never more lenient than the schema in interrogation-schema.ts /
 * evaluate.ts: anything unusual (an optional key present as undefined, an odd timestamp, a
 * `__proto__` key) answers `undefined`, and the caller then runs the zod schema, which
 * decides and words the error. test/migration/reading-checks.test.ts holds both to that with
 * random values: whenever a fast check accepts, zod accepts and answers an equal value with
 * the same key order.
 */

import { z } from 'zod';
import { COHORTS, DEVICE_TYPES } from './cohorts';
import type { CheckReport, Evaluation } from './evaluate';
import type { CardRecordField, ClockReading } from './interrogation-schema';
import type {
  DeviceIdentity,
  Evidence,
  MeterEvent,
  MeterRegistration,
  MigrationState,
  PrepaymentSummary,
  SessionIdentification,
} from './session';

/** A fast check: a normalised copy, or undefined to defer to the schema. */
export type FastCheck<T> = (v: unknown) => T | undefined;

type Obj = Record<string, unknown>;

const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const isStr = (v: unknown): v is string => typeof v === 'string';
const isInt = (v: unknown): v is number => Number.isSafeInteger(v);
const isNum = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);
const isBool = (v: unknown): v is boolean => typeof v === 'boolean';
const strOrNull = (v: unknown): v is string | null => v === null || typeof v === 'string';

// The canonical form Date#toISOString writes (what every session of ours answers); anything
// else (offsets, other precisions) is left to the schema.
const ISO_MS = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;
function isIso(v: unknown): v is string {
  if (typeof v !== 'string' || v.length !== 24 || !ISO_MS.test(v)) return false;
  // The shape is right; the fields must name a real instant, which toISOString would write back
  // unchanged (what `new Date(Date.parse(v)).toISOString() === v` asked, without the two calls).
  const num = (from: number, to: number): number => Number(v.slice(from, to));
  const year = num(0, 4);
  const month = num(5, 7);
  const day = num(8, 10);
  if (month < 1 || month > 12 || day < 1) return false;
  const leap = year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0);
  const days = month === 2 ? (leap ? 29 : 28) : [4, 6, 9, 11].includes(month) ? 30 : 31;
  return day <= days && num(11, 13) < 24 && num(14, 16) < 60 && num(17, 19) < 60;
}
const isoOrNull = (v: unknown): v is string | null => v === null || isIso(v);

const HEX = /^(?:[0-9a-f]{2})*$/;
const isHex = (v: unknown): v is string => typeof v === 'string' && HEX.test(v);

/** An optional key: absent is fine; present must pass `ok` (present-but-undefined defers). */
const optional = (o: Obj, key: string, ok: (v: unknown) => boolean): boolean =>
  !(key in o) || (o[key] !== undefined && ok(o[key]));

/** A copy of a string-keyed record whose values all pass `ok`, or undefined. */
function recordOf<V>(v: unknown, ok: (x: unknown) => x is V): Record<string, V> | undefined {
  if (!isObj(v) || Object.getPrototypeOf(v) !== Object.prototype) return undefined;
  const out: Record<string, V> = {};
  for (const key of Object.keys(v)) {
    const x = v[key];
    if (key === '__proto__' || !ok(x)) return undefined;
    out[key] = x;
  }
  // Symbol and non-enumerable keys are not ours to judge.
  return Reflect.ownKeys(v).length === Object.keys(v).length ? out : undefined;
}

/** A copy of an array whose items all pass `item`, or undefined. */
export function arrayOf<T>(item: FastCheck<T>): FastCheck<T[]> {
  return (v) => {
    if (!Array.isArray(v)) return undefined;
    const out: T[] = new Array<T>(v.length);
    for (let i = 0; i < v.length; i++) {
      const x = item(v[i]);
      if (x === undefined) return undefined;
      out[i] = x;
    }
    return out;
  };
}

const scalar = (x: unknown): x is string | number | boolean => isStr(x) || isNum(x) || isBool(x);
const scalarOrNull = (x: unknown): x is string | number | boolean | null => x === null || scalar(x);

export const fastSessionIdentification: FastCheck<SessionIdentification> = (v) => {
  if (!isObj(v) || !isStr(v.stack) || !isStr(v.protocol)) return undefined;
  const details = recordOf(v.details, scalar);
  return details && { stack: v.stack, protocol: v.protocol, details };
};

const deviceTypes: readonly unknown[] = DEVICE_TYPES;

export const fastDeviceIdentity: FastCheck<DeviceIdentity> = (v) => {
  if (
    !isObj(v) ||
    !isStr(v.manufacturer) ||
    !isStr(v.model) ||
    !deviceTypes.includes(v.deviceType) ||
    !isStr(v.serial) ||
    !isStr(v.deviceId) ||
    !isStr(v.applicationFirmwareId) ||
    !strOrNull(v.metrologyFirmwareId)
  )
    return undefined;
  return {
    manufacturer: v.manufacturer,
    model: v.model,
    deviceType: v.deviceType as DeviceIdentity['deviceType'],
    serial: v.serial,
    deviceId: v.deviceId,
    applicationFirmwareId: v.applicationFirmwareId,
    metrologyFirmwareId: v.metrologyFirmwareId,
  };
};

export const fastMeterRegistration: FastCheck<MeterRegistration> = (v) => {
  if (!isObj(v) || !strOrNull(v.mpxn) || !strOrNull(v.supplierId) || !strOrNull(v.siteId)) return undefined;
  return { mpxn: v.mpxn, supplierId: v.supplierId, siteId: v.siteId };
};

export const fastCardRecordField: FastCheck<CardRecordField> = (v) => {
  if (!isObj(v)) return undefined;
  if (v.present === false) return { present: false };
  if (
    v.present !== true ||
    !isStr(v.paymentCardId) ||
    !strOrNull(v.issuerSupplierId) ||
    !isoOrNull(v.registeredAt)
  )
    return undefined;
  return {
    present: true,
    paymentCardId: v.paymentCardId,
    issuerSupplierId: v.issuerSupplierId,
    registeredAt: v.registeredAt,
  };
};

export const fastPrepaymentSummary: FastCheck<PrepaymentSummary> = (v) => {
  if (
    !isObj(v) ||
    (v.paymentMode !== 'prepayment' && v.paymentMode !== 'credit') ||
    !isInt(v.balancePence) ||
    !isInt(v.emergencyCreditPence) ||
    !isBool(v.emergencyCreditActive) ||
    !isInt(v.debtPence) ||
    !isoOrNull(v.lastVendAt)
  )
    return undefined;
  return {
    paymentMode: v.paymentMode,
    balancePence: v.balancePence,
    emergencyCreditPence: v.emergencyCreditPence,
    emergencyCreditActive: v.emergencyCreditActive,
    debtPence: v.debtPence,
    lastVendAt: v.lastVendAt,
  };
};

export const fastClockReading: FastCheck<ClockReading> = (v) => {
  if (!isObj(v) || !isIso(v.meterTime) || !isIso(v.hostTime) || !isInt(v.skewMs)) return undefined;
  return { meterTime: v.meterTime, hostTime: v.hostTime, skewMs: v.skewMs };
};

export const fastMigrationState: FastCheck<MigrationState> = (v) => {
  if (!isObj(v)) return undefined;
  if (v.state === 'smso-managed') return { state: 'smso-managed' };
  if (v.state !== 'migrated' || !isIso(v.at) || !isStr(v.by)) return undefined;
  return { state: 'migrated', at: v.at, by: v.by };
};

export const fastMeterEvent: FastCheck<MeterEvent> = (v) => {
  if (!isObj(v) || !isInt(v.seq) || !isIso(v.at) || !isStr(v.type) || !strOrNull(v.actor)) return undefined;
  const data = recordOf(v.data, scalarOrNull);
  return data && { seq: v.seq, at: v.at, type: v.type, actor: v.actor, data };
};

const isU16 = (v: unknown): v is number => isInt(v) && v >= 0 && v <= 0xffff;
const isCount = (v: unknown): boolean => isInt(v) && v >= 0;
const OBIS = /^\d{1,3}-\d{1,3}:\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}$/;

export const fastEvidence: FastCheck<Evidence> = (v) => {
  if (!isObj(v)) return undefined;
  switch (v.kind) {
    case 'c1219-table': {
      if (
        (v.op !== 'read' && v.op !== 'write') ||
        !isU16(v.tableId) ||
        !optional(v, 'offset', isCount) ||
        !optional(v, 'count', isCount) ||
        !isHex(v.bytes)
      )
        return undefined;
      if (!('offset' in v) && !('count' in v))
        return { kind: 'c1219-table', op: v.op, tableId: v.tableId, bytes: v.bytes };
      // Built in the schema's key order: offset and count sit between tableId and bytes.
      const out: Obj = { kind: 'c1219-table', op: v.op, tableId: v.tableId };
      if ('offset' in v) out.offset = v.offset;
      if ('count' in v) out.count = v.count;
      out.bytes = v.bytes;
      return out as Evidence;
    }
    case 'c1219-procedure':
      if (!isU16(v.procedureId) || !isHex(v.request) || !isHex(v.response)) return undefined;
      return {
        kind: 'c1219-procedure',
        procedureId: v.procedureId,
        request: v.request,
        response: v.response,
      };
    case 'cosem':
      if (
        (v.op !== 'get' && v.op !== 'set' && v.op !== 'action') ||
        !isU16(v.classId) ||
        !isStr(v.obis) ||
        !OBIS.test(v.obis) ||
        !isInt(v.index) ||
        !isHex(v.bytes)
      )
        return undefined;
      return { kind: 'cosem', op: v.op, classId: v.classId, obis: v.obis, index: v.index, bytes: v.bytes };
    case 'raw':
      if (!isStr(v.label) || !isHex(v.bytes)) return undefined;
      return { kind: 'raw', label: v.label, bytes: v.bytes };
    default:
      return undefined;
  }
};

export const fastEvidenceList = arrayOf(fastEvidence);
export const fastMeterEvents = arrayOf(fastMeterEvent);

// --- evaluation (checks may be user code, so its output is checked like a reading) ---------

const CHECK_OUTCOMES: readonly unknown[] = ['pass', 'fail', 'cannot-evaluate', 'not-applicable'];
const EVIDENCE_SOURCES: readonly unknown[] = ['meter', 'registration', 'product-list', 'config'];
const cohorts: readonly unknown[] = COHORTS;
const strings = arrayOf((x) => (isStr(x) ? x : undefined));

type CheckEvidence = CheckReport['evidence'][number];
const fastCheckEvidence: FastCheck<CheckEvidence> = (v) => {
  if (!isObj(v) || !EVIDENCE_SOURCES.includes(v.source) || !isStr(v.field) || !scalarOrNull(v.value))
    return undefined;
  if (!strOrNull(v.ref)) return undefined;
  return { source: v.source as CheckEvidence['source'], field: v.field, value: v.value, ref: v.ref };
};
const checkEvidenceList = arrayOf(fastCheckEvidence);

const fastCheckReport: FastCheck<CheckReport> = (v) => {
  if (
    !isObj(v) ||
    !isStr(v.code) ||
    !isStr(v.title) ||
    (v.severity !== 'block' && v.severity !== 'warn') ||
    !CHECK_OUTCOMES.includes(v.outcome) ||
    !isStr(v.reason) ||
    !isBool(v.modelled)
  )
    return undefined;
  const missing = strings(v.missing);
  const evidence = checkEvidenceList(v.evidence);
  if (!missing || !evidence) return undefined;
  return {
    code: v.code,
    title: v.title,
    severity: v.severity,
    outcome: v.outcome as CheckReport['outcome'],
    reason: v.reason,
    missing,
    evidence,
    modelled: v.modelled,
  };
};
const checkReports = arrayOf(fastCheckReport);

export const fastEvaluation: FastCheck<Evaluation> = (v) => {
  if (!isObj(v) || !isObj(v.ruleset) || !isObj(v.subject)) return undefined;
  const r = v.ruleset;
  const s = v.subject;
  if (
    !isStr(r.id) ||
    !isStr(r.version) ||
    !isStr(r.file) ||
    !isBool(r.modelled) ||
    (v.outcome !== 'passed' && v.outcome !== 'blocked' && v.outcome !== 'cannot-evaluate') ||
    !strOrNull(s.mpxn) ||
    !(s.deviceType === null || deviceTypes.includes(s.deviceType)) ||
    !(s.cohort === null || cohorts.includes(s.cohort)) ||
    !strOrNull(s.registration)
  )
    return undefined;
  const blockingCodes = strings(v.blockingCodes);
  const undeterminedCodes = strings(v.undeterminedCodes);
  const warningCodes = strings(v.warningCodes);
  const checks = checkReports(v.checks);
  if (!blockingCodes || !undeterminedCodes || !warningCodes || !checks) return undefined;
  return {
    ruleset: { id: r.id, version: r.version, file: r.file, modelled: r.modelled },
    outcome: v.outcome,
    blockingCodes,
    undeterminedCodes,
    warningCodes,
    subject: {
      mpxn: s.mpxn,
      deviceType: s.deviceType as Evaluation['subject']['deviceType'],
      cohort: s.cohort as Evaluation['subject']['cohort'],
      registration: s.registration,
    },
    checks,
  };
};

/**
 * The value `schema` would answer for `value`: the fast check's copy when it vouches for it,
 * else the schema's safeParse (which also words the error).
 */
export function checkFast<T>(
  fast: FastCheck<T>,
  schema: z.ZodType<T>,
  value: unknown,
): { success: true; data: T } | { success: false; error: z.ZodError } {
  const data = fast(value);
  if (data !== undefined) return { success: true, data };
  const r = schema.safeParse(value);
  return r.success ? { success: true, data: r.data } : { success: false, error: r.error };
}
