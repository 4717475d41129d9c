/**
 * Optical heads echo what they send (docs/dlms.md §1 "Optical heads echo"; Gurux discards a
 * reply equal to its request; u9n#62 shows a client choking on its own echoed SNRM). The
 * canceller remembers what we wrote and strips it from the start of what comes back. Bytes
 * that match are held back until the whole block we sent has come back; the first byte that
 * differs ends the expectation and releases what was held (the line has no echo, and the
 * reply merely began like our request: `/?!` and `/APA…` share the '/'), so a line without
 * echo loses nothing.
 */
export class EchoCanceller {
  private expected: Buffer[] = [];
  private offset = 0;
  private held: number[] = [];

  /** Bytes still expected back. */
  get pending(): number {
    return this.expected.reduce((n, b) => n + b.length, 0) - this.offset;
  }

  /** Record bytes just written. */
  sent(data: Uint8Array): void {
    if (data.length) this.expected.push(Buffer.from(data));
  }

  /** Forget the expectation; returns the bytes held back so far (they were not an echo). */
  clear(): Buffer {
    const out = Buffer.from(this.held);
    this.expected = [];
    this.offset = 0;
    this.held = [];
    return out;
  }

  /**
   * Strip the expected echo from the start of `chunk`; returns what is left (the chunk itself
   * when nothing is expected, so the common no-echo case allocates nothing). `mask` compares
   * only the low 7 bits, for 7E1 lines whose parity bit may come back either way.
   */
  filter(chunk: Buffer, mask = 0xff): Buffer {
    let i = 0;
    while (i < chunk.length && this.expected.length) {
      const head = this.expected[0]!;
      if ((head[this.offset]! & mask) !== (chunk[i]! & mask)) {
        const released = this.clear();
        return released.length ? Buffer.concat([released, chunk.subarray(i)]) : chunk.subarray(i);
      }
      this.held.push(chunk[i]!);
      i++;
      if (++this.offset === head.length) {
        this.expected.shift();
        this.offset = 0;
        this.held = [];
      }
    }
    return i === 0 ? chunk : chunk.subarray(i);
  }
}
