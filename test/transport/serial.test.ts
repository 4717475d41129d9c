import {
  chmodSync,
  closeSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ErrorCode, SimError } from '../../src/core/errors';
import { mapTransportError } from '../../src/transport/error-map';
import { connect } from '../../src/transport/open';
import { createPty } from '../../src/transport/pty';
import { checkSerialSettings, openSerial, SerialTransport } from '../../src/transport/serial';
import { listSerialPorts } from '../../src/transport/serial-list';
import { DEFAULT_LINE } from '../../src/transport/types';
import { MockBinding } from '@serialport/binding-mock';
import { SerialPortMock, type SerialPort } from 'serialport';
import { collect, nextClose, nextConnection } from './helpers';

const dir = mkdtempSync(join(tmpdir(), 'smets1-serial-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function openError(uri: string): Promise<SimError> {
  const e = await connect(uri).then(
    (t) => t.close().then(() => undefined),
    (x: unknown) => x,
  );
  if (!(e instanceof SimError)) throw new Error(`expected a SimError from ${uri}, got ${String(e)}`);
  return e;
}

describe('serial: open errors name the URI and the cause', () => {
  it('missing device -> TransportNotFound', async () => {
    const e = await openError('serial:/dev/ttyUSB_smets1_missing?baud=300&databits=7&parity=even');
    expect(e.code).toBe(ErrorCode.TransportNotFound);
    expect(e.message).toBe(
      'serial:/dev/ttyUSB_smets1_missing?baud=300&databits=7&parity=even: open failed: no such device ' +
        '(No such file or directory, cannot open /dev/ttyUSB_smets1_missing)',
    );
    expect(e.context).toEqual({
      uri: 'serial:/dev/ttyUSB_smets1_missing?baud=300&databits=7&parity=even',
      op: 'open',
    });
  });

  it('a file that is not a tty -> TransportOpenFailed "not a serial device"', async () => {
    const file = join(dir, 'not-a-tty');
    writeFileSync(file, '');
    const e = await openError(`serial:${file}`);
    expect(e.code).toBe(ErrorCode.TransportOpenFailed);
    expect(e.message).toMatch(new RegExp(`^serial:${file}: open failed: not a serial device \\(`));
  });

  /**
   * A path this process may not open read-write. A normal user: a file with mode 000. Root
   * bypasses file modes, but not a read-only sysfs attribute (EACCES even for root), so the test
   * runs there too; it is skipped, saying why, only where neither exists.
   */
  function deniedPath(): string | undefined {
    if (process.getuid?.() !== 0) {
      const file = join(dir, 'no-access');
      writeFileSync(file, '');
      chmodSync(file, 0o000);
      return file;
    }
    for (const p of ['/sys/kernel/uevent_seqnum', '/sys/kernel/profiling']) {
      try {
        closeSync(openSync(p, 'r+'));
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === 'EACCES') return p;
      }
    }
    return undefined;
  }
  const denied = deniedPath();
  (denied ? it : it.skip)(
    `no permission -> TransportPermissionDenied with the dialout hint${denied ? '' : ' (skipped: running as root with no read-only sysfs attribute, so nothing refuses a read-write open)'}`,
    async () => {
      const e = await openError(`serial:${denied!}`);
      expect(e.code).toBe(ErrorCode.TransportPermissionDenied);
      expect(e.message).toContain('dialout');
    },
  );
  if (!denied) console.log('serial permission test skipped: root, and no read-only sysfs attribute to open');

  it('mark/space parity and 1.5 stop bits -> TransportSettingsInvalid on Linux, before touching the device', async () => {
    const e = await openError('serial:/dev/ttyUSB_smets1_missing?parity=mark');
    expect(e.code).toBe(ErrorCode.TransportSettingsInvalid);
    expect(e.message).toBe(
      'serial:/dev/ttyUSB_smets1_missing?parity=mark: parity mark is not supported by serialport on linux (Windows only)',
    );
    expect(() => checkSerialSettings('serial:x', { ...DEFAULT_LINE, stopBits: 1.5 }, 'linux')).toThrow(
      '1.5 stop bits are not supported',
    );
    expect(() =>
      checkSerialSettings('serial:x', { ...DEFAULT_LINE, stopBits: 1.5, parity: 'space' }, 'win32'),
    ).not.toThrow();
  });
});

describe('serial: on a pty standing in for an adapter', () => {
  it('opens 7E1 at 300 baud, sets control lines as a no-op on a pty, reopens for 8N1 at 9600', async () => {
    const link = join(dir, 'probe');
    const listener = await createPty(link, { baudPollMs: 0 });
    const server = await nextConnection(listener);
    try {
      const client = (await openSerial(link, {
        kind: 'pty',
        settings: { baudRate: 300, dataBits: 7, parity: 'even', stopBits: 1 },
      })) as SerialTransport;
      expect(client.getLineSettings()).toEqual({ baudRate: 300, dataBits: 7, parity: 'even', stopBits: 1 });
      await client.setControlLines({ rts: false });
      expect(client.getControlLines()).toEqual({ rts: false, dtr: true, brk: false });
      // IEC 62056-21 sign-on request (dlms.md §1): "/?!" CR LF.
      const signOn = collect(server, 5);
      await client.write(Buffer.from('/?!\r\n'));
      expect((await signOn).toString()).toBe('/?!\r\n');
      // The master reads the client's speed after data arrived (asynchronously).
      if (server.getLineSettings().baudRate !== 300) await new Promise((r) => server.once('line', r));
      expect(server.getLineSettings().baudRate).toBe(300);
      const lines: number[] = [];
      client.on('line', (s) => lines.push(s.baudRate));
      await client.setLineSettings({ baudRate: 9600, dataBits: 8, parity: 'none' });
      expect(lines).toEqual([9600]);
      expect(client.isOpen).toBe(true);
      const frame = collect(server, 3);
      await client.write(Buffer.from([0x7e, 0xa0, 0x7e]));
      expect(await frame).toEqual(Buffer.from([0x7e, 0xa0, 0x7e]));
      const back = collect(client, 2);
      await server.write(Buffer.from([0x06, 0x15]));
      expect(await back).toEqual(Buffer.from([0x06, 0x15]));
      await client.close();
    } finally {
      await listener.close();
    }
  });
});

describe('serial: control lines and speed on serialport (binding-mock, docs/stack.md §2c)', () => {
  afterEach(() => MockBinding.reset());

  async function mockPort(): Promise<{
    t: SerialTransport;
    port: SerialPortMock;
    sets: unknown[];
    updates: unknown[];
  }> {
    MockBinding.createPort('/dev/ttyMOCK0', { record: true });
    const port = new SerialPortMock({
      path: '/dev/ttyMOCK0',
      baudRate: 300,
      dataBits: 7,
      parity: 'even',
      autoOpen: false,
    });
    await new Promise<void>((resolve, reject) => port.open((e) => (e ? reject(e) : resolve())));
    const sets: unknown[] = [];
    const updates: unknown[] = [];
    const binding = port.port!;
    const set = binding.set.bind(binding);
    const update = binding.update.bind(binding);
    binding.set = (o) => (sets.push(o), set(o));
    binding.update = (o) => (updates.push(o), update(o));
    const t = new SerialTransport(
      port as unknown as SerialPort,
      { kind: 'serial', uri: 'serial:/dev/ttyMOCK0?baud=300&databits=7&parity=even', path: '/dev/ttyMOCK0' },
      { baudRate: 300, dataBits: 7, parity: 'even', stopBits: 1 },
      true,
    );
    return { t, port, sets, updates };
  }

  it('sets RTS/DTR after open, always passing the full line state', async () => {
    const { t, sets } = await mockPort();
    await t.setControlLines({ rts: false });
    await t.setControlLines({ dtr: false });
    await t.setControlLines({ brk: true });
    expect(sets).toEqual([
      { rts: false, dtr: true, brk: false, cts: false },
      { rts: false, dtr: false, brk: false, cts: false },
      { rts: false, dtr: false, brk: true, cts: false },
    ]);
    expect(t.getControlLines()).toEqual({ rts: false, dtr: false, brk: true });
    await t.close();
  });

  it('changes only the baud rate in place, writes and reads through the port', async () => {
    const { t, port, updates } = await mockPort();
    await t.setLineSettings({ baudRate: 2400 });
    expect(updates).toEqual([{ baudRate: 2400 }]);
    expect(t.getLineSettings()).toEqual({ baudRate: 2400, dataBits: 7, parity: 'even', stopBits: 1 });
    await t.write(Buffer.from('/?!\r\n'));
    expect(port.port!.recording.toString()).toBe('/?!\r\n');
    const got = collect(t, 5);
    port.port!.emitData(Buffer.from('/ABC5'));
    expect((await got).toString()).toBe('/ABC5');
    await expect(t.setLineSettings({ baudRate: 0 })).rejects.toMatchObject({
      code: ErrorCode.TransportSettingsInvalid,
    });
    await t.close();
    await expect(t.setControlLines({ rts: true })).rejects.toMatchObject({ code: ErrorCode.TransportClosed });
  });

  it('reports the device going away as TransportDisconnected', async () => {
    const { t, port } = await mockPort();
    const closed = nextClose(t);
    port.close(undefined, Object.assign(new Error('device unplugged'), { disconnected: true }));
    const e = await closed;
    expect(e?.code).toBe(ErrorCode.TransportDisconnected);
    expect(e?.message).toBe('serial:/dev/ttyMOCK0?baud=300&databits=7&parity=even: device disconnected');
    expect(t.isOpen).toBe(false);
  });
});

describe('mapTransportError: what serialport and libuv throw, as coded errors', () => {
  it.each([
    // message (serialport's from bindings-cpp src/serialport_unix.cpp), errno, expected code
    ['Error: No such file or directory, cannot open /dev/ttyUSB0', '', 'TransportNotFound'],
    ['Error: Permission denied, cannot open /dev/ttyUSB0', '', 'TransportPermissionDenied'],
    ['Error Resource temporarily unavailable Cannot lock port', '', 'TransportBusy'],
    ['Error: Device or resource busy, cannot open /dev/ttyACM0', '', 'TransportBusy'],
    ['Error: Inappropriate ioctl for device setting custom baud rate of 9600', '', 'TransportOpenFailed'],
    ['connect ECONNREFUSED 127.0.0.1:7001', 'ECONNREFUSED', 'TransportConnectionRefused'],
    ['listen EADDRINUSE: address already in use 127.0.0.1:7001', 'EADDRINUSE', 'TransportAddressInUse'],
    ['getaddrinfo ENOTFOUND meter-9.farm', 'ENOTFOUND', 'TransportNotFound'],
    ['read ECONNRESET', 'ECONNRESET', 'TransportDisconnected'],
    ['something odd', '', 'TransportOpenFailed'],
  ] as const)('%s [%s] -> %s', (message, code, expected) => {
    const err = Object.assign(new Error(message), code ? { code } : {});
    const e = mapTransportError(err, 'serial:/dev/ttyUSB0', {
      op: 'open',
      hints: { [ErrorCode.TransportPermissionDenied]: 'join dialout' },
    });
    expect(e.codeName).toBe(expected);
    expect(e.message.startsWith('serial:/dev/ttyUSB0: open failed: ')).toBe(true);
    expect(e.cause).toBe(err);
    if (expected === 'TransportPermissionDenied') expect(e.message.endsWith('; join dialout')).toBe(true);
  });

  it('passes SimErrors through untouched', () => {
    const original = new SimError(ErrorCode.TransportBusy, 'x');
    expect(mapTransportError(original, 'serial:y', { op: 'open' })).toBe(original);
  });
});

describe('listSerialPorts never crashes', () => {
  it('returns a partial listing with the reason when the OS lister fails (no udevadm in containers)', async () => {
    const dev = join(dir, 'dev');
    mkdirSync(join(dev, 'serial', 'by-id'), { recursive: true });
    for (const name of ['ttyUSB0', 'ttyACM1', 'ttyS0', 'null']) writeFileSync(join(dev, name), '');
    symlinkSync('../../ttyUSB0', join(dev, 'serial', 'by-id', 'usb-FTDI_FT232R_optical_A1B2-if00-port0'));
    const listing = await listSerialPorts({
      devDir: dev,
      list: () => Promise.reject(Object.assign(new Error('spawn udevadm ENOENT'), { code: 'ENOENT' })),
    });
    expect(listing).toEqual({
      partial: true,
      reason: `OS port listing failed (spawn udevadm ENOENT); 2 device(s) found by scanning ${dev}`,
      ports: [
        { path: join(dev, 'ttyACM1') },
        {
          path: join(dev, 'ttyUSB0'),
          byId: join(dev, 'serial', 'by-id', 'usb-FTDI_FT232R_optical_A1B2-if00-port0'),
        },
      ],
    });
  });

  it('returns the OS listing when it works', async () => {
    const listing = await listSerialPorts({
      list: () => Promise.resolve([{ path: '/dev/ttyUSB3', vendorId: '0403' }]),
    });
    expect(listing).toEqual({ partial: false, ports: [{ path: '/dev/ttyUSB3', vendorId: '0403' }] });
  });

  it('resolves on this machine with the real lister', async () => {
    const listing = await listSerialPorts();
    expect(Array.isArray(listing.ports)).toBe(true);
    if (listing.partial) expect(listing.reason).toMatch(/^OS port listing failed \(/);
  });
});
