import fc from 'fast-check';
import { ErrorCode, SimError } from '../../src/core/errors';
import { NO_EMULATION, type LineEmulation } from '../../src/transport/line-options';
import { bitsPerChar, type LineSettings } from '../../src/transport/types';
import { formatTransportUri, parseTransportUri, type TransportDescriptor } from '../../src/transport/uri';

function uriError(uri: string): SimError {
  try {
    parseTransportUri(uri);
  } catch (e) {
    if (e instanceof SimError) return e;
    throw e;
  }
  throw new Error(`${uri} parsed, expected an error`);
}

describe('parseTransportUri: the examples of the issue and DESIGN.md', () => {
  it('parses a full serial URI and keeps only non-defaults in the canonical form', () => {
    const d = parseTransportUri(
      'serial:/dev/ttyUSB0?baud=9600&databits=8&parity=none&stopbits=1&rts=1&dtr=0',
    );
    expect(d).toEqual({
      scheme: 'serial',
      uri: 'serial:/dev/ttyUSB0?rts=1&dtr=0',
      path: '/dev/ttyUSB0',
      control: { rts: true, dtr: false },
      lock: true,
      settings: { baudRate: 9600, dataBits: 8, parity: 'none', stopBits: 1 },
      emulation: NO_EMULATION,
    });
  });

  it('parses 300 7E1 for IEC 62056-21 sign-on (dlms.md §1): 10 bits per character', () => {
    const d = parseTransportUri('serial:/dev/ttyUSB0?baud=300&databits=7&parity=even');
    expect(d.settings).toEqual({ baudRate: 300, dataBits: 7, parity: 'even', stopBits: 1 });
    expect(bitsPerChar(d.settings)).toBe(10);
    expect(d.uri).toBe('serial:/dev/ttyUSB0?baud=300&databits=7&parity=even');
  });

  it('parses a pty link: pacing on by default, baud poll 250 ms', () => {
    const d = parseTransportUri('pty:/tmp/meter-1');
    expect(d).toMatchObject({
      scheme: 'pty',
      path: '/tmp/meter-1',
      baudPollMs: 250,
      uri: 'pty:/tmp/meter-1',
    });
    expect(d.emulation).toEqual({ ...NO_EMULATION, pace: true });
    expect(parseTransportUri('pty:/tmp/meter-1?pace=0').emulation.pace).toBe(false);
  });

  it('parses tcp and tcp-listen with IPv4, names and bracketed IPv6', () => {
    expect(parseTransportUri('tcp://127.0.0.1:7001')).toMatchObject({
      scheme: 'tcp',
      host: '127.0.0.1',
      port: 7001,
      timeoutMs: 10_000,
    });
    expect(parseTransportUri('tcp://meter-1.farm.local:7001?timeout=500')).toMatchObject({
      host: 'meter-1.farm.local',
      timeoutMs: 500,
    });
    expect(parseTransportUri('tcp://[::1]:7001')).toMatchObject({
      host: '::1',
      port: 7001,
      uri: 'tcp://[::1]:7001',
    });
    expect(parseTransportUri('tcp-listen://0.0.0.0:0')).toMatchObject({
      scheme: 'tcp-listen',
      host: '0.0.0.0',
      port: 0,
    });
    expect(parseTransportUri('TCP://127.0.0.1:1').scheme).toBe('tcp');
  });

  it('parses mem names and the line emulation option set', () => {
    const d = parseTransportUri('mem:meter-1?pace=1&echo=1&noise=0.001&seed=7&turnaround=20&chunk=1');
    expect(d).toMatchObject({ scheme: 'mem', name: 'meter-1', chunk: 1 });
    const expected: LineEmulation = {
      ...NO_EMULATION,
      pace: true,
      echo: 'local',
      noise: 0.001,
      seed: 7,
      turnaroundMs: 20,
    };
    expect(d.emulation).toEqual(expected);
    expect(d.uri).toBe('mem:meter-1?pace=1&turnaround=20&echo=local&noise=0.001&seed=7&chunk=1');
    expect(parseTransportUri('mem:x?echo=peer&drop=0.5&gap=3&gaprate=0.25&faults=rx').emulation).toEqual({
      ...NO_EMULATION,
      echo: 'peer',
      drop: 0.5,
      gapMs: 3,
      gapRate: 0.25,
      faults: 'rx',
    });
  });

  it('percent-decodes paths and re-encodes them', () => {
    const d = parseTransportUri('serial:/dev/serial/by-id/usb-FTDI%20Probe%3F-if00?baud=2400');
    expect(d).toMatchObject({ path: '/dev/serial/by-id/usb-FTDI Probe?-if00' });
    expect(d.uri).toBe('serial:/dev/serial/by-id/usb-FTDI%20Probe%3F-if00?baud=2400');
  });
});

describe('parseTransportUri: errors name the URI and the cause', () => {
  it.each([
    ['serial:/dev/ttyUSB0?speed=9600', 'unknown param "speed"', 'speed'],
    ['tcp://127.0.0.1:7001?rts=1', 'param "rts" is not valid for tcp', 'rts'],
    ['serial:/dev/ttyUSB0?databits=9', 'databits="9": expected an integer 5..8', 'databits'],
    ['serial:/dev/ttyUSB0?parity=pink', 'parity="pink": expected none|even|odd|mark|space', 'parity'],
    ['serial:/dev/ttyUSB0?stopbits=3', 'stopbits="3": expected 1|1.5|2', 'stopbits'],
    ['serial:/dev/ttyUSB0?rts=yes', 'rts="yes": expected 0 or 1', 'rts'],
    ['serial:/dev/ttyUSB0?baud=0', 'baud="0": expected an integer 1..4000000', 'baud'],
    ['serial:/dev/ttyUSB0?baud=96OO', 'baud="96OO"', 'baud'],
    ['mem:x?noise=2', 'noise="2": expected a number 0..1', 'noise'],
    ['mem:x?echo=maybe', 'echo="maybe"', 'echo'],
    ['mem:x?seed=-1', 'seed="-1"', 'seed'],
    ['mem:x?pace', 'param "pace" has no value', 'pace'],
    ['mem:x?pace=1&pace=0', 'param "pace" given twice', 'pace'],
  ])('%s -> TransportUriInvalid (%s)', (uri, text, param) => {
    const e = uriError(uri);
    expect(e.code).toBe(ErrorCode.TransportUriInvalid);
    expect(e.message).toContain(JSON.stringify(uri));
    expect(e.message).toContain(text);
    expect(e.context).toMatchObject({ uri, param });
  });

  it.each([
    ['/dev/ttyUSB0', 'missing scheme'],
    ['serial:', 'missing device path'],
    ['pty:?baud=300', 'missing link path'],
    ['mem:', 'missing name'],
    ['tcp://127.0.0.1', 'missing :PORT'],
    ['tcp:127.0.0.1:7001', 'expected //HOST:PORT'],
    ['tcp://127.0.0.1:0', 'bad port "0": expected 1..65535'],
    ['tcp-listen://127.0.0.1:65536', 'bad port "65536": expected 0..65535'],
    ['tcp://bad_host:1', 'bad host "bad_host"'],
    ['tcp://[::1:7001', 'expected [IPV6]:PORT'],
    ['serial:/dev/tty%zz', 'bad percent-encoding'],
    ['mem:a?&pace=1', 'empty query parameter'],
  ])('%s -> TransportUriInvalid (%s)', (uri, text) => {
    const e = uriError(uri);
    expect(e.code).toBe(ErrorCode.TransportUriInvalid);
    expect(e.message).toContain(text);
    expect(e.context['uri']).toBe(uri);
  });

  it('rejects unknown schemes with TransportUnsupportedScheme', () => {
    const e = uriError('http://example.com:80');
    expect(e.code).toBe(ErrorCode.TransportUnsupportedScheme);
    expect(e.context).toEqual({ uri: 'http://example.com:80', scheme: 'http' });
  });
});

// ---- property tests --------------------------------------------------------------------------

const settingsArb: fc.Arbitrary<LineSettings> = fc.record({
  baudRate: fc.constantFrom(300, 1200, 2400, 9600, 19200, 115200, 4_000_000, 1),
  dataBits: fc.constantFrom(5, 6, 7, 8) as fc.Arbitrary<LineSettings['dataBits']>,
  parity: fc.constantFrom('none', 'even', 'odd', 'mark', 'space') as fc.Arbitrary<LineSettings['parity']>,
  stopBits: fc.constantFrom(1, 1.5, 2) as fc.Arbitrary<LineSettings['stopBits']>,
});

const rate = fc.oneof(fc.constant(0), fc.constant(1), fc.double({ min: 0, max: 1, noNaN: true }));
const delay = fc.oneof(
  fc.constant(0),
  fc.integer({ min: 0, max: 3_600_000 }),
  fc.double({ min: 0, max: 1000, noNaN: true }),
);

const emulationArb: fc.Arbitrary<LineEmulation> = fc.record({
  pace: fc.boolean(),
  turnaroundMs: delay,
  echo: fc.constantFrom('off', 'local', 'peer') as fc.Arbitrary<LineEmulation['echo']>,
  noise: rate,
  drop: rate,
  gapMs: delay,
  gapRate: rate,
  seed: fc.integer({ min: 0, max: 0xffffffff }),
  faults: fc.constantFrom('tx', 'rx', 'both') as fc.Arbitrary<LineEmulation['faults']>,
});

const pathArb = fc.string({ minLength: 1, maxLength: 30 }).filter((s) => !s.includes('\0'));
const hostArb = fc.oneof(
  fc.constantFrom('127.0.0.1', 'localhost', 'meter-1.farm.local', '::1', 'fe80::1', '0.0.0.0'),
  fc.ipV4(),
);

const descriptorArb: fc.Arbitrary<TransportDescriptor> = fc.oneof(
  fc
    .record({
      scheme: fc.constant('mem' as const),
      uri: fc.constant(''),
      name: pathArb,
      settings: settingsArb,
      emulation: emulationArb,
      chunk: fc.option(fc.integer({ min: 1, max: 0x7fffffff }), { nil: undefined }),
    })
    .map((d) => {
      if (d.chunk === undefined) delete (d as { chunk?: number }).chunk;
      return d;
    }),
  fc.record({
    scheme: fc.constant('tcp' as const),
    uri: fc.constant(''),
    host: hostArb,
    port: fc.integer({ min: 1, max: 65535 }),
    timeoutMs: fc.integer({ min: 0, max: 3_600_000 }),
    settings: settingsArb,
    emulation: emulationArb,
  }),
  fc.record({
    scheme: fc.constant('tcp-listen' as const),
    uri: fc.constant(''),
    host: hostArb,
    port: fc.integer({ min: 0, max: 65535 }),
    settings: settingsArb,
    emulation: emulationArb,
  }),
  fc.record({
    scheme: fc.constant('serial' as const),
    uri: fc.constant(''),
    path: pathArb,
    control: fc.record({ rts: fc.boolean(), dtr: fc.boolean() }, { requiredKeys: [] }),
    lock: fc.boolean(),
    settings: settingsArb,
    emulation: emulationArb,
  }),
  fc.record({
    scheme: fc.constant('pty' as const),
    uri: fc.constant(''),
    path: pathArb,
    baudPollMs: fc.integer({ min: 0, max: 3_600_000 }),
    settings: settingsArb,
    emulation: emulationArb,
  }),
);

describe('parseTransportUri / formatTransportUri properties', () => {
  it('parse(format(d)) === d for every descriptor', () => {
    fc.assert(
      fc.property(descriptorArb, (d) => {
        const uri = formatTransportUri(d);
        const back = parseTransportUri(uri);
        expect(back).toEqual({ ...d, uri });
        expect(formatTransportUri(back)).toBe(uri);
      }),
      { numRuns: 1500 },
    );
  });

  const valid = [
    'serial:/dev/ttyUSB0?baud=300&databits=7&parity=even&rts=1&dtr=0',
    'tcp://127.0.0.1:7001?pace=1&noise=0.001&seed=7&turnaround=20',
    'tcp-listen://[::1]:0?echo=peer',
    'pty:/tmp/meter-1?baudpoll=100&gap=2&gaprate=0.5',
    'mem:meter-1?chunk=1&drop=0.01&faults=tx',
  ];

  function checkAnyInput(uri: string): void {
    let d: TransportDescriptor;
    try {
      d = parseTransportUri(uri);
    } catch (e) {
      expect(e).toBeInstanceOf(SimError);
      expect([ErrorCode.TransportUriInvalid, ErrorCode.TransportUnsupportedScheme]).toContain(
        (e as SimError).code,
      );
      expect((e as SimError).context['uri']).toBe(uri);
      return;
    }
    // Anything accepted has a canonical form that parses to the same descriptor.
    expect(parseTransportUri(d.uri)).toEqual(d);
  }

  it('random strings never crash: a descriptor or a coded SimError naming the URI', () => {
    fc.assert(fc.property(fc.string({ maxLength: 80 }), checkAnyInput), { numRuns: 2000 });
  });

  it('mutated valid URIs never crash', () => {
    const mutated = fc
      .tuple(
        fc.constantFrom(...valid),
        fc.array(fc.tuple(fc.nat(), fc.nat(), fc.string({ maxLength: 3 })), { maxLength: 4 }),
      )
      .map(([u, edits]) => {
        let s = u;
        for (const [at, del, ins] of edits) {
          const i = at % (s.length + 1);
          s = s.slice(0, i) + ins + s.slice(i + (del % 3));
        }
        return s;
      });
    fc.assert(fc.property(mutated, checkAnyInput), { numRuns: 2000 });
  });
});
