import { EventEmitter } from 'node:events';
import { systemClock, type Clock } from '../../../core/clock';
import { ErrorCode, SimError } from '../../../core/errors';
import { silentLogger, type Logger } from '../../../core/logger';
import type { Transport } from '../../../transport/types';
import { hdlcAddressKey, hdlcServer, type HdlcAddress } from '../hdlc/address';
import { encodeHdlcFrame } from '../hdlc/frame';
import { HdlcFramer, type HdlcFramerOutput } from '../hdlc/framer';
import type { HdlcEffect, HdlcTimer } from '../hdlc/link-types';
import { HDLC_DEFAULT_PARAMETERS, type HdlcParameters } from '../hdlc/parameters';
import {
  DEFAULT_HDLC_SERVER_CONFIG,
  HDLC_NDM,
  serverStep,
  type HdlcServerConfig,
  type HdlcServerInput,
  type HdlcServerState,
} from '../hdlc/server-link';
import { serverInputFromRaw } from '../hdlc/server-rx';
import { runSharedHdlcEffect } from './hdlc-effects';
import { NamedTimers, Pending } from './timers';
import type { ApduLink, ApduLinkEvents, LinkAddress } from './types';

/**
 * The meter's HDLC side on one physical line (one Transport). It answers SNRM for each of its
 * configured server addresses, each with its own data link connection (server-link.ts), and
 * ignores frames for other addresses, so several simulated logical devices can share a line.
 * It never dies on bad bytes: the framer discards what is not a frame, the state machine
 * answers what the protocol prescribes (FRMR, DM) and nothing else.
 */
export interface HdlcServerLinkOptions {
  /** Server addresses this line answers: logical device and, if used, physical address. */
  readonly addresses: ReadonlyArray<{ readonly logical: number; readonly physical?: number }>;
  /** Server limits (server view); defaults 128/128/1/1. */
  readonly limits?: Partial<HdlcParameters>;
  /** HDLC setup inactivity_time_out in ms (default 120 s); 0 disables. */
  readonly inactivityTimeoutMs?: number;
  /** Modelled: a poll waits this long for the application before it is answered RR (default 1 s). */
  readonly replyTimeoutMs?: number;
  readonly uaParameters?: 'all' | 'non-default';
  readonly maxApduLength?: number;
  /**
   * HDLC setup inter_octet_time_out: after this much silence a partial frame is given up.
   * Modelled default 500 ms (docs/dlms.md §10.2: the Blue Book default is not confirmed).
   */
  readonly interOctetTimeoutMs?: number;
  readonly clock?: Clock;
  readonly logger?: Logger;
  /** Read `data` events from the transport (default true); the mode E front end feeds bytes itself. */
  readonly listen?: boolean;
  /** Close the transport when the link closes (default true). */
  readonly closeTransport?: boolean;
}

interface Station {
  readonly address: HdlcAddress;
  state: HdlcServerState;
  readonly timers: NamedTimers<HdlcTimer>;
}

export class HdlcServerLink extends EventEmitter<ApduLinkEvents> implements ApduLink {
  readonly kind = 'hdlc' as const;
  private readonly cfg: HdlcServerConfig;
  private readonly framer = new HdlcFramer();
  private readonly stations = new Map<string, Station>();
  private readonly stationList: Station[] = [];
  private readonly pending = new Pending();
  private readonly clock: Clock;
  private readonly log: Logger;
  private readonly idle: NamedTimers<'interOctet'>;
  private readonly interOctetMs: number;
  private lastWrite: Promise<void> = Promise.resolve();
  private closed = false;
  private readonly onData = (chunk: Buffer): void => this.receive(chunk);
  private readonly onClose = (error: SimError | undefined): void => this.shutdown(error);

  constructor(
    readonly transport: Transport,
    private readonly options: HdlcServerLinkOptions,
  ) {
    super();
    if (options.addresses.length === 0) {
      throw new SimError(ErrorCode.ConfigInvalid, 'HdlcServerLink needs at least one server address');
    }
    this.clock = options.clock ?? systemClock;
    this.log = options.logger ?? silentLogger;
    this.interOctetMs = options.interOctetTimeoutMs ?? 500;
    this.cfg = {
      ...DEFAULT_HDLC_SERVER_CONFIG,
      limits: { ...HDLC_DEFAULT_PARAMETERS, ...options.limits },
      ...(options.inactivityTimeoutMs !== undefined
        ? { inactivityTimeoutMs: options.inactivityTimeoutMs }
        : {}),
      ...(options.replyTimeoutMs !== undefined ? { replyTimeoutMs: options.replyTimeoutMs } : {}),
      ...(options.uaParameters !== undefined ? { uaParameters: options.uaParameters } : {}),
      ...(options.maxApduLength !== undefined ? { maxApduLength: options.maxApduLength } : {}),
    };
    for (const a of options.addresses) {
      const key = hdlcAddressKey(a);
      const station: Station = {
        address: hdlcServer(a.logical, a.physical),
        state: HDLC_NDM,
        timers: new NamedTimers<HdlcTimer>(this.clock, (t) =>
          this.step(station, { kind: 'timeout', timer: t }),
        ),
      };
      this.stations.set(key, station);
      this.stationList.push(station);
    }
    this.idle = new NamedTimers<'interOctet'>(this.clock, () => this.handle(this.framer.expire()));
    if (options.listen ?? true) transport.on('data', this.onData);
    transport.on('close', this.onClose);
  }

  /** True while any of the line's server addresses has a connection (NRM). */
  get connected(): boolean {
    for (const s of this.stations.values()) if (s.state.mode === 'NRM') return true;
    return false;
  }

  /** The link state of one server address (for inspection and tests). */
  stationState(address: { logical: number; physical?: number }): HdlcServerState | undefined {
    return this.stations.get(hdlcAddressKey(address))?.state;
  }

  /** Feed received bytes (what the transport's `data` event does when `listen` is on). */
  receive(chunk: Buffer): void {
    if (this.closed) return;
    this.handle(this.framer.push(chunk));
    if (this.framer.pending > 1) this.idle.start('interOctet', this.interOctetMs);
    else this.idle.stop('interOctet');
  }

  /** Resolves when every frame written so far has been handed to the transport. */
  flush(): Promise<void> {
    return this.lastWrite;
  }

  /**
   * Drop every connection without a word and forget buffered bytes (the mode E front end
   * calls this when the line goes back to the sign-on).
   */
  reset(): void {
    this.framer.reset();
    this.idle.stopAll();
    for (const s of this.stations.values()) this.step(s, { kind: 'close' });
  }

  send(apdu: Uint8Array, addr: LinkAddress): Promise<void> {
    if (this.closed)
      return Promise.reject(new SimError(ErrorCode.LinkDisconnected, 'HDLC server link is closed'));
    const station = this.stationFor(addr.server, addr.physical);
    if (!station) {
      return Promise.reject(
        new SimError(
          ErrorCode.LinkProtocol,
          `no HDLC server address ${addr.server}/${addr.physical ?? '-'} on this line`,
        ),
      );
    }
    if (station.state.mode === 'NRM' && station.state.client.logical !== addr.client) {
      return Promise.reject(
        new SimError(ErrorCode.LinkDisconnected, `client ${addr.client} is not connected to ${addr.server}`),
      );
    }
    const { id, promise } = this.pending.add();
    // No copy here: the state machine copies the APDU (behind its LLC header) before returning.
    const view = Buffer.isBuffer(apdu) ? apdu : Buffer.from(apdu.buffer, apdu.byteOffset, apdu.byteLength);
    this.step(station, { kind: 'send', id, apdu: view });
    return promise;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.shutdown(undefined);
    if (this.options.closeTransport ?? true) await this.transport.close();
  }

  private shutdown(error: SimError | undefined): void {
    if (this.closed) return;
    for (const s of this.stations.values()) this.step(s, { kind: 'close' });
    this.closed = true;
    this.idle.stopAll();
    for (const s of this.stations.values()) s.timers.stopAll();
    this.pending.rejectAll(error ?? new SimError(ErrorCode.LinkDisconnected, 'HDLC server link closed'));
    this.transport.off('data', this.onData);
    this.transport.off('close', this.onClose);
    this.emit('close', error);
  }

  private handle(outputs: HdlcFramerOutput[]): void {
    for (const o of outputs) {
      if (o.kind === 'discarded') {
        this.log.debug({ bytes: o.bytes.length, reason: o.reason }, 'hdlc: discarded');
        continue;
      }
      const rx = serverInputFromRaw(o.bytes);
      if (!rx) continue;
      const station = this.stationFor(rx.dest.logical, rx.dest.physical);
      if (!station) {
        this.log.debug({ dest: hdlcAddressKey(rx.dest) }, 'hdlc: frame for another address');
        continue;
      }
      this.step(station, rx.input);
    }
  }

  /** The station of a server address (a line has one or a few: a scan beats a keyed map). */
  private stationFor(logical: number, physical: number | undefined): Station | undefined {
    for (const s of this.stationList)
      if (s.address.logical === logical && s.address.physical === physical) return s;
    return undefined;
  }

  private addressOf(station: Station, state: HdlcServerState): LinkAddress {
    const client = state.mode === 'NRM' ? state.client.logical : 0;
    return {
      client,
      server: station.address.logical,
      ...(station.address.physical !== undefined ? { physical: station.address.physical } : {}),
    };
  }

  private step(station: Station, input: HdlcServerInput): void {
    if (this.closed) return;
    const before = station.state;
    const { state, effects } = serverStep(this.cfg, before, input);
    station.state = state;
    for (const e of effects) this.run(station, e, before, state);
  }

  private write(bytes: Buffer): void {
    this.lastWrite = this.transport.write(bytes).catch(this.onWriteError);
  }

  private readonly onWriteError = (err: unknown): void => {
    this.log.warn({ err }, 'hdlc: write failed');
  };

  private run(station: Station, e: HdlcEffect, before: HdlcServerState, after: HdlcServerState): void {
    switch (e.kind) {
      case 'transmit':
        this.write(encodeHdlcFrame(e.frame));
        return;
      case 'deliver': {
        const addr = this.addressOf(station, after.mode === 'NRM' ? after : before);
        this.emit('apdu', e.apdu, e.from ? { ...addr, client: e.from.logical } : addr);
        return;
      }
      case 'connected':
        this.emit('up', this.addressOf(station, after));
        return;
      case 'disconnected':
        this.emit('down', this.addressOf(station, before), e.error);
        return;
      default:
        runSharedHdlcEffect(e, this.pending, station.timers, this.log, 'hdlc');
    }
  }
}
