/**
 * Shared set-up for the link tests: links over a mem pair on a ManualClock, where the test moves
 * time and lets the pair's setImmediate deliveries land.
 */
import type { ManualClock } from '../../../../src/core/clock';
import type { MemTransport } from '../../../../src/transport/mem';

/** Advance the manual clock in small steps, letting the mem pair deliver, until `p` settles. */
export async function drive<T>(clock: ManualClock, p: Promise<T>, stepMs = 5, maxSteps = 20_000): Promise<T> {
  let settled = false;
  p.then(
    () => (settled = true),
    () => (settled = true),
  );
  for (let i = 0; i < maxSteps && !settled; i++) await clock.advanceAsync(stepMs);
  if (!settled) throw new Error('promise did not settle');
  return p;
}

/** Let in-flight mem deliveries (setImmediate) land without moving time. */
export async function settle(rounds = 20): Promise<void> {
  for (let i = 0; i < rounds; i++) await new Promise<void>((r) => setImmediate(r));
}

/** Count frames written on a transport. */
export function recordWrites(t: MemTransport): Buffer[] {
  const seen: Buffer[] = [];
  const orig = t.write.bind(t);
  t.write = (data: Uint8Array) => {
    seen.push(Buffer.from(data));
    return orig(data);
  };
  return seen;
}
