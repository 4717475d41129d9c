import fc from 'fast-check';
import {
  applyFaults,
  drawGaps,
  Prng,
  streamPrng,
  STREAM_RX,
  STREAM_TX,
} from '../../src/transport/line-faults';
import { pattern } from './helpers';

function bitDiff(a: Buffer, b: Buffer): number {
  let n = 0;
  for (let i = 0; i < a.length; i++) {
    let x = a[i]! ^ b[i]!;
    while (x) {
      n += x & 1;
      x >>= 1;
    }
  }
  return n;
}

describe('Prng (mulberry32)', () => {
  it('is reproducible from its seed and differs between seeds', () => {
    const a = new Prng(7);
    const b = new Prng(7);
    const c = new Prng(8);
    const sa = Array.from({ length: 5 }, () => a.next());
    expect(Array.from({ length: 5 }, () => b.next())).toEqual(sa);
    expect(Array.from({ length: 5 }, () => c.next())).not.toEqual(sa);
    for (const v of sa) {
      expect(v).toBeGreaterThanOrEqual(0);
      expect(v).toBeLessThan(1);
    }
  });

  it('is roughly uniform (mean of 100,000 draws within 0.01 of 0.5)', () => {
    const p = new Prng(12345);
    let sum = 0;
    for (let i = 0; i < 100_000; i++) sum += p.next();
    expect(Math.abs(sum / 100_000 - 0.5)).toBeLessThan(0.01);
  });

  it('gives independent streams per direction', () => {
    expect(streamPrng(7, STREAM_TX).next()).not.toBe(streamPrng(7, STREAM_RX).next());
    expect(streamPrng(7, STREAM_TX).next()).toBe(new Prng(7).next());
  });
});

describe('applyFaults', () => {
  const data = pattern(40_000);

  it('flips data bits at the bit error rate, reproducibly, without touching the input', () => {
    const copy = Buffer.from(data);
    const r1 = applyFaults(data, { noise: 0.01, drop: 0, dataBits: 8 }, new Prng(7));
    const r2 = applyFaults(data, { noise: 0.01, drop: 0, dataBits: 8 }, new Prng(7));
    const r3 = applyFaults(data, { noise: 0.01, drop: 0, dataBits: 8 }, new Prng(8));
    expect(data.equals(copy)).toBe(true);
    expect(r1.bytes.equals(r2.bytes)).toBe(true);
    expect(r1.bytes.equals(r3.bytes)).toBe(false);
    expect(r1.bytes.length).toBe(data.length);
    expect(bitDiff(data, r1.bytes)).toBe(r1.flipped);
    // 320,000 bits at 1%: expect 3,200 flips, sd ≈ 56.
    expect(r1.flipped).toBeGreaterThan(2_900);
    expect(r1.flipped).toBeLessThan(3_500);
  });

  it('never flips bits above the data bits (7-bit characters keep bit 7)', () => {
    const r = applyFaults(Buffer.alloc(10_000, 0x00), { noise: 0.2, drop: 0, dataBits: 7 }, new Prng(3));
    expect(r.flipped).toBeGreaterThan(0);
    expect(r.bytes.every((b) => (b & 0x80) === 0)).toBe(true);
  });

  it('drops characters at the drop rate and keeps the others in order', () => {
    const input = Buffer.from(Array.from({ length: 10_000 }, (_, i) => i % 251));
    const r = applyFaults(input, { noise: 0, drop: 0.1, dataBits: 8 }, new Prng(99));
    expect(r.bytes.length).toBe(input.length - r.dropped);
    expect(r.dropped).toBeGreaterThan(850);
    expect(r.dropped).toBeLessThan(1150);
    // The survivors are a subsequence of the input.
    let j = 0;
    for (const b of r.bytes) {
      while (input[j] !== b) j++;
      j++;
    }
    expect(j).toBeLessThanOrEqual(input.length);
  });

  it('is the identity (a copy) when both rates are zero', () => {
    const r = applyFaults(data.subarray(0, 100), { noise: 0, drop: 0, dataBits: 8 }, new Prng(1));
    expect(r).toEqual({ bytes: data.subarray(0, 100), flipped: 0, dropped: 0 });
    expect(r.bytes.buffer).not.toBe(data.buffer);
  });

  it('property: any input and rates give a buffer no longer than the input and consistent counts', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ maxLength: 200 }),
        fc.double({ min: 0, max: 1, noNaN: true }),
        fc.double({ min: 0, max: 1, noNaN: true }),
        fc.integer({ min: 5, max: 8 }),
        fc.integer({ min: 0, max: 0xffffffff }),
        (input, noise, drop, dataBits, seed) => {
          const before = Buffer.from(input);
          const r = applyFaults(input, { noise, drop, dataBits }, new Prng(seed));
          expect(Buffer.from(input).equals(before)).toBe(true);
          expect(r.bytes.length + r.dropped).toBe(input.length);
          expect(r.flipped).toBeLessThanOrEqual(r.bytes.length * dataBits);
          const again = applyFaults(input, { noise, drop, dataBits }, new Prng(seed));
          expect(again.bytes.equals(r.bytes)).toBe(true);
        },
      ),
      { numRuns: 1000 },
    );
  });
});

describe('drawGaps', () => {
  it('puts the gap before every character at rate 1, before none at rate 0 or gap 0', () => {
    expect(Array.from(drawGaps(3, 5, 1, new Prng(1))!)).toEqual([5, 5, 5]);
    expect(drawGaps(3, 5, 0, new Prng(1))).toBeUndefined();
    expect(drawGaps(3, 0, 1, new Prng(1))).toBeUndefined();
  });

  it('draws gaps at the given rate, reproducibly', () => {
    const a = drawGaps(10_000, 2, 0.25, new Prng(5))!;
    const b = drawGaps(10_000, 2, 0.25, new Prng(5))!;
    expect(Array.from(a)).toEqual(Array.from(b));
    const n = a.filter((g) => g > 0).length;
    expect(n).toBeGreaterThan(2_300);
    expect(n).toBeLessThan(2_700);
  });
});
