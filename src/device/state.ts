/**
 * The meter's state: plain, JSON-serialisable data with a record version (`v`). This is what
 * storage persists; operations (operations.ts) are pure functions from one state to the next.
 *
 * Amounts are integer pence; times are ms since the Unix epoch in device time (the
 * injectable Clock plus the meter's clock offset) unless a field says otherwise.
 */

export const METER_STATE_VERSION = 1 as const;

export const DEVICE_TYPES = ['ESME', 'GSME'] as const;
export type DeviceType = (typeof DEVICE_TYPES)[number];

export const PAYMENT_MODES = ['credit', 'prepayment'] as const;
export type PaymentMode = (typeof PAYMENT_MODES)[number];

/**
 * Where a UTRN came from: WAN, the IHD over the HAN, or the keypad (domain.md §4, fact);
 * 'local' = the optical port, modelled for the simulator's own tooling.
 */
export const VEND_SOURCES = ['wan', 'han', 'keypad', 'local'] as const;
export type VendSource = (typeof VEND_SOURCES)[number];

/** A Vend UTRN adds, deducts or sets the balance absolutely (domain.md §4, TRM p.35). */
export const VEND_MODES = ['add', 'deduct', 'set'] as const;
export type VendMode = (typeof VEND_MODES)[number];

export const MIGRATION_STATES = ['smso-managed', 'migrated'] as const;
export type MigrationStateName = (typeof MIGRATION_STATES)[number];

export interface MeterIdentity {
  manufacturer: string;
  model: string;
  deviceType: DeviceType;
  serial: string;
  /** CLEM application firmware, e.g. "P4X2G04" (domain.md §2). */
  applicationFirmwareId: string;
  /** Metrology firmware, e.g. "B2-00" (domain.md §2). */
  metrologyFirmwareId: string;
  /** EUI-64, canonical upper-case hyphenated form. */
  deviceId: string;
}

export interface Registration {
  /** ESME only (null on a GSME). */
  mpanCore: string | null;
  /** GSME only (null on an ESME). */
  mprn: string | null;
  /** The supplier the meter is registered to (MPID). */
  supplierId: string;
  /** Site ID stored with the card record; invariant: null only if `card` is null. */
  siteId: string | null;
}

export interface EmergencyCredit {
  limit: number;
  threshold: number;
  active: boolean;
  used: number;
}

export interface TimeBasedDebt {
  ratePencePerDay: number;
  outstandingPence: number;
}

/** Debt registers (domain.md §4, TRM p.32/p.76–77). */
export interface DebtRegisters {
  /** Whole-percent share of each top-up taken towards debt, 0–100. */
  paymentBasedPercent: number;
  paymentBasedOutstandingPence: number;
  /** Up to two registers recovered per day. */
  timeBased: TimeBasedDebt[];
  /** Total debt recovered so far (modelled meaning of "accumulated debt register"). */
  accumulatedPence: number;
}

export interface Vend {
  at: number;
  amountPence: number;
  mode: VendMode;
  source: VendSource;
  utrnRef: string;
}

export interface Prepayment {
  paymentMode: PaymentMode;
  /** Main account balance, pence. */
  balance: number;
  emergencyCredit: EmergencyCredit;
  debt: DebtRegisters;
  lowCreditThreshold: number;
  /** Newest first, at most 5 (domain.md §4: "the meter keeps the last 5 vends"). */
  lastVends: Vend[];
  utrnCounters: { accepted: number; rejected: number };
}

export interface CardRecord {
  /** 19 digits (domain.md §4). */
  paymentCardId: string;
  /** Supplier that owns the card's number range. */
  issuerSupplierId: string;
  registeredAt: number;
}

export interface MigrationState {
  state: MigrationStateName;
  at: number | null;
  by: string | null;
}

export interface SecurityState {
  /** Secret per access level name, lower-case hex of the raw bytes (no padding). */
  secrets: Record<string, string>;
  /** Consecutive failures (drive lock-out) and lifetime total. */
  failures: { consecutive: number; total: number };
  /** Lock-out end in time-source ms (not device time: a clock change must not lift it). */
  lockedUntil: number | null;
  /** Monotonic counters (e.g. DLMS invocation counters); never reused after a crash. */
  invocationCounters: Record<string, number>;
}

export interface MeterState {
  v: typeof METER_STATE_VERSION;
  id: string;
  profileId: string;
  /** Incremented by every committed operation; storage refuses a stale rev. */
  rev: number;
  identity: MeterIdentity;
  registration: Registration;
  prepayment: Prepayment;
  card: CardRecord | null;
  migration: MigrationState;
  security: SecurityState;
  clock: { offsetMs: number };
  /** Sequence number of the last event appended (0 = none yet). */
  eventSeq: number;
}

export const METER_EVENT_TYPES = [
  'meter-created',
  'card-registered',
  'card-cleared',
  'card-id-cleared',
  'site-id-cleared',
  'site-id-set',
  'migrated',
  'bad-password',
  'locked-out',
  'failures-reset',
  'vend',
  'utrn-rejected',
  'emergency-credit-activated',
  'clock-set',
  'supplier-changed',
  'payment-mode-changed',
  'prepayment-configured',
  'keys-transferred',
] as const;
export type MeterEventType = (typeof METER_EVENT_TYPES)[number];

export type EventValue = string | number | boolean | null;

export interface MeterEvent {
  /** Strictly increasing per meter, starting at 1, never reused. */
  seq: number;
  /** Device time. */
  at: number;
  type: MeterEventType;
  actor: string | null;
  data: Record<string, EventValue>;
}
