/**
 * Building a fresh meter state from loose input (farm generator, tests, a profile binding).
 * Every identifier is validated here, with the failing field named by its model path, so no
 * invalid identifier can reach storage or the wire.
 */
import { ErrorCode, SimError } from '../core/errors';
import type { DeviceBehaviour } from './behaviour';
import {
  normalizeEui64,
  validateMeterId,
  validateMprn,
  validateMpanCore,
  validatePaymentCardId,
  validateSiteId,
  validateSupplierId,
} from './identifiers';
import {
  DEVICE_TYPES,
  METER_STATE_VERSION,
  type CardRecord,
  type DebtRegisters,
  type MeterIdentity,
  type MeterState,
  type MigrationState,
  type Prepayment,
} from './state';
import { validateStateInvariants } from './invariants';

export interface NewMeterInput {
  id: string;
  profileId: string;
  identity: MeterIdentity;
  registration: {
    mpanCore?: string | null;
    mprn?: string | null;
    supplierId: string;
    siteId?: string | null;
  };
  prepayment?: Partial<Omit<Prepayment, 'emergencyCredit' | 'debt'>> & {
    emergencyCredit?: Partial<Prepayment['emergencyCredit']>;
    debt?: Partial<DebtRegisters>;
  };
  card?: { paymentCardId: string; issuerSupplierId: string; registeredAt?: number } | null;
  migration?: MigrationState;
  /** Secret per access level, hex. */
  secrets: Record<string, string>;
  clockOffsetMs?: number;
  /** Used for the card's registeredAt when not given. */
  now?: number;
}

/**
 * Modelled prepayment defaults for a new meter: £10 credit, £10 emergency credit offered
 * below £1, low-credit warning at £2, no debt. Not from any source; profiles override them.
 */
export const DEFAULT_PREPAYMENT: Prepayment = {
  paymentMode: 'prepayment',
  balance: 1000,
  emergencyCredit: { limit: 1000, threshold: 100, active: false, used: 0 },
  debt: { paymentBasedPercent: 0, paymentBasedOutstandingPence: 0, timeBased: [], accumulatedPence: 0 },
  lowCreditThreshold: 200,
  lastVends: [],
  utrnCounters: { accepted: 0, rejected: 0 },
};

function fail(field: string, reason: string): SimError {
  return new SimError(ErrorCode.DeviceInvalidIdentifier, `${field}: ${reason}`, { field, reason });
}

function text(field: string, v: unknown, max = 32): string {
  if (typeof v !== 'string' || v.length === 0 || v.length > max)
    throw fail(field, `must be 1–${max} characters`);
  return v;
}

export function newMeterState(
  input: NewMeterInput,
  behaviour: Pick<DeviceBehaviour, 'paymentCard'>,
): MeterState {
  const id = validateMeterId(input.id);
  const deviceType = input.identity.deviceType;
  if (!DEVICE_TYPES.includes(deviceType)) throw fail('identity.deviceType', 'must be ESME or GSME');
  const identity: MeterIdentity = {
    manufacturer: text('identity.manufacturer', input.identity.manufacturer),
    model: text('identity.model', input.identity.model),
    deviceType,
    serial: text('identity.serial', input.identity.serial),
    applicationFirmwareId: text('identity.applicationFirmwareId', input.identity.applicationFirmwareId, 16),
    metrologyFirmwareId: text('identity.metrologyFirmwareId', input.identity.metrologyFirmwareId, 16),
    deviceId: normalizeEui64(input.identity.deviceId, 'identity.deviceId'),
  };
  const r = input.registration;
  let mpanCore: string | null = null;
  let mprn: string | null = null;
  if (deviceType === 'ESME') {
    if (r.mprn != null) throw fail('registration.mprn', 'an ESME has an MPAN core, not an MPRN');
    mpanCore = validateMpanCore(r.mpanCore, 'registration.mpanCore');
  } else {
    if (r.mpanCore != null) throw fail('registration.mpanCore', 'a GSME has an MPRN, not an MPAN core');
    mprn = validateMprn(r.mprn, 'registration.mprn');
  }
  const supplierId = validateSupplierId(r.supplierId, 'registration.supplierId');
  const siteId = r.siteId == null ? null : validateSiteId(r.siteId, 'registration.siteId');

  let card: CardRecord | null = null;
  if (input.card) {
    card = {
      paymentCardId: validatePaymentCardId(
        input.card.paymentCardId,
        behaviour.paymentCard,
        'card.paymentCardId',
      ),
      issuerSupplierId: validateSupplierId(input.card.issuerSupplierId, 'card.issuerSupplierId'),
      registeredAt: input.card.registeredAt ?? input.now ?? 0,
    };
  }

  const p = input.prepayment ?? {};
  const prepayment: Prepayment = {
    ...DEFAULT_PREPAYMENT,
    ...p,
    emergencyCredit: { ...DEFAULT_PREPAYMENT.emergencyCredit, ...p.emergencyCredit },
    debt: { ...DEFAULT_PREPAYMENT.debt, ...p.debt },
    lastVends: p.lastVends ?? [],
    utrnCounters: p.utrnCounters ?? { accepted: 0, rejected: 0 },
  };

  const secrets: Record<string, string> = {};
  for (const [level, hex] of Object.entries(input.secrets)) {
    if (typeof hex !== 'string' || !/^(?:[0-9a-fA-F]{2}){1,64}$/.test(hex))
      throw fail(`security.secrets.${level}`, 'must be 1–64 bytes of hex');
    secrets[level] = hex.toLowerCase();
  }

  const state: MeterState = {
    v: METER_STATE_VERSION,
    id,
    profileId: text('profileId', input.profileId, 128),
    rev: 0,
    identity,
    registration: { mpanCore, mprn, supplierId, siteId },
    prepayment,
    card,
    migration: input.migration ?? { state: 'smso-managed', at: null, by: null },
    security: { secrets, failures: { consecutive: 0, total: 0 }, lockedUntil: null, invocationCounters: {} },
    clock: { offsetMs: input.clockOffsetMs ?? 0 },
    eventSeq: 0,
  };
  validateStateInvariants(state);
  return state;
}
