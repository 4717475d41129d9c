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
 * core per thread); SWEEP_BENCH_LAYOUT=same puts both on one thread for comparison.
 *
 * The measurement runs in a child process (fresh heap, RSS not inherited). Environment
 * overrides for exploration: SWEEP_BENCH_METERS, SWEEP_BENCH_CONCURRENCY, SWEEP_BENCH_PROFILE=1
 * (writes a V8 CPU profile of the sweep phase only to bench/results/sweep.cpuprofile, the same
 * format as `node --cpu-prof`; open it in Chrome DevTools).
 */
import { fork } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector';
import net from 'node:net';
import { join, resolve } from 'node:path';
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';
import type { Manifest } from '../../src/farm/manifest';
import { scaleFleet, loadDemoFleet } from '../../src/demo/demo-fleet';
import { FarmMetrics } from '../../src/farm/metrics';
import { loadBuiltinRuleset } from '../../src/migration/ruleset';
import { buildDemoProducts } from '../../src/demo/demo-products';
import { c1218SessionFactory } from '../../src/sweep/c1218-sessions';
import { runSweep } from '../../src/sweep/sweep';
import { startFarm } from '../../src/testing/farm';
import type { BenchHarness } from '../harness';

const METERS = Number(process.env['SWEEP_BENCH_METERS'] ?? 10_000);
/** 'thread': the farm in a worker thread of the same process (one core each); 'same': one thread. */
const LAYOUT = process.env['SWEEP_BENCH_LAYOUT'] === 'same' ? 'same' : 'thread';
const CONCURRENCY = Number(process.env['SWEEP_BENCH_CONCURRENCY'] ?? 256);
const CHILD_FLAG = 'sweep-bench-child';
const RESULTS = resolve(__dirname, '..', '..', '..', 'bench', 'results');

/** Profile `work` with the V8 sampling profiler when SWEEP_BENCH_PROFILE=1. */
async function profiled<T>(work: () => Promise<T>): Promise<T> {
  if (process.env['SWEEP_BENCH_PROFILE'] !== '1') return work();
  const session = new Session();
  session.connect();
  const post = (method: string, params?: object): Promise<unknown> =>
    new Promise((ok, fail) => session.post(method, params, (e, r) => (e ? fail(e) : ok(r))));
  await post('Profiler.enable');
  await post('Profiler.setSamplingInterval', { interval: 200 });
  await post('Profiler.start');
  try {
    return await work();
  } finally {
    const { profile } = (await post('Profiler.stop')) as { profile: unknown };
    mkdirSync(RESULTS, { recursive: true });
    writeFileSync(join(RESULTS, 'sweep.cpuprofile'), JSON.stringify(profile));
    session.disconnect();
  }
}

interface ChildResult {
  layout: 'thread' | 'same';
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

/** The farm side: started here, or in a worker thread of this process. */
interface FarmSide {
  manifest: Manifest;
  startMs: number;
  echoPort: number;
  answered(): Promise<number>;
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
    stop: async () => {
      const r = await ask<Extract<FarmReply, { op: 'stopped' }>>({ op: 'stop' });
      await worker.terminate();
      return r.ms;
    },
  }));
}

if (!isMainThread && (workerData as { role?: string } | null)?.role === 'farm') {
  void startFarmHere().then((side) => {
    parentPort!.on('message', (req: FarmRequest) => {
      if (req.op === 'answered')
        void side.answered().then((n) => parentPort!.postMessage({ op: 'answered', n } satisfies FarmReply));
      else void side.stop().then((ms) => parentPort!.postMessage({ op: 'stopped', ms } satisfies FarmReply));
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

  const echoPerSec = await echoRate(side.echoPort, CONCURRENCY, 3000);

  const ruleset = await loadBuiltinRuleset('mehrs-5.0');
  const eligibleProducts = buildDemoProducts(side.manifest);
  const requests0 = await side.answered();
  const cpu0 = process.cpuUsage();
  const t1 = performance.now();
  const r = await profiled(() =>
    runSweep({
      manifest: side.manifest,
      ruleset,
      eligibleProducts,
      sessionFactory: c1218SessionFactory(),
      concurrency: CONCURRENCY,
    }),
  );
  const sweepMs = performance.now() - t1;
  const cpu = process.cpuUsage(cpu0);
  const requests = (await side.answered()) - requests0;
  const stopMs = await side.stop();
  return {
    layout: LAYOUT,
    meters: side.manifest.meters.length,
    concurrency: CONCURRENCY,
    startMs: side.startMs,
    rssAddedMb,
    heapUsedMb,
    sweepMs: Math.round(sweepMs),
    devicesPerSec: Math.round((r.summary.finished * 1000) / sweepMs),
    requests,
    requestsPerSec: Math.round((requests * 1000) / sweepMs),
    sessions: r.sessionsOpened,
    cpuPercent: Math.round(((cpu.user + cpu.system) / 1000 / sweepMs) * 100),
    passed: r.summary.passed,
    blocked: r.summary.blocked,
    blockedMA516: r.summary.blockedBy['MA516'] ?? 0,
    blockedMA517: r.summary.blockedBy['MA517'] ?? 0,
    cannotEvaluate: r.summary.cannotEvaluate,
    communicationFailures: r.summary.communicationFailures,
    errors: r.errors.length,
    echoPerSec,
    stopMs,
  };
}

function runChild(): Promise<ChildResult> {
  return new Promise((resolveChild, reject) => {
    const c = fork(__filename, [CHILD_FLAG], { stdio: 'inherit' });
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
      `(${r.layout === 'thread' ? 'farm in a worker thread, sweep in the main thread' : 'farm and sweep on one thread'}); ` +
      `sweep under mehrs-5.0, evaluate-only, concurrency ${r.concurrency}, journals in memory`,
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
    `raw TCP echo, ${r.concurrency} socket pairs, same process`,
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
}
