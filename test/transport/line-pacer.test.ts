import { charsPerSecond, msPerChar, planTransmission } from '../../src/transport/line-pacer';
import { DEFAULT_LINE, type LineSettings } from '../../src/transport/types';

const s = (
  baudRate: number,
  dataBits: LineSettings['dataBits'] = 8,
  parity: LineSettings['parity'] = 'none',
  stopBits: LineSettings['stopBits'] = 1,
): LineSettings => ({
  baudRate,
  dataBits,
  parity,
  stopBits,
});

describe('character timing (docs/stack.md §3)', () => {
  it.each([
    // settings,            chars/s, ms per char
    [s(9600), 960, 1000 / 960], // 8N1: 10 bits
    [s(300, 7, 'even'), 30, 1000 / 30], // IEC 62056-21 sign-on, 7E1: 10 bits
    [s(115200), 11520, 1000 / 11520],
    [s(9600, 8, 'even'), 9600 / 11, 11000 / 9600], // 8E1: 11 bits
    [s(1200, 8, 'none', 2), 1200 / 11, 11000 / 1200], // 8N2
    [s(2400, 7, 'odd', 1.5), 2400 / 10.5, 10500 / 2400], // 7O1.5
  ])('%j -> %d chars/s', (settings, cps, mpc) => {
    expect(charsPerSecond(settings)).toBeCloseTo(cps, 9);
    expect(msPerChar(settings)).toBeCloseTo(mpc, 9);
  });
});

describe('planTransmission', () => {
  it('cuts 9600 8N1 output into 4-character slices due when their last stop bit ends', () => {
    const mpc = msPerChar(DEFAULT_LINE); // 1.0417 ms
    const plan = planTransmission({ length: 10, startAt: 100, msPerChar: mpc });
    expect(plan.slices.map((x) => [x.start, x.end])).toEqual([
      [0, 4],
      [4, 8],
      [8, 10],
    ]);
    expect(plan.slices.map((x) => x.at)).toEqual([100 + 4 * mpc, 100 + 8 * mpc, 100 + 10 * mpc]);
    expect(plan.endAt).toBe(100 + 10 * mpc);
  });

  it('sends one character per slice when a character is longer than the tick (300 baud)', () => {
    const plan = planTransmission({ length: 3, startAt: 0, msPerChar: 1000 / 30 });
    expect(plan.slices).toEqual([
      { start: 0, end: 1, at: 1000 / 30 },
      { start: 1, end: 2, at: 2000 / 30 },
      { start: 2, end: 3, at: 3000 / 30 },
    ]);
  });

  it('sends everything at once when unpaced', () => {
    expect(planTransmission({ length: 500, startAt: 7, msPerChar: 0 })).toEqual({
      slices: [{ start: 0, end: 500, at: 7 }],
      endAt: 7,
    });
  });

  it('starts a new slice at every gap and shifts everything after it', () => {
    const gaps = Float64Array.from([0, 0, 20, 0, 0, 0, 5, 0]);
    const plan = planTransmission({ length: 8, startAt: 0, msPerChar: 1, tickMs: 3 });
    expect(plan.slices.map((x) => [x.start, x.end])).toEqual([
      [0, 3],
      [3, 6],
      [6, 8],
    ]);
    const gapped = planTransmission({ length: 8, startAt: 0, msPerChar: 1, tickMs: 3, gaps });
    expect(gapped.slices).toEqual([
      { start: 0, end: 2, at: 2 },
      { start: 2, end: 5, at: 20 + 5 },
      { start: 5, end: 6, at: 20 + 6 },
      { start: 6, end: 8, at: 25 + 8 },
    ]);
    expect(gapped.endAt).toBe(33);
  });

  it('covers every byte exactly once, in order, with non-decreasing deadlines', () => {
    for (const length of [0, 1, 2, 5, 97, 1000]) {
      for (const mpc of [0, 0.05, 1, 40]) {
        const plan = planTransmission({ length, startAt: 3, msPerChar: mpc });
        let next = 0;
        let last = -Infinity;
        for (const x of plan.slices) {
          expect(x.start).toBe(next);
          expect(x.end).toBeGreaterThan(x.start);
          expect(x.at).toBeGreaterThanOrEqual(last);
          next = x.end;
          last = x.at;
        }
        expect(next).toBe(length);
        expect(plan.endAt).toBeCloseTo(3 + length * mpc, 9);
      }
    }
  });
});
