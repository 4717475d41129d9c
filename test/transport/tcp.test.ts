import { ManualClock } from '../../src/core/clock';
import { ErrorCode, SimError } from '../../src/core/errors';
import { connectTcp, listenTcp, type TcpListener } from '../../src/transport/tcp';
import type { Transport } from '../../src/transport/types';
import { collect, nextClose, nextConnection, settle, tick } from './helpers';

describe('tcp transport', () => {
  const cleanup: { close(): Promise<void> }[] = [];
  afterEach(async () => {
    for (const c of cleanup.splice(0).reverse()) await c.close();
  });

  async function server(port = 0): Promise<TcpListener> {
    const l = await listenTcp('127.0.0.1', port);
    cleanup.push(l);
    return l;
  }

  it('reports the bound port of tcp-listen://HOST:0 in its info, and the peers in each info', async () => {
    const l = await server();
    expect(l.port).toBeGreaterThan(0);
    expect(l.info).toEqual({
      kind: 'tcp',
      uri: `tcp-listen://127.0.0.1:${l.port}`,
      path: `127.0.0.1:${l.port}`,
    });
    const accepted = nextConnection(l);
    const c = await connectTcp('127.0.0.1', l.port);
    cleanup.push(c);
    const s = await accepted;
    expect(c.info).toEqual({
      kind: 'tcp',
      uri: `tcp://127.0.0.1:${l.port}`,
      path: s.info.peer,
      peer: `127.0.0.1:${l.port}`,
    });
    expect(s.info.uri).toBe(l.info.uri);
    expect(s.info.path).toBe(`127.0.0.1:${l.port}`);
  });

  it('names the URI when the address is in use (EADDRINUSE)', async () => {
    const l = await server();
    const e = await listenTcp('127.0.0.1', l.port).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(SimError);
    expect((e as SimError).code).toBe(ErrorCode.TransportAddressInUse);
    expect((e as SimError).message).toBe(
      `tcp-listen://127.0.0.1:${l.port}: listen failed: address in use (EADDRINUSE)`,
    );
    expect((e as SimError).context).toEqual({
      uri: `tcp-listen://127.0.0.1:${l.port}`,
      op: 'listen',
      errno: 'EADDRINUSE',
    });
  });

  it('names the URI when nothing listens (ECONNREFUSED)', async () => {
    const l = await listenTcp('127.0.0.1', 0);
    const port = l.port;
    await l.close();
    const e = await connectTcp('127.0.0.1', port).catch((x: unknown) => x);
    expect((e as SimError).code).toBe(ErrorCode.TransportConnectionRefused);
    expect((e as SimError).message).toBe(
      `tcp://127.0.0.1:${port}: connect failed: connection refused (ECONNREFUSED)`,
    );
  });

  it('times out a connect on the injected clock', async () => {
    const l = await server();
    const clock = new ManualClock();
    const p = settle(connectTcp('127.0.0.1', l.port, { clock, timeoutMs: 1500 }));
    clock.advance(1500);
    const r = await p;
    expect(r.ok).toBe(false);
    expect((r as { error: SimError }).error.code).toBe(ErrorCode.TransportTimeout);
    expect((r as { error: SimError }).error.message).toBe(
      `tcp://127.0.0.1:${l.port}: connect timed out after 1500 ms`,
    );
    expect(clock.pending).toBe(0);
  });

  it('holds bytes that arrive before anyone listens for data', async () => {
    const l = await server();
    const accepted = nextConnection(l);
    const c = await connectTcp('127.0.0.1', l.port);
    cleanup.push(c);
    await c.write(Buffer.from('early bytes'));
    const s = await accepted;
    for (let i = 0; i < 5; i++) await tick();
    expect((await collect(s, 11)).toString()).toBe('early bytes');
  });

  it('a client holds bytes that arrive before anyone listens for data (onread path)', async () => {
    const l = await server();
    const accepted = nextConnection(l);
    const c = await connectTcp('127.0.0.1', l.port);
    cleanup.push(c);
    const s = await accepted;
    cleanup.push(s);
    await s.write(Buffer.from('hello '));
    await s.write(Buffer.from('client'));
    for (let i = 0; i < 5; i++) await tick();
    await new Promise((r) => setTimeout(r, 20));
    expect((await collect(c, 12)).toString()).toBe('hello client');
  });

  it('clients sharing one read buffer each get exactly their own bytes', async () => {
    const l = await server();
    const n = 16;
    const clients: Transport[] = [];
    const servers: Transport[] = [];
    for (let i = 0; i < n; i++) {
      const accepted = nextConnection(l);
      clients.push(await connectTcp('127.0.0.1', l.port));
      servers.push(await accepted);
    }
    cleanup.push(...clients, ...servers);
    // 16 connections x 40 KB each, written in interleaved 1 KB pieces.
    const payload = (i: number): Buffer => Buffer.alloc(40 * 1024, i + 1).fill(0xa0 + i, 0, 7);
    // Chunks kept as delivered, not copied: a chunk that still pointed into the shared read
    // buffer would be overwritten by later reads and fail the comparison.
    const got = clients.map(
      (c) =>
        new Promise<Buffer[]>((resolve) => {
          const kept: Buffer[] = [];
          let total = 0;
          c.on('data', (chunk: Buffer) => {
            kept.push(chunk);
            total += chunk.length;
            if (total >= 40 * 1024) resolve(kept);
          });
        }),
    );
    for (let off = 0; off < 40 * 1024; off += 1024)
      for (let i = 0; i < n; i++) void servers[i]!.write(payload(i).subarray(off, off + 1024));
    // Joined only once every client has everything (other reads happened in between).
    const received = (await Promise.all(got)).map((kept) => Buffer.concat(kept));
    received.forEach((r, i) => expect(r.equals(payload(i))).toBe(true));
  });

  it('hands connections accepted before a connection listener to the first one attached', async () => {
    const l = await server();
    const c = await connectTcp('127.0.0.1', l.port);
    cleanup.push(c);
    for (let i = 0; i < 5; i++) await tick();
    const s = await nextConnection(l);
    cleanup.push(s);
    const got = collect(c, 2);
    await s.write(Buffer.from('ok'));
    expect((await got).toString()).toBe('ok');
  });

  it('closes accepted connections when the listener closes', async () => {
    const l = await listenTcp('127.0.0.1', 0);
    const accepted = nextConnection(l);
    const c = await connectTcp('127.0.0.1', l.port);
    c.on('data', () => undefined);
    const s = await accepted;
    const closed = nextClose(c);
    let listenerClosed = 0;
    l.on('close', () => listenerClosed++);
    await l.close();
    await l.close();
    expect((await closed)?.code).toBe(ErrorCode.TransportDisconnected);
    expect(s.isOpen).toBe(false);
    expect(listenerClosed).toBe(1);
  });

  it('runs many listeners in one process, each on its own port', async () => {
    const ls = await Promise.all(Array.from({ length: 200 }, () => listenTcp('127.0.0.1', 0)));
    try {
      expect(new Set(ls.map((l) => l.port)).size).toBe(200);
      // Every one of them answers.
      const last = ls[199]!;
      const accepted = nextConnection(last);
      const c: Transport = await connectTcp('127.0.0.1', last.port);
      const s = await accepted;
      const got = collect(s, 3);
      await c.write(Buffer.from('hi!'));
      expect((await got).toString()).toBe('hi!');
      await c.close();
    } finally {
      await Promise.all(ls.map((l) => l.close()));
    }
  });
});
