/**
 * What one migration flow run ended with. The CLI maps these to exit codes; the farm sweep
 * counts them. Documented in docs/migration.md "Outcomes".
 */

export const FLOW_OUTCOMES = [
  'verified',
  'cleared',
  'migrated',
  'passed',
  'blocked',
  'cannot-evaluate',
  'already-migrated',
  'communication-failure',
  'failed',
] as const;
export type FlowOutcome = (typeof FLOW_OUTCOMES)[number];

export interface OutcomeInfo {
  /** The run did what was asked of it. */
  success: boolean;
  /**
   * Re-running with the same journal returns this result without touching the meter. The
   * others resume: an early stop (`stopAfter`) continues, a fault retries the step it stopped at.
   */
  terminal: boolean;
  description: string;
}

export const OUTCOME_INFO: Readonly<Record<FlowOutcome, OutcomeInfo>> = Object.freeze({
  verified: {
    success: true,
    terminal: true,
    description: 'migrated, card data and Site ID cleared, and all read back as expected',
  },
  cleared: {
    success: true,
    terminal: false,
    description: 'migrated and cleared; stopped before verification (stopAfter)',
  },
  migrated: { success: true, terminal: false, description: 'migrated; stopped before clearing (stopAfter)' },
  passed: {
    success: true,
    terminal: false,
    description: 'every blocking check passed; stopped before migrating (stopAfter)',
  },
  blocked: {
    success: false,
    terminal: true,
    description: 'a blocking check failed; stopped after evaluation',
  },
  'cannot-evaluate': {
    success: false,
    terminal: true,
    description: 'data needed by a blocking check was missing or unreadable; stopped after evaluation',
  },
  'already-migrated': {
    success: false,
    terminal: true,
    description: 'the meter was already migrated before this flow began; nothing was changed',
  },
  'communication-failure': {
    success: false,
    terminal: false,
    description: 'transient faults (timeouts, busy, dropped link) outlasted the retry policy',
  },
  failed: {
    success: false,
    terminal: false,
    description:
      'a data fault: an operation was refused, the meter changed identity or state, or verification failed',
  },
});

export function isFlowOutcome(v: unknown): v is FlowOutcome {
  return typeof v === 'string' && (FLOW_OUTCOMES as readonly string[]).includes(v);
}
