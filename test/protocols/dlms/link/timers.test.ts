/**
 * NamedTimers (src/protocols/dlms/link/timers.ts) re-arm lazily: start() and stop() record a
 * deadline, one clock timer per name stays armed and re-arms itself when it fires early. These
 * tests pin what the links rely on — a timer fires exactly at the deadline of its last start(),
 * never after a stop(), earlier deadlines take effect at once — and that restarting does not
 * pile up clock timers (the point of the change: HDLC restarts two timers per frame).
 */
import { ManualClock } from '../../../../src/core/clock';
import { NamedTimers } from '../../../../src/protocols/dlms/link/timers';

function rig() {
  const clock = new ManualClock();
  const fired: Array<{ timer: string; at: number }> = [];
  const timers = new NamedTimers<'a' | 'b'>(clock, (timer) => fired.push({ timer, at: clock.monotonic() }));
  return { clock, fired, timers };
}

describe('NamedTimers (lazy re-arming)', () => {
  it('fires once, at the deadline of the last start; restarts reuse the one clock timer', () => {
    const { clock, fired, timers } = rig();
    let armed = 0;
    const setTimeout = clock.setTimeout.bind(clock);
    clock.setTimeout = (fn, ms) => {
      armed++;
      return setTimeout(fn, ms);
    };
    timers.start('a', 1_000);
    for (let t = 0; t < 10; t++) {
      clock.advance(100);
      timers.start('a', 1_000); // a frame every 100 ms restarts the inactivity timer
      expect(clock.pending).toBe(1);
    }
    // Ten restarts; the one clock timer fired at 1000, found the deadline moved and re-armed once.
    expect(armed).toBe(2);
    // Last restart at t = 1000: due at 2000, not at 1000 when the first clock timer fires.
    clock.advance(999);
    expect(fired).toEqual([]);
    expect(timers.running('a')).toBe(true);
    clock.advance(1);
    expect(fired).toEqual([{ timer: 'a', at: 2_000 }]);
    // 11 starts, 3 clock timers (due 1000, 1900, 2000); a clear-and-set per start would be 11.
    expect(armed).toBe(3);
    expect(timers.running('a')).toBe(false);
    clock.advance(10_000);
    expect(fired).toHaveLength(1);
    expect(clock.pending).toBe(0);
  });

  it('never fires after stop(); a later start() counts from then', () => {
    const { clock, fired, timers } = rig();
    timers.start('a', 500);
    clock.advance(200);
    timers.stop('a');
    expect(timers.running('a')).toBe(false);
    clock.advance(1_000);
    expect(fired).toEqual([]);
    timers.start('a', 500);
    clock.advance(499);
    expect(fired).toEqual([]);
    clock.advance(1);
    expect(fired).toEqual([{ timer: 'a', at: 1_700 }]);
  });

  it('a deadline earlier than the armed one re-arms at once', () => {
    const { clock, fired, timers } = rig();
    timers.start('a', 10_000);
    timers.start('a', 50);
    expect(clock.pending).toBe(1);
    clock.advance(50);
    expect(fired).toEqual([{ timer: 'a', at: 50 }]);
  });

  it('keeps names apart, and stopAll() releases every clock timer', () => {
    const { clock, fired, timers } = rig();
    timers.start('a', 200);
    timers.start('b', 300);
    clock.advance(100);
    timers.stop('a');
    timers.start('a', 100); // due at 200, on the clock timer already armed for 200
    expect(clock.pending).toBe(2);
    timers.stopAll();
    expect(clock.pending).toBe(0);
    expect(timers.running('a') || timers.running('b')).toBe(false);
    clock.advance(1_000);
    expect(fired).toEqual([]);
    timers.start('b', 10);
    clock.advance(10);
    expect(fired).toEqual([{ timer: 'b', at: 1_110 }]);
  });

  it('a timer started from its own callback runs again', () => {
    const clock = new ManualClock();
    const at: number[] = [];
    const timers: NamedTimers<'poll'> = new NamedTimers(clock, () => {
      at.push(clock.monotonic());
      if (at.length < 3) timers.start('poll', 100);
    });
    timers.start('poll', 100);
    clock.advance(1_000);
    expect(at).toEqual([100, 200, 300]);
  });
});
