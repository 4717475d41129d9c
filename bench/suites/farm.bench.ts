/**
 * Farm start-up at scale (docs/farm.md "Performance and Kubernetes"): 10,000 idle meters over TCP in one
 * process, each on its own 127.0.0.1 port-0 listener, with the probe protocol and in-memory
 * state. Budget: ≤ 512 MB RSS added and ≤ 10 s to start (generation + state + listeners).
 *
 * Measured twice: with in-memory state, and with SQLite state in a fresh --state directory
 * (what `smets1-sim farm --state DIR` runs). Each measurement runs in a fresh child process so
 * that one does not inherit the other's heap. The same-run baseline is 10,000 bare `net.Server`
 * listeners opened 64 at a time (as the farm does): the farm's cost over the kernel's and
 * Node's minimum for a listening socket.
 */
import { fork } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { validateFleetSpec } from '../../src/farm/fleet-spec';
import { generateFleet } from '../../src/farm/generator';
import { DEFAULT_BEHAVIOUR } from '../../src/device/behaviour';
import { staticProfileResolver } from '../../src/farm/farm-profile';
import { probeServerFactory } from '../../src/farm/probe-server';
import { Farm } from '../../src/farm/runtime';
import { connect } from '../../src/transport/open';
import type { BenchHarness } from '../harness';

const METERS = 10_000;
const CHILD_FLAG = 'farm-bench-child';

interface FarmResult {
  mode: 'farm' | 'farm-sqlite';
  generateMs: number;
  startMs: number;
  stopMs: number;
  rssAddedMb: number;
  heapUsedMb: number;
  pingOk: number;
}

interface RawResult {
  mode: 'raw';
  startMs: number;
  rssAddedMb: number;
}

const mb = (bytes: number): number => Math.round((bytes / 2 ** 20) * 10) / 10;

/** A profile built in code, so the bench does not depend on firmware-profiles/ contents. */
const profiles = staticProfileResolver([
  {
    id: 'bench-esme',
    deviceType: 'ESME',
    identity: {
      manufacturer: 'Secure',
      model: 'Liberty 100',
      applicationFirmwareId: 'P4X2G04',
      metrologyFirmwareId: 'B2-00',
      serialPrefix: 'SL',
    },
    accessLevels: [
      { name: 'reader', userId: 0, secretHex: '00'.repeat(20) },
      { name: 'engineering', userId: 2, secretHex: '303030303030' },
    ],
    issuerPrefixes: { SUPA: '9826176001', SUPB: '9826176066' },
    behaviour: DEFAULT_BEHAVIOUR,
  },
]);

async function farmChild(sqlite: boolean): Promise<FarmResult> {
  const stateDir = sqlite ? mkdtempSync(join(tmpdir(), 'farm-bench-')) : undefined;
  const rss0 = process.memoryUsage().rss;
  const t0 = performance.now();
  const plan = generateFleet(
    validateFleetSpec({
      fleet: 'bench',
      seed: 'bench-1',
      groups: [
        {
          name: 'esme',
          profile: 'bench-esme',
          count: METERS,
          transport: { kind: 'tcp-listen', host: '127.0.0.1', portStart: 0 },
          cohort: 'MOC Secure',
          suppliers: [{ id: 'SUPA' }, { id: 'SUPB' }],
          foreignCardShare: 0.1,
        },
      ],
    }),
    profiles,
  );
  const t1 = performance.now();
  const farm = await Farm.start({
    plan,
    profiles,
    factory: probeServerFactory,
    ...(stateDir ? { stateDir } : {}),
  });
  const t2 = performance.now();
  const rss1 = process.memoryUsage().rss;
  const heap = process.memoryUsage().heapUsed;
  // Sanity: the farm answers (a sample of meters across the port range).
  let pingOk = 0;
  const manifest = farm.manifest();
  for (let i = 0; i < manifest.meters.length; i += 500) {
    const t = await connect(manifest.meters[i]!.endpoint.connect);
    const reply = new Promise<string>((resolve) => t.once('data', (b) => resolve(b.toString('latin1'))));
    await t.write(Buffer.from('PING\n'));
    if ((await reply) === 'PONG\n') pingOk++;
    await t.close();
  }
  const t3 = performance.now();
  await farm.stop();
  const t4 = performance.now();
  if (stateDir) rmSync(stateDir, { recursive: true, force: true });
  return {
    mode: sqlite ? 'farm-sqlite' : 'farm',
    generateMs: Math.round(t1 - t0),
    startMs: Math.round(t2 - t0),
    stopMs: Math.round(t4 - t3),
    rssAddedMb: mb(rss1 - rss0),
    heapUsedMb: mb(heap),
    pingOk,
  };
}

async function rawChild(): Promise<RawResult> {
  const rss0 = process.memoryUsage().rss;
  const t0 = performance.now();
  const servers: net.Server[] = [];
  for (let i = 0; i < METERS; i += 64) {
    const batch = Array.from({ length: Math.min(64, METERS - i) }, () => net.createServer());
    await Promise.all(
      batch.map((s) => new Promise<void>((resolve) => s.listen({ host: '127.0.0.1', port: 0 }, resolve))),
    );
    servers.push(...batch);
  }
  const startMs = Math.round(performance.now() - t0);
  const rssAddedMb = mb(process.memoryUsage().rss - rss0);
  await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
  return { mode: 'raw', startMs, rssAddedMb };
}

function runChild<T>(mode: 'farm' | 'farm-sqlite' | 'raw'): Promise<T> {
  return new Promise((resolve, reject) => {
    const child = fork(__filename, [CHILD_FLAG, mode], { stdio: 'inherit' });
    child.once('message', (m) => resolve(m as T));
    child.once('error', reject);
    child.once('exit', (code) => {
      if (code !== 0) reject(new Error(`farm bench child (${mode}) exited with ${code}`));
    });
  });
}

if (process.argv[2] === CHILD_FLAG) {
  const mode = process.argv[3];
  const work = mode === 'raw' ? rawChild() : farmChild(mode === 'farm-sqlite');
  work
    .then((r) => process.send?.(r, () => process.exit(0)))
    .catch((e: unknown) => {
      console.error(e);
      process.exit(1);
    });
}

export default async function run(h: BenchHarness): Promise<void> {
  const raw = await runChild<RawResult>('raw');
  const mem = await runChild<FarmResult>('farm');
  const sql = await runChild<FarmResult>('farm-sqlite');
  h.log(`${METERS} meters on tcp-listen 127.0.0.1:0, probe protocol; state in memory, then in SQLite`);
  h.record('raw10k.listen_ms', raw.startMs, 'ms', 'bare net.Server listeners, 64 at a time');
  h.record('raw10k.rss_added_mb', raw.rssAddedMb, 'MB');
  for (const [name, r] of [
    ['farm10k', mem],
    ['farm10k_sqlite', sql],
  ] as const) {
    h.record(`${name}.generate_ms`, r.generateMs, 'ms', 'fleet generation (identities, shares, endpoints)');
    h.record(
      `${name}.start_ms`,
      r.startMs,
      'ms',
      'generation + state + listeners + servers; budget 10,000 ms',
    );
    h.record(`${name}.rss_added_mb`, r.rssAddedMb, 'MB', 'RSS after start minus before; budget 512 MB');
    h.record(`${name}.heap_used_mb`, r.heapUsedMb, 'MB');
    h.record(`${name}.stop_ms`, r.stopMs, 'ms', 'graceful stop: listeners, servers, state');
    h.record(`${name}.ping_ok`, r.pingOk, 'meters', `of ${Math.ceil(METERS / 500)} sampled`);
    h.ratio(`${name}.rss_vs_raw`, r.rssAddedMb, raw.rssAddedMb, 'farm RSS added / bare listeners RSS added');
    h.ratio(`${name}.start_vs_raw`, r.startMs, raw.startMs, 'farm start / bare listeners start');
    h.ratio(`${name}.rss_vs_budget`, r.rssAddedMb, 512, 'farm RSS added / 512 MB budget');
    h.ratio(`${name}.start_vs_budget`, r.startMs, 10_000, 'farm start / 10 s budget');
  }
}
