/**
 * Farm + sweep at scale (issue "Performance", docs/sweep.md "Performance"): in ONE process,
 * 10,000 meters of the demo fleet's mix (shipped Secure profiles, real C12.18 servers over their
 * C12.19 bindings) on 127.0.0.1 port-0 listeners, then a sweep of all of them under mehrs-5.0,
 * evaluate-only (identify, log on, interrogate including the card record, evaluate), journals
 * in memory.
 *
 * Budgets (issue): start ≤ 10 s and ≤ 512 MB RSS added; farm + sweep on this 2-core machine
 * ≤ 15 s. The same-run baseline is a raw TCP echo (16-byte request, 16-byte answer) between the
 * same number of client/server socket pairs in the same process with the same concurrency: the
 * ratio sweep request round trips per second / echo round trips per second says how much the
 * protocol stack costs over the kernel (target ≥ 0.5).
 *
 * A "request round trip" is one PSEM request answered (Ident, Negotiate, Logon, Security,
 * Read, Write, Logoff, Terminate), counted by the farm's metrics; its C12.18 ACK packets ride
 * along and are not counted separately.
 *
 * Layout: by default the farm runs in a worker thread of the same process and the sweep in the
 * main thread, so farm and sweep each get one of the two cores (Node runs JavaScript on one
 * core per thread); SWEEP_BENCH_LAYOUT=same puts both on one thread for comparison, and
 * SWEEP_BENCH_SWEEPERS=N splits the sweep into N shards on N threads (main + N-1 workers; the
 * echo baseline then runs from the same N threads). Concurrency 512 by default: with the
 * shipped profiles' response delays a device takes ~0.3-0.8 s of waiting, so fewer flows in
 * flight cannot reach the budget's rate whatever the CPU (docs/sweep.md "Performance").
 *
 * The measurement runs in a child process (fresh heap, RSS not inherited). Environment
 * overrides for exploration: SWEEP_BENCH_METERS, SWEEP_BENCH_CONCURRENCY, SWEEP_BENCH_SEMI_SPACE_MB
 * (V8's --max-semi-space-size for the measured process), SWEEP_BENCH_PROFILE=1
 * (writes a V8 CPU profile of the sweep phase only to bench/results/sweep.cpuprofile, and of the
 * farm's worker thread to sweep-farm.cpuprofile, the same format as `node --cpu-prof`; open it
 * in Chrome DevTools).
 */
import { fork } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector';
import net from 'node:net';
import { join, resolve } from 'node:path';
import type { EventLoopUtilization } from 'node:perf_hooks';
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';
import type { Manifest } from '../../src/farm/manifest';
import type { Shard } from '../../src/farm/shard';
import { scaleFleet, loadDemoFleet } from '../../src/demo/demo-fleet';
import { FarmMetrics } from '../../src/farm/metrics';
import { loadBuiltinRuleset } from '../../src/migration/ruleset';
import { buildDemoProducts } from '../../src/demo/demo-products';
import { c1218SessionFactory } from '../../src/sweep/c1218-sessions';
import { runSweep } from '../../src/sweep/sweep';
import { startFarm } from '../../src/testing/farm';
import { migrationCpuPerDevice } from './sweep-migration-cost';
import type { BenchHarness } from '../harness';

const METERS = Number(process.env['SWEEP_BENCH_METERS'] ?? 10_000);
/** 'thread': the farm in a worker thread of the same process (one core each); 'same': one thread. */
const LAYOUT = process.env['SWEEP_BENCH_LAYOUT'] === 'same' ? 'same' : 'thread';
const CONCURRENCY = Number(process.env['SWEEP_BENCH_CONCURRENCY'] ?? 512);
/**
 * Threads the sweep (and the echo baseline) runs in, in the 'thread' layout: the main thread
 * plus SWEEPERS - 1 workers, each sweeping one shard (fleet index mod SWEEPERS, as `--shard`)
 * with its share of CONCURRENCY.
 */
const SWEEPERS = LAYOUT === 'thread' ? Math.max(1, Number(process.env['SWEEP_BENCH_SWEEPERS'] ?? 1)) : 1;
const CHILD_FLAG = 'sweep-bench-child';
const RESULTS = resolve(__dirname, '..', '..', '..', 'bench', 'results');

const PROFILE = process.env['SWEEP_BENCH_PROFILE'] === '1';

/** Start the V8 sampling profiler of this thread; the returned function stops it and writes `file`. */
async function startProfiler(file: string): Promise<() => Promise<void>> {
  const session = new Session();
  session.connect();
  const post = (method: string, params?: object): Promise<unknown> =>
    new Promise((ok, fail) => session.post(method, params, (e, r) => (e ? fail(e) : ok(r))));
  await post('Profiler.enable');
  await post('Profiler.setSamplingInterval', { interval: 200 });
  await post('Profiler.start');
  return async () => {
    const { profile } = (await post('Profiler.stop')) as { profile: unknown };
    mkdirSync(RESULTS, { recursive: true });
    writeFileSync(join(RESULTS, file), JSON.stringify(profile));
    session.disconnect();
  };
}

/** Profile `work` with the V8 sampling profiler when SWEEP_BENCH_PROFILE=1. */
async function profiled<T>(work: () => Promise<T>): Promise<T> {
  if (!PROFILE) return work();
  const stop = await startProfiler('sweep.cpuprofile');
  try {
    return await work();
  } finally {
    await stop();
  }
}

interface ChildResult {
  layout: 'thread' | 'same';
  sweepers: number;
  meters: number;
  concurrency: number;
  startMs: number;
  rssAddedMb: number;
  heapUsedMb: number;
  sweepMs: number;
  devicesPerSec: number;
  requests: number;
  requestsPerSec: number;
  sessions: number;
  cpuPercent: number;
  /** Event-loop utilisation during the sweep: the main (sweep) thread and the farm's thread. */
  mainBusyPercent: number;
  farmBusyPercent: number;
  passed: number;
  blocked: number;
  blockedMA516: number;
  blockedMA517: number;
  cannotEvaluate: number;
  communicationFailures: number;
  errors: number;
  echoPerSec: number;
  stopMs: number;
}

const mb = (bytes: number): number => Math.round((bytes / 2 ** 20) * 10) / 10;

class CountingMetrics extends FarmMetrics {
  answered = 0;
  override onRequest(service: string, result: string, seconds: number): void {
    this.answered++;
    super.onRequest(service, result, seconds);
  }
}

/** A TCP echo server: every byte received goes straight back. */
async function echoServer(): Promise<{ port: number; close: () => Promise<void> }> {
  const server = net.createServer((sock) => {
    sock.setNoDelay(true);
    sock.on('data', (d) => sock.write(d));
  });
  await new Promise<void>((r) => server.listen({ host: '127.0.0.1', port: 0 }, r));
  return {
    port: (server.address() as net.AddressInfo).port,
    close: () => new Promise((r) => server.close(() => r())),
  };
}

/** Raw TCP echo clients: `pairs` sockets, each doing 16-byte round trips one at a time. */
async function echoRate(port: number, pairs: number, durationMs: number): Promise<number> {
  const payload = Buffer.alloc(16, 0x5a);
  let trips = 0;
  let running = true;
  const sockets: net.Socket[] = [];
  const lane = async (): Promise<void> => {
    const sock = net.connect({ host: '127.0.0.1', port });
    sock.setNoDelay(true);
    sockets.push(sock);
    await new Promise<void>((r) => sock.once('connect', r));
    let got = 0;
    let wake: (() => void) | undefined;
    sock.on('data', (d) => {
      got += d.length;
      if (got >= payload.length && wake) {
        got -= payload.length;
        const w = wake;
        wake = undefined;
        w();
      }
    });
    while (running) {
      await new Promise<void>((r) => {
        wake = r;
        sock.write(payload);
      });
      trips++;
    }
  };
  const lanes = Array.from({ length: pairs }, lane);
  await new Promise((r) => setTimeout(r, 300));
  const t0 = performance.now();
  const n0 = trips;
  await new Promise((r) => setTimeout(r, durationMs));
  const rate = ((trips - n0) * 1000) / (performance.now() - t0);
  running = false;
  await Promise.all(lanes);
  for (const sock of sockets) sock.destroy();
  return Math.round(rate);
}

/** What one sweep shard found (the summary counts the bench reports). */
interface ShardResult {
  finished: number;
  sessions: number;
  passed: number;
  blocked: number;
  blockedMA516: number;
  blockedMA517: number;
  cannotEvaluate: number;
  communicationFailures: number;
  errors: number;
}

/** Sweep one shard of the manifest (the whole fleet when `shard.count` is 1). */
async function sweepShard(manifest: Manifest, shard: Shard, concurrency: number): Promise<ShardResult> {
  const ruleset = await loadBuiltinRuleset('mehrs-5.0');
  const r = await runSweep({
    manifest,
    ruleset,
    eligibleProducts: buildDemoProducts(manifest),
    sessionFactory: c1218SessionFactory(),
    concurrency,
    ...(shard.count > 1 ? { shard } : {}),
  });
  return {
    finished: r.summary.finished,
    sessions: r.sessionsOpened,
    passed: r.summary.passed,
    blocked: r.summary.blocked,
    blockedMA516: r.summary.blockedBy['MA516'] ?? 0,
    blockedMA517: r.summary.blockedBy['MA517'] ?? 0,
    cannotEvaluate: r.summary.cannotEvaluate,
    communicationFailures: r.summary.communicationFailures,
    errors: r.errors.length,
  };
}

/** Thread i's share of `total` lanes when SWEEPERS threads split them. */
const share = (total: number, i: number): number =>
  Math.floor(total / SWEEPERS) + (i < total % SWEEPERS ? 1 : 0);

type SweeperRequest =
  | { op: 'echo'; port: number; pairs: number; ms: number }
  | { op: 'sweep'; manifest: Manifest; shard: Shard; concurrency: number };
type SweeperReply = { op: 'echo'; rate: number } | { op: 'sweep'; result: ShardResult };

/** A worker thread that sweeps one shard (and runs its share of the echo baseline). */
function startSweeper(): {
  ask: <T extends SweeperReply>(req: SweeperRequest) => Promise<T>;
  stop: () => Promise<number>;
} {
  const worker = new Worker(__filename, { workerData: { role: 'sweeper' } });
  return {
    ask: <T extends SweeperReply>(req: SweeperRequest) =>
      new Promise<T>((ok) => {
        worker.once('message', (r: T) => ok(r));
        worker.postMessage(req);
      }),
    stop: () => worker.terminate(),
  };
}

if (!isMainThread && (workerData as { role?: string } | null)?.role === 'sweeper') {
  parentPort!.on('message', (req: SweeperRequest) => {
    if (req.op === 'echo')
      void echoRate(req.port, req.pairs, req.ms).then((rate) =>
        parentPort!.postMessage({ op: 'echo', rate } satisfies SweeperReply),
      );
    else
      void sweepShard(req.manifest, req.shard, req.concurrency).then((result) =>
        parentPort!.postMessage({ op: 'sweep', result } satisfies SweeperReply),
      );
  });
}

/** The farm side: started here, or in a worker thread of this process. */
interface FarmSide {
  manifest: Manifest;
  startMs: number;
  echoPort: number;
  answered(): Promise<number>;
  /** Event-loop utilisation of the thread the farm runs on (busy share of its time). */
  elu(): EventLoopUtilization;
  stop(): Promise<number>;
}

type FarmRequest = { op: 'answered' } | { op: 'stop' };
type FarmReply =
  | { op: 'started'; manifest: Manifest; startMs: number; echoPort: number }
  | { op: 'answered'; n: number }
  | { op: 'stopped'; ms: number };

async function startFarmHere(): Promise<FarmSide & { serve?: never }> {
  const metrics = new CountingMetrics();
  const t0 = performance.now();
  const { spec } = loadDemoFleet();
  const farm = await startFarm({ fleet: scaleFleet({ ...spec, fleet: 'bench' }, METERS), metrics });
  const startMs = Math.round(performance.now() - t0);
  const echo = await echoServer();
  return {
    manifest: farm.manifest,
    startMs,
    echoPort: echo.port,
    answered: () => Promise.resolve(metrics.answered),
    elu: () => performance.eventLoopUtilization(),
    stop: async () => {
      const t = performance.now();
      await farm.stop();
      await echo.close();
      return Math.round(performance.now() - t);
    },
  };
}

function startFarmInThread(): Promise<FarmSide> {
  const worker = new Worker(__filename, { workerData: { role: 'farm' } });
  const replies: ((r: FarmReply) => void)[] = [];
  worker.on('message', (r: FarmReply) => replies.shift()?.(r));
  const ask = <T extends FarmReply>(req?: FarmRequest): Promise<T> =>
    new Promise((ok) => {
      replies.push((r) => ok(r as T));
      if (req) worker.postMessage(req);
    });
  return ask<Extract<FarmReply, { op: 'started' }>>().then((s) => ({
    manifest: s.manifest,
    startMs: s.startMs,
    echoPort: s.echoPort,
    answered: () => ask<Extract<FarmReply, { op: 'answered' }>>({ op: 'answered' }).then((r) => r.n),
    elu: () => worker.performance.eventLoopUtilization(),
    stop: async () => {
      const r = await ask<Extract<FarmReply, { op: 'stopped' }>>({ op: 'stop' });
      await worker.terminate();
      return r.ms;
    },
  }));
}

if (!isMainThread && (workerData as { role?: string } | null)?.role === 'farm') {
  void startFarmHere().then((side) => {
    // With SWEEP_BENCH_PROFILE=1 the farm thread is profiled too, from the request count taken
    // just before the sweep until stop (bench/results/sweep-farm.cpuprofile).
    let profiling: Promise<() => Promise<void>> | undefined;
    parentPort!.on('message', (req: FarmRequest) => {
      if (req.op === 'answered') {
        if (PROFILE) profiling ??= startProfiler('sweep-farm.cpuprofile');
        void side.answered().then((n) => parentPort!.postMessage({ op: 'answered', n } satisfies FarmReply));
      } else
        void (profiling ?? Promise.resolve(async () => {}))
          .then((stop) => stop())
          .then(() => side.stop())
          .then((ms) => parentPort!.postMessage({ op: 'stopped', ms } satisfies FarmReply));
    });
    parentPort!.postMessage({
      op: 'started',
      manifest: side.manifest,
      startMs: side.startMs,
      echoPort: side.echoPort,
    } satisfies FarmReply);
  });
}

async function child(): Promise<ChildResult> {
  const rss0 = process.memoryUsage().rss;
  const side = LAYOUT === 'thread' ? await startFarmInThread() : await startFarmHere();
  const rssAddedMb = mb(process.memoryUsage().rss - rss0);
  const heapUsedMb = mb(process.memoryUsage().heapUsed);

  // The sweep's threads: this one (shard 0) and SWEEPERS - 1 workers. The echo baseline runs in
  // the same threads with the same split of lanes, so both sides get the same CPU.
  const sweepers = Array.from({ length: SWEEPERS - 1 }, startSweeper);
  const echoRates = await Promise.all([
    echoRate(side.echoPort, share(CONCURRENCY, 0), 3000),
    ...sweepers.map((w, i) =>
      w
        .ask<Extract<SweeperReply, { op: 'echo' }>>({
          op: 'echo',
          port: side.echoPort,
          pairs: share(CONCURRENCY, i + 1),
          ms: 3000,
        })
        .then((r) => r.rate),
    ),
  ]);
  const echoPerSec = echoRates.reduce((a, b) => a + b, 0);

  const requests0 = await side.answered();
  const mainElu0 = performance.eventLoopUtilization();
  const farmElu0 = side.elu();
  const cpu0 = process.cpuUsage();
  const t1 = performance.now();
  const shards = await profiled(() =>
    Promise.all([
      sweepShard(side.manifest, { index: 0, count: SWEEPERS }, share(CONCURRENCY, 0)),
      ...sweepers.map((w, i) =>
        w
          .ask<Extract<SweeperReply, { op: 'sweep' }>>({
            op: 'sweep',
            manifest: side.manifest,
            shard: { index: i + 1, count: SWEEPERS },
            concurrency: share(CONCURRENCY, i + 1),
          })
          .then((r) => r.result),
      ),
    ]),
  );
  const sweepMs = performance.now() - t1;
  // process.cpuUsage() counts every thread of the process: farm, sweepers and main.
  const cpu = process.cpuUsage(cpu0);
  const mainBusy = performance.eventLoopUtilization(mainElu0).utilization;
  const farmBusy = performance.eventLoopUtilization(side.elu(), farmElu0).utilization;
  const requests = (await side.answered()) - requests0;
  await Promise.all(sweepers.map((w) => w.stop()));
  const stopMs = await side.stop();
  const sum = (k: keyof ShardResult): number => shards.reduce((a, r) => a + r[k], 0);
  return {
    layout: LAYOUT,
    sweepers: SWEEPERS,
    meters: side.manifest.meters.length,
    concurrency: CONCURRENCY,
    startMs: side.startMs,
    rssAddedMb,
    heapUsedMb,
    sweepMs: Math.round(sweepMs),
    devicesPerSec: Math.round((sum('finished') * 1000) / sweepMs),
    requests,
    requestsPerSec: Math.round((requests * 1000) / sweepMs),
    sessions: sum('sessions'),
    cpuPercent: Math.round(((cpu.user + cpu.system) / 1000 / sweepMs) * 100),
    mainBusyPercent: Math.round(mainBusy * 100),
    farmBusyPercent: Math.round(farmBusy * 100),
    passed: sum('passed'),
    blocked: sum('blocked'),
    blockedMA516: sum('blockedMA516'),
    blockedMA517: sum('blockedMA517'),
    cannotEvaluate: sum('cannotEvaluate'),
    communicationFailures: sum('communicationFailures'),
    errors: sum('errors'),
    echoPerSec,
    stopMs,
  };
}

function runChild(): Promise<ChildResult> {
  return new Promise((resolveChild, reject) => {
    // SWEEP_BENCH_SEMI_SPACE_MB: V8's young-generation semi-space for the whole process (every
    // thread), an operator's NODE_OPTIONS choice; default: Node's own.
    const semi = process.env['SWEEP_BENCH_SEMI_SPACE_MB'];
    const execArgv = semi ? [...process.execArgv, `--max-semi-space-size=${Number(semi)}`] : process.execArgv;
    const c = fork(__filename, [CHILD_FLAG], { stdio: 'inherit', execArgv });
    c.once('message', (m) => resolveChild(m as ChildResult));
    c.once('error', reject);
    c.once('exit', (code) => {
      if (code !== 0) reject(new Error(`sweep bench child exited with ${code}`));
    });
  });
}

if (isMainThread && process.argv[2] === CHILD_FLAG) {
  child()
    .then((r) => process.send?.(r, () => process.exit(0)))
    .catch((e: unknown) => {
      console.error(e);
      process.exit(1);
    });
}

export default async function run(h: BenchHarness): Promise<void> {
  const r = await runChild();
  h.log(
    `${r.meters} meters (demo fleet mix, real C12.18 servers) on tcp-listen 127.0.0.1:0, one process ` +
      `(${
        r.layout === 'same'
          ? 'farm and sweep on one thread'
          : r.sweepers === 1
            ? 'farm in a worker thread, sweep in the main thread'
            : `farm in a worker thread, sweep in ${r.sweepers} threads (main + ${r.sweepers - 1} workers, one shard each)`
      }); ` +
      `sweep under mehrs-5.0, evaluate-only, concurrency ${r.concurrency} in all, journals in memory`,
  );
  h.record('farm.start_ms', r.startMs, 'ms', 'generation + meters + listeners + servers; budget 10,000 ms');
  h.record('farm.rss_added_mb', r.rssAddedMb, 'MB', 'RSS after start minus before; budget 512 MB');
  h.record('farm.heap_used_mb', r.heapUsedMb, 'MB');
  h.record('sweep.wall_ms', r.sweepMs, 'ms', 'every meter identified, logged on, interrogated, evaluated');
  h.record('sweep.farm_plus_sweep_ms', r.startMs + r.sweepMs, 'ms', 'budget 15,000 ms');
  h.record('sweep.devices_per_s', r.devicesPerSec, 'devices/s');
  h.record('sweep.requests', r.requests, 'requests', `PSEM requests answered; ${r.sessions} sessions`);
  h.record('sweep.requests_per_device', Math.round((r.requests / r.meters) * 10) / 10, 'requests');
  h.record('sweep.request_round_trips_per_s', r.requestsPerSec, 'rt/s');
  h.record('sweep.cpu_percent', r.cpuPercent, '%', 'process CPU during the sweep (200% = both cores)');
  h.record(
    'sweep.main_thread_busy_percent',
    r.mainBusyPercent,
    '%',
    'event-loop utilisation of the main thread (the sweep, shard 0) during the sweep',
  );
  h.record(
    'farm.thread_busy_percent',
    r.farmBusyPercent,
    '%',
    'event-loop utilisation of the farm thread during the sweep (= main in the one-thread layout)',
  );
  h.record('sweep.passed', r.passed, 'devices');
  h.record('sweep.blocked_MA516', r.blockedMA516, 'devices');
  h.record('sweep.blocked_MA517', r.blockedMA517, 'devices');
  h.record('sweep.cannot_evaluate', r.cannotEvaluate, 'devices');
  h.record('sweep.communication_failures', r.communicationFailures, 'devices');
  h.record('sweep.errors', r.errors, 'devices');
  h.record(
    'echo.round_trips_per_s',
    r.echoPerSec,
    'rt/s',
    `raw TCP echo, ${r.concurrency} socket pairs driven from the sweep's ${r.sweepers} thread(s), same process`,
  );
  h.record('farm.stop_ms', r.stopMs, 'ms');
  h.ratio(
    'sweep.rt_vs_echo',
    r.requestsPerSec,
    r.echoPerSec,
    'sweep request round trips/s / raw TCP echo round trips/s; target ≥ 0.5',
  );
  h.ratio('sweep.total_vs_budget', r.startMs + r.sweepMs, 15_000, '(farm start + sweep) / 15 s');
  h.ratio('farm.start_vs_budget', r.startMs, 10_000, 'farm start / 10 s');
  h.ratio('farm.rss_vs_budget', r.rssAddedMb, 512, 'farm RSS added / 512 MB');
  // After the child has exited, in this (idle) process: the migration layer alone.
  h.record(
    'migration.cpu_us_per_device',
    await migrationCpuPerDevice(),
    'µs',
    'runMigrationFlow evaluate-only over an in-memory session (no protocol): interrogation checks, evaluation, journal',
  );
}
