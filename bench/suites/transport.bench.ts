import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { systemClock } from '../../src/core/clock';
import { withLine } from '../../src/transport/line';
import { createMemPair } from '../../src/transport/mem';
import { createPty } from '../../src/transport/pty';
import { openSerial } from '../../src/transport/serial';
import { connectTcp, listenTcp, type TcpListener } from '../../src/transport/tcp';
import type { Transport } from '../../src/transport/types';
import type { BenchHarness, Stats } from '../harness';

/**
 * Transport figures (the bench/transport): round trips per second and p50/p99 latency of
 * a 32-byte frame echoed by the other end, for mem, tcp and pty, one frame in flight; RSS added
 * per 1,000 TCP listeners; pacing accuracy on the real clock. Compare with docs/stack.md §2d
 * (TCP 20 µs median, pty ≈ 17× TCP, +26 MB per 1,000 TCP ports with connections).
 */

const FRAME = 32;

/** The far end echoes everything; the near end awaits each full echo. */
function echoRoundTrip(near: Transport, far: Transport): () => Promise<void> {
  far.on('data', (chunk) => {
    far.write(chunk).catch(() => undefined);
  });
  const frame = Buffer.alloc(FRAME, 0x5a);
  let waiting: (() => void) | undefined;
  let got = 0;
  near.on('data', (chunk) => {
    got += chunk.length;
    if (got >= FRAME && waiting) {
      got -= FRAME;
      const w = waiting;
      waiting = undefined;
      w();
    }
  });
  return () =>
    new Promise<void>((resolve, reject) => {
      waiting = resolve;
      near.write(frame).catch(reject);
    });
}

async function measure(
  h: BenchHarness,
  name: string,
  rt: () => Promise<void>,
  iterations: number,
): Promise<Stats> {
  const s = await h.measureAsync(rt, { iterations, warmup: Math.min(500, iterations / 4) });
  h.recordStats(`${name}.rt32`, s);
  h.log(
    `${name}: ${Math.round(s.opsPerSec)} round trips/s, p50 ${s.medianUs.toFixed(1)} µs, p99 ${s.p99Us.toFixed(1)} µs`,
  );
  return s;
}

function memory(): { rss: number; heap: number } {
  const g = (globalThis as { gc?: () => void }).gc;
  g?.();
  const m = process.memoryUsage();
  return { rss: m.rss / 2 ** 20, heap: m.heapUsed / 2 ** 20 };
}

export default async function run(h: BenchHarness): Promise<void> {
  // mem
  const [ma, mb] = createMemPair();
  const mem = await measure(h, 'mem', echoRoundTrip(ma, mb), 20_000);
  await ma.close();

  // tcp
  const l = await listenTcp('127.0.0.1', 0);
  const accepted = new Promise<Transport>((r) => l.once('connection', r));
  const tc = await connectTcp('127.0.0.1', l.port);
  const ts = await accepted;
  const tcp = await measure(h, 'tcp', echoRoundTrip(tc, ts), 20_000);
  await tc.close();
  await l.close();

  // pty: the simulator holds the master, the client opens the link like any tty (no pacing).
  const dir = mkdtempSync(join(tmpdir(), 'smets1-bench-'));
  try {
    const pl = await createPty(join(dir, 'meter'), { baudPollMs: 0 });
    const pc = await openSerial(join(dir, 'meter'), { kind: 'pty' });
    const pty = await measure(h, 'pty', echoRoundTrip(pc, pl.transport), 5_000);
    await pc.close();
    await pl.close();
    h.ratio(
      'pty_vs_tcp.median',
      pty.medianUs,
      tcp.medianUs,
      'pty median round trip / tcp median (stack.md: ~17x)',
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  h.ratio('tcp_vs_mem.median', tcp.medianUs, mem.medianUs, 'tcp median round trip / mem median');

  // RSS added per 1,000 idle TCP listeners (a farm's meters waiting for clients).
  const before = memory();
  const listeners: TcpListener[] = [];
  for (let i = 0; i < 1000; i++) listeners.push(await listenTcp('127.0.0.1', 0));
  const after = memory();
  const rss = after.rss - before.rss;
  const heap = after.heap - before.heap;
  h.record('tcp.listeners_1000.rss_added_mib', Math.round(rss * 10) / 10, 'MiB');
  h.record('tcp.listeners_1000.heap_added_mib', Math.round(heap * 10) / 10, 'MiB');
  const gcNote = (globalThis as { gc?: unknown }).gc ? '' : ' (run with --expose-gc for steadier figures)';
  h.log(`1,000 TCP listeners: +${rss.toFixed(1)} MiB RSS, +${heap.toFixed(1)} MiB JS heap${gcNote}`);
  await Promise.all(listeners.map((x) => x.close()));

  // Pacing on the real clock: 960 characters at 9600 8N1 should take exactly 1 s.
  const [pa, pb] = createMemPair();
  const paced = withLine(pa, { pace: true }, systemClock);
  let received = 0;
  const done = new Promise<void>((r) =>
    pb.on('data', (c) => {
      received += c.length;
      if (received >= 960) r();
    }),
  );
  // The system clock's timers are unref'd (a CLI must not hang on them) and a mem pair holds no
  // handle, so keep the process alive while the paced bytes trickle out.
  const keepAlive = setInterval(() => undefined, 1000);
  const t0 = performance.now();
  await paced.write(Buffer.alloc(960, 0x41));
  await done;
  const elapsed = performance.now() - t0;
  clearInterval(keepAlive);
  h.record('pace.9600_8N1.960B_ms', Math.round(elapsed * 10) / 10, 'ms', 'ideal 1000 ms');
  h.record('pace.9600_8N1.error_pct', Math.round(((elapsed - 1000) / 1000) * 10000) / 100, '%');
  await paced.close();
}
