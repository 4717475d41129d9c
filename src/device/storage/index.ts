export * from './types';
export { MemoryMeterStore } from './memory-store';
export { SqliteMeterStore, type Durability, type SqliteStoreOptions } from './sqlite-store';
export {
  migrateDatabase,
  schemaVersion,
  SQLITE_MIGRATIONS,
  SQLITE_SCHEMA_VERSION,
} from './sqlite-migrations';
