import { createHash } from 'node:crypto';
import { toHex } from '../../../core/bytes';
import { ErrorCode, SimError } from '../../../core/errors';
import { SUITE0_KEY_LENGTH, SYSTEM_TITLE_LENGTH } from './gcm';

/**
 * Key material for suite 0 and how it reaches the protocol code: as values passed in (a
 * KeySet) or through a key-store callback, never from module state (CONVENTIONS.md). Nothing
 * here prints a key: traces and logs use keyFingerprint / redactKeySet.
 */

/**
 * Security setup key_transfer key_id enum (Blue Book class 64, method 2): 0 global unicast
 * encryption key, 1 global broadcast encryption key, 2 authentication key, 3 master key (KEK).
 */
export const KeyId = {
  GlobalUnicastEncryption: 0,
  GlobalBroadcastEncryption: 1,
  Authentication: 2,
  Master: 3,
} as const;

export type KeyIdValue = (typeof KeyId)[keyof typeof KeyId];

export function isKeyId(value: number): value is KeyIdValue {
  return Number.isInteger(value) && value >= 0 && value <= 3;
}

/** The keys one device (meter) holds, and the system title of that device. */
export interface KeySet {
  /** The device's system title (8 bytes): the IV prefix of what the device sends. */
  readonly systemTitle: Buffer;
  /** Global unicast encryption key. */
  readonly ek: Buffer;
  /** Authentication key. */
  readonly ak: Buffer;
  /** Master key: key-encryption key for key_transfer. */
  readonly kek: Buffer;
  /** Global broadcast encryption key, when the device has one. */
  readonly broadcastEk?: Buffer | undefined;
}

/** Which device a client asks keys for: its system title, or its device id (EUI-64 text). */
export type KeyPeer = Uint8Array | string;

/** Client-side key lookup (e.g. from a key file, an HSM proxy or the farm manifest). */
export type KeyStore = (peer: KeyPeer, keyId: KeyIdValue) => Promise<Buffer>;

function badKey(name: string, length: number): never {
  throw new SimError(
    ErrorCode.SessionKeyMissing,
    `${name} must be ${SUITE0_KEY_LENGTH} bytes, got ${length}`,
    {
      reason: 'key-length',
      key: name,
      length,
    },
  );
}

/** Checks every length (keys 16 bytes, system title 8) and returns an owned copy. */
export function validateKeySet(ks: KeySet): KeySet {
  if (ks.systemTitle.length !== SYSTEM_TITLE_LENGTH) {
    throw new SimError(ErrorCode.SessionKeyMissing, `system title must be ${SYSTEM_TITLE_LENGTH} bytes`, {
      reason: 'system-title-length',
      length: ks.systemTitle.length,
    });
  }
  for (const name of ['ek', 'ak', 'kek'] as const) {
    if (ks[name].length !== SUITE0_KEY_LENGTH) badKey(name, ks[name].length);
  }
  if (ks.broadcastEk !== undefined && ks.broadcastEk.length !== SUITE0_KEY_LENGTH) {
    badKey('broadcastEk', ks.broadcastEk.length);
  }
  return {
    systemTitle: Buffer.from(ks.systemTitle),
    ek: Buffer.from(ks.ek),
    ak: Buffer.from(ks.ak),
    kek: Buffer.from(ks.kek),
    ...(ks.broadcastEk ? { broadcastEk: Buffer.from(ks.broadcastEk) } : {}),
  };
}

/**
 * Fetch a device's key set through a key store. The broadcast key is fetched only when asked
 * for, since many installations have none.
 */
export async function loadKeySet(
  store: KeyStore,
  peer: KeyPeer,
  systemTitle: Uint8Array,
  options: { broadcast?: boolean } = {},
): Promise<KeySet> {
  const [ek, ak, kek, broadcastEk] = await Promise.all([
    store(peer, KeyId.GlobalUnicastEncryption),
    store(peer, KeyId.Authentication),
    store(peer, KeyId.Master),
    options.broadcast ? store(peer, KeyId.GlobalBroadcastEncryption) : Promise.resolve(undefined),
  ]);
  return validateKeySet({ systemTitle: Buffer.from(systemTitle), ek, ak, kek, broadcastEk });
}

/** The key set with one key replaced (what a completed key_transfer does). */
export function withKey(ks: KeySet, keyId: KeyIdValue, key: Uint8Array): KeySet {
  if (key.length !== SUITE0_KEY_LENGTH) badKey(`key ${keyId}`, key.length);
  const k = Buffer.from(key);
  switch (keyId) {
    case KeyId.GlobalUnicastEncryption:
      return { ...ks, ek: k };
    case KeyId.GlobalBroadcastEncryption:
      return { ...ks, broadcastEk: k };
    case KeyId.Authentication:
      return { ...ks, ak: k };
    case KeyId.Master:
      return { ...ks, kek: k };
  }
}

/**
 * A short, one-way name for a key that is safe to log: the first 4 bytes of its SHA-256, so an
 * operator can tell which key a device uses without the key itself being printed.
 */
export function keyFingerprint(key: Uint8Array): string {
  return `sha256:${createHash('sha256').update(key).digest('hex').slice(0, 8)}`;
}

export interface RedactedKeySet {
  readonly systemTitle: string;
  readonly ek: string;
  readonly ak: string;
  readonly kek: string;
  readonly broadcastEk?: string;
}

/** A KeySet as it may appear in logs and reports: system title in hex, keys as fingerprints. */
export function redactKeySet(ks: KeySet): RedactedKeySet {
  return {
    systemTitle: toHex(ks.systemTitle),
    ek: keyFingerprint(ks.ek),
    ak: keyFingerprint(ks.ak),
    kek: keyFingerprint(ks.kek),
    ...(ks.broadcastEk ? { broadcastEk: keyFingerprint(ks.broadcastEk) } : {}),
  };
}

/**
 * Field names that hold secrets anywhere in this stack, for pino's `redact` option
 * (`createLogger` callers add them): a logged context object never prints a key.
 */
export const SECRET_FIELD_NAMES: readonly string[] = [
  'ek',
  'ak',
  'kek',
  'broadcastEk',
  'dedicatedKey',
  'key',
  'password',
  'secret',
];
