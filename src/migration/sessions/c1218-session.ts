/**
 * MeterSession over ANSI C12.18/C12.19 (DESIGN.md "Nothing above device/ knows which stack is
 * in use"): opening a session. The session's methods are in c1218-meter-session.ts.
 *
 * Opening: Ident -> Negotiate -> Logon (the level's user id) -> read ST1 -> Security. ST1 picks
 * the profile when none is given (profile-select.ts) and checks a given one. PSEM errors are
 * SimErrors from the client (isc -> ServiceAccessDenied, bsy -> ServiceBusy, a wrong password ->
 * SessionAuthFailed, lock-out -> SessionLockedOut, a dead link -> a Link or Transport error), so
 * the flow tells transient faults from data faults with `isTransient`.
 */
import { systemClock, type Clock } from '../../core/clock';
import { ErrorCode, SimError, isTransient } from '../../core/errors';
import { silentLogger, type Logger } from '../../core/logger';
import { presetConnection, type PresetConnection } from '../../hardware/preset-connect';
import { C1218Client, type C1218ClientOptions } from '../../protocols/c1218/client';
import type { C1218TraceEntry } from '../../protocols/c1218/trace';
import { StdTable } from '../../protocols/c1219/standard-layouts';
import { loadProfile } from '../../profiles/loader';
import type { AccessLevelSpec, FirmwareProfile } from '../../profiles/schema';
import { connect as openTransport } from '../../transport/open';
import type { Transport } from '../../transport/types';
import type { Credential } from '../session';
import { C1218MeterSession, passwordPad } from './c1218-meter-session';
import {
  decodeSt1Identification,
  describeSt1,
  profileMatchesSt1,
  selectProfileBySt1,
} from './profile-select';

export { C1218MeterSession } from './c1218-meter-session';

/** Who logs on: an access level of the profile and its secret (a password for C12.18). */
export interface C1218Credentials {
  level: string;
  secret: Uint8Array;
  /** Logon user id; default: the level's `userId` in the profile. */
  userId?: number;
  /** Logon user name (10 bytes at most); default: the level name, cut to 10. */
  user?: string;
}

export interface C1218SessionOptions {
  /** A transport URI (`tcp://…`, `pty:…`, `serial:…`, `mem:…`) or an open transport (not closed by the session). */
  connect: string | Transport;
  /** Profile id or object; absent = identified from ST1 among the profiles in `profilesDir`. */
  profile?: string | FirmwareProfile;
  profilesDir?: string;
  credentials: C1218Credentials;
  clock?: Clock;
  logger?: Logger;
  trace?: (entry: C1218TraceEntry) => void;
  /** Client overrides (timers, retries, packet size). */
  client?: Partial<C1218ClientOptions>;
  /** Called after migrate succeeded, with the credentials now valid on the meter. */
  onMigrated?: (credentials: readonly Credential[]) => void;
}

export interface ProfileSelection {
  profile: string;
  /** 'given' (and checked against ST1) or 'st1' (picked from the meter's ST1). */
  source: 'given' | 'st1';
  st1: string;
}

function resolveProfile(
  p: string | FirmwareProfile | undefined,
  dir: string | undefined,
): FirmwareProfile | undefined {
  if (p === undefined || typeof p === 'object') return p;
  return loadProfile(p, dir ? { dir } : {}).profile;
}

/**
 * A `?preset=NAME` URI (hardware/README.md): the probe's timeouts for real meters, its wake-up
 * byte, and the control lines the port holds (the client would otherwise set RTS=1 DTR=0 and
 * darken a DTR-powered probe).
 */
function presetClientOptions(link: PresetConnection<'c1218'> | undefined): Partial<C1218ClientOptions> {
  if (!link) return {};
  const t = link.timeouts;
  return {
    ...(link.control.rts !== undefined ? { rts: link.control.rts } : {}),
    ...(link.control.dtr !== undefined ? { dtr: link.control.dtr } : {}),
    ...(t
      ? {
          timers: {
            channelTrafficMs: t.channelTrafficMs,
            interCharMs: t.interCharacterMs,
            ackTimeoutMs: t.responseMs,
          },
          maxTries: t.maxTries,
        }
      : {}),
    ...(link.preset?.protocols.c1218?.wakeUp ? { wakeUp: true } : {}),
  };
}

function clientOptions(
  p: FirmwareProfile | undefined,
  o: C1218SessionOptions,
  link?: PresetConnection<'c1218'>,
): C1218ClientOptions {
  const c = p?.protocol.stack === 'c1218' ? p.protocol.c1218 : undefined;
  return {
    clock: o.clock ?? systemClock,
    logger: o.logger ?? silentLogger,
    ...(o.trace ? { trace: o.trace } : {}),
    ...(c
      ? {
          packetSize: c.packetSize,
          maxPackets: c.maxPackets,
          dataOrder: c.dataOrder,
          timers: {
            channelTrafficMs: c.timers.channelTrafficMs,
            interCharMs: c.timers.interCharacterMs,
            ackTimeoutMs: c.timers.responseMs,
          },
        }
      : {}),
    // A battery meter sleeps until woken (profile timing.wake); when the profile is not known
    // yet, wake anyway: a meter discards bytes until 0xEE (docs/c1218.md §1.1).
    wakeUp: p === undefined || p.timing.wake !== undefined,
    ...presetClientOptions(link),
    ...o.client,
  };
}

/**
 * Connect, identify and log on. Throws SimError: a Transport or Link error when the meter cannot be
 * reached, SessionAuthFailed / SessionLockedOut for a refused password, ProfileNotFound /
 * ProfileIncompatible when no profile fits ST1, ConfigInvalid for an unknown access level.
 */
export async function openC1218Session(o: C1218SessionOptions): Promise<C1218MeterSession> {
  const given = resolveProfile(o.profile, o.profilesDir);
  const clock = o.clock ?? systemClock;
  const owns = typeof o.connect === 'string';
  const link = typeof o.connect === 'string' ? presetConnection(o.connect, 'c1218') : undefined;
  const transport = link
    ? await openTransport(link.descriptor, { clock, ...(o.logger ? { logger: o.logger } : {}) })
    : (o.connect as Transport);
  const client = new C1218Client(transport, clientOptions(given, o, link));
  try {
    await client.connect();
    const ident = await client.ident();
    await client.negotiate();
    const levelIn = (p: FirmwareProfile): AccessLevelSpec => {
      const l = p.accessLevels.find((x) => x.name === o.credentials.level);
      if (!l)
        throw new SimError(
          ErrorCode.ConfigInvalid,
          `profile ${p.id} has no access level "${o.credentials.level}" (known: ${p.accessLevels.map((x) => x.name).join(', ')})`,
          { profile: p.id, level: o.credentials.level },
        );
      return l;
    };
    const user = o.credentials.user ?? o.credentials.level.slice(0, 10);
    const firstUserId = o.credentials.userId ?? (given ? levelIn(given).userId : 0);
    await client.logon(firstUserId, user);
    const st1Bytes = await client.readTable(StdTable.GENERAL_MFG_ID);
    const st1 = decodeSt1Identification(st1Bytes);
    let profile: FirmwareProfile;
    if (given) {
      if (!profileMatchesSt1(given, st1))
        throw new SimError(
          ErrorCode.ProfileIncompatible,
          `the meter identifies as ${describeSt1(st1)}, profile ${given.id} describes ${describeSt1({ ...given.c1219!.identification })}`,
          { profile: given.id, st1 },
        );
      profile = given;
    } else {
      profile = selectProfileBySt1(st1, o.profilesDir ? { dir: o.profilesDir } : {});
    }
    const level = levelIn(profile);
    const userId = o.credentials.userId ?? level.userId;
    if (userId !== firstUserId) {
      // Logoff returns to the identified state; log on again as the level's user.
      await client.logoff();
      await client.logon(userId, user);
    }
    await client.security(o.credentials.secret, passwordPad(profile));
    (o.logger ?? silentLogger).info(
      { profile: profile.id, selection: given ? 'given' : 'st1', st1: describeSt1(st1), level: level.name },
      given
        ? `profile ${profile.id} (checked against ST1)`
        : `profile ${profile.id} identified from ST1 (${describeSt1(st1)})`,
    );
    return new C1218MeterSession(
      client,
      transport,
      profile,
      { profile: profile.id, source: given ? 'given' : 'st1', st1: describeSt1(st1) },
      level,
      ident,
      {
        kind: 'c1219-table',
        op: 'read',
        tableId: StdTable.GENERAL_MFG_ID,
        bytes: Buffer.from(st1Bytes).toString('hex'),
      },
      owns,
      o,
    );
  } catch (e) {
    // A refused logon leaves the meter's session open: end it politely when the link works.
    if (!isTransient(e) && transport.isOpen) await client.terminate().catch(() => undefined);
    client.close();
    if (owns) await transport.close().catch(() => undefined);
    throw e;
  }
}
