/**
 * Sessions of the sweep for DLMS meters of a manifest (docs/sweep.md "DLMS meters"). A DLMS
 * meter associates rather than logs on: the sweep opens the profile's `management` association
 * (option `association`) with the access-level secrets the manifest lists for the meter (EK and
 * AK for HLS-GMAC, the password for LLS), over the link the farm serves it on (farmDlmsProfile:
 * the fleet file's `link`, by default the TCP wrapper on tcp, the profile's own link elsewhere).
 *
 * New credentials: a DLMS migrate hands over exactly the levels the profile's migrate names —
 * the `newSecrets.*` parameters of its migrate command, plus the association's EK and AK where it
 * has a Security setup (key transfer) — so the policy's levels default to those (deriveSecret
 * keeps each key's 16 octets), not to the C12.18 default (reader, privileged).
 *
 * Which secrets a session opens with: the flow says so when it asks (`SessionRequest`: 'old' =
 * the manifest's, 'new' = the new credentials over them; the flow orders them on resume,
 * docs/migration.md "Key hand-over"); when it does not, the source follows what it knows — the
 * journal's phase at the start, every migrate or key transfer of its own sessions after.
 */
import { systemClock, type Clock } from '../core/clock';
import { silentLogger, type Logger } from '../core/logger';
import { farmDlmsProfile } from '../farm/dlms-serving';
import type { MeterSpec } from '../farm/generator';
import type { Credential, MeterSession } from '../migration/session';
import {
  credentialsAfterMigrate,
  openDlmsSession,
  type DlmsCredentials,
} from '../migration/sessions/dlms-session';
import { associationSpec, dlmsCredentialsFor } from '../profiles/dlms-binding-client';
import { dlmsMap } from '../profiles/dlms-binding-map';
import { loadProfile } from '../profiles/loader';
import type { FirmwareProfile } from '../profiles/schema';
import { newCredentialsFor, type NewCredentialsPolicy } from './credentials';
import type { CredentialPhase } from './session-source';

/** What the flow of one DLMS meter gets: its session factory and its new credentials. */
export interface MeterSessions {
  /** The flow's session factory (takes the flow's SessionRequest when it passes one). */
  readonly open: (request?: {
    credentials: 'old' | 'new';
    newCredentials: readonly Credential[];
  }) => Promise<MeterSession>;
  readonly newCredentials: Credential[];
  /** Sessions opened (associations attempted), for request-rate accounting. */
  readonly opened: number;
}

/**
 * The sweep's per-meter hook (SweepOptions.meterSessions): sessions for the meters whose stack it
 * serves, undefined for the others (they go to the sweep's session factory).
 */
export type MeterSessionsHook = (
  meter: MeterSpec,
  policy: NewCredentialsPolicy,
  phase: CredentialPhase,
) => MeterSessions | undefined;

export interface DlmsSweepSessionOptions {
  profilesDir?: string;
  /** Profile association the sweep opens (default `management`: reads the card, clears, migrates). */
  association?: string;
  clock?: Clock;
  logger?: Logger;
  /** Answer timeout per request (default 30 s). */
  timeoutMs?: number;
}

/** The levels a DLMS migrate hands over for `association` (see the header). */
export function dlmsHandoverLevels(p: FirmwareProfile, association: string): string[] {
  const a = associationSpec(p, association);
  const set = (dlmsMap(p).operations.get('migrate') ?? []).flatMap((l) => ('set' in l ? [l.set] : []))[0];
  const params = set ? (set.params ?? (set.param ? [set.param] : [])) : [];
  const levels = params.filter((x) => x.arg.startsWith('newSecrets.')).map((x) => x.arg.slice(11));
  if (a.keys && a.securitySetup) levels.push(a.keys.ek, a.keys.ak);
  return [...new Set(levels)];
}

/** Sessions for the DLMS meters of a manifest; C12.18 meters are left to the session factory. */
export function dlmsMeterSessions(o: DlmsSweepSessionOptions = {}): MeterSessionsHook {
  // A profile this hook cannot load is not its business: the session factory reports it.
  const profiles = new Map<string, FirmwareProfile | null>();
  const profileOf = (id: string): FirmwareProfile | null => {
    let p = profiles.get(id);
    if (p === undefined) {
      try {
        p = loadProfile(id, o.profilesDir ? { dir: o.profilesDir } : {}).profile;
      } catch {
        p = null;
      }
      profiles.set(id, p);
    }
    return p;
  };
  const association = o.association ?? 'management';
  const clock = o.clock ?? systemClock;
  const logger = o.logger ?? silentLogger;

  return (meter, policy, phase) => {
    const stored = profileOf(meter.profile);
    if (stored?.protocol.stack !== 'dlms') return undefined;
    const profile = farmDlmsProfile(meter, stored);
    const manifestSecrets = new Map(meter.credentials.map((c) => [c.level, Buffer.from(c.secretHex, 'hex')]));
    const smso = dlmsCredentialsFor(profile, association, (level) => manifestSecrets.get(level));
    const newCredentials =
      policy.kind === 'derived'
        ? newCredentialsFor(
            { ...policy, levels: policy.levels ?? dlmsHandoverLevels(profile, association) },
            meter.id,
            meter.credentials,
          )
        : newCredentialsFor(policy, meter.id, meter.credentials);
    // Without a request from the flow: the journal's word at the start (an uncertain hand-over
    // is taken as done: the flow asks explicitly when it resumes one), the session's after.
    let current: DlmsCredentials =
      phase === 'smso' ? smso : credentialsAfterMigrate(profile, smso, newCredentials);
    let opened = 0;
    const openWith = (credentials: DlmsCredentials): Promise<MeterSession> => {
      opened++;
      return openDlmsSession({
        connect: meter.endpoint.connect,
        profile,
        credentials,
        clock,
        logger,
        ...(o.timeoutMs !== undefined ? { timeoutMs: o.timeoutMs } : {}),
        onMigrated: (_installed, now) => {
          current = now;
        },
      });
    };
    return {
      newCredentials,
      get opened() {
        return opened;
      },
      open: (request) =>
        openWith(
          !request
            ? current
            : request.credentials === 'new'
              ? credentialsAfterMigrate(profile, smso, request.newCredentials)
              : smso,
        ),
    };
  };
}
