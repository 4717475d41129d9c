/**
 * MeterSession: the one interface the migration layer codes against, implemented once per
 * protocol stack (C12.18/C12.19 in src/protocols/c1218, DLMS/COSEM in src/protocols/dlms) and by
 * in-memory fakes in tests. Nothing here knows which stack answers (DESIGN.md "Layers").
 *
 * Every operation returns a `Reading`: the decoded value plus the raw evidence (which table or
 * COSEM attribute was read, and the bytes) so that an interrogation result can be audited
 * against the wire. Operations throw only SimError: transient ones (timeouts, bsy, dropped link;
 * `isTransient`) are retried by the caller, anything else is a data fault.
 */

import type { DeviceType } from './cohorts';

/** What was read or written on the wire, for audit. `bytes` is lowercase hex without spaces. */
export type Evidence =
  | {
      kind: 'c1219-table';
      op: 'read' | 'write';
      /** Table id as sent: manufacturer tables have bit 11 set (MTn = 2048 + n, docs/c1218.md). */
      tableId: number;
      /** Set for partial reads/writes; absent for a full-table access. */
      offset?: number;
      count?: number;
      bytes: string;
    }
  | {
      kind: 'c1219-procedure';
      /** Procedure id as written to ST7 (manufacturer procedures MPn = 2048 + n). */
      procedureId: number;
      /** ST7 parameters and ST8 response data. */
      request: string;
      response: string;
    }
  | {
      kind: 'cosem';
      op: 'get' | 'set' | 'action';
      classId: number;
      /** OBIS code as `a-b:c.d.e.f`, e.g. `0-0:96.1.0.255`. */
      obis: string;
      /** Attribute index for get/set, method index for action. */
      index: number;
      bytes: string;
    }
  | {
      /** Anything else a stack wants on record (a sign-on string, an identification frame). */
      kind: 'raw';
      label: string;
      bytes: string;
    };

export interface Reading<T> {
  value: T;
  evidence: readonly Evidence[];
}

/** The answer to the protocol-level identification (C12.18 Ident, IEC 62056-21 sign-on, AARE). */
export interface SessionIdentification {
  /** 'c1218' | 'dlms' | another stack name. */
  stack: string;
  /** Human-readable protocol, e.g. 'ANSI C12.18 rev 2' or 'DLMS/COSEM LN, HDLC'. */
  protocol: string;
  /** Stack-specific facts worth recording (reference standard, max packet size, ...). */
  details: Record<string, string | number | boolean>;
}

/** Device identity as the meter reports it (DESIGN.md "The device model"). */
export interface DeviceIdentity {
  manufacturer: string;
  model: string;
  deviceType: DeviceType;
  serial: string;
  /** SMETS1 Device ID, EUI-64, canonical upper-case hyphenated (`90-B3-D5-1F-30-01-00-00`). */
  deviceId: string;
  /** Application (CLEM) firmware id, e.g. 'P4X2G04' (docs/domain.md §2). A DMC = model + this. */
  applicationFirmwareId: string;
  /** Metrology firmware id, e.g. 'B2-00', where the meter reports one. */
  metrologyFirmwareId: string | null;
}

/** Registration data held on the meter itself (not DCC's view: that is RegistrationRecord). */
export interface MeterRegistration {
  /** MPAN core (ESME) or MPRN (GSME); null when none is set. */
  mpxn: string | null;
  /** Supplier id the meter holds; null when none is set. */
  supplierId: string | null;
  /** Site ID; null once cleared (docs/domain.md §4: "clear Site ID and Payment Card ID"). */
  siteId: string | null;
}

/** The payment card record held by the meter (docs/domain.md §4). */
export interface CardRecord {
  /** The 19-digit Payment Card ID / PID printed on the top-up card. */
  paymentCardId: string;
  /**
   * The supplier that issued the card, as the meter holds it; null if the meter holds the PID
   * only. How a PID maps to a supplier is not public (docs/domain.md §8 item 3), so the model
   * stores the issuer with the record (modelled).
   */
  issuerSupplierId: string | null;
  /** When the card was registered on the meter (ISO 8601), where known. */
  registeredAt: string | null;
}

/** A compact view of the prepayment state (docs/domain.md §4 "Accounting in prepayment mode"). */
export interface PrepaymentSummary {
  paymentMode: 'prepayment' | 'credit';
  /** Main account balance in pence; negative when in debt. */
  balancePence: number;
  /** Emergency credit balance in pence. */
  emergencyCreditPence: number;
  emergencyCreditActive: boolean;
  /** Sum of the debt registers in pence. */
  debtPence: number;
  /** Time of the most recent vend (ISO 8601), null when none is stored. */
  lastVendAt: string | null;
}

export type MigrationState =
  | { state: 'smso-managed' }
  | {
      state: 'migrated';
      /** ISO 8601. */
      at: string;
      /** Who migrated it: the `migratedBy` of the MigrateRequest. */
      by: string;
    };

/** A meter event as read back (mirrors src/device/state.ts MeterEvent, times as ISO 8601). */
export interface MeterEvent {
  seq: number;
  /** ISO 8601 meter time. */
  at: string;
  /** Event type as the device names it ('card-cleared', 'migrated', 'bad-password', ...). */
  type: string;
  actor: string | null;
  data: Record<string, string | number | boolean | null>;
}

/** One credential to install on migration: a password or key for an access level. */
export interface Credential {
  /** Access level name as the firmware profile names it (e.g. 'reader', 'supplier', 'HLS'). */
  level: string;
  secret: Uint8Array;
}

export interface MigrateRequest {
  /** Recorded on the meter as "by whom"; the flow uses it to recognise its own migration. */
  migratedBy: string;
  /** Host time (ms since epoch) recorded as "when". */
  at: number;
  /** The SMSO credentials are replaced by these (issue text: "replace the SMSO credentials"). */
  credentials: readonly Credential[];
}

export interface KeyTransferResult {
  /** The levels whose keys were sent (empty when `alreadyLive`). */
  levels: string[];
  alreadyLive: boolean;
}

export interface ClearResult {
  /** False when there was nothing to clear (the meter may still report success). */
  cleared: boolean;
}

export interface MeterSession {
  /** Protocol-level identification; the first call on a fresh session. */
  identify(): Promise<Reading<SessionIdentification>>;
  readIdentity(): Promise<Reading<DeviceIdentity>>;
  readRegistration(): Promise<Reading<MeterRegistration>>;
  /** Null value: the meter holds no card record. */
  readCardRecord(): Promise<Reading<CardRecord | null>>;
  /** Clear the Payment Card ID and the Site ID (one device operation, never torn). */
  clearCardData(): Promise<Reading<ClearResult>>;
  readPrepaymentSummary(): Promise<Reading<PrepaymentSummary>>;
  readMigrationState(): Promise<Reading<MigrationState>>;
  /** Meter wall-clock time, ms since the Unix epoch. */
  readClock(): Promise<Reading<number>>;
  /** Record the migration and replace the SMSO credentials; returns the new state. */
  migrate(request: MigrateRequest): Promise<Reading<MigrationState>>;
  /** The newest `maxEntries` events, oldest first. */
  readEventLog(maxEntries: number): Promise<Reading<MeterEvent[]>>;
  /**
   * Stacks that hand keys over by a key transfer before `migrate` (DLMS Security setup
   * key_transfer) say which access levels travel that way; the flow journals the intent before
   * `transferKeys` and the fact after `verifyKeys` (docs/migration.md "Key hand-over").
   */
  keyTransferLevels?(): readonly string[];
  /**
   * Send the new keys of those levels (wrapped under the current master key). Resolves once the
   * meter acknowledged them as installed; `alreadyLive` when the session already uses them, in
   * which case nothing is sent.
   */
  transferKeys?(credentials: readonly Credential[]): Promise<Reading<KeyTransferResult>>;
  /** Release and associate again with the transferred keys: proof they are live. */
  verifyKeys?(): Promise<void>;
  /** Idempotent. */
  close(): Promise<void>;
}

/**
 * Where the flow gets sessions: a ready session (used as is, never reopened), or a factory that
 * opens a fresh one, so the flow can reconnect after a dropped link.
 */
export type SessionSource = MeterSession | ((request?: SessionRequest) => Promise<MeterSession>);

/**
 * What the flow asks of a session factory: open with the SMSO's secrets ('old') or with the
 * flow's new credentials merged over them ('new'). A factory that tracks credentials itself
 * (e.g. through a session's onMigrated) may ignore it. The flow asks for 'new' once the new
 * keys are, or may be, live — after a journaled key-transfer intent it asks 'new' first and
 * 'old' when the new keys do not associate (docs/migration.md "Key hand-over").
 */
export interface SessionRequest {
  readonly credentials: 'old' | 'new';
  readonly newCredentials: readonly Credential[];
}
