import type { ByteReader } from '../../../core/bytes';
import { encodeError } from '../axdr/limits';

/**
 * Ciphered APDUs pass through this layer unopened: the security layer
 * (src/protocols/dlms/security) parses and deciphers them, then hands the plaintext back to
 * decodeApdu. Recognised tags (docs/dlms.md §7 "Glo tags", GXPY `enums/Command.py`):
 * glo-initiate 21/28, glo-confirmed-service-error 2E, ded-initiate 41/48/4E, glo GET/SET/ACTION
 * and event-notification C8-CD, CF, ded D0-D5, D7, general-glo/ded/general ciphering DB/DC/DD.
 */
export const CIPHERED_TAGS: ReadonlySet<number> = new Set([
  0x21, 0x28, 0x2e, 0x41, 0x48, 0x4e, 0xc8, 0xc9, 0xca, 0xcb, 0xcc, 0xcd, 0xcf, 0xd0, 0xd1, 0xd2, 0xd3, 0xd4,
  0xd5, 0xd7, 0xdb, 0xdc, 0xdd,
]);

export interface OpaqueCipheredApdu {
  readonly type: 'ciphered';
  readonly tag: number;
  /** The whole APDU, tag included, as received (a copy). */
  readonly raw: Buffer;
}

/** The tag has just been read: keep it and everything after it, to the end of the reader's window. */
export function readOpaqueCiphered(r: ByteReader, tag: number): OpaqueCipheredApdu {
  const body = r.rest();
  const raw = Buffer.allocUnsafe(body.length + 1);
  raw[0] = tag;
  body.copy(raw, 1);
  return { type: 'ciphered', tag, raw };
}

export function opaqueCipheredBytes(a: OpaqueCipheredApdu, path: string): Buffer {
  if (!CIPHERED_TAGS.has(a.tag) || a.raw.length === 0 || a.raw[0] !== a.tag) {
    throw encodeError(path, `ciphered APDU raw bytes must start with its tag 0x${a.tag.toString(16)}`);
  }
  return a.raw;
}
