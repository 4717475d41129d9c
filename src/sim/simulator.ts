/**
 * One simulated meter on one transport (issue 4, docs/simulate.md): a Meter made from a firmware
 * profile (or resumed from a SQLite state file), served by the profile's protocol stack on every
 * connection its listener accepts (pty and serial: one long-lived connection; TCP: one per
 * client). C12.18 profiles: the C12.19 table engine behind a C12.18 server per connection, each
 * with its own session and ST8. DLMS profiles: the COSEM binding behind one DlmsServer, each
 * connection its own link (HDLC, wrapper, or IEC 62056-21 mode E then HDLC; sim/dlms-serving.ts).
 *
 * Every change the meter acknowledges on the wire is committed to the store first (src/device),
 * so close() has nothing left to save and a restart with the same state file continues where the
 * last run stopped, kill -9 included.
 */
import { systemClock, type Clock } from '../core/clock';
import { ErrorCode, SimError } from '../core/errors';
import { silentLogger, type Logger } from '../core/logger';
import { Meter } from '../device/meter';
import { MemoryMeterStore, SqliteMeterStore, type Durability, type MeterStore } from '../device/storage';
import { C1218Server } from '../protocols/c1218/server';
import type { C1218TraceEntry } from '../protocols/c1218/trace';
import { bindC1219, c1218ServerOptions } from '../profiles/c1219-binding';
import { deviceBehaviour, newMeterFromProfile } from '../profiles/device-binding';
import { loadProfile } from '../profiles/loader';
import type { FirmwareProfile } from '../profiles/schema';
import { bindDlms } from '../profiles/dlms-binding';
import type { DlmsLinkKind } from '../profiles/dlms-binding-schema';
import { withDlmsLink, type DlmsTraceEntry } from '../profiles/dlms-serve';
import { presetResolver } from '../hardware/preset-connect';
import type { PresetProtocol } from '../hardware/preset-schema';
import { listen } from '../transport/open';
import type { Listener, Transport, TransportInfo } from '../transport/types';
import { serveDlmsSim } from './dlms-serving';
import { logMeterEvents, logSessions } from './session-log';
import { WakeTransport } from './wake';

export interface SimulatorOptions {
  /** A shipped profile id, or `profile` itself. */
  profileId?: string;
  profile?: FirmwareProfile;
  profilesDir?: string;
  /** Where to listen: `pty:/tmp/meter-1`, `tcp-listen://127.0.0.1:7001`, `serial:/dev/ttyUSB0`, `mem:name`. */
  listen: string;
  /** SQLite state file; absent = in memory (gone at close). */
  statePath?: string;
  durability?: Durability;
  /** Meter id inside the state file. Default 'sim'. */
  meterId?: string;
  /** Card held by a new meter: the issuing supplier id, or 'none'. Default: the registered supplier. */
  card?: string;
  /** Payment Card ID prefix of the issuer when the profile's defaults.issuerPrefixes has none. */
  cardPrefix?: string;
  /** Responsible Supplier the new meter is registered to. Default 'SUPA' (modelled). */
  supplierId?: string;
  /** Seed of the identity generator (MPAN/MPRN, serial, EUI-64, card number). Default 1. */
  seed?: string | number;
  /** Index within the seed's sequence. Default 0. */
  index?: number;
  clock?: Clock;
  logger?: Logger;
  /** C12.18: called with every frame, ACK and NAK on the meter's side. */
  trace?: (entry: C1218TraceEntry) => void;
  /** DLMS: serve over this link instead of the profile's (hdlc, wrapper, mode-e). */
  link?: DlmsLinkKind;
  /** DLMS: called with every APDU received and sent (hex as on the wire). */
  dlmsTrace?: (entry: DlmsTraceEntry) => void;
}

export interface SimulatorEndpoint extends TransportInfo {
  /** What a client connects to (`tcp://…`, `pty:…` or the /dev/pts path, `mem:…`); null for serial. */
  connect: string | null;
}

export interface Simulator {
  readonly meter: Meter;
  readonly profile: FirmwareProfile;
  readonly endpoint: SimulatorEndpoint;
  /** True when the meter was loaded from the state file rather than created. */
  readonly resumed: boolean;
  readonly statePath: string | null;
  /**
   * Battery meters: press the push button (wakes the optical port when the profile allows it;
   * a DLMS meter behind mode E wakes on NULs only, docs/simulate.md).
   */
  pressButton(): void;
  /** Battery meters: whether the optical port of any connection is awake; null for a mains meter. */
  isAwake(): boolean | null;
  /** Stop serving, close every connection, the listener and the state store. Idempotent. */
  close(): Promise<void>;
}

function connectUri(info: TransportInfo): string | null {
  switch (info.kind) {
    case 'tcp':
      return `tcp://${info.path}`;
    case 'pty':
      return `pty:${info.path}`;
    case 'mem':
      return `mem:${info.path}`;
    case 'serial':
      return null;
  }
}

function openMeter(
  p: FirmwareProfile,
  store: MeterStore,
  o: SimulatorOptions,
  clock: Clock,
  log: Logger,
): { meter: Meter; resumed: boolean } {
  const id = o.meterId ?? 'sim';
  const behaviour = deviceBehaviour(p);
  const stored = store.get(id);
  if (stored) {
    if (stored.profileId !== p.id)
      throw new SimError(
        ErrorCode.ProfileIncompatible,
        `state file holds meter ${id} of profile ${stored.profileId}, not ${p.id}`,
        { meterId: id, stored: stored.profileId, profile: p.id },
      );
    log.info(
      { meterId: id, rev: stored.rev },
      `resumed meter ${id} from the state file (card, supplier and seed options apply to new meters only)`,
    );
    return { meter: Meter.load(id, { store, clock, behaviour }), resumed: true };
  }
  const supplierId = o.supplierId ?? 'SUPA';
  const issuer = o.card ?? supplierId;
  const state = newMeterFromProfile(p, {
    id,
    index: o.index ?? 0,
    ids: o.seed ?? 1,
    supplierId,
    card:
      issuer === 'none'
        ? null
        : { issuerSupplierId: issuer, ...(o.cardPrefix !== undefined ? { issuerPrefix: o.cardPrefix } : {}) },
    now: clock.now(),
  });
  return { meter: Meter.create(state, { store, clock, behaviour }), resumed: false };
}

/** What serving one stack on a listener gives back to the simulator. */
interface Served {
  pressButton(): void;
  isAwake(): boolean | null;
  close(): Promise<void>;
}

/** C12.18: a C1218Server over the C12.19 binding on every connection (battery meters: WakeTransport). */
function serveC1218(
  l: Listener,
  profile: FirmwareProfile,
  meter: Meter,
  o: SimulatorOptions,
  clock: Clock,
  log: Logger,
): Served {
  const serverOptions = c1218ServerOptions(profile);
  const servers = new Set<{ server: C1218Server; transport: Transport; stop: () => void }>();
  const wakes = new Set<WakeTransport>();
  const wake = profile.timing.wake;
  const onConnection = (raw: Transport): void => {
    const peer = raw.info.peer ?? raw.info.path;
    const clog = log.child({ peer });
    let transport: Transport = raw;
    if (wake) {
      const w = new WakeTransport(raw, wake, clock, (e) => {
        if (e.type === 'woke') clog.info({ by: e.by }, `woke up (${e.by})`);
        else if (e.type === 'slept') clog.info('asleep');
        else clog.debug({ bytes: e.bytes }, `asleep: ignored ${e.bytes} byte(s)`);
      });
      wakes.add(w);
      transport = w;
    }
    const binding = bindC1219(profile, meter, { logger: clog });
    const server = new C1218Server({
      transport,
      tables: binding,
      clock,
      logger: clog,
      options: serverOptions,
    });
    const entry = { server, transport, stop: logSessions(server, binding, clog, o.trace) };
    servers.add(entry);
    clog.info(`connection on ${l.info.uri}`);
    raw.once('close', () => {
      entry.stop();
      servers.delete(entry);
      if (transport instanceof WakeTransport) wakes.delete(transport);
      clog.info('connection closed');
    });
  };
  l.on('connection', onConnection);
  return {
    pressButton: () => wakes.forEach((w) => w.pressButton()),
    isAwake: () => (wake ? [...wakes].some((w) => w.awake) : null),
    async close() {
      l.off('connection', onConnection);
      const all = [...servers];
      servers.clear();
      for (const s of all) {
        await s.server.close();
        s.stop();
        await s.transport.close();
      }
    },
  };
}

/**
 * Which phase of a hardware preset (`serial:…?preset=NAME`) the meter's line starts in: C12.18
 * at its 9600 8N1 start, mode E at the 300 Bd 7E1 sign-on, direct HDLC at 9600 8N1. The TCP
 * wrapper has no serial format, so a preset on a wrapper profile's port is refused.
 */
function presetProtocolOf(p: FirmwareProfile): PresetProtocol | undefined {
  if (p.protocol.stack !== 'dlms') return 'c1218';
  const link = p.protocol.dlms?.link;
  return link === 'mode-e' ? 'iec62056-21' : link === 'hdlc' ? 'hdlc' : undefined;
}

/** The profile to serve: a DLMS link override applies to DLMS profiles only. */
function servedProfile(p: FirmwareProfile, link: DlmsLinkKind | undefined): FirmwareProfile {
  if (link === undefined) return p;
  if (p.protocol.stack !== 'dlms')
    throw new SimError(
      ErrorCode.UsageError,
      `--link ${link}: profile ${p.id} speaks ${p.protocol.stack}, the link applies to DLMS profiles`,
      { profile: p.id, link },
    );
  return withDlmsLink(p, link);
}

/** Start a simulated meter. Rejects with SimError (profile, state file or listen failures). */
export async function startSimulator(o: SimulatorOptions): Promise<Simulator> {
  const clock = o.clock ?? systemClock;
  const loaded =
    o.profile ??
    (o.profileId !== undefined
      ? loadProfile(o.profileId, o.profilesDir ? { dir: o.profilesDir } : {}).profile
      : undefined);
  if (!loaded) throw new SimError(ErrorCode.UsageError, 'startSimulator: give profileId or profile');
  const profile = servedProfile(loaded, o.link);
  const dlms = profile.protocol.stack === 'dlms';
  // Fails early (before opening anything) when the profile's server options are unusable.
  if (!dlms) c1218ServerOptions(profile);
  const baseLog = o.logger ?? silentLogger;
  const store: MeterStore = o.statePath
    ? new SqliteMeterStore(o.statePath, o.durability ? { durability: o.durability } : {})
    : new MemoryMeterStore();
  let listener: Listener | undefined;
  const stops: (() => void)[] = [];
  try {
    const { meter, resumed } = openMeter(profile, store, o, clock, baseLog);
    const log = baseLog.child({ meter: meter.id, profile: profile.id });
    // Fails early (before listening) when the profile cannot be bound.
    const binding = dlms ? bindDlms(profile, meter, { logger: log }) : (bindC1219(profile, meter), undefined);
    stops.push(logMeterEvents(meter, log));
    const lineProtocol = presetProtocolOf(profile);
    listener = await listen(o.listen, {
      clock,
      logger: baseLog,
      ...(lineProtocol ? { preset: presetResolver(lineProtocol) } : {}),
    });
    const l = listener;
    const endpoint: SimulatorEndpoint = { ...l.info, connect: connectUri(l.info) };
    const served = binding
      ? serveDlmsSim(l, profile, meter, binding, {
          clock,
          logger: log,
          ...(o.dlmsTrace ? { trace: o.dlmsTrace } : {}),
        })
      : serveC1218(l, profile, meter, o, clock, log);
    l.on('error', (e) => log.warn({ code: e.codeName }, e.message));
    log.info({ listen: l.info.uri, path: l.info.path, peer: l.info.peer }, `listening on ${l.info.uri}`);

    let closing: Promise<void> | undefined;
    const close = async (): Promise<void> => {
      await served.close();
      await l.close();
      for (const stop of stops) stop();
      store.close();
      log.info('stopped');
    };
    return {
      meter,
      profile,
      endpoint,
      resumed,
      statePath: o.statePath ?? null,
      pressButton: () => served.pressButton(),
      isAwake: () => served.isAwake(),
      close: () => (closing ??= close()),
    };
  } catch (e) {
    for (const stop of stops) stop();
    await listener?.close().catch(() => undefined);
    store.close();
    throw e;
  }
}
