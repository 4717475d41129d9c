/**
 * Sharding (docs/farm.md "Sharding"): `--shard i/N` takes a deterministic 1/N of the fleet so
 * that N processes — or the pods of a Kubernetes StatefulSet, ordinal i — serve one fleet.
 *
 * Meter k of the plan (its `index`) belongs to shard k mod N. Every process computes the same
 * plan from the same file, so the split needs no coordination, shards differ in size by at most
 * one meter, and every group is spread evenly over the shards.
 */
import { ErrorCode, SimError } from '../core/errors';
import type { FleetPlan, MeterSpec } from './generator';

export interface Shard {
  /** 0-based. */
  index: number;
  count: number;
}

export const WHOLE_FLEET: Shard = Object.freeze({ index: 0, count: 1 });

/** Upper bound on N: more shards than this is a typo, not a deployment (modelled). */
export const MAX_SHARDS = 10_000;

function invalid(text: string, reason: string): SimError {
  return new SimError(ErrorCode.FarmShardInvalid, `--shard ${JSON.stringify(text)}: ${reason}`, {
    shard: text,
    reason,
  });
}

/** Parse `i/N` (0 ≤ i < N, decimal integers, no signs or spaces). */
export function parseShard(text: string): Shard {
  const m = /^(\d{1,5})\/(\d{1,5})$/.exec(text);
  if (!m) throw invalid(text, 'expected i/N, e.g. 0/4 (0-based index / shard count)');
  const index = Number(m[1]);
  const count = Number(m[2]);
  if (count < 1 || count > MAX_SHARDS) throw invalid(text, `shard count must be 1–${MAX_SHARDS}`);
  if (index >= count) throw invalid(text, `index must be below the count (0..${count - 1})`);
  return { index, count };
}

export function formatShard(s: Shard): string {
  return `${s.index}/${s.count}`;
}

export function shardOf(meterIndex: number, count: number): number {
  return meterIndex % count;
}

/** The meters of one shard, in fleet order. */
export function selectShard(plan: FleetPlan, shard: Shard): MeterSpec[] {
  if (shard.count === 1) return plan.meters;
  return plan.meters.filter((m) => shardOf(m.index, shard.count) === shard.index);
}

/** How many meters shard `index` of `count` holds in a fleet of `total`. */
export function shardSize(total: number, shard: Shard): number {
  return Math.floor(total / shard.count) + (shard.index < total % shard.count ? 1 : 0);
}
