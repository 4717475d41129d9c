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
 * Two more yardsticks from the same run: the wire floor (wireFloorServer: the C12.18 exchange
 * pattern of this sweep, a connection per device, ACK then delayed response, with no protocol
 * code at all), which bounds what any C12.18 stack could reach against the echo, and a second
 * sweep of the same farm with `reads: 'all'` (every interrogation field, 14 requests a device
 * instead of 11), the cost of a full audit next to the issue's sweep (SWEEP_BENCH_FULL=0 skips
 * it). `sweep.cpu_us_per_request` (process CPU per request) moves less with the machine's load
 * than wall times do.
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
import { loadProfile } from '../../src/profiles/loader';
import { buildDemoProducts } from '../../src/demo/demo-products';
import { c1218SessionFactory } from '../../src/sweep/c1218-sessions';
import { DEFAULT_SWEEP_READS, runSweep } from '../../src/sweep/sweep';
import type { InterrogationReads } from '../../src/migration/flow';
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
/** PSEM requests per device in the wire floor: the C12.18 sweep's 11 (default reads). */
const FLOOR_REQUESTS_PER_DEVICE = 11;
const RESULTS = resolve(__dirname, '..', '..', '..', 'bench', 'results');

/** '1': CPU profiles (.cpuprofile); 'heap': allocation sampling (.heapprofile, same DevTools). */
const PROFILE_MODE = process.env['SWEEP_BENCH_PROFILE'];
const PROFILE = PROFILE_MODE === '1' || PROFILE_MODE === 'heap';

/**
 * Start the V8 sampling profiler of this thread (CPU, or allocations with
 * SWEEP_BENCH_PROFILE=heap); the returned function stops it and writes `file`.
 */
async function startProfiler(file: string): Promise<() => Promise<void>> {
  const session = new Session();
  session.connect();
  const post = (method: string, params?: object): Promise<unknown> =>
    new Promise((ok, fail) => session.post(method, params, (e, r) => (e ? fail(e) : ok(r))));
  const heap = PROFILE_MODE === 'heap';
  if (heap)
    await post('HeapProfiler.startSampling', {
      samplingInterval: 4096,
      includeObjectsCollectedByMajorGC: true,
      includeObjectsCollectedByMinorGC: true,
    });
  else {
    await post('Profiler.enable');
    await post('Profiler.setSamplingInterval', { interval: 200 });
    await post('Profiler.start');
  }
  return async () => {
    const { profile } = (await post(heap ? 'HeapProfiler.stopSampling' : 'Profiler.stop')) as {
      profile: unknown;
    };
    mkdirSync(RESULTS, { recursive: true });
    writeFileSync(
      join(RESULTS, heap ? file.replace(/\.cpuprofile$/, '.heapprofile') : file),
      JSON.stringify(profile),
    );
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

/** What the measured child reports: the shards' counts summed (ShardResult), and the figures. */
interface ChildResult extends Omit<ShardResult, 'finished'> {
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
  cpuPercent: number;
  /** Event-loop utilisation during the sweep: the main (sweep) thread and the farm's thread. */
  mainBusyPercent: number;
  farmBusyPercent: number;
  echoPerSec: number;
  /** Round trips/s of the sweep's wire pattern with no protocol code (wireFloorServer). */
  floorPerSec: number;
  /** The wire floor with every response delay 0 (one sweep thread only). */
  floorNoDelayPerSec?: number;
  /** The second sweep, `reads: 'all'` (absent with several sweepers or SWEEP_BENCH_FULL=0). */
  fullSweepMs?: number;
  fullRequests?: number;
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
  const rate = await rateOver(() => trips, 300, durationMs);
  running = false;
  await Promise.all(lanes);
  for (const sock of sockets) sock.destroy();
  return rate;
}

/** Events per second of `count()` over `durationMs`, after `warmupMs` of warm-up. */
async function rateOver(count: () => number, warmupMs: number, durationMs: number): Promise<number> {
  await new Promise((r) => setTimeout(r, warmupMs));
  const t0 = performance.now();
  const n0 = count();
  await new Promise((r) => setTimeout(r, durationMs));
  return Math.round(((count() - n0) * 1000) / (performance.now() - t0));
}

/**
 * The wire floor: the C12.18 exchange pattern of this sweep with no protocol code at all. Per
 * "device" a fresh TCP connection; per request the client writes 16 bytes (behind the 1-byte
 * ACK of the previous response, as the C12.18 client coalesces them), the server writes a
 * 1-byte ACK at once and a 64-byte response after the meter's response delay, and after the
 * last response the client writes its ACK and closes. The delay in ms rides in the request's
 * first byte (lane i takes meter i's profile delay), so the mix of delays is the fleet's.
 * Kernel + Node socket work of the sweep's own wire pattern: what the protocol stack adds
 * on top of it is sweep CPU minus this.
 */
async function wireFloorServer(): Promise<{ port: number; close: () => Promise<void> }> {
  const response = Buffer.alloc(64, 0x5a);
  const ack = Buffer.of(0x06);
  const server = net.createServer({ noDelay: true }, (sock) => {
    sock.on('error', () => undefined);
    sock.on('data', (d) => {
      // A lone 1-byte chunk is the client's final ACK; a request starts after its ACK byte.
      if (d.length < 2) return;
      const delay = d[d[0] === 0x06 ? 1 : 0]!;
      sock.write(ack);
      if (delay > 0) setTimeout(() => sock.destroyed || sock.write(response), delay);
      else sock.write(response);
    });
  });
  await new Promise<void>((r) => server.listen({ host: '127.0.0.1', port: 0 }, r));
  return {
    port: (server.address() as net.AddressInfo).port,
    close: () => new Promise((r) => server.close(() => r())),
  };
}

/** Clients of wireFloorServer: `lanes` lanes, each device after device, `perDevice` requests each. */
async function wireFloorRate(
  port: number,
  delays: readonly number[],
  perDevice: number,
  durationMs: number,
): Promise<number> {
  let trips = 0;
  let running = true;
  const lane = async (delay: number): Promise<void> => {
    const first = Buffer.alloc(16, 0x5a);
    first[0] = delay;
    const next = Buffer.alloc(17, 0x5a);
    next[0] = 0x06;
    next[1] = delay;
    while (running) {
      const sock = net.connect({ host: '127.0.0.1', port, noDelay: true });
      sock.on('error', () => undefined);
      await new Promise<void>((r) => sock.once('connect', r));
      let got = 0;
      let wake: (() => void) | undefined;
      sock.on('data', (d) => {
        got += d.length;
        if (got >= 65 && wake) {
          got -= 65;
          const w = wake;
          wake = undefined;
          w();
        }
      });
      for (let i = 0; i < perDevice && running; i++) {
        await new Promise<void>((r) => {
          wake = r;
          sock.write(i === 0 ? first : next);
        });
        trips++;
      }
      sock.end(Buffer.of(0x06));
      sock.destroy();
    }
  };
  const lanes = delays.map(lane);
  const rate = await rateOver(() => trips, 500, durationMs);
  running = false;
  await Promise.all(lanes);
  return rate;
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
async function sweepShard(
  manifest: Manifest,
  shard: Shard,
  concurrency: number,
  reads: InterrogationReads = DEFAULT_SWEEP_READS,
): Promise<ShardResult> {
  const ruleset = await loadBuiltinRuleset('mehrs-5.0');
  const r = await runSweep({
    manifest,
    ruleset,
    eligibleProducts: buildDemoProducts(manifest),
    sessionFactory: c1218SessionFactory(),
    concurrency,
    reads,
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
  | { op: 'floor'; port: number; delays: number[]; perDevice: number; ms: number }
  | { op: 'sweep'; manifest: Manifest; shard: Shard; concurrency: number };
type SweeperReply =
  { op: 'echo'; rate: number } | { op: 'floor'; rate: number } | { op: 'sweep'; result: ShardResult };

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
    else if (req.op === 'floor')
      void wireFloorRate(req.port, req.delays, req.perDevice, req.ms).then((rate) =>
        parentPort!.postMessage({ op: 'floor', rate } satisfies SweeperReply),
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
  floorPort: number;
  answered(): Promise<number>;
  /** Event-loop utilisation of the thread the farm runs on (busy share of its time). */
  elu(): EventLoopUtilization;
  stop(): Promise<number>;
}

type FarmRequest = { op: 'answered' } | { op: 'stop' };
type FarmReply =
  | { op: 'started'; manifest: Manifest; startMs: number; echoPort: number; floorPort: number }
  | { op: 'answered'; n: number }
  | { op: 'stopped'; ms: number };

async function startFarmHere(): Promise<FarmSide & { serve?: never }> {
  const metrics = new CountingMetrics();
  const t0 = performance.now();
  const { spec } = loadDemoFleet();
  const farm = await startFarm({ fleet: scaleFleet({ ...spec, fleet: 'bench' }, METERS), metrics });
  const startMs = Math.round(performance.now() - t0);
  const echo = await echoServer();
  const floor = await wireFloorServer();
  return {
    manifest: farm.manifest,
    startMs,
    echoPort: echo.port,
    floorPort: floor.port,
    answered: () => Promise.resolve(metrics.answered),
    elu: () => performance.eventLoopUtilization(),
    stop: async () => {
      const t = performance.now();
      await farm.stop();
      await echo.close();
      await floor.close();
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
    floorPort: s.floorPort,
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
      floorPort: side.floorPort,
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

  // The wire floor, lane i with meter i's response delay, split over the threads like the echo.
  const delayOf = new Map<string, number>();
  const delays = Array.from({ length: CONCURRENCY }, (_, i) => {
    const id = side.manifest.meters[i % side.manifest.meters.length]!.profile;
    if (!delayOf.has(id)) delayOf.set(id, loadProfile(id).profile.timing.responseDelayMs);
    return delayOf.get(id)!;
  });
  const laneDelays = (t: number): number[] => delays.filter((_, i) => i % SWEEPERS === t);
  const floorRates = await Promise.all([
    wireFloorRate(side.floorPort, laneDelays(0), FLOOR_REQUESTS_PER_DEVICE, 3000),
    ...sweepers.map((w, i) =>
      w
        .ask<Extract<SweeperReply, { op: 'floor' }>>({
          op: 'floor',
          port: side.floorPort,
          delays: laneDelays(i + 1),
          perDevice: FLOOR_REQUESTS_PER_DEVICE,
          ms: 3000,
        })
        .then((r) => r.rate),
    ),
  ]);
  const floorPerSec = floorRates.reduce((a, b) => a + b, 0);
  // The same pattern with no response delay: the CPU cost of the pattern alone (this thread).
  const floorNoDelayPerSec =
    SWEEPERS === 1
      ? await wireFloorRate(
          side.floorPort,
          delays.map(() => 0),
          FLOOR_REQUESTS_PER_DEVICE,
          3000,
        )
      : undefined;

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

  // The same farm swept again reading every field (prepayment, clock: `--reads all`), for the
  // cost of a full audit next to the issue's sweep (identify, log on, read the card, evaluate).
  let full: { sweepMs: number; requests: number } | undefined;
  if (SWEEPERS === 1 && process.env['SWEEP_BENCH_FULL'] !== '0') {
    const t2 = performance.now();
    await sweepShard(side.manifest, { index: 0, count: 1 }, CONCURRENCY, 'all');
    full = {
      sweepMs: Math.round(performance.now() - t2),
      requests: (await side.answered()) - requests0 - requests,
    };
  }
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
    floorPerSec,
    ...(floorNoDelayPerSec !== undefined ? { floorNoDelayPerSec } : {}),
    ...(full ? { fullSweepMs: full.sweepMs, fullRequests: full.requests } : {}),
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
  h.record(
    'sweep.cpu_us_per_request',
    Math.round(((r.cpuPercent / 100) * r.sweepMs * 1000) / r.requests),
    'µs',
    'process CPU (farm + sweep + GC threads) per PSEM request answered; steadier than wall time on a shared machine',
  );
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
  h.record(
    'wire_floor.round_trips_per_s',
    r.floorPerSec,
    'rt/s',
    `the sweep's C12.18 wire pattern with no protocol code (connection per device, ${FLOOR_REQUESTS_PER_DEVICE} requests, ` +
      `ACK + delayed response, the fleet's response delays), ${r.concurrency} lanes, same threads`,
  );
  if (r.fullSweepMs !== undefined && r.fullRequests !== undefined) {
    h.record(
      'sweep_full.wall_ms',
      r.fullSweepMs,
      'ms',
      'the same farm swept again with `--reads all` (every field)',
    );
    h.record('sweep_full.requests_per_device', Math.round((r.fullRequests / r.meters) * 10) / 10, 'requests');
    h.ratio('sweep_full.vs_sweep', r.fullSweepMs, r.sweepMs, 'full-read sweep wall / the sweep wall');
  }
  if (r.floorNoDelayPerSec !== undefined) {
    h.record(
      'wire_floor_no_delay.round_trips_per_s',
      r.floorNoDelayPerSec,
      'rt/s',
      'the same pattern with no response delay: what the pattern itself costs the kernel and Node',
    );
    h.ratio(
      'wire_floor_no_delay.vs_echo',
      r.floorNoDelayPerSec,
      r.echoPerSec,
      'the delay-free wire pattern / echo',
    );
  }
  h.record('farm.stop_ms', r.stopMs, 'ms');
  h.ratio(
    'sweep.rt_vs_echo',
    r.requestsPerSec,
    r.echoPerSec,
    'sweep request round trips/s / raw TCP echo round trips/s; target ≥ 0.5',
  );
  h.ratio(
    'wire_floor.vs_echo',
    r.floorPerSec,
    r.echoPerSec,
    'the wire pattern alone / raw TCP echo: the most any C12.18 stack could reach on rt_vs_echo',
  );
  h.ratio(
    'sweep.rt_vs_wire_floor',
    r.requestsPerSec,
    r.floorPerSec,
    'sweep request round trips/s / the same wire pattern with no protocol code',
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
