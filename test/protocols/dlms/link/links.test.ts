import { randomBytes } from 'node:crypto';
import { ManualClock } from '../../../../src/core/clock';
import { ErrorCode, type SimError } from '../../../../src/core/errors';
import {
  HdlcClientLink,
  HdlcServerLink,
  ModeEServerLink,
  signOnModeE,
  WrapperClientLink,
  WrapperServerLink,
  type ApduLink,
  type LinkAddress,
} from '../../../../src/protocols/dlms/link';
import {
  encodeIec21Message,
  Iec21Framer,
  type Iec21Message,
} from '../../../../src/protocols/dlms/iec62056-21';
import { createMemPair } from '../../../../src/transport/mem';
import { withLine } from '../../../../src/transport/line';
import { drive, recordWrites, settle } from './helpers';

/** A server application that answers every APDU with `reply(apdu)`. */
function answer(link: ApduLink, reply: (apdu: Buffer) => Buffer): void {
  link.on('apdu', (apdu, addr) => {
    link.send(reply(apdu), addr).catch(() => undefined);
  });
}

function nextApdu(link: ApduLink): Promise<[Buffer, LinkAddress]> {
  return new Promise((resolve) => link.once('apdu', (apdu, addr) => resolve([apdu, addr])));
}

describe('HDLC client <-> server over a mem pair', () => {
  it('exchanges a 5 KiB APDU each way with max-info 128 (segmentation both ways)', async () => {
    const clock = new ManualClock();
    const [a, b] = createMemPair({ maxChunk: 61 });
    const serverWrites = recordWrites(b);
    const clientWrites = recordWrites(a);
    const server = new HdlcServerLink(b, { addresses: [{ logical: 1, physical: 17 }], clock });
    const client = new HdlcClientLink(a, { client: 16, server: { logical: 1, physical: 17 }, clock });
    const request = randomBytes(5 * 1024);
    const response = randomBytes(5 * 1024 + 7);
    const ups: LinkAddress[] = [];
    server.on('up', (addr) => ups.push(addr));
    let seen: [Buffer, LinkAddress] | undefined;
    server.on('apdu', (apdu, addr) => {
      seen = [apdu, addr];
      server.send(response, addr).catch(() => undefined);
    });

    await drive(clock, client.connect());
    expect(client.parameters).toEqual({ maxInfoTx: 128, maxInfoRx: 128, windowTx: 1, windowRx: 1 });
    expect(ups).toEqual([{ client: 16, server: 1, physical: 17 }]);
    const reply = nextApdu(client);
    await drive(clock, client.send(request));
    const [got, from] = await drive(clock, reply);
    expect(seen![0].equals(request)).toBe(true);
    expect(seen![1]).toEqual({ client: 16, server: 1, physical: 17 });
    expect(got.equals(response)).toBe(true);
    expect(from).toEqual({ client: 16, server: 1, physical: 17 });
    // 5120 + 3 LLC octets in 128-octet segments = 41 I frames out, each answered RR, and back.
    expect(clientWrites.filter((w) => (w[1]! & 0xf8) === 0xa8)).toHaveLength(40);
    expect(serverWrites.filter((w) => (w[1]! & 0xf8) === 0xa8)).toHaveLength(40);

    const downs: LinkAddress[] = [];
    server.on('down', (addr) => downs.push(addr));
    await drive(clock, client.disconnect());
    expect(downs).toEqual([{ client: 16, server: 1, physical: 17 }]);
    expect(server.stationState({ logical: 1, physical: 17 })).toEqual({ mode: 'NDM' });
    await client.close();
    await settle();
  });

  it('answers only its own addresses; several logical devices share the line', async () => {
    const clock = new ManualClock();
    const [a, b] = createMemPair();
    const server = new HdlcServerLink(b, {
      addresses: [
        { logical: 1, physical: 17 },
        { logical: 3, physical: 17 },
      ],
      clock,
    });
    answer(server, (apdu) => Buffer.concat([Buffer.from([0xaa]), apdu]));
    const c3 = new HdlcClientLink(a, {
      client: 16,
      server: { logical: 3, physical: 17 },
      clock,
      closeTransport: false,
    });
    await drive(clock, c3.connect());
    const r = nextApdu(c3);
    await drive(clock, c3.send(Buffer.from([1, 2, 3])));
    expect((await drive(clock, r))[0]).toEqual(Buffer.from([0xaa, 1, 2, 3]));
    await drive(clock, c3.disconnect());
    await c3.close();

    const stranger = new HdlcClientLink(a, {
      client: 16,
      server: { logical: 9, physical: 17 },
      clock,
      responseTimeoutMs: 100,
      maxRetries: 1,
    });
    await expect(drive(clock, stranger.connect())).rejects.toMatchObject({ code: ErrorCode.LinkTimeout });
    await stranger.close();
    await server.close();
  });

  it('survives garbage on the line and keeps answering', async () => {
    const clock = new ManualClock();
    const [a, b] = createMemPair({ maxChunk: 5 });
    const server = new HdlcServerLink(b, { addresses: [{ logical: 1 }], clock });
    answer(server, (apdu) => apdu);
    await a.write(Buffer.from('not hdlc at all'));
    await a.write(Buffer.from([0x7e, 0xa0, 0x50, 0x03, 0x21, 0x10])); // truncated frame
    await settle();
    await clock.advanceAsync(600); // inter-octet timeout gives the partial frame up
    const client = new HdlcClientLink(a, { client: 16, server: { logical: 1 }, clock });
    await drive(clock, client.connect());
    const r = nextApdu(client);
    await drive(clock, client.send(Buffer.from('ping')));
    expect((await drive(clock, r))[0].toString()).toBe('ping');
    await client.close();
  });

  it('drops the connection on the inactivity timeout; the client then learns it from DM', async () => {
    const clock = new ManualClock();
    const [a, b] = createMemPair();
    const server = new HdlcServerLink(b, { addresses: [{ logical: 1 }], clock, inactivityTimeoutMs: 1_000 });
    answer(server, (apdu) => apdu);
    const client = new HdlcClientLink(a, { client: 16, server: { logical: 1 }, clock });
    await drive(clock, client.connect());
    const serverDown = new Promise<LinkAddress>((resolve) => server.once('down', (addr) => resolve(addr)));
    const clientDown = new Promise<SimError | undefined>((resolve) =>
      client.once('down', (_a, e) => resolve(e)),
    );
    await clock.advanceAsync(1_001);
    expect(await serverDown).toEqual({ client: 16, server: 1 });
    const failed = client.send(Buffer.from([1]));
    await expect(drive(clock, failed)).rejects.toMatchObject({ code: ErrorCode.LinkDisconnected });
    expect(await clientDown).toMatchObject({ code: ErrorCode.LinkDisconnected });
    expect(client.state).toEqual({ mode: 'NDM' });
    await client.close();
  });

  it('closes both ends: the server link reports the transport going away', async () => {
    const clock = new ManualClock();
    const [a, b] = createMemPair();
    const server = new HdlcServerLink(b, { addresses: [{ logical: 1 }], clock });
    const closed = new Promise<SimError | undefined>((resolve) => server.once('close', (e) => resolve(e)));
    const client = new HdlcClientLink(a, { client: 16, server: { logical: 1 }, clock });
    await drive(clock, client.connect());
    await drive(clock, client.close());
    expect(await closed).toMatchObject({ code: ErrorCode.TransportDisconnected });
    await expect(server.send(Buffer.from([1]), { client: 16, server: 1 })).rejects.toMatchObject({
      code: ErrorCode.LinkDisconnected,
    });
  });
});

describe('TCP wrapper links over a mem pair', () => {
  it('exchanges APDUs with swapped wPorts and shrugs off garbage', async () => {
    const [a, b] = createMemPair({ maxChunk: 3 });
    const serverWrites = recordWrites(b);
    const server = new WrapperServerLink(b, { serverAddresses: [1] });
    const client = new WrapperClientLink(a, { client: 16, server: 1 });
    answer(server, () => Buffer.from('c401c1000600001391', 'hex'));
    await client.connect();
    await a.write(Buffer.from([0xde, 0xad])); // not a wrapper header: discarded, no harm
    const r = nextApdu(client);
    const seen = nextApdu(server);
    await client.send(Buffer.from('c001c1000100002b0100ff0200', 'hex'));
    const [req, addr] = await seen;
    expect(req.toString('hex')).toBe('c001c1000100002b0100ff0200');
    expect(addr).toEqual({ client: 16, server: 1 });
    const [res, from] = await r;
    expect(res.toString('hex')).toBe('c401c1000600001391');
    expect(from).toEqual({ client: 16, server: 1 });
    // source = server 1, destination = client 16
    expect(serverWrites[0]!.subarray(0, 8).toString('hex')).toBe('0001000100100009');
    await client.close();
  });

  it('ignores frames for another logical device', async () => {
    const [a, b] = createMemPair();
    const server = new WrapperServerLink(b, { serverAddresses: [1] });
    const got: Buffer[] = [];
    server.on('apdu', (apdu) => got.push(apdu));
    const wrong = new WrapperClientLink(a, { client: 16, server: 5 });
    await wrong.send(Buffer.from([1]));
    const right = new WrapperClientLink(a, { client: 16, server: 1, closeTransport: false });
    await right.send(Buffer.from([2]));
    await new Promise((r) => setImmediate(r));
    await new Promise((r) => setImmediate(r));
    expect(got).toEqual([Buffer.from([2])]);
    await server.close();
  });
});

describe('IEC 62056-21 mode E front end', () => {
  const signOn = { manufacturer: 'APA', ident: 'NORAX30', baudChar: '5', offerHdlc: true } as const;

  it('signs on through an echoing optical head, switches 300 7E1 -> 9600 8N1, runs HDLC, and returns', async () => {
    const clock = new ManualClock();
    const [a, b] = createMemPair({ maxChunk: 4 });
    const meter = new ModeEServerLink(b, { signOn, hdlc: { addresses: [{ logical: 1 }] }, clock });
    answer(meter, (apdu) => Buffer.concat([Buffer.from([0xc4]), apdu]));
    await drive(clock, meter.ready);
    expect(b.getLineSettings()).toEqual({ baudRate: 300, dataBits: 7, parity: 'even', stopBits: 1 });

    const probe = withLine(a, { echo: 'local' }, clock); // the head reflects what the client sends
    const echoed: number[] = [];
    probe.on('data', (d) => echoed.push(d.length));
    const result = await drive(clock, signOnModeE(probe, { clock }));
    expect(result.identification).toEqual({
      type: 'identification',
      manufacturer: 'APA',
      baudChar: '5',
      enhanced: '2',
      ident: 'NORAX30',
    });
    expect(result.baudRate).toBe(9600);
    expect(a.getLineSettings()).toEqual({ baudRate: 9600, dataBits: 8, parity: 'none', stopBits: 1 });
    expect(b.getLineSettings()).toEqual({ baudRate: 9600, dataBits: 8, parity: 'none', stopBits: 1 });
    expect(meter.phase).toBe('hdlc');

    const client = new HdlcClientLink(probe, { client: 16, server: { logical: 1 }, clock, echoCancel: true });
    await drive(clock, client.connect());
    const r = nextApdu(client);
    await drive(clock, client.send(Buffer.from([0xc0, 0x01])));
    expect((await drive(clock, r))[0]).toEqual(Buffer.from([0xc4, 0xc0, 0x01]));
    expect(echoed.length).toBeGreaterThan(0); // the echo really was there
    await drive(clock, client.disconnect());
    await settle();
    expect(meter.phase).toBe('idle');
    expect(b.getLineSettings()).toEqual({ baudRate: 300, dataBits: 7, parity: 'even', stopBits: 1 });
    await client.close();
    await settle();
  });

  it('gives a normal readout, not HDLC, for 06 30 35 32 (the u9n#37 pitfall)', async () => {
    const clock = new ManualClock();
    const [a, b] = createMemPair();
    const meter = new ModeEServerLink(b, {
      signOn,
      hdlc: { addresses: [{ logical: 1 }] },
      readout: () => ['0-0:C.1.0(72432595)'],
      clock,
    });
    await drive(clock, meter.ready);
    const framer = new Iec21Framer();
    const heard: Iec21Message[] = [];
    a.on('data', (d) => {
      for (const o of framer.push(d)) if (o.kind === 'message') heard.push(o.message);
    });
    await a.write(encodeIec21Message({ type: 'request', address: '' }));
    await settle();
    await clock.advanceAsync(200); // reaction time
    await settle();
    expect(heard[0]).toMatchObject({ type: 'identification', enhanced: '2' });
    await a.write(Buffer.from([0x06, 0x30, 0x35, 0x32, 0x0d, 0x0a]));
    await settle();
    await clock.advanceAsync(200);
    await settle();
    expect(heard[1]).toEqual({ type: 'readout', lines: ['0-0:C.1.0(72432595)'] });
    expect(meter.phase).toBe('idle');
    expect(b.getLineSettings().baudRate).toBe(300); // back after the readout at 9600
    await meter.close();
  });

  it('wakes a battery meter with NULs and ignores HDLC before the sign-on', async () => {
    const clock = new ManualClock();
    const [a, b] = createMemPair();
    const meter = new ModeEServerLink(b, {
      signOn: { ...signOn, wakeUp: { minNuls: 63, awakeMs: 5_000 } },
      hdlc: { addresses: [{ logical: 1 }] },
      clock,
    });
    await drive(clock, meter.ready);
    expect(meter.phase).toBe('asleep');
    await a.write(Buffer.from('7ea00802232193bd647e', 'hex')); // an SNRM at 300 Bd: noise here
    await settle();
    expect(meter.phase).toBe('asleep');
    const result = await drive(clock, signOnModeE(a, { clock, wakeUp: true, echoCancel: false }));
    expect(result.baudRate).toBe(9600);
    expect(meter.phase).toBe('hdlc');
    await meter.close();
  });

  it('refuses to enter mode E when the meter does not offer HDLC', async () => {
    const clock = new ManualClock();
    const [a, b] = createMemPair();
    const meter = new ModeEServerLink(b, {
      signOn: { ...signOn, offerHdlc: false },
      hdlc: { addresses: [{ logical: 1 }] },
      clock,
    });
    await drive(clock, meter.ready);
    await expect(drive(clock, signOnModeE(a, { clock }))).rejects.toMatchObject({
      code: ErrorCode.LinkRejected,
    });
    await expect(
      drive(clock, signOnModeE(createMemPair()[0], { clock, identTimeoutMs: 500 })),
    ).rejects.toMatchObject({
      code: ErrorCode.LinkTimeout,
    });
    await meter.close();
  });
});
