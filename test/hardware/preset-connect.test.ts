/**
 * `serial:…?preset=NAME` with the shipped hardware presets (src/hardware/preset-connect.ts):
 * the first phase of each protocol, the control lines, the echo, explicit params winning, the
 * timeouts the clients take, and the errors for unknown names and unsupported protocols.
 */
import { timeoutOf } from '../../src/cli/commands/connect-options';
import { ErrorCode } from '../../src/core/errors';
import { presetConnection, presetResolver } from '../../src/hardware/preset-connect';
import { defaultPresets } from '../../src/hardware/preset-loader';

describe('presetResolver', () => {
  it.each([
    ['c1218', 'ansi-c12-optical-probe', { baudRate: 9600, dataBits: 8, parity: 'none', stopBits: 1 }],
    ['iec62056-21', 'iec-optical-probe', { baudRate: 300, dataBits: 7, parity: 'even', stopBits: 1 }],
    ['hdlc', 'iec-optical-probe', { baudRate: 9600, dataBits: 8, parity: 'none', stopBits: 1 }],
  ] as const)('%s starts %s at its first-phase format', (protocol, name, settings) => {
    expect(presetResolver(protocol)(name).settings).toEqual(settings);
  });

  it('carries control lines and echo: probes powered from RTS / DTR, adapters left alone', () => {
    expect(presetResolver('c1218')('optical-probe-rts-powered')).toMatchObject({
      control: { rts: true, dtr: false },
      echoCancel: true,
    });
    expect(presetResolver('c1218')('optical-probe-dtr-powered').control).toMatchObject({ dtr: true });
    expect(presetResolver('c1218')('ftdi')).toMatchObject({ control: {}, echoCancel: false });
  });

  it('an unknown name is a usage error listing every known preset', () => {
    const known = defaultPresets().presets.map((p) => p.id);
    expect(known.length).toBeGreaterThanOrEqual(10);
    let err: unknown;
    try {
      presetResolver('c1218')('no-such-probe');
    } catch (e) {
      err = e;
    }
    expect(err).toMatchObject({ code: ErrorCode.UsageError });
    expect((err as Error).message).toBe(
      `unknown hardware preset "no-such-probe"; known presets: ${known.join(', ')}`,
    );
  });

  it('a preset without settings for the protocol says which it supports', () => {
    expect(() => presetResolver('c1218')('iec-optical-probe')).toThrow(
      'hardware preset iec-optical-probe has no c1218 settings; it supports iec62056-21, hdlc',
    );
  });
});

describe('presetConnection', () => {
  it('applies the preset under the URI, with the timeouts for the protocol', () => {
    const c = presetConnection('serial:/dev/ttyUSB0?preset=optical-probe-rts-powered&dtr=1', 'iec62056-21');
    expect(c.descriptor).toMatchObject({
      scheme: 'serial',
      settings: { baudRate: 300, dataBits: 7, parity: 'even', stopBits: 1 },
      control: { rts: true, dtr: true },
      echoCancel: true,
    });
    expect(c.control).toEqual({ rts: true, dtr: true });
    expect(c.preset?.id).toBe('optical-probe-rts-powered');
    expect(c.timeouts).toEqual({ reactionTimeMs: 200, responseMs: 3000, baudSwitchDelayMs: 250 });
  });

  it('C12.18 over the ANSI probe: 9600 8N1, RTS on, the documented C12.18 timeouts', () => {
    const c = presetConnection('serial:/dev/smets1-probe?preset=ansi-c12-optical-probe', 'c1218');
    expect(c.descriptor.settings).toEqual({ baudRate: 9600, dataBits: 8, parity: 'none', stopBits: 1 });
    expect(c.control).toEqual({ rts: true, dtr: false });
    expect(c.descriptor.echoCancel).toBeUndefined();
    expect(c.timeouts).toEqual({
      responseMs: 2000,
      interCharacterMs: 500,
      channelTrafficMs: 6000,
      maxTries: 3,
      failedSessionBackoffMs: 7000,
    });
  });

  it("the client end of a pty takes the preset's control lines (it has no rts/dtr params)", () => {
    const c = presetConnection('pty:/tmp/meter-1?preset=optical-probe-dtr-powered', 'hdlc');
    expect(c.control).toEqual({ rts: false, dtr: true });
    expect(c.descriptor).toMatchObject({ scheme: 'pty', echoCancel: true });
    expect(c.timeouts).toEqual({ responseMs: 5000, inactivityMs: 120000 });
  });

  it('without a preset: the URI as parsed, its own control lines, no preset timing', () => {
    const c = presetConnection('serial:/dev/ttyUSB0?rts=0', 'c1218');
    expect(c.preset).toBeUndefined();
    expect(c.timeouts).toBeUndefined();
    expect(c.control).toEqual({ rts: false });
    expect(presetConnection('tcp://127.0.0.1:7001', 'hdlc').control).toEqual({});
  });
});

describe('--timeout, the override of the answer timeout', () => {
  it('takes milliseconds 1..3600000 and refuses anything else', () => {
    expect(timeoutOf({})).toBeUndefined();
    expect(timeoutOf({ timeout: '15000' })).toBe(15000);
    for (const bad of ['0', '-1', '1.5', 'ten', '3600001'])
      expect(() => timeoutOf({ timeout: bad })).toThrow(`--timeout ${bad}: milliseconds`);
  });
});
