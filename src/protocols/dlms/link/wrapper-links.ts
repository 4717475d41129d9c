import { EventEmitter } from 'node:events';
import { systemClock, type Clock } from '../../../core/clock';
import { ErrorCode, SimError } from '../../../core/errors';
import { silentLogger, type Logger } from '../../../core/logger';
import type { Transport } from '../../../transport/types';
import { encodeWrapperFrame, type WrapperFrame, type WrapperFrameOut } from '../wrapper/header';
import { WrapperFramer, type WrapperFramerOutput } from '../wrapper/framer';
import { NamedTimers } from './timers';
import type { ApduClientLink, ApduLink, ApduLinkEvents, LinkAddress } from './types';

/**
 * The TCP wrapper (IEC 62056-47; docs/dlms.md §3) on both sides. There is no link-level
 * connection: every APDU travels in one wrapper frame, so `up`/`down` are never emitted and
 * the TCP connection itself is the session. Bytes that are not wrapper frames are discarded
 * (wrapper/framer.ts documents the resync policy); frames for other wPorts are ignored.
 */
interface WrapperCommonOptions {
  readonly maxApduLength?: number;
  /** Silence after which a partial frame is given up (modelled default 5 s). */
  readonly idleTimeoutMs?: number;
  readonly clock?: Clock;
  readonly logger?: Logger;
  /** Close the transport in close() (default true). */
  readonly closeTransport?: boolean;
}

abstract class WrapperLinkBase extends EventEmitter<ApduLinkEvents> {
  readonly kind = 'wrapper' as const;
  protected readonly framer: WrapperFramer;
  protected readonly log: Logger;
  private readonly idle: NamedTimers<'idle'>;
  private closed = false;
  private readonly onData = (chunk: Buffer): void => this.receive(chunk);
  private readonly onClose = (error: SimError | undefined): void => this.shutdown(error);

  protected constructor(
    readonly transport: Transport,
    private readonly common: WrapperCommonOptions,
  ) {
    super();
    this.framer = new WrapperFramer({
      ...(common.maxApduLength !== undefined ? { maxApduLength: common.maxApduLength } : {}),
    });
    this.log = common.logger ?? silentLogger;
    this.idle = new NamedTimers<'idle'>(common.clock ?? systemClock, () => this.handle(this.framer.expire()));
    transport.on('data', this.onData);
    transport.on('close', this.onClose);
  }

  protected abstract accept(frame: WrapperFrame): LinkAddress | undefined;

  protected write(frame: WrapperFrameOut): Promise<void> {
    if (this.closed)
      return Promise.reject(new SimError(ErrorCode.LinkDisconnected, 'wrapper link is closed'));
    let bytes: Buffer;
    try {
      bytes = encodeWrapperFrame(frame);
    } catch (e) {
      return Promise.reject(e);
    }
    return this.transport.write(bytes);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.shutdown(undefined);
    if (this.common.closeTransport ?? true) await this.transport.close();
  }

  private receive(chunk: Buffer): void {
    if (this.closed) return;
    this.handle(this.framer.push(chunk));
    if (this.framer.pending > 0) this.idle.start('idle', this.common.idleTimeoutMs ?? 5_000);
    else this.idle.stop('idle');
  }

  private handle(outputs: WrapperFramerOutput[]): void {
    for (const o of outputs) {
      if (o.kind === 'discarded') {
        this.log.debug({ bytes: o.bytes.length, reason: o.reason }, 'wrapper: discarded');
        continue;
      }
      const addr = this.accept(o.frame);
      if (addr) this.emit('apdu', o.frame.apdu, addr);
      else this.log.debug({ source: o.frame.source, dest: o.frame.dest }, 'wrapper: frame for another wPort');
    }
  }

  private shutdown(error: SimError | undefined): void {
    if (this.closed) return;
    this.closed = true;
    this.idle.stopAll();
    this.transport.off('data', this.onData);
    this.transport.off('close', this.onClose);
    this.emit('close', error);
  }
}

export interface WrapperServerLinkOptions extends WrapperCommonOptions {
  /** Logical devices (destination wPorts) this server answers. */
  readonly serverAddresses: readonly number[];
}

/** The meter side: requests to one of its wPorts become `apdu`; send() swaps the addresses back. */
export class WrapperServerLink extends WrapperLinkBase implements ApduLink {
  private readonly ports: ReadonlySet<number>;

  constructor(transport: Transport, options: WrapperServerLinkOptions) {
    super(transport, options);
    this.ports = new Set(options.serverAddresses);
  }

  protected accept(frame: WrapperFrame): LinkAddress | undefined {
    return this.ports.has(frame.dest) ? { client: frame.source, server: frame.dest } : undefined;
  }

  /** Reply: source = the server logical device, destination = the client (GXPY getWrapperFrame). */
  send(apdu: Uint8Array, addr: LinkAddress): Promise<void> {
    return this.write({ source: addr.server, dest: addr.client, apdu });
  }
}

export interface WrapperClientLinkOptions extends WrapperCommonOptions {
  readonly client: number;
  readonly server: number;
}

/** The interrogator side: source = client SAP, destination = server logical device. */
export class WrapperClientLink extends WrapperLinkBase implements ApduClientLink {
  readonly address: LinkAddress;

  constructor(transport: Transport, options: WrapperClientLinkOptions) {
    super(transport, options);
    this.address = { client: options.client, server: options.server };
  }

  protected accept(frame: WrapperFrame): LinkAddress | undefined {
    return frame.source === this.address.server && frame.dest === this.address.client
      ? this.address
      : undefined;
  }

  /** The wrapper has no link connection; the TCP connection is already the session. */
  connect(): Promise<void> {
    return this.transport.isOpen
      ? Promise.resolve()
      : Promise.reject(new SimError(ErrorCode.TransportClosed, 'wrapper transport is closed'));
  }

  disconnect(): Promise<void> {
    return Promise.resolve();
  }

  send(apdu: Uint8Array, addr?: LinkAddress): Promise<void> {
    const a = addr ?? this.address;
    return this.write({ source: a.client, dest: a.server, apdu });
  }
}
