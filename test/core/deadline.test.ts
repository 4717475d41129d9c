/**
 * Deadline (src/core/deadline.ts): one clock timer per owner, firing exactly when the
 * latest deadline passes, as clear-and-set per arm would.
 */
import { ManualClock } from '../../src/core/clock';
import { Deadline } from '../../src/core/deadline';

function setup(): { clock: ManualClock; fired: number[]; d: Deadline } {
  const clock = new ManualClock();
  const fired: number[] = [];
  const d = new Deadline(clock, () => fired.push(clock.monotonic()));
  return { clock, fired, d };
}

describe('Deadline', () => {
  it('fires once when the deadline passes', () => {
    const { clock, fired, d } = setup();
    const t0 = clock.monotonic();
    d.arm(2000);
    expect(d.armed).toBe(true);
    clock.advance(1999);
    expect(fired).toEqual([]);
    clock.advance(1);
    expect(fired).toEqual([t0 + 2000]);
    expect(d.armed).toBe(false);
    clock.advance(10_000);
    expect(fired).toHaveLength(1);
  });

  it('re-arming moves the deadline without adding clock timers', () => {
    const { clock, fired, d } = setup();
    const t0 = clock.monotonic();
    d.arm(2000);
    clock.advance(500);
    d.arm(2000); // deadline t0 + 2500
    clock.advance(500);
    d.arm(2000); // deadline t0 + 3000
    expect(clock.pending).toBe(1);
    clock.advance(1999);
    expect(fired).toEqual([]);
    clock.advance(1);
    expect(fired).toEqual([t0 + 3000]);
  });

  it('an earlier deadline than the pending timer replaces it', () => {
    const { clock, fired, d } = setup();
    const t0 = clock.monotonic();
    d.arm(6000);
    d.arm(100);
    expect(clock.pending).toBe(1);
    clock.advance(100);
    expect(fired).toEqual([t0 + 100]);
    clock.advance(10_000);
    expect(fired).toHaveLength(1);
  });

  it('stop() forgets the deadline (the idle timer expires without firing); arm() after it works', () => {
    const { clock, fired, d } = setup();
    d.arm(2000);
    clock.advance(100);
    d.stop();
    expect(d.armed).toBe(false);
    clock.advance(5000);
    expect(fired).toEqual([]);
    expect(clock.pending).toBe(0);
    const t1 = clock.monotonic();
    d.arm(2000);
    clock.advance(2000);
    expect(fired).toEqual([t1 + 2000]);
  });

  it('stop() then arm() before the old timer expires fires at the new deadline only', () => {
    const { clock, fired, d } = setup();
    const t0 = clock.monotonic();
    d.arm(2000);
    clock.advance(1000);
    d.stop();
    d.arm(2000); // t0 + 3000
    clock.advance(1000); // the old timer comes due, finds the later deadline, re-arms
    expect(fired).toEqual([]);
    clock.advance(1000);
    expect(fired).toEqual([t0 + 3000]);
  });

  it('cancel() clears the clock timer', () => {
    const { clock, fired, d } = setup();
    d.arm(2000);
    d.cancel();
    expect(clock.pending).toBe(0);
    clock.advance(5000);
    expect(fired).toEqual([]);
  });
});
