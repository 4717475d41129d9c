import { ManualClock } from '../../../src/core/clock';
import { PsemCode } from '../../../src/protocols/c1219/contract';
import { encodePacket } from '../../../src/protocols/c1218/packet';
import { PacketFramer } from '../../../src/protocols/c1218/packet-framer';
import {
  decodeResponse,
  type PsemResponse,
  type ResponseShape,
} from '../../../src/protocols/c1218/psem-responses';
import { C1218Server, serveC1218, type C1218ServerOptions } from '../../../src/protocols/c1218/server';
import { listenMem, connectMem } from '../../../src/transport/mem';
import { CaptureTransport, settle, turn } from './capture-transport';
import { FakeTables } from './fake-tables';
import {
  IDENT_PACKET,
  IDENT_RESPONSE_PACKET,
  LOGON_PACKET,
  NEGOTIATE_PACKET,
  READ_MT1_PACKET,
  SECURITY_PACKET,
  TERMINATE_PACKET,
  bytes,
} from './vectors';

const ACK = Buffer.of(0x06);
const NAK = Buffer.of(0x15);

function setup(options: C1218ServerOptions = {}, tables = new FakeTables({ password: Buffer.alloc(20) })) {
  const clock = new ManualClock();
  const t = new CaptureTransport();
  const server = new C1218Server({ transport: t, tables, clock, options });
  return { clock, t, server, tables };
}

/** Feed bytes, let the server work, and return what it wrote, split into ACK/NAK/packets. */
async function exchange(
  t: CaptureTransport,
  server: C1218Server,
  input: Buffer | number[],
): Promise<string[]> {
  t.inject(Buffer.isBuffer(input) ? input : bytes(input));
  await settle();
  await server.idle();
  await settle();
  await turn();
  const out = t.take();
  return new PacketFramer().push(out).map((e) => (e.kind === 'packet' ? e.raw.toString('hex') : e.kind));
}

function response(hex: string, shape: ResponseShape): PsemResponse {
  return decodeResponse(Buffer.from(hex, 'hex').subarray(6, -2), shape);
}

/** A request packet as a client would send it. */
const req = (toggle: 0 | 1, ...psem: number[]): Buffer =>
  encodePacket(toggle ? 0x20 : 0, 0, Buffer.from(psem));

describe('C1218Server against the termineter transcript (docs/c1218.md §6)', () => {
  it('answers T session byte for byte: Ident, Negotiate, Logon, Security, read MT1, Terminate', async () => {
    const { t, server, tables } = setup({ packetSize: 512 });
    // Ident -> ACK, then exactly the transcript's Ident response.
    expect(await exchange(t, server, IDENT_PACKET)).toEqual([
      'ack',
      bytes(IDENT_RESPONSE_PACKET).toString('hex'),
    ]);
    // T ACKs and sends the next request ~1 ms later, in one chunk (no turnaround, §1.4).
    const neg = await exchange(t, server, Buffer.concat([ACK, bytes(NEGOTIATE_PACKET)]));
    expect(neg[0]).toBe('ack');
    expect(response(neg[1]!, 'negotiate')).toEqual({
      kind: 'negotiate',
      packetSize: 512,
      maxPackets: 2,
      baudCode: 6,
    });
    expect(Buffer.from(neg[1]!, 'hex')[2]).toBe(0x20); // our second packet: toggle 1
    const logon = await exchange(t, server, Buffer.concat([ACK, bytes(LOGON_PACKET)]));
    expect(logon.map((h) => (h === 'ack' ? h : response(h, 'ok').kind))).toEqual(['ack', 'ok']);
    const sec = await exchange(t, server, Buffer.concat([ACK, bytes(SECURITY_PACKET)]));
    expect(response(sec[1]!, 'ok')).toEqual({ kind: 'ok' });
    expect(server.session.phase).toBe('secured');
    expect(tables.authAttempts[0]).toMatchObject({ userId: 0, user: '0000', ok: true });
    const read = await exchange(t, server, Buffer.concat([ACK, bytes(READ_MT1_PACKET)]));
    expect(response(read[1]!, 'read')).toEqual({ kind: 'read', data: tables.tables.get(2049) });
    // T sends no Logoff: Terminate straight away is a normal end.
    const term = await exchange(t, server, Buffer.concat([ACK, bytes(TERMINATE_PACKET)]));
    expect(response(term[1]!, 'ok')).toEqual({ kind: 'ok' });
    await exchange(t, server, ACK);
    expect(server.session.phase).toBe('idle');
    expect(tables.ended).toHaveLength(1);
    // Next T run starts at toggle 0 again and gets toggle 0 back (reset on session end, §1.5).
    const again = await exchange(t, server, IDENT_PACKET);
    expect(again).toEqual(['ack', bytes(IDENT_RESPONSE_PACKET).toString('hex')]);
  });

  it('discards the 0x55 wake-up and garbage before Ident (§1.1)', async () => {
    const { t, server } = setup();
    const out = await exchange(t, server, Buffer.concat([Buffer.of(0x55, 0x00, 0xff), bytes(IDENT_PACKET)]));
    expect(out).toEqual(['ack', bytes(IDENT_RESPONSE_PACKET).toString('hex')]);
  });
});

describe('C1218Server link behaviour', () => {
  it('NAKs a bad CRC and answers the good resend', async () => {
    const { t, server } = setup();
    const bad = bytes(IDENT_PACKET);
    bad[8] = bad[8]! ^ 0xff;
    expect(await exchange(t, server, bad)).toEqual(['nak']);
    expect(await exchange(t, server, IDENT_PACKET)).toEqual([
      'ack',
      bytes(IDENT_RESPONSE_PACKET).toString('hex'),
    ]);
  });

  it('resends the identical response on NAK, and on ACK timeout, three transmissions in all (§1.4)', async () => {
    const { t, server, clock } = setup();
    const faults: string[] = [];
    server.on('fault', (e) => faults.push(e.codeName));
    const first = await exchange(t, server, IDENT_PACKET);
    const resp = first[1]!;
    expect(await exchange(t, server, NAK)).toEqual([resp]);
    clock.advance(1999);
    expect(t.take().length).toBe(0);
    clock.advance(1);
    expect(t.take().toString('hex')).toBe(resp);
    clock.advance(2000);
    expect(t.take().length).toBe(0); // third transmission was the NAK resend + this timeout ends it
    expect(faults).toEqual(['LinkRetriesExhausted']);
  });

  it('ACKs and drops a duplicate request (same toggle and CRC): one response only (§1.5)', async () => {
    const { t, server } = setup();
    await exchange(t, server, IDENT_PACKET);
    await exchange(t, server, ACK);
    const logon = await exchange(t, server, bytes(LOGON_PACKET));
    expect(logon).toHaveLength(2);
    await exchange(t, server, ACK);
    // The client did not see our ACK and resends the identical Logon.
    expect(await exchange(t, server, bytes(LOGON_PACKET))).toEqual(['ack']);
    expect(server.session.phase).toBe('loggedOn');
  });

  it('a new request while our response awaits its ACK counts as that ACK (lost-ACK recovery)', async () => {
    const { t, server, clock } = setup();
    await exchange(t, server, IDENT_PACKET);
    const out = await exchange(t, server, req(1, 0x50, 0, 0, ...Buffer.from('0000      ')));
    expect(out[0]).toBe('ack');
    clock.advance(2000);
    // The Ident response was not resent: the Logon implied its ACK.
    expect(t.take().toString('hex')).not.toContain(bytes(IDENT_RESPONSE_PACKET).toString('hex'));
  });

  it('drops a partial packet after the inter-character timeout and then reads a clean one (§1.4)', async () => {
    const { t, server, clock } = setup();
    expect(await exchange(t, server, bytes(IDENT_PACKET).subarray(0, 5))).toEqual([]);
    clock.advance(500);
    expect(await exchange(t, server, IDENT_PACKET)).toEqual([
      'ack',
      bytes(IDENT_RESPONSE_PACKET).toString('hex'),
    ]);
  });

  it('sends a multi-packet response honouring the negotiated size and count', async () => {
    const tables = new FakeTables({ password: Buffer.alloc(20) });
    tables.tables.set(2049, Buffer.alloc(200, 0x5a));
    const { t, server } = setup({}, tables);
    await exchange(t, server, IDENT_PACKET);
    await exchange(t, server, Buffer.concat([ACK, req(1, 0x61, 0x00, 0x40, 0x05, 0x06)])); // 64 B x 5
    await exchange(t, server, Buffer.concat([ACK, bytes(LOGON_PACKET)]));
    const first = await exchange(t, server, Buffer.concat([ACK, req(1, 0x30, 0x08, 0x01)]));
    // 204 bytes of response / 56 per packet = 4 packets; each waits for its ACK.
    const packets = [first[1]!];
    for (let i = 0; i < 3; i++) packets.push((await exchange(t, server, ACK))[0]!);
    const ctrlSeq = packets.map((h) => h.slice(4, 8));
    expect(ctrlSeq).toEqual(['e003', '8002', 'a001', '8000']);
    expect(packets.every((h) => h.length / 2 <= 64)).toBe(true);
    const psem = Buffer.concat(packets.map((h) => Buffer.from(h, 'hex').subarray(6, -2)));
    expect(decodeResponse(psem, 'read')).toEqual({ kind: 'read', data: Buffer.alloc(200, 0x5a) });
  });
});

describe('C1218Server session behaviour', () => {
  async function logonSession(t: CaptureTransport, server: C1218Server, negotiate?: Buffer): Promise<void> {
    await exchange(t, server, IDENT_PACKET);
    if (negotiate) await exchange(t, server, Buffer.concat([ACK, negotiate]));
    await exchange(t, server, Buffer.concat([ACK, bytes(LOGON_PACKET)]));
    await exchange(t, server, ACK);
  }

  it('Negotiate changes the line speed only after its response is ACKed; Terminate goes back to 9600', async () => {
    const { t, server } = setup({ baudRates: [9600, 38400] });
    const bauds: number[] = [];
    server.on('baud', (b) => bauds.push(b));
    await exchange(t, server, IDENT_PACKET);
    const out = await exchange(t, server, Buffer.concat([ACK, req(1, 0x62, 0x02, 0x00, 0x02, 0x06, 0x0b)]));
    expect(response(out[1]!, 'negotiate')).toMatchObject({ baudCode: 0x0b });
    expect(t.getLineSettings().baudRate).toBe(9600);
    await exchange(t, server, ACK);
    expect(t.getLineSettings().baudRate).toBe(38400);
    await exchange(t, server, req(0, 0x21));
    await exchange(t, server, ACK);
    expect(t.lineChanges).toEqual([38400, 9600]);
    expect(bauds).toEqual([38400, 9600]);
  });

  it('channel-traffic timeout (6 s) ends the session: logged out, back to 9600 and default sizes', async () => {
    const { t, server, clock, tables } = setup({ baudRates: [9600, 19200] });
    const ends: string[] = [];
    server.on('sessionEnd', (e) => ends.push(e.reason));
    await logonSession(t, server, req(1, 0x61, 0x02, 0x00, 0x02, 0x08));
    expect(t.getLineSettings().baudRate).toBe(19200);
    clock.advance(5999);
    await settle();
    expect(server.session.phase).toBe('loggedOn');
    clock.advance(1);
    await settle();
    await server.idle();
    expect(server.session.phase).toBe('idle');
    expect(ends).toEqual(['timeout']);
    expect(t.getLineSettings().baudRate).toBe(9600);
    expect(server.link.state.config.packetSize).toBe(64);
    expect(tables.ended).toHaveLength(1);
    const late = await exchange(t, server, req(0, 0x30, 0x00, 0x01));
    expect(response(late[1]!, 'read')).toMatchObject({ kind: 'error', code: PsemCode.isss });
  });

  it('Wait holds the session beyond the channel-traffic timeout', async () => {
    const { t, server, clock } = setup();
    await logonSession(t, server);
    await exchange(t, server, req(1, 0x70, 20)); // Wait 20 s
    await exchange(t, server, ACK);
    clock.advance(15_000);
    await settle();
    expect(server.session.phase).toBe('loggedOn');
    clock.advance(5_000);
    await settle();
    await server.idle();
    expect(server.session.phase).toBe('idle');
  });

  it('counts and reports failed Security attempts; lock-out answers what the TableServer says (dlk)', async () => {
    const { t, server } = setup({}, new FakeTables({ password: Buffer.alloc(20, 0x31), lockAfter: 2 }));
    const failed: number[] = [];
    server.on('securityFailed', (e) => failed.push(e.code));
    await logonSession(t, server);
    const codes: number[] = [];
    for (let i = 0; i < 3; i++) {
      const out = await exchange(t, server, req((i % 2) as 0 | 1, 0x51, ...Buffer.alloc(20, 0x30)));
      await exchange(t, server, ACK);
      const r = response(out[1]!, 'ok');
      codes.push(r.kind === 'error' ? r.code : 0);
    }
    expect(codes).toEqual([PsemCode.isc, PsemCode.isc, PsemCode.dlk]);
    expect(failed).toEqual(codes);
    expect(server.session.failedSecurity).toBe(3);
  });

  it('passes Security padded with 0x00 or 0x20 through unchanged (the TableServer compares 20 bytes)', async () => {
    const tables = new FakeTables({ password: Buffer.from('abc'.padEnd(20, ' ')) });
    const { t, server } = setup({}, tables);
    await logonSession(t, server);
    await exchange(t, server, req(1, 0x51, ...Buffer.from('abc').toJSON().data, ...Buffer.alloc(17)));
    await exchange(t, server, ACK);
    await exchange(t, server, req(0, 0x51, ...Buffer.from('abc'.padEnd(20, ' '))));
    expect(tables.authAttempts.map((a) => [a.password.toString('hex'), a.ok])).toEqual([
      [Buffer.concat([Buffer.from('abc'), Buffer.alloc(17)]).toString('hex'), false],
      [Buffer.from('abc'.padEnd(20, ' ')).toString('hex'), true],
    ]);
  });

  it('unsupported services get sns, malformed ones err, writes without rights isc', async () => {
    const { t, server } = setup();
    await logonSession(t, server);
    const codeOf = async (toggle: 0 | 1, ...psem: number[]): Promise<number> => {
      const out = await exchange(t, server, req(toggle, ...psem));
      await exchange(t, server, ACK);
      const r = response(out[1]!, 'ok');
      return r.kind === 'error' ? r.code : 0;
    };
    expect(await codeOf(1, 0x53, 0x09)).toBe(PsemCode.sns); // C12.21 Authenticate
    expect(await codeOf(0, 0x31, 0x00)).toBe(PsemCode.sns); // index partial read
    expect(await codeOf(1, 0x40, 0x00, 0x05, 0x00, 0x01, 0x41, 0x00)).toBe(PsemCode.err); // bad checksum
    expect(await codeOf(0, 0x4f, 0x00, 0x05, 0, 0, 0, 0x00, 0x01, 0x41, 0xbf)).toBe(PsemCode.isc); // not secured
  });

  it('applies the response delay on the injectable clock', async () => {
    const { t, clock } = setup({ responseDelayMs: 100 });
    t.inject(bytes(IDENT_PACKET));
    await settle();
    // The response is not ready in this turn: the ACK leaves alone at its end.
    await turn();
    expect(t.written).toEqual([ACK]);
    expect(t.take()).toEqual(ACK);
    clock.advance(99);
    await settle();
    expect(t.take().length).toBe(0);
    clock.advance(1);
    await settle(6);
    expect(t.take().toString('hex')).toBe(bytes(IDENT_RESPONSE_PACKET).toString('hex'));
  });

  it('ends the session when the transport closes', async () => {
    const { t, server, tables } = setup();
    await logonSession(t, server);
    await t.close();
    await settle();
    await server.idle();
    expect(server.session.phase).toBe('idle');
    expect(tables.ended).toHaveLength(1);
  });
});

describe('serveC1218', () => {
  it('attaches a server to every connection of a listener', async () => {
    const listener = listenMem('c1218-serve-test');
    const tables = new FakeTables();
    const service = serveC1218(listener, () => ({ tables }));
    const a = connectMem('c1218-serve-test');
    const b = connectMem('c1218-serve-test');
    expect(service.servers.size).toBe(2);
    const got: Buffer[] = [];
    a.on('data', (d) => got.push(d));
    await a.write(bytes(IDENT_PACKET));
    const want = '06' + bytes(IDENT_RESPONSE_PACKET).toString('hex');
    // Real time on a loaded machine: wait for the answer (bounded), then compare it whole.
    for (let i = 0; i < 500 && Buffer.concat(got).length < want.length / 2; i++)
      await new Promise((r) => setTimeout(r, 10));
    expect(Buffer.concat(got).toString('hex')).toBe(want);
    await b.close();
    await new Promise((r) => setImmediate(r));
    expect(service.servers.size).toBe(1);
    await service.close();
    expect(service.servers.size).toBe(0);
    await new Promise((r) => setImmediate(r));
    expect(a.isOpen).toBe(false);
  });
});
