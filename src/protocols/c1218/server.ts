import { systemClock, type Clock, type TimerHandle } from '../../core/clock';
import { ErrorCode, SimError, toSimError } from '../../core/errors';
import { TypedEmitter } from '../../core/events';
import { silentLogger, type Logger } from '../../core/logger';
import type { Listener, Transport } from '../../transport/types';
import {
  PsemCode,
  type AuthResult,
  type SessionAccess,
  type TableReadResult,
  type TableServer,
  type TableWriteResult,
} from '../c1219/contract';
import {
  C1218_DEFAULT_TIMERS,
  DEFAULT_MAX_PACKETS,
  DEFAULT_MAX_TRIES,
  DEFAULT_PACKET_SIZE,
  codeFromBaud,
  type C1218Timers,
} from './constants';
import { LinkDriver } from './link-driver';
import { psemCodeName } from './psem-codes';
import { decodeRequest, type PsemRequest } from './psem-requests';
import { encodeResponse, type IdentFeature, type IdentInfo } from './psem-responses';
import {
  initialSessionState,
  sessionStep,
  type AfterSend,
  type ServerSessionConfig,
  type ServerSessionState,
  type SessionEffect,
  type SessionEndReason,
  type SessionInput,
} from './server-session';

export interface C1218ServerOptions {
  /** Largest packet size agreed in Negotiate (default 1024, `modelled`; M accepts up to 8192). */
  packetSize?: number;
  /** Largest packet count agreed in Negotiate (default 255, M's maximum). */
  maxPackets?: number;
  timers?: Partial<C1218Timers>;
  /** Transmissions of a response packet before giving up (default 3, §1.4). */
  maxTries?: number;
  /** Ident answer: default C12.18 (std 0) version 1 revision 0, no features (§6 transcript). */
  ident?: { std?: number; version?: number; revision?: number; features?: IdentFeature[] };
  /**
   * Rates this meter can switch to in Negotiate. Default 1200..38400 (`modelled`: the Premier
   * 211 sibling allows up to 38400 on its ANSI port, docs/c1218.md §1.1).
   */
  baudRates?: number[];
  /** Processing time before each response leaves (default 0; profiles set it). */
  responseDelayMs?: number;
  /** Framer strictness (see FramerOptions.strictHeader). */
  strictHeader?: boolean;
  /**
   * ACK a request in the same transport write as the response when the response is ready in
   * the same event-loop turn (LinkDriverOptions.coalesceAcks). Default true; with a response
   * delay the ACK leaves alone, at once, as before.
   */
  coalesceAcks?: boolean;
}

export interface C1218ServerInit {
  transport: Transport;
  tables: TableServer;
  clock?: Clock;
  logger?: Logger;
  options?: C1218ServerOptions;
}

export type C1218ServerEvents = {
  sessionStart: [];
  sessionEnd: [{ reason: SessionEndReason; access: SessionAccess }];
  request: [{ service: PsemRequest['service'] | 'malformed'; request?: PsemRequest; code: number }];
  response: [{ service: string; code: number; codeName: string }];
  securityFailed: [{ attempts: number; code: number; reason: string; userId: number; user: string }];
  /** The line speed changed (after an ACKed Negotiate, or back to 9600 at session end). */
  baud: [number];
  /** Link or table faults: retries exhausted, write errors, a TableServer that threw. */
  fault: [SimError];
};

const DEFAULT_BAUDS = [1200, 2400, 4800, 9600, 14400, 19200, 28800, 38400];

/**
 * The simulated meter's C12.18 side on one Transport (one optical port, one TCP connection).
 * Framer + link (LinkDriver) below, the pure session (server-session.ts) above, table access
 * through the TableServer contract (c1219/contract.ts).
 */
export class C1218Server extends TypedEmitter<C1218ServerEvents> {
  readonly link: LinkDriver;
  readonly transport: Transport;
  private readonly tables: TableServer;
  private readonly clock: Clock;
  private readonly logger: Logger;
  private childLog: Logger | undefined;
  private readonly config: ServerSessionConfig;
  private readonly timers: C1218Timers;
  private readonly responseDelayMs: number;
  private sessionState: ServerSessionState = initialSessionState();
  private queue: Promise<void> = Promise.resolve();
  private channelTimer: TimerHandle | undefined;
  private lastTraffic = 0;
  private holdUntil = 0;
  private lineBaud: number;
  private closed = false;

  constructor(init: C1218ServerInit) {
    super();
    const o = init.options ?? {};
    this.transport = init.transport;
    this.tables = init.tables;
    this.clock = init.clock ?? systemClock;
    this.logger = init.logger ?? silentLogger;
    this.timers = { ...C1218_DEFAULT_TIMERS, ...o.timers };
    this.responseDelayMs = o.responseDelayMs ?? 0;
    const ident: IdentInfo = {
      std: o.ident?.std ?? 0,
      version: o.ident?.version ?? 1,
      revision: o.ident?.revision ?? 0,
      features: o.ident?.features ?? [],
    };
    const baudCodes: number[] = [];
    for (const rate of o.baudRates ?? DEFAULT_BAUDS) {
      const code = codeFromBaud(rate);
      if (code === undefined) {
        throw new SimError(ErrorCode.ConfigInvalid, `C1218Server: ${rate} baud has no C12.18 baud code`, {
          rate,
        });
      }
      baudCodes.push(code);
    }
    this.config = {
      ident,
      maxPacketSize: o.packetSize ?? 1024,
      maxPackets: o.maxPackets ?? 255,
      baudCodes,
    };
    this.lineBaud = init.transport.getLineSettings().baudRate;
    this.link = new LinkDriver({
      transport: init.transport,
      clock: this.clock,
      interCharMs: this.timers.interCharMs,
      link: {
        packetSize: DEFAULT_PACKET_SIZE,
        maxPackets: DEFAULT_MAX_PACKETS,
        maxTries: o.maxTries ?? DEFAULT_MAX_TRIES,
        ackTimeoutMs: this.timers.ackTimeoutMs,
        // A meter checks duplicates only; T never alternates reliably across runs (§1.5).
        checkRxToggle: false,
        strictRxLimits: false,
      },
      framer: { strictHeader: o.strictHeader ?? true },
      coalesceAcks: o.coalesceAcks ?? true,
    });
    this.link.on('message', (msg) => this.enqueue(() => this.onMessage(msg)));
    this.link.on('traffic', () => this.touchChannel());
    this.link.on('rxError', (reason, packets) =>
      this.log.debug({ reason, packets }, 'received message dropped'),
    );
    this.link.on('duplicate', () => this.log.debug('duplicate packet ACKed and dropped'));
    this.link.on('writeError', (e) => this.fault(e));
    this.link.on('closed', () => this.onTransportClosed());
  }

  /**
   * The server's child logger, made when first used (a farm accepts thousands a second); a
   * silent logger is its own child (nothing it is given is ever written).
   */
  private get log(): Logger {
    if (this.logger.level === 'silent') return this.logger;
    this.childLog ??= this.logger.child({ component: 'c1218-server', line: this.transport.info.uri });
    return this.childLog;
  }

  /** Current session state (phase, access, negotiated sizes, baud, failed attempts). */
  get session(): ServerSessionState {
    return this.sessionState;
  }

  /** Resolves when every request received so far has been handled. */
  idle(): Promise<void> {
    return this.queue;
  }

  /** Stop serving this transport (the transport itself stays open; its owner closes it). */
  async close(): Promise<void> {
    if (this.closed) return;
    this.enqueue(() => this.step({ type: 'closed' }));
    await this.queue;
    this.shutdown();
  }

  private shutdown(): void {
    this.closed = true;
    this.clock.clearTimeout(this.channelTimer);
    this.channelTimer = undefined;
    this.link.detach();
  }

  private onTransportClosed(): void {
    if (this.closed) return;
    this.enqueue(() => this.step({ type: 'closed' }));
    this.closed = true;
    this.clock.clearTimeout(this.channelTimer);
    this.channelTimer = undefined;
  }

  private enqueue(fn: () => Promise<void> | void): void {
    this.queue = this.queue.then(fn).catch((e: unknown) => this.fault(toSimError(e, ErrorCode.ServiceError)));
  }

  private fault(e: SimError): void {
    this.log.warn({ err: e.toJSON() }, e.message);
    if (this.listenerCount('fault') > 0) this.emit('fault', e);
  }

  private async onMessage(msg: Buffer): Promise<void> {
    let input: SessionInput;
    try {
      const request = decodeRequest(msg);
      input = { type: 'request', request };
      if (this.listenerCount('request') > 0)
        this.emit('request', { service: request.service, request, code: msg[0]! });
    } catch (e) {
      const reason = e instanceof SimError ? e.message : String(e);
      input = { type: 'malformed', code: msg[0] ?? 0, reason };
      this.log.debug({ reason }, 'malformed request');
      if (this.listenerCount('request') > 0)
        this.emit('request', { service: 'malformed', code: msg[0] ?? 0 });
    }
    await this.step(input);
  }

  private async step(input: SessionInput): Promise<void> {
    const { state, effects } = sessionStep(this.config, this.sessionState, input);
    this.sessionState = state;
    for (const e of effects) await this.run(e);
  }

  private async run(e: SessionEffect): Promise<void> {
    switch (e.type) {
      case 'respond': {
        const generation = this.sessionState.generation;
        if (this.responseDelayMs > 0) {
          await this.clock.sleep(this.responseDelayMs);
          // A session that ended meanwhile (timeout, close) gets no late answer.
          if (this.closed || (generation !== this.sessionState.generation && e.service !== 'terminate'))
            return;
        }
        if (this.closed) return;
        const code = e.response.kind === 'error' ? e.response.code : 0;
        if (this.listenerCount('response') > 0) {
          this.emit('response', { service: e.service, code, codeName: psemCodeName(code) });
        }
        const after = e.after;
        this.link.post(encodeResponse(e.response), (err) => {
          // A peer that stops answering is worth a warning; a response superseded by the
          // peer's next request, or cut by a session reset, is ordinary half-duplex life.
          if (err?.code === ErrorCode.LinkRetriesExhausted) this.fault(err);
          else if (err) this.log.debug({ err: err.message }, 'response abandoned');
          if (after) this.applyAfter(after);
        });
        return;
      }
      case 'readTable': {
        let result: TableReadResult;
        try {
          result = await this.tables.read(e.tableId, e.range, e.access);
        } catch (err) {
          this.fault(toSimError(err, ErrorCode.ServiceError, `table ${e.tableId} read failed`));
          result = { code: PsemCode.err };
        }
        await this.step({ type: 'readDone', generation: e.generation, result });
        return;
      }
      case 'writeTable': {
        let result: TableWriteResult;
        try {
          result = await this.tables.write(e.tableId, e.offset, e.data, e.access);
        } catch (err) {
          this.fault(toSimError(err, ErrorCode.ServiceError, `table ${e.tableId} write failed`));
          result = { code: PsemCode.err };
        }
        await this.step({ type: 'writeDone', generation: e.generation, result });
        return;
      }
      case 'authenticate': {
        let result: AuthResult;
        try {
          result = await this.tables.authenticate(e.userId, e.user, e.password);
        } catch (err) {
          this.fault(toSimError(err, ErrorCode.ServiceError, 'password check failed'));
          result = { ok: false, code: PsemCode.err, reason: 'table server fault' };
        }
        await this.step({ type: 'authDone', generation: e.generation, result });
        return;
      }
      case 'sessionStart':
        this.log.debug('session start');
        this.emit('sessionStart');
        return;
      case 'sessionEnd':
        this.log.info({ reason: e.reason, user: e.access.user, userId: e.access.userId }, 'session end');
        this.holdUntil = 0;
        try {
          this.tables.endSession?.(e.access);
        } catch (err) {
          this.fault(toSimError(err, ErrorCode.ServiceError, 'endSession failed'));
        }
        this.emit('sessionEnd', { reason: e.reason, access: e.access });
        return;
      case 'holdChannel':
        this.holdUntil = this.clock.monotonic() + e.ms;
        return;
      case 'securityFailed':
        this.log.warn(
          {
            attempts: e.attempts,
            code: psemCodeName(e.code),
            userId: e.userId,
            user: e.user,
            reason: e.reason,
          },
          'security (password) rejected',
        );
        this.emit('securityFailed', {
          attempts: e.attempts,
          code: e.code,
          reason: e.reason,
          userId: e.userId,
          user: e.user,
        });
        return;
      case 'resetLine':
        this.link.reset();
        this.link.configure({ packetSize: e.packetSize, maxPackets: e.maxPackets });
        this.setBaud(e.baudRate);
        return;
    }
  }

  private applyAfter(after: AfterSend): void {
    if (this.closed) return;
    if (after.resetLink) this.link.reset();
    if (after.link) this.link.configure(after.link);
    if (after.baudRate !== undefined) this.setBaud(after.baudRate);
  }

  private setBaud(rate: number): void {
    if (rate === this.lineBaud || this.closed) return;
    this.lineBaud = rate;
    this.log.info({ baud: rate }, 'line speed changed');
    this.emit('baud', rate);
    this.transport
      .setLineSettings({ baudRate: rate })
      .catch((err: unknown) =>
        this.fault(toSimError(err, ErrorCode.TransportSettingsInvalid, 'baud change failed')),
      );
  }

  /** Channel-traffic timer (§1.4): re-armed lazily so a busy line costs no timer churn. */
  private touchChannel(): void {
    this.lastTraffic = this.clock.monotonic();
    if (!this.channelTimer && !this.closed) this.armChannel(this.timers.channelTrafficMs);
  }

  private armChannel(ms: number): void {
    this.channelTimer = this.clock.setTimeout(() => this.onChannelTimer(), ms);
  }

  private onChannelTimer(): void {
    this.channelTimer = undefined;
    if (this.closed) return;
    const now = this.clock.monotonic();
    const deadline = Math.max(this.lastTraffic + this.timers.channelTrafficMs, this.holdUntil);
    if (now < deadline) {
      this.armChannel(deadline - now);
      return;
    }
    this.enqueue(() => this.step({ type: 'channelTimeout' }));
  }

  /** The line speed the server believes it is at (9600 until a Negotiate is ACKed). */
  get baudRate(): number {
    return this.lineBaud;
  }
}

/** A server attached to every connection of a Listener. */
export interface C1218Service {
  readonly servers: ReadonlySet<C1218Server>;
  /** Close the listener, every server and its transport. */
  close(): Promise<void>;
}

/**
 * Attach a C1218Server to each connection the listener accepts (`make` supplies the table
 * server, clock, logger and options per connection). A serial/pty listener emits one
 * long-lived connection; TCP one per client.
 */
export function serveC1218(
  listener: Listener,
  make: (transport: Transport) => Omit<C1218ServerInit, 'transport'>,
): C1218Service {
  const servers = new Set<C1218Server>();
  const onConnection = (transport: Transport): void => {
    const server = new C1218Server({ ...make(transport), transport });
    servers.add(server);
    transport.once('close', () => servers.delete(server));
  };
  listener.on('connection', onConnection);
  return {
    servers,
    async close(): Promise<void> {
      listener.off('connection', onConnection);
      const all = [...servers];
      servers.clear();
      await Promise.all(
        all.map(async (s) => {
          await s.close();
          await s.transport.close();
        }),
      );
      await listener.close();
    },
  };
}
