import {
  existsSync,
  lstatSync,
  mkdtempSync,
  readFileSync,
  readlinkSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ManualClock } from '../../src/core/clock';
import { ErrorCode, SimError } from '../../src/core/errors';
import type { LineTransport } from '../../src/transport/line';
import { connect, listen } from '../../src/transport/open';
import { createPty, type PtyTransport } from '../../src/transport/pty';
import type { LineSettings, Listener, Transport } from '../../src/transport/types';
import { collect, nextConnection } from './helpers';

const dir = mkdtempSync(join(tmpdir(), 'smets1-pty-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;
const linkPath = (): string => join(dir, `meter-${++n}`);

describe('pty: listening side', () => {
  const open: { close(): Promise<void> }[] = [];
  afterEach(async () => {
    for (const o of open.splice(0).reverse()) await o.close();
  });

  async function pty(uriOrLink: string): Promise<{ listener: Listener; server: Transport }> {
    const listener = await listen(uriOrLink.startsWith('pty:') ? uriOrLink : `pty:${uriOrLink}`);
    open.push(listener);
    return { listener, server: await nextConnection(listener) };
  }

  it('links a fresh pseudo-terminal at the path and reports it in info', async () => {
    const link = linkPath();
    const { server } = await pty(`${link}?pace=0`);
    const target = readlinkSync(link);
    expect(target).toMatch(/^\/dev\/pts\/\d+$/);
    expect(server.info).toEqual({ kind: 'pty', uri: `pty:${link}?pace=0`, path: link, peer: target });
    expect(lstatSync(link).isSymbolicLink()).toBe(true);
  });

  it('removes the link on close, and closing the transport closes the listener', async () => {
    const link = linkPath();
    const listener = await listen(`pty:${link}`);
    const server = await nextConnection(listener);
    let listenerClosed = 0;
    listener.on('close', () => listenerClosed++);
    await server.close();
    expect(existsSync(link)).toBe(false);
    expect(listenerClosed).toBe(1);
    await listener.close();
    expect(listenerClosed).toBe(1);
  });

  it('refuses to overwrite a regular file at the link path', async () => {
    const link = linkPath();
    writeFileSync(link, 'precious');
    const e = await listen(`pty:${link}`).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(SimError);
    expect((e as SimError).code).toBe(ErrorCode.TransportAddressInUse);
    expect((e as SimError).message).toBe(
      `pty:${link}: ${link} exists and is not a symlink; refusing to overwrite it`,
    );
    expect(readFileSync(link, 'utf8')).toBe('precious');
  });

  it('replaces a stale symlink (left by a killed simulator)', async () => {
    const link = linkPath();
    symlinkSync('/dev/pts/does-not-exist', link);
    const { server } = await pty(`${link}?pace=0`);
    expect(readlinkSync(link)).toBe(server.info.peer);
  });

  it('refuses a symlink that points at a live device (another simulator owns it)', async () => {
    const link = linkPath();
    const { server } = await pty(link);
    const e = await listen(`pty:${link}`).catch((x: unknown) => x);
    expect((e as SimError).code).toBe(ErrorCode.TransportAddressInUse);
    expect((e as SimError).message).toContain(`already links to the live device ${server.info.peer}`);
    expect(readlinkSync(link)).toBe(server.info.peer);
  });

  it('reports the baud rate the client set (read from the master when data arrives)', async () => {
    const link = linkPath();
    const { server } = await pty(`${link}?pace=0&baudpoll=0`);
    const lines: LineSettings[] = [];
    server.on('line', (s) => lines.push(s));
    const got = collect(server, 1);
    const client = await connect(`pty:${link}?baud=2400&pace=0`);
    open.push(client);
    await client.write(Buffer.from([0x55]));
    await got;
    await waitFor(() => lines.length > 0);
    expect(lines[0]!.baudRate).toBe(2400);
    expect(server.getLineSettings().baudRate).toBe(2400);
    expect((server as PtyTransport).clientBaudRate).toBe(2400);
  });

  it('notices a client speed change by polling, with no data (IEC mode-E switch to 9600)', async () => {
    const link = linkPath();
    const { server } = await pty(`${link}?pace=0&baudpoll=10`);
    const client = await connect(`pty:${link}?baud=300&databits=7&parity=even&pace=0`);
    open.push(client);
    await waitFor(() => server.getLineSettings().baudRate === 300);
    const lines: number[] = [];
    server.on('line', (s) => lines.push(s.baudRate));
    await client.setLineSettings({ baudRate: 9600, dataBits: 8, parity: 'none' });
    await waitFor(() => lines.length > 0);
    expect(lines).toEqual([9600]);
    // The reopened port still talks.
    const got = collect(server, 3);
    await client.write(Buffer.from('ok\n'));
    expect((await got).toString()).toBe('ok\n');
  });

  it('paces output at the baud the client set (pacing on by default for pty:)', async () => {
    const link = linkPath();
    const clock = new ManualClock();
    const listener = await listen(`pty:${link}?baudpoll=0`, { clock });
    open.push(listener);
    const server = (await nextConnection(listener)) as LineTransport;
    const seen = collect(server, 1);
    const client = await connect(`pty:${link}?baud=1200&pace=0`);
    open.push(client);
    await client.write(Buffer.from([0x2f]));
    await seen;
    await waitFor(() => server.getLineSettings().baudRate === 1200);
    // 1200 8N1 = 120 chars/s = 8.33 ms per character.
    const received = collect(client, 10);
    const done = server.write(Buffer.from('0123456789'));
    await new Promise((r) => setImmediate(r));
    clock.advance(50);
    expect(server.stats.sentBytes).toBe(6);
    clock.advance(34);
    await done;
    expect(server.stats.sentBytes).toBe(10);
    expect((await received).toString()).toBe('0123456789');
  });
});

describe('pty: client side errors', () => {
  it('reports a missing link as TransportNotFound naming the URI, without a native stack', async () => {
    const uri = `pty:${join(dir, 'nobody-here')}`;
    const e = await connect(uri).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(SimError);
    expect((e as SimError).code).toBe(ErrorCode.TransportNotFound);
    expect((e as SimError).message).toMatch(new RegExp(`^${escape(uri)}: open failed: no such device`));
    expect((e as SimError).message).not.toMatch(/\n\s+at /);
  });

  it('reports a second client on a locked pty as TransportBusy', async () => {
    const link = linkPath();
    const listener = await createPty(link);
    try {
      const first = await connect(`pty:${link}?pace=0`);
      const e = await connect(`pty:${link}?pace=0`).catch((x: unknown) => x);
      await first.close();
      expect((e as SimError).code).toBe(ErrorCode.TransportBusy);
      expect((e as SimError).message).toContain(`pty:${link}?pace=0: open failed: in use by another process`);
    } finally {
      await listener.close();
    }
  });
});

function escape(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** Wait for an asynchronous observation (I/O, not time, is what we wait for). */
async function waitFor(cond: () => boolean): Promise<void> {
  for (let i = 0; i < 2000 && !cond(); i++) await new Promise((r) => setTimeout(r, 5));
  expect(cond()).toBe(true);
}
