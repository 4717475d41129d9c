import { WRAPPER_HEADER_LENGTH, WRAPPER_VERSION, type WrapperFrame } from './header';

/**
 * Byte stream -> wrapper frames. TCP delivers an exact byte stream, so a header that is not
 * version 0x0001 means the peer does not speak the wrapper or the stream lost alignment.
 * RESYNC POLICY (ours; the standard prescribes none we could find): never throw and never
 * close; drop bytes up to the next `00 01` (a plausible version field) and try a header there,
 * reporting the dropped bytes as one `discarded` output. A header announcing more than
 * `maxApduLength` is treated the same way (its first octet is dropped). A false match inside
 * garbage is possible; it is either rejected by the same checks or waits for its announced
 * length, which `expire()` (the caller's idle timeout) gives up, rescanning what follows.
 */
export type WrapperDiscardReason = 'bad-version' | 'too-long' | 'expired';

export type WrapperFramerOutput =
  | { readonly kind: 'frame'; readonly frame: WrapperFrame }
  | { readonly kind: 'discarded'; readonly bytes: Buffer; readonly reason: WrapperDiscardReason };

export interface WrapperFramerOptions {
  /** Largest APDU accepted (the wrapper's own limit is 65535). */
  readonly maxApduLength?: number;
}

const EMPTY = Buffer.alloc(0);

export class WrapperFramer {
  private buf: Buffer = EMPTY;
  private readonly maxApdu: number;

  constructor(options: WrapperFramerOptions = {}) {
    this.maxApdu = Math.min(0xffff, options.maxApduLength ?? 0xffff);
  }

  get pending(): number {
    return this.buf.length;
  }

  push(chunk: Uint8Array): WrapperFramerOutput[] {
    // Scanned in place when nothing is buffered: frames and any remainder are copied out.
    this.buf = this.buf.length
      ? Buffer.concat([this.buf, chunk])
      : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    return this.scan(0);
  }

  /** The stream went idle: a pending partial frame will not complete; rescan past its start. */
  expire(): WrapperFramerOutput[] {
    const out: WrapperFramerOutput[] = [];
    while (this.buf.length > 0) {
      const next = this.nextVersion(1);
      out.push({ kind: 'discarded', bytes: Buffer.from(this.buf.subarray(0, next)), reason: 'expired' });
      this.buf = this.buf.subarray(next);
      out.push(...this.scan(0));
    }
    return out;
  }

  /** Offset of the next `00 01` at or after `from` (or where a lone trailing 00 starts). */
  private nextVersion(from: number): number {
    const b = this.buf;
    for (let i = from; i < b.length; i++) {
      if (b[i] === 0x00 && (i + 1 === b.length || b[i + 1] === 0x01)) return i;
    }
    return b.length;
  }

  private scan(start: number): WrapperFramerOutput[] {
    const out: WrapperFramerOutput[] = [];
    let p = start;
    const b = this.buf;
    while (b.length - p >= 2) {
      if (b.readUInt16BE(p) !== WRAPPER_VERSION) {
        const next = this.nextVersion(p + 1);
        out.push({ kind: 'discarded', bytes: Buffer.from(b.subarray(p, next)), reason: 'bad-version' });
        p = next;
        continue;
      }
      if (b.length - p < WRAPPER_HEADER_LENGTH) break;
      const length = b.readUInt16BE(p + 6);
      if (length > this.maxApdu) {
        const next = this.nextVersion(p + 1);
        out.push({ kind: 'discarded', bytes: Buffer.from(b.subarray(p, next)), reason: 'too-long' });
        p = next;
        continue;
      }
      const end = p + WRAPPER_HEADER_LENGTH + length;
      if (b.length < end) break;
      out.push({
        kind: 'frame',
        frame: {
          source: b.readUInt16BE(p + 2),
          dest: b.readUInt16BE(p + 4),
          apdu: Buffer.from(b.subarray(p + WRAPPER_HEADER_LENGTH, end)),
        },
      });
      p = end;
    }
    // A single non-zero byte can never start a header.
    if (b.length - p === 1 && b[p] !== 0x00) {
      out.push({ kind: 'discarded', bytes: Buffer.from(b.subarray(p)), reason: 'bad-version' });
      p = b.length;
    }
    this.buf = p >= b.length ? EMPTY : Buffer.from(b.subarray(p));
    return out;
  }
}
