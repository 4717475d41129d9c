import { toHex } from '../../../core/bytes';
import { isSimError } from '../../../core/errors';
import { openCipheredApdu, type DecipherKeys } from './apdu-cipher';
import { decodeCipheredApdu, type CipheredApdu } from './ciphered-apdu';
import { isCipheredTag } from './ciphered-tags';
import { securityControlByte } from './security-control';

/**
 * What a trace (log line, recorded traffic, CLI dump) may show of an APDU: the bytes as they
 * travelled, the security header, and the plaintext only when the viewer holds the keys and
 * the tag verifies. Viewing never touches invocation counters and never throws.
 */
export interface ApduTraceView {
  /** The bytes on the wire, hex. */
  readonly wire: string;
  readonly ciphered: boolean;
  readonly tag?: number;
  readonly form?: string;
  /** SC byte. */
  readonly sc?: number;
  readonly ic?: number;
  /** System title carried by general ciphering, hex. */
  readonly systemTitle?: string;
  /** Deciphered APDU, hex; present only when keys were supplied and the APDU verified. */
  readonly plaintext?: string;
  /** Why there is no plaintext: `no-key`, `malformed`, or the failure's code name. */
  readonly note?: string;
}

export interface TraceViewer {
  readonly keys: DecipherKeys;
  readonly peerSystemTitle?: Uint8Array;
}

export function traceApdu(apdu: Uint8Array, viewer?: TraceViewer): ApduTraceView {
  const wire = toHex(apdu);
  if (apdu.length === 0 || !isCipheredTag(apdu[0]!)) return { wire, ciphered: false };
  let decoded: CipheredApdu;
  try {
    decoded = decodeCipheredApdu(apdu);
  } catch {
    return { wire, ciphered: true, tag: apdu[0]!, note: 'malformed' };
  }
  const header = {
    wire,
    ciphered: true,
    tag: decoded.tag,
    form: decoded.form,
    sc: securityControlByte(decoded.security),
    ic: decoded.ic,
    ...(decoded.systemTitle ? { systemTitle: toHex(decoded.systemTitle) } : {}),
  };
  if (!viewer) return { ...header, note: 'no-key' };
  try {
    const { plaintext } = openCipheredApdu(decoded, viewer.keys, viewer.peerSystemTitle);
    return { ...header, plaintext: toHex(plaintext) };
  } catch (e) {
    return { ...header, note: isSimError(e) ? e.codeName : 'failed' };
  }
}
