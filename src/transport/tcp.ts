import net from 'node:net';
import { systemClock, type Clock } from '../core/clock';
import { ErrorCode, SimError } from '../core/errors';
import { silentLogger, type Logger } from '../core/logger';
import { BaseListener, BaseTransport } from './base';
import { systemEphemeralPorts, type PortSource } from './ephemeral-ports';
import { closedError, disconnectedError, mapTransportError } from './error-map';
import { DEFAULT_LINE, type LineSettings, type Transport, type TransportInfo } from './types';

/**
 * TCP transports. A farm runs thousands of listeners in one process (stack.md §2d: 5,000 ports
 * ≈ +61 MB), so a listener holds a net.Server and two small objects: no timers, no intervals,
 * the connection set is created on first accept. Nagle is off on every socket: protocol frames
 * are small request/response exchanges where a 40 ms delayed-ACK stall would dominate.
 */

export interface TcpOptions {
  logger?: Logger;
  clock?: Clock;
  /** Line settings reported by getLineSettings (they drive pacing only). */
  line?: LineSettings;
}

function endpoint(address: string | undefined, port: number | undefined): string {
  if (address === undefined || port === undefined) return 'unknown';
  return address.includes(':') ? `[${address}]:${port}` : `${address}:${port}`;
}

/**
 * A connection's info with `path` (our end) and `peer` read from the socket when first asked
 * for, then kept: each is a getsockname/getpeername system call, and a farm or a sweep opens
 * thousands of connections a second that nobody asks about. Ask while connected (a socket
 * closed before the first ask reports 'unknown').
 */
function connectionInfo(uri: string, socket: net.Socket): TransportInfo {
  let path: string | undefined;
  let peer: string | undefined;
  return {
    kind: 'tcp',
    uri,
    get path() {
      return (path ??= endpoint(socket.localAddress, socket.localPort));
    },
    get peer() {
      return (peer ??= endpoint(socket.remoteAddress, socket.remotePort));
    },
  };
}

/**
 * Chunks a socket hands over through Node's `onread` (connectTcp): each is copied out of the
 * shared read buffer as it arrives and held until the transport starts reading.
 */
class PushedReads {
  private deliver: ((chunk: Buffer) => void) | undefined;
  private early: Buffer[] | undefined;

  push(chunk: Buffer): void {
    if (this.deliver) this.deliver(chunk);
    else (this.early ??= []).push(chunk);
  }

  start(deliver: (chunk: Buffer) => void): void {
    this.deliver = deliver;
    const early = this.early;
    this.early = undefined;
    for (const chunk of early ?? []) deliver(chunk);
  }
}

/**
 * The read buffer of every client socket (`onread`, connectTcp). Node calls a socket's onread
 * callback synchronously with the bytes just read, one socket at a time on this thread, and the
 * callback copies them out before returning, so one buffer serves them all. Compared with a
 * socket's stream 'data' events, a read then costs no Readable-stream bookkeeping and no
 * ArrayBuffer of its own (the copy comes from Buffer's pool): a sweep reads ~25 chunks per
 * meter from thousands of meters (docs/sweep.md "Performance").
 */
const CLIENT_READ_BUFFER = Buffer.allocUnsafeSlow(64 * 1024);

export class TcpTransport extends BaseTransport {
  private lastError: SimError | undefined;
  private released: (() => void) | undefined;

  constructor(
    private readonly socket: net.Socket,
    info: TransportInfo,
    line: LineSettings = DEFAULT_LINE,
    logger: Logger = silentLogger,
    /** Set for sockets made with `onread` (connectTcp): their bytes come from here. */
    private readonly pushed?: PushedReads,
  ) {
    super(info, line, logger);
    // Both ends are made with `noDelay: true` (connectTcp, listenTcp): no second system call.
    socket.on('error', (e) => {
      // 'close' follows every 'error'; remember why.
      this.lastError = mapTransportError(e, info.uri, {
        op: 'io',
        fallback: ErrorCode.TransportDisconnected,
      });
    });
    socket.on('close', () => {
      // Errors are built only when someone gets them (a SimError captures a stack: a farm
      // closes thousands of sockets a second during a sweep).
      if (this.isClosing) {
        if (this.hasPendingWrites) this.rejectPendingWrites(closedError(info.uri));
      } else {
        const err = this.lastError ?? disconnectedError(info.uri);
        this.rejectPendingWrites(err);
        this.lost(err);
      }
      this.released?.();
    });
  }

  protected startReading(): void {
    if (this.pushed) this.pushed.start((chunk) => this.emit('data', chunk));
    else this.socket.on('data', (chunk: Buffer) => this.emit('data', chunk));
  }

  protected writeBytes(data: Buffer): Promise<void> {
    return this.trackedWrite((done) => this.socket.write(data, done));
  }

  protected release(): Promise<void> {
    if (this.socket.destroyed && this.socket.closed) return Promise.resolve();
    return new Promise((resolve) => {
      this.released = resolve;
      // destroy() rather than end(): the contract says pending writes reject. Bytes whose write()
      // already resolved are in the kernel and still go out before the FIN.
      this.socket.destroy();
    });
  }
}

/** `tcp://HOST:PORT`: connect, with an optional timeout on the given clock (0 = none). */
export function connectTcp(
  host: string,
  port: number,
  options: TcpOptions & { uri?: string; timeoutMs?: number } = {},
): Promise<TcpTransport> {
  const uri = options.uri ?? `tcp://${host.includes(':') ? `[${host}]` : host}:${port}`;
  const clock = options.clock ?? systemClock;
  return new Promise((resolve, reject) => {
    const pushed = new PushedReads();
    const socket = net.connect({
      host,
      port,
      noDelay: true,
      onread: {
        buffer: CLIENT_READ_BUFFER,
        callback: (n: number, buf: Uint8Array): boolean => {
          // A copy: the buffer is everyone's, and is read into again after this returns.
          if (n > 0) pushed.push(Buffer.from(buf.subarray(0, n)));
          return true; // keep reading (false would pause the socket)
        },
      },
    });
    const timer =
      options.timeoutMs && options.timeoutMs > 0
        ? clock.setTimeout(() => {
            socket.destroy();
            reject(
              new SimError(
                ErrorCode.TransportTimeout,
                `${uri}: connect timed out after ${options.timeoutMs} ms`,
                {
                  uri,
                },
              ),
            );
          }, options.timeoutMs)
        : undefined;
    const onError = (e: Error): void => {
      clock.clearTimeout(timer);
      socket.destroy();
      reject(mapTransportError(e, uri, { op: 'connect' }));
    };
    socket.once('error', onError);
    socket.once('connect', () => {
      clock.clearTimeout(timer);
      socket.off('error', onError);
      resolve(new TcpTransport(socket, connectionInfo(uri, socket), options.line, options.logger, pushed));
    });
  });
}

export class TcpListener extends BaseListener {
  private connections: Set<Transport> | undefined;
  private closing: Promise<void> | undefined;

  constructor(
    private readonly server: net.Server,
    info: TransportInfo,
    private readonly options: TcpOptions,
  ) {
    super(info, options.logger);
    server.on('connection', (socket) => this.accept(socket));
    server.on('error', (e) => this.reportError(mapTransportError(e, info.uri, { op: 'accept' })));
  }

  /** The bound port (useful after `tcp-listen://HOST:0`). */
  get port(): number {
    const a = this.server.address();
    return typeof a === 'object' && a ? a.port : 0;
  }

  private accept(socket: net.Socket): void {
    if (this.closing) {
      socket.destroy();
      return;
    }
    const t = new TcpTransport(
      socket,
      connectionInfo(this.info.uri, socket),
      this.options.line,
      this.options.logger,
    );
    const set = (this.connections ??= new Set());
    set.add(t);
    t.once('close', () => set.delete(t));
    this.offer(t);
  }

  /** Stop accepting and close every connection this listener accepted. */
  close(): Promise<void> {
    this.closing ??= new Promise<void>((resolve) => {
      this.server.close(() => resolve());
      for (const t of this.connections ?? []) void t.close();
      for (const t of this.takeHeld()) void t.close();
    }).then(() => {
      this.emit('close');
    });
    return this.closing;
  }
}

/** Failed binds on taken ports before a port-0 listener leaves the choice to the kernel. */
const EPHEMERAL_TRIES = 64;

/**
 * `tcp-listen://HOST:PORT` (PORT 0 picks a free port; info reports the bound one). Port 0 takes
 * the next free port of the ephemeral range from `ports` (default: this machine's, see
 * ephemeral-ports.ts for why), and binds port 0 itself where there is no such range or every
 * try found the port taken.
 */
export async function listenTcp(
  host: string,
  port: number,
  options: TcpOptions & { uri?: string; ports?: PortSource | null } = {},
): Promise<TcpListener> {
  const fmt = (p: number): string => `tcp-listen://${host.includes(':') ? `[${host}]` : host}:${p}`;
  const requested = options.uri ?? fmt(port);
  const ports = port === 0 ? (options.ports === undefined ? systemEphemeralPorts() : options.ports) : null;
  for (let tries = 0; ports && tries < EPHEMERAL_TRIES; tries++) {
    const candidate = ports.next();
    if (candidate === undefined) break;
    try {
      return await bindTcp(host, candidate, requested, port, options);
    } catch (e) {
      // Taken (or refused) by someone else: the next one. Anything else is the caller's.
      if (!(e instanceof SimError) || !TAKEN.has(String(e.context['errno'] ?? ''))) throw e;
    }
  }
  return bindTcp(host, port, requested, port, options);
}

/** Errors that mean "this port, not this address": try another. */
const TAKEN = new Set(['EADDRINUSE', 'EACCES']);

function bindTcp(
  host: string,
  port: number,
  requested: string,
  asked: number,
  options: TcpOptions,
): Promise<TcpListener> {
  return new Promise((resolve, reject) => {
    const server = net.createServer({ noDelay: true });
    const onError = (e: Error): void => {
      server.close();
      reject(mapTransportError(e, requested, { op: 'listen' }));
    };
    server.once('error', onError);
    server.listen({ host, port }, () => {
      server.off('error', onError);
      const a = server.address();
      const bound = typeof a === 'object' && a ? a.port : port;
      // The URI reports the bound port so a manifest can hand it to clients.
      const uri = asked === 0 ? requested.replace(/:0(?=\?|$)/, `:${bound}`) : requested;
      const info: TransportInfo = { kind: 'tcp', uri, path: endpoint(host, bound) };
      resolve(new TcpListener(server, info, options));
    });
  });
}
