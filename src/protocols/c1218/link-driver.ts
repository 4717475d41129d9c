import type { Clock, TimerHandle } from '../../core/clock';
import { ErrorCode, SimError } from '../../core/errors';
import { TypedEmitter } from '../../core/events';
import type { Transport } from '../../transport/types';
import { ACK, C1218_DEFAULT_TIMERS } from './constants';
import { Deadline } from '../../core/deadline';
import { SmallMap } from '../../core/small-set';
import {
  ACK_BYTES,
  initialLinkState,
  linkStep,
  type LinkConfig,
  type LinkEffect,
  type LinkInput,
  type LinkState,
  type RxErrorReason,
  type RxWarning,
  type SendFailure,
} from './link';
import type { C1218Packet } from './packet';
import { PacketFramer, type FramerOptions } from './packet-framer';

/** One thing seen or put on the wire, for traces and logs. */
export interface WireEvent {
  dir: 'rx' | 'tx';
  kind: 'packet' | 'retransmit' | 'ack' | 'nak' | 'corrupt' | 'discarded' | 'wakeup';
  bytes: Buffer;
  packet?: C1218Packet;
  /** Monotonic ms from the driver's clock. */
  at: number;
}

export type LinkDriverEvents = {
  /** A complete message arrived and was ACKed. */
  message: [Buffer, { packets: number; warnings: readonly RxWarning[] }];
  /** A received message was dropped (out of sequence, toggle, orphan, too large). */
  rxError: [RxErrorReason, number];
  /** A valid packet (new or duplicate), an ACK or a NAK arrived: the channel is alive. */
  traffic: [];
  duplicate: [];
  sendFailed: [SendFailure];
  wire: [WireEvent];
  writeError: [SimError];
  closed: [SimError | undefined];
};

export interface LinkDriverOptions {
  transport: Transport;
  clock: Clock;
  link?: Partial<LinkConfig>;
  interCharMs?: number;
  framer?: FramerOptions;
  /**
   * Hold each ACK until the end of the current event-loop turn (setImmediate), so that a packet
   * sent in the same turn carries it in front of it in one transport write: the server's ACK and
   * its response when the response is ready at once, the client's ACK of a response and its next
   * request. The bytes on the wire and their order are unchanged (an ACK is one bare byte before
   * the next packet, docs/c1218.md §1.4); what changes is the number of writes (syscalls on TCP).
   * Default false: ACKs are written as they are decided.
   */
  coalesceAcks?: boolean;
}

/** Called synchronously when a message is acknowledged (no error) or abandoned (error). */
export type SendCallback = (error?: SimError) => void;

/**
 * The I/O shell around the pure link (link.ts) and the framer: feeds transport bytes through
 * the framer into linkStep, runs the effects (writes, ACK timer), owns the inter-character
 * timer (docs/c1218.md §1.4), and turns message ids into promises. Shared by server and client.
 */
export class LinkDriver extends TypedEmitter<LinkDriverEvents> {
  private linkState: LinkState;
  private readonly framer: PacketFramer;
  private readonly transport: Transport;
  private readonly clock: Clock;
  private readonly interCharMs: number;
  /** The acknowledgement timer (§1.4), one clock timer per driver (deadline.ts). */
  private readonly ackTimer: Deadline;
  private interCharTimer: TimerHandle | undefined;
  private readonly pending = new SmallMap<number, SendCallback>();
  private lastWrite: Promise<void> = Promise.resolve();
  private attached = true;
  private readonly coalesceAcks: boolean;
  /** ACKs decided but not written yet (coalesceAcks); they go out before anything else. */
  private heldAcks = 0;
  private ackFlush: NodeJS.Immediate | undefined;
  private readonly flushHeld = (): void => {
    this.ackFlush = undefined;
    if (this.transport.isOpen) this.writeHeldAcks();
    else this.heldAcks = 0;
  };
  private readonly onData = (chunk: Buffer): void => this.receive(chunk);
  private readonly onClose = (err: SimError | undefined): void => this.detach(err);

  constructor(options: LinkDriverOptions) {
    super();
    this.transport = options.transport;
    this.clock = options.clock;
    this.interCharMs = options.interCharMs ?? C1218_DEFAULT_TIMERS.interCharMs;
    this.coalesceAcks = options.coalesceAcks ?? false;
    this.ackTimer = new Deadline(this.clock, () => {
      if (this.attached) this.input({ type: 'ackTimeout' });
    });
    this.linkState = initialLinkState(options.link);
    this.framer = new PacketFramer(options.framer);
    this.transport.on('data', this.onData);
    this.transport.on('close', this.onClose);
  }

  get state(): LinkState {
    return this.linkState;
  }

  get isAttached(): boolean {
    return this.attached;
  }

  /** Feed received bytes (the transport's data handler; tests and benches may call it). */
  receive(chunk: Buffer): void {
    if (!this.attached) return;
    const events = this.framer.push(chunk);
    for (const ev of events) {
      switch (ev.kind) {
        case 'packet':
          this.wire('rx', 'packet', ev.raw, ev.packet);
          this.emit('traffic');
          this.input({ type: 'packet', packet: ev.packet });
          break;
        case 'corrupt':
          this.wire('rx', 'corrupt', ev.bytes);
          this.input({ type: 'corrupt' });
          break;
        // ACK/NAK count as channel traffic too (`modelled`): a slow multi-packet response
        // is a live channel even though the peer sends no packet while it lasts.
        case 'ack':
          this.wire('rx', 'ack', ACK_TRACE);
          this.emit('traffic');
          this.input({ type: 'ack' });
          break;
        case 'nak':
          this.wire('rx', 'nak', NAK_TRACE);
          this.emit('traffic');
          this.input({ type: 'nak' });
          break;
        case 'discarded':
          this.wire('rx', 'discarded', ev.bytes);
          break;
      }
      if (!this.attached) return;
    }
    this.armInterChar();
  }

  /**
   * Send one message. Resolves once every packet is acknowledged; rejects with
   * LinkRetriesExhausted, EncodeTooLarge, LinkBusy (superseded) or LinkDisconnected.
   */
  send(message: Buffer): Promise<void> {
    if (!this.attached) {
      return Promise.reject(new SimError(ErrorCode.LinkDisconnected, 'C12.18 link: transport is closed'));
    }
    return new Promise<void>((resolve, reject) =>
      this.post(message, (err) => (err ? reject(err) : resolve())),
    );
  }

  /**
   * Callback form of send(): `done` runs synchronously inside the link step that settles the
   * message, before any later packet is processed (the server applies a negotiated baud or a
   * session-end reset there, so nothing received afterwards sees the old settings).
   */
  post(message: Buffer, done: SendCallback): void {
    if (!this.attached) {
      done(new SimError(ErrorCode.LinkDisconnected, 'C12.18 link: transport is closed'));
      return;
    }
    this.pending.set(this.linkState.nextId, done);
    this.input({ type: 'send', message });
  }

  /** Run one input through the pure link and execute its effects. */
  input(input: LinkInput): void {
    const { state, effects } = linkStep(this.linkState, input);
    this.linkState = state;
    for (const e of effects) this.run(e);
  }

  /** Session end: toggles to 0, framer emptied, duplicate memory dropped unless `keepRx`. */
  reset(keepRx = false): void {
    this.framer.reset();
    this.clearInterChar();
    this.input({ type: 'reset', keepRx });
  }

  forgetRx(): void {
    this.input({ type: 'forgetRx' });
  }

  configure(settings: { packetSize?: number; maxPackets?: number }): void {
    this.input({ type: 'configure', ...settings });
  }

  /** Write raw bytes outside the link (the 0x55 wake-up). */
  writeRaw(bytes: Buffer, kind: WireEvent['kind'] = 'wakeup'): Promise<void> {
    this.wire('tx', kind, bytes);
    return this.write(this.afterHeldAcks(bytes));
  }

  /** Resolves when everything written so far (held ACKs included) has been handed to the transport. */
  flush(): Promise<void> {
    if (this.transport.isOpen) this.writeHeldAcks();
    return this.lastWrite;
  }

  /** Stop listening; pending sends reject with LinkDisconnected. Idempotent. */
  detach(cause?: SimError): void {
    if (!this.attached) return;
    // A held ACK belongs to a packet already accepted: it still goes out while the line is up
    // (the peer would otherwise resend, e.g. the response to our Terminate).
    if (this.transport.isOpen) this.writeHeldAcks();
    this.heldAcks = 0;
    if (this.ackFlush) clearImmediate(this.ackFlush);
    this.ackFlush = undefined;
    this.attached = false;
    this.transport.off('data', this.onData);
    this.transport.off('close', this.onClose);
    this.ackTimer.cancel();
    this.clearInterChar();
    if (this.pending.size > 0) {
      const err = new SimError(ErrorCode.LinkDisconnected, 'C12.18 link: transport closed', {}, { cause });
      for (const done of this.pending.drain()) done(err);
    }
    this.emit('closed', cause);
  }

  private run(e: LinkEffect): void {
    switch (e.type) {
      case 'write':
        this.wire('tx', e.what, e.bytes);
        if (this.coalesceAcks && e.what === 'ack') {
          this.heldAcks++;
          this.ackFlush ??= setImmediate(this.flushHeld);
          return;
        }
        this.lastWrite = this.write(this.afterHeldAcks(e.bytes));
        return;
      case 'armAckTimer':
        this.ackTimer.arm(e.ms);
        return;
      case 'stopAckTimer':
        this.ackTimer.stop();
        return;
      case 'deliver':
        this.emit('message', e.message, { packets: e.packets, warnings: e.warnings });
        return;
      case 'sent': {
        const done = this.pending.take(e.id);
        done?.();
        return;
      }
      case 'sendFailed': {
        const done = this.pending.take(e.id);
        this.emit('sendFailed', e.reason);
        done?.(sendError(e.reason, this.linkState));
        return;
      }
      case 'rxError':
        this.emit('rxError', e.reason, e.packets);
        return;
      case 'duplicate':
        this.emit('duplicate');
        return;
    }
  }

  /** `bytes` with any held ACKs in front (one write, stream order kept). */
  private afterHeldAcks(bytes: Buffer): Buffer {
    const n = this.heldAcks;
    if (n === 0) return bytes;
    this.heldAcks = 0;
    if (this.ackFlush) clearImmediate(this.ackFlush);
    this.ackFlush = undefined;
    const out = Buffer.allocUnsafe(n + bytes.length);
    out.fill(ACK, 0, n);
    bytes.copy(out, n);
    return out;
  }

  private writeHeldAcks(): void {
    const n = this.heldAcks;
    if (n === 0) return;
    this.heldAcks = 0;
    if (this.ackFlush) clearImmediate(this.ackFlush);
    this.ackFlush = undefined;
    this.lastWrite = this.write(n === 1 ? ACK_BYTES : Buffer.alloc(n, ACK));
  }

  private write(bytes: Buffer): Promise<void> {
    return this.transport.write(bytes).catch((err: unknown) => {
      const e =
        err instanceof SimError
          ? err
          : new SimError(ErrorCode.TransportWriteFailed, 'C12.18 link: write failed', {}, { cause: err });
      this.emit('writeError', e);
    });
  }

  private armInterChar(): void {
    if (this.framer.buffered === 0) {
      this.clearInterChar();
      return;
    }
    this.clock.clearTimeout(this.interCharTimer);
    this.interCharTimer = this.clock.setTimeout(() => {
      this.interCharTimer = undefined;
      if (!this.attached) return;
      for (const ev of this.framer.expire()) {
        // What follows a dropped false start is rescanned; feed it through the normal path.
        if (ev.kind === 'discarded') this.wire('rx', 'discarded', ev.bytes);
        else if (ev.kind === 'packet') {
          this.wire('rx', 'packet', ev.raw, ev.packet);
          this.emit('traffic');
          this.input({ type: 'packet', packet: ev.packet });
        } else if (ev.kind === 'corrupt') {
          this.wire('rx', 'corrupt', ev.bytes);
          this.input({ type: 'corrupt' });
        } else this.input({ type: ev.kind });
      }
      this.armInterChar();
    }, this.interCharMs);
  }

  private clearInterChar(): void {
    if (this.interCharTimer) this.clock.clearTimeout(this.interCharTimer);
    this.interCharTimer = undefined;
  }

  private wire(dir: WireEvent['dir'], kind: WireEvent['kind'], bytes: Buffer, packet?: C1218Packet): void {
    if (this.listenerCount('wire') === 0) return;
    const ev: WireEvent = { dir, kind, bytes, at: this.clock.monotonic() };
    if (packet) ev.packet = packet;
    this.emit('wire', ev);
  }
}

const ACK_TRACE = Buffer.of(0x06);
const NAK_TRACE = Buffer.of(0x15);

function sendError(reason: SendFailure, state: LinkState): SimError {
  switch (reason) {
    case 'retries':
      return new SimError(
        ErrorCode.LinkRetriesExhausted,
        `C12.18 link: no ACK after ${state.config.maxTries} tries`,
        {
          tries: state.config.maxTries,
        },
      );
    case 'tooLarge':
      return new SimError(
        ErrorCode.EncodeTooLarge,
        'C12.18 link: message exceeds the negotiated packet size x count',
        {
          packetSize: state.config.packetSize,
          maxPackets: state.config.maxPackets,
        },
      );
    case 'empty':
      return new SimError(ErrorCode.EncodeInvalid, 'C12.18 link: empty message');
    case 'interrupted':
      return new SimError(ErrorCode.LinkBusy, 'C12.18 link: transfer superseded by new traffic');
    case 'reset':
      return new SimError(ErrorCode.LinkDisconnected, 'C12.18 link: session reset during transfer');
  }
}
