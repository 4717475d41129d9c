/**
 * How `interrogate`, `clear` and `migrate` reach a DLMS meter (docs/cli.md "DLMS meters"): the
 * profile must be given (a DLMS meter has no ST1 to identify it by), `--link` may replace the
 * profile's link (hdlc, wrapper, mode-e), `--association` picks who associates (the profile's
 * associations: public, reader, management on the shipped ones; default per command), and the
 * association's secrets come from, first match per access level:
 *
 *   --password / --password-hex   the LLS password of the association
 *   --ek / --ak [--kek]           the HLS-GMAC / ciphering keys, hex (visible in `ps`: prefer a file)
 *   --credentials FILE            a key file: the credentials file format, one entry per access
 *                                 level (reader, management-ek, management-ak, master, ...)
 *   --profile-secrets             the profile's test values (docs/dlms-profiles.md)
 *
 * Secrets are never printed: messages name access levels only, and --trace prints APDUs as on
 * the wire (ciphered associations stay ciphered).
 */
import { ErrorCode, SimError } from '../../core/errors';
import type { Clock } from '../../core/clock';
import type { Credential } from '../../migration/session';
import {
  credentialsAfterMigrate,
  openDlmsSession,
  type DlmsCredentials,
  type DlmsMeterSession,
} from '../../migration/sessions/dlms-session';
import { associationSpec, credentialsChanged } from '../../profiles/dlms-binding-client';
import { DLMS_LINKS, type DlmsLinkKind } from '../../profiles/dlms-binding-schema';
import { withDlmsLink } from '../../profiles/dlms-serve';
import { secretBytes } from '../../profiles/device-binding';
import type { FirmwareProfile } from '../../profiles/schema';
import type { Io } from '../output';

export interface DlmsConnectFlags {
  connect: string;
  association?: string;
  link?: string;
  password?: string;
  passwordHex?: string;
  ek?: string;
  ak?: string;
  kek?: string;
  profileSecrets?: boolean;
  trace?: boolean;
}

function usage(message: string, context: Record<string, unknown> = {}): SimError {
  return new SimError(ErrorCode.UsageError, message, context);
}

const KEY_HEX = /^[0-9a-fA-F]{32}$/;

function keyFlag(flag: string, v: string | undefined): Buffer | undefined {
  if (v === undefined) return undefined;
  if (!KEY_HEX.test(v)) throw usage(`${flag}: 16 bytes of hex (32 hex digits)`);
  return Buffer.from(v, 'hex');
}

/**
 * --association: a profile association by name, or by its client SAP (`--association 32`).
 * Throws UsageError naming the profile's associations.
 */
export function associationOf(profile: FirmwareProfile, v: string): string {
  if (profile.protocol.stack !== 'dlms') throw usage(`--association: ${profile.id} is not a DLMS profile`);
  const list = profile.protocol.dlms.associations;
  const a = /^\d+$/.test(v) ? list.find((x) => x.clientSap === Number(v)) : list.find((x) => x.name === v);
  if (!a)
    throw usage(
      `--association ${v}: profile ${profile.id} has ${list.map((x) => `${x.name} (client ${x.clientSap})`).join(', ')}`,
      { profile: profile.id, association: v },
    );
  return a.name;
}

export function dlmsLinkOf(v: string | undefined): DlmsLinkKind | undefined {
  if (v === undefined) return undefined;
  if (!(DLMS_LINKS as readonly string[]).includes(v))
    throw usage(`--link ${v}: one of ${DLMS_LINKS.join(', ')}`);
  return v as DlmsLinkKind;
}

/**
 * The association's credentials from the flags. `fileSecrets` are the levels of a --credentials
 * file (already parsed by the caller, which owns the file format). Throws UsageError naming the
 * access level that has no secret and the flags that give one.
 */
export function dlmsCredentialsFrom(
  profile: FirmwareProfile,
  f: DlmsConnectFlags,
  association: string,
  fileSecrets: ReadonlyMap<string, Uint8Array>,
): DlmsCredentials {
  const a = associationSpec(profile, association);
  const flags = new Map<string, Uint8Array>();
  const password =
    f.password !== undefined
      ? Buffer.from(f.password, 'latin1')
      : f.passwordHex !== undefined
        ? Buffer.from(f.passwordHex, 'hex')
        : undefined;
  if (password !== undefined) {
    if (a.secret === undefined)
      throw usage(`--password: association ${a.name} (${a.mechanism}) takes no password`);
    flags.set(a.secret, password);
  }
  const keys = { ek: keyFlag('--ek', f.ek), ak: keyFlag('--ak', f.ak), kek: keyFlag('--kek', f.kek) };
  if (keys.ek || keys.ak || keys.kek) {
    if (!a.keys) throw usage(`--ek/--ak/--kek: association ${a.name} (${a.mechanism}) takes no keys`);
    for (const k of ['ek', 'ak', 'kek'] as const) if (keys[k]) flags.set(a.keys[k], keys[k]);
  }
  const defaults = (level: string): Uint8Array | undefined => {
    if (!f.profileSecrets) return undefined;
    const l = profile.accessLevels.find((x) => x.name === level);
    return l ? secretBytes(l) : undefined;
  };
  const secretOf = (level: string): Uint8Array | undefined =>
    flags.get(level) ?? fileSecrets.get(level) ?? defaults(level);
  const needed = [a.secret, a.keys?.ek, a.keys?.ak].filter((x): x is string => x !== undefined);
  const missing = needed.filter((l) => secretOf(l) === undefined);
  if (missing.length)
    throw usage(
      `association ${a.name} (${a.mechanism}) needs a secret for ${missing.join(', ')}: give ` +
        (a.secret !== undefined ? '--password or --password-hex' : '--ek and --ak') +
        ', --credentials FILE with those levels, or --profile-secrets for the profile test values',
      { association: a.name, missing },
    );
  // The KEK only wraps keys in a key transfer; an association works without it.
  const kek = a.keys ? secretOf(a.keys.kek) : undefined;
  return {
    association: a.name,
    ...(a.secret !== undefined ? { secret: secretOf(a.secret)! } : {}),
    ...(a.keys
      ? { keys: { ek: secretOf(a.keys.ek)!, ak: secretOf(a.keys.ak)!, ...(kek ? { kek } : {}) } }
      : {}),
  };
}

/** A DLMS session opener whose credentials follow a migrate (theirs, or one found on resume). */
export interface DlmsOpener {
  readonly profile: FirmwareProfile;
  readonly association: string;
  /**
   * Open a session: with the flow's request ('old' = the credentials given, 'new' = the flow's
   * new credentials over them), else with the credentials in force as far as this opener knows.
   */
  open(request?: SessionCredentialsRequest): Promise<DlmsMeterSession>;
  /** The meter took these secrets: later sessions use them. True when ours changed. */
  adopt(installed: readonly Credential[]): boolean;
}

/** What the migration flow may ask of a session factory (docs/migration.md "Key hand-over"). */
export interface SessionCredentialsRequest {
  readonly credentials: 'old' | 'new';
  readonly newCredentials: readonly Credential[];
}

export function dlmsOpener(
  stored: FirmwareProfile,
  f: DlmsConnectFlags,
  association: string,
  fileSecrets: ReadonlyMap<string, Uint8Array>,
  io: Io,
  clock: Clock | undefined,
  timeoutMs?: number,
): DlmsOpener {
  const link = dlmsLinkOf(f.link);
  const profile = link !== undefined ? withDlmsLink(stored, link) : stored;
  const given = dlmsCredentialsFrom(profile, f, association, fileSecrets);
  let current = given;
  return {
    profile,
    association,
    open: (request) =>
      openDlmsSession({
        connect: f.connect,
        profile,
        credentials: !request
          ? current
          : request.credentials === 'new'
            ? credentialsAfterMigrate(profile, given, request.newCredentials)
            : given,
        ...(clock ? { clock } : {}),
        ...(timeoutMs !== undefined ? { timeoutMs } : {}),
        ...(f.trace
          ? {
              trace: (e) =>
                io.err(`${e.dir === 'tx' ? '>' : '<'} ${e.link} c${e.client}/s${e.server} ${e.apdu}`),
            }
          : {}),
        onMigrated: (_installed, now) => {
          current = now;
        },
      }),
    adopt(installed) {
      const next = credentialsAfterMigrate(profile, current, installed);
      const changed = credentialsChanged(current, next);
      current = next;
      return changed;
    },
  };
}
