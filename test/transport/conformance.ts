import { ErrorCode, SimError } from '../../src/core/errors';
import { connect } from '../../src/transport/open';
import type { Listener, Transport, TransportKind } from '../../src/transport/types';
import { collect, nextClose, nextConnection, pattern, settle } from './helpers';

/**
 * THE transport conformance suite (the issue: open, both directions, large writes,
 * fragmentation into 1-byte chunks, peer disconnect and reconnect, close while writing). One
 * function, run against every transport kind by conformance.test.ts.
 */
export interface ConformanceTarget {
  name: string;
  kind: TransportKind;
  /** Open the server side; `clientUri` is what a client passes to connect(). */
  listen(): Promise<{ listener: Listener; clientUri: string }>;
  /** Serial ports and ptys have one long-lived server connection that survives clients. */
  persistent: boolean;
  /** Size of the "large write" in each direction. */
  largeBytes: number;
}

export function transportConformance(target: ConformanceTarget): void {
  describe(`transport conformance: ${target.name}`, () => {
    let listener: Listener | undefined;
    const opened: Transport[] = [];

    async function pair(): Promise<{ client: Transport; server: Transport; clientUri: string }> {
      const l = await target.listen();
      listener = l.listener;
      const serverP = nextConnection(l.listener);
      const client = await connect(l.clientUri);
      opened.push(client);
      const server = await serverP;
      opened.push(server);
      return { client, server, clientUri: l.clientUri };
    }

    async function reconnect(
      clientUri: string,
      server: Transport,
    ): Promise<{ client: Transport; server: Transport }> {
      const serverP = target.persistent ? Promise.resolve(server) : nextConnection(listener!);
      const client = await connect(clientUri);
      opened.push(client);
      const s = await serverP;
      opened.push(s);
      return { client, server: s };
    }

    async function exchange(client: Transport, server: Transport, n: number, salt: number): Promise<void> {
      const up = pattern(n, salt);
      const down = pattern(n, salt + 101);
      const atServer = collect(server, n);
      const atClient = collect(client, n);
      await Promise.all([client.write(up), server.write(down)]);
      expect((await atServer).equals(up)).toBe(true);
      expect((await atClient).equals(down)).toBe(true);
    }

    afterEach(async () => {
      for (const t of opened.splice(0).reverse()) await t.close();
      await listener?.close();
      listener = undefined;
    });

    it('opens both ends with an info record and line settings', async () => {
      const { client, server, clientUri } = await pair();
      expect(client.isOpen).toBe(true);
      expect(server.isOpen).toBe(true);
      expect(client.info.kind).toBe(target.kind);
      expect(server.info.kind).toBe(target.kind);
      expect(client.info.uri.startsWith(clientUri.slice(0, clientUri.indexOf(':') + 1))).toBe(true);
      expect(client.info.path.length).toBeGreaterThan(0);
      expect(server.info.path.length).toBeGreaterThan(0);
      const line = client.getLineSettings();
      expect(line.baudRate).toBeGreaterThan(0);
      expect([5, 6, 7, 8]).toContain(line.dataBits);
    });

    it('carries every byte value both ways, unaltered (no echo, CR/LF or XON/XOFF translation)', async () => {
      const { client, server } = await pair();
      const all = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
      const reversed = Buffer.from(all).reverse();
      const atServer = collect(server, 256);
      await client.write(all);
      expect(await atServer).toEqual(all);
      const atClient = collect(client, 256);
      await server.write(reversed);
      expect(await atClient).toEqual(reversed);
    });

    it(`carries large writes (${target.largeBytes} bytes) in both directions at once, in order`, async () => {
      const { client, server } = await pair();
      await exchange(client, server, target.largeBytes, 3);
    });

    it('reassembles 1-byte writes in order', async () => {
      const { client, server } = await pair();
      const data = pattern(512, 9);
      const atServer = collect(server, data.length);
      const writes: Promise<void>[] = [];
      for (let i = 0; i < data.length; i++) writes.push(client.write(data.subarray(i, i + 1)));
      await Promise.all(writes);
      expect((await atServer).equals(data)).toBe(true);
      const back = pattern(512, 77);
      const atClient = collect(client, back.length);
      await Promise.all(Array.from(back, (b) => server.write(Uint8Array.of(b))));
      expect((await atClient).equals(back)).toBe(true);
    });

    it('survives a peer disconnect: the server side reports it (or persists), a new client talks', async () => {
      const { client, server, clientUri } = await pair();
      await exchange(client, server, 64, 5);
      const serverClosed = target.persistent ? undefined : nextClose(server);
      await client.close();
      expect(client.isOpen).toBe(false);
      if (serverClosed) {
        const err = await serverClosed;
        expect(err).toBeInstanceOf(SimError);
        expect(err?.code).toBe(ErrorCode.TransportDisconnected);
        expect(server.isOpen).toBe(false);
        await expect(server.write(Buffer.from([1]))).rejects.toMatchObject({
          code: ErrorCode.TransportClosed,
        });
      } else {
        expect(server.isOpen).toBe(true);
      }
      const again = await reconnect(clientUri, server);
      await exchange(again.client, again.server, 256, 6);
    });

    it('closes while writing: the write settles, later writes reject, one close event', async () => {
      const { client, server, clientUri } = await pair();
      // A transport reads (and so notices a disconnect) once someone listens for data.
      server.on('data', () => undefined);
      let closes = 0;
      client.on('close', () => closes++);
      const serverClosed = target.persistent ? undefined : nextClose(server);
      const pending = settle(client.write(pattern(target.largeBytes, 1)));
      const closing = client.close();
      await closing;
      await client.close();
      const outcome = await pending;
      if (!outcome.ok) {
        expect(outcome.error).toBeInstanceOf(SimError);
        expect((outcome.error as SimError).code).toBe(ErrorCode.TransportClosed);
      }
      expect(client.isOpen).toBe(false);
      await expect(client.write(Buffer.from([1]))).rejects.toMatchObject({ code: ErrorCode.TransportClosed });
      expect(closes).toBe(1);
      if (serverClosed) {
        expect((await serverClosed)?.code).toBe(ErrorCode.TransportDisconnected);
      }
      // Whatever was half-sent, a fresh client gets a clean exchange.
      const again = await reconnect(clientUri, server);
      if (target.persistent) await drainStale(again.server);
      await exchange(again.client, again.server, 128, 8);
    });

    if (!target.persistent) {
      it('reports a server-side close while writing to the client as a disconnect', async () => {
        const { client, server } = await pair();
        client.on('data', () => undefined);
        const clientClosed = nextClose(client);
        const pending = settle(server.write(pattern(target.largeBytes, 2)));
        await server.close();
        const outcome = await pending;
        if (!outcome.ok) expect((outcome.error as SimError).code).toBe(ErrorCode.TransportClosed);
        expect((await clientClosed)?.code).toBe(ErrorCode.TransportDisconnected);
        expect(client.isOpen).toBe(false);
      });
    }
  });
}

/**
 * On a persistent medium, bytes of an interrupted transfer may still sit in the server's input
 * (the kernel delivered them before the client closed). Read until the line is quiet.
 */
async function drainStale(server: Transport): Promise<void> {
  await new Promise<void>((resolve) => {
    let timer = setTimeout(done, 50);
    function onData(): void {
      clearTimeout(timer);
      timer = setTimeout(done, 50);
    }
    function done(): void {
      server.off('data', onData);
      resolve();
    }
    server.on('data', onData);
  });
}
