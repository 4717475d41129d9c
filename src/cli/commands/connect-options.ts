/**
 * What `interrogate`, `clear` and `migrate` share: how to reach a meter (--connect, --profile),
 * who to log on as (--level with --password/--password-hex, or --credentials FILE), retries,
 * tracing, and the mapping of errors to exit codes and one-line reasons (docs/cli.md).
 *
 * Credentials files (YAML or JSON; docs/cli.md "Credentials files"):
 *   level: privileged            # an access level of the firmware profile
 *   password: SMSO-PRIVILEGED-0001   # printable ASCII, or
 *   passwordHex: 534d534f...         # raw bytes as hex
 *   userId: 1                    # optional Logon user id (default: the level's)
 * A new-credentials file for `migrate` holds one such entry per level, as a list. Secrets are
 * never printed: output names levels only.
 *
 * DLMS meters (a --profile whose stack is dlms; dlms-connect.ts): --association, --link, the
 * password or keys of the association (--password, --ek/--ak, a --credentials key file with one
 * entry per access level, or --profile-secrets). `connector()` picks the stack.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import type { Command } from 'commander';
import { z } from 'zod';
import type { Clock } from '../../core/clock';
import { ErrorCode, SimError, isTransient, layerOf } from '../../core/errors';
import type { Credential, MeterSession } from '../../migration/session';
import {
  openC1218Session,
  type C1218Credentials,
  type C1218MeterSession,
} from '../../migration/sessions/c1218-session';
import { presetConnection } from '../../hardware/preset-connect';
import { DEFAULT_RETRY_POLICY, type RetryPolicy } from '../../migration/retry';
import { parseYamlWith } from '../../migration/yaml-source';
import { loadProfile } from '../../profiles/loader';
import type { FirmwareProfile } from '../../profiles/schema';
import { ExitCode } from '../exit-codes';
import { errorLine, type Io } from '../output';
import {
  associationOf,
  dlmsOpener,
  type DlmsConnectFlags,
  type SessionCredentialsRequest,
} from './dlms-connect';

export interface ConnectFlags extends DlmsConnectFlags {
  connect: string;
  profile?: string;
  profilesDir?: string;
  level?: string;
  password?: string;
  passwordHex?: string;
  credentials?: string;
  attempts?: string;
  baud?: string;
  timeout?: string;
  trace?: boolean;
  json?: boolean;
}

/** Add the shared flags to a command. */
export function connectOptions(cmd: Command): Command {
  return cmd
    .requiredOption(
      '--connect <uri>',
      'the meter: tcp://HOST:PORT, pty:/path, serial:/dev/ttyUSB0?preset=NAME (hardware/README.md), mem:NAME',
    )
    .option(
      '--profile <id>',
      "firmware profile (default: identified from the meter's ST1; required for DLMS meters)",
    )
    .option('--profiles-dir <dir>', 'profiles directory (default: the shipped firmware-profiles/)')
    .option('--level <name>', 'access level to log on as (with --password or --password-hex)')
    .option('--password <ascii>', 'password of the level, printable ASCII')
    .option('--password-hex <hex>', 'password of the level, as hex bytes')
    .option(
      '--credentials <file>',
      'YAML/JSON file: {level, password | passwordHex, userId?}, or a list (pick with --level)',
    )
    .option(
      '--attempts <n>',
      `tries per read/step on transient faults (default ${DEFAULT_RETRY_POLICY.attempts})`,
    )
    .option('--baud <rate>', 'line speed to ask for in Negotiate (default 9600; the meter may refuse)')
    .option(
      '--timeout <ms>',
      "ms to wait for each answer (default C12.18: the preset's or profile's 6000; DLMS: 30000)",
    )
    .option(
      '--association <name|sap>',
      'DLMS: the association to open, by name (public, reader, management) or client SAP',
    )
    .option('--link <link>', "DLMS: hdlc, wrapper or mode-e instead of the profile's link")
    .option('--ek <hex>', 'DLMS: encryption key (EK) of the association, 16 bytes hex')
    .option('--ak <hex>', 'DLMS: authentication key (AK) of the association, 16 bytes hex')
    .option('--kek <hex>', 'DLMS: master key (KEK), 16 bytes hex (key transfer only)')
    .option('--profile-secrets', "DLMS: use the profile's test password/keys for the association")
    .option('--trace', 'print every C12.18 frame (hex and decoded) or DLMS APDU on stderr')
    .option('--json', 'print the result document as JSON');
}

function usage(message: string, context: Record<string, unknown> = {}): SimError {
  return new SimError(ErrorCode.UsageError, message, context);
}

const entrySchema = z
  .strictObject({
    level: z.string().min(1),
    password: z
      .string()
      .regex(/^[\x20-\x7e]{1,20}$/, 'printable ASCII, 1–20 characters')
      .optional(),
    // YAML reads unquoted 0011 as a number: say how to write it.
    passwordHex: z
      .string({ error: "hex bytes as a string: quote it in YAML, e.g. passwordHex: '00ff'" })
      .regex(/^(?:[0-9a-fA-F]{2}){1,20}$/, '1–20 bytes of hex')
      .optional(),
    userId: z.number().int().min(0).max(0xffff).optional(),
  })
  .refine((e) => (e.password === undefined) !== (e.passwordHex === undefined), {
    message: 'give exactly one of password and passwordHex',
  });
type Entry = z.infer<typeof entrySchema>;

function secretOf(e: { password?: string | undefined; passwordHex?: string | undefined }): Buffer {
  return e.password !== undefined
    ? Buffer.from(e.password, 'latin1')
    : Buffer.from(e.passwordHex ?? '', 'hex');
}

function readText(path: string, what: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (e) {
    throw usage(`${what} ${path}: cannot read: ${e instanceof Error ? e.message : String(e)}`, { path });
  }
}

/**
 * Logon credentials from a file: one entry, or a list (such as a new-credentials file) from
 * which `level` picks one. Throws UsageError naming file, line and path.
 */
export function loadCredentialsFile(path: string, level?: string): C1218Credentials {
  const list = entriesIn(path, 'credentials file');
  const pick =
    level !== undefined ? list.find((e) => e.level === level) : list.length === 1 ? list[0] : undefined;
  if (!pick)
    throw usage(
      level !== undefined
        ? `${path}: no entry for level ${level} (levels: ${list.map((e) => e.level).join(', ')})`
        : `${path}: several levels (${list.map((e) => e.level).join(', ')}); pick one with --level`,
      { path },
    );
  return toCredentials(pick);
}

/** The entries of a credentials file: one mapping or a list of them, each checked on its own. */
function entriesIn(path: string, what: string): Entry[] {
  const raw = parseYamlWith(readText(path, what), path, z.unknown(), ErrorCode.UsageError, what);
  const items = Array.isArray(raw) ? raw : [raw];
  if (items.length === 0) throw usage(`${path}: no entries`, { path });
  return items.map((item, i) => {
    const r = entrySchema.safeParse(item);
    if (r.success) return r.data;
    const issue = r.error.issues[0];
    const where = [...(Array.isArray(raw) ? [i] : []), ...(issue?.path ?? [])].map(String).join('.');
    throw usage(`${path}: ${where ? `${where}: ` : ''}${issue?.message ?? 'invalid'}`, { path });
  });
}

function toCredentials(e: Entry): C1218Credentials {
  return { level: e.level, secret: secretOf(e), ...(e.userId !== undefined ? { userId: e.userId } : {}) };
}

/** Logon credentials from the flags. */
export function credentialsFrom(f: ConnectFlags): C1218Credentials {
  if (f.credentials !== undefined) {
    if (f.password !== undefined || f.passwordHex !== undefined)
      throw usage('give --credentials FILE or --password/--password-hex, not both');
    return loadCredentialsFile(f.credentials, f.level);
  }
  if (f.level === undefined)
    throw usage('who logs on? give --level NAME with --password or --password-hex, or --credentials FILE');
  if ((f.password === undefined) === (f.passwordHex === undefined))
    throw usage(`--level ${f.level}: give exactly one of --password and --password-hex`);
  const parsed = entrySchema.safeParse({
    level: f.level,
    ...(f.password !== undefined ? { password: f.password } : { passwordHex: f.passwordHex }),
  });
  if (!parsed.success)
    throw usage(
      `--password${f.password === undefined ? '-hex' : ''}: ${parsed.error.issues[0]?.message ?? 'invalid'}`,
    );
  return toCredentials(parsed.data);
}

/** New credentials for migrate: a list of entries (or one). */
export function loadNewCredentialsFile(path: string): Credential[] {
  const entries = entriesIn(path, 'new-credentials file');
  const levels = entries.map((e) => e.level);
  if (new Set(levels).size !== levels.length)
    throw usage(`${path}: a level appears twice (${levels.join(', ')})`);
  return entries.map((e) => ({ level: e.level, secret: secretOf(e) }));
}

/**
 * Random secrets for `levels` (20 bytes, or `lengthOf(level)`: DLMS keys are 16), saved to `path`
 * (mode 0600) when given.
 */
export function generateCredentials(
  levels: readonly string[],
  path?: string,
  lengthOf: (level: string) => number = () => 20,
): Credential[] {
  const creds = levels.map((level) => ({ level, secret: randomBytes(lengthOf(level)) }));
  if (path !== undefined) {
    const text =
      '# New secrets installed by smets1-sim migrate. Keep this file secret.\n' +
      creds.map((c) => `- level: ${c.level}\n  passwordHex: ${c.secret.toString('hex')}\n`).join('');
    try {
      writeFileSync(path, text, { mode: 0o600, flag: 'wx' });
    } catch (e) {
      throw new SimError(
        ErrorCode.IoError,
        `cannot write ${path}: ${e instanceof Error ? e.message : String(e)}`,
        { path },
      );
    }
  }
  return creds;
}

export function fileExists(path: string): boolean {
  return existsSync(path);
}

/**
 * --attempts, and the back-off between tries. A C12.18 meter on a port with a preset gets the
 * preset's `failedSessionBackoffMs` (7 s on the shipped ones, longer than the 6 s channel-traffic
 * timeout) as the shortest wait before another try: after a failed session the meter must time
 * out and fall back to 9600 baud and logged-out before it answers again (docs/c1218.md §1.1;
 * MeteringSDK sleeps 7 s too). `stack` is the meter's (undefined: C12.18, identified from ST1).
 */
export function retryPolicy(f: ConnectFlags, stack: 'c1218' | 'dlms' = 'c1218'): RetryPolicy {
  let policy: RetryPolicy = { ...DEFAULT_RETRY_POLICY };
  if (f.attempts !== undefined) {
    const n = Number(f.attempts);
    if (!Number.isInteger(n) || n < 1 || n > 100) throw usage(`--attempts ${f.attempts}: an integer 1..100`);
    policy = { ...policy, attempts: n };
  }
  const backoff = stack === 'c1218' ? presetSessionBackoffMs(f.connect) : undefined;
  if (backoff !== undefined)
    policy = {
      ...policy,
      baseDelayMs: Math.max(policy.baseDelayMs, backoff),
      maxDelayMs: Math.max(policy.maxDelayMs, backoff),
    };
  return policy;
}

/** The c1218 `failedSessionBackoffMs` of the preset `uri` names, if it names one. */
function presetSessionBackoffMs(uri: string): number | undefined {
  if (!/[?&]preset=/.test(uri)) return undefined;
  return presetConnection(uri, 'c1218').timeouts?.failedSessionBackoffMs;
}

/** --timeout: ms to wait for each answer (docs/transports.md "Presets"). */
export function timeoutOf(f: { timeout?: string }): number | undefined {
  if (f.timeout === undefined) return undefined;
  const n = Number(f.timeout);
  if (!Number.isInteger(n) || n < 1 || n > 3_600_000)
    throw usage(`--timeout ${f.timeout}: milliseconds, an integer 1..3600000`);
  return n;
}

function baudOf(f: ConnectFlags): number | undefined {
  if (f.baud === undefined) return undefined;
  const n = Number(f.baud);
  if (!Number.isInteger(n) || n <= 0) throw usage(`--baud ${f.baud}: a line speed such as 9600 or 38400`);
  return n;
}

/** A session opener for the flags; `credentials` may be swapped (after migrate). */
export function sessionOpener(
  f: ConnectFlags,
  io: Io,
  clock: Clock | undefined,
  credentials: { current: C1218Credentials },
  onMigrated?: (creds: readonly Credential[]) => void,
): () => Promise<C1218MeterSession> {
  const baud = baudOf(f);
  const timeout = timeoutOf(f);
  const client = {
    ...(baud !== undefined ? { baud } : {}),
    ...(timeout !== undefined ? { responseTimeoutMs: timeout } : {}),
  };
  return () =>
    openC1218Session({
      connect: f.connect,
      ...(f.profile !== undefined ? { profile: f.profile } : {}),
      ...(f.profilesDir !== undefined ? { profilesDir: f.profilesDir } : {}),
      credentials: credentials.current,
      ...(clock ? { clock } : {}),
      ...(f.trace ? { trace: (e) => io.err(`${e.dir === 'tx' ? '>' : '<'} ${e.hex}  ${e.text}`) } : {}),
      ...(onMigrated ? { onMigrated } : {}),
      ...(Object.keys(client).length > 0 ? { client } : {}),
    });
}

/** A session the commands can drive, whichever stack it speaks. */
export type OpenedSession = MeterSession & {
  readonly profile: FirmwareProfile;
  /** Access levels the profile's migrate sets new secrets for. */
  readonly migrateLevels: readonly string[];
};

/** How a command reaches its meter: opens sessions and follows a migrate's new secrets. */
export interface Connector {
  readonly stack: 'c1218' | 'dlms';
  /** The access level (C12.18) or association (DLMS) that logs on. */
  readonly who: string;
  /** DLMS honours the flow's request for the old or new credentials; C12.18 follows adopt(). */
  open(request?: SessionCredentialsRequest): Promise<OpenedSession>;
  /** The meter took these secrets (a migrate, or one found on resume). True when ours changed. */
  adopt(installed: readonly Credential[]): boolean;
  /** Bytes of a new secret for `level` (DLMS keys: 16; passwords: 20). */
  secretLength(level: string): number;
}

const DLMS_ONLY = ['association', 'link', 'ek', 'ak', 'kek', 'profileSecrets'] as const;
const FLAG_NAME: Record<(typeof DLMS_ONLY)[number], string> = {
  association: '--association',
  link: '--link',
  ek: '--ek',
  ak: '--ak',
  kek: '--kek',
  profileSecrets: '--profile-secrets',
};

/**
 * The connector for the flags: a DLMS one when --profile names a DLMS profile (DLMS meters
 * cannot be identified from ST1), else C12.18 (profile given or identified from ST1).
 * `defaultAssociation` is the DLMS association used without --association.
 */
export function connector(
  f: ConnectFlags,
  io: Io,
  o: { clock?: Clock; defaultAssociation: string },
): Connector {
  const profile =
    f.profile !== undefined
      ? loadProfile(f.profile, f.profilesDir !== undefined ? { dir: f.profilesDir } : {}).profile
      : undefined;
  if (profile?.protocol.stack === 'dlms') {
    if (f.level !== undefined)
      throw usage(
        `--level: DLMS meters associate; give --association NAME (the access levels go in --credentials FILE)`,
      );
    if (f.baud !== undefined)
      throw usage('--baud: C12.18 only (a DLMS link runs at the line speed or mode E)');
    const fileSecrets = new Map(
      f.credentials !== undefined
        ? entriesIn(f.credentials, 'credentials file').map((e) => [e.level, secretOf(e)] as const)
        : [],
    );
    const association = associationOf(profile, f.association ?? o.defaultAssociation);
    const timeout = timeoutOf(f);
    const d = dlmsOpener(profile, f, association, fileSecrets, io, o.clock, timeout);
    const keyLevels = new Set(
      profile.protocol.dlms.associations.flatMap((a) => (a.keys ? [a.keys.ek, a.keys.ak, a.keys.kek] : [])),
    );
    return {
      stack: 'dlms',
      who: association,
      open: (request) => d.open(request),
      adopt: (c) => d.adopt(c),
      secretLength: (level) => (keyLevels.has(level) ? 16 : 20),
    };
  }
  const dlmsFlag = DLMS_ONLY.find((k) => f[k] !== undefined);
  if (dlmsFlag)
    throw usage(
      `${FLAG_NAME[dlmsFlag]}: for DLMS meters; give --profile with a DLMS profile` +
        (profile ? ` (${profile.id} speaks ${profile.protocol.stack})` : ''),
    );
  const credentials = { current: credentialsFrom(f) };
  const adopt = (installed: readonly Credential[]): boolean => {
    const mine = installed.find((c) => c.level === credentials.current.level);
    if (!mine || Buffer.from(mine.secret).equals(credentials.current.secret)) return false;
    credentials.current = { ...credentials.current, secret: Buffer.from(mine.secret) };
    return true;
  };
  const open = sessionOpener(f, io, o.clock, credentials, (installed) => void adopt(installed));
  return { stack: 'c1218', who: credentials.current.level, open, adopt, secretLength: () => 20 };
}

/**
 * Exit code of an error (docs/cli.md "Exit codes"): 2 usage, bad input files, profiles;
 * 5 the meter could not be reached or stopped answering; 1 anything the meter or the flow
 * refused (a wrong password is an authentication failure: 1).
 */
export function exitCodeOf(e: unknown): number {
  if (!(e instanceof SimError)) return ExitCode.Internal;
  const code = e.code as number;
  if (
    code === ErrorCode.ConfigInvalid ||
    code === ErrorCode.MigrationRegistrationInvalid ||
    code === ErrorCode.MigrationRulesetInvalid ||
    code === ErrorCode.MigrationProductListInvalid ||
    code === ErrorCode.MigrationJournalInvalid ||
    code === ErrorCode.TransportUriInvalid ||
    code === ErrorCode.TransportUnsupportedScheme
  )
    return ExitCode.Usage;
  const layer = layerOf(code);
  if (layer === 'usage' || layer === 'profile') return ExitCode.Usage;
  if (layer === 'transport' || layer === 'link' || isTransient(e)) return ExitCode.Communication;
  return ExitCode.Failure;
}

/** Print the one-line reason and return the exit code (Internal errors are rethrown). */
export function failWith(io: Io, command: string, e: unknown): number {
  if (!(e instanceof SimError)) throw e;
  const code = exitCodeOf(e);
  const hint =
    e.code === ErrorCode.SessionAuthFailed
      ? 'authentication failed: '
      : e.code === ErrorCode.SessionLockedOut
        ? 'locked out: '
        : code === ExitCode.Communication
          ? 'cannot reach the meter: '
          : '';
  io.err(`smets1-sim ${command}: ${hint}${errorLine(e)}`);
  return code;
}
