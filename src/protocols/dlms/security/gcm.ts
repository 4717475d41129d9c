import { createCipheriv, createDecipheriv } from 'node:crypto';
import { ErrorCode, SimError } from '../../../core/errors';
import { SC_AUTHENTICATION, SC_ENCRYPTION } from './security-control';

/**
 * Security suite 0 primitives: AES-GCM-128 with a 12-byte tag (docs/dlms.md §7, U9N
 * `security.py` TAG_LENGTH 12). IV = system title (8) || IC (4); AAD = SC || AK when the
 * content is authenticated and encrypted, SC || AK || plaintext when it is authenticated only.
 *
 * Keys are Buffers handed in by the caller and never stored, logged or put in an error context.
 */

export const SUITE0_KEY_LENGTH = 16;
export const SUITE0_TAG_LENGTH = 12;
export const SYSTEM_TITLE_LENGTH = 8;
const IV_LENGTH = 12;

export interface PayloadKeys {
  /** Block cipher key: global unicast / broadcast encryption key or dedicated key. */
  readonly ek?: Uint8Array | undefined;
  /** Authentication key (AK), needed whenever SC has the authentication bit. */
  readonly ak?: Uint8Array | undefined;
}

export interface PayloadParams extends PayloadKeys {
  /** The SC byte (suite 0). */
  readonly sc: number;
  readonly ic: number;
  /** The sender's system title. */
  readonly systemTitle: Uint8Array;
}

export interface ProtectedPayload {
  /** Ciphertext (SC 0x20/0x30) or the plaintext itself (SC 0x10). */
  readonly payload: Buffer;
  /** The 12-byte authentication tag when SC has 0x10, else undefined. */
  readonly authTag: Buffer | undefined;
}

function requireKey(key: Uint8Array | undefined, name: 'ek' | 'ak'): Uint8Array {
  if (key === undefined) {
    throw new SimError(
      ErrorCode.SessionKeyMissing,
      `no ${name === 'ek' ? 'encryption' : 'authentication'} key`,
      {
        reason: 'key-missing',
        key: name,
      },
    );
  }
  if (key.length !== SUITE0_KEY_LENGTH) {
    throw new SimError(
      ErrorCode.SessionKeyMissing,
      `${name === 'ek' ? 'encryption' : 'authentication'} key must be ${SUITE0_KEY_LENGTH} bytes, got ${key.length}`,
      { reason: 'key-length', key: name, length: key.length },
    );
  }
  return key;
}

/** IV = system title (8) || IC (4, big-endian). */
export function buildIv(systemTitle: Uint8Array, ic: number): Buffer {
  if (systemTitle.length !== SYSTEM_TITLE_LENGTH) {
    throw new SimError(ErrorCode.EncodeInvalid, `system title must be ${SYSTEM_TITLE_LENGTH} bytes`, {
      path: 'systemTitle',
      length: systemTitle.length,
    });
  }
  if (!Number.isInteger(ic) || ic < 0 || ic > 0xffffffff) {
    throw new SimError(ErrorCode.EncodeInvalid, `invocation counter ${ic} out of range`, {
      path: 'ic',
      value: ic,
    });
  }
  const iv = Buffer.allocUnsafe(IV_LENGTH);
  iv.set(systemTitle, 0);
  iv.writeUInt32BE(ic, SYSTEM_TITLE_LENGTH);
  return iv;
}

/**
 * AES-CTR keystream for encryption without authentication (SC 0x20). GCM encrypts with the
 * counter block J0+1 = IV || 00000002 (NIST SP 800-38D §7.1, 96-bit IV), so CTR from that
 * block gives the same ciphertext as GCM without computing a tag nobody sends (verified by the
 * GB Table 40 SC 20 vector, whose ciphertext equals the SC 30 one).
 */
function ctr(ek: Uint8Array, iv: Buffer, data: Uint8Array): Buffer {
  const counter0 = Buffer.allocUnsafe(16);
  iv.copy(counter0, 0);
  counter0.writeUInt32BE(2, IV_LENGTH);
  const c = createCipheriv('aes-128-ctr', ek, counter0);
  return Buffer.concat([c.update(data), c.final()]);
}

function aad(sc: number, ak: Uint8Array, plaintext?: Uint8Array): Buffer {
  const parts = [Buffer.of(sc), Buffer.from(ak.buffer, ak.byteOffset, ak.byteLength)];
  if (plaintext) parts.push(Buffer.from(plaintext.buffer, plaintext.byteOffset, plaintext.byteLength));
  return Buffer.concat(parts);
}

/** Ciphers / authenticates `plaintext` as the SC byte says. */
export function protectPayload(p: PayloadParams, plaintext: Uint8Array): ProtectedPayload {
  const iv = buildIv(p.systemTitle, p.ic);
  const auth = (p.sc & SC_AUTHENTICATION) !== 0;
  const enc = (p.sc & SC_ENCRYPTION) !== 0;
  const ek = requireKey(p.ek, 'ek');
  if (!auth && !enc) {
    throw new SimError(ErrorCode.EncodeInvalid, 'SC asks for neither authentication nor encryption', {
      path: 'sc',
      value: p.sc,
    });
  }
  if (!auth) return { payload: ctr(ek, iv, plaintext), authTag: undefined };
  const ak = requireKey(p.ak, 'ak');
  const c = createCipheriv('aes-128-gcm', ek, iv, { authTagLength: SUITE0_TAG_LENGTH });
  if (enc) {
    c.setAAD(aad(p.sc, ak));
    const payload = Buffer.concat([c.update(plaintext), c.final()]);
    return { payload, authTag: c.getAuthTag() };
  }
  // Authentication only: GMAC over SC || AK || plaintext; the plaintext travels as it is.
  c.setAAD(aad(p.sc, ak, plaintext));
  c.final();
  return { payload: Buffer.from(plaintext), authTag: c.getAuthTag() };
}

/**
 * Checks and deciphers a payload. Throws SessionCipherFailed when the tag does not verify; the
 * plaintext is only returned whole, after the tag has verified (never partial output).
 */
export function openPayload(p: PayloadParams, payload: Uint8Array, authTag: Uint8Array | undefined): Buffer {
  const iv = buildIv(p.systemTitle, p.ic);
  const auth = (p.sc & SC_AUTHENTICATION) !== 0;
  const enc = (p.sc & SC_ENCRYPTION) !== 0;
  const ek = requireKey(p.ek, 'ek');
  if (!auth && !enc) {
    throw new SimError(ErrorCode.SessionCipherFailed, 'SC asks for neither authentication nor encryption', {
      reason: 'no-protection',
      sc: p.sc,
    });
  }
  if (!auth) return ctr(ek, iv, payload);
  const ak = requireKey(p.ak, 'ak');
  if (authTag === undefined || authTag.length !== SUITE0_TAG_LENGTH) {
    throw new SimError(
      ErrorCode.SessionCipherFailed,
      `authentication tag must be ${SUITE0_TAG_LENGTH} bytes`,
      {
        reason: 'auth-tag',
        length: authTag?.length ?? 0,
      },
    );
  }
  const d = createDecipheriv('aes-128-gcm', ek, iv, { authTagLength: SUITE0_TAG_LENGTH });
  d.setAuthTag(authTag);
  let out: Buffer;
  try {
    if (enc) {
      d.setAAD(aad(p.sc, ak));
      const body = d.update(payload);
      d.final();
      out = body;
    } else {
      d.setAAD(aad(p.sc, ak, payload));
      d.final();
      out = Buffer.from(payload);
    }
  } catch (e) {
    throw new SimError(
      ErrorCode.SessionCipherFailed,
      'authentication tag mismatch (wrong key, wrong counter or altered APDU)',
      { reason: 'auth-tag', sc: p.sc, ic: p.ic },
      { cause: e },
    );
  }
  return out;
}

/**
 * GMAC(key EK, IV = ST || IC, AAD = SC || AK || data) truncated to 12 bytes: the HLS mechanism
 * 5 proof (docs/dlms.md §7 "HLS5 flow").
 */
export function gmac(
  params: { sc: number; ic: number; systemTitle: Uint8Array; ek: Uint8Array; ak: Uint8Array },
  data: Uint8Array,
): Buffer {
  const iv = buildIv(params.systemTitle, params.ic);
  const ek = requireKey(params.ek, 'ek');
  const ak = requireKey(params.ak, 'ak');
  const c = createCipheriv('aes-128-gcm', ek, iv, { authTagLength: SUITE0_TAG_LENGTH });
  c.setAAD(aad(params.sc, ak, data));
  c.final();
  return c.getAuthTag();
}
