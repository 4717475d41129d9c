/**
 * Issue 7 item 3: our DLMS client and server interoperate over real transports — a real
 * pseudo-terminal (in-process pty master, the client opening the link like a serial port, with
 * line pacing on as `pty:` has it by default) over direct HDLC and over IEC 62056-21 mode E
 * (300 Bd 7E1 sign-on with the battery wake-up NULs, then the switch to the acknowledged speed
 * on both ends), and TCP loopback over the wrapper and over HDLC (a serial-to-IP converter's
 * raw stream). Every case reads an object_list larger than 4 KiB through a 128-byte client PDU,
 * so the GET answer arrives in many blocks. Real clock and real pacing: the direct HDLC pty runs
 * at 115200 Bd (about 2 s); mode E spends about 6 s waking and signing on at 300 Bd and about
 * 7 s on the list at 19200 Bd (the fastest mode C speed character, '6').
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DlmsClient } from '../../src/protocols/dlms/client';
import {
  HdlcClientLink,
  HdlcServerLink,
  WrapperClientLink,
  WrapperServerLink,
} from '../../src/protocols/dlms/link';
import { signOnModeE } from '../../src/protocols/dlms/link/mode-e-client';
import { ModeEServerLink } from '../../src/protocols/dlms/link/mode-e-server';
import type { ApduClientLink, ApduLink } from '../../src/protocols/dlms/link/types';
import { TracedChannel, type DlmsTraceEntry } from '../../src/profiles/dlms-serve';
import { connect, listen } from '../../src/transport/open';
import type { LineSettings, Listener, Transport } from '../../src/transport/types';
import { management } from '../protocols/dlms/client/helpers';
import { buildMeter, type Meter } from '../protocols/dlms/server/fixture';

const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

function ptyPath(): string {
  const dir = mkdtempSync(join(tmpdir(), 'smets1-dlms-pty-'));
  dirs.push(dir);
  return join(dir, 'meter');
}

function firstConnection(l: Listener): Promise<Transport> {
  return new Promise((resolve) => l.once('connection', resolve));
}

const SERVER = { logical: 1, physical: 17 };

/** Associate as management with a 128-byte PDU and read the object_list; the APDUs received. */
async function readBigObjectList(meter: Meter, link: ApduClientLink): Promise<DlmsTraceEntry[]> {
  const trace: DlmsTraceEntry[] = [];
  const channel = new TracedChannel(link, (e) => trace.push(e));
  const dlms = new DlmsClient(channel, { address: link.address, timeoutMs: 20_000 });
  await dlms.associate(management({ maxReceivePduSize: 128 }));
  const from = trace.length;
  const list = await dlms.readObjectList();
  const answers = trace.slice(from).filter((t) => t.dir === 'rx');
  expect(list.length).toBe(meter.registry.visible('management').length);
  expect(list.length).toBeGreaterThan(150);
  // Block transfer: every answer fits the 128-byte PDU, and together they carry over 4 KiB.
  const bytes = answers.reduce((n, t) => n + t.apdu.length / 2, 0);
  expect(bytes).toBeGreaterThan(4096);
  expect(answers.every((t) => t.apdu.length / 2 <= 128)).toBe(true);
  expect(answers.length).toBeGreaterThan(4096 / 128);
  // LN-ciphered association: each block travels as a glo-get-response (CC), the datablock inside.
  expect(answers.every((t) => t.apdu.startsWith('cc'))).toBe(true);
  await dlms.release();
  return trace;
}

async function closeAll(...items: { close(): Promise<void> }[]): Promise<void> {
  for (const i of items) await i.close().catch(() => undefined);
}

describe('DLMS client <-> server over a real pty', () => {
  it('direct HDLC: SNRM/UA, HLS management association, object_list > 4 KiB in 128-byte blocks', async () => {
    const path = ptyPath();
    const meter = buildMeter({ extraObjects: 150 });
    const listener = await listen(`pty:${path}`);
    const line = firstConnection(listener);
    const client = await connect(`pty:${path}?baud=115200`);
    const server = await line;
    const serverLink = new HdlcServerLink(server, { addresses: [SERVER], closeTransport: false });
    const detach = meter.server.attach(serverLink);
    const link = new HdlcClientLink(client, { client: 1, server: SERVER });
    try {
      await link.connect();
      await readBigObjectList(meter, link);
      await link.disconnect();
    } finally {
      detach();
      await closeAll(link, serverLink, client, listener);
    }
  }, 60_000);

  it('mode E: woken by NULs, 300 Bd 7E1 sign-on, both ends switch to 19200 8N1, then HDLC', async () => {
    const path = ptyPath();
    const meter = buildMeter({ extraObjects: 150 });
    const listener = await listen(`pty:${path}`);
    const line = firstConnection(listener);
    const client = await connect(`pty:${path}`);
    const server = await line;
    const serverLines: LineSettings[] = [];
    const origSet = server.setLineSettings.bind(server);
    server.setLineSettings = (s) => {
      serverLines.push({ ...server.getLineSettings(), ...s });
      return origSet(s);
    };
    const port: ApduLink & { phase: string } = new ModeEServerLink(server, {
      signOn: {
        manufacturer: 'XSM',
        ident: 'GDG1',
        baudChar: '6',
        offerHdlc: true,
        wakeUp: { minNuls: 63, awakeMs: 30_000 },
      },
      hdlc: { addresses: [SERVER] },
      closeTransport: false,
    });
    const detach = meter.server.attach(port);
    let link: HdlcClientLink | undefined;
    try {
      await (port as ModeEServerLink).ready;
      expect(port.phase).toBe('asleep');
      const signed = await signOnModeE(client, { baudChar: '6', wakeUp: { nuls: 84 } });
      expect(signed.identification).toMatchObject({ manufacturer: 'XSM', ident: 'GDG1' });
      expect(signed.baudRate).toBe(19_200);
      expect(client.getLineSettings()).toMatchObject({ baudRate: 19_200, dataBits: 8, parity: 'none' });
      link = new HdlcClientLink(client, { client: 1, server: SERVER });
      await link.connect();
      expect(port.phase).toBe('hdlc');
      // The meter listened at 300 Bd 7E1 and switched to the acknowledged speed, 8N1.
      expect(serverLines[0]).toMatchObject({ baudRate: 300, dataBits: 7, parity: 'even' });
      expect(serverLines.at(-1)).toMatchObject({ baudRate: 19_200, dataBits: 8, parity: 'none' });
      await readBigObjectList(meter, link);
      await link.disconnect();
    } finally {
      detach();
      await closeAll(...(link ? [link] : []), port, client, listener);
    }
  }, 60_000);
});

describe('DLMS client <-> server over TCP loopback', () => {
  it.each(['wrapper', 'hdlc'] as const)(
    '%s: object_list > 4 KiB in 128-byte blocks',
    async (kind) => {
      const meter = buildMeter({ extraObjects: 150 });
      const listener = await listen('tcp-listen://127.0.0.1:0');
      const links: ApduLink[] = [];
      listener.on('connection', (t) => {
        const l =
          kind === 'wrapper'
            ? new WrapperServerLink(t, { serverAddresses: [1] })
            : new HdlcServerLink(t, { addresses: [SERVER] });
        links.push(l);
        meter.server.attach(l);
      });
      const client = await connect(`tcp://${listener.info.path}`);
      const link: ApduClientLink =
        kind === 'wrapper'
          ? new WrapperClientLink(client, { client: 1, server: 1 })
          : new HdlcClientLink(client, { client: 1, server: SERVER });
      try {
        if (link instanceof HdlcClientLink) await link.connect();
        const trace = await readBigObjectList(meter, link);
        expect(trace.every((t) => t.link === kind)).toBe(true);
        expect(trace[0]).toMatchObject({ dir: 'tx', client: 1 });
        expect(trace[0]!.apdu.slice(0, 2)).toBe('60'); // the AARQ
      } finally {
        await closeAll(link, ...links, client, listener);
      }
    },
    30_000,
  );
});
