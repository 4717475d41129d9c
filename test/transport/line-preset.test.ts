/**
 * `?preset=NAME` in the URI grammar (src/transport/uri.ts) and its application by the transport
 * (src/transport/line-preset.ts, open.ts), with a resolver written here: the transport layer
 * knows no preset files, so these tests need none. Hardware presets proper: test/hardware/
 * preset-connect.test.ts.
 */
import fc from 'fast-check';
import { ErrorCode, SimError } from '../../src/core/errors';
import { DEFAULT_ECHO_WAIT_MS, EchoCancelTransport } from '../../src/transport/line-echo';
import {
  applyLinePreset,
  PRESET_KEYS,
  resolveLinePreset,
  type LinePreset,
  type PresetResolver,
} from '../../src/transport/line-preset';
import { connect, listen } from '../../src/transport/open';
import { createPty } from '../../src/transport/pty';
import { formatTransportUri, parseTransportUri, type SerialDescriptor } from '../../src/transport/uri';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const SIGN_ON: LinePreset = {
  settings: { baudRate: 300, dataBits: 7, parity: 'even', stopBits: 1 },
  control: { rts: true, dtr: true },
  echoCancel: true,
};

const resolver: PresetResolver = (name) => {
  if (name === 'iec-head') return SIGN_ON;
  throw new SimError(ErrorCode.UsageError, `unknown hardware preset "${name}"; known presets: iec-head`);
};

function serial(uri: string): SerialDescriptor {
  const d = parseTransportUri(uri);
  if (d.scheme !== 'serial') throw new Error('not serial');
  return d;
}

describe('parseTransportUri: preset=NAME', () => {
  it('records the name and which params the URI gives explicitly', () => {
    const d = serial('serial:/dev/ttyUSB0?preset=iec-head&baud=9600&dtr=0');
    expect(d.preset).toEqual({ name: 'iec-head', explicit: ['baud', 'dtr'] });
    // An explicit default survives formatting under a preset: it overrides the preset's 300.
    expect(d.uri).toBe('serial:/dev/ttyUSB0?preset=iec-head&baud=9600&dtr=0');
    expect(parseTransportUri(d.uri)).toEqual(d);
  });

  it('is accepted on pty: (the client end of a link) and refused elsewhere', () => {
    expect(parseTransportUri('pty:/tmp/m1?preset=iec-head')).toMatchObject({ preset: { name: 'iec-head' } });
    for (const uri of [
      'tcp://127.0.0.1:7001?preset=x',
      'mem:a?preset=x',
      'tcp-listen://127.0.0.1:0?preset=x',
    ]) {
      expect(() => parseTransportUri(uri)).toThrow(/param "preset" is not valid for .*\(only serial, pty\)/);
    }
  });

  it.each(['', 'UPPER', '-dash', 'a b', 'x'.repeat(64), '../etc'])('refuses the name %j', (name) => {
    expect(() => parseTransportUri(`serial:/dev/ttyUSB0?preset=${encodeURIComponent(name)}`)).toThrow(
      expect.objectContaining({ code: ErrorCode.TransportUriInvalid }),
    );
  });

  it('echocancel and echowait are line params of every scheme, canonical when default', () => {
    expect(parseTransportUri('mem:a?echocancel=1&echowait=40')).toMatchObject({
      echoCancel: true,
      echoWaitMs: 40,
    });
    const off = parseTransportUri(`tcp://127.0.0.1:7?echocancel=0&echowait=${DEFAULT_ECHO_WAIT_MS}`);
    expect(off.echoCancel).toBeUndefined();
    expect(off.echoWaitMs).toBeUndefined();
    expect(off.uri).toBe('tcp://127.0.0.1:7');
    // Under a preset, an explicit echocancel=0 is kept: it switches the preset's cancelling off.
    const kept = serial('serial:/dev/ttyUSB0?preset=iec-head&echocancel=0');
    expect(kept).toMatchObject({ echoCancel: false, preset: { explicit: ['echocancel'] } });
    expect(kept.uri).toBe('serial:/dev/ttyUSB0?preset=iec-head&echocancel=0');
  });

  it('round-trips: parse(format(d)) equals d for any explicit subset under a preset', () => {
    const values: Record<(typeof PRESET_KEYS)[number], fc.Arbitrary<string>> = {
      baud: fc.constantFrom('300', '9600', '19200'),
      databits: fc.constantFrom('7', '8'),
      parity: fc.constantFrom('none', 'even', 'odd'),
      stopbits: fc.constantFrom('1', '2'),
      rts: fc.constantFrom('0', '1'),
      dtr: fc.constantFrom('0', '1'),
      echocancel: fc.constantFrom('0', '1'),
    };
    fc.assert(
      fc.property(fc.record(values, { requiredKeys: [] }), (given) => {
        const q = Object.entries(given).map(([k, v]) => `${k}=${v}`);
        const d = parseTransportUri(['serial:/dev/ttyS0?preset=p', ...q].join('&'));
        expect(parseTransportUri(formatTransportUri(d))).toEqual(d);
        expect(d.scheme === 'serial' && [...(d.preset?.explicit ?? [])].sort()).toEqual(
          Object.keys(given).sort(),
        );
      }),
    );
  });
});

describe('applyLinePreset / resolveLinePreset', () => {
  it('lays the preset under the explicit params', () => {
    const d = applyLinePreset(
      serial('serial:/dev/ttyUSB0?preset=iec-head&baud=1200&dtr=0&echocancel=0'),
      SIGN_ON,
    );
    expect(d.preset).toBeUndefined();
    expect(d.settings).toEqual({ baudRate: 1200, dataBits: 7, parity: 'even', stopBits: 1 });
    expect(d.control).toEqual({ rts: true, dtr: false });
    expect(d.echoCancel).toBeUndefined();
    // The URI stays what was asked for, so messages show what the user typed.
    expect(d.uri).toBe('serial:/dev/ttyUSB0?preset=iec-head&baud=1200&echocancel=0&dtr=0');
  });

  it('takes everything from the preset when nothing is explicit', () => {
    const d = resolveLinePreset(serial('serial:/dev/ttyUSB0?preset=iec-head'), resolver);
    expect(d).toMatchObject({
      settings: SIGN_ON.settings,
      control: { rts: true, dtr: true },
      echoCancel: true,
    });
  });

  it('passes descriptors without a preset through untouched', () => {
    const d = parseTransportUri('tcp://127.0.0.1:7001');
    expect(resolveLinePreset(d, undefined)).toBe(d);
  });

  it('refuses a preset when nobody supplied the hardware presets', () => {
    expect(() => resolveLinePreset(serial('serial:/dev/ttyUSB0?preset=iec-head'), undefined)).toThrow(
      /preset=iec-head needs the hardware presets/,
    );
  });

  it("passes the resolver's error for an unknown name through", () => {
    expect(() => resolveLinePreset(serial('serial:/dev/ttyUSB0?preset=nope'), resolver)).toThrow(
      'unknown hardware preset "nope"; known presets: iec-head',
    );
  });
});

describe('connect() and listen() with a preset', () => {
  const link = (n: string): string => join(tmpdir(), `smets1-preset-${process.pid}-${n}`);

  it('opens the client end of a pty at the preset line, echo cancelled', async () => {
    const path = link('a');
    const l = await createPty(path);
    try {
      const t = await connect(`pty:${path}?preset=iec-head&pace=0`, { preset: resolver });
      try {
        expect(t).toBeInstanceOf(EchoCancelTransport);
        expect(t.getLineSettings()).toEqual(SIGN_ON.settings);
        expect(t.info.uri).toBe(`pty:${path}?preset=iec-head&pace=0`);
      } finally {
        await t.close();
      }
    } finally {
      await l.close();
    }
  });

  it('listen on serial: applies a preset and ignores its echo (a meter hears none)', async () => {
    // /dev/null is no tty: getting as far as opening it means the preset was accepted.
    await expect(listen('serial:/dev/null?preset=iec-head', { preset: resolver })).rejects.toMatchObject({
      code: ErrorCode.TransportOpenFailed,
    });
    await expect(
      listen('serial:/dev/null?preset=iec-head&echocancel=1', { preset: resolver }),
    ).rejects.toThrow(/echocancel=1 is for the client side/);
  });

  it('refuses a preset without a resolver, and on pty: listen', async () => {
    await expect(connect('serial:/dev/null?preset=iec-head')).rejects.toMatchObject({
      code: ErrorCode.TransportUriInvalid,
    });
    await expect(listen(`pty:${link('b')}?preset=iec-head`, { preset: resolver })).rejects.toThrow(
      /preset= applies to the side that opens the pty link/,
    );
  });
});
