import {
  ACK,
  C1218_DEFAULT_TIMERS,
  DEFAULT_MAX_PACKETS,
  DEFAULT_MAX_TRIES,
  DEFAULT_PACKET_SIZE,
  MAX_PACKETS_PER_MESSAGE,
  MAX_PACKET_SIZE,
  NAK,
  PACKET_OVERHEAD,
} from './constants';
import { ctrlFor, encodePacket, isFirst, isMulti, toggleOf, type C1218Packet } from './packet';

/**
 * The C12.18 data-link layer as a pure state machine (CONVENTIONS): `linkStep(state, input)`
 * returns the next state and the effects for the I/O shell (link-driver.ts) to run. The shell
 * owns the transport, the timers and the framer. Rules and their sources (docs/c1218.md):
 *  - every received packet is answered: ACK if its CRC is good, NAK if not (§1.4);
 *  - a packet is resent byte for byte on NAK or acknowledgement timeout, `maxTries`
 *    transmissions in all (T and M: 3, §1.4);
 *  - the toggle bit flips per new packet once it is acknowledged, never on a resend (§1.5, M);
 *  - a received packet with the same toggle and CRC as the previous one is a duplicate:
 *    ACKed and dropped (§1.5, M `DoFullApplicationLayerRead`);
 *  - multi-packet messages: first packet ctrl 0xC0|toggle with seq n-1, later ones
 *    0x80|toggle counting down to 0, each ACKed (§1.6).
 */

export interface LinkConfig {
  /** Negotiated packet size (whole packet, 8 bytes of overhead included). */
  packetSize: number;
  /** Negotiated maximum packets per message. */
  maxPackets: number;
  /** Transmissions of one packet before giving up. */
  maxTries: number;
  ackTimeoutMs: number;
  /**
   * Treat a new packet with the same toggle as the previous one (but another CRC) as out of
   * sequence (M `CheckIncomingToggleBit`, on by default in M; T never checks, §1.5).
   */
  checkRxToggle: boolean;
  /**
   * Reject received messages that break the negotiated packet size or count. Off: accept
   * them and report a warning ("a sender that ignores them is still understood").
   */
  strictRxLimits: boolean;
  /** Hard cap on a reassembled message, whatever was negotiated (memory bound). */
  maxMessage: number;
  /** Identity byte written in outgoing packets (0 on C12.18). */
  identity: number;
}

export const DEFAULT_LINK_CONFIG: Readonly<LinkConfig> = Object.freeze({
  packetSize: DEFAULT_PACKET_SIZE,
  maxPackets: DEFAULT_MAX_PACKETS,
  maxTries: DEFAULT_MAX_TRIES,
  ackTimeoutMs: C1218_DEFAULT_TIMERS.ackTimeoutMs,
  checkRxToggle: false,
  strictRxLimits: false,
  // 256 packets of the largest size M accepts: anything bigger cannot be a valid message.
  maxMessage: MAX_PACKETS_PER_MESSAGE * (MAX_PACKET_SIZE - PACKET_OVERHEAD),
  identity: 0,
});

interface TxState {
  readonly id: number;
  readonly message: Buffer;
  /** Start, in `message`, of the data of the packet on the wire. */
  readonly offset: number;
  readonly chunk: number;
  /** Packets after the one on the wire (its seq-nbr). */
  readonly remaining: number;
  readonly multi: boolean;
  readonly bytes: Buffer;
  readonly tries: number;
}

interface RxAssembly {
  readonly parts: readonly Buffer[];
  readonly size: number;
  readonly lastSeq: number;
  readonly count: number;
  readonly warnings: readonly RxWarning[];
  /** Set once the message is known bad; packets are still ACKed until its last one. */
  readonly error?: RxErrorReason;
}

export interface LinkState {
  readonly config: LinkConfig;
  /** Toggle of the next new packet we send. */
  readonly txToggle: 0 | 1;
  readonly nextId: number;
  readonly tx?: TxState;
  /** Toggle and CRC of the last good packet received, for duplicate detection. */
  readonly lastRx?: { readonly toggle: 0 | 1; readonly crc: number };
  readonly rx?: RxAssembly;
}

export type LinkInput =
  | { type: 'packet'; packet: C1218Packet }
  | { type: 'corrupt' }
  | { type: 'ack' }
  | { type: 'nak' }
  | { type: 'send'; message: Buffer }
  | { type: 'ackTimeout' }
  /**
   * Session end: send toggle back to 0 and any transfer dropped (§1.5, M). The duplicate memory
   * goes too unless `keepRx` (a client keeps it, so a late resend of the last response is still
   * recognised; M forgets it only at the next Identify).
   */
  | { type: 'reset'; keepRx?: boolean }
  /** Forget the last received toggle/CRC (M clears it before each Identify, §1.5). */
  | { type: 'forgetRx' }
  | { type: 'configure'; packetSize?: number; maxPackets?: number };

export type RxErrorReason = 'sequence' | 'toggle' | 'orphan' | 'tooLarge' | 'limits' | 'abandoned';
export type RxWarning = 'packetSize' | 'maxPackets';
export type SendFailure = 'retries' | 'tooLarge' | 'empty' | 'interrupted' | 'reset';

export type LinkEffect =
  | { type: 'write'; bytes: Buffer; what: 'packet' | 'retransmit' | 'ack' | 'nak' }
  | { type: 'armAckTimer'; ms: number }
  | { type: 'stopAckTimer' }
  /** A complete message arrived (already ACKed). */
  | { type: 'deliver'; message: Buffer; packets: number; warnings: readonly RxWarning[] }
  /** Our message `id` was acknowledged; `implicit` when a new packet from the peer implied it. */
  | { type: 'sent'; id: number; implicit: boolean }
  | { type: 'sendFailed'; id: number; reason: SendFailure }
  | { type: 'rxError'; reason: RxErrorReason; packets: number }
  | { type: 'duplicate'; toggle: 0 | 1; crc: number };

export interface LinkStep {
  state: LinkState;
  effects: LinkEffect[];
}

export const ACK_BYTES: Buffer = Buffer.of(ACK);
export const NAK_BYTES: Buffer = Buffer.of(NAK);

/*
 * Every state object has all six keys (absent ones hold undefined): one hidden class, so the
 * spreads below stay on V8's fast path. Tests see no difference (`state.tx` is undefined either way).
 */
function makeState(
  config: LinkConfig,
  txToggle: 0 | 1,
  nextId: number,
  tx: TxState | undefined,
  lastRx: LinkState['lastRx'],
  rx: RxAssembly | undefined,
): LinkState {
  return { config, txToggle, nextId, tx, lastRx, rx };
}

export function initialLinkState(config: Partial<LinkConfig> = {}): LinkState {
  return makeState({ ...DEFAULT_LINK_CONFIG, ...config }, 0, 1, undefined, undefined, undefined);
}

/** Message ids are assigned in order: the next `send` gets this id. */
export function nextMessageId(state: LinkState): number {
  return state.nextId;
}

export function linkStep(state: LinkState, input: LinkInput): LinkStep {
  switch (input.type) {
    case 'packet':
      return onPacket(state, input.packet);
    case 'corrupt':
      return { state, effects: [{ type: 'write', bytes: NAK_BYTES, what: 'nak' }] };
    case 'ack':
      return onAck(state);
    case 'nak':
    case 'ackTimeout':
      return onResend(state);
    case 'send':
      return onSend(state, input.message);
    case 'reset': {
      const effects: LinkEffect[] = [];
      if (state.tx)
        effects.push({ type: 'stopAckTimer' }, { type: 'sendFailed', id: state.tx.id, reason: 'reset' });
      const lastRx = input.keepRx ? state.lastRx : undefined;
      return { state: makeState(state.config, 0, state.nextId, undefined, lastRx, undefined), effects };
    }
    case 'forgetRx':
      return {
        state: makeState(state.config, state.txToggle, state.nextId, state.tx, undefined, undefined),
        effects: [],
      };
    case 'configure': {
      const config = { ...state.config };
      if (input.packetSize !== undefined) config.packetSize = input.packetSize;
      if (input.maxPackets !== undefined) config.maxPackets = input.maxPackets;
      return { state: { ...state, config }, effects: [] };
    }
  }
}

function onSend(state: LinkState, message: Buffer): LinkStep {
  const effects: LinkEffect[] = [];
  const id = state.nextId;
  let s: LinkState = { ...state, nextId: id + 1 };
  if (s.tx) {
    effects.push({ type: 'stopAckTimer' }, { type: 'sendFailed', id: s.tx.id, reason: 'interrupted' });
    s = withoutTx(s);
  }
  if (message.length === 0) {
    effects.push({ type: 'sendFailed', id, reason: 'empty' });
    return { state: s, effects };
  }
  const perPacket = s.config.packetSize - PACKET_OVERHEAD;
  const packets = perPacket > 0 ? Math.ceil(message.length / perPacket) : Infinity;
  if (packets > s.config.maxPackets || packets > MAX_PACKETS_PER_MESSAGE) {
    effects.push({ type: 'sendFailed', id, reason: 'tooLarge' });
    return { state: s, effects };
  }
  const tx = buildTx(id, message, 0, packets - 1, packets > 1, s.txToggle, perPacket, s.config.identity);
  effects.push(
    { type: 'write', bytes: tx.bytes, what: 'packet' },
    { type: 'armAckTimer', ms: s.config.ackTimeoutMs },
  );
  return { state: { ...s, tx }, effects };
}

function buildTx(
  id: number,
  message: Buffer,
  offset: number,
  remaining: number,
  multi: boolean,
  toggle: 0 | 1,
  perPacket: number,
  identity: number,
): TxState {
  const chunk = Math.min(perPacket, message.length - offset);
  const ctrl = ctrlFor(toggle, multi, offset === 0);
  const bytes = encodePacket(ctrl, remaining, message, offset, offset + chunk, identity);
  return { id, message, offset, chunk, remaining, multi, bytes, tries: 1 };
}

function onAck(state: LinkState): LinkStep {
  const tx = state.tx;
  if (!tx) return { state, effects: [] }; // a stray ACK (e.g. for a duplicate) means nothing
  const txToggle = flip(state.txToggle);
  const effects: LinkEffect[] = [{ type: 'stopAckTimer' }];
  if (tx.remaining === 0) {
    effects.push({ type: 'sent', id: tx.id, implicit: false });
    return { state: { ...withoutTx(state), txToggle }, effects };
  }
  const perPacket = state.config.packetSize - PACKET_OVERHEAD;
  // The chunking of a message is fixed when it starts; a configure() mid-message must not
  // change the packet boundaries the seq numbers were computed for.
  const next = buildTx(
    tx.id,
    tx.message,
    tx.offset + tx.chunk,
    tx.remaining - 1,
    tx.multi,
    txToggle,
    Math.max(perPacket, tx.chunk),
    state.config.identity,
  );
  effects.push(
    { type: 'write', bytes: next.bytes, what: 'packet' },
    { type: 'armAckTimer', ms: state.config.ackTimeoutMs },
  );
  return { state: { ...state, txToggle, tx: next }, effects };
}

function onResend(state: LinkState): LinkStep {
  const tx = state.tx;
  if (!tx) return { state, effects: [] };
  if (tx.tries >= state.config.maxTries) {
    return {
      state: withoutTx(state),
      effects: [{ type: 'stopAckTimer' }, { type: 'sendFailed', id: tx.id, reason: 'retries' }],
    };
  }
  return {
    state: { ...state, tx: { ...tx, tries: tx.tries + 1 } },
    effects: [
      { type: 'write', bytes: tx.bytes, what: 'retransmit' },
      { type: 'armAckTimer', ms: state.config.ackTimeoutMs },
    ],
  };
}

function onPacket(state: LinkState, packet: C1218Packet): LinkStep {
  const toggle = toggleOf(packet.ctrl);
  const last = state.lastRx;
  if (last && last.toggle === toggle && last.crc === packet.crc) {
    return {
      state,
      effects: [
        { type: 'write', bytes: ACK_BYTES, what: 'ack' },
        { type: 'duplicate', toggle, crc: packet.crc },
      ],
    };
  }
  const effects: LinkEffect[] = [];
  let s: LinkState = state;
  // Half duplex: a new packet from the peer while we wait for an ACK means the peer has our
  // packet (its ACK was lost) if that was our last one; otherwise the peer gave up on us.
  // `modelled`: M instead ACKs and drops such a packet and retries; accepting it recovers
  // faster from a lost ACK and is harmless since the peer would not talk otherwise.
  if (s.tx) {
    effects.push({ type: 'stopAckTimer' });
    if (s.tx.remaining === 0) {
      effects.push({ type: 'sent', id: s.tx.id, implicit: true });
      s = { ...withoutTx(s), txToggle: flip(s.txToggle) };
    } else {
      effects.push({ type: 'sendFailed', id: s.tx.id, reason: 'interrupted' });
      s = withoutTx(s);
    }
  }
  effects.push({ type: 'write', bytes: ACK_BYTES, what: 'ack' });
  const toggleError = s.config.checkRxToggle && last !== undefined && last.toggle === toggle;
  s = { ...s, lastRx: { toggle, crc: packet.crc } };

  const cfg = s.config;
  const oversize = packet.data.length > cfg.packetSize - PACKET_OVERHEAD;
  if (!isMulti(packet.ctrl) || isFirst(packet.ctrl)) {
    if (s.rx) {
      effects.push({ type: 'rxError', reason: s.rx.error ?? 'abandoned', packets: s.rx.count });
      s = withoutRx(s);
    }
    const total = isMulti(packet.ctrl) ? packet.seq + 1 : 1;
    const warnings: RxWarning[] = [];
    if (oversize) warnings.push('packetSize');
    if (total > cfg.maxPackets) warnings.push('maxPackets');
    let error: RxErrorReason | undefined = toggleError ? 'toggle' : undefined;
    if (!error && warnings.length && cfg.strictRxLimits) error = 'limits';
    const rx: RxAssembly = {
      parts: [packet.data],
      size: packet.data.length,
      lastSeq: isMulti(packet.ctrl) ? packet.seq : 0,
      count: 1,
      warnings,
      error,
    };
    return finishIfLast(s, rx, effects);
  }
  // A later packet of a multi-packet message.
  if (!s.rx) {
    effects.push({ type: 'rxError', reason: 'orphan', packets: 1 });
    return { state: s, effects };
  }
  const prev = s.rx;
  let error = prev.error;
  if (!error && toggleError) error = 'toggle';
  if (!error && packet.seq !== prev.lastSeq - 1) error = 'sequence';
  const size = prev.size + packet.data.length;
  if (!error && size > cfg.maxMessage) error = 'tooLarge';
  let warnings = prev.warnings;
  if (oversize && !warnings.includes('packetSize')) {
    warnings = [...warnings, 'packetSize'];
    if (!error && cfg.strictRxLimits) error = 'limits';
  }
  const rx: RxAssembly = {
    parts: error ? [] : [...prev.parts, packet.data],
    size,
    lastSeq: packet.seq,
    count: prev.count + 1,
    warnings,
    error,
  };
  return finishIfLast(s, rx, effects);
}

function finishIfLast(s: LinkState, rx: RxAssembly, effects: LinkEffect[]): LinkStep {
  if (rx.lastSeq !== 0) return { state: { ...s, rx }, effects };
  if (rx.error) {
    effects.push({ type: 'rxError', reason: rx.error, packets: rx.count });
  } else {
    const message = rx.parts.length === 1 ? rx.parts[0]! : Buffer.concat(rx.parts as Buffer[], rx.size);
    effects.push({ type: 'deliver', message, packets: rx.count, warnings: rx.warnings });
  }
  return { state: withoutRx(s), effects };
}

function withoutTx(s: LinkState): LinkState {
  return makeState(s.config, s.txToggle, s.nextId, undefined, s.lastRx, s.rx);
}

function withoutRx(s: LinkState): LinkState {
  return makeState(s.config, s.txToggle, s.nextId, s.tx, s.lastRx, undefined);
}

const flip = (t: 0 | 1): 0 | 1 => (t ? 0 : 1);
