/**
 * A bounded work pool for the sweep: at most `concurrency` items in flight, items started in
 * order, and an AbortSignal that stops new starts while letting the in-flight ones finish
 * (docs/sweep.md "Stopping and resuming"). Unlike Promise.all over a slice, a slow meter never
 * holds up the next batch: a worker takes the next item the moment it is free.
 *
 * The worker must not throw; the sweep turns every per-device failure into a recorded result.
 * If one does throw anyway, the pool stops starting work and rethrows after the others finish,
 * so no flow is left running behind the caller's back.
 */

export interface PoolStats {
  /** Items whose worker ran to completion. */
  completed: number;
  /** Items never started because the signal was aborted. */
  notStarted: number;
  /** The most items that were ever in flight at once. */
  maxInFlight: number;
}

export async function runPool<T>(
  items: readonly T[],
  concurrency: number,
  worker: (item: T, index: number) => Promise<void>,
  signal?: AbortSignal,
): Promise<PoolStats> {
  const limit = Math.max(1, Math.floor(concurrency));
  let next = 0;
  let inFlight = 0;
  let maxInFlight = 0;
  let completed = 0;
  let failure: { error: unknown } | undefined;

  const lane = async (): Promise<void> => {
    while (next < items.length && failure === undefined && !signal?.aborted) {
      const index = next++;
      inFlight++;
      if (inFlight > maxInFlight) maxInFlight = inFlight;
      try {
        await worker(items[index]!, index);
        completed++;
      } catch (e) {
        failure ??= { error: e };
      } finally {
        inFlight--;
      }
    }
  };

  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, lane));
  if (failure !== undefined) throw failure.error;
  return { completed, notStarted: items.length - next, maxInFlight };
}
