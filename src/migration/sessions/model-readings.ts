/**
 * Turning model-path values read from a meter into MeterSession values. Both stacks read the
 * same device model paths (through C12.19 tables or COSEM objects), so the conversion and its
 * checks live here once; each session only says how the values travel on its wire.
 */
import { ErrorCode, SimError } from '../../core/errors';
import type { ModelValue } from '../../device/model-paths';
import type { FirmwareProfile } from '../../profiles/schema';
import type {
  CardRecord,
  DeviceIdentity,
  MeterRegistration,
  MigrationState,
  PrepaymentSummary,
} from '../session';

/** Values read by model path; `undefined` = the profile does not map that path. */
export interface ModelValues {
  get(path: string): ModelValue | undefined;
}

export const iso = (ms: number): string => new Date(ms).toISOString();

export function invalid(message: string, context: Record<string, unknown> = {}): SimError {
  return new SimError(ErrorCode.ServiceInvalidResponse, message, context);
}

export function str(v: ModelValue | undefined): string | null {
  return typeof v === 'string' ? v : null;
}

export function num(v: ModelValue | undefined): number | null {
  return typeof v === 'number' ? v : null;
}

export const IDENTITY_PATHS = {
  required: ['identity.serial', 'identity.deviceId', 'identity.applicationFirmwareId'],
  optional: [
    'identity.metrologyFirmwareId',
    'identity.manufacturer',
    'identity.model',
    'identity.deviceType',
  ],
} as const;

/** Manufacturer, model and device type are constants of the profile's firmware unless the meter carries them. */
export function identityFrom(v: ModelValues, p: FirmwareProfile['identity']): DeviceIdentity {
  const serial = str(v.get('identity.serial'));
  const deviceId = str(v.get('identity.deviceId'));
  const app = str(v.get('identity.applicationFirmwareId'));
  if (serial === null || deviceId === null || app === null)
    throw invalid('identity: serial, device id and application firmware must not be blank', {
      serial,
      deviceId,
      applicationFirmwareId: app,
    });
  const deviceType = str(v.get('identity.deviceType')) ?? p.deviceType;
  if (deviceType !== 'ESME' && deviceType !== 'GSME') throw invalid(`identity: device type ${deviceType}`);
  return {
    manufacturer: str(v.get('identity.manufacturer')) ?? p.manufacturer,
    model: str(v.get('identity.model')) ?? p.model,
    deviceType,
    serial,
    deviceId,
    applicationFirmwareId: app,
    metrologyFirmwareId: str(v.get('identity.metrologyFirmwareId')),
  };
}

/** MPAN core on an ESME, MPRN on a GSME. */
export function registrationPaths(deviceType: string): string[] {
  return [
    deviceType === 'ESME' ? 'registration.mpanCore' : 'registration.mprn',
    'registration.supplierId',
    'registration.siteId',
  ];
}

export function registrationFrom(v: ModelValues, deviceType: string): MeterRegistration {
  const [mpxn] = registrationPaths(deviceType);
  return {
    mpxn: str(v.get(mpxn!)),
    supplierId: str(v.get('registration.supplierId')),
    siteId: str(v.get('registration.siteId')),
  };
}

export const CARD_PATHS = {
  required: ['card.paymentCardId'],
  optional: ['card.present', 'card.issuerSupplierId', 'card.registeredAt'],
} as const;

/**
 * The card record, once the session has decided a card is there: whether one is differs per
 * stack (C12.18's CARD_PRESENT flag, DLMS's empty structure), what it holds does not.
 */
export function cardRecordFrom(v: ModelValues, paymentCardId: string): CardRecord {
  const at = num(v.get('card.registeredAt'));
  return {
    paymentCardId,
    issuerSupplierId: str(v.get('card.issuerSupplierId')),
    registeredAt: at === null ? null : iso(at),
  };
}

const DEBT_PATHS = [
  'prepayment.debt.paymentBasedOutstandingPence',
  'prepayment.debt.timeBased[0].outstandingPence',
  'prepayment.debt.timeBased[1].outstandingPence',
];

export const PREPAYMENT_PATHS = {
  required: ['prepayment.paymentMode', 'prepayment.balance'],
  optional: [
    'prepayment.emergencyCredit.limit',
    'prepayment.emergencyCredit.used',
    'prepayment.emergencyCredit.active',
    ...DEBT_PATHS,
    'prepayment.lastVends[0].at',
  ],
} as const;

export function prepaymentFrom(v: ModelValues): PrepaymentSummary {
  const mode = v.get('prepayment.paymentMode');
  if (mode !== 'prepayment' && mode !== 'credit') throw invalid(`prepayment: payment mode ${String(mode)}`);
  const balance = num(v.get('prepayment.balance'));
  if (balance === null) throw invalid('prepayment: balance is blank');
  const active = v.get('prepayment.emergencyCredit.active') === true;
  const limit = num(v.get('prepayment.emergencyCredit.limit')) ?? 0;
  const used = num(v.get('prepayment.emergencyCredit.used')) ?? 0;
  const lastVend = num(v.get('prepayment.lastVends[0].at'));
  return {
    paymentMode: mode,
    balancePence: balance,
    // Emergency credit left to spend while it is active (modelled reading of "EC balance").
    emergencyCreditPence: active ? Math.max(0, limit - used) : 0,
    emergencyCreditActive: active,
    debtPence: DEBT_PATHS.reduce((sum, path) => sum + (num(v.get(path)) ?? 0), 0),
    lastVendAt: lastVend === null ? null : iso(lastVend),
  };
}

export const MIGRATION_PATHS = {
  required: ['migration.state'],
  optional: ['migration.at', 'migration.by'],
} as const;

export function migrationStateFrom(v: ModelValues): MigrationState {
  const state = v.get('migration.state');
  if (state === 'smso-managed') return { state };
  if (state !== 'migrated') throw invalid(`migration state ${String(state)}`);
  const at = num(v.get('migration.at'));
  const by = str(v.get('migration.by'));
  if (at === null || by === null) throw invalid('migrated, but when or by whom is blank');
  return { state, at: iso(at), by };
}
