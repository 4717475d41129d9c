/**
 * The storage contract of the device model (docs/device.md "Storage").
 *
 * Synchronous on purpose: a method returns only once its write is durable, so a caller that
 * acknowledges after `commit()` returns never acknowledges a lost write, and two operations on
 * one meter can never interleave inside a process. better-sqlite3 is synchronous too.
 */
import type { MeterEvent, MeterState, MigrationStateName } from '../state';

export interface CommitRequest {
  id: string;
  /** The rev the operation started from; a different stored rev is a DeviceStateConflict. */
  expectedRev: number;
  /** The new state; its rev must be expectedRev + 1. */
  state: MeterState;
  /** Events appended in the same transaction (seqs continue the stored ones). */
  events: readonly MeterEvent[];
  /** Keep at most this many events for the meter; older ones are dropped in the same transaction. */
  eventBound: number;
}

export interface EventQuery {
  /** Only events with seq > afterSeq. */
  afterSeq?: number;
  /** At most this many, oldest first. */
  limit?: number;
}

/** Counts a farm reports: meters holding card data, per migration state. */
export type StoreSummary = Record<MigrationStateName, { meters: number; withCard: number }>;

export interface MeterStore {
  readonly kind: 'memory' | 'sqlite';
  /** Every stored meter, validated, ordered by id. */
  loadAll(): MeterState[];
  get(id: string): MeterState | undefined;
  ids(): string[];
  /** Insert a new meter with its first events; DeviceAlreadyExists if the id is taken. */
  create(state: MeterState, events: readonly MeterEvent[], eventBound: number): void;
  /**
   * Atomically replace a meter's state and append its events ("put/apply op" and "append
   * event" are one transaction). After a crash, either all of it is visible or none.
   */
  commit(req: CommitRequest): void;
  events(id: string, query?: EventQuery): MeterEvent[];
  summary(): StoreSummary;
  /** Remove a meter and its events; false if it did not exist. */
  remove(id: string): boolean;
  /**
   * Run `fn` as one storage transaction (SQLite: one commit and one fsync for all of it).
   * For bulk set-up such as a farm creating thousands of meters before it serves any: nothing
   * inside is durable until `batch` returns, so no protocol may acknowledge from within it.
   */
  batch<T>(fn: () => T): T;
  close(): void;
}
