import { ByteReader, ByteWriter } from '../../../core/bytes';
import { ErrorCode, SimError } from '../../../core/errors';
import { decodeBerLength, encodeBerLength } from './ber-length';
import { carriesSystemTitle, cipheredTagInfo, type CipheredForm } from './ciphered-tags';
import { SUITE0_TAG_LENGTH, SYSTEM_TITLE_LENGTH } from './gcm';
import { decodeSecurityHeader, encodeSecurityHeader, type SecurityControl } from './security-control';

/**
 * The byte layout of a ciphered APDU, without any cryptography (docs/dlms.md §7 "APDU"):
 *
 *   service-specific (glo/ded):  tag | len | SC | IC(4) | payload | [authTag(12)]
 *   general-glo / general-ded:   tag | len(ST) | ST | len | SC | IC(4) | payload | [authTag(12)]
 *
 * (general-glo example, docs/dlms.md §3: `DB 08 2F19229199164103 3B 30 000001E5 ...`.)
 * The auth tag is present exactly when SC has the authentication bit: GB Table 40's SC 20 vector
 * ends with the ciphertext. Decoding this structure first lets a caller find the sender's system
 * title and the key family, fetch keys (possibly asynchronously), then decipher.
 */
export interface CipheredApdu {
  readonly tag: number;
  readonly form: CipheredForm;
  /** General forms only: the sender's system title as carried (8 bytes, or empty = known from the association). */
  readonly systemTitle: Buffer | undefined;
  readonly security: SecurityControl;
  readonly ic: number;
  /** Ciphertext, or the plaintext when SC is authentication-only. */
  readonly payload: Buffer;
  readonly authTag: Buffer | undefined;
}

/** A wire tag identifies a ciphered APDU (cheap pre-check for dispatchers). */
export function looksCiphered(apdu: Uint8Array): boolean {
  return apdu.length > 0 && cipheredTagInfo(apdu[0]!) !== undefined;
}

export function decodeCipheredApdu(input: Uint8Array, path = 'CipheredApdu'): CipheredApdu {
  const r: ByteReader = new ByteReader(input, path);
  const tag = r.u8('tag');
  const info = cipheredTagInfo(tag);
  if (!info) r.fail(`0x${tag.toString(16).padStart(2, '0')} is not a ciphered APDU tag`, 'tag', { tag });
  let systemTitle: Buffer | undefined;
  if (carriesSystemTitle(info.form)) {
    const stLen = decodeBerLength(r, 'systemTitle.length');
    // Modelled: a system title is 8 bytes (IV = ST(8) || IC(4)); empty means "as the association".
    if (stLen !== 0 && stLen !== SYSTEM_TITLE_LENGTH) {
      r.fail(`system title length ${stLen}, expected 0 or ${SYSTEM_TITLE_LENGTH}`, 'systemTitle.length', {
        length: stLen,
      });
    }
    systemTitle = r.bytes(stLen, 'systemTitle');
  }
  const len = decodeBerLength(r, 'length');
  const c = r.sub(len, 'content');
  r.expectEnd();
  const { security, ic } = decodeSecurityHeader(c);
  let payload: Buffer;
  let authTag: Buffer | undefined;
  if (security.authentication) {
    if (c.remaining < SUITE0_TAG_LENGTH) {
      c.fail(`${c.remaining} byte(s) left, the authentication tag needs ${SUITE0_TAG_LENGTH}`, 'authTag', {
        remaining: c.remaining,
      });
    }
    payload = c.bytes(c.remaining - SUITE0_TAG_LENGTH, 'payload');
    authTag = c.bytes(SUITE0_TAG_LENGTH, 'authTag');
  } else {
    payload = c.rest();
  }
  return { tag, form: info.form, systemTitle, security, ic, payload, authTag };
}

export function encodeCipheredApdu(apdu: CipheredApdu): Buffer {
  const info = cipheredTagInfo(apdu.tag);
  const fail = (message: string, field: string): never => {
    throw new SimError(ErrorCode.EncodeInvalid, `CipheredApdu.${field}: ${message}`, {
      path: `CipheredApdu.${field}`,
    });
  };
  if (!info) return fail(`0x${apdu.tag.toString(16)} is not a ciphered APDU tag`, 'tag');
  if (info.form !== apdu.form)
    return fail(`tag 0x${apdu.tag.toString(16)} is ${info.form}, not ${apdu.form}`, 'form');
  const general = carriesSystemTitle(info.form);
  if (general) {
    const st = apdu.systemTitle;
    if (!st || (st.length !== 0 && st.length !== SYSTEM_TITLE_LENGTH)) {
      fail(`general ciphering needs a ${SYSTEM_TITLE_LENGTH}-byte (or empty) system title`, 'systemTitle');
    }
  } else if (apdu.systemTitle !== undefined) {
    fail('only general ciphering carries a system title', 'systemTitle');
  }
  if (apdu.security.authentication !== (apdu.authTag !== undefined)) {
    fail('an authentication tag goes with SC bit 0x10, and only with it', 'authTag');
  }
  if (apdu.authTag && apdu.authTag.length !== SUITE0_TAG_LENGTH) {
    fail(`must be ${SUITE0_TAG_LENGTH} bytes`, 'authTag');
  }
  const contentLength = 5 + apdu.payload.length + (apdu.authTag?.length ?? 0);
  const w = new ByteWriter(contentLength + 16).u8(apdu.tag);
  if (general) {
    const st = apdu.systemTitle!;
    encodeBerLength(w, st.length).bytes(st);
  }
  encodeBerLength(w, contentLength);
  encodeSecurityHeader(w, { security: apdu.security, ic: apdu.ic });
  w.bytes(apdu.payload);
  if (apdu.authTag) w.bytes(apdu.authTag);
  return w.toBuffer();
}
