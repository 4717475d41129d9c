import { crc16x25 } from '../../core/crc16';
import { ACK, CTRL_RESERVED, HEADER_LENGTH, MAX_PACKET_SIZE, NAK, PACKET_OVERHEAD, STP } from './constants';
import type { C1218Packet } from './packet';

/**
 * What the framer makes of the byte stream. It never throws: anything that is not a packet, an
 * ACK or a NAK comes out as `discarded` (or `corrupt` when a plausible packet failed its CRC,
 * which the link answers with NAK, docs/c1218.md §1.4).
 */
export type FramerEvent =
  | {
      kind: 'packet';
      packet: C1218Packet;
      /** The whole packet as received (a copy; `packet.data` is a view into it). */
      raw: Buffer;
    }
  | { kind: 'ack' }
  | { kind: 'nak' }
  | { kind: 'corrupt'; bytes: Buffer; crcReceived: number; crcComputed: number }
  | { kind: 'discarded'; bytes: Buffer; reason: DiscardReason };

/**
 * garbage: bytes outside any packet (wake-up 0x55, line noise, a peer's stray bytes);
 * timeout: a partial packet dropped by the inter-character timeout (expire()).
 */
export type DiscardReason = 'garbage' | 'timeout';

export interface FramerOptions {
  /** Largest whole packet accepted from any sender (default 8192, M's upper bound, §1.2). */
  maxPacketSize?: number;
  /**
   * Reject headers with a non-zero identity or any of ctrl bits 0-4 set, treating their 0xEE as
   * noise (default true). C12.18 sets both to zero (§1.2); being strict makes resynchronisation
   * after garbage much less likely to lock onto a false 0xEE. `modelled`: what a real meter
   * does with such a header is not documented.
   */
  strictHeader?: boolean;
  /** Identity byte expected when strictHeader is on (default 0x00). */
  identity?: number;
}

/**
 * Pure chunk-to-event transformer for C12.18 packets (CONVENTIONS: framers). Buffers a partial
 * packet across chunks; resynchronises by hunting for the next 0xEE after garbage, impossible
 * lengths (0 or larger than maxPacketSize - 8) or invalid headers. A packet whose CRC fails is
 * skipped as a whole (its claimed length consumed), as M and T do when they NAK (§1.4).
 */
export class PacketFramer {
  private readonly maxData: number;
  private readonly strict: boolean;
  private readonly identity: number;
  private buf: Buffer = Buffer.allocUnsafe(0);
  private len = 0;

  constructor(options: FramerOptions = {}) {
    const maxPacket = Math.min(
      MAX_PACKET_SIZE,
      Math.max(PACKET_OVERHEAD + 1, options.maxPacketSize ?? MAX_PACKET_SIZE),
    );
    this.maxData = maxPacket - PACKET_OVERHEAD;
    this.strict = options.strictHeader ?? true;
    this.identity = options.identity ?? 0;
  }

  /** Bytes held back as the start of a packet not yet complete. */
  get buffered(): number {
    return this.len;
  }

  /** Feed a chunk; returns everything it completed, in stream order. */
  push(chunk: Uint8Array): FramerEvent[] {
    const out: FramerEvent[] = [];
    if (chunk.length === 0) return out;
    if (this.len === 0) {
      // Fast path: parse straight from the caller's chunk, copy only a trailing partial packet.
      const stop = this.scan(chunk, 0, chunk.length, out);
      this.keep(chunk, stop, chunk.length);
      return out;
    }
    this.append(chunk);
    const stop = this.scan(this.buf, 0, this.len, out);
    this.compact(stop);
    return out;
  }

  /**
   * Inter-character timeout (§1.4, 500 ms on C12.18): the partial packet will never complete.
   * Its 0xEE is dropped and whatever follows it is rescanned (it may hold the start of a real
   * packet that arrived behind a false 0xEE).
   */
  expire(): FramerEvent[] {
    const out: FramerEvent[] = [];
    if (this.len === 0) return out;
    const held = Buffer.from(this.buf.subarray(0, this.len));
    this.len = 0;
    out.push({ kind: 'discarded', bytes: held.subarray(0, 1), reason: 'timeout' });
    if (held.length > 1) {
      const stop = this.scan(held, 1, held.length, out);
      this.keep(held, stop, held.length);
    }
    return out;
  }

  /** Drop anything buffered (session end, transport change). */
  reset(): void {
    this.len = 0;
  }

  /**
   * Parse src[start, end). Returns the index where an incomplete packet starts (== end when
   * nothing is pending). Garbage is reported in runs, not byte by byte.
   */
  private scan(src: Uint8Array, start: number, end: number, out: FramerEvent[]): number {
    let i = start;
    let garbageFrom = -1;
    while (i < end) {
      const b = src[i]!;
      if (b === STP) {
        const verdict = this.header(src, i, end);
        if (verdict === INCOMPLETE) {
          if (garbageFrom >= 0) out.push(discard(src, garbageFrom, i));
          return i;
        }
        if (verdict === INVALID) {
          if (garbageFrom < 0) garbageFrom = i;
          i++;
          continue;
        }
        const total = verdict + PACKET_OVERHEAD;
        if (end - i < total) {
          if (garbageFrom >= 0) out.push(discard(src, garbageFrom, i));
          return i;
        }
        if (garbageFrom >= 0) {
          out.push(discard(src, garbageFrom, i));
          garbageFrom = -1;
        }
        const crcAt = i + HEADER_LENGTH + verdict;
        const received = src[crcAt]! | (src[crcAt + 1]! << 8);
        const computed = crc16x25(src, i, crcAt);
        const raw = Buffer.from(src.subarray(i, i + total));
        if (received === computed) {
          out.push({
            kind: 'packet',
            packet: {
              identity: raw[1]!,
              ctrl: raw[2]!,
              seq: raw[3]!,
              data: raw.subarray(HEADER_LENGTH, HEADER_LENGTH + verdict),
              crc: received,
            },
            raw,
          });
        } else {
          out.push({ kind: 'corrupt', bytes: raw, crcReceived: received, crcComputed: computed });
        }
        i += total;
        continue;
      }
      if (b === ACK || b === NAK) {
        if (garbageFrom >= 0) {
          out.push(discard(src, garbageFrom, i));
          garbageFrom = -1;
        }
        out.push(b === ACK ? ACK_EVENT : NAK_EVENT);
        i++;
        continue;
      }
      if (garbageFrom < 0) garbageFrom = i;
      i++;
    }
    if (garbageFrom >= 0) out.push(discard(src, garbageFrom, end));
    return end;
  }

  /** Data length of the packet starting at src[i] (an 0xEE), or INCOMPLETE / INVALID. */
  private header(src: Uint8Array, i: number, end: number): number {
    const avail = end - i;
    if (this.strict) {
      if (avail > 1 && src[i + 1] !== this.identity) return INVALID;
      if (avail > 2 && (src[i + 2]! & CTRL_RESERVED) !== 0) return INVALID;
    }
    if (avail < HEADER_LENGTH) {
      // A partial length can already be impossible: its high byte alone exceeds the bound.
      if (avail === 5 && src[i + 4]! << 8 > this.maxData) return INVALID;
      return INCOMPLETE;
    }
    const length = (src[i + 4]! << 8) | src[i + 5]!;
    if (length === 0 || length > this.maxData) return INVALID;
    return length;
  }

  private append(chunk: Uint8Array): void {
    const need = this.len + chunk.length;
    if (need > this.buf.length) {
      const next = Buffer.allocUnsafe(Math.max(need, this.buf.length * 2, 256));
      this.buf.copy(next, 0, 0, this.len);
      this.buf = next;
    }
    this.buf.set(chunk, this.len);
    this.len = need;
  }

  private keep(src: Uint8Array, from: number, end: number): void {
    const n = end - from;
    this.len = 0;
    if (n <= 0) return;
    if (n > this.buf.length) this.buf = Buffer.allocUnsafe(Math.max(n, 256));
    this.buf.set(src.subarray(from, end), 0);
    this.len = n;
  }

  private compact(from: number): void {
    if (from >= this.len) {
      this.len = 0;
      return;
    }
    if (from > 0) this.buf.copyWithin(0, from, this.len);
    this.len -= from;
  }
}

const INCOMPLETE = -1;
const INVALID = -2;
const ACK_EVENT: FramerEvent = Object.freeze({ kind: 'ack' }) as FramerEvent;
const NAK_EVENT: FramerEvent = Object.freeze({ kind: 'nak' }) as FramerEvent;

function discard(src: Uint8Array, from: number, to: number): FramerEvent {
  return { kind: 'discarded', bytes: Buffer.from(src.subarray(from, to)), reason: 'garbage' };
}
