/**
 * In-memory MeterStore for unit tests and throw-away simulations. Records are kept as JSON
 * text and decoded through the same validator as SQLite rows, so both stores see identical
 * data (no shared object references, no values JSON cannot hold).
 */
import { ErrorCode, SimError } from '../../core/errors';
import type { MeterEvent, MeterState } from '../state';
import { parseMeterEvent, parseMeterState } from '../state-schema';
import { checkEventBound, checkEventSeqs, checkRequest, notFound, staleRev } from './commit-rules';
import type { CommitRequest, EventQuery, MeterStore, StoreSummary } from './types';

interface Row {
  rev: number;
  eventSeq: number;
  json: string;
  events: string[];
  /** Seq of events[0]. */
  firstSeq: number;
}

export class MemoryMeterStore implements MeterStore {
  readonly kind = 'memory' as const;
  private readonly rows = new Map<string, Row>();
  private closed = false;

  private open(): Map<string, Row> {
    if (this.closed) throw new SimError(ErrorCode.DeviceStorageFailed, 'memory store is closed');
    return this.rows;
  }

  loadAll(): MeterState[] {
    return this.ids().map((id) => this.get(id)!);
  }

  get(id: string): MeterState | undefined {
    const row = this.open().get(id);
    return row ? parseMeterState(JSON.parse(row.json), `memory:${id}`) : undefined;
  }

  ids(): string[] {
    return [...this.open().keys()].sort();
  }

  create(state: MeterState, events: readonly MeterEvent[], eventBound: number): void {
    checkEventBound(eventBound);
    const rows = this.open();
    if (rows.has(state.id))
      throw new SimError(ErrorCode.DeviceAlreadyExists, `meter ${state.id} already exists`, {
        meterId: state.id,
      });
    checkEventSeqs(state.id, 0, events, state.eventSeq);
    const row: Row = {
      rev: state.rev,
      eventSeq: state.eventSeq,
      json: JSON.stringify(state),
      events: [],
      firstSeq: 1,
    };
    this.append(row, events, eventBound);
    rows.set(state.id, row);
  }

  commit(req: CommitRequest): void {
    checkRequest(req);
    const row = this.open().get(req.id);
    if (!row) throw notFound(req.id);
    if (row.rev !== req.expectedRev) throw staleRev(req.id, row.rev, req.expectedRev);
    checkEventSeqs(req.id, row.eventSeq, req.events, req.state.eventSeq);
    row.json = JSON.stringify(req.state);
    row.rev = req.state.rev;
    row.eventSeq = req.state.eventSeq;
    this.append(row, req.events, req.eventBound);
  }

  private append(row: Row, events: readonly MeterEvent[], bound: number): void {
    if (row.events.length === 0 && events.length) row.firstSeq = events[0]!.seq;
    for (const e of events) row.events.push(JSON.stringify(e));
    const drop = row.events.length - bound;
    if (drop > 0) {
      row.events.splice(0, drop);
      row.firstSeq += drop;
    }
  }

  events(id: string, query: EventQuery = {}): MeterEvent[] {
    const row = this.open().get(id);
    if (!row) throw notFound(id);
    const after = query.afterSeq ?? 0;
    const start = Math.max(0, after - row.firstSeq + 1);
    const end = query.limit === undefined ? undefined : start + query.limit;
    return row.events
      .slice(start, end)
      .map((j, i) => parseMeterEvent(JSON.parse(j), `memory:${id}#${start + i}`));
  }

  summary(): StoreSummary {
    const out: StoreSummary = {
      'smso-managed': { meters: 0, withCard: 0 },
      migrated: { meters: 0, withCard: 0 },
    };
    for (const s of this.loadAll()) {
      const bucket = out[s.migration.state];
      bucket.meters++;
      if (s.card) bucket.withCard++;
    }
    return out;
  }

  remove(id: string): boolean {
    return this.open().delete(id);
  }

  /** No rollback in memory: a failing batch keeps what it created (test store, nothing durable). */
  batch<T>(fn: () => T): T {
    return fn();
  }

  close(): void {
    this.closed = true;
  }
}
