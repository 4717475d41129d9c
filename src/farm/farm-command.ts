/**
 * `smets1-sim farm` as a function (the CLI parses flags and calls this; docs/farm.md
 * "Running a farm"): load and generate the fleet, start the shard's meters over the given
 * protocol factory, serve the control API, and stop gracefully on SIGTERM/SIGINT — stop
 * accepting, finish in-flight requests, write the manifest, flush and close the state — then
 * report exit code 0.
 */
import type { EventEmitter } from 'node:events';
import { ErrorCode, SimError } from '../core/errors';
import { silentLogger, type Logger } from '../core/logger';
import { startControlApi, DEFAULT_API_HOST, DEFAULT_API_PORT, type RunningApi } from './control-api';
import { firmwareProfileResolver, type ProfileResolver } from './farm-profile';
import { loadFleetFile } from './fleet-spec';
import { generateFleet } from './generator';
import { FarmMetrics } from './metrics';
import { Farm, type MeterServerFactory } from './runtime';
import { formatShard, parseShard, WHOLE_FLEET } from './shard';

/** Environment variable holding the control API bearer token. */
export const TOKEN_ENV = 'SMETS1_FARM_TOKEN';

export interface RunFarmOptions {
  fleetFile: string;
  /** --state DIR: SQLite state, resumed when present. Absent: state in memory only. */
  stateDir?: string;
  /** --shard i/N */
  shard?: string;
  /** --manifest FILE */
  manifestFile?: string;
  /** --api-host (default 127.0.0.1); off-loopback needs a token. */
  apiHost?: string;
  /** --api-port (default 8080; 0 = any free port). */
  apiPort?: number;
  /** --no-api */
  api?: boolean;
  /** Bearer token; default from SMETS1_FARM_TOKEN. */
  apiToken?: string;
  /** --advertise-host: host clients use in the manifest's tcp URIs (a pod's DNS name). */
  advertiseHost?: string;
  factory: MeterServerFactory;
  /** --profiles-dir: firmware profiles from this directory (e.g. captured ones) instead of the shipped. */
  profilesDir?: string;
  profiles?: ProfileResolver;
  logger?: Logger;
  /** Where SIGTERM/SIGINT come from (default: process). */
  signals?: EventEmitter;
  env?: Record<string, string | undefined>;
}

export interface RunningFarm {
  farm: Farm;
  api: RunningApi | undefined;
  /** Stop everything (what a signal does). Idempotent. */
  stop(): Promise<void>;
  /** Resolves with the process exit code once stopped. */
  exited: Promise<number>;
}

export const STOP_SIGNALS = ['SIGTERM', 'SIGINT'] as const;

export async function runFarm(o: RunFarmOptions): Promise<RunningFarm> {
  const logger = o.logger ?? silentLogger;
  const env = o.env ?? process.env;
  const shard = o.shard === undefined ? WHOLE_FLEET : parseShard(o.shard);
  const spec = loadFleetFile(o.fleetFile);
  const profiles = o.profiles ?? firmwareProfileResolver(o.profilesDir ? { dir: o.profilesDir } : {});
  const plan = generateFleet(spec, profiles, { file: o.fleetFile });
  const token = o.apiToken ?? env[TOKEN_ENV];
  const apiHost = o.apiHost ?? DEFAULT_API_HOST;
  if (!o.stateDir) logger.warn('no --state directory: meter state is kept in memory and lost at exit');

  const metrics = new FarmMetrics({
    labels: { fleet: plan.fleet, shard: formatShard(shard) },
    processMetrics: true,
  });
  const farm = await Farm.start({
    plan,
    profiles,
    factory: o.factory,
    shard,
    metrics,
    logger,
    ...(o.stateDir ? { stateDir: o.stateDir } : {}),
    ...(o.manifestFile ? { manifestPath: o.manifestFile } : {}),
    ...(o.advertiseHost ? { advertiseHost: o.advertiseHost } : {}),
  });

  let api: RunningApi | undefined;
  if (o.api !== false) {
    try {
      api = await startControlApi({
        farm,
        host: apiHost,
        port: o.apiPort ?? DEFAULT_API_PORT,
        ...(token ? { token } : {}),
      });
      logger.info({ url: api.url }, 'control API listening');
    } catch (e) {
      await farm.stop();
      throw e instanceof SimError
        ? e
        : new SimError(ErrorCode.FarmStartFailed, (e as Error).message, {}, { cause: e });
    }
  }

  const signals = o.signals ?? process;
  let resolveExit: (code: number) => void = () => undefined;
  const exited = new Promise<number>((r) => (resolveExit = r));
  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    stopping ??= (async () => {
      for (const s of STOP_SIGNALS) signals.off(s, onSignal);
      let code = 0;
      try {
        // The API first: no new changes while the meters drain.
        if (api) await api.close();
      } catch (e) {
        logger.error({ err: e }, 'closing the control API failed');
        code = 1;
      }
      try {
        await farm.stop();
      } catch (e) {
        logger.error({ err: e }, 'stopping the farm failed');
        code = 1;
      }
      resolveExit(code);
    })();
    return stopping;
  };
  function onSignal(signal: string): void {
    logger.info({ signal }, 'stopping: finishing in-flight requests');
    void stop();
  }
  for (const s of STOP_SIGNALS) signals.on(s, onSignal);
  return { farm, api, stop, exited };
}
