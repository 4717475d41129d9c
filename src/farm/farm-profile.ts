/**
 * What the farm needs from a firmware profile: device type, identity values, access levels
 * with their default secrets, issuer prefixes and the device behaviour. A narrow view, so the
 * generator and runtime can be tested with profiles built in code, while the CLI resolves
 * profile ids from `firmware-profiles/` (src/profiles).
 */
import { ErrorCode, SimError } from '../core/errors';
import type { DeviceBehaviour } from '../device/behaviour';
import type { NewMeterInput } from '../device/new-meter';
import type { DeviceType } from '../device/state';
import {
  deviceBehaviour,
  loadProfile,
  secretBytes,
  type AccessLevelSpec,
  type FirmwareProfile,
  type ProfileDirOptions,
} from '../profiles';

export interface FarmAccessLevel {
  name: string;
  /** C12.18 Logon user id (DLMS profiles use it as the client address). */
  userId: number;
  /**
   * Default secret, lower-case hex of the raw bytes; null when the profile takes it from an
   * environment variable that is not set (or not valid) now — `secretError` says which.
   */
  secretHex: string | null;
  /** Why `secretHex` is null (names the variable); only needed by `credentials: profile`. */
  secretError?: string;
  /**
   * Shape of a per-meter secret when the default comes from an environment variable: derived
   * secrets must not depend on the environment, or one fleet file would give two fleets.
   */
  derivedShape?: { bytes: number; printable: boolean };
}

export interface FarmProfile {
  id: string;
  deviceType: DeviceType;
  identity: {
    manufacturer: string;
    model: string;
    applicationFirmwareId: string;
    metrologyFirmwareId: string;
    serialPrefix: string;
    deviceIdOui?: string;
  };
  accessLevels: readonly FarmAccessLevel[];
  /** Payment Card ID prefix per supplier id (fallback when the fleet file gives none). */
  issuerPrefixes: Readonly<Record<string, string>>;
  behaviour: DeviceBehaviour;
  /** Starting prepayment values for new meters. */
  prepayment?: NewMeterInput['prepayment'];
  /** The whole profile, for the protocol server the farm hands each meter to. */
  firmware?: FirmwareProfile;
}

/** Resolve a profile id; throws SimError (ProfileNotFound/ProfileInvalid) for unknown ids. */
export type ProfileResolver = (id: string) => FarmProfile;

/**
 * Role of a level in a DLMS profile: a key (HLS-GMAC ek/ak/kek, 16 bytes for AES-128 in
 * security suite 0, docs/dlms.md) or a password (LLS, or any C12.18 level).
 */
function isDlmsKey(p: FirmwareProfile, level: string): boolean {
  if (p.protocol.stack !== 'dlms') return false;
  return p.protocol.dlms.associations.some(
    (a) => a.keys !== undefined && [a.keys.ek, a.keys.ak, a.keys.kek].includes(level),
  );
}

/**
 * An `env` secret (a captured profile) is read now; an unset variable is not an error until a
 * meter needs the profile default. Per-meter secrets of such a level take a fixed shape
 * (modelled): 16 bytes for a DLMS key, else 20 printable characters (the C12.18 password
 * length, docs/c1218.md) or 8 for a DLMS LLS password (the shipped DLMS profiles' length).
 */
function farmAccessLevel(p: FirmwareProfile, l: AccessLevelSpec): FarmAccessLevel {
  const base = { name: l.name, userId: l.userId };
  if (!('env' in l.secret)) return { ...base, secretHex: secretBytes(l).toString('hex') };
  const derivedShape = isDlmsKey(p, l.name)
    ? { bytes: 16, printable: false }
    : { bytes: p.protocol.stack === 'c1218' ? 20 : 8, printable: true };
  try {
    return { ...base, secretHex: secretBytes(l).toString('hex'), derivedShape };
  } catch (e) {
    if (!(e instanceof SimError)) throw e;
    return { ...base, secretHex: null, secretError: e.message, derivedShape };
  }
}

export function farmProfileFromFirmware(id: string, p: FirmwareProfile): FarmProfile {
  const d = p.defaults;
  const prepayment: NonNullable<NewMeterInput['prepayment']> = {
    ...(d.paymentMode ? { paymentMode: d.paymentMode } : {}),
    ...(d.balancePence !== undefined ? { balance: d.balancePence } : {}),
    ...(d.lowCreditThreshold !== undefined ? { lowCreditThreshold: d.lowCreditThreshold } : {}),
    ...(d.emergencyCredit ? { emergencyCredit: { ...d.emergencyCredit } } : {}),
  };
  return {
    id,
    deviceType: p.identity.deviceType,
    identity: {
      manufacturer: p.identity.manufacturer,
      model: p.identity.model,
      applicationFirmwareId: p.identity.applicationFirmwareId,
      metrologyFirmwareId: p.identity.metrologyFirmwareId,
      serialPrefix: p.identity.serialPrefix,
      ...(p.identity.deviceIdOui ? { deviceIdOui: p.identity.deviceIdOui } : {}),
    },
    accessLevels: p.accessLevels.map((l) => farmAccessLevel(p, l)),
    issuerPrefixes: { ...(d.issuerPrefixes ?? {}) },
    behaviour: deviceBehaviour(p),
    prepayment,
    firmware: p,
  };
}

/** Profiles from `firmware-profiles/` (or `options.dir`), each loaded once. */
export function firmwareProfileResolver(options: ProfileDirOptions = {}): ProfileResolver {
  const cache = new Map<string, FarmProfile>();
  return (id) => {
    let p = cache.get(id);
    if (!p) {
      p = farmProfileFromFirmware(id, loadProfile(id, options).profile);
      cache.set(id, p);
    }
    return p;
  };
}

/** Profiles given in code (tests, embedding). */
export function staticProfileResolver(profiles: readonly FarmProfile[]): ProfileResolver {
  const byId = new Map(profiles.map((p) => [p.id, p]));
  return (id) => {
    const p = byId.get(id);
    if (!p)
      throw new SimError(ErrorCode.ProfileNotFound, `no firmware profile "${id}"`, {
        id,
        available: [...byId.keys()],
      });
    return p;
  };
}
