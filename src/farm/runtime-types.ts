/**
 * The runtime's contracts (docs/farm.md "The protocol slot"): what a protocol server gets for
 * each meter and must give back, the farm's options, and the views the control API serves.
 */
import type { Clock } from '../core/clock';
import type { Logger } from '../core/logger';
import type { Meter } from '../device/meter';
import type { MeterEvent, MeterState } from '../device/state';
import type { Durability, MeterStore } from '../device/storage';
import type { Listener } from '../transport/types';
import type { FarmProfile, ProfileResolver } from './farm-profile';
import type { FaultControls, FaultState } from './faults';
import type { FleetPlan, MeterSpec } from './generator';
import type { FarmMetrics, RequestMetrics } from './metrics';
import type { MeterGate } from './sessions';
import type { Shard } from './shard';

/** What a protocol server gets for one meter. */
export interface MeterHandle {
  readonly spec: MeterSpec;
  readonly meter: Meter;
  readonly profile: FarmProfile;
  readonly faults: FaultControls;
  readonly metrics: RequestMetrics;
  readonly clock: Clock;
  readonly logger: Logger;
  /** Run one request as in-flight work: a graceful stop waits for it before closing. */
  track<T>(work: () => Promise<T>): Promise<T>;
  /** True once the farm is stopping: finish what is in flight, start nothing new. */
  readonly stopping: boolean;
}

export interface MeterServer {
  /** Stop serving: forget sessions, release timers. The farm closes the listener afterwards. */
  close(): Promise<void>;
  /** The fault controls the server consults (normally `handle.faults`). */
  readonly faults: FaultControls;
}

/**
 * Start the protocol server of one meter on `listener` (which emits one `connection` per
 * session). Called once per meter at start; must subscribe to `connection` before returning.
 */
export type MeterServerFactory = (
  spec: MeterSpec,
  handle: MeterHandle,
  listener: Listener,
) => MeterServer | Promise<MeterServer>;

export interface FarmOptions {
  plan: FleetPlan;
  profiles: ProfileResolver;
  factory: MeterServerFactory;
  shard?: Shard;
  /** SQLite state under this directory (resumed if present). Absent: `store`, else in memory. */
  stateDir?: string;
  store?: MeterStore;
  /** SQLite durability for `stateDir` (default 'process': survives kill -9). */
  durability?: Durability;
  clock?: Clock;
  logger?: Logger;
  metrics?: FarmMetrics;
  /** Write the shard's manifest here at start (and after control API changes). */
  manifestPath?: string;
  /** Host written into every tcp `connect` URI instead of the fleet file's (a pod's DNS name). */
  advertiseHost?: string;
  /** Listeners opened at once while starting (default 64). */
  listenConcurrency?: number;
  /** How long stop() waits for in-flight requests (default 10 s). */
  stopTimeoutMs?: number;
  /** Coalesce manifest rewrites after API changes for this long (default 250 ms). */
  manifestDelayMs?: number;
}

export interface MeterFilter {
  deviceType?: string;
  cohort?: string;
  group?: string;
  profile?: string;
  supplierId?: string;
  hasCard?: boolean;
  hasForeignCard?: boolean;
  migrated?: boolean;
}

export interface MeterSummary {
  id: string;
  index: number;
  group: string | null;
  profile: string;
  deviceType: string;
  cohort: string;
  connect: string;
  mpxn: string;
  supplierId: string;
  card: { paymentCardId: string; issuerSupplierId: string; foreign: boolean } | null;
  migration: MeterState['migration']['state'];
  power: FaultState['power'];
  sessions: number;
}

export interface MeterDetail {
  summary: MeterSummary;
  manifest: MeterSpec;
  state: MeterState;
  faults: FaultState;
  events: MeterEvent[];
}

export type FarmStatus = 'running' | 'stopping' | 'stopped';

/** One running meter (internal to the farm; exported for meter-view.ts). */
export interface FarmMeter {
  spec: MeterSpec;
  meter: Meter;
  gate: MeterGate;
  server: MeterServer;
  endpoint: MeterSpec['endpoint'];
}

/** The actor recorded in the event log for changes made through the control API. */
export const API_ACTOR = 'farm-api';
