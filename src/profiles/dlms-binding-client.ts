/**
 * The interrogator's side of a DLMS profile, below the MeterSession (src/migration/sessions/
 * dlms-session.ts): credentials per profile association, the link the profile names (HDLC,
 * TCP wrapper, or IEC 62056-21 mode E then HDLC, waking a battery meter), the AARQ options the
 * association needs (LN-ciphered when its security policy protects every APDU, docs/dlms.md §7),
 * and the invocation counter discovery through the public association (docs/dlms.md §6
 * `0-0:43.1.e.255`; Gurux reads it the same way before a ciphered association).
 */
import type { Clock } from '../core/clock';
import { fromHex } from '../core/bytes';
import { ErrorCode, SimError } from '../core/errors';
import type { Logger } from '../core/logger';
import type { HardwarePreset } from '../hardware/preset-loader';
import { DlmsClient, type AssociateOptions } from '../protocols/dlms/client';
import { HdlcClientLink } from '../protocols/dlms/link/hdlc-client';
import { signOnModeE } from '../protocols/dlms/link/mode-e-client';
import type { ApduClientLink, LinkAddress } from '../protocols/dlms/link/types';
import { WrapperClientLink } from '../protocols/dlms/link/wrapper-links';
import type { InvocationCounterGuard } from '../protocols/dlms/security/invocation-counter';
import type { Transport } from '../transport/types';
import { dlmsParts } from './dlms-binding';
import type { DlmsMap } from './dlms-binding-map';
import type { DlmsAssociationSpec, DlmsParams } from './dlms-binding-schema';
import { MECHANISM } from './dlms-binding-security';
import { TracedChannel, type DlmsTraceEntry } from './dlms-serve';
import type { FirmwareProfile } from './schema';

/** A credential installed by migrate: an access level and its new secret (MeterSession's Credential). */
export interface LevelSecret {
  level: string;
  secret: Uint8Array;
}

/** Who associates: a profile association and what it authenticates with. */
export interface DlmsCredentials {
  /** Association name in the profile (`public`, `reader`, `management`, ...). */
  association: string;
  /** LLS password. */
  secret?: Uint8Array;
  /** HLS-GMAC / ciphering keys. */
  keys?: { ek: Uint8Array; ak: Uint8Array; kek?: Uint8Array };
  /** The client's system title (8 octets); default DEFAULT_CLIENT_SYSTEM_TITLE. */
  systemTitle?: Uint8Array;
}

/** Client system title of the GB Table 43 vectors (docs/dlms.md §7); modelled default. */
export const DEFAULT_CLIENT_SYSTEM_TITLE = fromHex('4D4D4D0000000001');

/**
 * Session credentials for a profile association from access-level secrets (the profile's
 * defaults, a key file, or what a migrate installed): LLS password or the key levels.
 */
export function dlmsCredentialsFor(
  p: FirmwareProfile,
  association: string,
  secretOf: (level: string) => Uint8Array | undefined,
  systemTitle?: Uint8Array,
): DlmsCredentials {
  const a = associationSpec(p, association);
  const need = (level: string): Uint8Array => {
    const s = secretOf(level);
    if (!s) throw new SimError(ErrorCode.ConfigInvalid, `no secret for access level "${level}"`, { level });
    return s;
  };
  return {
    association,
    ...(a.secret !== undefined ? { secret: need(a.secret) } : {}),
    ...(a.keys ? { keys: { ek: need(a.keys.ek), ak: need(a.keys.ak), kek: need(a.keys.kek) } } : {}),
    ...(systemTitle ? { systemTitle } : {}),
  };
}

/** The credentials after a migrate installed `installed` (levels not named keep their secret). */
export function credentialsAfterMigrate(
  p: FirmwareProfile,
  current: DlmsCredentials,
  installed: readonly LevelSecret[],
): DlmsCredentials {
  const a = associationSpec(p, current.association);
  const fresh = new Map(installed.map((c) => [c.level, c.secret]));
  const pick = (level: string | undefined, old: Uint8Array | undefined): Uint8Array | undefined =>
    (level !== undefined ? fresh.get(level) : undefined) ?? old;
  const out: DlmsCredentials = { ...current };
  const secret = pick(a.secret, current.secret);
  if (secret) out.secret = secret;
  if (a.keys && current.keys) {
    const kek = pick(a.keys.kek, current.keys.kek);
    out.keys = {
      ek: pick(a.keys.ek, current.keys.ek)!,
      ak: pick(a.keys.ak, current.keys.ak)!,
      ...(kek ? { kek } : {}),
    };
  }
  return out;
}

export function associationSpec(p: FirmwareProfile, name: string): DlmsAssociationSpec {
  const { dlms } = dlmsParts(p);
  const a = dlms.associations.find((x) => x.name === name);
  if (!a)
    throw new SimError(
      ErrorCode.ConfigInvalid,
      `profile ${p.id} has no association "${name}" (known: ${dlms.associations.map((x) => x.name).join(', ')})`,
      { profile: p.id, association: name },
    );
  return a;
}

/** One link connection and the application client on it. */
export interface Connection {
  readonly link: ApduClientLink;
  readonly client: DlmsClient;
}

export interface LinkContext {
  readonly dlms: DlmsParams;
  readonly profile: FirmwareProfile;
  readonly transport: Transport;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly options: { readonly trace?: (entry: DlmsTraceEntry) => void; readonly timeoutMs?: number };
  /** The hardware preset the URI named (`?preset=`): timeouts for a real meter on a probe. */
  readonly preset?: HardwarePreset;
}

/**
 * The battery wake-up a client sends: a third more NULs than the meter's threshold (84 for 63:
 * ESPH sends 84, about 2.24 s at 300 Bd, docs/dlms.md §1 "Timings"; modelled), or, when a
 * hardware preset gives the NUL train's duration (P21: 2.1–2.3 s), at least that many NULs at
 * 300 Bd 7E1 (10 bits a character), then the preset's pause.
 */
export function wakeUpPlan(
  meterNuls: number | undefined,
  preset?: { readonly nulMs: number; readonly pauseMs: number },
): { nuls: number; pauseMs?: number } {
  const byMeter = Math.ceil(((meterNuls ?? 63) * 4) / 3);
  if (!preset) return { nuls: byMeter };
  return { nuls: Math.max(byMeter, Math.ceil((preset.nulMs * 300) / 10 / 1000)), pauseMs: preset.pauseMs };
}

/** Open the profile's link for one client SAP; mode E signs on first (waking a battery meter once). */
export async function openConnection(c: LinkContext, clientSap: number, wake: boolean): Promise<Connection> {
  const { dlms, transport, clock, logger } = c;
  const common = { clock, logger, closeTransport: false };
  // A preset's timing for real meters (hardware/presets/*.yaml; defaults documented there).
  const iec = c.preset?.protocols['iec62056-21']?.timeouts;
  const wakeTiming = c.preset?.protocols['iec62056-21']?.batteryWakeUp;
  const hdlcResponseMs = c.preset?.protocols.hdlc?.timeouts.responseMs;
  let link: ApduClientLink;
  if (dlms.link === 'wrapper') {
    link = new WrapperClientLink(transport, { ...common, client: clientSap, server: dlms.logicalDevice });
  } else {
    if (dlms.link === 'mode-e') {
      const m = dlms.modeE!;
      await signOnModeE(transport, {
        clock,
        baudChar: m.baudChar,
        ...(iec
          ? {
              identTimeoutMs: iec.responseMs,
              switchDelayMs: iec.baudSwitchDelayMs,
              reactionMs: iec.reactionTimeMs,
            }
          : {}),
        ...(wake && c.profile.timing.wake ? { wakeUp: wakeUpPlan(m.wakeUpNuls, wakeTiming) } : {}),
      });
    }
    const h = dlms.hdlc!;
    link = new HdlcClientLink(transport, {
      ...common,
      client: clientSap,
      server: {
        logical: dlms.logicalDevice,
        ...(h.physical !== undefined ? { physical: h.physical } : {}),
        ...(h.addressSize !== 1 ? { size: h.addressSize } : {}),
      },
      parameters: { maxInfoTx: h.maxInfo, maxInfoRx: h.maxInfo, windowTx: h.window, windowRx: h.window },
      ...(hdlcResponseMs !== undefined ? { responseTimeoutMs: hdlcResponseMs } : {}),
    });
  }
  try {
    await link.connect();
  } catch (e) {
    await link.close().catch(() => undefined);
    throw e;
  }
  const address: LinkAddress = link.address;
  const channel = c.options.trace ? new TracedChannel(link, c.options.trace) : link;
  const client = new DlmsClient(channel, { address, clock, timeoutMs: c.options.timeoutMs ?? 30_000 });
  return { link, client };
}

/** Release and DISC when the link is healthy (`polite`), then free the link (the transport stays). */
export async function closeConnection(conn: Connection, polite: boolean): Promise<void> {
  try {
    if (polite) {
      await conn.client.release().catch(() => undefined);
      await conn.link.disconnect().catch(() => undefined);
    }
  } finally {
    await conn.link.close().catch(() => undefined);
  }
}

/** A client sending IC in memory, continuing after `start` (the last IC the meter accepted). */
export function memoryCounter(start: number): InvocationCounterGuard {
  let last: number | undefined = start > 0 ? start : undefined;
  return {
    getLastIc: () => last,
    setLastIc: (ic) => {
      last = ic;
    },
  };
}

/** Whether the password or the EK/AK differ (a changed KEK does not affect the association). */
export function credentialsChanged(a: DlmsCredentials, b: DlmsCredentials): boolean {
  const eq = (x?: Uint8Array, y?: Uint8Array): boolean =>
    x === undefined ? y === undefined : y !== undefined && Buffer.from(x).equals(Buffer.from(y));
  return !eq(a.secret, b.secret) || !eq(a.keys?.ek, b.keys?.ek) || !eq(a.keys?.ak, b.keys?.ak);
}

/** AARQ options for a profile association: LN-ciphered when its policy protects every APDU. */
export function associateOptions(
  p: FirmwareProfile,
  a: DlmsAssociationSpec,
  creds: DlmsCredentials,
  counter: InvocationCounterGuard,
): AssociateOptions {
  const mechanism = MECHANISM[a.mechanism];
  if (mechanism === 'low' && !creds.secret)
    throw new SimError(ErrorCode.ConfigInvalid, `association ${a.name} (LLS) needs a secret`);
  if ((mechanism === 'high-gmac' || a.securityPolicy > 0) && !creds.keys)
    throw new SimError(ErrorCode.SessionKeyMissing, `association ${a.name} needs keys (ek, ak)`, {
      association: a.name,
    });
  const ciphered = a.securityPolicy > 0;
  const { dlms } = dlmsParts(p);
  return {
    mechanism,
    ...(creds.secret ? { secret: creds.secret } : {}),
    context: ciphered ? 'LN-ciphered' : 'LN',
    cipher: ciphered,
    maxReceivePduSize: dlms.maxPdu,
    ...(creds.keys
      ? {
          security: {
            systemTitle: creds.systemTitle ?? DEFAULT_CLIENT_SYSTEM_TITLE,
            keys: {
              ek: creds.keys.ek,
              ak: creds.keys.ak,
              ...(creds.keys.kek ? { kek: creds.keys.kek } : {}),
            },
            sc: 0x30,
            counter,
          },
        }
      : {}),
  };
}

/**
 * The last IC the meter accepted, read through the public association from the invocation
 * counter object of the association's Security setup; 0 when the profile has none.
 */
export async function discoverCounter(
  c: LinkContext,
  a: DlmsAssociationSpec,
  map: DlmsMap,
): Promise<{ last: number; woke: boolean }> {
  const pub = c.dlms.associations.find((x) => x.mechanism === 'none');
  const object = a.securitySetup ? map.invocationCounter(a.securitySetup) : undefined;
  if (!pub || !object || !map.canRead(object, 2, pub.name, { authenticated: false, encrypted: false }))
    return { last: 0, woke: false };
  const conn = await openConnection(c, pub.clientSap, true);
  try {
    await conn.client.associate({ mechanism: 'none', context: 'LN', maxReceivePduSize: c.dlms.maxPdu });
    const d = await conn.client.get({ classId: object.classId, obis: object.obis, index: 2 });
    if (d.type !== 'double-long-unsigned')
      throw new SimError(
        ErrorCode.ServiceInvalidResponse,
        `${object.name}: expected double-long-unsigned, got ${d.type}`,
      );
    return { last: d.value, woke: true };
  } finally {
    await closeConnection(conn, true);
  }
}
