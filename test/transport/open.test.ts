import { ManualClock } from '../../src/core/clock';
import { ErrorCode, SimError } from '../../src/core/errors';
import { LineListener, LineTransport } from '../../src/transport/line';
import { createMemPair, MemTransport } from '../../src/transport/mem';
import { connect, listen } from '../../src/transport/open';
import { TcpListener } from '../../src/transport/tcp';
import { collect, nextConnection, record, tick } from './helpers';

describe('connect / listen dispatch', () => {
  const cleanup: { close(): Promise<void> }[] = [];
  afterEach(async () => {
    for (const c of cleanup.splice(0).reverse()) await c.close();
  });

  it('rejects (never throws synchronously) on a bad URI', async () => {
    const p = connect('serial:/dev/ttyUSB0?speed=9600');
    await expect(p).rejects.toMatchObject({
      code: ErrorCode.TransportUriInvalid,
      context: { param: 'speed' },
    });
    await expect(listen('gopher://x:1')).rejects.toMatchObject({
      code: ErrorCode.TransportUnsupportedScheme,
    });
  });

  it('refuses a server URI on connect and a client URI on listen, saying which to use', async () => {
    await expect(connect('tcp-listen://127.0.0.1:7001')).rejects.toThrow(
      '"tcp-listen://127.0.0.1:7001": tcp-listen:// is a server URI: use listen(), or tcp://HOST:PORT to connect',
    );
    await expect(listen('tcp://127.0.0.1:7001')).rejects.toThrow(
      '"tcp://127.0.0.1:7001": tcp:// is a client URI: use connect(), or tcp-listen://HOST:PORT to listen',
    );
    await expect(connect('mem:a?chunk=1')).rejects.toMatchObject({ code: ErrorCode.TransportUriInvalid });
  });

  it('mem: connects to a named listener, splits deliveries per ?chunk=, reports its line settings', async () => {
    const l = await listen('mem:open-test-1?chunk=2&baud=300&databits=7&parity=even');
    cleanup.push(l);
    const accepted = nextConnection(l);
    const c = await connect('mem:open-test-1');
    cleanup.push(c);
    const s = await accepted;
    expect(s).toBeInstanceOf(MemTransport);
    expect(s.getLineSettings()).toEqual({ baudRate: 300, dataBits: 7, parity: 'even', stopBits: 1 });
    const chunks = record(s);
    await c.write(Buffer.from('hello'));
    await tick();
    expect(chunks.map((b) => b.toString())).toEqual(['he', 'll', 'o']);
  });

  it('mem: refuses a second listener on a name and a connect with no listener', async () => {
    const l = await listen('mem:open-test-2');
    cleanup.push(l);
    await expect(listen('mem:open-test-2')).rejects.toMatchObject({ code: ErrorCode.TransportAddressInUse });
    await expect(connect('mem:open-test-nobody')).rejects.toMatchObject({
      code: ErrorCode.TransportConnectionRefused,
      message: 'mem:open-test-nobody: nothing is listening',
    });
  });

  it('wraps with line emulation only when the URI (or options) ask for it', async () => {
    const plain = await listen('mem:open-test-3');
    cleanup.push(plain);
    expect(plain).not.toBeInstanceOf(LineListener);
    const plainClient = await connect('mem:open-test-3');
    cleanup.push(plainClient);
    expect(plainClient).toBeInstanceOf(MemTransport);

    const clock = new ManualClock();
    const l = await listen('mem:open-test-4?echo=peer', { clock });
    cleanup.push(l);
    expect(l).toBeInstanceOf(LineListener);
    const accepted = nextConnection(l);
    const c = await connect('mem:open-test-4', { emulation: { echo: 'local' } });
    cleanup.push(c);
    expect(c).toBeInstanceOf(LineTransport);
    const s = await accepted;
    expect(s).toBeInstanceOf(LineTransport);
    // The client hears its local echo, then the server's peer echo of the same bytes.
    const heard = collect(c, 6);
    await c.write(Buffer.from('abc'));
    expect((await heard).toString()).toBe('abcabc');
  });

  it('tcp-listen with emulation keeps the bound port and params in the listener URI', async () => {
    const l = await listen('tcp-listen://127.0.0.1:0?turnaround=5');
    cleanup.push(l);
    expect(l).toBeInstanceOf(LineListener);
    const inner = (l as LineListener).inner as TcpListener;
    expect(inner).toBeInstanceOf(TcpListener);
    const port = inner.port;
    expect(port).toBeGreaterThan(0);
    expect(l.info.uri).toBe(`tcp-listen://127.0.0.1:${port}?turnaround=5`);
  });
});

describe('mem pairs hold bytes until someone listens', () => {
  it('delivers bytes written before the data listener was attached', async () => {
    const [a, b] = createMemPair();
    await a.write(Buffer.from('first'));
    await tick();
    await tick();
    const got = collect(b, 5);
    expect((await got).toString()).toBe('first');
    await a.close();
  });

  it('reports a SimError for writes after close and to a closed peer', async () => {
    const [a, b] = createMemPair();
    await b.close();
    await expect(a.write(Buffer.from([1]))).rejects.toBeInstanceOf(SimError);
    await a.close();
    await expect(a.write(Buffer.from([1]))).rejects.toMatchObject({ code: ErrorCode.TransportClosed });
  });
});
