/**
 * startFarm: a farm of real simulated meters for integrators' own jest suites (issue text:
 * "startFarm(options) returning meters, endpoints and stop(), exported from smets1-sim/testing";
 * docs/testing-with-startFarm.md). It is the farm runtime (src/farm) with the C12.18 server of
 * every meter bound to its device model through the firmware profile (src/profiles
 * c1219-binding), the same stack `smets1-sim simulate` runs for one meter (src/sim).
 *
 * c1218ServerFactory is the farm's protocol slot filled with C12.18 (docs/farm.md "The protocol
 * slot"). It honours the fault contract of src/farm/faults.ts:
 * - power off: incoming bytes are discarded (the farm also closes TCP/mem sessions);
 * - busy: the next N table reads/writes (ST7 procedure calls included) are answered PSEM `bsy`;
 *   Ident/Negotiate/Logon/Security are session services and are not affected (modelled choice);
 * - delay: each table read/write waits this long before it is served;
 * - corrupt: the next N packets the meter sends (not its single-byte ACK/NAKs) leave with the
 *   CRC inverted (corruptFrame), so the client NAKs and the link resends;
 * - drop: the farm closes the sessions; the server forgets them with the transport.
 * Battery profiles (timing.wake) sleep per connection exactly as in src/sim (WakeTransport).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Clock } from '../core/clock';
import { ErrorCode, SimError } from '../core/errors';
import { type Logger } from '../core/logger';
import { firmwareProfileResolver, type ProfileResolver } from '../farm/farm-profile';
import { stackServerFactory } from '../farm/dlms-serving';
import { FaultyTransport } from '../farm/faults';
import { loadFleetFile, validateFleetSpec, type FleetSpec } from '../farm/fleet-spec';
import { generateFleet, type MeterSpec } from '../farm/generator';
import type { Manifest } from '../farm/manifest';
import type { FarmMetrics } from '../farm/metrics';
import { Farm, type MeterHandle, type MeterServer, type MeterServerFactory } from '../farm/runtime';
import type { RegistrationData } from '../migration/registration';
import { C1218Server } from '../protocols/c1218/server';
import { PsemCode, type TableServer } from '../protocols/c1219/contract';
import { bindC1219, c1218ServerOptions } from '../profiles/c1219-binding';
import { WakeTransport } from '../sim/wake';
import { manifestRegistration } from '../sweep/sweep';
import type { Listener, Transport } from '../transport/types';

/** The meter's table server with busy, delay and in-flight tracking applied. */
function faultyTables(tables: TableServer, handle: MeterHandle): TableServer {
  const { faults, clock } = handle;
  const gate = async <T>(busy: T, work: () => Promise<T>): Promise<T> => {
    if (faults.takeBusy()) return busy;
    const delay = faults.responseDelayMs();
    if (delay > 0) await clock.sleep(delay);
    return work();
  };
  return {
    read: (id, range, access) =>
      handle.track(() => gate({ code: PsemCode.bsy }, () => tables.read(id, range, access))),
    write: (id, offset, data, access) =>
      handle.track(() => gate({ code: PsemCode.bsy }, () => tables.write(id, offset, data, access))),
    authenticate: (userId, user, password) => handle.track(() => tables.authenticate(userId, user, password)),
    endSession: (access) => tables.endSession?.(access),
  };
}

const PSEM_RESULT: Record<number, string> = Object.fromEntries(
  Object.entries(PsemCode).map(([name, code]) => [code, name]),
);

/**
 * The farm's C12.18 protocol slot: every connection a meter's listener accepts gets a
 * C1218Server over the meter's C12.19 binding. The profile comes from the farm profile
 * (`firmware`, set by firmwareProfileResolver); a profile built in code without one is refused.
 */
export const c1218ServerFactory: MeterServerFactory = (spec, handle, listener: Listener): MeterServer => {
  const profile = handle.profile.firmware;
  if (!profile)
    throw new SimError(
      ErrorCode.ProfileIncompatible,
      `meter ${spec.id}: profile ${spec.profile} carries no firmware profile to serve C12.18 from`,
      { meterId: spec.id, profile: spec.profile },
    );
  if (profile.protocol.stack !== 'c1218')
    throw new SimError(
      ErrorCode.ProfileIncompatible,
      `meter ${spec.id}: profile ${spec.profile} speaks ${profile.protocol.stack}; this farm serves C12.18`,
      { meterId: spec.id, profile: spec.profile, stack: profile.protocol.stack },
    );
  const options = c1218ServerOptions(profile);
  const wake = profile.timing.wake;
  const { faults, metrics, clock, meter } = handle;
  const servers = new Set<C1218Server>();
  // One C12.19 binding per connection, not one per meter kept across connections: a binding
  // costs ~140 us to build but ~11 KB to keep, and a sweep connects to each meter once, so
  // keeping them would add ~107 MB to a 10,000-meter farm for no gain (docs/farm.md
  // "Performance"). A fresh binding also gives each session its own ST8.
  const onConnection = (raw: Transport): void => {
    let transport: Transport = new FaultyTransport(raw, faults);
    if (wake) transport = new WakeTransport(transport, wake, clock);
    const tables = faultyTables(bindC1219(profile, meter), handle);
    const server = new C1218Server({ transport, tables, clock, options });
    let started = 0;
    server.on('request', () => (started = clock.monotonic()));
    server.on('response', (r) =>
      metrics.onRequest(r.service, PSEM_RESULT[r.code] ?? 'err', (clock.monotonic() - started) / 1000),
    );
    server.on('fault', () => metrics.onError('link'));
    servers.add(server);
    raw.once('close', () => servers.delete(server));
  };

  listener.on('connection', onConnection);
  return {
    faults,
    async close() {
      listener.off('connection', onConnection);
      const all = [...servers];
      servers.clear();
      await Promise.all(
        all.map(async (s) => {
          await s.close();
          await s.transport.close();
        }),
      );
    },
  };
};

export type FarmTransport = 'tcp' | 'mem' | 'as-declared';

export interface StartFarmOptions {
  /**
   * A fleet file path, or a fleet document (the YAML's shape, docs/farm.md §1) as an object.
   * Unless `transport` is 'as-declared', groups and devices may leave `transport` out.
   */
  fleet: string | Record<string, unknown> | FleetSpec;
  /** Overrides the fleet's seed. */
  seed?: string | number;
  /**
   * Where meters listen. 'tcp' (default): every meter on its own OS-assigned port of
   * 127.0.0.1, whatever the fleet says (parallel jest workers never collide). 'mem': in-process
   * listeners with unique names. 'as-declared': the fleet's own transports.
   */
  transport?: FarmTransport;
  /** SQLite state here (kept after stop); absent: in memory. Use `stateDir: 'temp'` for a temp dir removed at stop. */
  stateDir?: string;
  /** Firmware profiles from this directory (e.g. captured ones) instead of the shipped ones. */
  profilesDir?: string;
  /**
   * Directory the groups' `template:` paths are relative to: default the fleet file's directory,
   * or the working directory for a fleet given as an object.
   */
  baseDir?: string;
  /** Resolve profiles another way (profiles built in code must carry `firmware`). */
  profiles?: ProfileResolver;
  /** Protocol slot; default: each meter served with its profile's stack (C12.18 or DLMS). */
  factory?: MeterServerFactory;
  /** Metrics registry (e.g. to count requests in a bench); default a fresh one. */
  metrics?: FarmMetrics;
  clock?: Clock;
  logger?: Logger;
}

export interface StartedFarm {
  /** Manifest entries (bound endpoints, identities, registration, card, credentials), fleet order. */
  meters: MeterSpec[];
  /** Meter id -> client URI (`tcp://127.0.0.1:PORT`, `mem:NAME`). */
  endpoints: Record<string, string>;
  /** The manifest as the farm serves it now (a sweep's input). */
  manifest: Manifest;
  /** DCC's registration data for these meters (the manifest rows). */
  registration: RegistrationData;
  /** The running farm: faults (setFaults), card changes (giveCard/removeCard), inspection. */
  farm: Farm;
  stateDir: string | null;
  /** Stop every meter and close every listener. Idempotent. */
  stop(): Promise<void>;
}

let memFarms = 0;

function retarget(spec: FleetSpec, transport: FarmTransport): FleetSpec {
  if (transport === 'as-declared') return spec;
  const prefix = `startfarm-${process.pid}-${++memFarms}`;
  return {
    ...spec,
    groups: spec.groups.map((g) => ({
      ...g,
      transport:
        transport === 'tcp'
          ? { kind: 'tcp-listen' as const, host: '127.0.0.1', portStart: 0 }
          : { kind: 'mem' as const, namePattern: `${prefix}-{id}` },
    })),
    devices: spec.devices.map((d) => ({
      ...d,
      transport:
        transport === 'tcp'
          ? { kind: 'tcp-listen' as const, host: '127.0.0.1', port: 0 }
          : { kind: 'mem' as const, name: `${prefix}-${d.id}` },
    })),
  };
}

const PLACEHOLDER_GROUP_TRANSPORT = { kind: 'tcp-listen', host: '127.0.0.1', portStart: 0 };
const PLACEHOLDER_DEVICE_TRANSPORT = { kind: 'tcp-listen', host: '127.0.0.1', port: 0 };

/** A fleet object may leave `transport` out when startFarm chooses it anyway. */
function withTransports(doc: Record<string, unknown>): Record<string, unknown> {
  const fill = (list: unknown, t: object): unknown =>
    Array.isArray(list)
      ? list.map((x: unknown) =>
          x !== null && typeof x === 'object' && !('transport' in x) ? { ...x, transport: t } : x,
        )
      : list;
  return {
    ...doc,
    ...(doc['groups'] !== undefined ? { groups: fill(doc['groups'], PLACEHOLDER_GROUP_TRANSPORT) } : {}),
    ...(doc['devices'] !== undefined ? { devices: fill(doc['devices'], PLACEHOLDER_DEVICE_TRANSPORT) } : {}),
  };
}

/** Start a farm; rejects with SimError (fleet invalid, profile unknown, start failed). */
export async function startFarm(o: StartFarmOptions): Promise<StartedFarm> {
  const file = typeof o.fleet === 'string' ? o.fleet : '<startFarm fleet>';
  const transport = o.transport ?? 'tcp';
  let spec =
    typeof o.fleet === 'string'
      ? loadFleetFile(o.fleet)
      : validateFleetSpec(
          transport === 'as-declared' ? o.fleet : withTransports(o.fleet as Record<string, unknown>),
          file,
        );
  if (o.seed !== undefined) spec = { ...spec, seed: String(o.seed) };
  spec = retarget(spec, transport);
  const profiles = o.profiles ?? firmwareProfileResolver(o.profilesDir ? { dir: o.profilesDir } : {});
  const plan = generateFleet(spec, profiles, {
    file,
    ...(o.baseDir !== undefined ? { baseDir: o.baseDir } : {}),
  });
  const temp = o.stateDir === 'temp' ? mkdtempSync(join(tmpdir(), 'smets1-farm-')) : undefined;
  const stateDir = temp ?? o.stateDir;
  let farm: Farm;
  try {
    farm = await Farm.start({
      plan,
      profiles,
      factory: o.factory ?? stackServerFactory(c1218ServerFactory),
      ...(stateDir !== undefined ? { stateDir } : {}),
      ...(o.metrics ? { metrics: o.metrics } : {}),
      ...(o.clock ? { clock: o.clock } : {}),
      ...(o.logger ? { logger: o.logger } : {}),
    });
  } catch (e) {
    if (temp) rmSync(temp, { recursive: true, force: true });
    throw e;
  }
  const manifest = farm.manifest();
  let stopping: Promise<void> | undefined;
  return {
    meters: manifest.meters,
    endpoints: Object.fromEntries(manifest.meters.map((m) => [m.id, m.endpoint.connect])),
    manifest,
    registration: manifestRegistration(manifest, `${manifest.fleet}.manifest`),
    farm,
    stateDir: stateDir ?? null,
    stop: () =>
      (stopping ??= (async () => {
        await farm.stop();
        if (temp) rmSync(temp, { recursive: true, force: true });
      })()),
  };
}
