/**
 * `smets1-sim simulate --profile ID --listen URI [--state FILE.db] [--card ISSUER|none]
 *  [--supplier ID] [--seed N] [--link hdlc|wrapper|mode-e] [--trace]`: run one simulated meter until SIGINT/SIGTERM
 * (docs/simulate.md). Prints where it listens (for a pty the link and the /dev/pts device),
 * logs every session on stderr, and with --trace prints every frame on stdout. Every change
 * the meter acknowledges is already in the state file, so stopping only closes.
 */
import { Writable } from 'node:stream';
import type { Command } from 'commander';
import { ErrorCode, SimError } from '../../core/errors';
import { createLogger } from '../../core/logger';
import type { DlmsLinkKind } from '../../profiles/dlms-binding-schema';
import { startSimulator, type Simulator, type SimulatorOptions } from '../../sim/simulator';
import { ExitCode } from '../exit-codes';
import { printJson, type Io } from '../output';
import { failWith } from './connect-options';

export interface SimulateFlags {
  profile: string;
  listen: string;
  profilesDir?: string;
  state?: string;
  meterId?: string;
  card?: string;
  cardPrefix?: string;
  supplier?: string;
  seed?: string;
  index?: string;
  trace?: boolean;
  link?: string;
  json?: boolean;
  logLevel?: string;
  logFormat?: string;
}

const LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'];
const LEVEL_NAMES: Record<number, string> = {
  10: 'TRACE',
  20: 'DEBUG',
  30: 'INFO',
  40: 'WARN',
  50: 'ERROR',
  60: 'FATAL',
};

/**
 * A pino destination writing to io.err: JSON lines as they are (--log-format json), or
 * "HH:MM:SS.mmm LEVEL message key=value ..." for people (text, the default).
 */
export function logDestination(io: Io, format: 'text' | 'json'): Writable {
  return new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const line of chunk.toString('utf8').split('\n')) {
        if (!line) continue;
        if (format === 'json') {
          io.err(line);
          continue;
        }
        try {
          const { time, level, msg, ...rest } = JSON.parse(line) as Record<string, unknown>;
          const at = typeof time === 'number' ? new Date(time).toISOString().slice(11, 23) : '';
          const text = String(msg);
          // Fields the message already says, and the constant ones, are left out of text lines.
          const extra = Object.entries(rest)
            .filter(([k]) => !['meter', 'profile', 'component', 'line'].includes(k))
            .map(([k, v]) => [k, typeof v === 'string' ? v : JSON.stringify(v)] as const)
            .filter(([, v]) => v !== '' && v !== 'null' && !text.includes(v))
            .map(([k, v]) => `${k}=${v}`)
            .join(' ');
          io.err(
            `${at} ${LEVEL_NAMES[level as number] ?? String(level)} ${String(msg)}${extra ? `  ${extra}` : ''}`,
          );
        } catch {
          io.err(line);
        }
      }
      done();
    },
  });
}

function integer(flag: string, v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isSafeInteger(n) || n < 0)
    throw new SimError(ErrorCode.UsageError, `${flag} ${v}: a non-negative integer`);
  return n;
}

function banner(sim: Simulator): string[] {
  const m = sim.meter;
  const id = m.readIdentity();
  const reg = m.readRegistration();
  const card = m.readCardRecord();
  const e = sim.endpoint;
  return [
    `simulating ${sim.profile.id} (${id.manufacturer} ${id.model} ${id.deviceType}, firmware ${id.applicationFirmwareId}) as meter ${m.id}${sim.resumed ? ', resumed from the state file' : ''}`,
    `  device ${id.deviceId}  serial ${id.serial}  ${id.deviceType === 'ESME' ? `MPAN ${reg.mpanCore}` : `MPRN ${reg.mprn}`}  supplier ${reg.supplierId}`,
    `  payment card ${card ? `${card.paymentCardId} (issuer ${card.issuerSupplierId})` : '(none)'}  Site ID ${reg.siteId ?? '(none)'}  migration ${m.readMigration().state}`,
    ...dlmsLines(sim),
    `listening on ${e.uri}${e.kind === 'pty' ? ` (${e.path} -> ${e.peer ?? '?'})` : e.kind === 'tcp' ? ` (${e.path})` : ''}`,
    ...(e.connect ? [`connect with --connect ${e.connect}`] : []),
    `state ${sim.statePath ?? 'in memory (lost at exit; use --state FILE.db to keep it)'}`,
    'stop with Ctrl-C (SIGINT) or SIGTERM',
  ];
}

/** DLMS meters: the link and who may associate (secrets are never printed). */
function dlmsLines(sim: Simulator): string[] {
  const p = sim.profile.protocol;
  if (p.stack !== 'dlms') return [];
  const d = p.dlms;
  const assocs = d.associations.map((a) => `${a.name} (client ${a.clientSap}, ${a.mechanism})`).join(', ');
  return [`  DLMS over ${LINK_TEXT[d.link]}, logical device ${d.logicalDevice}; associations ${assocs}`];
}

const LINK_TEXT = {
  hdlc: 'HDLC',
  wrapper: 'the TCP wrapper',
  'mode-e': 'IEC 62056-21 mode E (300 Bd sign-on) then HDLC',
} as const;

const LINKS = Object.keys(LINK_TEXT) as DlmsLinkKind[];

function linkOf(v: string | undefined): DlmsLinkKind | undefined {
  if (v === undefined) return undefined;
  if (!(LINKS as string[]).includes(v))
    throw new SimError(ErrorCode.UsageError, `--link ${v}: one of ${LINKS.join(', ')}`);
  return v as DlmsLinkKind;
}

/** Run a simulator until `stop` settles; returns the exit code. The testable core of the command. */
export async function runSimulate(f: SimulateFlags, io: Io, stop: Promise<unknown>): Promise<number> {
  let sim: Simulator | undefined;
  try {
    const level = f.logLevel ?? 'info';
    if (!LEVELS.includes(level))
      throw new SimError(ErrorCode.UsageError, `--log-level ${level}: one of ${LEVELS.join(', ')}`);
    const format = f.logFormat ?? 'text';
    if (format !== 'text' && format !== 'json')
      throw new SimError(ErrorCode.UsageError, `--log-format ${format}: text or json`);
    const logger = createLogger({ level, destination: logDestination(io, format) });
    const seed = f.seed === undefined ? undefined : /^\d+$/.test(f.seed) ? Number(f.seed) : f.seed;
    const index = integer('--index', f.index);
    const link = linkOf(f.link);
    const options: SimulatorOptions = {
      profileId: f.profile,
      listen: f.listen,
      logger,
      ...(f.profilesDir !== undefined ? { profilesDir: f.profilesDir } : {}),
      ...(f.state !== undefined ? { statePath: f.state } : {}),
      ...(f.meterId !== undefined ? { meterId: f.meterId } : {}),
      ...(f.card !== undefined ? { card: f.card } : {}),
      ...(f.cardPrefix !== undefined ? { cardPrefix: f.cardPrefix } : {}),
      ...(f.supplier !== undefined ? { supplierId: f.supplier } : {}),
      ...(seed !== undefined ? { seed } : {}),
      ...(index !== undefined ? { index } : {}),
      ...(link !== undefined ? { link } : {}),
      ...(f.trace
        ? {
            trace: (t) => io.out(`${t.at.toFixed(1)} ${t.dir === 'rx' ? '<' : '>'} ${t.hex}  ${t.text}`),
            // APDUs as on the wire: a ciphered APDU stays ciphered, so secrets never show.
            dlmsTrace: (t) =>
              io.out(`${t.dir === 'rx' ? '<' : '>'} ${t.link} c${t.client}/s${t.server} ${t.apdu}`),
          }
        : {}),
    };
    sim = await startSimulator(options);
    if (f.json)
      printJson(io, {
        profile: sim.profile.id,
        stack: sim.profile.protocol.stack,
        ...(sim.profile.protocol.stack === 'dlms' ? { link: sim.profile.protocol.dlms.link } : {}),
        meterId: sim.meter.id,
        resumed: sim.resumed,
        identity: sim.meter.readIdentity(),
        registration: sim.meter.readRegistration(),
        cardRecord: sim.meter.readCardRecord(),
        listen: sim.endpoint,
        state: sim.statePath,
      });
    else io.out(banner(sim).join('\n'));
    await stop;
    await sim.close();
    io.out(sim.statePath ? `stopped; state is in ${sim.statePath}` : 'stopped');
    return ExitCode.Ok;
  } catch (e) {
    await sim?.close().catch(() => undefined);
    return failWith(io, 'simulate', e);
  }
}

export function registerSimulate(program: Command, io: Io, setExit: (code: number) => void): void {
  program
    .command('simulate')
    .description(
      'run one simulated meter (C12.18 or DLMS) on a pty, TCP port or serial port until SIGINT/SIGTERM',
    )
    .requiredOption('--profile <id>', 'firmware profile, e.g. secure-liberty100-esme-p4x2g04')
    .requiredOption(
      '--listen <uri>',
      'pty:/tmp/meter-1, tcp-listen://127.0.0.1:7001, serial:/dev/ttyUSB0?baud=9600',
    )
    .option('--profiles-dir <dir>', 'profiles directory (default: the shipped firmware-profiles/)')
    .option('--state <file>', 'SQLite state file: created, or resumed when it exists')
    .option('--meter-id <id>', 'meter id inside the state file', 'sim')
    .option(
      '--card <issuer|none>',
      'supplier id that issued the payment card held by a new meter, or none (default: --supplier)',
    )
    .option(
      '--card-prefix <digits>',
      "Payment Card ID prefix of the issuer (default: the profile's issuerPrefixes)",
    )
    .option('--supplier <id>', 'Responsible Supplier a new meter is registered to', 'SUPA')
    .option('--seed <n>', 'seed of the generated identity (MPAN/MPRN, serial, EUI-64, card number)', '1')
    .option('--index <n>', 'index within the seed', '0')
    .option(
      '--link <link>',
      "DLMS profiles: serve over hdlc, wrapper or mode-e instead of the profile's link",
    )
    .option('--trace', 'print every frame (C12.18) or APDU (DLMS) on stdout')
    .option('--json', 'print the meter and where it listens as JSON')
    .option('--log-level <level>', `${LEVELS.join(', ')}`, 'info')
    .option('--log-format <format>', 'text or json (logs go to stderr)', 'text')
    .action(async (f: SimulateFlags) => {
      let onSignal: (() => void) | undefined;
      const stop = new Promise<void>((resolve) => {
        onSignal = resolve;
        process.once('SIGINT', resolve);
        process.once('SIGTERM', resolve);
      });
      try {
        setExit(await runSimulate(f, io, stop));
      } finally {
        process.off('SIGINT', onSignal!);
        process.off('SIGTERM', onSignal!);
      }
    });
}
