/**
 * kill -9 in a loop (docs/device.md "Storage durability"): a child process hammers card
 * set/clear operations on a SQLite store; the parent SIGKILLs it at a random moment, reopens
 * the database and checks every meter:
 *   - every write the child acknowledged (printed after the operation returned) is there;
 *   - no torn record: a card record is whole, never present without its Site ID;
 *   - state and events were committed together: the newest event is the one the state's
 *     card presence implies, and event seqs are contiguous up to state.eventSeq.
 * 200 kills, alternating synchronous=FULL and NORMAL (both must survive a process kill).
 */
import { transformFileSync } from '@swc/core';
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { Meter } from '../../src/device/meter';
import { invariantViolations } from '../../src/device/invariants';
import { SqliteMeterStore } from '../../src/device/storage/sqlite-store';
import { esme } from './fixtures';
import { KILL_TEST_EVENT_BOUND } from './kill-child';

const ITERATIONS = 200;
const METERS = 8;
const repo = resolve(__dirname, '..', '..');

/**
 * The child must run from a clean checkout with no build step. Transpile the few sources it
 * needs (src/core, src/device, the child script) once with @swc/core — the compiler jest uses
 * here — into a temp tree with the same layout, and let NODE_PATH resolve node_modules.
 * Compiling once, not in every child, keeps 200 spawns fast.
 */
function transpileChild(outDir: string): string {
  const files: string[] = [join(repo, 'test/device/kill-child.ts')];
  const walk = (d: string): void => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      if (e.isDirectory()) walk(join(d, e.name));
      else if (e.name.endsWith('.ts')) files.push(join(d, e.name));
    }
  };
  walk(join(repo, 'src/core'));
  walk(join(repo, 'src/device'));
  for (const f of files) {
    const { code } = transformFileSync(f, {
      jsc: { parser: { syntax: 'typescript' }, target: 'es2022' },
      module: { type: 'commonjs' },
    });
    const out = join(outDir, relative(repo, f)).replace(/\.ts$/, '.js');
    mkdirSync(dirname(out), { recursive: true });
    writeFileSync(out, code);
  }
  return join(outDir, 'test/device/kill-child.js');
}

let child = '';

interface RunResult {
  acked: Map<string, number>;
  sawReady: boolean;
  signal: NodeJS.Signals | null;
  stderr: string;
}

/**
 * Start the child and kill it either `earlyMs` after spawn (during start-up) or `jitterMs`
 * after its `afterAcks`-th acknowledgement. Counting acks rather than milliseconds makes every
 * kill land while operations are running, however loaded the machine is.
 */
function runAndKill(
  db: string,
  durability: string,
  seed: number,
  kill: { earlyMs: number } | { afterAcks: number; jitterMs: number },
): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, [child, db, durability, String(seed)], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, NODE_PATH: join(repo, 'node_modules') },
    });
    const acked = new Map<string, number>();
    let buffered = '';
    let sawReady = false;
    let stderr = '';
    let acks = 0;
    let armed = false;
    const killNow = (): void => {
      p.kill('SIGKILL');
    };
    const arm = (): void => {
      if (armed || !('afterAcks' in kill)) return;
      armed = true;
      setTimeout(killNow, kill.jitterMs);
    };
    if ('earlyMs' in kill) setTimeout(killNow, kill.earlyMs);
    p.stdout.setEncoding('utf8');
    p.stdout.on('data', (chunk: string) => {
      buffered += chunk;
      const lines = buffered.split('\n');
      buffered = lines.pop() ?? '';
      for (const line of lines) {
        if (line === 'ready') {
          sawReady = true;
          if ('afterAcks' in kill && kill.afterAcks === 0) arm();
          continue;
        }
        const [id, rev] = line.split(' ');
        if (id && rev) acked.set(id, Number(rev));
        if ('afterAcks' in kill && ++acks >= kill.afterAcks) arm();
      }
    });
    p.stderr.setEncoding('utf8');
    p.stderr.on('data', (c: string) => (stderr += c));
    p.on('error', reject);
    p.on('exit', (_code, signal) => resolve({ acked, sawReady, signal, stderr }));
  });
}

interface LaneResult {
  kills: number;
  killedMidRun: number;
  acks: number;
}

/**
 * One lane: its own database, `iterations` spawn/kill/check rounds. Two lanes run side by side
 * so the 200 kills use both cores of the CI machine.
 */
async function lane(db: string, iterations: number, seed: number): Promise<LaneResult> {
  const setup = new SqliteMeterStore(db);
  for (let i = 0; i < METERS; i++) Meter.create(esme(i), { store: setup });
  setup.close();

  const lastAcked = new Map<string, number>();
  const result: LaneResult = { kills: 0, killedMidRun: 0, acks: 0 };
  // A seeded schedule: 1 in 10 kills lands during start-up (open, WAL recovery).
  let s = seed;
  const next = (): number => (s = (s * 1103515245 + 12345) % 2 ** 31);

  for (let it = 0; it < iterations; it++) {
    const durability = it % 2 === 0 ? 'full' : 'process';
    const early = next() % 10 === 0;
    // fsync-per-commit runs are slow: fewer acks before the kill keeps rounds short.
    const kill = early
      ? { earlyMs: next() % 60 }
      : { afterAcks: next() % (durability === 'full' ? 8 : 40), jitterMs: next() % 4 };
    const r = await runAndKill(db, durability, seed * 1000 + it, kill);
    if (r.signal !== 'SIGKILL') throw new Error(`child exited on its own (${db} #${it}): ${r.stderr}`);
    result.kills++;
    if (r.sawReady) result.killedMidRun++;
    for (const [id, rev] of r.acked) {
      lastAcked.set(id, rev);
      result.acks++;
    }

    const store = new SqliteMeterStore(db);
    try {
      for (const st of store.loadAll()) {
        const where = { db, it, id: st.id };
        expect({ ...where, violations: invariantViolations(st) }).toEqual({ ...where, violations: [] });
        // Acknowledged writes survive (and stored revs never go backwards between runs).
        expect(st.rev).toBeGreaterThanOrEqual(lastAcked.get(st.id) ?? 0);
        // State and events in one transaction: contiguous seqs ending at eventSeq, bound kept.
        const events = store.events(st.id);
        const first = Math.max(1, st.eventSeq - KILL_TEST_EVENT_BOUND + 1);
        expect(events.map((e) => e.seq)).toEqual(
          Array.from({ length: st.eventSeq - first + 1 }, (_v, k) => first + k),
        );
        // Each op is one event, so rev and eventSeq move together (meter-created is seq 1, rev 0).
        expect(st.eventSeq).toBe(st.rev + 1);
        // The newest event is the one the state implies, naming the card the state holds.
        const newest = events.at(-1)!;
        if (st.eventSeq === 1) expect(newest.type).toBe('meter-created');
        else if (st.card)
          expect([newest.type, newest.data['paymentCardId']]).toEqual([
            'card-registered',
            st.card.paymentCardId,
          ]);
        else expect([newest.type, st.registration.siteId]).toEqual(['card-cleared', null]);
        lastAcked.set(st.id, st.rev);
      }
    } finally {
      store.close();
    }
  }
  return result;
}

describe('SQLite store under kill -9', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'smets1-kill-'));
    child = transpileChild(join(dir, 'js'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it(`keeps every acknowledged write and never tears a record across ${ITERATIONS} kills`, async () => {
    const lanes = await Promise.all([
      lane(join(dir, 'a.db'), ITERATIONS / 2, 12345),
      lane(join(dir, 'b.db'), ITERATIONS / 2, 67890),
    ]);
    const total = lanes.reduce((a, l) => ({
      kills: a.kills + l.kills,
      killedMidRun: a.killedMidRun + l.killedMidRun,
      acks: a.acks + l.acks,
    }));
    expect(total.kills).toBe(ITERATIONS);
    // The test must actually have killed running children that were acknowledging writes.
    expect(total.killedMidRun).toBeGreaterThan(ITERATIONS / 2);
    expect(total.acks).toBeGreaterThan(ITERATIONS);
  }, 240_000);
});
