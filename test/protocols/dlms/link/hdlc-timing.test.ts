/**
 * Link timing after the lazy timers (src/protocols/dlms/link/timers.ts): the HDLC server's
 * inactivity_time_out still counts from the LAST frame received (every frame restarts it), the
 * reply timer still answers a poll with RR when the application is late, and steady traffic
 * keeps at most one clock timer per timer name on each side instead of one per frame.
 */
import { ManualClock } from '../../../../src/core/clock';
import { HdlcClientLink, HdlcServerLink, type LinkAddress } from '../../../../src/protocols/dlms/link';
import { createMemPair } from '../../../../src/transport/mem';
import { drive as driveClock, recordWrites, settle } from './helpers';

/** One-millisecond steps: frames land at the exact millisecond the timers are checked against. */
const drive = <T>(clock: ManualClock, p: Promise<T>): Promise<T> => driveClock(clock, p, 1, 10_000);

describe('HDLC link timers on a manual clock', () => {
  it('inactivity counts from the last frame; traffic keeps the clock timers bounded', async () => {
    const clock = new ManualClock();
    const [a, b] = createMemPair();
    const server = new HdlcServerLink(b, { addresses: [{ logical: 1 }], clock, inactivityTimeoutMs: 1_000 });
    server.on('apdu', (apdu, addr) => void server.send(apdu, addr).catch(() => undefined));
    const client = new HdlcClientLink(a, { client: 16, server: { logical: 1 }, clock });
    let lastFrameAt = 0;
    b.on('data', () => (lastFrameAt = clock.monotonic()));
    const downs: Array<{ addr: LinkAddress; at: number }> = [];
    server.on('down', (addr) => downs.push({ addr, at: clock.monotonic() }));
    await drive(clock, client.connect());

    // Fifty echoes, 100 ms apart: far longer than the timeout in total, never idle for 1 s.
    for (let i = 0; i < 50; i++) {
      await clock.advanceAsync(100);
      const echoed = new Promise<Buffer>((resolve) => client.once('apdu', (apdu) => resolve(apdu)));
      await drive(clock, client.send(Buffer.from([i])));
      expect((await drive(clock, echoed))[0]).toBe(i);
      // Inactivity + reply (server), response + poll (client), inter-octet on both: at most one
      // clock timer per name, whatever the number of frames so far.
      expect(clock.pending).toBeLessThanOrEqual(6);
    }
    expect(downs).toEqual([]);
    expect(server.connected).toBe(true);

    // Silence: nothing at lastFrame + 999 ms, down at lastFrame + 1000 ms.
    await clock.advanceAsync(lastFrameAt + 999 - clock.monotonic());
    expect(downs).toEqual([]);
    await clock.advanceAsync(1);
    expect(downs).toEqual([{ addr: { client: 16, server: 1 }, at: lastFrameAt + 1_000 }]);
    expect(server.stationState({ logical: 1 })).toEqual({ mode: 'NDM' });
    await client.close();
    await server.close();
    await settle();
  });

  it('a poll the application answers late is answered RR at the reply timeout, then the reply follows', async () => {
    const clock = new ManualClock();
    const [a, b] = createMemPair();
    const serverWrites = recordWrites(b);
    const server = new HdlcServerLink(b, { addresses: [{ logical: 1 }], clock, replyTimeoutMs: 300 });
    const client = new HdlcClientLink(a, { client: 16, server: { logical: 1 }, clock, pollIntervalMs: 50 });
    await drive(clock, client.connect());
    let delivered: [Buffer, LinkAddress] | undefined;
    server.on('apdu', (apdu, addr) => (delivered = [apdu, addr]));
    const reply = new Promise<Buffer>((resolve) => client.once('apdu', (apdu) => resolve(apdu)));
    const before = serverWrites.length;
    const sent = client.send(Buffer.from('late'));
    await settle(); // the I frame lands without time moving
    expect(delivered?.[0].toString()).toBe('late');
    const sentAt = clock.monotonic();
    await clock.advanceAsync(299);
    expect(serverWrites.length).toBe(before); // still owing the answer: silent
    await clock.advanceAsync(1);
    await settle();
    // RR (control byte 0x?1 with P/F) at exactly the reply timeout.
    const rr = serverWrites[before]!;
    expect(rr[rr.length - 4]! & 0x0f).toBe(0x01);
    expect(clock.monotonic() - sentAt).toBe(300);
    await drive(clock, sent);
    void server.send(Buffer.from('pong'), delivered![1]);
    expect((await drive(clock, reply)).toString()).toBe('pong');
    await client.close();
    await server.close();
    await settle();
  });
});
