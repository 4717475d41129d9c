/**
 * Validation of stored meter records. Storage runs every record it loads through
 * `parseMeterState`, so a hand-edited or corrupted row fails loudly with its path instead of
 * surfacing later as a wrong answer on the wire. The record version `v` selects the decoder;
 * older versions would be upgraded here (only version 1 exists so far).
 *
 * Hand-written checks rather than zod: the device layer is loaded by every simulator process
 * (and by each of the kill -9 test's 200 child processes), and zod alone costs ~100 ms of
 * start-up; these checks are also ~10x faster when a farm loads 10,000 records.
 */
import { ErrorCode, SimError } from '../core/errors';
import {
  DEVICE_TYPES,
  METER_EVENT_TYPES,
  METER_STATE_VERSION,
  MIGRATION_STATES,
  PAYMENT_MODES,
  VEND_MODES,
  VEND_SOURCES,
  type MeterEvent,
  type MeterState,
} from './state';

/** A check returns the path and reason of the first problem, or undefined. */
type Check = (v: unknown, path: string) => [string, string] | undefined;

const at = (path: string, key: string): string => (path ? `${path}.${key}` : key);

const isInt = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v);
const int: Check = (v, p) => (isInt(v) ? undefined : [p, 'expected an integer']);
const nonNeg: Check = (v, p) => (isInt(v) && v >= 0 ? undefined : [p, 'expected a non-negative integer']);
const positive: Check = (v, p) => (isInt(v) && v > 0 ? undefined : [p, 'expected a positive integer']);
const str: Check = (v, p) => (typeof v === 'string' ? undefined : [p, 'expected a string']);
const nonEmpty: Check = (v, p) =>
  typeof v === 'string' && v.length > 0 ? undefined : [p, 'expected a non-empty string'];
const bool: Check = (v, p) => (typeof v === 'boolean' ? undefined : [p, 'expected a boolean']);
const literal =
  (x: unknown): Check =>
  (v, p) =>
    v === x ? undefined : [p, `expected ${JSON.stringify(x)}`];
const range =
  (lo: number, hi: number): Check =>
  (v, p) =>
    isInt(v) && v >= lo && v <= hi ? undefined : [p, `expected an integer ${lo}–${hi}`];
const oneOf =
  (values: readonly string[]): Check =>
  (v, p) =>
    typeof v === 'string' && values.includes(v) ? undefined : [p, `expected one of ${values.join('|')}`];
const nullable =
  (c: Check): Check =>
  (v, p) =>
    v === null ? undefined : c(v, p);
const hex: Check = (v, p) =>
  typeof v === 'string' && /^(?:[0-9a-f]{2})*$/.test(v) ? undefined : [p, 'expected lower-case hex'];
const eventValue: Check = (v, p) =>
  v === null ||
  typeof v === 'string' ||
  typeof v === 'boolean' ||
  (typeof v === 'number' && Number.isFinite(v))
    ? undefined
    : [p, 'expected a string, number, boolean or null'];

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** An object with exactly these keys. */
function obj(shape: Record<string, Check>): Check {
  const keys = Object.keys(shape);
  return (v, p) => {
    if (!isPlainObject(v)) return [p || '<root>', 'expected an object'];
    for (const k of keys) {
      const r = shape[k]!(v[k], at(p, k));
      if (r) return r;
    }
    for (const k of Object.keys(v)) if (!(k in shape)) return [at(p, k), 'unknown key'];
    return undefined;
  };
}

function arr(max: number, item: Check): Check {
  return (v, p) => {
    if (!Array.isArray(v)) return [p, 'expected an array'];
    if (v.length > max) return [p, `expected at most ${max} items`];
    for (let i = 0; i < v.length; i++) {
      const r = item(v[i], `${p}[${i}]`);
      if (r) return r;
    }
    return undefined;
  };
}

function record(value: Check): Check {
  return (v, p) => {
    if (!isPlainObject(v)) return [p, 'expected an object'];
    for (const [k, x] of Object.entries(v)) {
      const r = value(x, at(p, k));
      if (r) return r;
    }
    return undefined;
  };
}

const stateV1: Check = obj({
  v: literal(1),
  id: nonEmpty,
  profileId: nonEmpty,
  rev: nonNeg,
  identity: obj({
    manufacturer: str,
    model: str,
    deviceType: oneOf(DEVICE_TYPES),
    serial: str,
    applicationFirmwareId: str,
    metrologyFirmwareId: str,
    deviceId: str,
  }),
  registration: obj({ mpanCore: nullable(str), mprn: nullable(str), supplierId: str, siteId: nullable(str) }),
  prepayment: obj({
    paymentMode: oneOf(PAYMENT_MODES),
    balance: int,
    emergencyCredit: obj({ limit: nonNeg, threshold: nonNeg, active: bool, used: nonNeg }),
    debt: obj({
      paymentBasedPercent: range(0, 100),
      paymentBasedOutstandingPence: nonNeg,
      timeBased: arr(2, obj({ ratePencePerDay: nonNeg, outstandingPence: nonNeg })),
      accumulatedPence: nonNeg,
    }),
    lowCreditThreshold: nonNeg,
    lastVends: arr(
      5,
      obj({
        at: int,
        amountPence: nonNeg,
        mode: oneOf(VEND_MODES),
        source: oneOf(VEND_SOURCES),
        utrnRef: str,
      }),
    ),
    utrnCounters: obj({ accepted: nonNeg, rejected: nonNeg }),
  }),
  card: nullable(obj({ paymentCardId: str, issuerSupplierId: str, registeredAt: int })),
  migration: obj({ state: oneOf(MIGRATION_STATES), at: nullable(int), by: nullable(str) }),
  security: obj({
    secrets: record(hex),
    failures: obj({ consecutive: nonNeg, total: nonNeg }),
    lockedUntil: nullable(int),
    invocationCounters: record(nonNeg),
  }),
  clock: obj({ offsetMs: int }),
  eventSeq: nonNeg,
});

const eventV1: Check = obj({
  seq: positive,
  at: int,
  type: oneOf(METER_EVENT_TYPES),
  actor: nullable(str),
  data: record(eventValue),
});

function schemaError(where: string, [path, reason]: [string, string]): SimError {
  return new SimError(
    ErrorCode.DeviceStorageSchema,
    `${where}: stored record invalid at ${path}: ${reason}`,
    {
      where,
      path,
      reason,
    },
  );
}

/** Decode a stored state record of any known version into the current version. */
/**
 * A stored value for an error message. String() throws on an object whose toString is not a
 * function (`{"toString": []}` in a corrupt record), so objects are shown as (bounded) JSON.
 */
function shownValue(v: unknown): string {
  const text = typeof v === 'object' && v !== null ? JSON.stringify(v) : String(v);
  return text.length > 40 ? `${text.slice(0, 37)}...` : text;
}

export function parseMeterState(raw: unknown, where = 'meter'): MeterState {
  const version = isPlainObject(raw) ? raw['v'] : undefined;
  if (version !== METER_STATE_VERSION)
    throw new SimError(
      ErrorCode.DeviceStorageSchema,
      `${where}: unknown state record version ${shownValue(version)}`,
      {
        where,
        path: 'v',
        reason: 'unknown version',
      },
    );
  const problem = stateV1(raw, '');
  if (problem) throw schemaError(where, problem);
  return raw as unknown as MeterState;
}

export function parseMeterEvent(raw: unknown, where = 'event'): MeterEvent {
  const problem = eventV1(raw, '');
  if (problem) throw schemaError(where, problem);
  return raw as unknown as MeterEvent;
}
