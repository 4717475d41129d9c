import { ManualClock } from '../../../src/core/clock';
import { C1218Client, type C1218ClientOptions } from '../../../src/protocols/c1218/client';
import { C1218Server, type C1218ServerOptions } from '../../../src/protocols/c1218/server';
import type { C1218TraceEntry } from '../../../src/protocols/c1218/trace';
import { createMemPair } from '../../../src/transport/mem';
import type { Transport } from '../../../src/transport/types';
import { FakeTables } from './fake-tables';

/**
 * Run `work` while moving a ManualClock forward in small steps, one event-loop turn per step, so
 * that in-memory transports (setImmediate delivery) and link timers interleave deterministically:
 * a round trip costs a few virtual milliseconds, a lost ACK costs the real 2 s timeout.
 */
export async function drive<T>(
  clock: ManualClock,
  work: Promise<T>,
  stepMs = 1,
  maxMs = 120_000,
): Promise<T> {
  let outcome: { ok: true; value: T } | { ok: false; error: unknown } | undefined;
  // Settle into a value at once, so a rejection is never left unhandled while the clock runs.
  const watched = work.then(
    (value) => (outcome = { ok: true, value }),
    (error: unknown) => (outcome = { ok: false, error }),
  );
  for (let t = 0; !outcome && t < maxMs; t += stepMs) await clock.advanceAsync(stepMs);
  await Promise.race([watched, Promise.resolve()]);
  const result = outcome as typeof outcome;
  if (!result) throw new Error(`drive: still pending after ${maxMs} virtual ms`);
  if (!result.ok) throw result.error;
  return result.value;
}

export interface MemSession {
  clock: ManualClock;
  tables: FakeTables;
  server: C1218Server;
  client: C1218Client;
  serverEnd: Transport;
  clientEnd: Transport;
  trace: C1218TraceEntry[];
}

export function memSession(
  opts: {
    server?: C1218ServerOptions;
    client?: C1218ClientOptions;
    tables?: FakeTables;
    wrapClient?: (t: Transport) => Transport;
    maxChunk?: number;
  } = {},
): MemSession {
  const clock = new ManualClock();
  const [a, b] = createMemPair(opts.maxChunk ? { maxChunk: opts.maxChunk } : {});
  const tables = opts.tables ?? new FakeTables();
  const server = new C1218Server({ transport: b, tables, clock, options: opts.server ?? {} });
  const trace: C1218TraceEntry[] = [];
  const clientEnd = opts.wrapClient ? opts.wrapClient(a) : a;
  const client = new C1218Client(clientEnd, { clock, trace: (e) => trace.push(e), ...opts.client });
  return { clock, tables, server, client, serverEnd: b, clientEnd, trace };
}

export const PASSWORD = 'secret-password-0001';
