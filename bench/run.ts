/**
 * `npm run bench [filter...]`: runs every bench/suites/*.bench.ts (compiled to .bench-dist),
 * writes bench/results/<suite>.json and prints the metrics.
 */
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import os from 'node:os';
import { Harness, type BenchHarness } from './harness';

async function main(): Promise<void> {
  const filters = process.argv.slice(2);
  const suiteDir = join(__dirname, 'suites');
  const resultsDir = resolve(__dirname, '..', '..', 'bench', 'results');
  mkdirSync(resultsDir, { recursive: true });
  const files = readdirSync(suiteDir)
    .filter((f) => f.endsWith('.bench.js'))
    .sort();
  let failures = 0;
  for (const file of files) {
    const name = file.replace(/\.bench\.js$/, '');
    if (filters.length && !filters.some((f) => name.includes(f))) continue;
    process.stdout.write(`\n== ${name}\n`);
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const mod = require(join(suiteDir, file)) as { default: (h: BenchHarness) => Promise<void> };
    const h = new Harness();
    const started = Date.now();
    try {
      await mod.default(h);
    } catch (e) {
      failures++;
      process.stdout.write(`  FAILED: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
    }
    for (const m of h.metrics) {
      process.stdout.write(
        `  ${m.name.padEnd(48)} ${String(m.value).padStart(14)} ${m.unit}${m.note ? `  (${m.note})` : ''}\n`,
      );
    }
    const result = {
      suite: name,
      date: new Date().toISOString(),
      durationMs: Date.now() - started,
      machine: {
        node: process.version,
        cpus: os.cpus().length,
        cpu: os.cpus()[0]?.model ?? 'unknown',
        memGiB: Math.round(os.totalmem() / 2 ** 30),
      },
      metrics: h.metrics,
      log: h.lines,
    };
    writeFileSync(join(resultsDir, `${name}.json`), JSON.stringify(result, null, 2) + '\n');
  }
  if (failures) process.exitCode = 1;
}

main().catch((e: unknown) => {
  console.error(e);
  process.exitCode = 1;
});
