import fc from 'fast-check';
import { ErrorCode } from '../../src/core/errors';
import { defaultPresets, resolvePreset } from '../../src/hardware/preset-loader';
import { matchPreset, normaliseUsbId } from '../../src/hardware/preset-match';
import {
  presetProtocols,
  presetSerialSettings,
  presetTimeouts,
  serialUriParams,
} from '../../src/hardware/serial-settings';
import { parseTransportUri } from '../../src/transport/uri';
import { errorOf } from '../helpers/vectors';

const PROBES = [
  'ansi-c12-optical-probe',
  'iec-optical-probe',
  'optical-probe-dtr-powered',
  'optical-probe-rts-powered',
  'optical-probe-self-powered',
];

describe('normaliseUsbId', () => {
  it.each([
    ['0403', '0403'],
    ['0x0403', '0403'],
    ['0X10C4', '10c4'],
    ['EA60', 'ea60'],
    ['403', '0403'],
    [' 6001 ', '6001'],
  ])('%j -> %j', (raw, id) => {
    expect(normaliseUsbId(raw)).toBe(id);
  });

  it.each([[''], ['04031'], ['zzzz'], ['0x'], [403], [null], [undefined], [{}]])(
    '%j is not a USB id',
    (raw) => {
      expect(normaliseUsbId(raw)).toBeUndefined();
    },
  );
});

describe('matchPreset', () => {
  const ids = (vendorId: unknown, productId: unknown): string[] =>
    matchPreset({ vendorId, productId }).map((p) => p.id);

  it('puts the chip preset first, then the generic probes built on it', () => {
    expect(ids('0403', '6001')).toEqual(['ftdi', ...PROBES]);
    expect(ids('0x10C4', 'EA60')).toEqual(['cp210x', ...PROBES]);
    expect(ids('1a86', '7523')).toEqual(['ch340', ...PROBES]);
    expect(ids('1A86', '55D4')).toEqual(['ch343', ...PROBES]);
    expect(ids('067b', '23a3')).toEqual(['pl2303', ...PROBES]);
  });

  it('matches nothing for unknown, partial or odd ids', () => {
    expect(ids('0403', '6010')).toEqual([]);
    expect(ids('1d6b', '0002')).toEqual([]);
    expect(ids('0403', undefined)).toEqual([]);
    expect(ids(undefined, '6001')).toEqual([]);
    expect(ids(0x0403, 0x6001)).toEqual([]);
    expect(ids('04\u000003', '6001')).toEqual([]);
  });

  it('never throws on arbitrary input', () => {
    fc.assert(
      fc.property(fc.anything(), fc.anything(), (v, p) => {
        expect(Array.isArray(matchPreset({ vendorId: v, productId: p }))).toBe(true);
      }),
      { numRuns: 2000 },
    );
  });

  it('uses the set it is given', () => {
    const only = defaultPresets();
    const subset = { ...only, presets: only.presets.filter((p) => p.id === 'ftdi') };
    expect(matchPreset({ vendorId: '0403', productId: '6015' }, subset).map((p) => p.id)).toEqual(['ftdi']);
  });
});

describe('presetSerialSettings', () => {
  it.each([
    // [preset, protocol, phase, baud for the data phase, expected]
    [
      'ansi-c12-optical-probe',
      'c1218',
      'start',
      undefined,
      // docs/c1218.md §1.1: 9600 8N1, RTS=1 DTR=0
      { baudRate: 9600, dataBits: 8, parity: 'none', stopBits: 1, rts: true, dtr: false, echo: false },
    ],
    [
      'ansi-c12-optical-probe',
      'c1218',
      'data',
      19200,
      { baudRate: 19200, dataBits: 8, parity: 'none', stopBits: 1, rts: true, dtr: false, echo: false },
    ],
    [
      'iec-optical-probe',
      'iec62056-21',
      'start',
      undefined,
      // docs/dlms.md §1: sign-on 300 Bd 7E1; optical heads echo
      { baudRate: 300, dataBits: 7, parity: 'even', stopBits: 1, rts: true, dtr: true, echo: true },
    ],
    [
      'iec-optical-probe',
      'iec62056-21',
      'data',
      9600,
      // docs/dlms.md §1: after mode E, 8N1 at the announced rate
      { baudRate: 9600, dataBits: 8, parity: 'none', stopBits: 1, rts: true, dtr: true, echo: true },
    ],
    [
      'iec-optical-probe',
      'hdlc',
      'start',
      undefined,
      { baudRate: 9600, dataBits: 8, parity: 'none', stopBits: 1, rts: true, dtr: true, echo: true },
    ],
    [
      'optical-probe-self-powered',
      'hdlc',
      'data',
      undefined,
      // direct HDLC has no speed change: the data phase is the start format; lines left alone
      { baudRate: 9600, dataBits: 8, parity: 'none', stopBits: 1, echo: true },
    ],
    [
      'optical-probe-dtr-powered',
      'c1218',
      'start',
      undefined,
      { baudRate: 9600, dataBits: 8, parity: 'none', stopBits: 1, rts: false, dtr: true, echo: true },
    ],
    [
      'pl2303',
      'iec62056-21',
      'start',
      undefined,
      { baudRate: 300, dataBits: 7, parity: 'even', stopBits: 1, echo: false },
    ],
  ] as const)('%s %s %s (%s)', (id, protocol, phase, baudRate, expected) => {
    const opts = baudRate === undefined ? {} : { baudRate };
    expect(presetSerialSettings(resolvePreset(id), protocol, phase, opts)).toEqual(expected);
  });

  it('defaults to the start phase', () => {
    expect(presetSerialSettings(resolvePreset('ftdi'), 'iec62056-21').baudRate).toBe(300);
  });

  it('refuses a protocol the preset has no settings for, naming the ones it has', () => {
    const e = errorOf(() => presetSerialSettings(resolvePreset('iec-optical-probe'), 'c1218'));
    expect(e.code).toBe(ErrorCode.UsageError);
    expect(e.message).toBe(
      'hardware preset iec-optical-probe has no c1218 settings; it supports iec62056-21, hdlc',
    );
    expect(presetProtocols(resolvePreset('ansi-c12-optical-probe'))).toEqual(['c1218']);
  });

  it('needs the switched-to rate for the data phase, and a sane one', () => {
    const p = resolvePreset('ftdi');
    expect(errorOf(() => presetSerialSettings(p, 'c1218', 'data')).message).toBe(
      'the c1218 data phase needs the baud rate the session switched to',
    );
    expect(errorOf(() => presetSerialSettings(p, 'iec62056-21', 'data', { baudRate: 0 })).code).toBe(
      ErrorCode.UsageError,
    );
    expect(
      errorOf(() => presetSerialSettings(p, 'iec62056-21', 'data', { baudRate: 9600.5 })).message,
    ).toMatch(/9600\.5 is not an integer/);
  });
});

describe('presetTimeouts', () => {
  it('returns the documented defaults (docs/c1218.md §1.4)', () => {
    expect(presetTimeouts(resolvePreset('ftdi'), 'c1218')).toEqual({
      responseMs: 2000,
      interCharacterMs: 500,
      channelTrafficMs: 6000,
      maxTries: 3,
      failedSessionBackoffMs: 7000,
    });
  });

  it('lays overrides over them without changing the preset', () => {
    const p = resolvePreset('iec-optical-probe');
    expect(presetTimeouts(p, 'iec62056-21', { responseMs: 5000, reactionTimeMs: undefined })).toEqual({
      reactionTimeMs: 200,
      responseMs: 5000,
      baudSwitchDelayMs: 250,
    });
    expect(p.protocols['iec62056-21']?.timeouts.responseMs).toBe(3000);
  });

  it('refuses unknown names and values out of range', () => {
    const p = resolvePreset('ftdi');
    const unknown = errorOf(() => presetTimeouts(p, 'hdlc', { nope: 1 } as never));
    expect(unknown.message).toBe('unknown hdlc timeout "nope"; known: responseMs, inactivityMs');
    expect(errorOf(() => presetTimeouts(p, 'c1218', { maxTries: 21 })).message).toBe(
      'c1218 timeout maxTries=21: expected an integer 1..20',
    );
    expect(errorOf(() => presetTimeouts(p, 'c1218', { responseMs: 0 })).code).toBe(ErrorCode.UsageError);
    expect(errorOf(() => presetTimeouts(p, 'c1218', { responseMs: '9' as never })).code).toBe(
      ErrorCode.UsageError,
    );
  });
});

describe('serialUriParams', () => {
  it('writes the serial: URI params the transport parser reads back to the same settings', () => {
    for (const [id, protocol] of [
      ['iec-optical-probe', 'iec62056-21'],
      ['ansi-c12-optical-probe', 'c1218'],
      ['optical-probe-self-powered', 'hdlc'],
    ] as const) {
      const s = presetSerialSettings(resolvePreset(id), protocol);
      const query = new URLSearchParams(serialUriParams(s)).toString();
      const d = parseTransportUri(`serial:/dev/ttyUSB0?${query}`);
      if (d.scheme !== 'serial') throw new Error('expected a serial descriptor');
      expect(d.settings).toEqual({
        baudRate: s.baudRate,
        dataBits: s.dataBits,
        parity: s.parity,
        stopBits: s.stopBits,
      });
      expect(d.control).toEqual({
        ...(s.rts === undefined ? {} : { rts: s.rts }),
        ...(s.dtr === undefined ? {} : { dtr: s.dtr }),
      });
    }
  });

  it('omits lines the preset leaves alone', () => {
    const s = presetSerialSettings(resolvePreset('optical-probe-self-powered'), 'c1218');
    expect(serialUriParams(s)).toEqual({ baud: '9600', databits: '8', parity: 'none', stopbits: '1' });
    const t = presetSerialSettings(resolvePreset('iec-optical-probe'), 'iec62056-21');
    expect(serialUriParams(t)).toEqual({
      baud: '300',
      databits: '7',
      parity: 'even',
      stopbits: '1',
      rts: '1',
      dtr: '1',
    });
  });
});
