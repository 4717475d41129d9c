import net from 'node:net';
import fc from 'fast-check';
import {
  EphemeralPorts,
  parseReservedPorts,
  systemEphemeralPorts,
} from '../../src/transport/ephemeral-ports';
import { listenTcp } from '../../src/transport/tcp';

describe('EphemeralPorts', () => {
  it('walks the even ports from the random start, then the odd ones, then wraps', () => {
    const p = new EphemeralPorts(
      100,
      107,
      () => false,
      () => 0.5,
    );
    const walk = Array.from({ length: 9 }, () => p.next());
    // evens 100,102,104,106 (start at index 2 of 4), odds 101,103,105,107
    expect(walk).toEqual([104, 106, 101, 103, 105, 107, 100, 102, 104]);
  });

  it('skips reserved ports and gives up after a lap of nothing but reserved ones', () => {
    const p = new EphemeralPorts(10, 13, parseReservedPorts('11,12-12'), () => 0);
    expect([p.next(), p.next(), p.next()]).toEqual([10, 13, 10]);
    expect(new EphemeralPorts(10, 11, parseReservedPorts('10-11')).next()).toBeUndefined();
  });

  it('every port of the range comes exactly once per lap, whatever the range and start', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 65000 }),
        fc.integer({ min: 0, max: 300 }),
        fc.double({ min: 0, max: 0.999999, noNaN: true }),
        (low, span, r) => {
          const high = Math.min(65535, low + span);
          const p = new EphemeralPorts(
            low,
            high,
            () => false,
            () => r,
          );
          const lap = Array.from({ length: high - low + 1 }, () => p.next()!);
          expect(new Set(lap).size).toBe(lap.length);
          expect(Math.min(...lap)).toBe(low);
          expect(Math.max(...lap)).toBe(high);
        },
      ),
    );
  });

  it('parses the kernel syntax for reserved ports and ignores junk', () => {
    const r = parseReservedPorts('8080, 9000-9002,x,\n');
    expect([8079, 8080, 8999, 9000, 9002, 9003].map(r)).toEqual([false, true, false, true, true, false]);
    expect(parseReservedPorts('')(1)).toBe(false);
  });

  it('refuses a range outside 1-65535', () => {
    expect(() => new EphemeralPorts(0, 10)).toThrow(RangeError);
    expect(() => new EphemeralPorts(10, 9)).toThrow(RangeError);
  });

  it('on Linux reads the kernel range', () => {
    const p = systemEphemeralPorts();
    if (process.platform !== 'linux') return expect(p).toBeNull();
    expect(p!.low).toBeGreaterThan(0);
    expect(p!.high).toBeGreaterThanOrEqual(p!.low);
  });
});

describe('listenTcp on port 0', () => {
  const listening = async (): Promise<net.Server> => {
    const s = net.createServer();
    await new Promise<void>((r) => s.listen({ host: '127.0.0.1', port: 0 }, r));
    return s;
  };
  const portOf = (s: net.Server): number => (s.address() as net.AddressInfo).port;

  it('tries the ports it is given in turn, steps over a taken one, and reports the bound port', async () => {
    const other = await listening();
    const spare = await listening();
    const free = portOf(spare);
    await new Promise((r) => spare.close(r));
    const tried: number[] = [];
    const script = [portOf(other), free];
    const l = await listenTcp('127.0.0.1', 0, {
      ports: {
        next: () => {
          const p = script.shift();
          if (p !== undefined) tried.push(p);
          return p;
        },
      },
    });
    try {
      expect(tried).toEqual([portOf(other), free]);
      expect(l.port).toBe(free);
      expect(l.info.uri).toBe(`tcp-listen://127.0.0.1:${free}`);
    } finally {
      await l.close();
      await new Promise((r) => other.close(r));
    }
  });

  it('falls back to the kernel when the walk has nothing to offer, or only taken ports', async () => {
    const other = await listening();
    const none = await listenTcp('127.0.0.1', 0, { ports: new EphemeralPorts(5, 5, () => true) });
    const busy = await listenTcp('127.0.0.1', 0, { ports: { next: () => portOf(other) } });
    try {
      expect(none.port).toBeGreaterThan(0);
      expect(busy.port).toBeGreaterThan(0);
      expect(busy.port).not.toBe(portOf(other));
    } finally {
      await none.close();
      await busy.close();
      await new Promise((r) => other.close(r));
    }
  });

  it('two port-0 listeners of the default walk get different ports of the kernel range', async () => {
    const [a, b] = [await listenTcp('127.0.0.1', 0), await listenTcp('127.0.0.1', 0)];
    try {
      expect(a.port).not.toBe(b.port);
      const range = systemEphemeralPorts();
      if (range) for (const p of [a.port, b.port]) expect(p >= range.low && p <= range.high).toBe(true);
    } finally {
      await a.close();
      await b.close();
    }
  });

  it('leaves other errors alone: an address that is not ours', async () => {
    await expect(listenTcp('192.0.2.1', 0)).rejects.toMatchObject({ codeName: expect.any(String) });
  });
});
