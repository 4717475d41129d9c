/**
 * Seeded choices for fleet generation: a PRNG, permutations and exact apportioning.
 *
 * The fleet's byte-identity (same file + same seed = same fleet) depends on every function
 * here, so they are pinned in this file rather than borrowed from another layer whose PRNG
 * might change for its own reasons. Shares are exact counts (round(count × share)), not
 * per-meter coin flips, so a test — or a demo — can state how many meters are blocked.
 */
import { createHash } from 'node:crypto';

/** Mulberry32: tiny, fast, good enough to shuffle; seeded from SHA-256 of a label. */
export class SeededRandom {
  private state: number;

  constructor(label: string) {
    this.state = createHash('sha256').update(label).digest().readUInt32BE(0);
  }

  /** Uniform in [0, 1). */
  next(): number {
    this.state = (this.state + 0x6d2b79f5) | 0;
    let t = Math.imul(this.state ^ (this.state >>> 15), 1 | this.state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  /** Uniform integer in [0, n). */
  below(n: number): number {
    return Math.floor(this.next() * n);
  }
}

/** A permutation of 0..n-1 (Fisher–Yates), the same for the same label. */
export function permutation(n: number, label: string): Uint32Array {
  const out = new Uint32Array(n);
  for (let i = 0; i < n; i++) out[i] = i;
  const r = new SeededRandom(label);
  for (let i = n - 1; i > 0; i--) {
    const j = r.below(i + 1);
    const t = out[i]!;
    out[i] = out[j]!;
    out[j] = t;
  }
  return out;
}

/** round(count × share), the exact number of meters a share stands for. */
export function shareCount(count: number, share: number): number {
  return Math.round(count * share);
}

/**
 * Split `count` into parts proportional to `weights` (largest remainder; ties go to the
 * earlier entry), so the parts always add up to `count`.
 */
export function apportion(count: number, weights: readonly number[]): number[] {
  const total = weights.reduce((a, b) => a + b, 0);
  const exact = weights.map((w) => (count * w) / total);
  const parts = exact.map((x) => Math.floor(x));
  let left = count - parts.reduce((a, b) => a + b, 0);
  const order = exact
    .map((x, i) => ({ i, rem: x - Math.floor(x) }))
    .sort((a, b) => b.rem - a.rem || a.i - b.i);
  for (let k = 0; left > 0; k = (k + 1) % order.length, left--) parts[order[k]!.i]!++;
  return parts;
}

/**
 * Give each of `count` slots one of the labels, with exactly `parts[i]` slots per label, in
 * a seeded order: slot k gets labels[j] where j is found through a permutation of slots.
 */
export function assignExact<T>(labels: readonly T[], parts: readonly number[], label: string): T[] {
  const count = parts.reduce((a, b) => a + b, 0);
  const order = permutation(count, label);
  const out = new Array<T>(count);
  let pos = 0;
  parts.forEach((n, j) => {
    for (let k = 0; k < n; k++) out[order[pos++]!] = labels[j]!;
  });
  return out;
}
