import type { Conformance } from '../apdu/conformance';
import { conformance } from '../apdu/conformance';
import type { ObjectRights } from '../cosem/rights';
import type { CosemRegistry } from '../cosem/object-registry';
import type { AuthMechanism } from '../cosem/context';
import type { InvocationCounterGuard, InvocationCounterStore } from '../security/invocation-counter';
import type { KeySet } from '../security/keys';
import type { TransferredKey } from '../security/key-transfer';
import type { SecurityPolicyV0Value } from '../security/security-policy';

/**
 * How a simulated meter's DLMS server is set up: logical devices (server SAPs), each with its
 * object registry, the associations clients may open (one per client SAP) and the Security
 * setup objects that hold keys and policy. Secrets, keys and counters arrive through getters and
 * callbacks backed by the device model, never as module state (CONVENTIONS).
 */

export interface AssociationConfig {
  /** Name used by object rights ('public', 'management', 'reader', ...). */
  readonly name: string;
  /** Client SAP this association answers (16 public, 1 management; docs/dlms.md §2 "Reserved"). */
  readonly clientSap: number;
  readonly mechanism: AuthMechanism;
  /** LLS password; a getter so that a changed secret applies at once. */
  readonly secret?: Uint8Array | (() => Uint8Array);
  /**
   * True while the device refuses authentication (lock-out after repeated failures): an LLS or
   * HLS AARQ is then rejected authentication-failure whatever it presents, and a pending HLS
   * proof fails. Absent = never locked.
   */
  readonly lockedOut?: () => boolean;
  /** Durably change the LLS secret (Association LN attribute 7 / method 2); absent = refused. */
  readonly changeSecret?: (secret: Buffer) => Promise<void>;
  /** Application contexts accepted (default ['LN'], or ['LN-ciphered'] when a security setup is named). */
  readonly contexts?: ReadonlyArray<'LN' | 'LN-ciphered'>;
  /** Logical name of the Security setup object (required for HLS-GMAC and ciphering). */
  readonly securitySetup?: string;
  /** Services offered; the negotiated block is proposed AND this (default DEFAULT_SERVER_CONFORMANCE). */
  readonly conformance?: Conformance;
}

export interface SecuritySetupConfig {
  /** e.g. `0-0:43.0.0.255` (docs/dlms.md §6). */
  readonly obis: string;
  readonly policy: () => SecurityPolicyV0Value;
  /** Durably strengthen the policy (security_activate); absent = the method is refused. */
  readonly activatePolicy?: (policy: SecurityPolicyV0Value) => Promise<void>;
  /** The server's system title and keys, read at every use so installed keys apply at once. */
  readonly keys: () => KeySet;
  /**
   * Durably install keys from key_transfer (`association`: who asked); after it resolves keys()
   * returns them. A rejection (e.g. a key id the device has no key for) installs nothing and is
   * answered `other`.
   */
  readonly installKeys?: (keys: readonly TransferredKey[], association: string) => Promise<void>;
  /** The server's own sending IC (durable; first use 1). */
  readonly ownCounter: InvocationCounterGuard;
  /** Last ICs accepted from clients (durable). */
  readonly peerCounters: InvocationCounterStore;
  /** Rights on this object per association (default: read-only for associations that use it). */
  readonly access?: Readonly<Record<string, ObjectRights>>;
}

export interface LogicalDeviceConfig {
  /** Server logical device address (1 = management logical device). */
  readonly sap: number;
  readonly registry: CosemRegistry;
  readonly associations: readonly AssociationConfig[];
  readonly securitySetups?: readonly SecuritySetupConfig[];
  /** server-max-receive-pdu-size (default 1024; modelled). */
  readonly maxReceivePduSize?: number;
  /** Rights on the current association object 0-0:40.0.0.255 (default class defaults for all). */
  readonly associationObjectAccess?: Readonly<Record<string, ObjectRights>>;
}

/** What this server offers unless an association narrows it (docs/dlms.md §4.1 "Conformance"). */
export const DEFAULT_SERVER_CONFORMANCE: Conformance = conformance(
  'general-protection',
  'block-transfer-with-get-or-read',
  'block-transfer-with-set-or-write',
  'multiple-references',
  'get',
  'set',
  'selective-access',
  'action',
);

export const DEFAULT_SERVER_MAX_PDU = 1024;
/** Client max receive PDU sizes below this are refused pdu-size-too-short (modelled floor). */
export const MIN_CLIENT_PDU = 64;
/** DLMS version 6 (docs/dlms.md §4.1 AARQ vector). */
export const DLMS_VERSION = 6;
/** VAA name of LN referencing (docs/dlms.md §4.1 AARE). */
export const LN_VAA_NAME = 0x0007;
/** The current association object (docs/dlms.md §6 "Association LN"). */
export const CURRENT_ASSOCIATION_OBIS = '0-0:40.0.0.255';

export function associationSecret(a: AssociationConfig): Uint8Array | undefined {
  return typeof a.secret === 'function' ? a.secret() : a.secret;
}
