import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { parse, stringify } from 'yaml';
import { ErrorCode, SimError } from '../../src/core/errors';
import {
  defaultPresets,
  defaultPresetsDir,
  loadPresets,
  parsePresetFile,
  resolvePreset,
} from '../../src/hardware/preset-loader';

const tmp = mkdtempSync(join(tmpdir(), 'smets1-presets-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
let dirs = 0;

/** A preset directory holding the given files. */
function presetDir(files: Record<string, string>): string {
  const dir = join(tmp, `d${++dirs}`);
  mkdirSync(dir);
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  return dir;
}

const shippedText = (id: string): string => readFileSync(join(defaultPresetsDir(), `${id}.yaml`), 'utf8');

/** The shipped ftdi preset as a plain object, to break one field at a time. */
function ftdiObject(): Record<string, unknown> {
  return parse(shippedText('ftdi')) as Record<string, unknown>;
}

function loadError(files: Record<string, string>): SimError {
  const dir = presetDir(files);
  try {
    loadPresets(dir);
  } catch (e) {
    if (e instanceof SimError) return e;
    throw e;
  }
  throw new Error('expected loadPresets to fail');
}

describe('shipped presets', () => {
  const set = defaultPresets();

  it('loads every file in hardware/presets, ids equal to file names', () => {
    expect(set.presets.map((p) => p.id)).toEqual([
      'ansi-c12-optical-probe',
      'ch340',
      'ch343',
      'cp210x',
      'ftdi',
      'iec-optical-probe',
      'optical-probe-dtr-powered',
      'optical-probe-rts-powered',
      'optical-probe-self-powered',
      'pl2303',
    ]);
    for (const p of set.presets) expect(p.source).toBe(join(defaultPresetsDir(), `${p.id}.yaml`));
  });

  it('carries the public USB ids of each chip family', () => {
    const ids = (id: string): string[] =>
      resolvePreset(id, set).usb.map((u) => `${u.vendorId}:${u.productId}`);
    expect(ids('ftdi')).toEqual(['0403:6001', '0403:6015', '0403:6014']);
    expect(ids('cp210x')).toEqual(['10c4:ea60', '10c4:ea70']);
    expect(ids('ch340')).toEqual(['1a86:7523', '1a86:5523']);
    expect(ids('ch343')).toEqual(['1a86:55d3', '1a86:55d4']);
    expect(ids('pl2303')).toEqual(['067b:2303', '067b:23a3']);
    for (const p of set.presets.filter((x) => x.kind === 'adapter')) {
      expect(p.usb.every((u) => !u.modelled)).toBe(true);
      expect(p.matchUsb).toEqual(p.usb);
    }
    expect(resolvePreset('ch343', set).linux).toEqual({ driver: 'cdc_acm', node: 'ttyACM' });
    expect(resolvePreset('ftdi', set).linux).toEqual({ driver: 'ftdi_sio', node: 'ttyUSB' });
  });

  it('gives generic probes the USB ids of the chips they are built on, and no ids of their own', () => {
    const chips = ['ftdi', 'cp210x', 'ch340', 'ch343', 'pl2303'];
    const all = chips.flatMap((id) => resolvePreset(id, set).usb);
    for (const p of set.presets.filter((x) => x.kind === 'optical-probe')) {
      expect(p.usb).toEqual([]);
      expect(p.chips).toEqual(chips);
      expect(p.matchUsb).toEqual(all);
    }
  });

  it('drives the control lines each probe draws power from', () => {
    const lines = (id: string): unknown => resolvePreset(id, set).controlLines;
    // docs/c1218.md §1.1: termineter's RTS=1 DTR=0.
    expect(lines('ansi-c12-optical-probe')).toEqual({ rts: true, dtr: false, power: 'rts' });
    expect(lines('optical-probe-rts-powered')).toEqual({ rts: true, dtr: false, power: 'rts' });
    expect(lines('optical-probe-dtr-powered')).toEqual({ rts: false, dtr: true, power: 'dtr' });
    expect(lines('optical-probe-self-powered')).toEqual({ power: 'usb' });
    expect(lines('iec-optical-probe')).toEqual({ rts: true, dtr: true, power: 'rts+dtr' });
    expect(lines('ftdi')).toEqual({ power: 'none' });
  });

  it('marks optical heads that echo (docs/dlms.md §1) and adapters that do not', () => {
    const echoing = set.presets.filter((p) => p.echo).map((p) => p.id);
    expect(echoing).toEqual([
      'iec-optical-probe',
      'optical-probe-dtr-powered',
      'optical-probe-rts-powered',
      'optical-probe-self-powered',
    ]);
  });

  it('uses the documented serial formats and timeouts for every protocol it carries', () => {
    for (const p of set.presets) {
      const { c1218, hdlc } = p.protocols;
      const iec = p.protocols['iec62056-21'];
      if (c1218) {
        expect(c1218.start).toEqual({ baud: 9600, dataBits: 8, parity: 'none', stopBits: 1 });
        expect(c1218.data).toEqual({ baud: 'negotiated', dataBits: 8, parity: 'none', stopBits: 1 });
        expect(c1218.timeouts).toEqual({
          responseMs: 2000,
          interCharacterMs: 500,
          channelTrafficMs: 6000,
          maxTries: 3,
          failedSessionBackoffMs: 7000,
        });
      }
      if (iec) {
        expect(iec.signOn).toEqual({ baud: 300, dataBits: 7, parity: 'even', stopBits: 1 });
        expect(iec.data).toEqual({ baud: 'announced', dataBits: 8, parity: 'none', stopBits: 1 });
        expect(iec.timeouts).toEqual({ reactionTimeMs: 200, responseMs: 3000, baudSwitchDelayMs: 250 });
        expect(iec.batteryWakeUp).toEqual({ nulMs: 2200, pauseMs: 1600 });
      }
      if (hdlc) {
        expect(hdlc.start).toEqual({ baud: 9600, dataBits: 8, parity: 'none', stopBits: 1 });
        expect(hdlc.timeouts).toEqual({ responseMs: 5000, inactivityMs: 120000 });
      }
    }
    const protocols = (id: string): string[] => Object.keys(resolvePreset(id, set).protocols);
    expect(protocols('ansi-c12-optical-probe')).toEqual(['c1218']);
    expect(protocols('iec-optical-probe')).toEqual(['iec62056-21', 'hdlc']);
    expect(protocols('ftdi')).toEqual(['c1218', 'iec62056-21', 'hdlc']);
  });
});

describe('resolvePreset', () => {
  it('returns the loaded preset by name', () => {
    expect(resolvePreset('cp210x').name).toBe('Silicon Labs CP210x USB to UART bridge');
    expect(resolvePreset('cp210x')).toBe(defaultPresets().byId.get('cp210x'));
  });

  it('rejects an unknown name with a UsageError listing the known ones', () => {
    let err: unknown;
    try {
      resolvePreset('ftdi232');
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(SimError);
    const e = err as SimError;
    expect(e.code).toBe(ErrorCode.UsageError);
    expect(e.message).toBe(
      'unknown hardware preset "ftdi232"; known presets: ansi-c12-optical-probe, ch340, ch343, cp210x, ftdi, ' +
        'iec-optical-probe, optical-probe-dtr-powered, optical-probe-rts-powered, optical-probe-self-powered, pl2303',
    );
    expect(e.context['known']).toHaveLength(10);
  });
});

describe('broken preset files', () => {
  const ftdiWith = (mutate: (o: Record<string, unknown>) => void): string => {
    const o = ftdiObject();
    mutate(o);
    return stringify(o);
  };

  it('a missing field names the file, the line of its parent and the path', () => {
    const e = loadError({ 'ftdi.yaml': ftdiWith((o) => delete o['echo']) });
    expect(e.code).toBe(ErrorCode.ConfigInvalid);
    expect(e.message).toMatch(/ftdi\.yaml:1: invalid hardware preset: echo: /);
    expect(e.context['path']).toBe('echo');
    expect(String(e.context['file'])).toMatch(/ftdi\.yaml$/);
  });

  it('a wrong type names the path and the line of the value', () => {
    const text = shippedText('ftdi').replace(/^echo: false$/m, 'echo: "no"');
    const line = text.split('\n').indexOf('echo: "no"') + 1;
    const e = loadError({ 'ftdi.yaml': text });
    expect(e.message).toContain(`ftdi.yaml:${line}: invalid hardware preset: echo: `);
    expect(e.context['line']).toBe(line);
  });

  it('a bad VID format is refused, with a hint for unquoted numbers', () => {
    const bad = loadError({
      'ftdi.yaml': shippedText('ftdi').replace("vendorId: '0403'", "vendorId: '04031'"),
    });
    expect(bad.context['path']).toBe('usb.0.vendorId');
    expect(bad.message).toContain('expected 4 hex digits');
    const hex = loadError({
      'ftdi.yaml': shippedText('ftdi').replace("productId: '6015'", "productId: 'ZZZZ'"),
    });
    expect(hex.context['path']).toBe('usb.1.productId');
    const unquoted = loadError({
      'ftdi.yaml': shippedText('ftdi').replace("vendorId: '0403'", 'vendorId: 0403'),
    });
    expect(unquoted.context['path']).toBe('usb.0.vendorId');
    expect(unquoted.message).toContain('YAML reads unquoted 403 as a number');
  });

  it('a probe powered from RTS must drive RTS high', () => {
    const text = shippedText('optical-probe-rts-powered').replace('rts: true', 'rts: false');
    const e = loadError({ 'optical-probe-rts-powered.yaml': text, 'ftdi.yaml': shippedText('ftdi') });
    expect(e.context['path']).toBe('controlLines.rts');
    expect(e.message).toContain('must be true when power is rts');
  });

  it('refuses unknown keys, an id that is not the file name, and a file with no protocols', () => {
    const extra = loadError({ 'ftdi.yaml': ftdiWith((o) => (o['baud'] = 9600)) });
    expect(extra.context['path']).toBe('(root)');
    expect(extra.message).toMatch(/baud/);
    const renamed = loadError({ 'ftdi2.yaml': shippedText('ftdi') });
    expect(renamed.message).toMatch(/ftdi2\.yaml:2: invalid hardware preset: id: id "ftdi" differs/);
    const none = loadError({ 'ftdi.yaml': ftdiWith((o) => (o['protocols'] = {})) });
    expect(none.context['path']).toBe('protocols');
    expect(none.message).toContain('at least one of c1218, iec62056-21, hdlc');
  });

  it('checks that probes name adapter presets that exist', () => {
    const probe = shippedText('optical-probe-self-powered');
    const unknown = loadError({ 'optical-probe-self-powered.yaml': probe, 'ftdi.yaml': shippedText('ftdi') });
    expect(unknown.context['path']).toBe('chips.1');
    expect(unknown.message).toContain('unknown preset "cp210x"; known: ftdi, optical-probe-self-powered');
    const notAdapter = loadError({
      'optical-probe-self-powered.yaml': probe.replace('chips: [ftdi,', 'chips: [iec-optical-probe,'),
      'iec-optical-probe.yaml': shippedText('iec-optical-probe').replace(/chips: \[.*\]/, 'chips: []'),
    });
    expect(notAdapter.context['path']).toBe('chips.0');
    expect(notAdapter.message).toContain('"iec-optical-probe" is a optical-probe, not an adapter');
  });

  it('refuses a duplicate id, broken YAML, an empty or missing directory', () => {
    const dup = loadError({ 'ftdi.yaml': shippedText('ftdi'), 'ftdi.yml': shippedText('ftdi') });
    expect(dup.message).toMatch(/duplicate preset id "ftdi"/);
    const yaml = loadError({ 'ftdi.yaml': 'id: ftdi\nname: [unclosed\n' });
    expect(yaml.message).toMatch(/ftdi\.yaml:\d+: invalid hardware preset: \(root\): not valid YAML/);
    const empty = loadError({ 'README.txt': 'no presets here' });
    expect(empty.code).toBe(ErrorCode.ConfigInvalid);
    expect(empty.message).toMatch(/no hardware presets/);
    let missing: unknown;
    try {
      loadPresets(join(tmp, 'absent'));
    } catch (e) {
      missing = e;
    }
    expect((missing as SimError).code).toBe(ErrorCode.IoError);
  });

  it('an adapter needs USB ids and may not list chips', () => {
    const noUsb = loadError({ 'ftdi.yaml': ftdiWith((o) => (o['usb'] = [])) });
    expect(noUsb.context['path']).toBe('usb');
    const chips = loadError({ 'ftdi.yaml': ftdiWith((o) => (o['chips'] = ['ftdi'])) });
    expect(chips.context['path']).toBe('chips');
    const dupUsb = loadError({
      'ftdi.yaml': ftdiWith((o) => (o['usb'] = [...(o['usb'] as unknown[]), (o['usb'] as unknown[])[0]])),
    });
    expect(dupUsb.context['path']).toBe('usb.3');
    expect(dupUsb.message).toContain('duplicate USB id 0403:6001');
  });
});

describe('parsePresetFile property', () => {
  const valid = ftdiObject();

  /** Every (path) of a nested value, to pick one to replace. */
  function paths(v: unknown, prefix: (string | number)[] = []): (string | number)[][] {
    const out = [prefix];
    if (Array.isArray(v)) v.forEach((x, i) => out.push(...paths(x, [...prefix, i])));
    else if (v && typeof v === 'object')
      for (const [k, x] of Object.entries(v)) out.push(...paths(x, [...prefix, k]));
    return out;
  }
  const all = paths(valid).filter((p) => p.length > 0);

  function setAt(root: unknown, path: (string | number)[], value: unknown): unknown {
    const copy = structuredClone(root) as Record<string | number, unknown>;
    let node = copy;
    for (const key of path.slice(0, -1)) node = node[key] as Record<string | number, unknown>;
    node[path[path.length - 1]!] = value;
    return copy;
  }

  const outcome = (text: string): 'ok' | 'coded' => {
    try {
      parsePresetFile(text, 'prop.yaml');
      return 'ok';
    } catch (e) {
      if (e instanceof SimError && e.code === ErrorCode.ConfigInvalid && e.message.startsWith('prop.yaml'))
        return 'coded';
      throw e;
    }
  };

  it('a valid preset with one value replaced parses or fails with a coded error naming the file', () => {
    fc.assert(
      fc.property(fc.constantFrom(...all), fc.jsonValue({ maxDepth: 2 }), (path, value) => {
        outcome(stringify(setAt(valid, path, value)));
      }),
      { numRuns: 100 },
    );
  });

  it('random and truncated text never escapes as anything but a coded error', () => {
    const text = shippedText('ftdi');
    fc.assert(
      fc.property(
        fc.oneof(
          fc.string({ maxLength: 200 }),
          fc.nat({ max: text.length }).map((n) => text.slice(0, n)),
          fc
            .tuple(fc.nat({ max: text.length }), fc.string({ maxLength: 8 }))
            .map(([n, s]) => text.slice(0, n) + s + text.slice(n + s.length)),
        ),
        (t) => {
          outcome(t);
        },
      ),
      { numRuns: 100 },
    );
    expect(outcome(text)).toBe('ok');
  });
});
