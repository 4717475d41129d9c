/**
 * SQLite MeterStore (better-sqlite3): one database per process holding many meters.
 *
 * Durability (docs/device.md "Storage durability"):
 * - journal_mode=WAL: a commit appends to the write-ahead log; readers never block it.
 * - Each operation is ONE transaction writing the new state row and its event rows together,
 *   so after kill -9 a meter is wholly before or wholly after the operation.
 * - synchronous=FULL (durability 'full', the default) fsyncs the WAL at every commit: an
 *   acknowledged operation survives kill -9, OS crash and power loss.
 * - synchronous=NORMAL (durability 'process') fsyncs only at checkpoints. With WAL the commit
 *   is still written into the WAL file (the OS page cache) before COMMIT returns, so it
 *   survives kill -9 of the process, but the last commits may be lost on power loss or an OS
 *   crash. Good enough for CI farms, where a killed process is the fault being simulated.
 */
import Database from 'better-sqlite3';
import { ErrorCode, SimError, toSimError } from '../../core/errors';
import type { MeterEvent, MeterState } from '../state';
import { parseMeterEvent, parseMeterState } from '../state-schema';
import { checkEventBound, checkEventSeqs, checkRequest, notFound, staleRev } from './commit-rules';
import { migrateDatabase } from './sqlite-migrations';
import type { CommitRequest, EventQuery, MeterStore, StoreSummary } from './types';

export type Durability = 'full' | 'process';

export interface SqliteStoreOptions {
  /** 'full' (default): survives power loss. 'process': survives kill -9 only (faster). */
  durability?: Durability;
  /** ms to wait for a lock held by another connection. */
  busyTimeoutMs?: number;
}

interface EventRow {
  seq: number;
  at: number;
  type: string;
  actor: string | null;
  data: string;
}

export class SqliteMeterStore implements MeterStore {
  readonly kind = 'sqlite' as const;
  readonly path: string;
  readonly durability: Durability;
  private readonly db: Database.Database;
  private readonly stmt: {
    head: Database.Statement<[string], { rev: number; event_seq: number }>;
    state: Database.Statement<[string], { state: string }>;
    all: Database.Statement<[], { id: string; state: string }>;
    ids: Database.Statement<[], { id: string }>;
    insert: Database.Statement<[string, number, number, string, string, number, string]>;
    update: Database.Statement<[number, number, string, number, string, string, number]>;
    event: Database.Statement<[string, number, number, string, string | null, string]>;
    trim: Database.Statement<[string, number]>;
    events: Database.Statement<[string, number, number], EventRow>;
    summary: Database.Statement<[], { migration_state: string; meters: number; with_card: number }>;
    removeMeter: Database.Statement<[string]>;
    removeEvents: Database.Statement<[string]>;
  };
  private readonly commitTx: (req: CommitRequest) => void;
  private readonly createTx: (state: MeterState, events: readonly MeterEvent[], bound: number) => void;

  constructor(path: string, options: SqliteStoreOptions = {}) {
    this.path = path;
    this.durability = options.durability ?? 'full';
    try {
      this.db = new Database(path);
    } catch (e) {
      throw toSimError(e, ErrorCode.DeviceStorageFailed, `open ${path}`, { path });
    }
    try {
      const mode = this.db.pragma('journal_mode = WAL', { simple: true }) as string;
      // ':memory:' databases cannot use WAL; anything on disk must.
      if (mode !== 'wal' && path !== ':memory:')
        throw new SimError(ErrorCode.DeviceStorageFailed, `${path}: journal_mode is ${mode}, WAL required`, {
          path,
        });
      this.db.pragma(`synchronous = ${this.durability === 'full' ? 'FULL' : 'NORMAL'}`);
      this.db.pragma(`busy_timeout = ${options.busyTimeoutMs ?? 5000}`);
      migrateDatabase(this.db);
    } catch (e) {
      this.db.close();
      throw toSimError(e, ErrorCode.DeviceStorageFailed, `prepare ${path}`, { path });
    }
    const db = this.db;
    this.stmt = {
      head: db.prepare('SELECT rev, event_seq FROM meters WHERE id = ?'),
      state: db.prepare('SELECT state FROM meters WHERE id = ?'),
      all: db.prepare('SELECT id, state FROM meters ORDER BY id'),
      ids: db.prepare('SELECT id FROM meters ORDER BY id'),
      insert: db.prepare(
        `INSERT INTO meters (id, rev, event_seq, state, profile_id, card_present, migration_state)
         VALUES (?, ?, ?, ?, ?, ?, ?)`,
      ),
      update: db.prepare(
        `UPDATE meters SET rev = ?, event_seq = ?, state = ?, card_present = ?, migration_state = ?
         WHERE id = ? AND rev = ?`,
      ),
      event: db.prepare(
        'INSERT INTO meter_events (meter_id, seq, at, type, actor, data) VALUES (?, ?, ?, ?, ?, ?)',
      ),
      trim: db.prepare('DELETE FROM meter_events WHERE meter_id = ? AND seq <= ?'),
      events: db.prepare(
        'SELECT seq, at, type, actor, data FROM meter_events WHERE meter_id = ? AND seq > ? ORDER BY seq LIMIT ?',
      ),
      summary: db.prepare(
        `SELECT migration_state, COUNT(*) AS meters, SUM(card_present) AS with_card
         FROM meters GROUP BY migration_state`,
      ),
      removeMeter: db.prepare('DELETE FROM meters WHERE id = ?'),
      removeEvents: db.prepare('DELETE FROM meter_events WHERE meter_id = ?'),
    };

    const appendEvents = (
      id: string,
      events: readonly MeterEvent[],
      lastSeq: number,
      bound: number,
    ): void => {
      for (const e of events) this.stmt.event.run(id, e.seq, e.at, e.type, e.actor, JSON.stringify(e.data));
      if (lastSeq > bound) this.stmt.trim.run(id, lastSeq - bound);
    };

    // BEGIN IMMEDIATE takes the write lock first, so the rev check and the write cannot be
    // split by another connection's commit.
    const commit = db.transaction((req: CommitRequest) => {
      const head = this.stmt.head.get(req.id);
      if (!head) throw notFound(req.id);
      if (head.rev !== req.expectedRev) throw staleRev(req.id, head.rev, req.expectedRev);
      checkEventSeqs(req.id, head.event_seq, req.events, req.state.eventSeq);
      const s = req.state;
      this.stmt.update.run(
        s.rev,
        s.eventSeq,
        JSON.stringify(s),
        s.card ? 1 : 0,
        s.migration.state,
        req.id,
        req.expectedRev,
      );
      appendEvents(req.id, req.events, s.eventSeq, req.eventBound);
    });
    this.commitTx = (req) => commit.immediate(req);

    const create = db.transaction((s: MeterState, events: readonly MeterEvent[], bound: number) => {
      if (this.stmt.head.get(s.id))
        throw new SimError(ErrorCode.DeviceAlreadyExists, `meter ${s.id} already exists`, { meterId: s.id });
      checkEventSeqs(s.id, 0, events, s.eventSeq);
      this.stmt.insert.run(
        s.id,
        s.rev,
        s.eventSeq,
        JSON.stringify(s),
        s.profileId,
        s.card ? 1 : 0,
        s.migration.state,
      );
      appendEvents(s.id, events, s.eventSeq, bound);
    });
    this.createTx = (s, events, bound) => create.immediate(s, events, bound);
  }

  private guard<T>(what: string, fn: () => T): T {
    try {
      return fn();
    } catch (e) {
      throw toSimError(e, ErrorCode.DeviceStorageFailed, `${this.path}: ${what}`, { path: this.path });
    }
  }

  loadAll(): MeterState[] {
    return this.guard('load', () => this.stmt.all.all()).map((r) =>
      parseMeterState(JSON.parse(r.state), `${this.path}:${r.id}`),
    );
  }

  get(id: string): MeterState | undefined {
    const row = this.guard('get', () => this.stmt.state.get(id));
    return row ? parseMeterState(JSON.parse(row.state), `${this.path}:${id}`) : undefined;
  }

  ids(): string[] {
    return this.guard('ids', () => this.stmt.ids.all()).map((r) => r.id);
  }

  create(state: MeterState, events: readonly MeterEvent[], eventBound: number): void {
    checkEventBound(eventBound);
    this.guard('create', () => this.createTx(state, events, eventBound));
  }

  batch<T>(fn: () => T): T {
    // Inner create/commit transactions become savepoints of this one (better-sqlite3).
    return this.guard('batch', () => this.db.transaction(fn).immediate());
  }

  commit(req: CommitRequest): void {
    checkRequest(req);
    this.guard('commit', () => this.commitTx(req));
  }

  events(id: string, query: EventQuery = {}): MeterEvent[] {
    return this.guard('events', () => {
      if (!this.stmt.head.get(id)) throw notFound(id);
      return this.stmt.events.all(id, query.afterSeq ?? 0, query.limit ?? -1);
    }).map((r) =>
      parseMeterEvent(
        { seq: r.seq, at: r.at, type: r.type, actor: r.actor, data: JSON.parse(r.data) as unknown },
        `${this.path}:${id}#${r.seq}`,
      ),
    );
  }

  summary(): StoreSummary {
    const out: StoreSummary = {
      'smso-managed': { meters: 0, withCard: 0 },
      migrated: { meters: 0, withCard: 0 },
    };
    for (const r of this.guard('summary', () => this.stmt.summary.all())) {
      if (r.migration_state === 'smso-managed' || r.migration_state === 'migrated')
        out[r.migration_state] = { meters: r.meters, withCard: r.with_card };
    }
    return out;
  }

  remove(id: string): boolean {
    return this.guard('remove', () =>
      this.db
        .transaction(() => {
          this.stmt.removeEvents.run(id);
          return this.stmt.removeMeter.run(id).changes > 0;
        })
        .immediate(),
    );
  }

  /** The connection's durability settings, for diagnostics and tests. */
  pragmas(): { journalMode: string; synchronous: 'FULL' | 'NORMAL' | 'OFF' | 'EXTRA' } {
    const sync = this.db.pragma('synchronous', { simple: true }) as number;
    return {
      journalMode: this.db.pragma('journal_mode', { simple: true }) as string,
      synchronous: (['OFF', 'NORMAL', 'FULL', 'EXTRA'] as const)[sync] ?? 'OFF',
    };
  }

  close(): void {
    if (this.db.open) this.db.close();
  }
}
