import type { ByteReader, ByteWriter } from '../../../core/bytes';
import { ErrorCode, SimError } from '../../../core/errors';

/**
 * The length that follows a ciphered APDU tag (an OCTET STRING length in A-XDR/BER form):
 * below 0x80 one byte, otherwise 0x81 + 1 byte, 0x82 + 2 bytes ... (docs/dlms.md §5 "Length":
 * `82049E` = 1182). Kept local so this folder depends only on core; the A-XDR codec has the
 * same rule for its own use.
 */

/** Up to 4 length bytes (0x84): an APDU is far below 2^32 bytes. */
const MAX_LENGTH_BYTES = 4;

export function encodedBerLengthSize(n: number): number {
  if (n < 0x80) return 1;
  if (n <= 0xff) return 2;
  if (n <= 0xffff) return 3;
  if (n <= 0xffffff) return 4;
  return 5;
}

export function encodeBerLength(w: ByteWriter, n: number): ByteWriter {
  if (!Number.isInteger(n) || n < 0 || n > 0xffffffff) {
    throw new SimError(ErrorCode.EncodeInvalid, `length ${n} cannot be encoded`, { value: n });
  }
  if (n < 0x80) return w.u8(n);
  const size = encodedBerLengthSize(n) - 1;
  return w.u8(0x80 | size).uint(n, size, false);
}

/**
 * Reads a length. Non-minimal forms (`81 05`) are accepted as peers send them; the indefinite
 * form (`80`) and more than 4 length bytes are refused.
 */
export function decodeBerLength(r: ByteReader, field: string): number {
  const first = r.u8(field);
  if (first < 0x80) return first;
  const size = first & 0x7f;
  if (size === 0 || size > MAX_LENGTH_BYTES) {
    r.fail(`length form 0x${first.toString(16)} not supported`, field, { value: first });
  }
  return r.uint(size, false, field);
}
