import { fork } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ManualClock } from '../../src/core/clock';
import { DEFAULT_BEHAVIOUR } from '../../src/device/behaviour';
import { createIdGenerator } from '../../src/device/id-generator';
import { Meter } from '../../src/device/meter';
import { newMeterState } from '../../src/device/new-meter';
import type { MeterState } from '../../src/device/state';
import { MemoryMeterStore } from '../../src/device/storage/memory-store';
import { SqliteMeterStore, type Durability } from '../../src/device/storage/sqlite-store';
import type { MeterStore } from '../../src/device/storage/types';
import type { BenchHarness } from '../harness';

const ids = createIdGenerator('device-bench');
const PREFIX = '9826176001';

function state(i: number): MeterState {
  return newMeterState(
    {
      id: `esme-${String(i).padStart(6, '0')}`,
      profileId: 'secure-liberty100-esme-p4x2g04',
      identity: {
        manufacturer: 'Secure',
        model: 'Liberty 100',
        deviceType: 'ESME',
        serial: ids.serial(i, 'SL100'),
        applicationFirmwareId: 'P4X2G04',
        metrologyFirmwareId: 'B2-00',
        deviceId: ids.deviceId(i),
      },
      registration: { mpanCore: ids.mpanCore(i), supplierId: 'SUPA', siteId: ids.siteId(i) },
      card: { paymentCardId: ids.paymentCardId(i, PREFIX), issuerSupplierId: 'SUPB' },
      secrets: { reader: '00'.repeat(20), privileged: '11'.repeat(20), engineering: '303030303030' },
      now: 0,
    },
    DEFAULT_BEHAVIOUR,
  );
}

/** Alternate clear / set on one meter: the migration clearing path plus farm set-up. */
function clearSetLoop(meter: Meter): () => void {
  let n = 0;
  return () => {
    if (meter.readCardRecord()) meter.applySync('clearPaymentCardData', { actor: 'DCC' });
    else
      meter.applySync('setCardRecord', {
        actor: 'farm',
        paymentCardId: ids.paymentCardId(++n, PREFIX),
        issuerSupplierId: 'SUPB',
        siteId: `S${n}`,
      });
  };
}

const FLEET = 10_000;

interface MemoryFigures {
  rssKiB: number;
  heapKiB: number;
}

function measureInChild(mode: 'memory' | 'sqlite', db: string): Promise<MemoryFigures> {
  return new Promise((resolve, reject) => {
    const child = fork(__filename, ['--rss-child', mode, db], {
      execArgv: ['--expose-gc'],
      stdio: 'inherit',
    });
    child.once('message', (m) => resolve(m as MemoryFigures));
    child.once('error', reject);
    child.once('exit', (code) => {
      if (code !== 0) reject(new Error(`rss child (${mode}) exited with ${code}`));
    });
  });
}

/** Child side: hold FLEET idle meters and report the growth per meter. */
function rssChild(mode: string, db: string): void {
  const gc = (globalThis as { gc?: () => void }).gc ?? (() => undefined);
  const clock = new ManualClock();
  const store: MeterStore = mode === 'sqlite' ? new SqliteMeterStore(db) : new MemoryMeterStore();
  // Warm the code paths first so compiled code is not counted as per-meter memory.
  state(0);
  gc();
  const before = process.memoryUsage();
  const meters =
    mode === 'sqlite'
      ? Meter.loadAll({ store, clock })
      : Array.from({ length: FLEET }, (_v, i) => Meter.create(state(i), { store, clock }));
  gc();
  const after = process.memoryUsage();
  const per = (a: number, b: number): number => Math.round(((a - b) / 1024 / meters.length) * 100) / 100;
  process.send!({ rssKiB: per(after.rss, before.rss), heapKiB: per(after.heapUsed, before.heapUsed) }, () => {
    store.close();
    process.exit(0);
  });
}

if (process.argv[2] === '--rss-child') rssChild(process.argv[3]!, process.argv[4]!);

/**
 * Device model and storage: committed operations per second (each one a durable SQLite
 * transaction), and resident memory per idle meter held in one process.
 */
export default async function run(h: BenchHarness): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'smets1-device-bench-'));
  const clock = new ManualClock();
  try {
    const mem = Meter.create(state(0), { store: new MemoryMeterStore(), clock });
    const memStats = h.measureSync(clearSetLoop(mem), { iterations: 20_000 });
    h.recordStats('op.memory', memStats);

    const perDurability: Record<Durability, number> = { full: 0, process: 0 };
    for (const [durability, iterations] of [
      ['process', 5000],
      ['full', 500],
    ] as const) {
      const store = new SqliteMeterStore(join(dir, `ops-${durability}.db`), { durability });
      const meter = Meter.create(state(0), { store, clock });
      const s = h.measureSync(clearSetLoop(meter), { iterations, warmup: 50 });
      h.recordStats(`op.sqlite_${durability}`, s);
      perDurability[durability] = s.opsPerSec;
      store.close();
    }
    h.ratio(
      'op.sqlite_full_vs_process',
      perDurability.full,
      perDurability.process,
      'ops/s with synchronous=FULL (fsync per commit) / with NORMAL (survives kill -9 only)',
    );
    h.ratio(
      'op.sqlite_process_vs_memory',
      perDurability.process,
      memStats.opsPerSec,
      'SQLite NORMAL ops/s / memory ops/s',
    );

    // Resident memory per idle meter: 10,000 meters held in a fresh process each, so freed
    // pages of earlier measurements cannot hide growth (RSS never shrinks back).
    const fill = new SqliteMeterStore(join(dir, 'fleet.db'), { durability: 'process' });
    for (let i = 0; i < FLEET; i++) Meter.create(state(i), { store: fill, clock });
    fill.close();
    for (const mode of ['memory', 'sqlite'] as const) {
      const r = await measureInChild(mode, join(dir, 'fleet.db'));
      h.record(`rss.${mode}_kib_per_meter`, r.rssKiB, 'KiB', `${FLEET} idle meters, fresh process`);
      h.record(`heap.${mode}_kib_per_meter`, r.heapKiB, 'KiB', 'V8 heap used per meter');
    }
    h.log('target: <= 40 KiB RSS per idle meter');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
