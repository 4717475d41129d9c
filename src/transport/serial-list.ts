import { promises as fs } from 'node:fs';
import { join, resolve } from 'node:path';
import { loadSerialPort } from './native';

/**
 * Port listing that never crashes. serialport's Linux list() spawns `udevadm`; in containers
 * it is missing and list() rejects with `spawn udevadm ENOENT` (docs/stack.md "Pitfalls"), which
 * would kill a process on an unhandled rejection. Then we scan /dev ourselves and say the list is
 * partial.
 */

export interface SerialPortEntry {
  path: string;
  manufacturer?: string;
  serialNumber?: string;
  vendorId?: string;
  productId?: string;
  /** Stable /dev/serial/by-id link, when one points at this device. */
  byId?: string;
}

export interface SerialPortListing {
  ports: SerialPortEntry[];
  /** True when the OS listing failed and `ports` comes from the /dev fallback scan (or nothing). */
  partial: boolean;
  reason?: string;
}

export interface ListOptions {
  /** The OS lister (default: serialport's SerialPort.list). */
  list?: () => Promise<SerialPortEntry[]>;
  /** Root of the device tree for the fallback scan (default /dev). */
  devDir?: string;
}

/** USB CDC-ACM and USB-serial adapters: the devices an optical probe shows up as. */
const DEV_PATTERN = /^tty(?:USB|ACM)\d+$/;

async function scanDev(devDir: string): Promise<SerialPortEntry[]> {
  const found = new Map<string, SerialPortEntry>();
  try {
    for (const name of (await fs.readdir(devDir)).sort()) {
      if (DEV_PATTERN.test(name)) found.set(join(devDir, name), { path: join(devDir, name) });
    }
  } catch {
    // No /dev to read: nothing to add.
  }
  const byIdDir = join(devDir, 'serial', 'by-id');
  try {
    for (const name of (await fs.readdir(byIdDir)).sort()) {
      const link = join(byIdDir, name);
      try {
        const target = resolve(byIdDir, await fs.readlink(link));
        const entry = found.get(target) ?? { path: target };
        entry.byId = link;
        found.set(target, entry);
      } catch {
        // Not a symlink or vanished while scanning: skip it.
      }
    }
  } catch {
    // No by-id directory (no USB serial devices, or no udev): fine.
  }
  return [...found.values()].sort((a, b) => a.path.localeCompare(b.path));
}

async function osList(): Promise<SerialPortEntry[]> {
  const { SerialPort } = loadSerialPort('serial:');
  const ports = await SerialPort.list();
  return ports.map((p) => {
    const e: SerialPortEntry = { path: p.path };
    if (p.manufacturer) e.manufacturer = p.manufacturer;
    if (p.serialNumber) e.serialNumber = p.serialNumber;
    if (p.vendorId) e.vendorId = p.vendorId;
    if (p.productId) e.productId = p.productId;
    if (p.pnpId) e.byId = `/dev/serial/by-id/${p.pnpId}`;
    return e;
  });
}

export async function listSerialPorts(options: ListOptions = {}): Promise<SerialPortListing> {
  try {
    const ports = await (options.list ?? osList)();
    return { ports, partial: false };
  } catch (e) {
    const reason = e instanceof Error ? e.message.split('\n')[0]! : String(e);
    const ports =
      process.platform === 'win32' && !options.devDir ? [] : await scanDev(options.devDir ?? '/dev');
    return {
      ports,
      partial: true,
      reason: `OS port listing failed (${reason}); ${ports.length} device(s) found by scanning ${options.devDir ?? '/dev'}`,
    };
  }
}
