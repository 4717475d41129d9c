import { createCipheriv, createDecipheriv } from 'node:crypto';
import { ErrorCode, SimError } from '../../../core/errors';
import { SUITE0_KEY_LENGTH } from './gcm';
import { isKeyId, type KeyIdValue, type KeySet, withKey } from './keys';

/**
 * Key transfer (Security setup, class 64, method 2 key_transfer): each new key travels
 * wrapped with the master key (KEK) by the AES key wrap of RFC 3394.
 *
 * The method parameter is `array of structure {key_id: enum, key_wrapped: octet-string}`.
 * This module works on plain objects ({keyId, keyWrapped}); the A-XDR binding (array / structure
 * / enum / octet-string tags) belongs to the COSEM layer, which owns the A-XDR codec.
 */

/** RFC 3394 §2.2.3.1 default initial value. */
const RFC3394_IV = Buffer.from('a6a6a6a6a6a6a6a6', 'hex');
/** A wrapped 16-byte key: n = 2 blocks + the 8-byte integrity block. */
export const WRAPPED_KEY_LENGTH = SUITE0_KEY_LENGTH + 8;

function checkKek(kek: Uint8Array): void {
  if (kek.length !== SUITE0_KEY_LENGTH) {
    throw new SimError(
      ErrorCode.SessionKeyMissing,
      `master key must be ${SUITE0_KEY_LENGTH} bytes, got ${kek.length}`,
      {
        reason: 'key-length',
        key: 'kek',
        length: kek.length,
      },
    );
  }
}

/** RFC 3394 wrap of a 16-byte key with a 16-byte KEK (OpenSSL id-aes128-wrap) -> 24 bytes. */
export function wrapKey(kek: Uint8Array, key: Uint8Array): Buffer {
  checkKek(kek);
  if (key.length !== SUITE0_KEY_LENGTH) {
    throw new SimError(
      ErrorCode.EncodeInvalid,
      `key to wrap must be ${SUITE0_KEY_LENGTH} bytes, got ${key.length}`,
      {
        path: 'key',
        length: key.length,
      },
    );
  }
  const c = createCipheriv('id-aes128-wrap', kek, RFC3394_IV);
  return Buffer.concat([c.update(key), c.final()]);
}

/** RFC 3394 unwrap; SessionCipherFailed when the integrity check fails (wrong KEK or altered data). */
export function unwrapKey(kek: Uint8Array, wrapped: Uint8Array, path = 'key_wrapped'): Buffer {
  checkKek(kek);
  if (wrapped.length !== WRAPPED_KEY_LENGTH) {
    throw new SimError(
      ErrorCode.DecodeInvalid,
      `${path}: wrapped key must be ${WRAPPED_KEY_LENGTH} bytes, got ${wrapped.length}`,
      { path, length: wrapped.length },
    );
  }
  try {
    const d = createDecipheriv('id-aes128-wrap', kek, RFC3394_IV);
    return Buffer.concat([d.update(wrapped), d.final()]);
  } catch (e) {
    throw new SimError(
      ErrorCode.SessionCipherFailed,
      `${path}: key unwrap integrity check failed (wrong master key or altered data)`,
      { reason: 'key-unwrap', path },
      { cause: e },
    );
  }
}

/** One element of the key_transfer parameter. */
export interface KeyTransferEntry {
  readonly keyId: KeyIdValue;
  readonly keyWrapped: Buffer;
}

/** A key in clear, as the client holds it before wrapping and the server after unwrapping. */
export interface TransferredKey {
  readonly keyId: KeyIdValue;
  readonly key: Buffer;
}

/** Client side: wrap each new key with the master key for a key_transfer call. */
export function buildKeyTransfer(kek: Uint8Array, keys: readonly TransferredKey[]): KeyTransferEntry[] {
  checkEntries(
    keys.map((k) => k.keyId),
    ErrorCode.EncodeInvalid,
  );
  return keys.map((k) => ({ keyId: k.keyId, keyWrapped: wrapKey(kek, k.key) }));
}

function checkEntries(
  ids: readonly number[],
  code: typeof ErrorCode.EncodeInvalid | typeof ErrorCode.DecodeInvalid,
): void {
  // Modelled: an empty transfer or the same key twice in one call is refused as malformed.
  if (ids.length === 0) {
    throw new SimError(code, 'key_transfer: no keys', { path: 'key_transfer' });
  }
  const seen = new Set<number>();
  ids.forEach((id, i) => {
    const path = `key_transfer[${i}].key_id`;
    if (!isKeyId(id)) throw new SimError(code, `${path}: ${id} is not a key id (0..3)`, { path, value: id });
    if (seen.has(id)) throw new SimError(code, `${path}: key id ${id} given twice`, { path, value: id });
    seen.add(id);
  });
}

/**
 * Server side: validate and unwrap every entry. All or nothing: one bad entry fails the whole
 * call, so a device never applies half a key change.
 */
export function openKeyTransfer(
  kek: Uint8Array,
  entries: ReadonlyArray<{ readonly keyId: number; readonly keyWrapped: Uint8Array }>,
): TransferredKey[] {
  checkEntries(
    entries.map((e) => e.keyId),
    ErrorCode.DecodeInvalid,
  );
  return entries.map((e, i) => ({
    keyId: e.keyId as KeyIdValue,
    key: unwrapKey(kek, e.keyWrapped, `key_transfer[${i}].key_wrapped`),
  }));
}

/** The key set after a successful key transfer. */
export function applyKeyTransfer(ks: KeySet, keys: readonly TransferredKey[]): KeySet {
  return keys.reduce((acc, k) => withKey(acc, k.keyId, k.key), ks);
}
