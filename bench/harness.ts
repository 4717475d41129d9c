/**
 * A small benchmark harness. Each suite in bench/suites/*.bench.ts exports
 * `default async function (h: BenchHarness)`, measures with `h.measure*`, records metrics and
 * states ratios against a baseline measured in the same run (never absolute thresholds).
 * `npm run bench [filter]` writes bench/results/<suite>.json and prints a table.
 */
import { performance } from 'node:perf_hooks';

export interface Stats {
  /** Samples taken. */
  n: number;
  medianUs: number;
  p99Us: number;
  meanUs: number;
  /** Calls per second from the mean. */
  opsPerSec: number;
}

export interface Metric {
  name: string;
  value: number;
  unit: string;
  note?: string;
}

export interface BenchHarness {
  /** Time each call of a synchronous function. */
  measureSync(fn: () => void, opts?: { iterations?: number; warmup?: number }): Stats;
  /** Time each awaited call of an async function, one at a time. */
  measureAsync(fn: () => Promise<void>, opts?: { iterations?: number; warmup?: number }): Promise<Stats>;
  /** Process CPU time (user+system, µs) spent per call of `fn` over `iterations` calls. */
  cpuPerCall(fn: () => void, iterations: number): number;
  /** Record a figure. */
  record(name: string, value: number, unit: string, note?: string): void;
  /** Record the stats of a measurement as name.median_us / name.p99_us / name.ops_per_s. */
  recordStats(name: string, s: Stats): void;
  /** Record `value / baseline` under `name`, with what was divided by what. */
  ratio(name: string, value: number, baseline: number, note: string): number;
  log(line: string): void;
}

function quantile(sorted: Float64Array, q: number): number {
  if (sorted.length === 0) return 0;
  const idx = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[idx]!;
}

export function statsFromSamples(samplesMs: Float64Array): Stats {
  const sorted = Float64Array.from(samplesMs).sort();
  let sum = 0;
  for (const v of sorted) sum += v;
  const mean = sorted.length ? sum / sorted.length : 0;
  return {
    n: sorted.length,
    medianUs: quantile(sorted, 0.5) * 1000,
    p99Us: quantile(sorted, 0.99) * 1000,
    meanUs: mean * 1000,
    opsPerSec: mean > 0 ? 1000 / mean : 0,
  };
}

export class Harness implements BenchHarness {
  readonly metrics: Metric[] = [];
  readonly lines: string[] = [];

  measureSync(fn: () => void, opts: { iterations?: number; warmup?: number } = {}): Stats {
    const iterations = opts.iterations ?? 10_000;
    for (let i = 0; i < (opts.warmup ?? Math.min(1000, iterations)); i++) fn();
    const samples = new Float64Array(iterations);
    for (let i = 0; i < iterations; i++) {
      const t0 = performance.now();
      fn();
      samples[i] = performance.now() - t0;
    }
    return statsFromSamples(samples);
  }

  async measureAsync(
    fn: () => Promise<void>,
    opts: { iterations?: number; warmup?: number } = {},
  ): Promise<Stats> {
    const iterations = opts.iterations ?? 2000;
    for (let i = 0; i < (opts.warmup ?? Math.min(200, iterations)); i++) await fn();
    const samples = new Float64Array(iterations);
    for (let i = 0; i < iterations; i++) {
      const t0 = performance.now();
      await fn();
      samples[i] = performance.now() - t0;
    }
    return statsFromSamples(samples);
  }

  cpuPerCall(fn: () => void, iterations: number): number {
    for (let i = 0; i < Math.min(1000, iterations); i++) fn();
    const c0 = process.cpuUsage();
    for (let i = 0; i < iterations; i++) fn();
    const c = process.cpuUsage(c0);
    return (c.user + c.system) / iterations;
  }

  record(name: string, value: number, unit: string, note?: string): void {
    this.metrics.push(note === undefined ? { name, value, unit } : { name, value, unit, note });
  }

  recordStats(name: string, s: Stats): void {
    this.record(`${name}.median_us`, round(s.medianUs), 'us');
    this.record(`${name}.p99_us`, round(s.p99Us), 'us');
    this.record(`${name}.ops_per_s`, Math.round(s.opsPerSec), 'ops/s');
  }

  ratio(name: string, value: number, baseline: number, note: string): number {
    const r = baseline === 0 ? 0 : value / baseline;
    this.record(name, round(r), 'ratio', note);
    return r;
  }

  log(line: string): void {
    this.lines.push(line);
    process.stdout.write(`  ${line}\n`);
  }
}

export function round(v: number, digits = 3): number {
  const f = 10 ** digits;
  return Math.round(v * f) / f;
}
