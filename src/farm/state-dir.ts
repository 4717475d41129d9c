/**
 * The farm's state directory (`--state DIR`): one SQLite database per shard plus a small JSON
 * record of which fleet, seed and shard the database belongs to. Restarting with the same
 * directory resumes the same meters; restarting it with a different fleet, seed or shard is
 * refused, because silently serving another fleet's meters under these ids would be worse.
 */
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ErrorCode, SimError } from '../core/errors';
import { SqliteMeterStore, type Durability } from '../device/storage';
import { formatShard, type Shard } from './shard';

export const STATE_SCHEMA = 'smets1-sim/farm-state' as const;

export interface FarmStateMeta {
  schema: typeof STATE_SCHEMA;
  version: 1;
  fleet: string;
  seed: string;
  shard: Shard;
}

export function stateFileBase(shard: Shard): string {
  return shard.count === 1 ? 'farm' : `farm-${shard.index}-of-${shard.count}`;
}

export interface StatePaths {
  database: string;
  meta: string;
}

export function statePaths(dir: string, shard: Shard): StatePaths {
  const base = stateFileBase(shard);
  return { database: join(dir, `${base}.sqlite`), meta: join(dir, `${base}.json`) };
}

function startFailed(message: string, context: Record<string, unknown>, cause?: unknown): SimError {
  return new SimError(
    ErrorCode.FarmStartFailed,
    message,
    context,
    cause === undefined ? undefined : { cause },
  );
}

function readMeta(path: string): FarmStateMeta {
  try {
    const m = JSON.parse(readFileSync(path, 'utf8')) as Partial<FarmStateMeta>;
    if (
      m.schema !== STATE_SCHEMA ||
      typeof m.fleet !== 'string' ||
      typeof m.seed !== 'string' ||
      typeof m.shard?.index !== 'number' ||
      typeof m.shard.count !== 'number'
    )
      throw new Error('not a farm state record');
    return m as FarmStateMeta;
  } catch (e) {
    throw startFailed(`${path}: unreadable farm state record: ${(e as Error).message}`, { path }, e);
  }
}

/**
 * Open (creating if needed) the shard's SQLite store under `dir`. Durability 'process' by
 * default: WAL without an fsync per commit survives kill -9, which is the fault a CI farm
 * simulates, and lets 10,000 meters be created within the start budget (docs/farm.md).
 */
export function openStateStore(
  dir: string,
  want: { fleet: string; seed: string; shard: Shard },
  durability: Durability = 'process',
): { store: SqliteMeterStore; resumed: boolean; paths: StatePaths } {
  const paths = statePaths(dir, want.shard);
  try {
    mkdirSync(dir, { recursive: true });
  } catch (e) {
    throw startFailed(`${dir}: cannot create state directory: ${(e as Error).message}`, { dir }, e);
  }
  const resumed = existsSync(paths.meta);
  if (resumed) {
    const have = readMeta(paths.meta);
    if (
      have.fleet !== want.fleet ||
      have.seed !== want.seed ||
      formatShard(have.shard) !== formatShard(want.shard)
    )
      throw startFailed(
        `${dir} holds fleet ${have.fleet} seed ${have.seed} shard ${formatShard(have.shard)}, ` +
          `not fleet ${want.fleet} seed ${want.seed} shard ${formatShard(want.shard)}: use another --state directory`,
        { dir, have, want },
      );
  } else {
    const meta: FarmStateMeta = {
      schema: STATE_SCHEMA,
      version: 1,
      fleet: want.fleet,
      seed: want.seed,
      shard: { index: want.shard.index, count: want.shard.count },
    };
    const tmp = `${paths.meta}.tmp`;
    writeFileSync(tmp, `${JSON.stringify(meta, null, 2)}\n`);
    renameSync(tmp, paths.meta);
  }
  try {
    return { store: new SqliteMeterStore(paths.database, { durability }), resumed, paths };
  } catch (e) {
    throw startFailed(`${paths.database}: cannot open farm state: ${(e as Error).message}`, { dir }, e);
  }
}
