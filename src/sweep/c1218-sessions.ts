/**
 * The sweep's default session factory: a C12.18 session (src/migration/sessions/c1218-session.ts)
 * to the manifest endpoint, logged on with the level and secret the sweep chose
 * (session-source.ts), the profile named by the manifest.
 *
 * Two choices for sweeps, both documented in docs/sweep.md:
 * - Profiles are loaded once per id and shared (a YAML parse per session would dominate a
 *   10,000-meter sweep).
 * - The client's own busy retries (20 x 2 s by default, as MeteringSDK does) are off: a `bsy`
 *   surfaces as ServiceBusy, which the flow retries with its policy and journals, so retries
 *   show in the reports and one policy governs them all. `client` overrides this.
 */
import { systemClock, type Clock } from '../core/clock';
import { ErrorCode, SimError } from '../core/errors';
import { silentLogger, type Logger } from '../core/logger';
import type { C1218ClientOptions } from '../protocols/c1218/client';
import { openC1218Session } from '../migration/sessions/c1218-session';
import { loadProfile } from '../profiles/loader';
import type { FirmwareProfile } from '../profiles/schema';
import type { SweepSessionFactory } from './session-source';

export interface C1218SweepSessionOptions {
  profilesDir?: string;
  clock?: Clock;
  logger?: Logger;
  /** C12.18 client overrides (timers, retries, packet size). */
  client?: Partial<C1218ClientOptions>;
}

export function c1218SessionFactory(o: C1218SweepSessionOptions = {}): SweepSessionFactory {
  const profiles = new Map<string, FirmwareProfile>();
  const profileOf = (id: string): FirmwareProfile => {
    let p = profiles.get(id);
    if (!p) {
      p = loadProfile(id, o.profilesDir ? { dir: o.profilesDir } : {}).profile;
      if (p.protocol.stack !== 'c1218')
        throw new SimError(
          ErrorCode.ProfileIncompatible,
          `profile ${id} speaks ${p.protocol.stack}; this session factory speaks C12.18`,
          { profile: id, stack: p.protocol.stack },
        );
      profiles.set(id, p);
    }
    return p;
  };
  const clock = o.clock ?? systemClock;
  const logger = o.logger ?? silentLogger;
  const client: Partial<C1218ClientOptions> = { retries: { count: 0 }, ...o.client };
  return async (meter, logon) =>
    openC1218Session({
      connect: meter.endpoint.connect,
      profile: profileOf(meter.profile),
      credentials: { level: logon.level, secret: logon.secret, userId: logon.userId },
      clock,
      logger,
      client,
    });
}
