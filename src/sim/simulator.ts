/**
 * One simulated meter on one transport (issue 4, docs/simulate.md): a Meter made from a firmware
 * profile (or resumed from a SQLite state file), bound to the C12.19 table engine, with a
 * C12.18 server on every connection its listener accepts (pty and serial: one long-lived
 * connection; TCP: one per client, each with its own session and ST8).
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
import { listen } from '../transport/open';
import type { Listener, Transport, TransportInfo } from '../transport/types';
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
  /** Called with every frame, ACK and NAK on the meter's side. */
  trace?: (entry: C1218TraceEntry) => void;
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
  /** Battery meters: press the push button (wakes the optical port when the profile allows it). */
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

/** Start a simulated meter. Rejects with SimError (profile, state file or listen failures). */
export async function startSimulator(o: SimulatorOptions): Promise<Simulator> {
  const clock = o.clock ?? systemClock;
  const profile =
    o.profile ??
    (o.profileId !== undefined
      ? loadProfile(o.profileId, o.profilesDir ? { dir: o.profilesDir } : {}).profile
      : undefined);
  if (!profile) throw new SimError(ErrorCode.UsageError, 'startSimulator: give profileId or profile');
  const serverOptions = c1218ServerOptions(profile);
  const baseLog = o.logger ?? silentLogger;
  const store: MeterStore = o.statePath
    ? new SqliteMeterStore(o.statePath, o.durability ? { durability: o.durability } : {})
    : new MemoryMeterStore();
  let listener: Listener | undefined;
  const stops: (() => void)[] = [];
  try {
    const { meter, resumed } = openMeter(profile, store, o, clock, baseLog);
    // Fails early (before listening) when the profile cannot be bound.
    bindC1219(profile, meter);
    const log = baseLog.child({ meter: meter.id, profile: profile.id });
    stops.push(logMeterEvents(meter, log));
    listener = await listen(o.listen, { clock, logger: baseLog });
    const l = listener;
    const endpoint: SimulatorEndpoint = { ...l.info, connect: connectUri(l.info) };
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
    l.on('error', (e) => log.warn({ code: e.codeName }, e.message));
    log.info({ listen: l.info.uri, path: l.info.path, peer: l.info.peer }, `listening on ${l.info.uri}`);

    let closing: Promise<void> | undefined;
    const close = async (): Promise<void> => {
      l.off('connection', onConnection);
      const all = [...servers];
      servers.clear();
      for (const s of all) {
        await s.server.close();
        s.stop();
        await s.transport.close();
      }
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
      pressButton: () => wakes.forEach((w) => w.pressButton()),
      isAwake: () => (wake ? [...wakes].some((w) => w.awake) : null),
      close: () => (closing ??= close()),
    };
  } catch (e) {
    for (const stop of stops) stop();
    await listener?.close().catch(() => undefined);
    store.close();
    throw e;
  }
}
