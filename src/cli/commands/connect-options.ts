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
 */
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import type { Command } from 'commander';
import { z } from 'zod';
import type { Clock } from '../../core/clock';
import { ErrorCode, SimError, isTransient, layerOf } from '../../core/errors';
import type { Credential } from '../../migration/session';
import {
  openC1218Session,
  type C1218Credentials,
  type C1218MeterSession,
} from '../../migration/sessions/c1218-session';
import { DEFAULT_RETRY_POLICY, type RetryPolicy } from '../../migration/retry';
import { parseYamlWith } from '../../migration/yaml-source';
import { ExitCode } from '../exit-codes';
import { errorLine, type Io } from '../output';

export interface ConnectFlags {
  connect: string;
  profile?: string;
  profilesDir?: string;
  level?: string;
  password?: string;
  passwordHex?: string;
  credentials?: string;
  attempts?: string;
  baud?: string;
  trace?: boolean;
  json?: boolean;
}

/** Add the shared flags to a command. */
export function connectOptions(cmd: Command): Command {
  return cmd
    .requiredOption(
      '--connect <uri>',
      'the meter: tcp://HOST:PORT, pty:/path, serial:/dev/ttyUSB0?baud=9600, mem:NAME',
    )
    .option('--profile <id>', "firmware profile (default: identified from the meter's ST1)")
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
    .option('--trace', 'print every C12.18 frame (hex and decoded) on stderr')
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

/** Random 20-byte secrets for `levels`, saved to `path` (mode 0600) when given. */
export function generateCredentials(levels: readonly string[], path?: string): Credential[] {
  const creds = levels.map((level) => ({ level, secret: randomBytes(20) }));
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

export function retryPolicy(f: ConnectFlags): RetryPolicy {
  if (f.attempts === undefined) return { ...DEFAULT_RETRY_POLICY };
  const n = Number(f.attempts);
  if (!Number.isInteger(n) || n < 1 || n > 100) throw usage(`--attempts ${f.attempts}: an integer 1..100`);
  return { ...DEFAULT_RETRY_POLICY, attempts: n };
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
  return () =>
    openC1218Session({
      connect: f.connect,
      ...(f.profile !== undefined ? { profile: f.profile } : {}),
      ...(f.profilesDir !== undefined ? { profilesDir: f.profilesDir } : {}),
      credentials: credentials.current,
      ...(clock ? { clock } : {}),
      ...(f.trace ? { trace: (e) => io.err(`${e.dir === 'tx' ? '>' : '<'} ${e.hex}  ${e.text}`) } : {}),
      ...(onMigrated ? { onMigrated } : {}),
      ...(baud !== undefined ? { client: { baud } } : {}),
    });
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
