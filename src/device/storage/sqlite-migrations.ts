/**
 * Forward-only schema migrations of the SQLite meter store. Each migration runs in its own
 * transaction and records itself in `schema_migrations`, so an interrupted upgrade resumes at
 * the first migration not recorded. A database newer than this code is refused rather than
 * written to.
 */
import type Database from 'better-sqlite3';
import { ErrorCode, SimError } from '../../core/errors';

export interface SqliteMigration {
  version: number;
  name: string;
  up(db: Database.Database): void;
}

export const SQLITE_MIGRATIONS: readonly SqliteMigration[] = [
  {
    version: 1,
    name: 'meters-and-events',
    up(db) {
      // WITHOUT ROWID: every lookup is by the primary key, and it saves a b-tree per table.
      db.exec(`
        CREATE TABLE meters (
          id        TEXT PRIMARY KEY,
          rev       INTEGER NOT NULL,
          event_seq INTEGER NOT NULL,
          state     TEXT NOT NULL
        ) WITHOUT ROWID;
        CREATE TABLE meter_events (
          meter_id TEXT NOT NULL,
          seq      INTEGER NOT NULL,
          at       INTEGER NOT NULL,
          type     TEXT NOT NULL,
          actor    TEXT,
          data     TEXT NOT NULL,
          PRIMARY KEY (meter_id, seq)
        ) WITHOUT ROWID;
      `);
    },
  },
  {
    version: 2,
    name: 'queryable-card-and-migration-columns',
    up(db) {
      // Farms report how many meters still hold card data per migration state; columns kept
      // in step with the JSON by every commit avoid decoding 10,000 records to count them.
      db.exec(`
        ALTER TABLE meters ADD COLUMN profile_id TEXT NOT NULL DEFAULT '';
        ALTER TABLE meters ADD COLUMN card_present INTEGER NOT NULL DEFAULT 0;
        ALTER TABLE meters ADD COLUMN migration_state TEXT NOT NULL DEFAULT 'smso-managed';
        UPDATE meters SET
          profile_id = json_extract(state, '$.profileId'),
          card_present = (json_extract(state, '$.card') IS NOT NULL),
          migration_state = json_extract(state, '$.migration.state');
        CREATE INDEX meters_card_migration ON meters (card_present, migration_state);
      `);
    },
  },
];

export const SQLITE_SCHEMA_VERSION = SQLITE_MIGRATIONS[SQLITE_MIGRATIONS.length - 1]!.version;

export function schemaVersion(db: Database.Database): number {
  const exists = db
    .prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'schema_migrations'")
    .get();
  if (!exists) return 0;
  const row = db.prepare('SELECT MAX(version) AS v FROM schema_migrations').get() as { v: number | null };
  return row.v ?? 0;
}

/** Bring `db` up to `upTo` (default: the latest version). Returns the versions applied. */
export function migrateDatabase(
  db: Database.Database,
  options: { upTo?: number; now?: () => number } = {},
): number[] {
  const target = options.upTo ?? SQLITE_SCHEMA_VERSION;
  const now = options.now ?? Date.now;
  db.exec(`CREATE TABLE IF NOT EXISTS schema_migrations (
    version    INTEGER PRIMARY KEY,
    name       TEXT NOT NULL,
    applied_at INTEGER NOT NULL
  )`);
  const current = schemaVersion(db);
  if (current > SQLITE_SCHEMA_VERSION)
    throw new SimError(
      ErrorCode.DeviceStorageSchema,
      `database schema version ${current} is newer than this software (${SQLITE_SCHEMA_VERSION})`,
      { version: current, supported: SQLITE_SCHEMA_VERSION },
    );
  const applied: number[] = [];
  const record = db.prepare('INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)');
  for (const m of SQLITE_MIGRATIONS) {
    if (m.version <= current || m.version > target) continue;
    db.transaction(() => {
      m.up(db);
      record.run(m.version, m.name, now());
    }).immediate();
    applied.push(m.version);
  }
  return applied;
}
