import type { Command } from 'commander';
import { createLogger } from '../../core/logger';
import { stackServerFactory } from '../../farm/dlms-serving';
import { runFarm, type RunningFarm } from '../../farm/farm-command';
import { c1218ServerFactory } from '../../testing/farm';
import { ExitCode } from '../exit-codes';
import type { Io } from '../output';

interface FarmFlags {
  fleet: string;
  state?: string;
  shard?: string;
  manifest?: string;
  apiHost?: string;
  apiPort?: string;
  api?: boolean;
  advertiseHost?: string;
  profilesDir?: string;
}

/**
 * `smets1-sim farm --fleet FILE [--state DIR] [--shard i/N] [--manifest FILE] [--profiles-dir DIR]`: every meter of
 * the fleet (or of one shard) served in this process until SIGTERM/SIGINT, which stop accepting,
 * finish in-flight requests, flush state and exit 0 (docs/farm.md).
 */
export function registerFarm(
  program: Command,
  io: Io,
  setExit: (code: number) => void,
  start: (o: Parameters<typeof runFarm>[0]) => Promise<RunningFarm> = runFarm,
): void {
  program
    .command('farm')
    .description('serve a fleet of simulated meters (C12.18 and DLMS) until SIGTERM/SIGINT')
    .requiredOption('--fleet <file>', 'fleet YAML file (see fleets/ and docs/farm.md)')
    .option('--state <dir>', 'SQLite state directory; restarting with it resumes the same fleet')
    .option('--shard <i/N>', 'serve a deterministic 1/N of the fleet (0-based i)')
    .option('--manifest <file>', 'write the manifest (endpoints, identities, credentials, registration) here')
    .option(
      '--api-host <host>',
      'control API address (default 127.0.0.1; off-loopback needs SMETS1_FARM_TOKEN)',
    )
    .option('--api-port <port>', 'control API port (default 8080, 0 = any free port)')
    .option('--no-api', 'do not start the control API')
    .option('--advertise-host <host>', 'host written into the manifest tcp URIs (e.g. a pod DNS name)')
    .option(
      '--profiles-dir <dir>',
      'firmware profiles directory, e.g. captured profiles (default the shipped firmware-profiles/)',
    )
    .action(async (f: FarmFlags) => {
      const logger = createLogger({ name: 'farm' });
      const running = await start({
        fleetFile: f.fleet,
        factory: stackServerFactory(c1218ServerFactory),
        logger,
        api: f.api !== false,
        ...(f.state ? { stateDir: f.state } : {}),
        ...(f.shard ? { shard: f.shard } : {}),
        ...(f.manifest ? { manifestFile: f.manifest } : {}),
        ...(f.apiHost ? { apiHost: f.apiHost } : {}),
        ...(f.apiPort !== undefined ? { apiPort: Number(f.apiPort) } : {}),
        ...(f.advertiseHost ? { advertiseHost: f.advertiseHost } : {}),
        ...(f.profilesDir ? { profilesDir: f.profilesDir } : {}),
      });
      const h = running.farm.health();
      io.out(
        `farm ${h.fleet} shard ${h.shard}: ${h.meters} meters serving` +
          (running.api ? `; control API ${running.api.url}` : '') +
          (f.manifest ? `; manifest ${f.manifest}` : ''),
      );
      setExit((await running.exited) === 0 ? ExitCode.Ok : ExitCode.Failure);
    });
}
