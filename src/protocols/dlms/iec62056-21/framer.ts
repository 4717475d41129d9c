import { SimError } from '../../../core/errors';
import { ACK, decodeIec21Message, ETX, LF, SOH, STX, type Iec21Message } from './messages';

/**
 * Chunk -> message transformer for the IEC 62056-21 sign-on (docs/dlms.md §1). It strips the
 * parity bit (the line is 7E1, so a UART delivers 7-bit characters; modelled for transports
 * that pass the raw octet), reports runs of NULs as `wake` (battery wake-up: P21 and ESPH send
 * NULs for ~2.2 s before the request), and cuts:
 *   '/' … CR LF                   request or identification (at most 64 characters)
 *   ACK V Z Y CR LF               option select
 *   STX/SOH … ETX BCC             readout or command (at most 4096 characters)
 * A start character inside an unfinished message restarts there (the first part is
 * discarded), so a stray '/' cannot swallow the real request. Complete messages that do not
 * decode (bad BCC, bad characters) are discarded with their error. `expire()` is the
 * inter-character timeout: whatever is pending is discarded.
 */
export type Iec21FramerOutput =
  | { readonly kind: 'message'; readonly message: Iec21Message; readonly bytes: Buffer }
  | { readonly kind: 'wake'; readonly count: number }
  | { readonly kind: 'discarded'; readonly bytes: Buffer; readonly error?: SimError };

const SLASH = 0x2f;
const MAX_LINE = 64;
const MAX_BLOCK = 4096;

const isStart = (b: number): boolean => b === SLASH || b === ACK || b === STX || b === SOH || b === 0;

export class Iec21Framer {
  private buf = Buffer.alloc(0);

  get pending(): number {
    return this.buf.length;
  }

  push(chunk: Uint8Array): Iec21FramerOutput[] {
    const masked = Buffer.allocUnsafe(chunk.length);
    for (let i = 0; i < chunk.length; i++) masked[i] = chunk[i]! & 0x7f;
    this.buf = this.buf.length ? Buffer.concat([this.buf, masked]) : masked;
    const out: Iec21FramerOutput[] = [];
    let p = 0;
    const b = this.buf;
    const discardTo = (to: number, error?: SimError): void => {
      out.push({ kind: 'discarded', bytes: Buffer.from(b.subarray(p, to)), ...(error ? { error } : {}) });
      p = to;
    };
    const emit = (to: number): void => {
      const bytes = Buffer.from(b.subarray(p, to));
      try {
        out.push({ kind: 'message', message: decodeIec21Message(bytes), bytes });
      } catch (e) {
        out.push({ kind: 'discarded', bytes, error: e as SimError });
      }
      p = to;
    };
    scan: while (p < b.length) {
      const c = b[p]!;
      if (c === 0) {
        let q = p;
        while (q < b.length && b[q] === 0) q++;
        out.push({ kind: 'wake', count: q - p });
        p = q;
        continue;
      }
      if (c === SLASH) {
        for (let q = p + 1; q < b.length && q - p < MAX_LINE; q++) {
          const d = b[q]!;
          if (d === LF) {
            emit(q + 1);
            continue scan;
          }
          if (isStart(d)) {
            discardTo(q);
            continue scan;
          }
        }
        if (b.length - p >= MAX_LINE) {
          discardTo(p + 1);
          continue;
        }
        break;
      }
      if (c === ACK) {
        // A start character within the next five shows this is no option select.
        for (let q = p + 1; q < b.length && q < p + 6; q++) {
          if (isStart(b[q]!)) {
            discardTo(q);
            continue scan;
          }
        }
        if (b.length - p < 6) break;
        if (b[p + 5] === LF) emit(p + 6);
        else discardTo(p + 1);
        continue;
      }
      if (c === STX || c === SOH) {
        for (let q = p + 1; q < b.length && q - p < MAX_BLOCK; q++) {
          const d = b[q]!;
          if (d === ETX) {
            if (q + 1 >= b.length) break scan; // the BCC is still to come
            emit(q + 2);
            continue scan;
          }
          if (d === SLASH || d === SOH || d === 0 || (d === STX && c === STX)) {
            discardTo(q);
            continue scan;
          }
        }
        if (b.length - p >= MAX_BLOCK) {
          discardTo(p + 1);
          continue;
        }
        break;
      }
      let q = p + 1;
      while (q < b.length && !isStart(b[q]!)) q++;
      discardTo(q);
    }
    this.buf = p >= b.length ? Buffer.alloc(0) : Buffer.from(b.subarray(p));
    return out;
  }

  /** The line went quiet: nothing pending can complete. */
  expire(): Iec21FramerOutput[] {
    if (this.buf.length === 0) return [];
    const bytes = this.buf;
    this.buf = Buffer.alloc(0);
    return [{ kind: 'discarded', bytes }];
  }
}
