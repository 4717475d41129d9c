/**
 * The farm runtime (docs/farm.md "Running a farm"): every meter of a shard in one process, each on its
 * own transport listener, with state in SQLite, per-meter fault controls and metrics, and a
 * graceful stop. The protocol is not chosen here: a MeterServerFactory turns (spec, handle,
 * listener) into a running server, so the C12.18 and DLMS servers plug in without the farm
 * knowing either (DESIGN.md "Farm").
 */
import { systemClock, type Clock } from '../core/clock';
import { ErrorCode, SimError, toSimError } from '../core/errors';
import { silentLogger, type Logger } from '../core/logger';
import { DEFAULT_BEHAVIOUR } from '../device/behaviour';
import { createIdGenerator } from '../device/id-generator';
import { Meter } from '../device/meter';
import type { ClearResult } from '../device/ops-registration';
import type { CardRecord, MeterState } from '../device/state';
import { MemoryMeterStore, type MeterStore } from '../device/storage';
import { listen } from '../transport/open';
import type { Listener } from '../transport/types';
import { parseTransportUri } from '../transport/uri';
import { newFarmMeterState } from './clone-template';
import type { FarmProfile } from './farm-profile';
import { MeterFaults, type FaultControls, type FaultPatch, type FaultState } from './faults';
import { derivedIssuerPrefix, type MeterSpec } from './generator';
import { buildManifest, writeManifestFile, type Manifest } from './manifest';
import { FarmMetrics } from './metrics';
import { matchesFilter, meterEntry, meterSummary, sameMeter } from './meter-view';
import { pool } from './pool';
import { API_ACTOR } from './runtime-types';
import type {
  FarmMeter,
  FarmOptions,
  FarmStatus,
  MeterDetail,
  MeterFilter,
  MeterHandle,
  MeterSummary,
} from './runtime-types';
import { MeterGate } from './sessions';
import { formatShard, selectShard, WHOLE_FLEET, type Shard } from './shard';
import { openStateStore } from './state-dir';

export * from './runtime-types';

function startFailed(message: string, context: Record<string, unknown>, cause?: unknown): SimError {
  return new SimError(
    ErrorCode.FarmStartFailed,
    message,
    context,
    cause === undefined ? undefined : { cause },
  );
}

export class Farm {
  readonly shard: Shard;
  readonly metrics: FarmMetrics;
  readonly resumed: boolean;
  private readonly meters = new Map<string, FarmMeter>();
  private readonly order: FarmMeter[] = [];
  private readonly prefixes: Record<string, string>;
  private readonly clock: Clock;
  private readonly logger: Logger;
  private inFlight = 0;
  private idleWaiters: (() => void)[] = [];
  private status: FarmStatus = 'running';
  private stopped: Promise<void> | undefined;
  private manifestTimer: ReturnType<Clock['setTimeout']> | undefined;
  private cardCursor = { i: 0 };
  private poweredOff = 0;
  private booted = false;

  private constructor(
    private readonly options: FarmOptions,
    private readonly store: MeterStore,
    private readonly ownsStore: boolean,
    resumed: boolean,
  ) {
    this.shard = options.shard ?? WHOLE_FLEET;
    this.metrics = options.metrics ?? new FarmMetrics();
    this.clock = options.clock ?? systemClock;
    this.logger = options.logger ?? silentLogger;
    this.prefixes = { ...options.plan.issuerPrefixes };
    this.resumed = resumed;
  }

  /** Create or resume the shard's meters, open every listener, start every server. */
  static async start(options: FarmOptions): Promise<Farm> {
    const shard = options.shard ?? WHOLE_FLEET;
    const plan = options.plan;
    let store: MeterStore;
    let owns = true;
    let resumed = false;
    if (options.stateDir !== undefined) {
      const opened = openStateStore(
        options.stateDir,
        { fleet: plan.fleet, seed: plan.seed, shard },
        options.durability,
      );
      store = opened.store;
      resumed = opened.resumed;
    } else if (options.store) {
      store = options.store;
      owns = false;
      resumed = store.ids().length > 0;
    } else {
      store = new MemoryMeterStore();
    }
    const farm = new Farm(options, store, owns, resumed);
    try {
      await farm.boot(selectShard(plan, shard));
    } catch (e) {
      await farm.teardown();
      throw e instanceof SimError && e.code === ErrorCode.FarmStartFailed
        ? e
        : startFailed(`farm ${plan.fleet} shard ${formatShard(shard)}: ${(e as Error).message}`, {}, e);
    }
    return farm;
  }

  private async boot(specs: readonly MeterSpec[]): Promise<void> {
    const { profiles, factory } = this.options;
    const stored = new Map<string, Meter>();
    if (this.resumed) {
      const behaviourOf = (profileId: string): FarmProfile['behaviour'] => {
        try {
          return profiles(profileId).behaviour;
        } catch {
          return DEFAULT_BEHAVIOUR;
        }
      };
      for (const m of Meter.loadAll({ store: this.store, clock: this.clock, behaviourOf }))
        stored.set(m.id, m);
    }
    // One transaction for every new meter: per-meter commits cost ~0.5 ms each on SQLite.
    const meters = this.store.batch(() =>
      specs.map((spec) => {
        const profile = profiles(spec.profile);
        let meter = stored.get(spec.id);
        if (meter) {
          const diff = sameMeter(spec, meter.state);
          if (diff)
            throw startFailed(
              `meter ${spec.id}: stored state is another meter (${diff}): use another --state directory`,
              {
                meterId: spec.id,
              },
            );
          stored.delete(spec.id);
        } else {
          meter = Meter.create(this.newState(spec, profile), {
            store: this.store,
            clock: this.clock,
            behaviour: profile.behaviour,
          });
        }
        return { spec, meter, profile };
      }),
    );
    if (stored.size > 0)
      this.logger.warn(
        { count: stored.size },
        'stored meters not in this fleet shard are kept but not served',
      );

    const concurrency = this.options.listenConcurrency ?? 64;
    await pool(meters, concurrency, async ({ spec, meter, profile }) => {
      let inner: Listener;
      try {
        inner = await listen(spec.endpoint.listen, { clock: this.clock, logger: this.logger });
      } catch (e) {
        throw startFailed(
          `meter ${spec.id}: cannot listen on ${spec.endpoint.listen}: ${(e as Error).message}`,
          {
            meterId: spec.id,
            uri: spec.endpoint.listen,
          },
          e,
        );
      }
      const faults = new MeterFaults();
      const gate = new MeterGate(inner, faults, this.metrics, this.logger);
      const fm: Partial<FarmMeter> & { spec: MeterSpec; meter: Meter; gate: MeterGate } = {
        spec,
        meter,
        gate,
      };
      // Registered before the factory runs so that a failing factory still gets its listener closed.
      this.order.push(fm as FarmMeter);
      const handle = this.handle(spec, meter, profile, faults);
      const server = await factory(spec, handle, gate);
      fm.server = server;
      fm.endpoint = this.boundEndpoint(spec, gate);
      this.wire(fm as FarmMeter);
    });
    this.order.sort((a, b) => a.spec.index - b.spec.index);
    for (const fm of this.order) this.meters.set(fm.spec.id, fm);
    this.metrics.setMeters(this.order.length);
    this.booted = true;
    if (this.options.manifestPath)
      writeManifestFile(this.options.manifestPath, this.manifest(new Date(this.clock.now()).toISOString()));
    this.logger.info(
      {
        fleet: this.options.plan.fleet,
        shard: formatShard(this.shard),
        meters: this.order.length,
        resumed: this.resumed,
      },
      'farm started',
    );
  }

  private newState(spec: MeterSpec, profile: FarmProfile): MeterState {
    // A clone of the group's template (fleet key `template`), else a fresh meter.
    return newFarmMeterState(spec, profile, this.options.plan.templates, this.clock.now());
  }

  private handle(spec: MeterSpec, meter: Meter, profile: FarmProfile, faults: MeterFaults): MeterHandle {
    const isStopping = (): boolean => this.status !== 'running';
    return {
      spec,
      meter,
      profile,
      faults,
      metrics: this.metrics,
      clock: this.clock,
      logger: this.logger,
      track: (work) => this.track(work),
      get stopping() {
        return isStopping();
      },
    };
  }

  private wire(fm: FarmMeter): void {
    const faults = fm.server.faults;
    faults.on('drop', () => fm.gate.dropSessions());
    faults.on('power', (p) => {
      this.poweredOff += p === 'off' ? 1 : -1;
      this.metrics.setPoweredOff(this.poweredOff);
    });
    fm.meter.on('event', (e) => {
      if (e.type === 'card-cleared' || e.type === 'card-id-cleared') this.metrics.onClear();
    });
  }

  /** The bound endpoint: a port-0 listener reports its real port, which clients need. */
  private boundEndpoint(spec: MeterSpec, gate: MeterGate): MeterSpec['endpoint'] {
    const bound = parseTransportUri(gate.info.uri);
    if (bound.scheme !== 'tcp-listen') return spec.endpoint;
    // The plan's connect URI may hold the placeholder port 0, which the parser rejects: take
    // its host (already checked by the generator) textually.
    const planned = /^tcp:\/\/(.+):\d+$/.exec(spec.endpoint.connect)?.[1] ?? bound.host;
    const host = this.options.advertiseHost ?? planned;
    const h = host.includes(':') && !host.startsWith('[') ? `[${host}]` : host;
    return { listen: bound.uri, connect: `tcp://${h}:${bound.port}` };
  }

  private track<T>(work: () => Promise<T>): Promise<T> {
    this.inFlight++;
    const done = (): void => {
      if (--this.inFlight === 0) for (const w of this.idleWaiters.splice(0)) w();
    };
    let p: Promise<T>;
    try {
      p = work();
    } catch (e) {
      done();
      return Promise.reject(e as Error);
    }
    return p.finally(done);
  }

  /** Resolves when nothing is in flight, or after `timeoutMs` (false = timed out). */
  private idle(timeoutMs: number): Promise<boolean> {
    if (this.inFlight === 0) return Promise.resolve(true);
    return new Promise((resolve) => {
      const timer = this.clock.setTimeout(() => {
        this.idleWaiters = this.idleWaiters.filter((w) => w !== onIdle);
        resolve(false);
      }, timeoutMs);
      const onIdle = (): void => {
        this.clock.clearTimeout(timer);
        resolve(true);
      };
      this.idleWaiters.push(onIdle);
    });
  }

  // --------------------------------------------------------------------------------------
  // Inspection

  get state(): FarmStatus {
    return this.status;
  }

  get size(): number {
    return this.order.length;
  }

  get fleet(): { name: string; seed: string; meters: number } {
    return {
      name: this.options.plan.fleet,
      seed: this.options.plan.seed,
      meters: this.options.plan.meters.length,
    };
  }

  get inFlightRequests(): number {
    return this.inFlight;
  }

  has(id: string): boolean {
    return this.meters.has(id);
  }

  private need(id: string): FarmMeter {
    const fm = this.meters.get(id);
    if (!fm)
      throw new SimError(ErrorCode.FarmMeterNotFound, `no meter ${id} in this farm shard`, { meterId: id });
    return fm;
  }

  private faultsOf(fm: FarmMeter): FaultControls {
    return fm.server.faults;
  }

  list(filter: MeterFilter = {}): MeterSummary[] {
    return this.order.filter((fm) => matchesFilter(fm, filter)).map(meterSummary);
  }

  detail(id: string, events = 50): MeterDetail {
    const fm = this.need(id);
    const all = fm.meter.events();
    return {
      summary: meterSummary(fm),
      manifest: meterEntry(fm),
      state: fm.meter.state,
      faults: { ...this.faultsOf(fm).state },
      events: events > 0 ? all.slice(-events) : [],
    };
  }

  manifest(generatedAt?: string): Manifest {
    return buildManifest(
      {
        fleet: this.options.plan.fleet,
        seed: this.options.plan.seed,
        shard: this.shard,
        fleetMeters: this.options.plan.meters.length,
        issuerPrefixes: this.prefixes,
      },
      this.order.map((fm) => meterEntry(fm)),
      generatedAt,
    );
  }

  health(): {
    status: FarmStatus;
    fleet: string;
    shard: string;
    meters: number;
    sessionsOpen: number;
    inFlight: number;
  } {
    let sessions = 0;
    for (const fm of this.order) sessions += fm.gate.openSessions;
    return {
      status: this.status,
      fleet: this.options.plan.fleet,
      shard: formatShard(this.shard),
      meters: this.order.length,
      sessionsOpen: sessions,
      inFlight: this.inFlight,
    };
  }

  // --------------------------------------------------------------------------------------
  // Changes (control API). Each goes through a named device operation, so it is validated,
  // logged in the meter's event log and durable before the promise resolves.

  private changed(): void {
    if (!this.options.manifestPath || this.manifestTimer !== undefined) return;
    this.manifestTimer = this.clock.setTimeout(() => {
      this.manifestTimer = undefined;
      this.flushManifest();
    }, this.options.manifestDelayMs ?? 250);
  }

  /** Rewrite the manifest file now (if the farm writes one). */
  flushManifest(): void {
    if (this.manifestTimer !== undefined) {
      this.clock.clearTimeout(this.manifestTimer);
      this.manifestTimer = undefined;
    }
    if (this.options.manifestPath)
      writeManifestFile(this.options.manifestPath, this.manifest(new Date(this.clock.now()).toISOString()));
  }

  private newCardId(issuer: string): string {
    let prefix = this.prefixes[issuer];
    if (prefix === undefined) {
      prefix = derivedIssuerPrefix(issuer);
      this.prefixes[issuer] = prefix;
    }
    const used = new Set<string>();
    for (const fm of this.order) if (fm.meter.state.card) used.add(fm.meter.state.card.paymentCardId);
    for (const m of this.options.plan.meters) if (m.card) used.add(m.card.paymentCardId);
    const ids = createIdGenerator(`${this.options.plan.seed}/api`);
    for (;;) {
      const v = ids.paymentCardId(this.cardCursor.i++, prefix);
      if (!used.has(v)) return v;
    }
  }

  /** Give the meter a card issued by `issuerSupplierId` (a generated number unless given). */
  async giveCard(
    id: string,
    input: { issuerSupplierId: string; paymentCardId?: string; siteId?: string },
  ): Promise<CardRecord> {
    const fm = this.need(id);
    const paymentCardId = input.paymentCardId ?? this.newCardId(input.issuerSupplierId);
    let siteId = input.siteId;
    if (siteId === undefined && fm.meter.state.registration.siteId === null) {
      const ids = createIdGenerator(`${this.options.plan.seed}/api-site`);
      siteId = ids.siteId(fm.spec.index);
    }
    const card = await fm.meter.setCardRecord({
      actor: API_ACTOR,
      paymentCardId,
      issuerSupplierId: input.issuerSupplierId,
      ...(siteId === undefined ? {} : { siteId }),
    });
    this.changed();
    return card;
  }

  /** Clear the meter's payment card data (as the profile's clearing mode says). */
  async removeCard(id: string): Promise<ClearResult> {
    const r = await this.need(id).meter.clearPaymentCardData(API_ACTOR);
    this.changed();
    return r;
  }

  /** Change of supplier: the meter keeps its card, which may now be another supplier's. */
  async changeSupplier(id: string, supplierId: string): Promise<{ previous: string }> {
    const r = await this.need(id).meter.changeSupplier(API_ACTOR, supplierId);
    this.changed();
    return r;
  }

  setFaults(id: string, patch: FaultPatch): FaultState {
    return { ...this.faultsOf(this.need(id)).apply(patch) };
  }

  resetFaults(id: string): FaultState {
    return { ...this.faultsOf(this.need(id)).reset() };
  }

  // --------------------------------------------------------------------------------------
  // Stop

  /**
   * Graceful stop: refuse new sessions, wait for in-flight requests (up to stopTimeoutMs),
   * close every server and listener, write the final manifest, flush and close the store.
   * Idempotent: every call returns the same promise.
   */
  stop(): Promise<void> {
    this.stopped ??= (async () => {
      this.status = 'stopping';
      for (const fm of this.order) fm.gate.stopAccepting();
      const drained = await this.idle(this.options.stopTimeoutMs ?? 10_000);
      if (!drained)
        this.logger.warn({ inFlight: this.inFlight }, 'stop: in-flight requests did not finish in time');
      await this.teardown();
      this.status = 'stopped';
      this.logger.info({ fleet: this.options.plan.fleet, shard: formatShard(this.shard) }, 'farm stopped');
    })();
    return this.stopped;
  }

  private async teardown(): Promise<void> {
    const errors: unknown[] = [];
    await pool(this.order, 64, async (fm) => {
      try {
        if (fm.server) await fm.server.close();
      } catch (e) {
        errors.push(e);
      }
      try {
        await fm.gate.close();
      } catch (e) {
        errors.push(e);
      }
    });
    // The final manifest: bound ports and the state the meters stop in (after a sweep, cleared).
    if (this.booted || this.manifestTimer !== undefined) {
      try {
        this.flushManifest();
      } catch (e) {
        errors.push(e);
      }
    }
    if (this.ownsStore) this.store.close();
    if (errors.length)
      this.logger.warn(
        { errors: errors.map((e) => toSimError(e, ErrorCode.FarmStartFailed).message) },
        'errors while closing',
      );
  }
}
