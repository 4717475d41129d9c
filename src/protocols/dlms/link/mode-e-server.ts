import { EventEmitter } from 'node:events';
import { systemClock, type Clock, type TimerHandle } from '../../../core/clock';
import { SimError } from '../../../core/errors';
import { silentLogger, type Logger } from '../../../core/logger';
import type { Transport } from '../../../transport/types';
import { hdlcLine, SIGN_ON_LINE } from '../iec62056-21/baud';
import { Iec21Framer, type Iec21FramerOutput } from '../iec62056-21/framer';
import { encodeIec21Message } from '../iec62056-21/messages';
import {
  DEFAULT_IEC21_ACK_TIMEOUT_MS,
  initialSignOnState,
  signOnStep,
  type Iec21ServerConfig,
  type Iec21ServerEffect,
  type Iec21ServerInput,
  type Iec21ServerState,
  type Iec21Timer,
} from '../iec62056-21/server-signon';
import { HdlcServerLink, type HdlcServerLinkOptions } from './hdlc-server';
import { NamedTimers } from './timers';
import type { ApduLink, ApduLinkEvents, LinkAddress } from './types';

/**
 * A meter's optical port with the IEC 62056-21 sign-on in front of HDLC (mode E; docs/dlms.md
 * §1). The port idles at 300 Bd 7E1 running the sign-on machine (server-signon.ts); after
 * `06 32 Z 32` it switches the line to Z 8N1 and hands every byte to an HdlcServerLink. When
 * the HDLC side has no connection any more (DISC, inactivity) — or no SNRM came within the
 * inactivity time after the switch — the port returns to 300 Bd 7E1 (modelled, §10.1).
 * A meter that takes HDLC directly on its optical port is a plain HdlcServerLink instead.
 */
export interface ModeEServerLinkOptions {
  readonly signOn: Omit<Iec21ServerConfig, 'ackTimeoutMs'> & { readonly ackTimeoutMs?: number };
  readonly hdlc: Omit<HdlcServerLinkOptions, 'listen' | 'clock' | 'logger' | 'closeTransport'>;
  /** Mode C readout lines (without the final "!"); default none. */
  readonly readout?: () => readonly string[] | Promise<readonly string[]>;
  /** Silence that ends a partial sign-on message (modelled default 1.5 s). */
  readonly interCharTimeoutMs?: number;
  readonly clock?: Clock;
  readonly logger?: Logger;
  readonly closeTransport?: boolean;
}

export class ModeEServerLink extends EventEmitter<ApduLinkEvents> implements ApduLink {
  readonly kind = 'hdlc' as const;
  readonly hdlc: HdlcServerLink;
  /** Resolves once the line is at 300 Bd 7E1 and the sign-on listens. */
  readonly ready: Promise<void>;
  private readonly cfg: Iec21ServerConfig;
  private machine: Iec21ServerState;
  private framer = new Iec21Framer();
  private readonly clock: Clock;
  private readonly log: Logger;
  private readonly timers: NamedTimers<Iec21Timer | 'interChar' | 'noSnrm'>;
  private readonly delayed = new Set<TimerHandle>();
  /** Line changes and delayed writes run one after another, in effect order. */
  private queue: Promise<void> = Promise.resolve();
  private closed = false;
  private readonly onData = (chunk: Buffer): void => this.receive(chunk);
  private readonly onClose = (error: SimError | undefined): void => this.shutdown(error);

  constructor(
    readonly transport: Transport,
    private readonly options: ModeEServerLinkOptions,
  ) {
    super();
    this.clock = options.clock ?? systemClock;
    this.log = options.logger ?? silentLogger;
    this.cfg = { ackTimeoutMs: DEFAULT_IEC21_ACK_TIMEOUT_MS, ...options.signOn };
    this.machine = initialSignOnState(this.cfg);
    this.timers = new NamedTimers(this.clock, (t) => {
      if (t === 'interChar') this.handle(this.framer.expire());
      else if (t === 'noSnrm') this.step({ kind: 'hdlcEnded' });
      else this.step({ kind: 'timeout', timer: t });
    });
    this.hdlc = new HdlcServerLink(transport, {
      ...options.hdlc,
      listen: false,
      closeTransport: false,
      clock: this.clock,
      logger: this.log,
    });
    this.hdlc.on('apdu', (apdu, addr) => this.emit('apdu', apdu, addr));
    this.hdlc.on('up', (addr) => {
      this.timers.stop('noSnrm');
      this.emit('up', addr);
    });
    this.hdlc.on('down', (addr, err) => {
      this.emit('down', addr, err);
      if (!this.hdlc.connected) this.step({ kind: 'hdlcEnded' });
    });
    transport.on('data', this.onData);
    transport.on('close', this.onClose);
    this.ready = this.enqueue(() => transport.setLineSettings(SIGN_ON_LINE));
  }

  /** Where the port is: asleep, idle, identified or hdlc. */
  get phase(): Iec21ServerState['phase'] {
    return this.machine.phase;
  }

  send(apdu: Uint8Array, addr: LinkAddress): Promise<void> {
    return this.hdlc.send(apdu, addr);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.shutdown(undefined);
    await this.hdlc.close();
    if (this.options.closeTransport ?? true) await this.transport.close();
  }

  private shutdown(error: SimError | undefined): void {
    if (this.closed) return;
    this.closed = true;
    this.timers.stopAll();
    for (const h of this.delayed) this.clock.clearTimeout(h);
    this.delayed.clear();
    this.transport.off('data', this.onData);
    this.transport.off('close', this.onClose);
    this.emit('close', error);
  }

  private receive(chunk: Buffer): void {
    if (this.closed) return;
    if (this.machine.phase === 'hdlc') {
      this.hdlc.receive(chunk);
      return;
    }
    this.handle(this.framer.push(chunk));
    if (this.framer.pending > 0) this.timers.start('interChar', this.options.interCharTimeoutMs ?? 1_500);
    else this.timers.stop('interChar');
  }

  private handle(outputs: Iec21FramerOutput[]): void {
    for (const o of outputs) {
      if (this.machine.phase === 'hdlc') {
        // Bytes cut by the sign-on framer after the switch belong to HDLC.
        if (o.kind !== 'wake') this.hdlc.receive(o.bytes);
        continue;
      }
      if (o.kind === 'message') this.step({ kind: 'message', message: o.message });
      else if (o.kind === 'wake') this.step({ kind: 'wake', count: o.count });
      else {
        this.log.debug({ bytes: o.bytes.length, err: o.error?.message }, 'iec21: discarded');
        this.step({ kind: 'noise' });
      }
    }
  }

  private step(input: Iec21ServerInput): void {
    if (this.closed) return;
    const { state, effects } = signOnStep(this.cfg, this.machine, input);
    this.machine = state;
    for (const e of effects) this.run(e);
  }

  private enqueue(task: () => Promise<void>): Promise<void> {
    const next = this.queue.then(task).catch((err: unknown) => {
      this.log.warn({ err }, 'iec21: line operation failed');
    });
    this.queue = next;
    return next;
  }

  /** Run `task` after `ms` on the clock, in order with the other line operations. */
  private later(ms: number, task: () => Promise<void>): void {
    if (ms <= 0) {
      void this.enqueue(task);
      return;
    }
    const h = this.clock.setTimeout(() => {
      this.delayed.delete(h);
      if (!this.closed) void this.enqueue(task);
    }, ms);
    this.delayed.add(h);
  }

  private run(e: Iec21ServerEffect): void {
    switch (e.kind) {
      case 'send':
        this.later(e.delayMs, () => this.transport.write(e.bytes));
        return;
      case 'readout':
        this.later(e.delayMs, async () => {
          const lines = this.options.readout ? await this.options.readout() : [];
          const bytes = encodeIec21Message({ type: 'readout', lines });
          if (e.baudRate !== SIGN_ON_LINE.baudRate)
            await this.transport.setLineSettings({ ...SIGN_ON_LINE, baudRate: e.baudRate });
          await this.transport.write(bytes);
          if (e.baudRate !== SIGN_ON_LINE.baudRate) await this.transport.setLineSettings(SIGN_ON_LINE);
        });
        return;
      case 'enterHdlc': {
        // Anything the sign-on framer still holds arrived after the switch: it is HDLC.
        const rest = this.framer.expire();
        this.framer = new Iec21Framer();
        this.timers.stop('interChar');
        void this.enqueue(() => this.transport.setLineSettings(hdlcLine(e.baudRate)));
        const wait = this.options.hdlc.inactivityTimeoutMs ?? 120_000;
        if (wait > 0) this.timers.start('noSnrm', wait);
        for (const o of rest) if (o.kind !== 'wake') this.hdlc.receive(o.bytes);
        return;
      }
      case 'enterSignOn':
        this.timers.stop('noSnrm');
        this.hdlc.reset();
        void this.enqueue(async () => {
          await this.hdlc.flush();
          await this.transport.setLineSettings(SIGN_ON_LINE);
        });
        return;
      case 'startTimer':
      case 'stopTimer':
        this.timers.apply(e);
        return;
    }
  }
}
