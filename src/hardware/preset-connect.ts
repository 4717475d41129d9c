import { resolveLinePreset, type LinePreset, type PresetResolver } from '../transport/line-preset';
import { parseTransportUri, type TransportDescriptor } from '../transport/uri';
import { defaultPresets, resolvePreset, type HardwarePreset, type PresetSet } from './preset-loader';
import type { PresetProtocol } from './preset-schema';
import { presetSerialSettings, presetTimeouts, type PresetTimeouts } from './serial-settings';

/**
 * Where hardware presets meet the transport: `serial:/dev/ttyUSB0?preset=NAME`. The transport
 * layer parses the name but cannot read presets (it sits below this folder), so opening a port
 * takes a resolver bound to the protocol that will run on the line (src/transport/
 * line-preset.ts). The protocol picks the first phase's format: C12.18 9600 8N1, IEC 62056-21
 * 300 Bd 7E1 (the sign-on; the client switches to the announced rate), direct HDLC 9600 8N1.
 */

/** The resolver for `TransportOptions.preset`: a preset's first-phase line, control lines, echo. */
export function presetResolver(protocol: PresetProtocol, set?: PresetSet): PresetResolver {
  return (name: string): LinePreset => {
    const s = presetSerialSettings(resolvePreset(name, set ?? defaultPresets()), protocol, 'start');
    const control: LinePreset['control'] = {};
    if (s.rts !== undefined) control.rts = s.rts;
    if (s.dtr !== undefined) control.dtr = s.dtr;
    return {
      settings: { baudRate: s.baudRate, dataBits: s.dataBits, parity: s.parity, stopBits: s.stopBits },
      control,
      echoCancel: s.echo,
    };
  };
}

/** A client connection's address with its preset applied, and the preset for the clients' timing. */
export interface PresetConnection<P extends PresetProtocol> {
  /** Ready for transport connect(): the preset's values under the URI's explicit params. */
  descriptor: TransportDescriptor;
  /** The preset the URI named, if any. */
  preset?: HardwarePreset;
  /** The preset's timeouts for the protocol (documented defaults in hardware/presets/*.yaml). */
  timeouts?: PresetTimeouts[P];
  /** Control lines the port holds (from the preset or the URI): clients must not undo them. */
  control: { rts?: boolean; dtr?: boolean };
}

/**
 * Parse a client URI and apply the preset it names for `protocol`. Throws SimError: the URI's
 * TransportUriInvalid, or UsageError for an unknown preset (listing the known ones) or a preset
 * without settings for the protocol (an IEC head asked for C12.18).
 */
export function presetConnection<P extends PresetProtocol>(
  uri: string | TransportDescriptor,
  protocol: P,
  set?: PresetSet,
): PresetConnection<P> {
  const asked = typeof uri === 'string' ? parseTransportUri(uri) : uri;
  const named =
    (asked.scheme === 'serial' || asked.scheme === 'pty') && asked.preset ? asked.preset.name : undefined;
  const resolver = presetResolver(protocol, set);
  const descriptor = resolveLinePreset(asked, resolver);
  const control = descriptor.scheme === 'serial' ? { ...descriptor.control } : {};
  if (named === undefined) return { descriptor, control };
  const preset = resolvePreset(named, set ?? defaultPresets());
  return {
    descriptor,
    preset,
    timeouts: presetTimeouts(preset, protocol),
    // The client end of a pty takes no rts/dtr params: the preset's lines are the ones to hold.
    control: descriptor.scheme === 'serial' ? control : resolver(named).control,
  };
}
