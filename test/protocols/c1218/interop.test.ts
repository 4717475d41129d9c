import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ManualClock } from '../../../src/core/clock';
import { ErrorCode, SimError } from '../../../src/core/errors';
import { C1218Client } from '../../../src/protocols/c1218/client';
import { serveC1218 } from '../../../src/protocols/c1218/server';
import type { C1218TraceEntry } from '../../../src/protocols/c1218/trace';
import { connect, listen, withLine, type LineTransport } from '../../../src/transport';
import type { Listener, Transport } from '../../../src/transport/types';
import { FakeTables } from './fake-tables';
import { PASSWORD, drive, memSession } from './harness';

/**
 * Our client against our server over every transport (acceptance: mem, tcp and pty), with a
 * 2 KiB multi-packet read at packet size 64, a procedure, and a session that times out
 * mid-way. I/O is real on tcp and pty; the meter's timers run on a ManualClock so the
 * channel-traffic timeout is driven, not waited for.
 */

/** Wait (real time, bounded) for a condition that real I/O will make true. */
async function until(cond: () => boolean, maxMs = 5000): Promise<void> {
  const end = Date.now() + maxMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error('until: condition not met');
    await new Promise((r) => setTimeout(r, 1));
  }
}

const big = Buffer.from(Array.from({ length: 2048 }, (_, i) => (i * 31 + 7) & 0xff));

interface Rig {
  listener: Listener;
  clientUri: string;
  clientOptions?: Parameters<typeof connect>[1];
}

const rigs: [string, () => Promise<Rig>][] = [
  [
    'mem',
    async () => {
      const name = `c1218-interop-${process.pid}`;
      return { listener: await listen(`mem:${name}`), clientUri: `mem:${name}` };
    },
  ],
  [
    'tcp',
    async () => {
      const listener = await listen('tcp-listen://127.0.0.1:0');
      return { listener, clientUri: listener.info.uri.replace('tcp-listen://', 'tcp://') };
    },
  ],
  [
    'pty',
    async () => {
      const link = join(tmpdir(), `c1218-interop-${process.pid}`);
      // Both ends pace at the line's baud (the pty default): Negotiate must move the pacing.
      return { listener: await listen(`pty:${link}`), clientUri: `pty:${link}` };
    },
  ],
];

describe.each(rigs)('C1218Client <-> C1218Server over %s', (kind, makeRig) => {
  it('session, 2 KiB multi-packet read at 64-byte packets, procedure, mid-way timeout and recovery', async () => {
    const rig = await makeRig();
    const meterClock = new ManualClock();
    const tables = new FakeTables();
    tables.tables.set(2051, Buffer.from(big));
    const bauds: number[] = [];
    const service = serveC1218(rig.listener, () => ({ tables, clock: meterClock }));
    const transport: Transport = await connect(rig.clientUri, rig.clientOptions);
    const trace: C1218TraceEntry[] = [];
    const client = new C1218Client(transport, {
      packetSize: 64,
      maxPackets: 255,
      baud: kind === 'pty' ? 38400 : 9600,
      trace: (e) => trace.push(e),
    });
    try {
      await client.connect();
      await client.startSession({ userId: 1, user: 'interop', password: PASSWORD });
      for (const s of service.servers) s.on('baud', (b) => bauds.push(b));

      expect(client.negotiated.packetSize).toBe(64);
      trace.length = 0;
      expect(await client.readTable(2051)).toEqual(big);
      const packets = trace.filter((e) => e.dir === 'rx' && e.kind === 'packet');
      expect(packets).toHaveLength(37);
      expect(packets.every((e) => e.hex.length <= 128)).toBe(true);
      expect(trace.filter((e) => e.kind === 'nak' || e.kind === 'retransmit')).toEqual([]);

      await client.runProcedure(3, Buffer.of(0));
      expect(tables.tables.get(2049)).toEqual(Buffer.alloc(19));

      // The meter hears nothing for 6 s: session over, back to 9600 and logged out. (First let
      // our last ACK reach it, or its 2 s ACK timer would resend the last response.)
      const [server] = [...service.servers];
      await until(() => server!.link.state.tx === undefined);
      meterClock.advance(6000);
      await server!.idle();
      expect(server!.session.phase).toBe('idle');
      expect(server!.baudRate).toBe(9600);
      await client.resetSession();
      let refused: unknown;
      try {
        await client.readTable(2051);
      } catch (e) {
        refused = e;
      }
      expect(refused).toBeInstanceOf(SimError);
      expect((refused as SimError).code).toBe(ErrorCode.ServiceBadSequence);
      await client.startSession({ password: PASSWORD });
      expect(await client.readTable(2051, { offset: 2000, count: 48 })).toEqual(big.subarray(2000));
      await client.endSession();
      expect(server!.session.phase).toBe('idle');
      // The meter drops to 9600 once our ACK of its Terminate response arrives. On a pty the
      // client's own baud change (serialport update = tcflush(TCIOFLUSH)) can still discard
      // that ACK before the meter reads it under load; the meter then recovers by its timers
      // (3 resends, then reset), which the ManualClock drives.
      try {
        await until(() => server!.baudRate === 9600, 1000);
      } catch {
        meterClock.advance(6000);
      }
      await until(() => server!.baudRate === 9600);
      if (kind === 'pty') expect(bauds).toEqual([9600, 38400, 9600]);
    } finally {
      client.close();
      await transport.close();
      await service.close();
    }
  });
});

describe('NAK and retransmission under injected line noise (withLine)', () => {
  it('completes a session with 2 KiB reads while bits flip in both directions', async () => {
    const tables = new FakeTables();
    tables.tables.set(2051, Buffer.from(big));
    let line: LineTransport | undefined;
    const s = memSession({
      tables,
      client: { packetSize: 64, maxPackets: 255 },
      wrapClient: (t) => (line = withLine(t, { noise: 0.0003, seed: 7, faults: 'both' })),
    });
    await drive(s.clock, s.client.startSession({ password: PASSWORD }));
    for (let i = 0; i < 3; i++) expect(await drive(s.clock, s.client.readTable(2051))).toEqual(big);
    await drive(s.clock, s.client.endSession());
    const kinds = (k: string): number => s.trace.filter((e) => e.kind === k).length;
    expect(line!.stats.flippedBits).toBeGreaterThan(0);
    // Noise was seen and repaired: bad CRCs NAKed, packets resent.
    expect(kinds('corrupt') + kinds('nak')).toBeGreaterThan(0);
    expect(kinds('retransmit') + kinds('nak')).toBeGreaterThan(0);
    expect(s.server.session.phase).toBe('idle');
  });
});
