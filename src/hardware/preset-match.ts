import { defaultPresets, type HardwarePreset, type PresetSet } from './preset-loader';

/**
 * Matching a port's USB ids to presets. Port listers disagree on spelling: Linux sysfs and
 * serialport give "0403", Windows PnP ids upper-case "EA60", some tools "0x0403" or drop the
 * leading zeros. Anything else (an odd device, a missing id) simply matches nothing.
 */

/** "0403" from "0403", "0x0403", "403" or "EA60" -> "ea60"; undefined when not a 16-bit hex id. */
export function normaliseUsbId(raw: unknown): string | undefined {
  if (typeof raw !== 'string') return undefined;
  const s = raw.trim().replace(/^0x/i, '');
  if (!/^[0-9a-fA-F]{1,4}$/.test(s)) return undefined;
  return s.toLowerCase().padStart(4, '0');
}

export interface UsbIds {
  vendorId?: unknown;
  productId?: unknown;
}

/**
 * Presets whose USB ids match the port: adapter presets (the chip itself) first, then the
 * optical-probe presets built on that chip, each group by id. A generic probe is just a chip
 * behind optics, so a USB id cannot tell a probe from a bare adapter; both are offered.
 */
export function matchPreset(port: UsbIds, set: PresetSet = defaultPresets()): HardwarePreset[] {
  const vid = normaliseUsbId(port.vendorId);
  const pid = normaliseUsbId(port.productId);
  if (vid === undefined || pid === undefined) return [];
  const hits = set.presets.filter((p) => p.matchUsb.some((u) => u.vendorId === vid && u.productId === pid));
  const rank = (p: HardwarePreset): number => (p.kind === 'adapter' ? 0 : 1);
  return hits.sort((a, b) => rank(a) - rank(b) || a.id.localeCompare(b.id));
}
