import type { SerialPort } from 'serialport';
import { ErrorCode, SimError } from '../core/errors';
import { silentLogger, type Logger } from '../core/logger';
import { BaseTransport } from './base';
import { closedError, disconnectedError, mapTransportError } from './error-map';
import { loadSerialPort } from './native';
import { hardenPoller } from './poller-fix';
import { DEFAULT_LINE, type ControlLines, type LineSettings, type TransportInfo } from './types';

/**
 * Real serial ports on serialport 13 (docs/stack.md §1). 7E1 works (IEC 62056-21 sign-on at
 * 300 7E1, dlms.md §1); a baud-only change is an in-place update, a framing change (7E1 -> 8N1
 * after a mode-E switch) reopens the port because serialport can only update the baud rate.
 */

export interface SerialOpenOptions {
  uri?: string;
  settings?: LineSettings;
  /** Control lines to set right after open. */
  control?: { rts?: boolean; dtr?: boolean };
  /** Exclusive lock (serialport's flock); default true. */
  lock?: boolean;
  logger?: Logger;
  /** `serial` (default) or `pty` when opening the client side of a pty link. */
  kind?: 'serial' | 'pty';
}

const HINTS = {
  [ErrorCode.TransportPermissionDenied]:
    'add the user to the group that owns the device (usually `dialout`: sudo usermod -aG dialout $USER, then log in again)',
  [ErrorCode.TransportBusy]: 'another process has the port open (close it, or check `fuser <device>`)',
};

/** Settings serialport accepts on this platform; mark/space parity and 1.5 stop bits are
 * Windows-only in bindings-cpp 13 (src/serialport_unix.cpp rejects them). */
export function checkSerialSettings(uri: string, s: LineSettings, platform = process.platform): void {
  const bad = (what: string): SimError =>
    new SimError(ErrorCode.TransportSettingsInvalid, `${uri}: ${what}`, { uri, settings: s });
  if (!Number.isInteger(s.baudRate) || s.baudRate <= 0)
    throw bad(`baud rate ${s.baudRate} is not a positive integer`);
  if (![5, 6, 7, 8].includes(s.dataBits)) throw bad(`data bits ${s.dataBits} not in 5..8`);
  if (platform !== 'win32') {
    if (s.parity === 'mark' || s.parity === 'space') {
      throw bad(`parity ${s.parity} is not supported by serialport on ${platform} (Windows only)`);
    }
    if (s.stopBits === 1.5)
      throw bad(`1.5 stop bits are not supported by serialport on ${platform} (Windows only)`);
  }
}

function openPort(uri: string, path: string, s: LineSettings, lock: boolean): Promise<SerialPort> {
  const { SerialPort } = loadSerialPort(uri);
  let port: SerialPort;
  try {
    port = new SerialPort({
      path,
      baudRate: s.baudRate,
      dataBits: s.dataBits,
      parity: s.parity,
      stopBits: s.stopBits,
      lock,
      // Control lines change only when asked: closing must not drop DTR (some optical heads are
      // powered from it), and a framing change reopens the port (modelled choice).
      hupcl: false,
      autoOpen: false,
    });
  } catch (e) {
    return Promise.reject(
      mapTransportError(e, uri, { op: 'open', fallback: ErrorCode.TransportSettingsInvalid }),
    );
  }
  return new Promise((resolve, reject) => {
    port.open((err) => {
      if (err) {
        reject(mapTransportError(err, uri, { op: 'open', hints: HINTS }));
        return;
      }
      // Full-duplex traffic can stall on bindings-cpp's poller otherwise (poller-fix.ts).
      hardenPoller(port.port);
      resolve(port);
    });
  });
}

export class SerialTransport extends BaseTransport {
  /** Linux asserts DTR and RTS when a tty is opened (modelled as the starting state). */
  private control: Required<ControlLines> = { rts: true, dtr: true, brk: false };
  private reopening = false;
  /** Whether control lines were ever set explicitly (then a reopen restores them). */
  private controlSet = false;
  private readingStarted = false;

  constructor(
    private port: SerialPort,
    info: TransportInfo,
    line: LineSettings,
    private readonly lock: boolean,
    logger: Logger = silentLogger,
  ) {
    super(info, line, logger);
    this.wire(port);
  }

  private wire(port: SerialPort): void {
    port.on('close', (err: (Error & { disconnected?: boolean }) | null) => {
      if (this.reopening || this.isClosing) return;
      const e = disconnectedError(
        this.info.uri,
        err?.disconnected ? 'device disconnected' : 'port closed',
        err,
      );
      this.rejectPendingWrites(e);
      this.lost(e);
    });
    port.on('error', (err: Error) => {
      this.logger.debug({ err, uri: this.info.uri }, 'serial port error');
    });
    if (this.readingStarted) port.on('data', this.onData);
  }

  private readonly onData = (chunk: Buffer): void => {
    this.emit('data', chunk);
  };

  protected startReading(): void {
    this.readingStarted = true;
    this.port.on('data', this.onData);
  }

  protected writeBytes(data: Buffer): Promise<void> {
    return this.trackedWrite((done) => this.port.write(data, done));
  }

  protected release(): Promise<void> {
    this.rejectPendingWrites(closedError(this.info.uri, 'closed while writing'));
    if (!this.port.isOpen) return Promise.resolve();
    return new Promise((resolve) => this.port.close(() => resolve()));
  }

  /** Current modem control lines as last set. */
  getControlLines(): Required<ControlLines> {
    return { ...this.control };
  }

  override async setControlLines(lines: ControlLines): Promise<void> {
    if (!this.isOpen) throw closedError(this.info.uri);
    const next = { ...this.control, ...lines };
    // A pty has no modem lines (TIOCMSET fails with ENOTTY): the contract makes this a no-op.
    if (this.info.kind === 'pty') {
      this.control = next;
      return;
    }
    await new Promise<void>((resolve, reject) => {
      // serialport's set() writes every flag, defaulting the missing ones (dtr/rts true), so the
      // full state is always passed.
      this.port.set({ rts: next.rts, dtr: next.dtr, brk: next.brk }, (err) => {
        if (err)
          reject(
            mapTransportError(err, this.info.uri, {
              op: 'set control lines',
              fallback: ErrorCode.TransportSettingsInvalid,
            }),
          );
        else resolve();
      });
    });
    this.control = next;
    this.controlSet = true;
  }

  override async setLineSettings(settings: Partial<LineSettings>): Promise<void> {
    if (!this.isOpen) throw closedError(this.info.uri);
    const next: LineSettings = { ...this.line, ...settings };
    checkSerialSettings(this.info.uri, next);
    const framingChanged =
      next.dataBits !== this.line.dataBits ||
      next.parity !== this.line.parity ||
      next.stopBits !== this.line.stopBits;
    if (framingChanged) await this.reopen(next);
    else if (next.baudRate !== this.line.baudRate) {
      // serialport's update() flushes both tty queues; drain first so the last bytes sent at
      // the old speed (e.g. the C12.18 ACK of a Negotiate response) still leave (TCSADRAIN).
      await new Promise<void>((resolve) => this.port.drain(() => resolve()));
      await new Promise<void>((resolve, reject) => {
        this.port.update({ baudRate: next.baudRate }, (err) => {
          if (err)
            reject(
              mapTransportError(err, this.info.uri, {
                op: 'set baud',
                fallback: ErrorCode.TransportSettingsInvalid,
              }),
            );
          else resolve();
        });
      });
    }
    this.line = next;
    this.emit('line', this.getLineSettings());
  }

  private async reopen(next: LineSettings): Promise<void> {
    this.reopening = true;
    try {
      const old = this.port;
      // Let queued bytes leave at the old framing first (like tcsetattr TCSADRAIN).
      await new Promise<void>((resolve) => old.drain(() => resolve()));
      await new Promise<void>((resolve) => old.close(() => resolve()));
      old.removeAllListeners();
      const port = await openPort(this.info.uri, this.info.path, next, this.lock);
      this.port = port;
      this.wire(port);
      if (this.controlSet) await this.setControlLines(this.control);
    } catch (e) {
      const err = e instanceof SimError ? e : mapTransportError(e, this.info.uri, { op: 'reopen' });
      this.lost(err);
      throw err;
    } finally {
      this.reopening = false;
    }
  }
}

/** Open a serial device (`serial:PATH?...`), or the client end of a pty link. */
export async function openSerial(path: string, options: SerialOpenOptions = {}): Promise<SerialTransport> {
  const kind = options.kind ?? 'serial';
  const uri = options.uri ?? `${kind}:${path}`;
  const settings = { ...DEFAULT_LINE, ...options.settings };
  checkSerialSettings(uri, settings);
  const lock = options.lock ?? true;
  const port = await openPort(uri, path, settings, lock);
  const t = new SerialTransport(port, { kind, uri, path }, settings, lock, options.logger);
  const control = options.control ?? {};
  if (control.rts !== undefined || control.dtr !== undefined) {
    try {
      await t.setControlLines(control);
    } catch (e) {
      await t.close();
      throw e;
    }
  }
  return t;
}
