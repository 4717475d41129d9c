/**
 * From a firmware profile to the device model: the behaviour a Meter runs with, the default
 * secrets per access level, and fresh meter states for farms (identities from the seeded
 * generator, prepayment defaults from the profile).
 */
import { ErrorCode, SimError } from '../core/errors';
import type { DeviceBehaviour } from '../device/behaviour';
import { createIdGenerator, type IdGenerator } from '../device/id-generator';
import { newMeterState, type NewMeterInput } from '../device/new-meter';
import type { MeterState, MigrationState } from '../device/state';
import type { Access, AccessLevelSpec, FirmwareProfile } from './schema';

export function deviceBehaviour(p: FirmwareProfile): DeviceBehaviour {
  return {
    clearing: { ...p.device.clearing },
    eventLogBound: p.device.eventLogBound,
    lockout: { ...p.security.lockout },
    maxBalancePence: p.device.maxBalancePence,
    minBalancePence: p.device.minBalancePence,
    paymentCard: { ...p.device.paymentCard },
    accessLevels: p.accessLevels.map((l) => l.name),
  };
}

/**
 * The raw secret bytes of an access level (unpadded; the protocol pads). An `env` secret is read
 * from that environment variable now: printable ASCII, or `hex:` and hex bytes (docs/capture.md).
 * Throws ConfigInvalid naming the variable when it is unset or malformed.
 */
export function secretBytes(level: AccessLevelSpec, env: NodeJS.ProcessEnv = process.env): Buffer {
  const s = level.secret;
  if ('hex' in s) return Buffer.from(s.hex, 'hex');
  if ('ascii' in s) return Buffer.from(s.ascii, 'latin1');
  const v = env[s.env];
  const hex = v?.startsWith('hex:') ? v.slice(4) : undefined;
  const ok =
    v !== undefined &&
    (hex !== undefined ? /^(?:[0-9a-fA-F]{2}){1,64}$/.test(hex) : /^[\x20-\x7e]{1,64}$/.test(v));
  if (!ok)
    throw new SimError(
      ErrorCode.ConfigInvalid,
      `access level ${level.name}: its secret comes from $${s.env}, which is ${v === undefined ? 'not set' : 'not 1–64 printable characters or hex:<bytes>'}`,
      { level: level.name, variable: s.env },
    );
  return hex !== undefined ? Buffer.from(hex, 'hex') : Buffer.from(v, 'latin1');
}

export function defaultSecrets(p: FirmwareProfile): Record<string, string> {
  return Object.fromEntries(p.accessLevels.map((l) => [l.name, secretBytes(l).toString('hex')]));
}

/**
 * ST42/ST44 group mask of an access list (docs/c1218.md §4): 'any' sets ANY_READ/ANY_WRITE
 * instead of group bits.
 */
export function accessMask(p: FirmwareProfile, access: Access): { any: boolean; groups: number } {
  if (access === 'any') return { any: true, groups: 0 };
  let groups = 0;
  for (const name of access) {
    const level = p.accessLevels.find((l) => l.name === name);
    if (level) groups |= 1 << level.group;
  }
  return { any: false, groups };
}

export interface GeneratedMeterOptions {
  /** Meter id in the store. */
  id: string;
  /** Index of the meter in its fleet: drives every generated identifier. */
  index: number;
  /** Seed of the fleet, or a generator built from it. */
  ids: IdGenerator | string | number;
  /** The Responsible Supplier the meter is registered to. */
  supplierId: string;
  /** Card held by the meter: issuer and its number prefix; null = no card. */
  card: { issuerSupplierId: string; issuerPrefix?: string } | null;
  migration?: MigrationState;
  /** Device time of card registration. */
  now?: number;
}

/** A fresh, valid meter state for `p`, deterministic in (seed, index). */
export function newMeterFromProfile(p: FirmwareProfile, o: GeneratedMeterOptions): MeterState {
  const g = typeof o.ids === 'object' ? o.ids : createIdGenerator(o.ids);
  const esme = p.identity.deviceType === 'ESME';
  const prefix = o.card
    ? (o.card.issuerPrefix ?? p.defaults.issuerPrefixes?.[o.card.issuerSupplierId])
    : undefined;
  if (o.card && prefix === undefined)
    throw new SimError(
      ErrorCode.DeviceInvalidIdentifier,
      `card.issuerPrefix: no prefix for ${o.card.issuerSupplierId}; give one or set defaults.issuerPrefixes`,
      { field: 'card.issuerPrefix', value: o.card.issuerSupplierId, reason: 'no issuer prefix' },
    );
  const d = p.defaults;
  const prepayment: NewMeterInput['prepayment'] = {
    ...(d.paymentMode ? { paymentMode: d.paymentMode } : {}),
    ...(d.balancePence !== undefined ? { balance: d.balancePence } : {}),
    ...(d.lowCreditThreshold !== undefined ? { lowCreditThreshold: d.lowCreditThreshold } : {}),
    ...(d.emergencyCredit ? { emergencyCredit: { ...d.emergencyCredit } } : {}),
  };
  return newMeterState(
    {
      id: o.id,
      profileId: p.id,
      identity: {
        manufacturer: p.identity.manufacturer,
        model: p.identity.model,
        deviceType: p.identity.deviceType,
        serial: g.serial(o.index, p.identity.serialPrefix),
        applicationFirmwareId: p.identity.applicationFirmwareId,
        metrologyFirmwareId: p.identity.metrologyFirmwareId,
        deviceId: g.deviceId(o.index, p.identity.deviceIdOui),
      },
      registration: {
        ...(esme ? { mpanCore: g.mpanCore(o.index) } : { mprn: g.mprn(o.index) }),
        supplierId: o.supplierId,
        siteId: o.card ? g.siteId(o.index) : null,
      },
      prepayment,
      card: o.card
        ? { paymentCardId: g.paymentCardId(o.index, prefix!), issuerSupplierId: o.card.issuerSupplierId }
        : null,
      ...(o.migration ? { migration: o.migration } : {}),
      secrets: defaultSecrets(p),
      ...(o.now !== undefined ? { now: o.now } : {}),
    },
    deviceBehaviour(p),
  );
}
