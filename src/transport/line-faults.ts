/**
 * Seeded faults for line emulation: bit flips at a bit error rate, lost characters, and the
 * random choice of inter-character gaps. Same seed, same faults, so a failing run can be
 * replayed exactly.
 */

/**
 * mulberry32: a 32-bit state PRNG, small, fast and well distributed for test purposes
 * (not cryptographic, and it need not be).
 */
export class Prng {
  private state: number;

  constructor(seed: number) {
    this.state = seed >>> 0;
  }

  /** Uniform in [0, 1). */
  next(): number {
    this.state = (this.state + 0x6d2b79f5) | 0;
    let t = Math.imul(this.state ^ (this.state >>> 15), 1 | this.state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
}

/**
 * Independent streams per purpose, so that enabling gaps does not change which bits flip and the
 * interleaving of received and sent chunks does not change either stream. The constants are
 * arbitrary odd 32-bit values (modelled).
 */
export const STREAM_TX = 0x00000000;
export const STREAM_RX = 0x9e3779b9;
export const STREAM_GAP = 0x85ebca6b;

export function streamPrng(seed: number, stream: number): Prng {
  return new Prng((seed ^ stream) >>> 0);
}

export interface FaultConfig {
  /** Bit error rate per data bit, 0..1. */
  noise: number;
  /** Probability that a character is lost, 0..1. */
  drop: number;
  /** Data bits per character (5..8): only these bits can flip; a flip in start, parity or stop
   * bits shows up on a real UART as a framing/parity error, which we model as a drop instead. */
  dataBits: number;
}

export interface FaultResult {
  bytes: Buffer;
  flipped: number;
  dropped: number;
}

/**
 * Apply drops and bit flips to a copy of `input` (never mutated). Draw order per character:
 * one draw for the drop (when drop > 0), then one per data bit (when noise > 0), so the PRNG
 * sequence depends only on the byte count and the config.
 */
export function applyFaults(input: Uint8Array, cfg: FaultConfig, prng: Prng): FaultResult {
  if (cfg.noise <= 0 && cfg.drop <= 0) return { bytes: Buffer.from(input), flipped: 0, dropped: 0 };
  const out = Buffer.allocUnsafe(input.length);
  let n = 0;
  let flipped = 0;
  let dropped = 0;
  const bits = Math.min(8, Math.max(0, cfg.dataBits));
  for (let i = 0; i < input.length; i++) {
    if (cfg.drop > 0 && prng.next() < cfg.drop) {
      dropped++;
      continue;
    }
    let b = input[i]!;
    if (cfg.noise > 0) {
      for (let bit = 0; bit < bits; bit++) {
        if (prng.next() < cfg.noise) {
          b ^= 1 << bit;
          flipped++;
        }
      }
    }
    out[n++] = b;
  }
  return { bytes: out.subarray(0, n), flipped, dropped };
}

/**
 * Idle time (ms) before each of `length` characters, or undefined when there are none.
 * With gapRate 1 every character gets the gap and no random draws are made.
 */
export function drawGaps(
  length: number,
  gapMs: number,
  gapRate: number,
  prng: Prng,
): Float64Array | undefined {
  if (gapMs <= 0 || gapRate <= 0 || length === 0) return undefined;
  const gaps = new Float64Array(length);
  for (let i = 0; i < length; i++) {
    if (gapRate >= 1 || prng.next() < gapRate) gaps[i] = gapMs;
  }
  return gaps;
}
