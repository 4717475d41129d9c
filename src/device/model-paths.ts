/**
 * The model paths a data view may expose: the vocabulary of `source:` in firmware profiles
 * (docs/profiles.md "Sources"). Each path has a value kind (what wire types can carry it),
 * a maximum length for strings, the device types it exists on, and the operation that writes
 * it when a table write targets it. `readModelPath` is what a table engine calls to fill a
 * field; it never exposes anything not listed here (secrets are deliberately absent).
 */
import type { OperationName } from './operations';
import {
  DEVICE_TYPES,
  MIGRATION_STATES,
  PAYMENT_MODES,
  VEND_MODES,
  VEND_SOURCES,
  type DeviceType,
  type MeterState,
} from './state';

/**
 * text = free characters; digits = decimal digit string (BCD-able); eui64 = 8 bytes;
 * int = signed integer; uint = non-negative integer; bool; time = ms since the epoch;
 * enum = one of `values`.
 */
export type ModelValueKind = 'text' | 'digits' | 'eui64' | 'int' | 'uint' | 'bool' | 'time' | 'enum';
export type ModelValue = string | number | boolean | null;

export interface ModelPathSpec {
  path: string;
  kind: ModelValueKind;
  /** Longest string value (text/digits). */
  maxLength?: number;
  /** Allowed values (enum). */
  values?: readonly string[];
  /** Device types the path exists on; all when absent. */
  deviceTypes?: readonly DeviceType[];
  /** Whether the value can be absent (null), e.g. after the card record is cleared. */
  nullable: boolean;
  /** The operation a table write of this path maps to; absent = read-only. */
  setter?: OperationName;
  get(s: MeterState, now: number): ModelValue;
}

type Spec = Omit<ModelPathSpec, 'path' | 'nullable'> & { nullable?: boolean };

const base: Record<string, Spec> = {
  'identity.manufacturer': { kind: 'text', maxLength: 32, get: (s) => s.identity.manufacturer },
  'identity.model': { kind: 'text', maxLength: 32, get: (s) => s.identity.model },
  'identity.deviceType': { kind: 'enum', values: DEVICE_TYPES, get: (s) => s.identity.deviceType },
  'identity.serial': { kind: 'text', maxLength: 32, get: (s) => s.identity.serial },
  'identity.applicationFirmwareId': {
    kind: 'text',
    maxLength: 16,
    get: (s) => s.identity.applicationFirmwareId,
  },
  'identity.metrologyFirmwareId': { kind: 'text', maxLength: 16, get: (s) => s.identity.metrologyFirmwareId },
  'identity.deviceId': { kind: 'eui64', get: (s) => s.identity.deviceId },
  'registration.mpanCore': {
    kind: 'digits',
    maxLength: 13,
    deviceTypes: ['ESME'],
    get: (s) => s.registration.mpanCore,
  },
  'registration.mprn': {
    kind: 'digits',
    maxLength: 11,
    deviceTypes: ['GSME'],
    get: (s) => s.registration.mprn,
  },
  'registration.supplierId': {
    kind: 'text',
    maxLength: 4,
    setter: 'changeSupplier',
    get: (s) => s.registration.supplierId,
  },
  'registration.siteId': {
    kind: 'text',
    maxLength: 20,
    nullable: true,
    setter: 'setSiteId',
    get: (s) => s.registration.siteId,
  },
  'prepayment.paymentMode': {
    kind: 'enum',
    values: PAYMENT_MODES,
    setter: 'setPaymentMode',
    get: (s) => s.prepayment.paymentMode,
  },
  'prepayment.balance': { kind: 'int', get: (s) => s.prepayment.balance },
  'prepayment.emergencyCredit.limit': {
    kind: 'uint',
    setter: 'configurePrepayment',
    get: (s) => s.prepayment.emergencyCredit.limit,
  },
  'prepayment.emergencyCredit.threshold': {
    kind: 'uint',
    setter: 'configurePrepayment',
    get: (s) => s.prepayment.emergencyCredit.threshold,
  },
  'prepayment.emergencyCredit.active': { kind: 'bool', get: (s) => s.prepayment.emergencyCredit.active },
  'prepayment.emergencyCredit.used': { kind: 'uint', get: (s) => s.prepayment.emergencyCredit.used },
  'prepayment.lowCreditThreshold': {
    kind: 'uint',
    setter: 'configurePrepayment',
    get: (s) => s.prepayment.lowCreditThreshold,
  },
  'prepayment.debt.paymentBasedPercent': { kind: 'uint', get: (s) => s.prepayment.debt.paymentBasedPercent },
  'prepayment.debt.paymentBasedOutstandingPence': {
    kind: 'uint',
    get: (s) => s.prepayment.debt.paymentBasedOutstandingPence,
  },
  'prepayment.debt.accumulatedPence': { kind: 'uint', get: (s) => s.prepayment.debt.accumulatedPence },
  'prepayment.utrnCounters.accepted': { kind: 'uint', get: (s) => s.prepayment.utrnCounters.accepted },
  'prepayment.utrnCounters.rejected': { kind: 'uint', get: (s) => s.prepayment.utrnCounters.rejected },
  'card.present': { kind: 'bool', get: (s) => s.card !== null },
  'card.paymentCardId': {
    kind: 'digits',
    maxLength: 19,
    nullable: true,
    setter: 'setCardRecord',
    get: (s) => s.card?.paymentCardId ?? null,
  },
  'card.issuerSupplierId': {
    kind: 'text',
    maxLength: 4,
    nullable: true,
    setter: 'setCardRecord',
    get: (s) => s.card?.issuerSupplierId ?? null,
  },
  'card.registeredAt': { kind: 'time', nullable: true, get: (s) => s.card?.registeredAt ?? null },
  'migration.state': { kind: 'enum', values: MIGRATION_STATES, get: (s) => s.migration.state },
  'migration.at': { kind: 'time', nullable: true, get: (s) => s.migration.at },
  'migration.by': { kind: 'text', maxLength: 64, nullable: true, get: (s) => s.migration.by },
  'security.failures.consecutive': { kind: 'uint', get: (s) => s.security.failures.consecutive },
  'security.failures.total': { kind: 'uint', get: (s) => s.security.failures.total },
  'security.lockedUntil': { kind: 'time', nullable: true, get: (s) => s.security.lockedUntil },
  'clock.now': { kind: 'time', setter: 'setClock', get: (_s, now) => now },
  'clock.offsetMs': { kind: 'int', get: (s) => s.clock.offsetMs },
  'events.lastSeq': { kind: 'uint', get: (s) => s.eventSeq },
};

// Indexed paths: the five kept vends and the two time-based debt registers; an absent entry
// reads as null so a fixed-size table can show "no vend" without a separate count.
for (let i = 0; i < 5; i++) {
  const v = (s: MeterState) => s.prepayment.lastVends[i];
  base[`prepayment.lastVends[${i}].at`] = { kind: 'time', nullable: true, get: (s) => v(s)?.at ?? null };
  base[`prepayment.lastVends[${i}].amountPence`] = {
    kind: 'uint',
    nullable: true,
    get: (s) => v(s)?.amountPence ?? null,
  };
  base[`prepayment.lastVends[${i}].mode`] = {
    kind: 'enum',
    values: VEND_MODES,
    nullable: true,
    get: (s) => v(s)?.mode ?? null,
  };
  base[`prepayment.lastVends[${i}].source`] = {
    kind: 'enum',
    values: VEND_SOURCES,
    nullable: true,
    get: (s) => v(s)?.source ?? null,
  };
  base[`prepayment.lastVends[${i}].utrnRef`] = {
    kind: 'text',
    maxLength: 64,
    nullable: true,
    get: (s) => v(s)?.utrnRef ?? null,
  };
}
for (let i = 0; i < 2; i++) {
  const t = (s: MeterState) => s.prepayment.debt.timeBased[i];
  base[`prepayment.debt.timeBased[${i}].ratePencePerDay`] = {
    kind: 'uint',
    nullable: true,
    get: (s) => t(s)?.ratePencePerDay ?? null,
  };
  base[`prepayment.debt.timeBased[${i}].outstandingPence`] = {
    kind: 'uint',
    nullable: true,
    get: (s) => t(s)?.outstandingPence ?? null,
  };
}

export const MODEL_PATHS: ReadonlyMap<string, ModelPathSpec> = new Map(
  Object.entries(base).map(([path, spec]) => [path, { ...spec, path, nullable: spec.nullable ?? false }]),
);

export function modelPathSpec(path: string): ModelPathSpec | undefined {
  return MODEL_PATHS.get(path);
}

/** The value at `path` (device time `now` for clock.now); undefined for an unknown path. */
export function readModelPath(s: MeterState, path: string, now: number): ModelValue | undefined {
  const spec = MODEL_PATHS.get(path);
  return spec ? spec.get(s, now) : undefined;
}
