/**
 * Store contract on both implementations, memory/SQLite parity, SQLite pragmas, persistence
 * across reopen, schema migrations (v1 -> current) and refusal of corrupt or newer data.
 */
import Database from 'better-sqlite3';
import fc from 'fast-check';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ErrorCode, SimError } from '../../src/core/errors';
import { Meter } from '../../src/device/meter';
import type { MeterOp } from '../../src/device/operations';
import { MemoryMeterStore } from '../../src/device/storage/memory-store';
import {
  migrateDatabase,
  schemaVersion,
  SQLITE_SCHEMA_VERSION,
} from '../../src/device/storage/sqlite-migrations';
import { SqliteMeterStore } from '../../src/device/storage/sqlite-store';
import type { MeterStore } from '../../src/device/storage/types';
import { behaviour, clock, esme, ids, ISSUER_PREFIX, SUPPLIER } from './fixtures';

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'smets1-storage-'));
});
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});
let n = 0;
const dbPath = (): string => join(dir, `t${n++}.db`);

function codeOf(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    if (e instanceof SimError)
      return `${e.codeName}${e.context['reason'] ? `:${String(e.context['reason'])}` : ''}`;
    throw e;
  }
  return 'ok';
}

const stores: [string, () => MeterStore][] = [
  ['memory', () => new MemoryMeterStore()],
  ['sqlite', () => new SqliteMeterStore(dbPath())],
];

describe.each(stores)('%s store contract', (_kind, make) => {
  it('creates, commits, reads back and lists meters', () => {
    const store = make();
    const m = Meter.create(esme(1), { store, clock: clock() });
    Meter.create(esme(0), { store, clock: clock() });
    m.applySync('clearPaymentCardData', { actor: 'DCC' });
    expect(store.ids()).toEqual(['esme-0', 'esme-1']);
    expect(store.get('esme-1')).toEqual(m.state);
    expect(store.loadAll().map((s) => [s.id, s.rev, s.card === null])).toEqual([
      ['esme-0', 0, false],
      ['esme-1', 1, true],
    ]);
    expect(store.get('nope')).toBeUndefined();
    expect(store.summary()).toEqual({
      'smso-managed': { meters: 2, withCard: 1 },
      migrated: { meters: 0, withCard: 0 },
    });
    store.close();
  });

  it('creates many meters in one batch, and a failing batch leaves none of them', () => {
    const store = make();
    store.batch(() => {
      for (let i = 0; i < 20; i++) Meter.create(esme(i), { store, clock: clock() });
    });
    expect(store.ids()).toHaveLength(20);
    expect(
      codeOf(() =>
        store.batch(() => {
          Meter.create(esme(100), { store, clock: clock() });
          Meter.create(esme(0), { store, clock: clock() }); // duplicate: the whole batch fails
        }),
      ),
    ).toBe('DeviceAlreadyExists');
    if (store.kind === 'sqlite') expect(store.get('esme-100')).toBeUndefined();
    expect(store.ids()).toHaveLength(store.kind === 'sqlite' ? 20 : 21);
    store.close();
  });

  it('refuses duplicates, unknown meters, stale revs and event seq gaps', () => {
    const store = make();
    const s = esme(0);
    const created = { ...s, eventSeq: 1 };
    const ev = (seq: number) => ({ seq, at: 0, type: 'vend' as const, actor: null, data: {} });
    store.create(created, [ev(1)], 10);
    expect(codeOf(() => store.create(created, [ev(1)], 10))).toBe('DeviceAlreadyExists');
    const next = { ...created, rev: 1, eventSeq: 2 };
    expect(
      codeOf(() =>
        store.commit({
          id: 'x',
          expectedRev: 0,
          state: { ...next, id: 'x' },
          events: [ev(2)],
          eventBound: 10,
        }),
      ),
    ).toBe('DeviceNotFound');
    expect(
      codeOf(() =>
        store.commit({
          id: s.id,
          expectedRev: 5,
          state: { ...next, rev: 6 },
          events: [ev(2)],
          eventBound: 10,
        }),
      ),
    ).toBe('DeviceStateConflict:stale-rev');
    expect(
      codeOf(() => store.commit({ id: s.id, expectedRev: 0, state: next, events: [ev(3)], eventBound: 10 })),
    ).toBe('DeviceStorageFailed');
    expect(
      codeOf(() =>
        store.commit({
          id: s.id,
          expectedRev: 0,
          state: { ...next, rev: 2 },
          events: [ev(2)],
          eventBound: 10,
        }),
      ),
    ).toBe('DeviceStorageFailed');
    expect(
      codeOf(() => store.commit({ id: s.id, expectedRev: 0, state: next, events: [ev(2)], eventBound: 0 })),
    ).toBe('DeviceStorageFailed');
    // A refused commit wrote nothing.
    expect(store.get(s.id)!.rev).toBe(0);
    expect(store.events(s.id).map((e) => e.seq)).toEqual([1]);
    expect(
      codeOf(() => store.commit({ id: s.id, expectedRev: 0, state: next, events: [ev(2)], eventBound: 10 })),
    ).toBe('ok');
    expect(codeOf(() => store.events('nope'))).toBe('DeviceNotFound');
    expect(store.remove(s.id)).toBe(true);
    expect(store.remove(s.id)).toBe(false);
    expect(store.ids()).toEqual([]);
    store.close();
  });

  it('trims events to the bound and pages with afterSeq/limit', () => {
    const store = make();
    const m = Meter.create(esme(0), { store, clock: clock(), behaviour: behaviour({ eventLogBound: 4 }) });
    for (let i = 0; i < 9; i++) m.applySync('setSiteId', { actor: 'f', siteId: `S${i}` });
    expect(store.events(m.id).map((e) => e.seq)).toEqual([7, 8, 9, 10]);
    expect(store.events(m.id, { afterSeq: 8 }).map((e) => e.data['siteId'])).toEqual(['S7', 'S8']);
    expect(store.events(m.id, { afterSeq: 0, limit: 2 }).map((e) => e.seq)).toEqual([7, 8]);
    store.close();
  });
});

describe('memory / SQLite parity', () => {
  const opArb: fc.Arbitrary<MeterOp> = fc.oneof(
    fc.constant<MeterOp>({ kind: 'clearPaymentCardData', actor: 'DCC' }),
    fc.constant<MeterOp>({ kind: 'clearSiteId', actor: 'DCC' }),
    fc.nat({ max: 20 }).map<MeterOp>((i) => ({
      kind: 'setCardRecord',
      actor: 'farm',
      paymentCardId: ids.paymentCardId(i, ISSUER_PREFIX),
      issuerSupplierId: SUPPLIER,
      siteId: `S${i}`,
    })),
    fc.constant<MeterOp>({ kind: 'migrate', by: 'DCC', newSecrets: { reader: 'abcd' } }),
    fc.nat({ max: 2000 }).map<MeterOp>((a) => ({
      kind: 'applyVend',
      actor: 'k',
      mode: 'add',
      amountPence: a,
      source: 'han',
      utrnRef: `U${a % 7}`,
    })),
    fc.constant<MeterOp>({ kind: 'recordFailedLogon', actor: 'port' }),
    fc.nat({ max: 1e9 }).map<MeterOp>((t) => ({ kind: 'setClock', actor: 'eng', to: 1_700_000_000_000 + t })),
    fc.constant<MeterOp>({ kind: 'bumpInvocationCounter', name: 'ic' }),
  );

  function run(store: MeterStore, ops: MeterOp[]): { outcomes: string[]; state: unknown; events: unknown } {
    const c = clock();
    const m = Meter.create(esme(0), { store, clock: c, behaviour: behaviour({ eventLogBound: 8 }) });
    const outcomes = ops.map((op) => {
      c.advance(1000);
      const { kind, ...input } = op;
      return codeOf(() => m.applySync(kind, input as never));
    });
    return { outcomes, state: store.get(m.id), events: store.events(m.id) };
  }

  it('gives the same outcomes, state and events for the same operation sequence', () => {
    fc.assert(
      fc.property(fc.array(opArb, { minLength: 1, maxLength: 30 }), (ops) => {
        const mem = new MemoryMeterStore();
        const sql = new SqliteMeterStore(':memory:');
        try {
          expect(run(sql, ops)).toEqual(run(mem, ops));
        } finally {
          sql.close();
        }
      }),
      { numRuns: 60 },
    );
  });

  it('holds for a file-backed database too, across close and reopen', () => {
    const path = dbPath();
    const ops: MeterOp[] = [
      { kind: 'applyVend', actor: 'k', mode: 'add', amountPence: 500, source: 'wan', utrnRef: 'A' },
      { kind: 'migrate', by: 'DCC', newSecrets: { privileged: '0102' } },
      { kind: 'clearPaymentCardData', actor: 'DCC' },
      { kind: 'clearPaymentCardData', actor: 'DCC' },
    ];
    const sql = new SqliteMeterStore(path);
    const a = run(sql, ops);
    sql.close();
    const reopened = new SqliteMeterStore(path);
    expect({ ...a, state: reopened.get('esme-0'), events: reopened.events('esme-0') }).toEqual(
      run(new MemoryMeterStore(), ops),
    );
    expect(reopened.summary()).toEqual({
      'smso-managed': { meters: 0, withCard: 0 },
      migrated: { meters: 1, withCard: 0 },
    });
    reopened.close();
  });
});

describe('SQLite specifics', () => {
  it('runs WAL with synchronous FULL by default and NORMAL for process durability', () => {
    const path = dbPath();
    const full = new SqliteMeterStore(path);
    expect(full.pragmas()).toEqual({ journalMode: 'wal', synchronous: 'FULL' });
    full.close();
    const proc = new SqliteMeterStore(path, { durability: 'process' });
    expect(proc.pragmas()).toEqual({ journalMode: 'wal', synchronous: 'NORMAL' });
    proc.close();
    // WAL is a property of the database file: a plain connection sees it too.
    const db = new Database(path);
    expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
    db.close();
  });

  it('migrates a version-1 database to the current schema, backfilling the new columns', () => {
    const path = dbPath();
    const db = new Database(path);
    expect(migrateDatabase(db, { upTo: 1, now: () => 1 })).toEqual([1]);
    const withCard = esme(0);
    const migrated = {
      ...esme(1, { card: null }),
      migration: { state: 'migrated' as const, at: 5, by: 'DCC' },
    };
    const ins = db.prepare('INSERT INTO meters (id, rev, event_seq, state) VALUES (?, ?, ?, ?)');
    ins.run(withCard.id, 0, 0, JSON.stringify(withCard));
    ins.run(migrated.id, 0, 0, JSON.stringify(migrated));
    expect(schemaVersion(db)).toBe(1);
    db.close();

    const store = new SqliteMeterStore(path);
    expect(store.summary()).toEqual({
      'smso-managed': { meters: 1, withCard: 1 },
      migrated: { meters: 1, withCard: 0 },
    });
    expect(store.get(withCard.id)).toEqual(withCard);
    store.close();
    const check = new Database(path);
    expect(check.prepare('SELECT version, name FROM schema_migrations ORDER BY version').all()).toEqual([
      { version: 1, name: 'meters-and-events' },
      { version: 2, name: 'queryable-card-and-migration-columns' },
    ]);
    expect(
      check.prepare('SELECT id, profile_id, card_present, migration_state FROM meters ORDER BY id').all(),
    ).toEqual([
      { id: 'esme-0', profile_id: 'test-esme', card_present: 1, migration_state: 'smso-managed' },
      { id: 'esme-1', profile_id: 'test-esme', card_present: 0, migration_state: 'migrated' },
    ]);
    expect(schemaVersion(check)).toBe(SQLITE_SCHEMA_VERSION);
    // Re-running is a no-op.
    expect(migrateDatabase(check)).toEqual([]);
    check.close();
  });

  it('refuses a database written by newer software', () => {
    const path = dbPath();
    new SqliteMeterStore(path).close();
    const db = new Database(path);
    db.prepare('INSERT INTO schema_migrations (version, name, applied_at) VALUES (99, ?, 0)').run('future');
    db.close();
    expect(codeOf(() => new SqliteMeterStore(path))).toBe('DeviceStorageSchema');
  });

  it('refuses a corrupted record with its path', () => {
    const path = dbPath();
    const store = new SqliteMeterStore(path);
    Meter.create(esme(0), { store });
    const db = new Database(path);
    db.prepare("UPDATE meters SET state = json_set(state, '$.prepayment.balance', 'lots')").run();
    db.close();
    try {
      store.get('esme-0');
      throw new Error('expected a schema error');
    } catch (e) {
      expect(e).toBeInstanceOf(SimError);
      expect((e as SimError).code).toBe(ErrorCode.DeviceStorageSchema);
      expect((e as SimError).context['path']).toBe('prepayment.balance');
    }
    store.close();
  });

  it('wraps an unopenable path as DeviceStorageFailed', () => {
    expect(codeOf(() => new SqliteMeterStore(join(dir, 'missing-dir', 'x.db')))).toBe('DeviceStorageFailed');
  });
});
