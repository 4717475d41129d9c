import { EventEmitter } from 'node:events';
import { systemClock } from '../../src/core/clock';
import { C1218Client } from '../../src/protocols/c1218/client';
import { encodePacket } from '../../src/protocols/c1218/packet';
import { PacketFramer } from '../../src/protocols/c1218/packet-framer';
import { encodeRequest, padField } from '../../src/protocols/c1218/psem-requests';
import { C1218Server } from '../../src/protocols/c1218/server';
import {
  PsemCode,
  type AuthResult,
  type SessionAccess,
  type TableReadResult,
  type TableServer,
  type TableWriteResult,
} from '../../src/protocols/c1219/contract';
import { createMemPair } from '../../src/transport/mem';
import { connectTcp, listenTcp } from '../../src/transport/tcp';
import {
  DEFAULT_LINE,
  type ControlLines,
  type LineSettings,
  type Transport,
  type TransportEvents,
  type TransportInfo,
} from '../../src/transport/types';
import type { BenchHarness } from '../harness';

/**
 * C12.18 figures (task acceptance): server CPU per read request of a 64-byte table (median,
 * target < 20 µs incl. framer + link + session), with a trivial table server and with a
 * map-backed one that checks access and copies like a real engine; full identify+read sessions
 * per second over mem and tcp; ratios against raw transport round trips in the same run.
 */

const TABLE = Buffer.alloc(64, 0x5a);

/** Returns the same 64 bytes for any read: the protocol cost alone. */
class TrivialTables implements TableServer {
  read(): Promise<TableReadResult> {
    return Promise.resolve({ code: PsemCode.ok, data: TABLE });
  }
  write(): Promise<TableWriteResult> {
    return Promise.resolve({ code: PsemCode.ok });
  }
  authenticate(): Promise<AuthResult> {
    return Promise.resolve({ ok: true, groups: 1 });
  }
}

/** A map of tables with per-table read rights and a copy per read, like a small engine. */
class MapTables implements TableServer {
  private readonly tables = new Map<number, Buffer>([
    [0, Buffer.alloc(24)],
    [1, Buffer.alloc(32, 0x41)],
    [2049, Buffer.from(TABLE)],
  ]);
  private readonly secret = new Set<number>([2050]);
  read(
    tableId: number,
    range: { offset: number; count: number } | undefined,
    access: SessionAccess,
  ): Promise<TableReadResult> {
    const t = this.tables.get(tableId);
    if (!t) return Promise.resolve({ code: PsemCode.iar });
    if (this.secret.has(tableId) && (access.groups & 1) === 0) return Promise.resolve({ code: PsemCode.isc });
    const data = range ? t.subarray(range.offset, range.offset + range.count) : t;
    return Promise.resolve({ code: PsemCode.ok, data: Buffer.from(data) });
  }
  write(): Promise<TableWriteResult> {
    return Promise.resolve({ code: PsemCode.isc });
  }
  authenticate(): Promise<AuthResult> {
    return Promise.resolve({ ok: true, groups: 1 });
  }
}

/** A transport whose writes go nowhere: the server's own cost, no I/O. */
class SinkTransport extends EventEmitter<TransportEvents> implements Transport {
  readonly info: TransportInfo = { kind: 'mem', uri: 'mem:bench-sink', path: 'bench-sink' };
  readonly isOpen = true;
  lastWrite: Buffer | undefined;
  write(data: Uint8Array): Promise<void> {
    this.lastWrite = data as Buffer;
    return Promise.resolve();
  }
  close(): Promise<void> {
    return Promise.resolve();
  }
  getLineSettings(): LineSettings {
    return { ...DEFAULT_LINE };
  }
  setLineSettings(): Promise<void> {
    return Promise.resolve();
  }
  setControlLines(_lines: ControlLines): Promise<void> {
    return Promise.resolve();
  }
}

const ACK = Buffer.of(0x06);
const packet = (toggle: number, psem: Buffer): Buffer => encodePacket(toggle ? 0x20 : 0, 0, psem);

/** Bring a server to a logged-on session, then time read requests (ACK + request, T style). */
async function serverReadCost(h: BenchHarness, tables: TableServer, label: string): Promise<number> {
  const t = new SinkTransport();
  const server = new C1218Server({ transport: t, tables, options: { packetSize: 1024 } });
  const feed = async (bytes: Buffer): Promise<void> => {
    t.emit('data', bytes);
    await server.idle();
  };
  await feed(packet(0, encodeRequest({ service: 'ident' })));
  await feed(
    Buffer.concat([
      ACK,
      packet(1, encodeRequest({ service: 'negotiate', packetSize: 1024, maxPackets: 8, baudCodes: [6] })),
    ]),
  );
  await feed(
    Buffer.concat([
      ACK,
      packet(0, encodeRequest({ service: 'logon', userId: 0, user: padField('bench', 10, 0x20) })),
    ]),
  );
  await feed(
    Buffer.concat([ACK, packet(1, encodeRequest({ service: 'security', password: Buffer.alloc(20) }))]),
  );
  const reads = [0, 1].map((tg) =>
    Buffer.concat([ACK, packet(tg, encodeRequest({ service: 'read', tableId: 2049 }))]),
  );
  let i = 0;
  const stats = await h.measureAsync(() => feed(reads[i++ & 1]!), { iterations: 20_000, warmup: 2_000 });
  // Sanity: the last thing written is a 64-byte read response (4 + 64 PSEM bytes in a packet).
  if (t.lastWrite?.length !== 64 + 4 + 8) throw new Error(`unexpected response size ${t.lastWrite?.length}`);
  h.recordStats(`server.read64.${label}`, stats);
  await server.close();
  return stats.medianUs;
}

/** One ident + negotiate + logon + read + terminate session; 5 request/response exchanges. */
async function session(client: C1218Client): Promise<void> {
  await client.ident();
  await client.negotiate({ packetSize: 1024, maxPackets: 8 });
  await client.logon(0, 'bench');
  const data = await client.readTable(2049);
  if (data.length !== 64) throw new Error('bad read');
  await client.terminate();
}

export default async function run(h: BenchHarness): Promise<void> {
  // Baselines: the framer alone on one read request, and a raw mem echo round trip.
  const framer = new PacketFramer();
  const readPacket = packet(0, encodeRequest({ service: 'read', tableId: 2049 }));
  const framerCpu = h.cpuPerCall(() => void framer.push(readPacket), 200_000);
  h.record('framer.read_request_cpu_us', framerCpu, 'us');

  const [ea, eb] = createMemPair();
  eb.on('data', (d) => void eb.write(d));
  const echoBytes = Buffer.alloc(64 + 12, 1);
  const echo = await h.measureAsync(
    () =>
      new Promise<void>((resolve) => {
        ea.once('data', () => resolve());
        void ea.write(echoBytes);
      }),
    { iterations: 5_000, warmup: 500 },
  );
  h.recordStats('mem.echo76B', echo);
  await ea.close();

  const trivial = await serverReadCost(h, new TrivialTables(), 'trivial_tables');
  const mapped = await serverReadCost(h, new MapTables(), 'map_tables');
  h.ratio('server.read64.trivial_vs_target', trivial, 20, 'median µs per 64-byte read / 20 µs target');
  h.ratio('server.read64.map_vs_trivial', mapped, trivial, 'map-backed table server / trivial table server');
  h.ratio(
    'server.read64.trivial_vs_mem_echo',
    trivial,
    echo.medianUs,
    'server read cost / raw mem echo round trip',
  );

  // Sessions over mem.
  {
    const [a, b] = createMemPair();
    const server = new C1218Server({ transport: b, tables: new MapTables(), options: { packetSize: 1024 } });
    const client = new C1218Client(a, { clock: systemClock });
    const stats = await h.measureAsync(() => session(client), { iterations: 1_000, warmup: 100 });
    h.recordStats('session.mem', stats);
    h.record('session.mem.exchanges_per_s', Math.round(stats.opsPerSec * 5), 'exchanges/s');
    h.ratio('session.mem.vs_echo', stats.meanUs / 5, echo.meanUs, 'mean µs per exchange / mean mem echo');
    client.close();
    await server.close();
    await a.close();
  }

  // Sessions over tcp (loopback), and a raw tcp echo for the ratio.
  {
    const listener = await listenTcp('127.0.0.1', 0);
    const port = listener.port;
    const served: C1218Server[] = [];
    listener.on('connection', (t) => served.push(new C1218Server({ transport: t, tables: new MapTables() })));
    const t = await connectTcp('127.0.0.1', port);
    const client = new C1218Client(t, { clock: systemClock });
    const stats = await h.measureAsync(() => session(client), { iterations: 500, warmup: 50 });
    h.recordStats('session.tcp', stats);
    h.record('session.tcp.exchanges_per_s', Math.round(stats.opsPerSec * 5), 'exchanges/s');
    client.close();
    await t.close();
    for (const s of served) await s.close();
    await listener.close();

    const echoListener = await listenTcp('127.0.0.1', 0);
    echoListener.on('connection', (s) => s.on('data', (d) => void s.write(d)));
    const e = await connectTcp('127.0.0.1', echoListener.port);
    const tcpEcho = await h.measureAsync(
      () =>
        new Promise<void>((resolve) => {
          e.once('data', () => resolve());
          void e.write(echoBytes);
        }),
      { iterations: 2_000, warmup: 200 },
    );
    h.recordStats('tcp.echo76B', tcpEcho);
    h.ratio('session.tcp.vs_echo', stats.meanUs / 5, tcpEcho.meanUs, 'mean µs per exchange / mean tcp echo');
    await e.close();
    await echoListener.close();
  }
}
