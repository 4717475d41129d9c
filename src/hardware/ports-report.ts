import { promises as fs } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { listSerialPorts, type ListOptions, type SerialPortEntry } from '../transport/serial-list';
import { defaultPresets, type PresetSet } from './preset-loader';
import { matchPreset, normaliseUsbId } from './preset-match';

/**
 * What `smets1-sim ports` shows: every serial port with its USB ids, serial number, the presets
 * that match it, the stable smets1-* names udev gave it (hardware/udev/99-smets1.rules), and
 * whether it is virtual (a pty). It never throws: in a container without udev the OS listing
 * fails (`spawn udevadm ENOENT`, docs/stack.md "Pitfalls"), src/transport/serial-list.ts falls
 * back to scanning /dev, and the report says why the list may be partial. USB ids missing from
 * that fallback are read from sysfs when it is there.
 */

export type PortKind = 'usb' | 'virtual' | 'serial';

export interface PortReportEntry {
  path: string;
  /** Where `path` points when it is a symlink (a pty link -> /dev/pts/3). */
  target?: string;
  kind: PortKind;
  /** A pseudo-terminal: a simulator's pty: port, socat, ... (no UART, no modem lines). */
  virtual: boolean;
  manufacturer?: string;
  serialNumber?: string;
  /** 4 lower-case hex digits. */
  vendorId?: string;
  productId?: string;
  /** /dev/serial/by-id link. */
  byId?: string;
  /** Other names for the same device: smets1-* udev links, paths given by the caller. */
  aliases: string[];
  /** Matching preset ids: adapters first, then optical probes built on the chip. */
  presets: string[];
  notes: string[];
}

export interface PortsReport {
  ports: PortReportEntry[];
  /** The OS listing failed; ports come from scanning /dev and may be incomplete. */
  partial: boolean;
  reason?: string;
  /** Things worth knowing that belong to no single port (dangling links, odd entries). */
  notes: string[];
}

export interface PortsReportOptions {
  /** Extra device paths or links to include, e.g. a simulator's pty link. */
  paths?: readonly string[];
  /** Device tree for the fallback scan and for smets1-* links (default /dev). */
  devDir?: string;
  /** sysfs root for USB ids when the OS listing has none (default /sys). */
  sysDir?: string;
  /** The OS lister (default: serialport's; see src/transport/serial-list.ts). */
  list?: ListOptions['list'];
  presets?: PresetSet;
}

/** A udev link made by hardware/udev/99-smets1.rules. */
const ALIAS_PREFIX = 'smets1-';
const PTS = /^\/dev\/pts\/\d+$/;
const USB_TTY = /^tty(?:USB|ACM)\d+$/;

function str(v: unknown): string | undefined {
  return typeof v === 'string' && v !== '' ? v : undefined;
}

async function realPath(p: string): Promise<string | undefined> {
  try {
    return await fs.realpath(p);
  } catch {
    return undefined;
  }
}

async function readText(p: string): Promise<string | undefined> {
  try {
    return str((await fs.readFile(p, 'utf8')).trim());
  } catch {
    return undefined;
  }
}

/**
 * USB attributes of a tty from sysfs: /sys/class/tty/<name>/device is the USB interface (or,
 * for usb-serial drivers, a port below it); the USB device with idVendor is a few levels up.
 */
async function sysfsUsb(sysDir: string, real: string): Promise<Partial<PortReportEntry> | undefined> {
  const name = basename(real);
  if (!USB_TTY.test(name)) return undefined;
  let dir = await realPath(join(sysDir, 'class', 'tty', name, 'device'));
  for (let up = 0; dir !== undefined && up < 4; up++, dir = dirname(dir)) {
    const vendorId = normaliseUsbId(await readText(join(dir, 'idVendor')));
    if (vendorId === undefined) continue;
    const out: Partial<PortReportEntry> = { vendorId };
    const productId = normaliseUsbId(await readText(join(dir, 'idProduct')));
    if (productId) out.productId = productId;
    const serial = await readText(join(dir, 'serial'));
    if (serial) out.serialNumber = serial;
    const manufacturer = await readText(join(dir, 'manufacturer'));
    if (manufacturer) out.manufacturer = manufacturer;
    return out;
  }
  return undefined;
}

function blank(path: string): PortReportEntry {
  return { path, kind: 'serial', virtual: false, aliases: [], presets: [], notes: [] };
}

/** List serial ports and decorate each with presets, aliases and whether it is virtual. */
export async function listPortsReport(options: PortsReportOptions = {}): Promise<PortsReport> {
  const devDir = options.devDir ?? '/dev';
  const sysDir = options.sysDir ?? '/sys';
  const listOpts: ListOptions = { devDir };
  if (options.list) listOpts.list = options.list;
  const listing = await listSerialPorts(listOpts);
  const report: PortsReport = {
    ports: [],
    partial: listing.partial,
    ...(listing.reason !== undefined ? { reason: listing.reason } : {}),
    notes: [],
  };

  let presets: PresetSet | undefined = options.presets;
  if (!presets) {
    try {
      presets = defaultPresets();
    } catch (e) {
      report.notes.push(`presets unavailable, no matching: ${e instanceof Error ? e.message : String(e)}`);
    }
  }

  const byReal = new Map<string, PortReportEntry>();
  const add = (entry: PortReportEntry, real: string | undefined): void => {
    report.ports.push(entry);
    byReal.set(real ?? entry.path, entry);
  };

  // An OS lister is foreign code: tolerate entries of the wrong shape rather than crash.
  const listed: unknown[] = Array.isArray(listing.ports) ? listing.ports : [];
  let odd = 0;
  for (const raw of listed) {
    const p = (raw ?? {}) as Partial<Record<keyof SerialPortEntry, unknown>>;
    const path = str(p.path);
    if (path === undefined) {
      odd++;
      continue;
    }
    const entry = blank(path);
    const manufacturer = str(p.manufacturer);
    const serialNumber = str(p.serialNumber);
    const byId = str(p.byId);
    if (manufacturer) entry.manufacturer = manufacturer;
    if (serialNumber) entry.serialNumber = serialNumber;
    if (byId) entry.byId = byId;
    for (const key of ['vendorId', 'productId'] as const) {
      if (p[key] === undefined) continue;
      const id = normaliseUsbId(p[key]);
      if (id) entry[key] = id;
      else entry.notes.push(`ignored unreadable ${key} ${JSON.stringify(String(p[key])).slice(0, 40)}`);
    }
    const real = await realPath(path);
    if (real !== undefined && real !== path) entry.target = real;
    add(entry, real);
  }
  if (odd > 0)
    report.notes.push(`${odd} listed entr${odd === 1 ? 'y' : 'ies'} without a device path skipped`);

  // smets1-* links from the udev rules: attach to their device, or list the device they name.
  let names: string[] = [];
  try {
    names = (await fs.readdir(devDir)).filter((n) => n.startsWith(ALIAS_PREFIX)).sort();
  } catch {
    // No device directory to read: no aliases.
  }
  for (const name of names) {
    const link = join(devDir, name);
    const real = await realPath(link);
    if (real === undefined) {
      report.notes.push(`${link} points to nothing (device unplugged?)`);
      continue;
    }
    const hit = byReal.get(real);
    if (hit) {
      if (hit.path !== link) hit.aliases.push(link);
      continue;
    }
    const entry = blank(real);
    entry.aliases.push(link);
    add(entry, real);
  }

  for (const given of options.paths ?? []) {
    const path = resolve(given);
    const real = await realPath(path);
    const hit = byReal.get(real ?? path);
    if (hit) {
      if (hit.path !== path && !hit.aliases.includes(path)) hit.aliases.push(path);
      continue;
    }
    const entry = blank(path);
    if (real === undefined) entry.notes.push('not found (or a link to a device that is gone)');
    else if (real !== path) entry.target = real;
    add(entry, real);
  }

  for (const entry of report.ports) {
    const real = entry.target ?? entry.path;
    if (PTS.test(real) || PTS.test(entry.path)) {
      entry.virtual = true;
      entry.kind = 'virtual';
      continue;
    }
    if (entry.vendorId === undefined) {
      const usb = await sysfsUsb(sysDir, real);
      if (usb) {
        for (const key of ['vendorId', 'productId', 'serialNumber', 'manufacturer'] as const) {
          if (usb[key] !== undefined && entry[key] === undefined) entry[key] = usb[key];
        }
        entry.notes.push('USB ids read from sysfs');
      }
    }
    if (entry.vendorId !== undefined) entry.kind = 'usb';
    if (presets) {
      entry.presets = matchPreset({ vendorId: entry.vendorId, productId: entry.productId }, presets).map(
        (p) => p.id,
      );
    }
  }
  return report;
}

/** Control characters from odd devices must not reach the terminal. */
function printable(s: string): string {
  return s.replace(/[\x00-\x1f\x7f-\x9f]/g, '?');
}

function presetCell(entry: PortReportEntry, presets: PresetSet | undefined): string {
  if (entry.presets.length === 0) return '-';
  const kindOf = (id: string): string | undefined => presets?.byId.get(id)?.kind;
  const adapters = entry.presets.filter((id) => kindOf(id) !== 'optical-probe');
  const probes = entry.presets.length - adapters.length;
  const head = adapters.length > 0 ? adapters.join(',') : '';
  if (probes === 0) return head;
  const tail = `${probes} probe preset${probes === 1 ? '' : 's'}`;
  return head ? `${head} (+${tail})` : tail;
}

/** A human table for the CLI; an empty list says why it may be empty. */
export function renderPortsTable(report: PortsReport, presets?: PresetSet): string {
  let known: PresetSet | undefined = presets;
  if (!known) {
    try {
      known = defaultPresets();
    } catch {
      known = undefined;
    }
  }
  const lines: string[] = [];
  if (report.ports.length === 0) {
    lines.push('No serial ports found.');
  } else {
    const header = ['PATH', 'TYPE', 'USB ID', 'SERIAL', 'PRESETS'];
    const rows = report.ports.map((e) => [
      printable(e.target ? `${e.path} -> ${e.target}` : e.path),
      e.kind,
      e.vendorId ? `${e.vendorId}:${e.productId ?? '????'}` : '-',
      e.serialNumber ? printable(e.serialNumber) : '-',
      presetCell(e, known),
    ]);
    const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
    const fmt = (r: string[]): string =>
      r
        .map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!)))
        .join('  ')
        .trimEnd();
    lines.push(fmt(header), ...rows.map(fmt));
    for (const e of report.ports) {
      const extra = [
        ...(e.manufacturer ? [`manufacturer ${printable(e.manufacturer)}`] : []),
        ...(e.byId ? [`by-id ${printable(e.byId)}`] : []),
        ...e.aliases.map((a) => `alias ${printable(a)}`),
        ...(e.virtual ? ['virtual: a pseudo-terminal; baud and modem lines are not real'] : []),
        ...e.notes.map(printable),
      ];
      if (extra.length > 0) lines.push(`  ${printable(e.path)}: ${extra.join('; ')}`);
    }
    const probes = new Set(
      report.ports.flatMap((e) => e.presets.filter((id) => known?.byId.get(id)?.kind === 'optical-probe')),
    );
    if (probes.size > 0) lines.push(`Probe presets for these chips: ${[...probes].join(', ')}`);
  }
  if (report.partial) {
    lines.push(`The list may be partial: ${printable(report.reason ?? 'the OS port listing failed')}`);
  } else if (report.ports.length === 0) {
    lines.push('The OS port listing succeeded and reported no ports (no USB-serial adapter plugged in?).');
  }
  for (const n of report.notes) lines.push(`Note: ${printable(n)}`);
  return `${lines.join('\n')}\n`;
}

/** The --json form: the report itself, stable field names (hardware/README.md). */
export function formatPortsJson(report: PortsReport): string {
  return `${JSON.stringify(report, null, 2)}\n`;
}
