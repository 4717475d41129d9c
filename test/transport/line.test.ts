import { ManualClock } from '../../src/core/clock';
import { ErrorCode, SimError } from '../../src/core/errors';
import { withLine, type LineTransport } from '../../src/transport/line';
import { msPerChar, PACE_EARLY_MS, PACE_TICK_MS } from '../../src/transport/line-pacer';
import type { LineSettings } from '../../src/transport/types';
import { pattern, record, RecordingTransport, settle } from './helpers';

/** Let queued microtasks (the zero-delay pump) run. */
const microtasks = (): Promise<void> => new Promise((r) => setImmediate(r));

async function setup(
  line: Partial<LineSettings>,
  options: Parameters<typeof withLine>[1],
): Promise<{ clock: ManualClock; inner: RecordingTransport; t: LineTransport }> {
  const clock = new ManualClock();
  const inner = new RecordingTransport(clock, line);
  const t = withLine(inner, options, clock);
  await microtasks();
  return { clock, inner, t };
}

describe('withLine: baud pacing from absolute deadlines', () => {
  it.each([
    [300, 7, 'even'],
    [9600, 8, 'none'],
    [115200, 8, 'none'],
  ] as const)(
    'paces 10,000 bytes at %d %d%s1 within 0.5%% of the ideal line time',
    async (baudRate, dataBits, parity) => {
      const { clock, inner, t } = await setup({ baudRate, dataBits, parity }, { pace: true });
      const data = pattern(10_000);
      const mpc = msPerChar(t.getLineSettings());
      const ideal = 10_000 * mpc; // 7E1 and 8N1 are both 10 bits per character
      expect(mpc).toBeCloseTo((10 * 1000) / baudRate, 9);
      const done = settle(t.write(data));
      await microtasks();
      clock.advance(ideal * 0.5);
      const half = inner.sent.length;
      clock.advance(ideal * 0.5 + 10 * PACE_TICK_MS);
      await microtasks();
      expect((await done).ok).toBe(true);
      expect(inner.sent.equals(data)).toBe(true);
      // Half way through the line time, half the bytes have arrived (within one slice).
      expect(Math.abs(half - 5_000)).toBeLessThanOrEqual(Math.ceil(PACE_TICK_MS / mpc) + 1);
      // Every slice arrives no earlier than its last character could have, and no later than a tick.
      let sent = 0;
      let earliest = Infinity;
      let latest = -Infinity;
      for (const w of inner.writes) {
        sent += w.bytes.length;
        earliest = Math.min(earliest, w.at - sent * mpc);
        latest = Math.max(latest, w.at - sent * mpc);
      }
      expect(earliest).toBeGreaterThanOrEqual(-PACE_EARLY_MS - 1e-9);
      expect(latest).toBeLessThanOrEqual(1e-9);
      const end = inner.writes[inner.writes.length - 1]!.at;
      expect(Math.abs(end - ideal) / ideal).toBeLessThan(0.005);
    },
  );

  it('does not drift when writes are queued back to back: deadlines chain from the first byte', async () => {
    const { clock, inner, t } = await setup({ baudRate: 9600 }, { pace: true });
    const writes = [t.write(pattern(96)), t.write(pattern(96, 1)), t.write(pattern(768, 2))];
    await microtasks();
    clock.advance(2000);
    await Promise.all(writes);
    const mpc = msPerChar(t.getLineSettings());
    expect(inner.sent.length).toBe(960);
    expect(inner.writes[inner.writes.length - 1]!.at).toBeCloseTo(960 * mpc, 6); // exactly 1 s
  });

  it('restarts from now after the line was idle', async () => {
    const { clock, inner, t } = await setup({ baudRate: 9600 }, { pace: true });
    const first = t.write(pattern(4));
    await microtasks();
    clock.advance(500);
    await first;
    const second = t.write(pattern(4));
    await microtasks();
    clock.advance(100);
    await second;
    expect(inner.writes.map((w) => w.at)).toEqual([
      4 * msPerChar(t.getLineSettings()),
      500 + 4 * msPerChar(t.getLineSettings()),
    ]);
  });

  it('follows setLineSettings after draining at the old speed (IEC 62056-21: 300 7E1 -> 9600 8N1)', async () => {
    const { clock, inner, t } = await setup({ baudRate: 300, dataBits: 7, parity: 'even' }, { pace: true });
    const lines: LineSettings[] = [];
    t.on('line', (s) => lines.push(s));
    // ACK 0 5 0 CR LF (dlms.md §1): 6 characters at 300 baud = 200 ms.
    const ack = t.write(Buffer.from([0x06, 0x30, 0x35, 0x30, 0x0d, 0x0a]));
    const switched = settle(t.setLineSettings({ baudRate: 9600, dataBits: 8, parity: 'none' }));
    await microtasks();
    clock.advance(199);
    await microtasks();
    expect(lines).toEqual([]);
    clock.advance(1);
    await ack;
    await microtasks();
    expect((await switched).ok).toBe(true);
    expect(lines).toEqual([{ baudRate: 9600, dataBits: 8, parity: 'none', stopBits: 1 }]);
    const reply = t.write(pattern(96));
    await microtasks();
    clock.advance(100);
    await reply;
    expect(inner.writes[inner.writes.length - 1]!.at).toBeCloseTo(200 + 100, 6); // 96 chars at 960/s
  });

  it('follows the peer: a line event from the inner transport (a pty client) re-paces output', async () => {
    const { clock, inner, t } = await setup({ baudRate: 9600 }, { pace: true });
    const seen: number[] = [];
    t.on('line', (s) => seen.push(s.baudRate));
    inner.peerSetsLine({ baudRate: 1200 });
    expect(seen).toEqual([1200]);
    const w = t.write(pattern(12));
    await microtasks();
    clock.advance(200);
    await w;
    expect(inner.writes[inner.writes.length - 1]!.at).toBeCloseTo(100, 6); // 12 chars at 120/s
  });
});

describe('withLine: turnaround, echo, faults, gaps', () => {
  it('delays the first byte of a reply until turnaround ms after the last received byte', async () => {
    const { clock, inner, t } = await setup({}, { turnaroundMs: 20 });
    t.on('data', () => undefined);
    clock.advance(5);
    inner.receive(Buffer.from('request'));
    clock.advance(3);
    const reply = t.write(Buffer.from('reply'));
    await microtasks();
    clock.advance(16);
    await microtasks();
    expect(inner.writes).toEqual([]);
    clock.advance(1);
    await reply;
    expect(inner.writes).toEqual([{ at: 25, bytes: Buffer.from('reply') }]);
    // Unsolicited output (nothing received since) goes at once.
    const more = t.write(Buffer.from('more'));
    await microtasks();
    await more;
    expect(inner.writes[1]).toEqual({ at: 25, bytes: Buffer.from('more') });
  });

  it('echoes everything written into our own data stream (optical head, dlms.md §1)', async () => {
    const { clock, inner, t } = await setup({ baudRate: 9600 }, { echo: 'local', pace: true });
    const got = record(t);
    const w = t.write(Buffer.from('/?!\r\n'));
    await microtasks();
    clock.advance(10);
    await w;
    expect(Buffer.concat(got).toString()).toBe('/?!\r\n');
    expect(inner.sent.toString()).toBe('/?!\r\n');
    inner.receive(Buffer.from('/ISK5\r\n'));
    expect(Buffer.concat(got).toString()).toBe('/?!\r\n/ISK5\r\n');
    expect(t.stats).toMatchObject({ echoedBytes: 5, sentBytes: 5, receivedBytes: 7 });
  });

  it('echoes what the peer sends back to it at once with echo=peer', async () => {
    const { inner, t } = await setup({}, { echo: 'peer', turnaroundMs: 50 });
    const got = record(t);
    inner.receive(Buffer.from([0x7e, 0xa0, 0x07]));
    expect(inner.writes).toEqual([{ at: 0, bytes: Buffer.from([0x7e, 0xa0, 0x07]) }]);
    expect(Buffer.concat(got)).toEqual(Buffer.from([0x7e, 0xa0, 0x07]));
  });

  it('corrupts output with seeded noise: same seed, same corruption; other seed, other corruption', async () => {
    const data = pattern(20_000);
    async function run(seed: number): Promise<{ sent: Buffer; flipped: number }> {
      const { inner, t } = await setup({}, { noise: 0.001, seed });
      await t.write(data);
      return { sent: inner.sent, flipped: t.stats.flippedBits };
    }
    const a = await run(7);
    const b = await run(7);
    const c = await run(8);
    expect(a.sent.equals(b.sent)).toBe(true);
    expect(a.flipped).toBe(b.flipped);
    expect(a.sent.equals(c.sent)).toBe(false);
    expect(a.sent.equals(data)).toBe(false);
    expect(a.sent.length).toBe(data.length);
    // 160,000 data bits at 0.1%: about 160 flips.
    expect(a.flipped).toBeGreaterThan(100);
    expect(a.flipped).toBeLessThan(220);
  });

  it('applies faults only in the chosen direction', async () => {
    const data = pattern(5_000);
    const { inner, t } = await setup({}, { noise: 0.01, drop: 0.01, seed: 3, faults: 'rx' });
    const got = record(t);
    await t.write(data);
    expect(inner.sent.equals(data)).toBe(true);
    inner.receive(data);
    const received = Buffer.concat(got);
    expect(received.equals(data)).toBe(false);
    expect(received.length).toBe(data.length - t.stats.droppedBytes);
    expect(t.stats.droppedBytes).toBeGreaterThan(0);
  });

  it('reproduces received-side faults independently of how the bytes were chunked', async () => {
    const data = pattern(3_000);
    async function run(chunk: number): Promise<Buffer> {
      const { inner, t } = await setup({}, { noise: 0.005, drop: 0.005, seed: 11 });
      const got = record(t);
      for (let i = 0; i < data.length; i += chunk) inner.receive(data.subarray(i, i + chunk));
      return Buffer.concat(got);
    }
    expect((await run(1)).equals(await run(1000))).toBe(true);
  });

  it('inserts inter-character gaps as separate deliveries', async () => {
    const { clock, inner, t } = await setup({}, { gapMs: 50 });
    const w = t.write(Buffer.from('abc'));
    await microtasks();
    clock.advance(200);
    await w;
    expect(inner.writes).toEqual([
      { at: 50, bytes: Buffer.from('a') },
      { at: 100, bytes: Buffer.from('b') },
      { at: 150, bytes: Buffer.from('c') },
    ]);
  });
});

describe('withLine: closing', () => {
  it('rejects queued writes with TransportClosed, cancels its timers and closes the inner transport', async () => {
    const { clock, inner, t } = await setup({ baudRate: 300 }, { pace: true });
    let closes = 0;
    t.on('close', (e) => {
      closes++;
      expect(e).toBeUndefined();
    });
    const a = settle(t.write(pattern(100)));
    const b = settle(t.write(pattern(100)));
    await microtasks();
    clock.advance(100);
    await t.close();
    await t.close();
    for (const r of [await a, await b]) {
      expect(r.ok).toBe(false);
      expect((r as { error: SimError }).error.code).toBe(ErrorCode.TransportClosed);
    }
    expect(clock.pending).toBe(0);
    expect(inner.isOpen).toBe(false);
    expect(t.isOpen).toBe(false);
    expect(closes).toBe(1);
    await expect(t.write(Buffer.from([1]))).rejects.toMatchObject({ code: ErrorCode.TransportClosed });
    await expect(t.setLineSettings({ baudRate: 9600 })).rejects.toMatchObject({
      code: ErrorCode.TransportClosed,
    });
  });

  it('reports the peer going away with its error and rejects what was queued', async () => {
    const { clock, inner, t } = await setup({ baudRate: 300 }, { pace: true });
    const closed = new Promise<SimError | undefined>((r) => t.once('close', r));
    const w = settle(t.write(pattern(50)));
    await microtasks();
    clock.advance(100);
    inner.drop();
    expect((await closed)?.code).toBe(ErrorCode.TransportDisconnected);
    const r = await w;
    expect(r.ok).toBe(false);
    expect(clock.pending).toBe(0);
  });

  it('passes control lines and info through', async () => {
    const { inner, t } = await setup({}, { pace: true });
    await t.setControlLines({ rts: true, dtr: false });
    expect(inner.controlLines).toEqual([{ rts: true, dtr: false }]);
    expect(t.info).toBe(inner.info);
  });
});
