/**
 * LinkDriver write coalescing (LinkDriverOptions.coalesceAcks): an ACK is held to the end of
 * the event-loop turn and rides in front of a packet sent in the same turn. The bytes on the
 * wire and their order stay those of docs/c1218.md §1.4 (a bare 0x06 before the next packet);
 * only the number of transport writes changes.
 */
import { ManualClock } from '../../../src/core/clock';
import { C1218Client } from '../../../src/protocols/c1218/client';
import { LinkDriver } from '../../../src/protocols/c1218/link-driver';
import { encodePacket } from '../../../src/protocols/c1218/packet';
import { C1218Server } from '../../../src/protocols/c1218/server';
import { createMemPair } from '../../../src/transport/mem';
import type { Transport } from '../../../src/transport/types';
import { CaptureTransport, settle, turn } from './capture-transport';
import { FakeTables } from './fake-tables';
import { IDENT_PACKET, IDENT_RESPONSE_PACKET, OK_RESPONSE_PACKET, bytes } from './vectors';

const ACK = 0x06;
const NAK = 0x15;
const hex = (b: Buffer | number[]): string => Buffer.from(b).toString('hex');

function driver(coalesceAcks: boolean): { t: CaptureTransport; link: LinkDriver } {
  const t = new CaptureTransport();
  const link = new LinkDriver({ transport: t, clock: new ManualClock(), coalesceAcks });
  return { t, link };
}

/** A packet whose CRC fails (last byte flipped). */
function corrupt(packet: number[]): Buffer {
  const b = bytes(packet);
  b[b.length - 1] = b[b.length - 1]! ^ 0xff;
  return b;
}

describe('LinkDriver ACK coalescing', () => {
  it('off: the ACK of a packet is written at once, on its own', () => {
    const { t, link } = driver(false);
    link.receive(bytes(IDENT_RESPONSE_PACKET));
    expect(t.written.map(hex)).toEqual(['06']);
  });

  it('on: a packet sent in the same turn carries the ACK in front of it, in one write', async () => {
    const { t, link } = driver(true);
    const delivered: Buffer[] = [];
    // The peer's message is answered from a promise continuation, as the client and server do.
    link.on('message', (m) => {
      delivered.push(m);
      void Promise.resolve().then(() => link.post(Buffer.of(0x21), () => undefined));
    });
    link.receive(bytes(IDENT_RESPONSE_PACKET));
    expect(t.written).toEqual([]);
    await settle();
    await turn();
    expect(delivered.map(hex)).toEqual(['0000010000']);
    expect(t.written.map(hex)).toEqual([`06${hex(encodePacket(0, 0, Buffer.of(0x21)))}`]);
  });

  it('on: with nothing to send in the turn, the ACK leaves alone at its end', async () => {
    const { t, link } = driver(true);
    link.receive(bytes(IDENT_RESPONSE_PACKET));
    await settle();
    expect(t.written).toEqual([]);
    await turn();
    expect(t.written.map(hex)).toEqual(['06']);
    await turn();
    expect(t.written).toHaveLength(1);
  });

  it('on: a NAK after a held ACK goes out behind it, in stream order', () => {
    const { t, link } = driver(true);
    // A good packet and a corrupt one in the same chunk: ACK then NAK.
    link.receive(Buffer.concat([bytes(IDENT_RESPONSE_PACKET), corrupt(OK_RESPONSE_PACKET)]));
    expect(t.written.map(hex)).toEqual(['0615']);
  });

  it('on: two held ACKs (two packets in one chunk) precede the next packet', () => {
    const { t, link } = driver(true);
    const second = encodePacket(0x20, 0, Buffer.of(0x00));
    link.receive(Buffer.concat([bytes(IDENT_RESPONSE_PACKET), second]));
    link.post(Buffer.of(0x52), () => undefined);
    expect(t.written.map(hex)).toEqual([`0606${hex(encodePacket(0, 0, Buffer.of(0x52)))}`]);
  });

  it('on: flush() and writeRaw() put the held ACK on the wire first', async () => {
    const { t, link } = driver(true);
    link.receive(bytes(IDENT_RESPONSE_PACKET));
    await link.flush();
    expect(t.written.map(hex)).toEqual(['06']);
    link.receive(encodePacket(0x20, 0, Buffer.of(0x00)));
    await link.writeRaw(Buffer.of(0x55));
    expect(t.written.map(hex)).toEqual(['06', '0655']);
    await turn();
    expect(t.written).toHaveLength(2);
  });

  it('on: detach() still writes a held ACK while the transport is open, and none once it closed', async () => {
    const open = driver(true);
    open.link.receive(bytes(IDENT_RESPONSE_PACKET));
    open.link.detach();
    expect(open.t.written.map(hex)).toEqual(['06']);

    const closed = driver(true);
    closed.link.receive(bytes(IDENT_RESPONSE_PACKET));
    await closed.t.close();
    await turn();
    expect(closed.t.written).toEqual([]);
    expect(closed.link.isAttached).toBe(false);
  });

  it('on: a corrupt packet alone is NAKed at once (NAKs are never held)', () => {
    const { t, link } = driver(true);
    link.receive(corrupt(IDENT_RESPONSE_PACKET));
    expect(t.written).toEqual([Buffer.of(NAK)]);
  });
});

/** Counts the writes a transport is asked for, and records the bytes. */
function counting(inner: Transport): { transport: Transport; writes: Buffer[] } {
  const writes: Buffer[] = [];
  const transport = Object.create(inner) as Transport;
  transport.write = (data: Uint8Array): Promise<void> => {
    writes.push(Buffer.from(data));
    return inner.write(data);
  };
  return { transport, writes };
}

describe('C12.18 client and server with ACK coalescing over an in-memory pair', () => {
  async function session(coalesceAcks: boolean): Promise<{ client: Buffer[]; server: Buffer[] }> {
    const [a, b] = createMemPair();
    const c = counting(a);
    const s = counting(b);
    const tables = new FakeTables({ password: Buffer.alloc(20) });
    const server = new C1218Server({ transport: s.transport, tables, options: { coalesceAcks } });
    const client = new C1218Client(c.transport, { coalesceAcks });
    await client.ident();
    await client.negotiate();
    await client.logon(0, 'reader');
    await client.security(Buffer.alloc(20), 0x00);
    await client.readTable(1);
    await client.endSession();
    client.close();
    await server.close();
    await a.close();
    await b.close();
    return { client: c.writes, server: s.writes };
  }

  it('sends the same bytes in half the writes: request + ACK of the previous response, ACK + response', async () => {
    const plain = await session(false);
    const joined = await session(true);
    // Same byte streams in both directions.
    expect(hex(Buffer.concat(joined.client))).toBe(hex(Buffer.concat(plain.client)));
    expect(hex(Buffer.concat(joined.server))).toBe(hex(Buffer.concat(plain.server)));
    // 7 requests (Ident, Negotiate, Logon, Security, Read, Logoff, Terminate).
    expect(plain.client).toHaveLength(14);
    expect(plain.server).toHaveLength(14);
    // Client: each request carries the ACK of the previous response; the last ACK leaves alone.
    expect(joined.client).toHaveLength(8);
    expect(joined.client[0]![0]).toBe(0xee);
    for (const w of joined.client.slice(1, 7)) expect(w[0]).toBe(ACK);
    expect(hex(joined.client[7]!)).toBe('06');
    // Server: every response is ready at once (no delay), so each goes out with its ACK.
    expect(joined.server).toHaveLength(7);
    for (const w of joined.server) expect([w[0], w[1]]).toEqual([ACK, 0xee]);
    expect(hex(joined.server[0]!)).toBe(`06${hex(IDENT_RESPONSE_PACKET)}`);
  });

  it('a server with a response delay still ACKs at once and answers later', async () => {
    const clock = new ManualClock();
    const t = new CaptureTransport();
    const tables = new FakeTables({ password: Buffer.alloc(20) });
    new C1218Server({ transport: t, tables, clock, options: { responseDelayMs: 20 } });
    t.inject(bytes(IDENT_PACKET));
    await settle();
    await turn();
    expect(t.written.map(hex)).toEqual(['06']);
    clock.advance(20);
    await settle(6);
    expect(t.written.map(hex)).toEqual(['06', hex(IDENT_RESPONSE_PACKET)]);
  });
});
