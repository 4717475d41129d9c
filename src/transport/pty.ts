import { closeSync, promises as fs, readFileSync } from 'node:fs';
import { resolve as resolvePath } from 'node:path';
import type { LinuxPortBinding } from '@serialport/bindings-cpp';
import { systemClock, type Clock, type TimerHandle } from '../core/clock';
import { ErrorCode, SimError } from '../core/errors';
import { silentLogger, type Logger } from '../core/logger';
import { BaseTransport, SingleConnectionListener } from './base';
import { closedError, errnoCode, mapTransportError } from './error-map';
import { loadBindings, loadPtyNative } from './native';
import { hardenPoller } from './poller-fix';
import { DEFAULT_LINE, type LineSettings, type TransportInfo } from './types';

/**
 * `pty:/some/path` on the listening side: a pseudo-terminal created in-process (no socat),
 * linked at the path, for tools that must open a tty (docs/stack.md §2b, "Recommendation" 3).
 * The three measured traps and how they are avoided here:
 *  1. Writing to the master through a tty stream uses blocking writes and deadlocks beyond
 *     ~4 KB with the reader in the same process: the master is driven through bindings-cpp's
 *     LinuxPortBinding, which writes non-blocking and waits on its poller.
 *  2. If the slave fd is closed, the master gets EIO when the client disconnects and
 *     /dev/pts/N vanishes: a slave fd stays open for the pty's whole life, so clients can
 *     close and reopen the link.
 *  3. The line discipline starts cooked (echo, ICRNL): the held slave fd is opened through
 *     serialport's own open(), which sets raw termios (c_lflag = 0, c_oflag = 0), so nothing
 *     is echoed or translated even before a client configures the port.
 * The client's baud rate is read from the master (getBaudRate returns what the client set) and
 * reported with a `line` event, so line pacing follows it.
 */

export interface PtyOptions {
  uri?: string;
  /** Assumed line settings until the client sets a baud rate. */
  settings?: LineSettings;
  /** How often to read the client's baud rate, ms; 0 = only when data arrives. */
  baudPollMs?: number;
  clock?: Clock;
  logger?: Logger;
}

const READ_SIZE = 8192;
/** Minimum spacing of data-triggered baud checks (modelled: far below any human or tool
 * reaction time, far above the per-frame cost). */
const BAUD_CHECK_MIN_MS = 50;

/** LinuxPortBinding wants its full option record even for an fd it did not open. */
function bindingOptions(path: string, s: LineSettings): ConstructorParameters<typeof LinuxPortBinding>[1] {
  return {
    path,
    baudRate: s.baudRate,
    dataBits: 8,
    stopBits: 1,
    parity: 'none',
    lock: false,
    rtscts: false,
    xon: false,
    xoff: false,
    xany: false,
    hupcl: false,
    vmin: 1,
    vtime: 0,
  };
}

function ptyLimitNote(): string {
  try {
    const nr = readFileSync('/proc/sys/kernel/pty/nr', 'utf8').trim();
    const max = readFileSync('/proc/sys/kernel/pty/max', 'utf8').trim();
    return ` (kernel ptys in use: ${nr} of kernel.pty.max=${max}; raise it with sysctl -w kernel.pty.max=N as root)`;
  } catch {
    return '';
  }
}

export class PtyTransport extends BaseTransport {
  private writing = false;
  private readonly writeQueue: { data: Buffer; resolve: () => void; reject: (e: SimError) => void }[] = [];
  private pollTimer: TimerHandle | undefined;
  private baudInFlight = false;
  private observedBaud: number | undefined;
  private lastBaudCheck = -Infinity;

  constructor(
    private readonly master: LinuxPortBinding,
    private readonly slave: LinuxPortBinding,
    info: TransportInfo,
    line: LineSettings,
    private readonly linkPath: string,
    private readonly clock: Clock,
    private readonly baudPollMs: number,
    logger: Logger,
  ) {
    super(info, line, logger);
    this.pollBaud();
  }

  /** The pty slave device, e.g. /dev/pts/3. */
  get ptyPath(): string {
    return this.info.peer ?? '';
  }

  protected startReading(): void {
    void this.readLoop();
  }

  private async readLoop(): Promise<void> {
    const buf = Buffer.allocUnsafe(READ_SIZE);
    while (!this.isClosing) {
      let n: number;
      try {
        n = (await this.master.read(buf, 0, READ_SIZE)).bytesRead;
      } catch (e) {
        if (this.isClosing || (e as { canceled?: boolean }).canceled) return;
        this.lost(
          mapTransportError(e, this.info.uri, { op: 'read', fallback: ErrorCode.TransportDisconnected }),
        );
        return;
      }
      if (this.isClosing) return;
      this.emit('data', Buffer.from(buf.subarray(0, n)));
      // A client that changed speed has usually sent something since. getBaudRate runs on the
      // libuv threadpool like the reads themselves, so ask at most every BAUD_CHECK_MIN_MS.
      const now = this.clock.monotonic();
      if (now - this.lastBaudCheck >= BAUD_CHECK_MIN_MS) {
        this.lastBaudCheck = now;
        this.checkBaud();
      }
    }
  }

  private pollBaud(): void {
    if (this.baudPollMs <= 0 || this.isClosing) return;
    this.checkBaud();
    this.pollTimer = this.clock.setTimeout(() => this.pollBaud(), this.baudPollMs);
  }

  private checkBaud(): void {
    if (this.baudInFlight || this.isClosing) return;
    this.baudInFlight = true;
    this.master.getBaudRate().then(
      ({ baudRate }) => {
        this.baudInFlight = false;
        if (this.isClosing || baudRate === this.observedBaud) return;
        const first = this.observedBaud === undefined;
        this.observedBaud = baudRate;
        // The first reading is our own initial termios unless it differs from what we assumed.
        if (first && baudRate === this.line.baudRate) return;
        this.line = { ...this.line, baudRate };
        this.emit('line', this.getLineSettings());
      },
      (e: unknown) => {
        this.baudInFlight = false;
        this.logger.debug({ err: e, uri: this.info.uri }, 'getBaudRate failed');
      },
    );
  }

  /** The baud rate the client last set, as read from the master (undefined until read). */
  get clientBaudRate(): number | undefined {
    return this.observedBaud;
  }

  protected writeBytes(data: Buffer): Promise<void> {
    return new Promise((resolve, reject) => {
      this.writeQueue.push({ data, resolve, reject });
      if (!this.writing) void this.writeLoop();
    });
  }

  /** LinuxPortBinding allows one write operation at a time. */
  private async writeLoop(): Promise<void> {
    this.writing = true;
    for (let item = this.writeQueue.shift(); item; item = this.writeQueue.shift()) {
      if (this.isClosing) {
        item.reject(closedError(this.info.uri, 'closed while writing'));
        continue;
      }
      try {
        await this.master.write(item.data);
        item.resolve();
      } catch (e) {
        item.reject(
          this.isClosing
            ? closedError(this.info.uri, 'closed while writing')
            : mapTransportError(e, this.info.uri, { op: 'write', fallback: ErrorCode.TransportWriteFailed }),
        );
      }
    }
    this.writing = false;
  }

  protected async release(): Promise<void> {
    this.clock.clearTimeout(this.pollTimer);
    for (const item of this.writeQueue.splice(0))
      item.reject(closedError(this.info.uri, 'closed while writing'));
    await removeLinkIfOurs(this.linkPath, this.ptyPath);
    // Closing the master cancels the pending read and write (their errors carry `canceled`).
    if (this.master.isOpen) await this.master.close().catch(() => undefined);
    if (this.slave.isOpen) await this.slave.close().catch(() => undefined);
  }
}

async function removeLinkIfOurs(link: string, target: string): Promise<void> {
  try {
    if ((await fs.readlink(link)) === target) await fs.unlink(link);
  } catch {
    // Already gone or replaced by someone else: leave it.
  }
}

/** Make `link` free for a new symlink: absent, or a stale symlink (its target is gone). */
async function prepareLink(uri: string, link: string): Promise<void> {
  let st;
  try {
    st = await fs.lstat(link);
  } catch (e) {
    if (errnoCode(e) === 'ENOENT') return;
    throw mapTransportError(e, uri, { op: 'check link path' });
  }
  if (!st.isSymbolicLink()) {
    throw new SimError(
      ErrorCode.TransportAddressInUse,
      `${uri}: ${link} exists and is not a symlink; refusing to overwrite it`,
      { uri, path: link },
    );
  }
  const target = await fs.readlink(link);
  try {
    await fs.stat(link);
  } catch {
    await fs.unlink(link).catch(() => undefined);
    return;
  }
  throw new SimError(
    ErrorCode.TransportAddressInUse,
    `${uri}: ${link} already links to the live device ${target} (another simulator?); remove it if it is stale`,
    { uri, path: link, target },
  );
}

export type PtyListener = SingleConnectionListener<PtyTransport>;

/** Create a pty, link it at `linkPath`, and hold it open until close(). */
export async function createPty(linkPath: string, options: PtyOptions = {}): Promise<PtyListener> {
  const uri = options.uri ?? `pty:${linkPath}`;
  const link = resolvePath(linkPath);
  const settings = { ...DEFAULT_LINE, ...options.settings };
  const native = loadPtyNative(uri);
  const { LinuxBinding, LinuxPortBinding } = loadBindings(uri);
  await prepareLink(uri, link);
  let fds: { master: number; slave: number; pty: string };
  try {
    fds = native.open(80, 24);
  } catch (e) {
    throw new SimError(
      ErrorCode.TransportOpenFailed,
      `${uri}: openpty failed: ${e instanceof Error ? e.message : String(e)}${ptyLimitNote()}`,
      { uri },
      { cause: e },
    );
  }
  let slave: LinuxPortBinding;
  try {
    slave = await LinuxBinding.open({ ...bindingOptions(fds.pty, settings), path: fds.pty });
  } catch (e) {
    closeSync(fds.master);
    closeSync(fds.slave);
    throw mapTransportError(e, uri, { op: 'open pty slave' });
  }
  // The raw-mode slave fd opened above keeps the pty alive; the original one is not needed.
  closeSync(fds.slave);
  const master = new LinuxPortBinding(fds.master, bindingOptions(fds.pty, settings));
  hardenPoller(master);
  try {
    await fs.symlink(fds.pty, link);
  } catch (e) {
    await master.close().catch(() => undefined);
    await slave.close().catch(() => undefined);
    throw mapTransportError(e, uri, { op: `link ${link}` });
  }
  const info: TransportInfo = { kind: 'pty', uri, path: link, peer: fds.pty };
  const t = new PtyTransport(
    master,
    slave,
    info,
    settings,
    link,
    options.clock ?? systemClock,
    options.baudPollMs ?? 250,
    options.logger ?? silentLogger,
  );
  return new SingleConnectionListener(t, options.logger);
}
