import { ErrorCode, SimError } from '../core/errors';
import type { HardwarePreset } from './preset-loader';
import {
  PRESET_PROTOCOLS,
  type C1218Spec,
  type HdlcSpec,
  type Iec62056_21Spec,
  type PresetProtocol,
} from './preset-schema';

/**
 * Turning a preset into what a client opens a port with. A session has two phases:
 *   start  C12.18: 9600 8N1 until Negotiate (docs/c1218.md §1.1);
 *          IEC 62056-21: the 300 Bd 7E1 sign-on (docs/dlms.md §1); direct HDLC: 9600 8N1.
 *   data   after the speed change: 8N1 at the rate the session chose (C12.18 Negotiate, the
 *          baud character of the IEC identification). The caller passes that rate. Direct
 *          HDLC has no speed change, so its data phase is its start format.
 */

export type SerialPhase = 'start' | 'data';

export interface PresetSerialSettings {
  baudRate: number;
  dataBits: 5 | 6 | 7 | 8;
  parity: 'none' | 'even' | 'odd' | 'mark' | 'space';
  stopBits: 1 | 1.5 | 2;
  /** Set right after open; undefined = leave the line as the OS set it. */
  rts?: boolean;
  dtr?: boolean;
  /** The device returns what it sends; the client strips its own bytes from what comes back. */
  echo: boolean;
}

export interface PhaseOptions {
  /** The rate the session switched to; required for the data phase of C12.18 and IEC 62056-21. */
  baudRate?: number;
}

function usage(message: string, context: Record<string, unknown>): SimError {
  return new SimError(ErrorCode.UsageError, message, context);
}

/** The protocols a preset carries settings for, in PRESET_PROTOCOLS order. */
export function presetProtocols(preset: HardwarePreset): PresetProtocol[] {
  return PRESET_PROTOCOLS.filter((p) => preset.protocols[p] !== undefined);
}

function section<P extends PresetProtocol>(
  preset: HardwarePreset,
  protocol: P,
): NonNullable<HardwarePreset['protocols'][P]> {
  const s = preset.protocols[protocol];
  if (s === undefined) {
    throw usage(
      `hardware preset ${preset.id} has no ${protocol} settings; it supports ${presetProtocols(preset).join(', ')}`,
      { preset: preset.id, protocol, supported: presetProtocols(preset) },
    );
  }
  return s;
}

function announcedRate(preset: HardwarePreset, protocol: PresetProtocol, options: PhaseOptions): number {
  const rate = options.baudRate;
  if (rate === undefined) {
    throw usage(`the ${protocol} data phase needs the baud rate the session switched to`, {
      preset: preset.id,
      protocol,
    });
  }
  if (!Number.isInteger(rate) || rate < 50 || rate > 4_000_000) {
    throw usage(`baud rate ${rate} is not an integer 50..4000000`, { preset: preset.id, protocol, rate });
  }
  return rate;
}

/** Serial settings for one protocol and phase of a preset. */
export function presetSerialSettings(
  preset: HardwarePreset,
  protocol: PresetProtocol,
  phase: SerialPhase = 'start',
  options: PhaseOptions = {},
): PresetSerialSettings {
  const spec = section(preset, protocol);
  let format: { dataBits: 5 | 6 | 7 | 8; parity: PresetSerialSettings['parity']; stopBits: 1 | 1.5 | 2 };
  let baudRate: number;
  if (protocol === 'hdlc') {
    format = (spec as HdlcSpec).start;
    baudRate = (spec as HdlcSpec).start.baud;
  } else {
    const [start, data] =
      protocol === 'c1218'
        ? [(spec as C1218Spec).start, (spec as C1218Spec).data]
        : [(spec as Iec62056_21Spec).signOn, (spec as Iec62056_21Spec).data];
    if (phase === 'start') {
      format = start;
      baudRate = start.baud;
    } else {
      format = data;
      baudRate = announcedRate(preset, protocol, options);
    }
  }
  const out: PresetSerialSettings = {
    baudRate,
    dataBits: format.dataBits,
    parity: format.parity,
    stopBits: format.stopBits,
    echo: preset.echo,
  };
  if (preset.controlLines.rts !== undefined) out.rts = preset.controlLines.rts;
  if (preset.controlLines.dtr !== undefined) out.dtr = preset.controlLines.dtr;
  return out;
}

export type C1218Timeouts = C1218Spec['timeouts'];
export type Iec62056_21Timeouts = Iec62056_21Spec['timeouts'];
export type HdlcTimeouts = HdlcSpec['timeouts'];

export interface PresetTimeouts {
  c1218: C1218Timeouts;
  'iec62056-21': Iec62056_21Timeouts;
  hdlc: HdlcTimeouts;
}

/**
 * The preset's documented timeouts for a protocol, with caller overrides (CLI flags, URI
 * params) laid over them. An override must be a positive integer no larger than the schema
 * allows, and name a timeout the protocol has.
 */
export function presetTimeouts<P extends PresetProtocol>(
  preset: HardwarePreset,
  protocol: P,
  overrides: Partial<PresetTimeouts[P]> = {},
): PresetTimeouts[P] {
  const base = section(preset, protocol).timeouts as PresetTimeouts[P];
  const out: Record<string, number> = { ...(base as Record<string, number>) };
  for (const [key, value] of Object.entries(overrides as Record<string, unknown>)) {
    if (value === undefined) continue;
    if (!(key in out)) {
      throw usage(
        `unknown ${protocol} timeout ${JSON.stringify(key)}; known: ${Object.keys(out).join(', ')}`,
        {
          preset: preset.id,
          protocol,
          key,
        },
      );
    }
    const max = key === 'maxTries' ? 20 : 3_600_000;
    if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > max) {
      throw usage(`${protocol} timeout ${key}=${String(value)}: expected an integer 1..${max}`, {
        preset: preset.id,
        protocol,
        key,
      });
    }
    out[key] = value;
  }
  return out as PresetTimeouts[P];
}

/**
 * The serial: URI query params (src/transport/uri.ts grammar) for settings: baud, databits,
 * parity, stopbits, and rts/dtr when the preset sets them. Echo is left out: the URI's `echo`
 * emulates one, and cancelling it is `echocancel=1`, which `?preset=` sets from the preset
 * (preset-connect.ts).
 */
export function serialUriParams(settings: PresetSerialSettings): Record<string, string> {
  const params: Record<string, string> = {
    baud: String(settings.baudRate),
    databits: String(settings.dataBits),
    parity: settings.parity,
    stopbits: String(settings.stopBits),
  };
  if (settings.rts !== undefined) params['rts'] = settings.rts ? '1' : '0';
  if (settings.dtr !== undefined) params['dtr'] = settings.dtr ? '1' : '0';
  return params;
}
