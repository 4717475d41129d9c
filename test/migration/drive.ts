import type { ManualClock } from '../../src/core/clock';

/**
 * Run a promise that sleeps on a ManualClock: let continuations run, and whenever only timers
 * are left, advance the clock to the next one. No real time passes.
 */
export async function drive<T>(p: Promise<T>, clock: ManualClock): Promise<T> {
  let settled = false;
  p.then(
    () => (settled = true),
    () => (settled = true),
  );
  while (!settled) {
    await new Promise<void>((r) => setImmediate(r));
    if (!settled && clock.pending > 0) clock.advance(60_000);
  }
  return p;
}
