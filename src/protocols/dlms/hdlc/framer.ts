import { crc16x25 } from '../../../core/crc16';
import { HDLC_FLAG, HDLC_MAX_LENGTH, HDLC_MIN_LENGTH } from './frame';

/**
 * Chunk -> frame transformer for DLMS HDLC (docs/stack.md §4 "HDLC framing"). DLMS HDLC does
 * no byte stuffing, so 0x7E occurs unescaped inside frames and a delimiter split is wrong
 * (DelimiterParser produced 401,546 wrong fragments in the measurement). Instead, at each flag
 * the framer reads the 11-bit length from the format field, checks the type nibble 0xA, the
 * closing flag at the announced position and the FCS, and only then emits a frame. On any
 * mismatch it drops the opening flag (and the bytes up to the next flag) as `discarded` and
 * rescans from there, so garbage and truncated frames cost at most the bytes they occupy.
 * After a frame it stays on the closing flag, because adjacent frames may share one flag
 * (`…7E A0…`), and it skips runs of idle flags (`7E 7E`) silently.
 *
 * A truncated frame whose announced length runs past the bytes that follow would otherwise
 * wait for more input; `expire()` is the caller's inter-octet timeout: it gives the pending
 * frame up and rescans what is buffered.
 *
 * Hand-written over one growable buffer: no per-byte allocation, one copy per emitted frame.
 */
export type HdlcDiscardReason =
  'garbage' | 'bad-format' | 'bad-length' | 'no-closing-flag' | 'bad-fcs' | 'expired';

export type HdlcFramerOutput =
  | { readonly kind: 'frame'; readonly bytes: Buffer }
  | { readonly kind: 'discarded'; readonly bytes: Buffer; readonly reason: HdlcDiscardReason };

export class HdlcFramer {
  private buf: Buffer;
  private start = 0;
  private end = 0;
  /** buf[start] is the closing flag of a frame already emitted (it must not be reported again). */
  private onClosingFlag = false;

  constructor(initialCapacity = 4096) {
    this.buf = Buffer.allocUnsafe(Math.max(HDLC_MAX_LENGTH + 2, initialCapacity));
  }

  /** Bytes held while waiting for the rest of a frame. */
  get pending(): number {
    return this.end - this.start - (this.onClosingFlag && this.end > this.start ? 1 : 0);
  }

  push(chunk: Uint8Array): HdlcFramerOutput[] {
    this.append(chunk);
    const out: HdlcFramerOutput[] = [];
    this.scan(out);
    return out;
  }

  /**
   * The line went quiet: nothing buffered can still complete, so give up each partial frame
   * (as `expired`) and rescan what follows it. A lone flag is kept: it may open the next frame.
   */
  expire(): HdlcFramerOutput[] {
    const out: HdlcFramerOutput[] = [];
    while (this.end - this.start > 1) {
      this.resync(out, 'expired');
      this.scan(out);
    }
    this.compact();
    return out;
  }

  /** Drop everything buffered (e.g. on a line-speed change). */
  reset(): HdlcFramerOutput[] {
    const from = this.onClosingFlag ? this.start + 1 : this.start;
    const out: HdlcFramerOutput[] = from < this.end ? [this.discard(from, this.end, 'expired')] : [];
    this.start = this.end = 0;
    this.onClosingFlag = false;
    return out;
  }

  private append(chunk: Uint8Array): void {
    const need = this.end + chunk.length;
    if (need > this.buf.length) {
      const live = this.end - this.start;
      if (live + chunk.length <= this.buf.length) {
        this.buf.copyWithin(0, this.start, this.end);
      } else {
        let cap = this.buf.length * 2;
        while (cap < live + chunk.length) cap *= 2;
        const next = Buffer.allocUnsafe(cap);
        this.buf.copy(next, 0, this.start, this.end);
        this.buf = next;
      }
      this.start = 0;
      this.end = live;
    }
    this.buf.set(chunk, this.end);
    this.end += chunk.length;
  }

  private compact(): void {
    if (this.start === this.end) {
      this.start = this.end = 0;
      this.onClosingFlag = false;
    }
  }

  private nextFlag(from: number): number {
    if (from >= this.end) return this.end;
    const i = this.buf.indexOf(HDLC_FLAG, from);
    return i < 0 || i >= this.end ? this.end : i;
  }

  private discard(from: number, to: number, reason: HdlcDiscardReason): HdlcFramerOutput {
    return { kind: 'discarded', bytes: Buffer.from(this.buf.subarray(from, to)), reason };
  }

  /** Drop the flag at `start` and everything up to the next flag. */
  private resync(out: HdlcFramerOutput[], reason: HdlcDiscardReason): void {
    const p = this.start;
    const from = this.onClosingFlag ? p + 1 : p;
    const next = this.nextFlag(p + 1);
    if (next > from) out.push(this.discard(from, next, reason));
    this.start = next;
    this.onClosingFlag = false;
  }

  private scan(out: HdlcFramerOutput[]): void {
    const buf = this.buf;
    while (this.start < this.end) {
      const p = this.start;
      if (buf[p] !== HDLC_FLAG) {
        const next = this.nextFlag(p);
        out.push(this.discard(p, next, 'garbage'));
        this.start = next;
        this.onClosingFlag = false;
        continue;
      }
      if (this.end - p < 2) break;
      const b1 = buf[p + 1]!;
      if (b1 === HDLC_FLAG) {
        // Idle fill or a separate closing + opening flag pair: the first one carries nothing.
        this.start = p + 1;
        this.onClosingFlag = false;
        continue;
      }
      if ((b1 & 0xf0) !== 0xa0) {
        this.resync(out, this.onClosingFlag ? 'garbage' : 'bad-format');
        continue;
      }
      if (this.end - p < 3) break;
      const length = ((b1 & 0x07) << 8) | buf[p + 2]!;
      if (length < HDLC_MIN_LENGTH) {
        this.resync(out, 'bad-length');
        continue;
      }
      const total = length + 2;
      if (this.end - p < total) break;
      if (buf[p + total - 1] !== HDLC_FLAG) {
        this.resync(out, 'no-closing-flag');
        continue;
      }
      const fcsAt = p + total - 3;
      if (crc16x25(buf, p + 1, fcsAt) !== (buf[fcsAt]! | (buf[fcsAt + 1]! << 8))) {
        this.resync(out, 'bad-fcs');
        continue;
      }
      out.push({ kind: 'frame', bytes: Buffer.from(buf.subarray(p, p + total)) });
      this.start = p + total - 1;
      this.onClosingFlag = true;
    }
    this.compact();
  }
}
