/**
 * Firmware-dependent behaviour of the device model. A firmware profile (src/profiles) turns
 * into one of these; the device itself knows nothing about profiles or protocols.
 */

/**
 * What the "clear payment card data" operation clears.
 * - 'card-and-site': Payment Card ID and Site ID together, as the Liberty 100 engineering UTRN
 *   "clear Site ID and Payment Card ID" reads (domain.md §4).
 * - 'card-only': the Payment Card ID only; the Site ID stays until a separate clearSiteId
 *   (a modelled firmware variant, used by the P4X2G05 profile).
 */
export type ClearingMode = 'card-and-site' | 'card-only';
export const CLEARING_MODES = ['card-and-site', 'card-only'] as const;

export interface DeviceBehaviour {
  clearing: {
    mode: ClearingMode;
    /** Refuse every clearing operation while the meter is still SMSO-managed (modelled variant). */
    requireMigrated: boolean;
  };
  /** Events kept per meter; the oldest are dropped beyond this. */
  eventLogBound: number;
  /** Consecutive bad secrets before lock-out, and its length in ms. */
  lockout: { maxFailures: number; lockoutMs: number };
  /** Vend "Account High" limit: £21,474.00 (domain.md §4, TRM p.35). */
  maxBalancePence: number;
  /** Vend "Account Low" limit: a deduct/set may not leave less than this (modelled: 0). */
  minBalancePence: number;
  paymentCard: {
    /** Require a Luhn check digit on Payment Card IDs (modelled). */
    luhn: boolean;
  };
  /** Access level names known to the firmware, in authentication order. */
  accessLevels: readonly string[];
}

export const MAX_BALANCE_PENCE = 2_147_400;

export const DEFAULT_BEHAVIOUR: DeviceBehaviour = {
  clearing: { mode: 'card-and-site', requireMigrated: false },
  eventLogBound: 100,
  // Five consecutive invalid UTRNs lock the keypad (domain.md §4); the same count is modelled
  // for passwords, and the lock-out length is modelled.
  lockout: { maxFailures: 5, lockoutMs: 15 * 60_000 },
  maxBalancePence: MAX_BALANCE_PENCE,
  minBalancePence: 0,
  paymentCard: { luhn: true },
  accessLevels: ['reader', 'privileged', 'engineering'],
};
