/**
 * Retry with exponential back-off for transient faults only (timeouts, bsy, dropped link:
 * `isTransient` in src/core/errors.ts). Data faults are thrown at once: retrying a refused
 * write or a wrong password cannot help and may lock the meter out. Delays run on the
 * injectable Clock so tests drive them with a ManualClock.
 */

import type { Clock } from '../core/clock';
import { ErrorCode, SimError, isTransient } from '../core/errors';

export interface RetryPolicy {
  /** Total tries including the first (>= 1). */
  attempts: number;
  /** Delay before the first retry; doubled for each further retry. */
  baseDelayMs: number;
  /** Upper bound on any one delay. */
  maxDelayMs: number;
}

/** Modelled defaults: a sleepy battery GSME or a busy optical head recovers within seconds. */
export const DEFAULT_RETRY_POLICY: Readonly<RetryPolicy> = Object.freeze({
  attempts: 4,
  baseDelayMs: 500,
  maxDelayMs: 8000,
});

export function validateRetryPolicy(policy: RetryPolicy): RetryPolicy {
  const ok =
    Number.isInteger(policy.attempts) &&
    policy.attempts >= 1 &&
    Number.isFinite(policy.baseDelayMs) &&
    policy.baseDelayMs >= 0 &&
    Number.isFinite(policy.maxDelayMs) &&
    policy.maxDelayMs >= policy.baseDelayMs;
  if (!ok) {
    throw new SimError(
      ErrorCode.ConfigInvalid,
      `retry policy: attempts must be an integer >= 1 and 0 <= baseDelayMs <= maxDelayMs (got ${JSON.stringify(policy)})`,
      { policy },
    );
  }
  return policy;
}

/** Delay before retry number `retry` (1 = the first retry): base * 2^(retry-1), capped. */
export function backoffDelay(policy: RetryPolicy, retry: number): number {
  const exp = Math.min(retry - 1, 30);
  return Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** exp);
}

export interface RetryObserver {
  /** Called after a transient failure, before sleeping `delayMs`. `attempt` is the failed try. */
  onRetry?(error: SimError, attempt: number, delayMs: number): void | Promise<void>;
}

/**
 * Run `op` until it succeeds, a non-transient error is thrown, or `policy.attempts` tries have
 * failed transiently (the last error is rethrown).
 */
export async function withRetry<T>(
  op: (attempt: number) => Promise<T>,
  policy: RetryPolicy,
  clock: Clock,
  observer: RetryObserver = {},
): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await op(attempt);
    } catch (e) {
      if (!isTransient(e) || attempt >= policy.attempts) throw e;
      const delayMs = backoffDelay(policy, attempt);
      await observer.onRetry?.(e as SimError, attempt, delayMs);
      await clock.sleep(delayMs);
    }
  }
}
