import { ErrorCode, SimError } from '../core/errors';
import { DEFAULT_ECHO_WAIT_MS } from './line-echo';
import { defaultEmulation, type EchoMode, type FaultDirection, type LineEmulation } from './line-options';
import { PRESET_KEYS, PRESET_NAME, type PresetKey } from './line-preset';
import { DEFAULT_LINE, type LineSettings, type Parity } from './types';

/**
 * One URI grammar for every transport (DESIGN.md "Transports and addresses"; docs/transports.md
 * is the user-facing reference):
 *
 *   mem:NAME                 in-process pair (tests)
 *   tcp://HOST:PORT          connect
 *   tcp-listen://HOST:PORT   listen; port 0 = any free port
 *   serial:PATH              a real port (serialport 13)
 *   pty:PATH                 listen: create a pty linked at PATH; connect: open that link
 *
 * followed by `?key=value&...`. parseTransportUri and formatTransportUri are symmetric:
 * parse(format(d)) equals d, and format writes only values that differ from the defaults —
 * except under `preset=NAME` (serial, pty), where every param given explicitly is kept because
 * it overrides the preset's value (line-preset.ts).
 */

export type TransportScheme = 'mem' | 'tcp' | 'tcp-listen' | 'serial' | 'pty';

interface DescriptorBase {
  /** Canonical form of the URI (formatTransportUri of this descriptor). */
  uri: string;
  /** Serial framing; on mem/tcp/pty it only drives pacing. */
  settings: LineSettings;
  emulation: LineEmulation;
  /** Strip the echo of our own writes (line-echo.ts); absent = off. Client side only. */
  echoCancel?: boolean;
  /** Slack in ms after the end of transmission before an echo is given up; absent = default. */
  echoWaitMs?: number;
}

/** `?preset=NAME` as parsed: applied by connect()/listen() through a resolver (line-preset.ts). */
export interface PresetRequest {
  name: string;
  /** Params given in the URI besides the preset; they override the preset's values. */
  explicit: readonly PresetKey[];
}

export interface MemDescriptor extends DescriptorBase {
  scheme: 'mem';
  name: string;
  /** Deliver received bytes in chunks of at most this many bytes (exercises reassembly). */
  chunk?: number;
}

export interface TcpDescriptor extends DescriptorBase {
  scheme: 'tcp';
  host: string;
  port: number;
  /** Connect timeout in ms; 0 = none. */
  timeoutMs: number;
}

export interface TcpListenDescriptor extends DescriptorBase {
  scheme: 'tcp-listen';
  host: string;
  port: number;
}

export interface SerialDescriptor extends DescriptorBase {
  scheme: 'serial';
  path: string;
  /** Modem control lines to set right after open; absent = leave as the OS set them. */
  control: { rts?: boolean; dtr?: boolean };
  /** Take an exclusive lock on the device (serialport's `lock`). */
  lock: boolean;
  preset?: PresetRequest;
}

export interface PtyDescriptor extends DescriptorBase {
  scheme: 'pty';
  path: string;
  /** How often the listener reads the baud the client set, in ms; 0 = only on received data. */
  baudPollMs: number;
  /** Connect side only: the client end of a pty link is opened like a serial port. */
  preset?: PresetRequest;
}

export type TransportDescriptor =
  MemDescriptor | TcpDescriptor | TcpListenDescriptor | SerialDescriptor | PtyDescriptor;

export const DEFAULT_TCP_TIMEOUT_MS = 10_000;
export const DEFAULT_BAUD_POLL_MS = 250;
/** Upper bound on any baud rate we accept: above common USB-serial maxima (modelled). */
export const MAX_BAUD = 4_000_000;
/** Upper bound on any delay parameter: one hour. */
const MAX_DELAY_MS = 3_600_000;

const SCHEMES: readonly TransportScheme[] = ['mem', 'tcp', 'tcp-listen', 'serial', 'pty'];

const LINE_PARAMS = [
  'baud',
  'databits',
  'parity',
  'stopbits',
  'pace',
  'turnaround',
  'echo',
  'noise',
  'drop',
  'gap',
  'gaprate',
  'seed',
  'faults',
  'echocancel',
  'echowait',
] as const;

/** Params each scheme accepts, in the order formatTransportUri writes them. */
const PARAMS_BY_SCHEME: Record<TransportScheme, readonly string[]> = {
  mem: [...LINE_PARAMS, 'chunk'],
  tcp: [...LINE_PARAMS, 'timeout'],
  'tcp-listen': [...LINE_PARAMS],
  serial: [...LINE_PARAMS, 'rts', 'dtr', 'lock', 'preset'],
  pty: [...LINE_PARAMS, 'baudpoll', 'preset'],
};

const PARITIES: readonly Parity[] = ['none', 'even', 'odd', 'mark', 'space'];

function invalid(uri: string, reason: string, context: Record<string, unknown> = {}): SimError {
  return new SimError(ErrorCode.TransportUriInvalid, `${JSON.stringify(uri)}: ${reason}`, {
    uri,
    ...context,
  });
}

function decode(uri: string, s: string, what: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    throw invalid(uri, `bad percent-encoding in ${what}`);
  }
}

/** Percent-encode what would otherwise change the meaning of a path, name or value. */
function encode(s: string): string {
  return s.replace(/[%?#&=\s\x00-\x1f\x7f+]/g, (c) => {
    return Array.from(Buffer.from(c, 'utf8'))
      .map((b) => `%${b.toString(16).toUpperCase().padStart(2, '0')}`)
      .join('');
  });
}

const DECIMAL = /^(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][-+]?\d+)?$/;
const INTEGER = /^(?:0|[1-9]\d*)$/;

class ParamReader {
  constructor(
    private readonly uri: string,
    private readonly values: Map<string, string>,
  ) {}

  private take(key: string): string | undefined {
    return this.values.get(key);
  }

  private bad(key: string, v: string, expected: string): SimError {
    return invalid(this.uri, `param ${key}=${JSON.stringify(v)}: expected ${expected}`, { param: key });
  }

  int(key: string, min: number, max: number): number | undefined {
    const v = this.take(key);
    if (v === undefined) return undefined;
    const n = INTEGER.test(v) ? Number(v) : NaN;
    if (!Number.isSafeInteger(n) || n < min || n > max) throw this.bad(key, v, `an integer ${min}..${max}`);
    return n;
  }

  num(key: string, min: number, max: number): number | undefined {
    const v = this.take(key);
    if (v === undefined) return undefined;
    const n = DECIMAL.test(v) ? Number(v) : NaN;
    if (!Number.isFinite(n) || n < min || n > max) throw this.bad(key, v, `a number ${min}..${max}`);
    return n;
  }

  bool(key: string): boolean | undefined {
    const v = this.take(key);
    if (v === undefined) return undefined;
    if (v === '1') return true;
    if (v === '0') return false;
    throw this.bad(key, v, '0 or 1');
  }

  /** A name matching `pattern` (described as `expected` in the error). */
  name(key: string, pattern: RegExp, expected: string): string | undefined {
    const v = this.take(key);
    if (v === undefined) return undefined;
    if (!pattern.test(v)) throw this.bad(key, v, expected);
    return v;
  }

  oneOf<T extends string>(
    key: string,
    options: readonly T[],
    aliases: Record<string, T> = {},
  ): T | undefined {
    const v = this.take(key);
    if (v === undefined) return undefined;
    const hit = options.find((o) => o === v) ?? aliases[v];
    if (hit === undefined) throw this.bad(key, v, options.join('|'));
    return hit;
  }
}

function parseQuery(uri: string, query: string, scheme: TransportScheme): Map<string, string> {
  const allowed = PARAMS_BY_SCHEME[scheme];
  const values = new Map<string, string>();
  if (query === '') return values;
  for (const part of query.split('&')) {
    if (part === '') throw invalid(uri, 'empty query parameter');
    const eq = part.indexOf('=');
    if (eq < 0) throw invalid(uri, `param ${JSON.stringify(part)} has no value`, { param: part });
    const key = decode(uri, part.slice(0, eq), 'a param name');
    const value = decode(uri, part.slice(eq + 1), `param ${key}`);
    if (!allowed.includes(key)) {
      const elsewhere = SCHEMES.filter((s) => PARAMS_BY_SCHEME[s].includes(key));
      throw invalid(
        uri,
        elsewhere.length
          ? `param ${JSON.stringify(key)} is not valid for ${scheme}: (only ${elsewhere.join(', ')})`
          : `unknown param ${JSON.stringify(key)}`,
        { param: key },
      );
    }
    if (values.has(key)) throw invalid(uri, `param ${JSON.stringify(key)} given twice`, { param: key });
    values.set(key, value);
  }
  return values;
}

function readLine(
  p: ParamReader,
  scheme: TransportScheme,
): { settings: LineSettings; emulation: LineEmulation } {
  const d = defaultEmulation(scheme);
  const stop = p.oneOf('stopbits', ['1', '1.5', '2'] as const);
  const settings: LineSettings = {
    baudRate: p.int('baud', 1, MAX_BAUD) ?? DEFAULT_LINE.baudRate,
    dataBits: (p.int('databits', 5, 8) ?? DEFAULT_LINE.dataBits) as LineSettings['dataBits'],
    parity: p.oneOf('parity', PARITIES) ?? DEFAULT_LINE.parity,
    stopBits: stop === undefined ? DEFAULT_LINE.stopBits : (Number(stop) as LineSettings['stopBits']),
  };
  const emulation: LineEmulation = {
    pace: p.bool('pace') ?? d.pace,
    turnaroundMs: p.num('turnaround', 0, MAX_DELAY_MS) ?? d.turnaroundMs,
    echo: p.oneOf<EchoMode>('echo', ['off', 'local', 'peer'], { '0': 'off', '1': 'local' }) ?? d.echo,
    noise: p.num('noise', 0, 1) ?? d.noise,
    drop: p.num('drop', 0, 1) ?? d.drop,
    gapMs: p.num('gap', 0, MAX_DELAY_MS) ?? d.gapMs,
    gapRate: p.num('gaprate', 0, 1) ?? d.gapRate,
    seed: p.int('seed', 0, 0xffffffff) ?? d.seed,
    faults: p.oneOf<FaultDirection>('faults', ['tx', 'rx', 'both']) ?? d.faults,
  };
  return { settings, emulation };
}

/** echocancel / echowait, canonical: absent when they say the default (unless under a preset). */
function readEchoCancel(
  p: ParamReader,
  underPreset: boolean,
): Pick<DescriptorBase, 'echoCancel' | 'echoWaitMs'> {
  const on = p.bool('echocancel');
  const wait = p.int('echowait', 0, MAX_DELAY_MS);
  return {
    ...(on === true || (on === false && underPreset) ? { echoCancel: on } : {}),
    ...(wait !== undefined && wait !== DEFAULT_ECHO_WAIT_MS ? { echoWaitMs: wait } : {}),
  };
}

function readPreset(p: ParamReader, given: ReadonlyMap<string, string>): PresetRequest | undefined {
  const name = p.name('preset', PRESET_NAME, 'a preset name (lower-case letters, digits, dashes)');
  if (name === undefined) return undefined;
  return { name, explicit: PRESET_KEYS.filter((k) => given.has(k)) };
}

const HOSTNAME = /^[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*$/;
const IPV6 = /^[0-9A-Fa-f:.]+$/;

function parseAuthority(uri: string, rest: string, minPort: number): { host: string; port: number } {
  if (!rest.startsWith('//')) throw invalid(uri, 'expected //HOST:PORT');
  const auth = rest.slice(2);
  let host: string;
  let portText: string;
  if (auth.startsWith('[')) {
    const close = auth.indexOf(']');
    if (close < 0 || auth[close + 1] !== ':') throw invalid(uri, 'expected [IPV6]:PORT');
    host = auth.slice(1, close);
    if (!IPV6.test(host) || !host.includes(':'))
      throw invalid(uri, `bad IPv6 address ${JSON.stringify(host)}`);
    portText = auth.slice(close + 2);
  } else {
    const colon = auth.lastIndexOf(':');
    if (colon < 0) throw invalid(uri, 'missing :PORT');
    host = auth.slice(0, colon);
    if (!HOSTNAME.test(host)) throw invalid(uri, `bad host ${JSON.stringify(host)}`);
    portText = auth.slice(colon + 1);
  }
  const port = INTEGER.test(portText) ? Number(portText) : NaN;
  if (!Number.isInteger(port) || port < minPort || port > 65535) {
    throw invalid(uri, `bad port ${JSON.stringify(portText)}: expected ${minPort}..65535`);
  }
  return { host, port };
}

function parsePath(uri: string, rest: string, what: string): string {
  const path = decode(uri, rest, what);
  if (path === '') throw invalid(uri, `missing ${what}`);
  if (path.includes('\0')) throw invalid(uri, `${what} contains a NUL byte`);
  return path;
}

/** Parse and validate a transport URI. Throws SimError TransportUriInvalid / UnsupportedScheme. */
export function parseTransportUri(uri: string): TransportDescriptor {
  if (typeof uri !== 'string') throw invalid(String(uri), 'not a string');
  const colon = uri.indexOf(':');
  if (colon <= 0) throw invalid(uri, 'missing scheme (mem:, tcp://, tcp-listen://, serial:, pty:)');
  const schemeText = uri.slice(0, colon).toLowerCase();
  const scheme = SCHEMES.find((s) => s === schemeText);
  if (!scheme) {
    throw new SimError(
      ErrorCode.TransportUnsupportedScheme,
      `${JSON.stringify(uri)}: unsupported scheme ${JSON.stringify(schemeText)} (mem, tcp, tcp-listen, serial, pty)`,
      { uri, scheme: schemeText },
    );
  }
  const afterScheme = uri.slice(colon + 1);
  const q = afterScheme.indexOf('?');
  const body = q < 0 ? afterScheme : afterScheme.slice(0, q);
  const query = q < 0 ? '' : afterScheme.slice(q + 1);
  const given = parseQuery(uri, query, scheme);
  const p = new ParamReader(uri, given);
  const { settings, emulation } = readLine(p, scheme);
  const preset = scheme === 'serial' || scheme === 'pty' ? readPreset(p, given) : undefined;
  const echo = readEchoCancel(p, preset !== undefined);
  const extra = { ...echo, ...(preset ? { preset } : {}) };
  let d: TransportDescriptor;
  switch (scheme) {
    case 'mem': {
      const name = parsePath(uri, body, 'name');
      const chunk = p.int('chunk', 1, 0x7fffffff);
      d = { scheme, uri: '', name, settings, emulation, ...echo, ...(chunk === undefined ? {} : { chunk }) };
      break;
    }
    case 'tcp': {
      const { host, port } = parseAuthority(uri, body, 1);
      const timeoutMs = p.int('timeout', 0, MAX_DELAY_MS) ?? DEFAULT_TCP_TIMEOUT_MS;
      d = { scheme, uri: '', host, port, timeoutMs, settings, emulation, ...echo };
      break;
    }
    case 'tcp-listen': {
      const { host, port } = parseAuthority(uri, body, 0);
      d = { scheme, uri: '', host, port, settings, emulation, ...echo };
      break;
    }
    case 'serial': {
      const path = parsePath(uri, body, 'device path');
      const rts = p.bool('rts');
      const dtr = p.bool('dtr');
      const control: SerialDescriptor['control'] = {};
      if (rts !== undefined) control.rts = rts;
      if (dtr !== undefined) control.dtr = dtr;
      d = { scheme, uri: '', path, control, lock: p.bool('lock') ?? true, settings, emulation, ...extra };
      break;
    }
    case 'pty': {
      const path = parsePath(uri, body, 'link path');
      const baudPollMs = p.int('baudpoll', 0, MAX_DELAY_MS) ?? DEFAULT_BAUD_POLL_MS;
      d = { scheme, uri: '', path, baudPollMs, settings, emulation, ...extra };
      break;
    }
  }
  d.uri = formatTransportUri(d);
  return d;
}

function formatHost(host: string): string {
  return host.includes(':') ? `[${host}]` : host;
}

function boolText(b: boolean): string {
  return b ? '1' : '0';
}

/** The canonical URI of a descriptor: only non-default params, in a fixed order. */
export function formatTransportUri(d: TransportDescriptor): string {
  const params: [string, string][] = [];
  const preset = d.scheme === 'serial' || d.scheme === 'pty' ? d.preset : undefined;
  if (preset) params.push(['preset', preset.name]);
  // Under a preset an explicit param overrides the preset's value, even when it is the default.
  const kept = (k: PresetKey): boolean => preset?.explicit.includes(k) ?? false;
  const s = d.settings;
  if (s.baudRate !== DEFAULT_LINE.baudRate || kept('baud')) params.push(['baud', String(s.baudRate)]);
  if (s.dataBits !== DEFAULT_LINE.dataBits || kept('databits')) params.push(['databits', String(s.dataBits)]);
  if (s.parity !== DEFAULT_LINE.parity || kept('parity')) params.push(['parity', s.parity]);
  if (s.stopBits !== DEFAULT_LINE.stopBits || kept('stopbits')) params.push(['stopbits', String(s.stopBits)]);
  const e = d.emulation;
  const def = defaultEmulation(d.scheme);
  if (e.pace !== def.pace) params.push(['pace', boolText(e.pace)]);
  if (e.turnaroundMs !== def.turnaroundMs) params.push(['turnaround', String(e.turnaroundMs)]);
  if (e.echo !== def.echo) params.push(['echo', e.echo]);
  if (e.noise !== def.noise) params.push(['noise', String(e.noise)]);
  if (e.drop !== def.drop) params.push(['drop', String(e.drop)]);
  if (e.gapMs !== def.gapMs) params.push(['gap', String(e.gapMs)]);
  if (e.gapRate !== def.gapRate) params.push(['gaprate', String(e.gapRate)]);
  if (e.seed !== def.seed) params.push(['seed', String(e.seed)]);
  if (e.faults !== def.faults) params.push(['faults', e.faults]);
  if (d.echoCancel !== undefined) params.push(['echocancel', boolText(d.echoCancel)]);
  if (d.echoWaitMs !== undefined) params.push(['echowait', String(d.echoWaitMs)]);
  let head: string;
  switch (d.scheme) {
    case 'mem':
      head = `mem:${encode(d.name)}`;
      if (d.chunk !== undefined) params.push(['chunk', String(d.chunk)]);
      break;
    case 'tcp':
      head = `tcp://${formatHost(d.host)}:${d.port}`;
      if (d.timeoutMs !== DEFAULT_TCP_TIMEOUT_MS) params.push(['timeout', String(d.timeoutMs)]);
      break;
    case 'tcp-listen':
      head = `tcp-listen://${formatHost(d.host)}:${d.port}`;
      break;
    case 'serial':
      head = `serial:${encode(d.path)}`;
      if (d.control.rts !== undefined) params.push(['rts', boolText(d.control.rts)]);
      if (d.control.dtr !== undefined) params.push(['dtr', boolText(d.control.dtr)]);
      if (!d.lock) params.push(['lock', '0']);
      break;
    case 'pty':
      head = `pty:${encode(d.path)}`;
      if (d.baudPollMs !== DEFAULT_BAUD_POLL_MS) params.push(['baudpoll', String(d.baudPollMs)]);
      break;
  }
  return params.length ? `${head}?${params.map(([k, v]) => `${k}=${encode(v)}`).join('&')}` : head;
}
