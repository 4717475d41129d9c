/**
 * The files a capture writes (docs/capture.md "Files"): the profile as YAML, checked by the
 * profile loader before the command reports success, and the state snapshot as a SQLite state
 * file (the format `simulate --state` resumes). Neither holds a secret. `installSecrets` is the
 * deliberate, separate step that puts the user's own secrets into a state file before serving.
 */
import { existsSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { stringify } from 'yaml';
import { ErrorCode, SimError } from '../core/errors';
import { Meter } from '../device/meter';
import type { MeterEvent, MeterState } from '../device/state';
import { SqliteMeterStore } from '../device/storage';
import { formatProfileIssue, validateProfileFile } from '../profiles/loader';
import { deviceBehaviour, secretBytes } from '../profiles/device-binding';
import type { FirmwareProfile } from '../profiles/schema';

function ioError(path: string, e: unknown): SimError {
  return new SimError(
    ErrorCode.IoError,
    `cannot write ${path}: ${e instanceof Error ? e.message : String(e)}`,
    {
      path,
    },
  );
}

function refuseExisting(path: string, force: boolean): void {
  if (!force && existsSync(path))
    throw new SimError(ErrorCode.UsageError, `${path} exists; remove it or pass --force`, { path });
}

/** The profile as YAML (with a header saying what it is), validated as written. */
export function writeProfileFile(path: string, profile: FirmwareProfile, force = false): void {
  refuseExisting(path, force);
  const header = [
    `# Captured by smets1-sim capture at ${profile.capture?.at ?? '?'} (docs/capture.md).`,
    '# No secret is stored here: each access level names the environment variable that supplies it',
    '# (capture.secretsOmitted). Unreadable and not reproduced items are listed under capture:.',
  ].join('\n');
  const tmp = `${path}.tmp-${process.pid}`;
  try {
    writeFileSync(tmp, `${header}\n${stringify(profile, { lineWidth: 0 })}`);
    renameSync(tmp, path);
  } catch (e) {
    rmSync(tmp, { force: true });
    throw ioError(path, e);
  }
  const v = validateProfileFile(path);
  if (!v.ok)
    throw new SimError(
      ErrorCode.ProfileInvalid,
      `the captured profile does not validate: ${v.issues.map(formatProfileIssue).join('; ')}`,
      { path },
    );
}

/** A new state file holding the captured meter (`meterId`), its events, no secrets. */
export function writeStateFile(
  path: string,
  state: MeterState,
  events: readonly MeterEvent[],
  eventBound: number,
  force = false,
): void {
  refuseExisting(path, force);
  if (force) for (const f of [path, `${path}-wal`, `${path}-shm`]) rmSync(f, { force: true });
  const store = new SqliteMeterStore(path);
  try {
    store.create(state, events, eventBound);
  } finally {
    store.close();
  }
}

/**
 * Put every access level's secret into the meter of a state file, from the profile's secret
 * specs (`env` ones from the environment now). Returns the levels installed. Throws
 * ConfigInvalid naming the variable that is not set.
 */
export function installSecrets(statePath: string, profile: FirmwareProfile, meterId = 'sim'): string[] {
  if (!existsSync(statePath))
    throw new SimError(ErrorCode.UsageError, `${statePath}: no such state file`, { path: statePath });
  const secrets = Object.fromEntries(
    profile.accessLevels.map((l) => [l.name, secretBytes(l).toString('hex')]),
  );
  const store = new SqliteMeterStore(statePath);
  try {
    const meter = Meter.load(meterId, { store, behaviour: deviceBehaviour(profile) });
    const s = meter.state;
    if (s.profileId !== profile.id)
      throw new SimError(
        ErrorCode.ProfileIncompatible,
        `state file holds meter ${meterId} of profile ${s.profileId}, not ${profile.id}`,
        { meterId, stored: s.profileId, profile: profile.id },
      );
    store.commit({
      id: meterId,
      expectedRev: s.rev,
      state: { ...s, rev: s.rev + 1, security: { ...s.security, secrets } },
      events: [],
      eventBound: profile.device.eventLogBound,
    });
  } finally {
    store.close();
  }
  return Object.keys(secrets);
}
