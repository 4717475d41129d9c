import { toHex } from '../../../core/bytes';
import { ErrorCode, SimError } from '../../../core/errors';
import { MAX_INVOCATION_COUNTER } from './security-control';

/**
 * Invocation counters (IC) and replay protection. Each sender counts per key: the first IC it
 * uses is 1, every message takes a strictly greater one, and the receiver accepts an IC only if
 * it is strictly greater than the last one it accepted from that sender under that key. The
 * counters must survive restarts; this module never stores them itself but goes through the
 * caller's callbacks (the device storage persists them before a reply is acknowledged).
 */

/** Which key an IC belongs to: the key family picked by the APDU tag and SC broadcast bit. */
export type KeyUsage = 'global-unicast' | 'global-broadcast' | 'dedicated';

export interface CounterScope {
  /** The sender's system title. */
  readonly systemTitle: Uint8Array;
  readonly key: KeyUsage;
}

/** Receiver side: the last accepted IC per sender and key. */
export interface InvocationCounterStore {
  /** The highest IC accepted so far in this scope; undefined when none was (the next must be >= 1). */
  getLastIc(scope: CounterScope): number | undefined;
  /** Record an accepted IC. Called only after the APDU passed every check. */
  setLastIc(scope: CounterScope, ic: number): void;
  /**
   * Make every recorded IC durable. A store may hold records back so that they travel with the
   * next commit (e.g. the server's own counter for the answer); the server calls this before
   * any answer leaves, so no answer is sent for a request whose IC could be forgotten.
   */
  flush?(): void;
}

/** One scope's counter, as HLS-GMAC verification and senders use it. */
export interface InvocationCounterGuard {
  getLastIc(): number | undefined;
  setLastIc(ic: number): void;
}

export function scopedCounter(store: InvocationCounterStore, scope: CounterScope): InvocationCounterGuard {
  return {
    getLastIc: () => store.getLastIc(scope),
    setLastIc: (ic) => store.setLastIc(scope, ic),
  };
}

/** Throws SessionReplay unless `ic` is strictly greater than `last` (undefined counts as 0). */
export function checkIcFresh(ic: number, last: number | undefined, what = 'APDU'): void {
  const floor = last ?? 0;
  if (!(ic > floor)) {
    throw new SimError(
      ErrorCode.SessionReplay,
      `${what}: invocation counter ${ic} is not greater than the last accepted ${floor}`,
      { ic, lastIc: floor },
    );
  }
}

/** The IC a sender uses next: 1 first, then last + 1; the 2^32-1 ceiling means the key must change. */
export function nextInvocationCounter(last: number | undefined): number {
  const floor = last ?? 0;
  if (floor >= MAX_INVOCATION_COUNTER) {
    throw new SimError(
      ErrorCode.SessionCipherFailed,
      'invocation counter exhausted: the key must be changed',
      {
        reason: 'ic-exhausted',
        lastIc: floor,
      },
    );
  }
  return floor + 1;
}

/** Sender side: allocate the next IC and record it before the APDU leaves, so a crash never reuses one. */
export function takeNextIc(counter: InvocationCounterGuard): number {
  const ic = nextInvocationCounter(counter.getLastIc());
  counter.setLastIc(ic);
  return ic;
}

/** An in-memory store, for tests and short-lived clients; simulators persist through device storage. */
export class MemoryInvocationCounters implements InvocationCounterStore {
  private readonly last = new Map<string, number>();

  private static keyOf(scope: CounterScope): string {
    return `${toHex(scope.systemTitle)}/${scope.key}`;
  }

  getLastIc(scope: CounterScope): number | undefined {
    return this.last.get(MemoryInvocationCounters.keyOf(scope));
  }

  setLastIc(scope: CounterScope, ic: number): void {
    this.last.set(MemoryInvocationCounters.keyOf(scope), ic);
  }

  /** A snapshot of every scope, e.g. for persisting; keys are `<systemTitle hex>/<usage>`. */
  entries(): Array<[string, number]> {
    return [...this.last.entries()];
  }
}
