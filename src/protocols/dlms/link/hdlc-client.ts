import { EventEmitter } from 'node:events';
import { systemClock, type Clock } from '../../../core/clock';
import { ErrorCode, SimError } from '../../../core/errors';
import { silentLogger, type Logger } from '../../../core/logger';
import type { Transport } from '../../../transport/types';
import { hdlcClient, hdlcServer, type HdlcAddress } from '../hdlc/address';
import {
  clientStep,
  DEFAULT_HDLC_CLIENT_TIMING,
  HDLC_CLIENT_NDM,
  hdlcClientConfig,
  type HdlcClientConfig,
  type HdlcClientInput,
  type HdlcClientState,
} from '../hdlc/client-link';
import { encodeHdlcFrame, parseHdlcFrame } from '../hdlc/frame';
import { HdlcFramer } from '../hdlc/framer';
import type { HdlcEffect, HdlcTimer } from '../hdlc/link-types';
import { HDLC_DEFAULT_PARAMETERS, type HdlcParameters } from '../hdlc/parameters';
import { EchoCanceller } from '../iec62056-21/echo';
import { runSharedHdlcEffect } from './hdlc-effects';
import { NamedTimers, Pending } from './timers';
import type { ApduClientLink, ApduLinkEvents, LinkAddress } from './types';

/**
 * The interrogator's HDLC side: one data link connection to one server address over a
 * Transport. connect() = SNRM/UA negotiation, send() = segmented I frames, replies are
 * reassembled and emitted as `apdu`, disconnect() = DISC. Timers run on the injectable Clock.
 */
export interface HdlcClientLinkOptions {
  readonly client: number;
  /** Server logical device and, if used, physical address; `size` forces 2 or 4 octets. */
  readonly server: { readonly logical: number; readonly physical?: number; readonly size?: 1 | 2 | 4 };
  /** What we propose (client view); defaults 128/128/1/1, which Gurux-style SNRMs leave out. */
  readonly parameters?: Partial<HdlcParameters>;
  readonly omitDefaultParameters?: boolean;
  readonly responseTimeoutMs?: number;
  readonly maxRetries?: number;
  readonly pollIntervalMs?: number;
  readonly maxPolls?: number;
  readonly maxApduLength?: number;
  /** Silence after which a partial frame is given up (modelled default 500 ms). */
  readonly interOctetTimeoutMs?: number;
  /** Strip the echo of our own frames (optical heads, u9n#62). Our address filter drops it anyway. */
  readonly echoCancel?: boolean;
  readonly clock?: Clock;
  readonly logger?: Logger;
  /** Close the transport in close() (default true). */
  readonly closeTransport?: boolean;
}

export class HdlcClientLink extends EventEmitter<ApduLinkEvents> implements ApduClientLink {
  readonly kind = 'hdlc' as const;
  readonly address: LinkAddress;
  private readonly cfg: HdlcClientConfig;
  private machine: HdlcClientState = HDLC_CLIENT_NDM;
  private readonly framer = new HdlcFramer();
  private readonly echo: EchoCanceller | undefined;
  private readonly pending = new Pending();
  private readonly timers: NamedTimers<HdlcTimer>;
  private readonly idle: NamedTimers<'interOctet'>;
  private readonly log: Logger;
  private readonly interOctetMs: number;
  private negotiated: HdlcParameters | undefined;
  private connecting: { resolve: () => void; reject: (e: unknown) => void } | undefined;
  private disconnecting: Array<() => void> = [];
  private closed = false;
  private readonly onData = (chunk: Buffer): void => this.receive(chunk);
  private readonly onClose = (error: SimError | undefined): void => this.shutdown(error);
  private readonly onWriteError = (err: unknown): void => this.log.warn({ err }, 'hdlc client: write failed');

  constructor(
    readonly transport: Transport,
    private readonly options: HdlcClientLinkOptions,
  ) {
    super();
    const clock = options.clock ?? systemClock;
    this.log = options.logger ?? silentLogger;
    this.interOctetMs = options.interOctetTimeoutMs ?? 500;
    const s = options.server;
    let server: HdlcAddress = hdlcServer(s.logical, s.physical);
    if (s.size !== undefined && s.physical !== undefined) server = { ...server, size: s.size };
    this.cfg = hdlcClientConfig(hdlcClient(options.client), server, {
      proposed: { ...HDLC_DEFAULT_PARAMETERS, ...options.parameters },
      omitDefaultParameters: options.omitDefaultParameters ?? true,
      responseTimeoutMs: options.responseTimeoutMs ?? DEFAULT_HDLC_CLIENT_TIMING.responseTimeoutMs,
      maxRetries: options.maxRetries ?? DEFAULT_HDLC_CLIENT_TIMING.maxRetries,
      pollIntervalMs: options.pollIntervalMs ?? DEFAULT_HDLC_CLIENT_TIMING.pollIntervalMs,
      maxPolls: options.maxPolls ?? DEFAULT_HDLC_CLIENT_TIMING.maxPolls,
      maxApduLength: options.maxApduLength ?? DEFAULT_HDLC_CLIENT_TIMING.maxApduLength,
    });
    this.address = {
      client: options.client,
      server: s.logical,
      ...(s.physical !== undefined ? { physical: s.physical } : {}),
    };
    this.echo = options.echoCancel ? new EchoCanceller() : undefined;
    this.timers = new NamedTimers<HdlcTimer>(clock, (t) => this.step({ kind: 'timeout', timer: t }));
    this.idle = new NamedTimers<'interOctet'>(clock, () => this.handleFrames(this.framer.expire()));
    transport.on('data', this.onData);
    transport.on('close', this.onClose);
  }

  /** Negotiated parameters (client view) while connected. */
  get parameters(): HdlcParameters | undefined {
    return this.negotiated;
  }

  get state(): HdlcClientState {
    return this.machine;
  }

  /** SNRM/UA. Resolves when connected; rejects with LinkRejected (DM) or LinkTimeout. */
  async connect(): Promise<void> {
    if (this.closed) throw new SimError(ErrorCode.LinkDisconnected, 'HDLC client link is closed');
    if (this.machine.mode === 'NRM') return;
    if (this.machine.mode === 'disconnecting')
      throw new SimError(ErrorCode.LinkBusy, 'HDLC link is disconnecting');
    const done = new Promise<void>((resolve, reject) => {
      const prev = this.connecting;
      this.connecting = {
        resolve: () => {
          prev?.resolve();
          resolve();
        },
        reject: (e) => {
          prev?.reject(e);
          reject(e);
        },
      };
    });
    if (this.machine.mode === 'NDM') this.step({ kind: 'connect' });
    return done;
  }

  send(apdu: Uint8Array, addr?: LinkAddress): Promise<void> {
    if (this.closed)
      return Promise.reject(new SimError(ErrorCode.LinkDisconnected, 'HDLC client link is closed'));
    if (addr && (addr.server !== this.address.server || addr.client !== this.address.client)) {
      return Promise.reject(
        new SimError(ErrorCode.LinkProtocol, 'this HDLC client link serves one address pair only'),
      );
    }
    const { id, promise } = this.pending.add();
    this.step({ kind: 'send', id, apdu: Buffer.from(apdu) });
    return promise;
  }

  /** DISC; resolves once the server answered UA/DM (or the retries ran out). */
  disconnect(): Promise<void> {
    if (this.closed || this.machine.mode === 'NDM') return Promise.resolve();
    const done = new Promise<void>((resolve) => this.disconnecting.push(resolve));
    if (this.machine.mode !== 'disconnecting') this.step({ kind: 'disconnect' });
    return done;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    if (this.machine.mode === 'NRM' && this.transport.isOpen) await this.disconnect();
    this.shutdown(undefined);
    if (this.options.closeTransport ?? true) await this.transport.close();
  }

  private shutdown(error: SimError | undefined): void {
    if (this.closed) return;
    this.step({ kind: 'close' });
    this.closed = true;
    this.timers.stopAll();
    this.idle.stopAll();
    const e = error ?? new SimError(ErrorCode.LinkDisconnected, 'HDLC client link closed');
    this.pending.rejectAll(e);
    this.connecting?.reject(e);
    this.connecting = undefined;
    for (const d of this.disconnecting.splice(0)) d();
    this.transport.off('data', this.onData);
    this.transport.off('close', this.onClose);
    this.emit('close', error);
  }

  private receive(chunk: Buffer): void {
    if (this.closed) return;
    const data = this.echo ? this.echo.filter(chunk) : chunk;
    if (data.length === 0) return;
    this.handleFrames(this.framer.push(data));
    if (this.framer.pending > 1) this.idle.start('interOctet', this.interOctetMs);
    else this.idle.stop('interOctet');
  }

  private handleFrames(outputs: ReturnType<HdlcFramer['push']>): void {
    for (const o of outputs) {
      if (o.kind === 'discarded') {
        this.log.debug({ bytes: o.bytes.length, reason: o.reason }, 'hdlc client: discarded');
        continue;
      }
      const p = parseHdlcFrame(o.bytes);
      if (p.frame) this.step({ kind: 'frame', frame: p.frame });
      else this.log.debug({ err: p.error?.message }, 'hdlc client: unreadable frame');
    }
  }

  private step(input: HdlcClientInput): void {
    if (this.closed) return;
    const { state, effects } = clientStep(this.cfg, this.machine, input);
    this.machine = state;
    for (const e of effects) this.run(e);
  }

  private run(e: HdlcEffect): void {
    switch (e.kind) {
      case 'transmit': {
        const bytes = encodeHdlcFrame(e.frame);
        this.echo?.sent(bytes);
        this.transport.write(bytes).catch(this.onWriteError);
        return;
      }
      case 'deliver':
        this.emit('apdu', e.apdu, this.address);
        return;
      case 'connected':
        this.negotiated = e.params;
        this.connecting?.resolve();
        this.connecting = undefined;
        this.emit('up', this.address);
        return;
      case 'disconnected': {
        const wasUp = this.negotiated !== undefined;
        this.negotiated = undefined;
        if (this.connecting) {
          this.connecting.reject(e.error ?? new SimError(ErrorCode.LinkDisconnected, 'HDLC connect aborted'));
          this.connecting = undefined;
        }
        for (const d of this.disconnecting.splice(0)) d();
        if (wasUp) this.emit('down', this.address, e.error);
        return;
      }
      default:
        runSharedHdlcEffect(e, this.pending, this.timers, this.log, 'hdlc client');
    }
  }
}
