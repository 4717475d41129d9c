/**
 * `smets1-sim capture --connect URI --profile-out FILE [--state-out FILE.db] [--profile BASE]
 *  [credentials]`: read everything readable from a meter and write a firmware profile plus a
 * state snapshot that serve it again (docs/capture.md). The stack is the base profile's
 * (C12.18 when no profile is given: identified from ST1). Unreadable items, items the clone does
 * not reproduce and the secrets left out are printed and listed in the profile's `capture:`
 * section. Exit 0 when the files were written, even with unreadable items.
 *
 * `smets1-sim capture-secrets --profile-file FILE --state FILE.db`: the separate step that puts
 * the secrets (from the environment variables the captured profile names) into a state file.
 */
import { existsSync } from 'node:fs';
import type { Command } from 'commander';
import { captureC1218, type CaptureOutcome } from '../../capture/c1218-capture';
import { installSecrets, writeProfileFile, writeStateFile } from '../../capture/capture-files';
import { captureDlms } from '../../capture/dlms-capture';
import { profileIdFromFile } from '../../capture/profile-doc';
import { ErrorCode, SimError } from '../../core/errors';
import { withDlmsLink, type DlmsTraceEntry } from '../../profiles/dlms-serve';
import { loadProfile, validateProfileFile, formatProfileIssue } from '../../profiles/loader';
import type { FirmwareProfile } from '../../profiles/schema';
import { ExitCode } from '../exit-codes';
import { printJson, table, type Io } from '../output';
import {
  connectOptions,
  credentialsFrom,
  failWith,
  loadNewCredentialsFile,
  type ConnectFlags,
} from './connect-options';
import { dlmsCredentialsFrom, dlmsLinkOf } from './dlms-connect';

export interface CaptureFlags extends ConnectFlags {
  profileOut: string;
  stateOut?: string;
  force?: boolean;
}

function usage(message: string): SimError {
  return new SimError(ErrorCode.UsageError, message);
}

function baseProfile(f: CaptureFlags): FirmwareProfile | undefined {
  if (f.profile === undefined) return undefined;
  return loadProfile(f.profile, f.profilesDir ? { dir: f.profilesDir } : {}).profile;
}

/** DLMS: the association (--association) and its secrets, as `interrogate` takes them. */
function dlmsCredentials(f: CaptureFlags, p: FirmwareProfile) {
  const names = p.protocol.stack === 'dlms' ? p.protocol.dlms.associations.map((a) => a.name) : [];
  if (f.association === undefined)
    throw usage(`DLMS: give --association NAME (${names.join(', ')}) and its secret`);
  if (f.level !== undefined) throw usage('--level: DLMS meters associate; give --association NAME');
  const fileSecrets = new Map(
    f.credentials !== undefined
      ? loadNewCredentialsFile(f.credentials).map((c) => [c.level, c.secret] as const)
      : [],
  );
  return dlmsCredentialsFrom(p, f, f.association, fileSecrets);
}

function summary(o: CaptureOutcome, f: CaptureFlags): string {
  const c = o.profile.capture!;
  const lines = [
    `captured ${o.items.length} item(s) as ${c.as}${c.base ? ` (decoded with ${c.base})` : ''} -> ${f.profileOut}${f.stateOut ? `, ${f.stateOut}` : ''}`,
    table(
      ['ITEM', 'NAME', 'BYTES', 'HOW'],
      o.items.map((i) => [
        i.item,
        i.name,
        i.bytes,
        i.read === 'partial' ? `${i.how} (read in chunks)` : i.how,
      ]),
    ),
  ];
  for (const u of c.unreadable) lines.push(`unreadable: ${u.item}: ${u.error}`);
  for (const n of c.notReproduced) lines.push(`not reproduced: ${n.item}: ${n.reason}`);
  for (const s of c.secretsOmitted)
    lines.push(`secret not captured: ${s.path} (supply it in $${s.supplyWith})`);
  return lines.join('\n');
}

/** The command's core (testable): capture and write the files; returns the exit code. */
export async function runCapture(f: CaptureFlags, io: Io): Promise<number> {
  try {
    const id = profileIdFromFile(f.profileOut);
    if (!/^[a-z0-9][a-z0-9.-]*$/.test(id))
      throw usage(
        `--profile-out ${f.profileOut}: the file name is the profile id: lower-case letters, digits, "." and "-", ending .yaml`,
      );
    if (!/\.ya?ml$/i.test(f.profileOut)) throw usage(`--profile-out ${f.profileOut}: a .yaml file`);
    // Refused before connecting: a capture may take minutes on a real meter.
    for (const out of [f.profileOut, f.stateOut])
      if (out !== undefined && !f.force && existsSync(out))
        throw usage(`${out} exists; remove it or pass --force`);
    const base = baseProfile(f);
    let outcome: CaptureOutcome;
    if (base?.protocol.stack === 'dlms') {
      const link = dlmsLinkOf(f.link);
      const profile = link !== undefined ? withDlmsLink(base, link) : base;
      outcome = await captureDlms({
        connect: f.connect,
        profile,
        credentials: dlmsCredentials(f, profile),
        id,
        ...(f.trace
          ? {
              trace: (e: DlmsTraceEntry) =>
                io.err(`${e.dir === 'tx' ? '>' : '<'} ${e.link} c${e.client}/s${e.server} ${e.apdu}`),
            }
          : {}),
      });
    } else {
      outcome = await captureC1218({
        connect: f.connect,
        ...(base ? { profile: base } : {}),
        ...(f.profilesDir !== undefined ? { profilesDir: f.profilesDir } : {}),
        credentials: credentialsFrom(f),
        id,
        ...(f.trace ? { trace: (e) => io.err(`${e.dir === 'tx' ? '>' : '<'} ${e.hex}  ${e.text}`) } : {}),
        ...(f.baud !== undefined ? { client: { baud: Number(f.baud) } } : {}),
      });
    }
    writeProfileFile(f.profileOut, outcome.profile, f.force === true);
    if (f.stateOut !== undefined)
      writeStateFile(
        f.stateOut,
        outcome.state,
        outcome.events,
        outcome.profile.device.eventLogBound,
        f.force === true,
      );
    if (f.json)
      printJson(io, {
        profile: f.profileOut,
        state: f.stateOut ?? null,
        items: outcome.items,
        ...outcome.profile.capture,
      });
    else io.out(summary(outcome, f));
    return ExitCode.Ok;
  } catch (e) {
    return failWith(io, 'capture', e);
  }
}

export interface CaptureSecretsFlags {
  profileFile: string;
  state: string;
  meterId?: string;
}

export function runCaptureSecrets(f: CaptureSecretsFlags, io: Io): number {
  try {
    const v = validateProfileFile(f.profileFile);
    if (!v.ok || !v.profile)
      throw new SimError(
        ErrorCode.ProfileInvalid,
        `${f.profileFile}: ${v.ok ? 'a template' : v.issues.map(formatProfileIssue).join('; ')}`,
      );
    const levels = installSecrets(f.state, v.profile, f.meterId ?? 'sim');
    io.out(`secrets of ${levels.join(', ')} installed in ${f.state}`);
    return ExitCode.Ok;
  } catch (e) {
    return failWith(io, 'capture-secrets', e);
  }
}

export function registerCapture(program: Command, io: Io, setExit: (code: number) => void): void {
  connectOptions(
    program
      .command('capture')
      .description('read every readable table or object of a meter into a firmware profile and a state file'),
  )
    .requiredOption('--profile-out <file>', 'profile to write (FILE.yaml; the file name is the profile id)')
    .option('--state-out <file>', 'SQLite state file to write (for simulate --state)')
    .option('--force', 'overwrite existing output files')
    .action(async (f: CaptureFlags) => setExit(await runCapture(f, io)));
  program
    .command('capture-secrets')
    .description('put the secrets a captured profile names (environment variables) into its state file')
    .requiredOption('--profile-file <file>', 'the captured profile (YAML)')
    .requiredOption('--state <file>', 'the state file written by capture --state-out')
    .option('--meter-id <id>', 'meter id inside the state file', 'sim')
    .action((f: CaptureSecretsFlags) => setExit(runCaptureSecrets(f, io)));
}
