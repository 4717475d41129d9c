import { ErrorCode, SimError } from '../../../src/core/errors';
import { ManualClock } from '../../../src/core/clock';
import { C1218Client } from '../../../src/protocols/c1218/client';
import { encodePacket } from '../../../src/protocols/c1218/packet';
import { PacketFramer } from '../../../src/protocols/c1218/packet-framer';
import { CaptureTransport, settle, turn } from './capture-transport';
import { FakeTables } from './fake-tables';
import { PASSWORD, drive, memSession } from './harness';
import { IDENT_PACKET, bytes } from './vectors';

async function rejection(p: Promise<unknown>): Promise<SimError> {
  try {
    await p;
  } catch (e) {
    if (e instanceof SimError) return e;
    throw e;
  }
  throw new Error('expected a rejection');
}

describe('C1218Client against C1218Server over mem', () => {
  it('runs a full session: Ident, Negotiate, Logon, Security, read, write, Logoff, Terminate', async () => {
    const s = memSession();
    const ident = await drive(
      s.clock,
      s.client.startSession({ userId: 2, user: 'tester', password: PASSWORD }),
    );
    expect(ident).toEqual({ std: 0, version: 1, revision: 0, features: [] });
    expect(s.client.negotiated).toEqual({ packetSize: 1024, maxPackets: 255, baudRate: 9600 });
    expect(s.server.session).toMatchObject({
      phase: 'secured',
      access: { userId: 2, user: 'tester', groups: 1 },
    });
    expect(await drive(s.clock, s.client.readTable(2049))).toEqual(Buffer.from('6331234567890123456'));
    expect(await drive(s.clock, s.client.readTable(2049, { offset: 3, count: 4 }))).toEqual(
      Buffer.from('1234'),
    );
    await drive(s.clock, s.client.writeTable(2049, Buffer.from('99'), { offset: 0 }));
    expect(s.tables.tables.get(2049)!.toString()).toBe('9931234567890123456');
    await drive(s.clock, s.client.endSession());
    expect(s.server.session.phase).toBe('idle');
    expect(s.tables.ended).toHaveLength(1);
  });

  it('reads a 2 KiB table at packet size 64 as one multi-packet response (37 packets, seq counting down)', async () => {
    const tables = new FakeTables();
    const big = Buffer.alloc(2048);
    for (let i = 0; i < big.length; i++) big[i] = (i * 7) & 0xff;
    tables.tables.set(2051, big);
    const s = memSession({ tables, client: { packetSize: 64, maxPackets: 255 }, maxChunk: 13 });
    await drive(s.clock, s.client.startSession({ password: PASSWORD }));
    s.trace.length = 0;
    expect(await drive(s.clock, s.client.readTable(2051))).toEqual(big);
    const rx = s.trace.filter((e) => e.dir === 'rx' && e.kind === 'packet');
    expect(rx).toHaveLength(37); // (2048 + 4) / 56 = 36.6
    expect(rx.every((e) => e.hex.length / 2 <= 64)).toBe(true);
    expect(rx.map((e) => parseInt(e.hex.slice(6, 8), 16))).toEqual([...Array(37).keys()].reverse());
    expect(rx[0]!.text).toMatch(/^ctrl=[ce]0 multi first toggle=\d seq=36 len=56: response ok/);
    // Our ACK after each of them.
    expect(s.trace.filter((e) => e.dir === 'tx' && e.kind === 'ack')).toHaveLength(37);
  });

  it('writes a table larger than one packet as a multi-packet request', async () => {
    const tables = new FakeTables();
    tables.tables.set(2052, Buffer.alloc(150));
    const s = memSession({ tables, client: { packetSize: 64, maxPackets: 8 } });
    await drive(s.clock, s.client.startSession({ password: PASSWORD }));
    await drive(s.clock, s.client.writeTable(2052, Buffer.alloc(150, 0x77)));
    expect(tables.tables.get(2052)).toEqual(Buffer.alloc(150, 0x77));
    expect(
      s.trace.filter((e) => e.dir === 'tx' && e.kind === 'packet' && e.text.includes('multi')).length,
    ).toBe(3);
  });

  it('refuses to send a request beyond the negotiated size x count (EncodeTooLarge)', async () => {
    const tables = new FakeTables();
    tables.tables.set(2052, Buffer.alloc(150));
    const s = memSession({ tables, client: { packetSize: 64, maxPackets: 2 } });
    await drive(s.clock, s.client.startSession({ password: PASSWORD }));
    const e = await rejection(drive(s.clock, s.client.writeTable(2052, Buffer.alloc(150))));
    expect(e.code).toBe(ErrorCode.EncodeTooLarge);
  });

  it('negotiates a faster line; both ends switch after the ACK and return to 9600 on Terminate', async () => {
    const s = memSession({ client: { baud: 38400 } });
    await drive(s.clock, s.client.startSession({ password: PASSWORD }));
    expect(s.client.negotiated.baudRate).toBe(38400);
    expect(s.clientEnd.getLineSettings().baudRate).toBe(38400);
    expect(s.serverEnd.getLineSettings().baudRate).toBe(38400);
    await drive(s.clock, s.client.terminate());
    await drive(s.clock, s.server.idle());
    expect(s.clientEnd.getLineSettings().baudRate).toBe(9600);
    expect(s.serverEnd.getLineSettings().baudRate).toBe(9600);
  });

  it('runs procedures: writes ST7, reads ST8, polls while the result is 1 (little- and big-endian ST0)', async () => {
    for (const dataOrder of ['little', 'big'] as const) {
      const tables = new FakeTables({ dataOrder, slowPolls: 3 });
      const s = memSession({ tables, client: { procedure: { pollDelayMs: 500 } } });
      await drive(s.clock, s.client.startSession({ password: PASSWORD }));
      const sp3 = await drive(s.clock, s.client.runProcedure(3, Buffer.of(0x00)));
      expect(sp3).toMatchObject({ procedure: 3, mfg: false, result: 0 });
      expect(tables.tables.get(2049)).toEqual(Buffer.alloc(19));
      const start = s.clock.monotonic();
      const mp5 = await drive(s.clock, s.client.runProcedure(5, Buffer.alloc(0), { mfg: true }));
      expect(mp5).toMatchObject({ procedure: 5, mfg: true, result: 0, data: Buffer.of(0x42) });
      expect(s.clock.monotonic() - start).toBeGreaterThanOrEqual(3 * 500);
      const e = await rejection(drive(s.clock, s.client.runProcedure(99)));
      expect(e.code).toBe(ErrorCode.ServiceProcedureFailed);
      expect(e.context).toMatchObject({ result: 6, resultName: 'unrecognisedProcedure' });
      expect(await s.client.dataOrder()).toBe(dataOrder);
    }
  });

  it('maps refusals to SimErrors with the wire code: isc, isss, SessionAuthFailed, SessionLockedOut', async () => {
    const s = memSession({ tables: new FakeTables({ lockAfter: 2 }) });
    const early = await rejection(drive(s.clock, s.client.readTable(1)));
    expect([early.code, early.context['wireCode']]).toEqual([ErrorCode.ServiceBadSequence, 0x0a]);
    await drive(s.clock, s.client.startSession());
    const secret = await rejection(drive(s.clock, s.client.readTable(2050)));
    expect([secret.code, secret.context['wireCode'], secret.context['tableId']]).toEqual([
      ErrorCode.ServiceAccessDenied,
      3,
      2050,
    ]);
    const bad = await rejection(drive(s.clock, s.client.security('wrong')));
    expect(bad.code).toBe(ErrorCode.SessionAuthFailed);
    await rejection(drive(s.clock, s.client.security('wrong again')));
    const locked = await rejection(drive(s.clock, s.client.security(PASSWORD)));
    expect([locked.code, locked.context['wireCode']]).toEqual([ErrorCode.SessionLockedOut, 8]);
  });

  it('retries bsy/dnr after the delay and gives up with ServiceBusy when the retries run out', async () => {
    const s = memSession({
      tables: new FakeTables({ busyReads: 2 }),
      client: { retries: { count: 2, delayMs: 2000 } },
    });
    await drive(s.clock, s.client.startSession({ password: PASSWORD }));
    const t0 = s.clock.monotonic();
    expect(await drive(s.clock, s.client.readTable(2049))).toEqual(Buffer.from('6331234567890123456'));
    expect(s.clock.monotonic() - t0).toBeGreaterThanOrEqual(4000);
    const s2 = memSession({
      tables: new FakeTables({ busyReads: 5 }),
      client: { retries: { count: 1, delayMs: 10 } },
    });
    await drive(s2.clock, s2.client.startSession({ password: PASSWORD }));
    const e = await rejection(drive(s2.clock, s2.client.readTable(2049)));
    expect([e.code, e.context['wireCode']]).toEqual([ErrorCode.ServiceBusy, 6]);
  });

  it('recovers from a session that timed out mid-way (server back to idle, 9600, toggle 0)', async () => {
    const s = memSession({ client: { baud: 19200 } });
    await drive(s.clock, s.client.startSession({ password: PASSWORD }));
    expect(s.serverEnd.getLineSettings().baudRate).toBe(19200);
    await s.clock.advanceAsync(6001);
    await drive(s.clock, s.server.idle());
    expect(s.server.session.phase).toBe('idle');
    expect(s.serverEnd.getLineSettings().baudRate).toBe(9600);
    const e = await rejection(drive(s.clock, s.client.readTable(2049)));
    expect(e.code).toBe(ErrorCode.ServiceBadSequence);
    await drive(s.clock, s.client.resetSession());
    await drive(s.clock, s.client.startSession({ password: PASSWORD }));
    expect(await drive(s.clock, s.client.readTable(2049))).toEqual(Buffer.from('6331234567890123456'));
  });

  it('traces every packet with hex and a decoded line, never the password', async () => {
    const s = memSession();
    await drive(s.clock, s.client.startSession({ password: PASSWORD }));
    const lines = s.trace.map((e) => `${e.dir} ${e.kind} ${e.text}`);
    expect(lines[0]).toBe('tx packet ctrl=00 toggle=0 seq=0 len=1: Ident');
    expect(s.trace[0]!.hex).toBe(bytes(IDENT_PACKET).toString('hex'));
    expect(lines[1]).toBe('rx ack ACK');
    expect(lines[2]).toBe('rx packet ctrl=00 toggle=0 seq=0 len=5: response ok, 5 byte(s)');
    expect(lines[3]).toBe('tx ack ACK');
    expect(lines).toContain('tx packet ctrl=20 toggle=1 seq=0 len=5: Negotiate 1024 B x255, 9600 baud');
    expect(lines).toContain('tx packet ctrl=00 toggle=0 seq=0 len=13: Logon user id 0 "0000"');
    expect(lines).toContain('tx packet ctrl=20 toggle=1 seq=0 len=21: Security, 20-byte password');
    expect(s.trace.map((e) => e.text).join('\n')).not.toContain(PASSWORD);
  });
});

describe('C1218Client link behaviour against a scripted meter', () => {
  function scripted(options: ConstructorParameters<typeof C1218Client>[1] = {}) {
    const clock = new ManualClock();
    const t = new CaptureTransport();
    const client = new C1218Client(t, { clock, ...options });
    return { clock, t, client };
  }

  it('with nothing answering: Ident three times at 2 s intervals, identical bytes, then LinkRetriesExhausted (§6)', async () => {
    const { clock, t, client } = scripted();
    const p = client.ident();
    const caught = rejection(p);
    await settle();
    const sent: [number, string][] = [];
    for (let ms = 0; ms <= 6000; ms += 100) {
      const w = t.take();
      if (w.length) sent.push([clock.monotonic(), w.toString('hex')]);
      clock.advance(100);
      await settle();
    }
    const e = await caught;
    expect(e.code).toBe(ErrorCode.LinkRetriesExhausted);
    expect(sent).toEqual([
      [0, bytes(IDENT_PACKET).toString('hex')],
      [2000, bytes(IDENT_PACKET).toString('hex')],
      [4000, bytes(IDENT_PACKET).toString('hex')],
    ]);
  });

  it('sets RTS on / DTR off and sends the 0x55 wake-up 50 ms before Ident (§1.1)', async () => {
    const { clock, t, client } = scripted({ wakeUp: true });
    const connected = client.connect();
    await settle();
    expect(t.control).toEqual({ rts: true, dtr: false });
    expect(t.take()).toEqual(Buffer.of(0x55));
    clock.advance(50);
    await connected;
  });

  it('NAKs a corrupt response, ACKs the resend, and ignores a duplicate', async () => {
    const { clock, t, client } = scripted();
    const p = client.ident();
    await settle();
    t.take();
    const resp = encodePacket(0, 0, Buffer.of(0, 0, 1, 0, 0));
    const bad = Buffer.from(resp);
    bad[7] = bad[7]! ^ 0x01;
    t.inject(Buffer.concat([Buffer.of(0x06), bad]));
    await settle();
    expect(t.take()).toEqual(Buffer.of(0x15));
    t.inject(resp);
    await settle();
    await turn();
    expect(t.take()).toEqual(Buffer.of(0x06));
    expect(await p).toEqual({ std: 0, version: 1, revision: 0, features: [] });
    t.inject(resp); // the meter missed our ACK and resends: duplicate, ACK only
    await settle();
    await turn();
    expect(t.take()).toEqual(Buffer.of(0x06));
    void clock;
  });

  it('tolerates a meter that ignores the negotiated count (warns); strictLimits refuses it', async () => {
    const twoPackets = [
      encodePacket(0xc0, 1, Buffer.of(0, 0, 2)),
      encodePacket(0xa0, 0, Buffer.of(0xab, 0xcd, 0x88)),
    ];
    for (const strictLimits of [false, true]) {
      const { clock, t, client } = scripted({ strictLimits, maxTries: 1 });
      const p = client.readTable(1);
      const outcome = p.then(
        (d) => d.toString('hex'),
        (e: SimError) => e.codeName,
      );
      await settle();
      t.take();
      t.inject(Buffer.concat([Buffer.of(0x06), ...twoPackets])); // C12 default: 1 packet allowed
      await settle();
      await turn();
      expect(new PacketFramer().push(t.take()).map((e) => e.kind)).toEqual(['ack', 'ack']);
      expect(await outcome).toBe(strictLimits ? 'LinkSequence' : 'abcd');
      void clock;
    }
  });

  it('detects a gap in seq or a repeated toggle, and re-sends the whole request (M)', async () => {
    const { t, client } = scripted({ maxPackets: 4 });
    const p = client.readTable(1);
    await settle();
    const first = t.take();
    // seq 2 then seq 0: packet 1 missing.
    t.inject(
      Buffer.concat([
        Buffer.of(0x06),
        encodePacket(0xc0, 2, Buffer.of(0, 0, 1)),
        encodePacket(0xa0, 0, Buffer.of(7, 0xf9)),
      ]),
    );
    await settle();
    const resent = new PacketFramer().push(t.take());
    expect(resent.map((e) => e.kind)).toEqual(['ack', 'ack', 'packet']);
    // Same PSEM request again, as a new packet (the toggle moved on after the first was ACKed).
    const again = resent[2]!.kind === 'packet' ? resent[2]!.packet : undefined;
    expect(again?.data).toEqual(first.subarray(6, -2));
    expect(again?.ctrl).toBe(0x20);
    t.inject(Buffer.concat([Buffer.of(0x06), encodePacket(0x20, 0, Buffer.of(0, 0, 1, 7, 0xf9))]));
    expect(await p).toEqual(Buffer.of(7));
  });

  it('times out waiting for a response that never comes (LinkTimeout) and when closed fails fast', async () => {
    const { clock, t, client } = scripted({ responseTimeoutMs: 3000 });
    const caught = rejection(client.readTable(1));
    await settle();
    t.inject(Buffer.of(0x06));
    await settle();
    clock.advance(3000);
    expect((await caught).code).toBe(ErrorCode.LinkTimeout);
    const closed = rejection(client.readTable(1));
    await settle();
    t.inject(Buffer.of(0x06));
    await settle();
    client.close();
    expect((await closed).code).toBe(ErrorCode.LinkDisconnected);
  });
});
