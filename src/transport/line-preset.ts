import { ErrorCode, SimError } from '../core/errors';
import type { LineSettings } from './types';
import type { PtyDescriptor, SerialDescriptor, TransportDescriptor } from './uri';

/**
 * `serial:PATH?preset=NAME` (and the client end of a `pty:` link): what a hardware preset means
 * to the transport, free of any protocol or file format. The transport layer sits below
 * src/hardware (DESIGN.md "Layers"), so it cannot read presets itself: whoever opens the port
 * passes a resolver (`TransportOptions.preset`), bound to the protocol that will run on the line;
 * src/hardware's `presetResolver(protocol)` is the one the sessions and the CLI use. Without a
 * resolver, a URI naming a preset is refused with a message that says so.
 *
 * A preset supplies the line format of the protocol's first phase (C12.18: 9600 8N1;
 * IEC 62056-21: the 300 Bd 7E1 sign-on; direct HDLC: 9600 8N1 — the protocol code switches
 * speed later), the modem control lines set on open and held (probes powered from RTS or DTR),
 * and whether the client cancels the probe's echo. Any of these given explicitly in the URI
 * wins over the preset.
 */

/** URI params a preset sets, which an explicit param overrides. */
export const PRESET_KEYS = ['baud', 'databits', 'parity', 'stopbits', 'rts', 'dtr', 'echocancel'] as const;
export type PresetKey = (typeof PRESET_KEYS)[number];

/** Preset names: the file names of hardware/presets (src/hardware/preset-schema.ts). */
export const PRESET_NAME = /^[a-z0-9][a-z0-9-]{0,62}$/;

/** A preset as the transport applies it. */
export interface LinePreset {
  /** The line format at open (the protocol's first phase). */
  settings: LineSettings;
  /** Control lines set right after open and held; absent = left as the OS set them. */
  control: { rts?: boolean; dtr?: boolean };
  /** The device echoes what we send: strip it (line-echo.ts). */
  echoCancel: boolean;
}

/** Looks a preset up by name; throws a SimError (listing the known names) when there is none. */
export type PresetResolver = (name: string) => LinePreset;

type WithPreset = SerialDescriptor | PtyDescriptor;

/** Whether a descriptor names a preset still to be applied. */
export function pendingPreset(
  d: TransportDescriptor,
): d is WithPreset & { preset: NonNullable<WithPreset['preset']> } {
  return (d.scheme === 'serial' || d.scheme === 'pty') && d.preset !== undefined;
}

/**
 * The descriptor with the preset's values laid under the URI's explicit params. The result names
 * no preset any more; `uri` stays the canonical form of what was asked for (with `preset=`), so
 * messages show what the user typed.
 */
export function applyLinePreset<D extends WithPreset>(d: D, preset: LinePreset): D {
  const req = d.preset;
  if (!req) return d;
  const own = new Set<PresetKey>(req.explicit);
  const s = d.settings;
  const settings: LineSettings = {
    baudRate: own.has('baud') ? s.baudRate : preset.settings.baudRate,
    dataBits: own.has('databits') ? s.dataBits : preset.settings.dataBits,
    parity: own.has('parity') ? s.parity : preset.settings.parity,
    stopBits: own.has('stopbits') ? s.stopBits : preset.settings.stopBits,
  };
  const out: D = { ...d, settings };
  delete out.preset;
  const echoCancel = own.has('echocancel') ? d.echoCancel === true : preset.echoCancel;
  if (echoCancel) out.echoCancel = true;
  else delete out.echoCancel;
  if (out.scheme === 'serial' && d.scheme === 'serial') {
    const control: SerialDescriptor['control'] = {};
    const rts = own.has('rts') ? d.control.rts : preset.control.rts;
    const dtr = own.has('dtr') ? d.control.dtr : preset.control.dtr;
    if (rts !== undefined) control.rts = rts;
    if (dtr !== undefined) control.dtr = dtr;
    out.control = control;
  }
  return out;
}

/** Resolve the preset a descriptor names, or refuse when nobody gave a resolver. */
export function resolveLinePreset<D extends TransportDescriptor>(
  d: D,
  resolver: PresetResolver | undefined,
): D {
  if (!pendingPreset(d)) return d;
  if (!resolver) {
    throw new SimError(
      ErrorCode.TransportUriInvalid,
      `${JSON.stringify(d.uri)}: preset=${d.preset.name} needs the hardware presets: open it through ` +
        'a client session or the CLI, or pass TransportOptions.preset (presetResolver in src/hardware)',
      { uri: d.uri, preset: d.preset.name },
    );
  }
  return applyLinePreset(d, resolver(d.preset.name)) as D;
}
