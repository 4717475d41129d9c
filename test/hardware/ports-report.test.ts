import { mkdirSync, mkdtempSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { createPty } from '../../src/transport/pty';
import type { SerialPortEntry } from '../../src/transport/serial-list';
import {
  formatPortsJson,
  listPortsReport,
  renderPortsTable,
  type PortsReport,
} from '../../src/hardware/ports-report';

const PROBES = [
  'ansi-c12-optical-probe',
  'iec-optical-probe',
  'optical-probe-dtr-powered',
  'optical-probe-rts-powered',
  'optical-probe-self-powered',
];

// realpath: the report compares resolved paths, and /tmp may itself be a link.
const tmp = realpathSync(mkdtempSync(join(tmpdir(), 'smets1-ports-')));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
let n = 0;
const fresh = (): string => {
  const d = join(tmp, `t${++n}`);
  mkdirSync(d);
  return d;
};
const failingList = (): Promise<SerialPortEntry[]> => Promise.reject(new Error('spawn udevadm ENOENT'));
const emptyDev = (): string => fresh();

describe('listPortsReport on this machine', () => {
  it('returns a report, never throws, and says why when the list is partial', async () => {
    const report = await listPortsReport();
    expect(Array.isArray(report.ports)).toBe(true);
    if (report.partial)
      expect(report.reason).toMatch(/^OS port listing failed \(.+\); \d+ device\(s\) found/);
    const text = renderPortsTable(report);
    if (report.ports.length === 0) expect(text.startsWith('No serial ports found.\n')).toBe(true);
    if (report.partial) expect(text).toContain('The list may be partial: OS port listing failed');
  });
});

describe('listPortsReport with a failing OS lister (a container without udev)', () => {
  it('is empty with the reason when /dev holds no serial devices', async () => {
    const dev = emptyDev();
    const report = await listPortsReport({ list: failingList, devDir: dev, sysDir: fresh() });
    expect(report).toEqual({
      ports: [],
      partial: true,
      reason: `OS port listing failed (spawn udevadm ENOENT); 0 device(s) found by scanning ${dev}`,
      notes: [],
    });
    expect(renderPortsTable(report)).toBe(
      'No serial ports found.\n' +
        `The list may be partial: OS port listing failed (spawn udevadm ENOENT); 0 device(s) found by scanning ${dev}\n`,
    );
  });

  it('reads USB ids from sysfs for scanned devices and attaches smets1-* udev links', async () => {
    const dev = fresh();
    const sys = fresh();
    writeFileSync(join(dev, 'ttyUSB0'), '');
    writeFileSync(join(dev, 'ttyACM3'), '');
    symlinkSync(join(dev, 'ttyUSB0'), join(dev, 'smets1-probe'));
    symlinkSync(join(dev, 'ttyUSB9'), join(dev, 'smets1-b'));
    // sysfs: the tty's device is a usb-serial port below the interface, below the USB device.
    const usbDev = join(sys, 'devices', 'usb1', '1-1');
    const port = join(usbDev, '1-1:1.0', 'ttyUSB0');
    mkdirSync(port, { recursive: true });
    writeFileSync(join(usbDev, 'idVendor'), '0403\n');
    writeFileSync(join(usbDev, 'idProduct'), '6001\n');
    writeFileSync(join(usbDev, 'serial'), 'A50285BI\n');
    writeFileSync(join(usbDev, 'manufacturer'), 'FTDI\n');
    mkdirSync(join(sys, 'class', 'tty', 'ttyUSB0'), { recursive: true });
    symlinkSync(port, join(sys, 'class', 'tty', 'ttyUSB0', 'device'));

    const report = await listPortsReport({ list: failingList, devDir: dev, sysDir: sys });
    expect(report.partial).toBe(true);
    expect(report.ports).toEqual([
      {
        path: join(dev, 'ttyACM3'),
        kind: 'serial',
        virtual: false,
        aliases: [],
        presets: [],
        notes: [],
      },
      {
        path: join(dev, 'ttyUSB0'),
        kind: 'usb',
        virtual: false,
        vendorId: '0403',
        productId: '6001',
        serialNumber: 'A50285BI',
        manufacturer: 'FTDI',
        aliases: [join(dev, 'smets1-probe')],
        presets: ['ftdi', ...PROBES],
        notes: ['USB ids read from sysfs'],
      },
    ]);
    expect(report.notes).toEqual([`${join(dev, 'smets1-b')} points to nothing (device unplugged?)`]);

    const text = renderPortsTable(report).split('\n');
    expect(text[0]).toMatch(/^PATH +TYPE +USB ID +SERIAL +PRESETS$/);
    expect(text[1]).toMatch(new RegExp(`^${join(dev, 'ttyACM3')} +serial +- +- +-$`));
    expect(text[2]).toMatch(
      new RegExp(`^${join(dev, 'ttyUSB0')} +usb +0403:6001 +A50285BI +ftdi \\(\\+5 probe presets\\)$`),
    );
    // Columns line up: every cell of a column starts at the header's offset.
    expect(text[2]!.indexOf('0403:6001')).toBe(text[0]!.indexOf('USB ID'));
    expect(text).toContain(
      `  ${join(dev, 'ttyUSB0')}: manufacturer FTDI; alias ${join(dev, 'smets1-probe')}; USB ids read from sysfs`,
    );
    expect(text).toContain(`Probe presets for these chips: ${PROBES.join(', ')}`);
  });
});

describe('listPortsReport with an OS listing', () => {
  it('decorates listed ports, keeps going past odd entries, and notes what it skipped', async () => {
    const odd = [
      {
        path: '/dev/ttyUSB7',
        vendorId: '0403',
        productId: '6015',
        serialNumber: 'DK0AB1CD',
        manufacturer: 'FTDI',
      },
      { path: '/dev/ttyUSB8', vendorId: 'zz!!', productId: 42 },
      { path: '/dev/ttyS0' },
      { vendorId: '0403' },
      null,
      { path: 7 },
    ] as unknown as SerialPortEntry[];
    const report = await listPortsReport({
      list: () => Promise.resolve(odd),
      devDir: emptyDev(),
      sysDir: fresh(),
    });
    expect(report.partial).toBe(false);
    expect(report.reason).toBeUndefined();
    expect(report.notes).toEqual(['3 listed entries without a device path skipped']);
    expect(report.ports.map((p) => [p.path, p.kind, p.presets[0] ?? null])).toEqual([
      ['/dev/ttyUSB7', 'usb', 'ftdi'],
      ['/dev/ttyUSB8', 'serial', null],
      ['/dev/ttyS0', 'serial', null],
    ]);
    expect(report.ports[1]!.notes).toEqual([
      'ignored unreadable vendorId "zz!!"',
      'ignored unreadable productId "42"',
    ]);
  });

  it('keeps control characters from odd devices out of the table, not out of the JSON', async () => {
    const list = (): Promise<SerialPortEntry[]> =>
      Promise.resolve([
        { path: '/dev/ttyUSB1', serialNumber: 'AB\u001b[2JCD', vendorId: '1a86', productId: '7523' },
      ]);
    const report = await listPortsReport({ list, devDir: emptyDev(), sysDir: fresh() });
    const text = renderPortsTable(report);
    expect(text).toContain('AB?[2JCD');
    expect(text).not.toContain('\u001b');
    expect(JSON.parse(formatPortsJson(report))).toEqual(report);
    expect((JSON.parse(formatPortsJson(report)) as PortsReport).ports[0]!.serialNumber).toBe('AB\u001b[2JCD');
  });

  it('says the OS found nothing when a complete listing is empty', async () => {
    const report = await listPortsReport({
      list: () => Promise.resolve([]),
      devDir: emptyDev(),
      sysDir: fresh(),
    });
    expect(renderPortsTable(report)).toBe(
      'No serial ports found.\n' +
        'The OS port listing succeeded and reported no ports (no USB-serial adapter plugged in?).\n',
    );
  });

  it('never throws whatever the lister returns', async () => {
    const hex = fc.string({ unit: fc.constantFrom(...'0123456789abcdefABCDEFx'), maxLength: 6 });
    const entry = fc.record(
      {
        path: fc.oneof(fc.string(), fc.constant('/dev/ttyUSB0'), fc.anything()),
        vendorId: fc.oneof(hex, fc.anything()),
        productId: fc.oneof(hex, fc.anything()),
        serialNumber: fc.anything(),
        manufacturer: fc.string(),
      },
      { requiredKeys: [] },
    );
    const dev = emptyDev();
    const sys = fresh();
    await fc.assert(
      fc.asyncProperty(fc.array(fc.oneof(entry, fc.anything()), { maxLength: 5 }), async (entries) => {
        const list = (): Promise<SerialPortEntry[]> => Promise.resolve(entries as SerialPortEntry[]);
        const report = await listPortsReport({ list, devDir: dev, sysDir: sys });
        expect(typeof renderPortsTable(report)).toBe('string');
        expect(report.ports.every((p) => typeof p.path === 'string')).toBe(true);
      }),
      { numRuns: 200 },
    );
  });
});

describe('listPortsReport with paths given by the caller', () => {
  it('lists a pty link as a virtual port', async () => {
    const link = join(fresh(), 'meter-1');
    let listener: Awaited<ReturnType<typeof createPty>>;
    try {
      listener = await createPty(link);
    } catch (e) {
      // Needs openpty (the @lydell/node-pty prebuilt addon, a Unix kernel with free ptys).
      console.log(`skipped: cannot create a pty here: ${e instanceof Error ? e.message : String(e)}`);
      return;
    }
    try {
      const pts = listener.transport.ptyPath;
      expect(pts).toMatch(/^\/dev\/pts\/\d+$/);
      const report = await listPortsReport({
        paths: [link],
        list: () => Promise.resolve([]),
        devDir: emptyDev(),
        sysDir: fresh(),
      });
      expect(report.ports).toEqual([
        { path: link, target: pts, kind: 'virtual', virtual: true, aliases: [], presets: [], notes: [] },
      ]);
      const text = renderPortsTable(report);
      expect(text).toContain(`${link} -> ${pts}  virtual`);
      expect(text).toContain(`${link}: virtual: a pseudo-terminal; baud and modem lines are not real`);
    } finally {
      await listener.close();
    }
  });

  it('notes a path that does not exist, and folds a second name for a listed port into its aliases', async () => {
    const dir = fresh();
    writeFileSync(join(dir, 'ttyUSB0'), '');
    symlinkSync(join(dir, 'ttyUSB0'), join(dir, 'bench-a'));
    const report = await listPortsReport({
      paths: [join(dir, 'gone'), join(dir, 'bench-a')],
      list: () => Promise.resolve([{ path: join(dir, 'ttyUSB0'), vendorId: '10c4', productId: 'ea60' }]),
      devDir: emptyDev(),
      sysDir: fresh(),
    });
    expect(
      report.ports.map((p) => ({ path: p.path, aliases: p.aliases, notes: p.notes, presets: p.presets[0] })),
    ).toEqual([
      { path: join(dir, 'ttyUSB0'), aliases: [join(dir, 'bench-a')], notes: [], presets: 'cp210x' },
      {
        path: join(dir, 'gone'),
        aliases: [],
        notes: ['not found (or a link to a device that is gone)'],
        presets: undefined,
      },
    ]);
  });
});
