/**
 * Mode E sign-on timing taken from hardware presets (hardware/presets/*.yaml,
 * src/profiles/dlms-binding-client.ts): the reaction time before the option select, and the
 * battery wake-up NUL train and pause. Time is a ManualClock, so the waits are exact.
 */
import { ManualClock } from '../../../../src/core/clock';
import { wakeUpPlan } from '../../../../src/profiles/dlms-binding-client';
import { encodeIec21Message } from '../../../../src/protocols/dlms/iec62056-21';
import { signOnModeE } from '../../../../src/protocols/dlms/link';
import { createMemPair } from '../../../../src/transport/mem';
import { drive } from './helpers';

/** A meter that answers `/?!` with an identification and notes when each thing happened. */
function fakeMeter(clock: ManualClock) {
  const [a, b] = createMemPair();
  const seen = { identAt: -1, ackAt: -1, nuls: 0, requestAt: -1 };
  b.on('data', (d) => {
    for (const byte of d) if (byte === 0) seen.nuls++;
    if (d.includes(0x2f) && seen.requestAt < 0) {
      seen.requestAt = clock.monotonic();
      void b
        .write(
          encodeIec21Message({
            type: 'identification',
            manufacturer: 'APA',
            baudChar: '5',
            enhanced: '2',
            ident: 'NORAX30',
          }),
        )
        .then(() => (seen.identAt = clock.monotonic()));
    }
    if (d[0] === 0x06 && seen.ackAt < 0) seen.ackAt = clock.monotonic();
  });
  return { client: a, seen };
}

describe('mode E sign-on with preset timing', () => {
  it('waits the reaction time between the identification and the option select', async () => {
    for (const reactionMs of [0, 200]) {
      const clock = new ManualClock();
      const { client, seen } = fakeMeter(clock);
      await drive(clock, signOnModeE(client, { clock, reactionMs, switchDelayMs: 10 }));
      expect(seen.ackAt).toBeGreaterThanOrEqual(0);
      const gap = seen.ackAt - seen.identAt;
      if (reactionMs === 0) expect(gap).toBeLessThan(200);
      else expect(gap).toBeGreaterThanOrEqual(reactionMs);
    }
  });

  it("sends the preset's NUL train and pause before the request", async () => {
    const clock = new ManualClock();
    const { client, seen } = fakeMeter(clock);
    const plan = wakeUpPlan(63, { nulMs: 2200, pauseMs: 1600 });
    const t0 = clock.monotonic();
    await drive(clock, signOnModeE(client, { clock, wakeUp: plan, switchDelayMs: 10 }));
    expect(seen.nuls).toBe(plan.nuls);
    expect(seen.requestAt - t0).toBeGreaterThanOrEqual(1600);
  });
});

describe('wakeUpPlan', () => {
  it("sends a third more NULs than the meter's threshold without a preset", () => {
    expect(wakeUpPlan(63)).toEqual({ nuls: 84 });
    expect(wakeUpPlan(undefined)).toEqual({ nuls: 84 });
  });

  it("with a preset: at least the preset's train at 300 Bd (30 characters a second), and its pause", () => {
    expect(wakeUpPlan(63, { nulMs: 2200, pauseMs: 1600 })).toEqual({ nuls: 84, pauseMs: 1600 });
    expect(wakeUpPlan(30, { nulMs: 2200, pauseMs: 1500 })).toEqual({ nuls: 66, pauseMs: 1500 });
  });
});
