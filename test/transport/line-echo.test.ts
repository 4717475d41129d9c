/**
 * Echo cancellation (src/transport/line-echo.ts): the pure canceller as a transition table, a
 * property test (an echoing line gives exactly the meter's bytes back, a line without echo
 * loses nothing, whatever the chunking), the wrapper over a recording transport with a manual
 * clock, and connect() wiring (`echocancel=1` over `echo=local`).
 */
import fc from 'fast-check';
import { ManualClock } from '../../src/core/clock';
import { connect, listen } from '../../src/transport/open';
import {
  DEFAULT_ECHO_WAIT_MS,
  ECHO_IDLE,
  EchoCancelTransport,
  echoMask,
  echoStep,
  nextEchoDeadline,
  type EchoInput,
  type EchoState,
} from '../../src/transport/line-echo';
import { msPerChar } from '../../src/transport/line-pacer';
import { collect, nextConnection, RecordingTransport, tick } from './helpers';

const b = (...bytes: number[]): Buffer => Buffer.from(bytes);

/** Run inputs through the machine; return the final state and everything delivered. */
function run(
  inputs: EchoInput[],
  from: EchoState = ECHO_IDLE,
): { state: EchoState; out: Buffer; stripped: number; missed: number } {
  let state = from;
  const out: Buffer[] = [];
  let stripped = 0;
  let missed = 0;
  for (const i of inputs) {
    const r = echoStep(state, i);
    state = r.state;
    out.push(r.deliver);
    stripped += r.stripped;
    missed += r.missed;
  }
  return { state, out: Buffer.concat(out), stripped, missed };
}

const rx = (bytes: Buffer, now = 0, mask = 0xff): EchoInput => ({ kind: 'received', bytes, mask, now });
const tx = (bytes: Buffer, deadline = 1000): EchoInput => ({ kind: 'sent', bytes, deadline });

describe('echoStep: transitions', () => {
  it.each<[string, EchoInput[], number[], number, number]>([
    ['nothing expected: bytes pass', [rx(b(1, 2, 3))], [1, 2, 3], 0, 0],
    [
      'the whole echo, then the reply',
      [tx(b(0xee, 0x00, 0x10)), rx(b(0xee, 0x00, 0x10, 0xee, 0x00, 0x20))],
      [0xee, 0x00, 0x20],
      3,
      0,
    ],
    ['the echo split over chunks', [tx(b(1, 2, 3, 4)), rx(b(1)), rx(b(2, 3)), rx(b(4, 9))], [9], 4, 0],
    ['two writes, echoed in one chunk', [tx(b(1, 2)), tx(b(3)), rx(b(1, 2, 3, 7))], [7], 3, 0],
    // C12.18 request and response both start 0xEE 0x00: a line without echo loses nothing.
    [
      'no echo: a reply that starts like the request is released whole',
      [tx(b(0xee, 0x00, 0x10)), rx(b(0xee, 0x00, 0x20, 0x01))],
      [0xee, 0x00, 0x20, 0x01],
      0,
      3,
    ],
    [
      'no echo: held bytes across chunks are released in order',
      [tx(b(0x2f, 0x3f, 0x21)), rx(b(0x2f)), rx(b(0x41, 0x42))],
      [0x2f, 0x41, 0x42],
      0,
      3,
    ],
    [
      'a deadline that passes releases a partial match',
      [tx(b(5, 6, 7), 100), rx(b(5, 6), 50), { kind: 'expire', now: 100 }],
      [5, 6],
      0,
      3,
    ],
    ['an expired expectation does not strip later bytes', [tx(b(5), 100), rx(b(5), 101)], [5], 0, 1],
    [
      'reset hands back what was held',
      [tx(b(1, 2, 3)), rx(b(1, 2)), { kind: 'reset' }, rx(b(3))],
      [1, 2, 3],
      0,
      3,
    ],
  ])('%s', (_name, inputs, out, stripped, missed) => {
    const r = run(inputs);
    expect([...r.out]).toEqual(out);
    expect(r.stripped).toBe(stripped);
    expect(r.missed).toBe(missed);
  });

  it('compares only the data bits of a 7-bit line (the echo of 7E1 characters)', () => {
    const mask = echoMask({ baudRate: 300, dataBits: 7, parity: 'even', stopBits: 1 });
    expect(mask).toBe(0x7f);
    const r = run([tx(Buffer.from('/?!\r\n', 'latin1')), rx(b(0xaf, 0x3f, 0xa1, 0x0d, 0x8a, 0x2f), 0, mask)]);
    expect([...r.out]).toEqual([0x2f]);
    // On an 8-bit line the same bytes are not an echo.
    expect([...run([tx(b(0x2f)), rx(b(0xaf), 0, 0xff)]).out]).toEqual([0xaf]);
  });

  it('extend pushes deadlines out; the earliest pending deadline is reported', () => {
    const s = run([tx(b(1), 100), tx(b(2), 300)]).state;
    expect(nextEchoDeadline(s)).toBe(100);
    const later = echoStep(s, { kind: 'extend', deadline: 200 }).state;
    expect(later.expected.map((e) => e.deadline)).toEqual([200, 300]);
    expect(nextEchoDeadline(ECHO_IDLE)).toBeUndefined();
  });
});

describe('echoStep: properties', () => {
  const block = fc.uint8Array({ minLength: 1, maxLength: 40 }).map((u) => Buffer.from(u));
  /** Cut a buffer into chunks at random points. */
  const chunked = (buf: Buffer, cuts: number[]): Buffer[] => {
    const at = [...new Set(cuts.map((c) => c % (buf.length + 1)))].sort((x, y) => x - y);
    const out: Buffer[] = [];
    let prev = 0;
    for (const c of [...at, buf.length]) {
      if (c > prev) out.push(buf.subarray(prev, c));
      prev = c;
    }
    return out;
  };
  /** A property over 1 to 5 request/reply rounds and random cut points to chunk them at. */
  const forRounds = (body: (rounds: [Buffer, Buffer][], cuts: number[]) => void): void =>
    fc.assert(
      fc.property(
        fc.array(fc.tuple(block, block), { minLength: 1, maxLength: 5 }),
        fc.array(fc.nat(400)),
        body,
      ),
    );

  it('an echoing line: exactly the reply comes out, whatever the chunking', () => {
    forRounds((rounds, cuts) => {
      const inputs: EchoInput[] = [];
      const replies: Buffer[] = [];
      for (const [request, reply] of rounds) {
        inputs.push(tx(request));
        for (const c of chunked(Buffer.concat([request, reply]), cuts)) inputs.push(rx(c));
        replies.push(reply);
      }
      const r = run(inputs);
      expect(r.out.equals(Buffer.concat(replies))).toBe(true);
      expect(r.stripped).toBe(rounds.reduce((n, [q]) => n + q.length, 0));
    });
  });

  it('a line without echo: nothing is lost, duplicated or reordered once the expectation ends', () => {
    forRounds((rounds, cuts) => {
      const inputs: EchoInput[] = [];
      const received: Buffer[] = [];
      let now = 0;
      for (const [request, reply] of rounds) {
        // A reply that begins with the whole request is indistinguishable from an echo.
        fc.pre(!reply.subarray(0, request.length).equals(request));
        inputs.push(tx(request, now + 10));
        for (const c of chunked(reply, cuts)) inputs.push(rx(c, now));
        received.push(reply);
        now += 20;
        inputs.push({ kind: 'expire', now });
      }
      const r = run(inputs);
      expect(r.out.equals(Buffer.concat(received))).toBe(true);
      expect(r.state.expected).toHaveLength(0);
    });
  });
});

describe('EchoCancelTransport', () => {
  async function setup(
    waitMs?: number,
  ): Promise<{ clock: ManualClock; inner: RecordingTransport; t: EchoCancelTransport; got: Buffer[] }> {
    const clock = new ManualClock();
    const inner = new RecordingTransport(clock, { baudRate: 300, dataBits: 7, parity: 'even' });
    const t = new EchoCancelTransport(inner, { clock, ...(waitMs !== undefined ? { waitMs } : {}) });
    const got: Buffer[] = [];
    t.on('data', (c) => got.push(c));
    await tick();
    return { clock, inner, t, got };
  }

  it('strips the echo of a sign-on request and passes the identification', async () => {
    const { inner, t, got } = await setup();
    await t.write(Buffer.from('/?!\r\n', 'latin1'));
    expect(inner.sent.toString('latin1')).toBe('/?!\r\n');
    inner.receive(Buffer.from('/?!', 'latin1'));
    inner.receive(Buffer.from('\r\n/XSM5GDG1\r\n', 'latin1'));
    expect(Buffer.concat(got).toString('latin1')).toBe('/XSM5GDG1\r\n');
    expect(t.stats).toEqual({ stripped: 5, missed: 0, lateTimers: 0 });
  });

  it('waits for an echo no longer than the transmission at the line speed plus waitMs', async () => {
    const { clock, inner, t, got } = await setup(50);
    const req = Buffer.from('/?!\r\n', 'latin1');
    await t.write(req);
    const txMs = req.length * msPerChar(inner.getLineSettings());
    inner.receive(Buffer.from('/', 'latin1'));
    clock.advance(txMs + 49);
    expect(got).toHaveLength(0);
    clock.advance(1);
    // The line did not echo the rest: the held '/' belongs to the protocol after all.
    expect(Buffer.concat(got).toString('latin1')).toBe('/');
    expect(t.stats.missed).toBe(5);
    inner.receive(Buffer.from('?!', 'latin1'));
    expect(Buffer.concat(got).toString('latin1')).toBe('/?!');
  });

  it('a deadline timer that fires late (a stalled event loop) waits again instead of giving up', async () => {
    // A clock whose timers the test fires by hand, at any time it likes.
    let mono = 0;
    const timers: { fn: () => void; at: number }[] = [];
    const clock = new ManualClock();
    clock.monotonic = () => mono;
    clock.setTimeout = (fn, ms) => {
      timers.push({ fn, at: mono + ms });
      return { id: timers.length };
    };
    clock.clearTimeout = () => undefined;
    const inner = new RecordingTransport(clock);
    const t = new EchoCancelTransport(inner, { clock, waitMs: 50 });
    const got: Buffer[] = [];
    t.on('data', (c) => got.push(c));
    await tick();
    await t.write(b(0xee, 0x00, 0x51));
    const first = timers[timers.length - 1]!;
    mono = first.at + 150; // the process was descheduled past the deadline
    first.fn();
    expect(t.stats.lateTimers).toBe(1);
    // The echo was waiting in the kernel and is read now: still stripped.
    inner.receive(b(0xee, 0x00, 0x51, 0xee, 0x00, 0x00));
    expect([...Buffer.concat(got)]).toEqual([0xee, 0x00, 0x00]);
    expect(t.stats).toMatchObject({ stripped: 3, missed: 0 });
    // A timer on time does give up.
    await t.write(b(0x06));
    const next = timers[timers.length - 1]!;
    mono = next.at;
    next.fn();
    expect(t.stats.missed).toBe(1);
  });

  it('a line change ends the expectation (an echo at the old speed cannot match)', async () => {
    const { inner, t, got } = await setup();
    await t.write(b(0x06, 0x32, 0x35));
    inner.receive(b(0x06));
    await t.setLineSettings({ baudRate: 9600, dataBits: 8, parity: 'none' });
    expect([...Buffer.concat(got)]).toEqual([0x06]);
    inner.receive(b(0x7e));
    expect([...Buffer.concat(got)]).toEqual([0x06, 0x7e]);
  });

  it('is the default wait documented in docs/transports.md', () => {
    expect(DEFAULT_ECHO_WAIT_MS).toBe(500);
  });
});

describe('connect(): echocancel over an echoing line', () => {
  it("mem:NAME?echo=local&echocancel=1 hands the protocol only the peer's bytes", async () => {
    const l = await listen('mem:echo-cancel-1');
    const accepted = nextConnection(l);
    const client = await connect('mem:echo-cancel-1?echo=local&echocancel=1');
    const server = await accepted;
    try {
      expect(client).toBeInstanceOf(EchoCancelTransport);
      const heard = collect(server, 4);
      const got = collect(client, 3);
      await client.write(b(1, 2, 3, 4));
      expect([...(await heard)]).toEqual([1, 2, 3, 4]);
      await server.write(b(9, 8, 7));
      expect([...(await got)]).toEqual([9, 8, 7]);
      expect((client as EchoCancelTransport).stats.stripped).toBe(4);
    } finally {
      await client.close();
      await l.close();
    }
  });

  it('without echocancel the same line hands the protocol its own echo', async () => {
    const l = await listen('mem:echo-cancel-2');
    const client = await connect('mem:echo-cancel-2?echo=local');
    try {
      const got = collect(client, 2);
      await client.write(b(1, 2));
      expect([...(await got)]).toEqual([1, 2]);
    } finally {
      await client.close();
      await l.close();
    }
  });

  it('listen refuses echocancel=1: a meter hears no echo of its answers', async () => {
    await expect(listen('mem:echo-cancel-3?echocancel=1')).rejects.toMatchObject({
      message: expect.stringContaining('echocancel=1 is for the client side'),
    });
  });
});
