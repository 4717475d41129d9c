import { systemClock, type Clock } from '../../core/clock';
import { ErrorCode, SimError } from '../../core/errors';
import { silentLogger, type Logger } from '../../core/logger';
import type { Transport } from '../../transport/types';
import {
  BASE_BAUD,
  C1218_DEFAULT_TIMERS,
  DEFAULT_MAX_PACKETS,
  DEFAULT_MAX_TRIES,
  DEFAULT_PACKET_SIZE,
  WAKE_UP,
  baudFromCode,
  codeFromBaud,
  type C1218Timers,
} from './constants';
import { LinkDriver } from './link-driver';
import {
  ST7,
  ST8,
  dataOrderFromSt0,
  decodeProcedureResult,
  encodeProcedureCall,
  procedureResultName,
  type DataOrder,
  type ProcedureResult,
} from './procedure-messages';
import { PsemExchanger } from './psem-exchange';
import { PASSWORD_LENGTH, USER_NAME_LENGTH, padField, type PsemRequest } from './psem-requests';
import type { IdentInfo, PsemResponse } from './psem-responses';
import { traceEntry, type C1218TraceEntry } from './trace';

export interface C1218ClientOptions {
  clock?: Clock;
  logger?: Logger;
  /** Packet size asked for in Negotiate (default 1024, M's default). */
  packetSize?: number;
  /** Packet count asked for in Negotiate (default 255, M's default). */
  maxPackets?: number;
  /** Session baud asked for in Negotiate (default 9600; T always asks 9600, §1.1). */
  baud?: number;
  /** Send 0x55 and wait 50 ms before Ident (M `WakeUpSharedOpticalPort`, §1.1). */
  wakeUp?: boolean;
  /** RTS on and DTR off by default: some probes draw power from RTS (T, issue #6, §1.1). */
  rts?: boolean;
  dtr?: boolean;
  timers?: Partial<C1218Timers>;
  /** Transmissions of one packet before LinkRetriesExhausted (default 3, §1.4). */
  maxTries?: number;
  /** Application retries on bsy/dnr (default 20 x 2000 ms, M, §1.4). */
  retries?: { count?: number; delayMs?: number };
  /** How long to wait for a response once the request is ACKed (default: channel-traffic, 6 s). */
  responseTimeoutMs?: number;
  /** Check the toggle bit of incoming packets (default true, M; T never does, §1.5). */
  checkToggle?: boolean;
  /** Refuse responses that break the negotiated packet size/count (default false: warn). */
  strictLimits?: boolean;
  /** ST8 polling while RESULT_CODE is 1 (default 20 x 500 ms, M, §3). */
  procedure?: { pollCount?: number; pollDelayMs?: number };
  /**
   * Pause between our last byte at the old speed and a baud change (default 20 ms, M's
   * turn-around delay, §1.4): a UART still shifting out the ACK would garble it, and
   * serialport's update() flushes both tty queues (bindings-cpp `tcflush(TCIOFLUSH)`).
   */
  baudSwitchDelayMs?: number;
  /** Byte order of ST7/ST8 bitfields; learnt from ST0 DATA_ORDER when not given. */
  dataOrder?: DataOrder;
  /** Called for every packet, ACK, NAK and discarded run, with hex and a decoded line. */
  trace?: (entry: C1218TraceEntry) => void;
  /**
   * Send the ACK of a response in the same transport write as the next request when that
   * request follows in the same event-loop turn (LinkDriverOptions.coalesceAcks); otherwise the
   * ACK leaves alone at the end of the turn. Default true.
   */
  coalesceAcks?: boolean;
}

export interface NegotiateResult {
  packetSize: number;
  maxPackets: number;
  baudRate: number;
}

export interface SessionCredentials {
  userId?: number;
  /** User name, padded to 10 bytes with `userPad` (default 0x20, as T and M do, §2). */
  user?: string | Uint8Array;
  userPad?: number;
  /** Password; omitted = no Security request (T's `connect`). */
  password?: string | Uint8Array;
  /** Pad byte for the 20-byte password: T uses 0x00, M 0x20 (§2). Default 0x20. */
  passwordPad?: number;
}

/**
 * The interrogator: a C12.18 PSEM client for our simulator and for real meters on an optical
 * probe. One request at a time (calls are queued); every wire event can be traced.
 */
export class C1218Client {
  readonly link: LinkDriver;
  readonly transport: Transport;
  private readonly clock: Clock;
  private readonly log: Logger;
  private readonly timers: C1218Timers;
  private readonly opts: C1218ClientOptions;
  private readonly exchanger: PsemExchanger;
  private lock: Promise<unknown> = Promise.resolve();
  private learnedOrder: DataOrder | undefined;
  private procSeq = 1;
  private current: NegotiateResult = {
    packetSize: DEFAULT_PACKET_SIZE,
    maxPackets: DEFAULT_MAX_PACKETS,
    baudRate: BASE_BAUD,
  };

  constructor(transport: Transport, options: C1218ClientOptions = {}) {
    this.transport = transport;
    this.opts = options;
    this.clock = options.clock ?? systemClock;
    // A silent logger is its own child (nothing is written; a sweep opens thousands of clients).
    const logger = options.logger ?? silentLogger;
    this.log =
      logger.level === 'silent'
        ? logger
        : logger.child({ component: 'c1218-client', line: transport.info.uri });
    this.timers = { ...C1218_DEFAULT_TIMERS, ...options.timers };
    const maxTries = options.maxTries ?? DEFAULT_MAX_TRIES;
    this.learnedOrder = options.dataOrder;
    this.link = new LinkDriver({
      transport,
      clock: this.clock,
      interCharMs: this.timers.interCharMs,
      link: {
        packetSize: DEFAULT_PACKET_SIZE,
        maxPackets: DEFAULT_MAX_PACKETS,
        maxTries,
        ackTimeoutMs: this.timers.ackTimeoutMs,
        checkRxToggle: options.checkToggle ?? true,
        strictRxLimits: options.strictLimits ?? false,
      },
      coalesceAcks: options.coalesceAcks ?? true,
    });
    this.exchanger = new PsemExchanger(this.link, {
      clock: this.clock,
      log: this.log,
      busyRetries: options.retries?.count ?? 20,
      busyDelayMs: options.retries?.delayMs ?? 2000,
      responseTimeoutMs: options.responseTimeoutMs ?? this.timers.channelTrafficMs,
      resends: maxTries,
    });
    const trace = options.trace;
    if (trace) this.link.on('wire', (ev) => trace(traceEntry(ev, 'client')));
  }

  /** Packet size, count and baud in force (C12 defaults until Negotiate). */
  get negotiated(): NegotiateResult {
    return { ...this.current };
  }

  /** Set the probe's control lines and, if asked, wake a shared port with 0x55 (§1.1). */
  connect(): Promise<void> {
    return this.serial(async () => {
      try {
        await this.transport.setControlLines({ rts: this.opts.rts ?? true, dtr: this.opts.dtr ?? false });
      } catch (e) {
        // On a pty the ioctls fail harmlessly (§1.1); a real probe without RTS will time out.
        this.log.warn({ err: String(e) }, 'could not set RTS/DTR');
      }
      if (this.opts.wakeUp) {
        await this.link.writeRaw(Buffer.of(WAKE_UP), 'wakeup');
        await this.clock.sleep(50);
      }
    });
  }

  /** Ident; a fresh session starts here, so the received toggle is forgotten (M, §1.5). */
  ident(): Promise<IdentInfo> {
    return this.serial(async () => {
      this.link.forgetRx();
      const r = await this.exchanger.transact({ service: 'ident' });
      return (r as Extract<PsemResponse, { kind: 'ident' }>).ident;
    });
  }

  /**
   * Negotiate packet size, count and baud (0x61 with one code, or 0x60 when `baud` is null).
   * The new limits and speed apply once the response is ACKed.
   */
  negotiate(
    request: { packetSize?: number; maxPackets?: number; baud?: number | null } = {},
  ): Promise<NegotiateResult> {
    return this.serial(async () => {
      const packetSize = request.packetSize ?? this.opts.packetSize ?? 1024;
      const maxPackets = request.maxPackets ?? this.opts.maxPackets ?? 255;
      const baud = request.baud === null ? undefined : (request.baud ?? this.opts.baud ?? BASE_BAUD);
      const baudCodes: number[] = [];
      if (baud !== undefined) {
        const code = codeFromBaud(baud);
        if (code === undefined) {
          throw new SimError(ErrorCode.UsageError, `C12.18 has no baud code for ${baud}`, { baud });
        }
        baudCodes.push(code);
      }
      const r = (await this.exchanger.transact({
        service: 'negotiate',
        packetSize,
        maxPackets,
        baudCodes,
      })) as Extract<PsemResponse, { kind: 'negotiate' }>;
      let baudRate = this.current.baudRate;
      if (r.baudCode !== undefined) {
        const rate = baudFromCode(r.baudCode);
        if (rate === undefined) {
          throw new SimError(ErrorCode.ServiceInvalidResponse, `Negotiate: unknown baud code ${r.baudCode}`, {
            baudCode: r.baudCode,
          });
        }
        baudRate = rate;
      }
      this.current = { packetSize: r.packetSize, maxPackets: r.maxPackets, baudRate };
      this.link.configure({ packetSize: r.packetSize, maxPackets: r.maxPackets });
      await this.switchBaud(baudRate);
      return { ...this.current };
    });
  }

  logon(userId = 0, user: string | Uint8Array = '0000', pad = 0x20): Promise<void> {
    return this.serial(async () => {
      await this.exchanger.transact({
        service: 'logon',
        userId,
        user: padField(user, USER_NAME_LENGTH, pad, 'Logon user'),
      });
    });
  }

  /** Security with the password padded to 20 bytes (the meter compares all 20, §7.3). */
  security(password: string | Uint8Array, pad = 0x20): Promise<void> {
    return this.serial(async () => {
      await this.exchanger.transact({
        service: 'security',
        password: padField(password, PASSWORD_LENGTH, pad, 'password'),
      });
    });
  }

  /** M's start-session order: Ident, Negotiate, Logon, then Security if a password is given. */
  async startSession(credentials: SessionCredentials = {}): Promise<IdentInfo> {
    const ident = await this.ident();
    await this.negotiate();
    await this.logon(credentials.userId ?? 0, credentials.user ?? '0000', credentials.userPad ?? 0x20);
    if (credentials.password !== undefined)
      await this.security(credentials.password, credentials.passwordPad ?? 0x20);
    return ident;
  }

  /** Full read (0x30), or partial read by offset (0x3F) when `range` is given. */
  readTable(tableId: number, range?: { offset: number; count: number }): Promise<Buffer> {
    return this.serial(async () => {
      const req: PsemRequest = range ? { service: 'read', tableId, range } : { service: 'read', tableId };
      const r = await this.exchanger.transact(req);
      return (r as Extract<PsemResponse, { kind: 'read' }>).data;
    });
  }

  /**
   * Full write (0x40), or partial write (0x4F) when an offset is given or `partial` is set
   * (T writes 0x4F even at offset 0, §6).
   */
  writeTable(
    tableId: number,
    data: Uint8Array,
    at: { offset?: number; partial?: boolean } = {},
  ): Promise<void> {
    return this.serial(async () => {
      const offset = at.offset ?? (at.partial ? 0 : undefined);
      const buf = Buffer.from(data);
      const req: PsemRequest =
        offset === undefined
          ? { service: 'write', tableId, data: buf }
          : { service: 'write', tableId, offset, data: buf };
      await this.exchanger.transact(req);
    });
  }

  /**
   * Run a procedure: write ST7 (full write), then read ST8 while RESULT_CODE is 1 "accepted,
   * not completed" (§3). The bitfield uses the device byte order, learnt from ST0 DATA_ORDER.
   * Results other than 0 throw ServiceProcedureFailed with the result in the context.
   */
  async runProcedure(
    procedure: number,
    params: Uint8Array = Buffer.alloc(0),
    opts: { mfg?: boolean; selector?: number; seq?: number } = {},
  ): Promise<ProcedureResult> {
    const order = await this.dataOrder();
    const mfg = opts.mfg ?? false;
    const seq = opts.seq ?? this.nextProcSeq();
    const call = { procedure, mfg, selector: opts.selector ?? 0, seq, params: Buffer.from(params) };
    await this.writeTable(ST7, encodeProcedureCall(call, order));
    const pollCount = this.opts.procedure?.pollCount ?? 20;
    const pollDelay = this.opts.procedure?.pollDelayMs ?? 500;
    const context = { procedure, mfg, seq };
    for (let attempt = 0; ; attempt++) {
      const res = decodeProcedureResult(await this.readTable(ST8), order);
      // Clients match the first 3 bytes against their request (§3); another caller's result
      // or a stale one is not ours.
      const ours = res.procedure === procedure && res.mfg === mfg && res.seq === seq;
      if ((!ours || res.result === 1) && attempt < pollCount) {
        await this.clock.sleep(pollDelay);
        continue;
      }
      if (!ours) {
        throw new SimError(
          ErrorCode.ServiceInvalidResponse,
          `ST8 never answered procedure ${procedure} seq ${seq}`,
          {
            ...context,
            got: { procedure: res.procedure, mfg: res.mfg, seq: res.seq },
          },
        );
      }
      if (res.result !== 0) {
        throw new SimError(
          ErrorCode.ServiceProcedureFailed,
          `procedure ${mfg ? 'MP' : 'SP'}${procedure}: ${procedureResultName(res.result)}`,
          { ...context, result: res.result, resultName: procedureResultName(res.result) },
        );
      }
      return res;
    }
  }

  /** ST0 DATA_ORDER, read once per client (T learns it only in `connect`, §3). */
  async dataOrder(): Promise<DataOrder> {
    if (this.learnedOrder) return this.learnedOrder;
    const st0 = await this.readTable(0);
    this.learnedOrder = dataOrderFromSt0(st0);
    return this.learnedOrder;
  }

  wait(seconds: number): Promise<void> {
    return this.serial(async () => {
      await this.exchanger.transact({ service: 'wait', seconds });
    });
  }

  logoff(): Promise<void> {
    return this.serial(async () => {
      await this.exchanger.transact({ service: 'logoff' });
    });
  }

  /** Terminate; the meter drops to 9600 and logs out, so do we (§1.4, §7.4). */
  terminate(): Promise<void> {
    return this.serial(async () => {
      try {
        await this.exchanger.transact({ service: 'terminate' });
      } finally {
        await this.resetSession();
      }
    });
  }

  /** M's end-session order: Logoff, then Terminate. */
  async endSession(): Promise<void> {
    await this.logoff();
    await this.terminate();
  }

  /**
   * Forget the session locally (toggle 0, C12 default sizes, 9600 baud) without talking to the
   * meter, e.g. after a channel-traffic timeout (the meter has done the same).
   */
  resetSession(): Promise<void> {
    // Keep the duplicate memory: the meter may still resend its last response (ident() clears it).
    this.link.reset(true);
    this.current = {
      packetSize: DEFAULT_PACKET_SIZE,
      maxPackets: DEFAULT_MAX_PACKETS,
      baudRate: this.current.baudRate,
    };
    this.link.configure({ packetSize: DEFAULT_PACKET_SIZE, maxPackets: DEFAULT_MAX_PACKETS });
    return this.switchBaud(BASE_BAUD);
  }

  /** Stop listening on the transport (the caller closes the transport). */
  close(): void {
    this.link.detach();
  }

  private nextProcSeq(): number {
    // T picks a random SEQ_NBR in 2..254 (§3); a counter over the same range is reproducible.
    this.procSeq = this.procSeq >= 254 ? 2 : this.procSeq + 1;
    return this.procSeq;
  }

  private async switchBaud(rate: number): Promise<void> {
    this.current = { ...this.current, baudRate: rate };
    if (rate === this.transport.getLineSettings().baudRate) return;
    // The ACK of the response must leave at the old speed before the UART changes.
    await this.link.flush();
    const pause = this.opts.baudSwitchDelayMs ?? 20;
    if (pause > 0) await this.clock.sleep(pause);
    await this.transport.setLineSettings({ baudRate: rate });
    this.log.debug({ baud: rate }, 'line speed changed');
  }

  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.lock.then(fn, fn);
    this.lock = run.catch(() => undefined);
    return run;
  }
}
