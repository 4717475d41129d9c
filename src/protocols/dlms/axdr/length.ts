import type { ByteReader, ByteWriter } from '../../../core/bytes';
import { ErrorCode, SimError } from '../../../core/errors';

/**
 * A-XDR variable-length quantity, used for string lengths and array/structure counts
 * (docs/dlms.md §5 "Length"): below 0x80 one byte; otherwise 0x80|n followed by n big-endian
 * bytes. `82049E` = 1182 (U9N `test_get.py`). We write 81 / 82 / 84 like GXPY
 * `_GXCommon.setObjectCount` does, and accept 81..84 on decode. 0x80 alone (BER "indefinite")
 * has no meaning in A-XDR and is refused.
 */
export function readLength(r: ByteReader, field: string): number {
  const first = r.u8(field);
  if (first < 0x80) return first;
  const n = first & 0x7f;
  if (n === 0 || n > 4) {
    r.fail(`invalid A-XDR length prefix 0x${first.toString(16)}`, field, { prefix: first });
  }
  return r.uint(n, false, field);
}

export function lengthSize(n: number): number {
  if (n < 0x80) return 1;
  if (n <= 0xff) return 2;
  if (n <= 0xffff) return 3;
  return 5;
}

export function writeLength(w: ByteWriter, n: number, path = 'length'): void {
  if (!Number.isInteger(n) || n < 0 || n > 0xffffffff) {
    throw new SimError(ErrorCode.EncodeInvalid, `${path}: length ${n} out of range 0..0xFFFFFFFF`, {
      path,
      value: n,
    });
  }
  if (n < 0x80) w.u8(n);
  else if (n <= 0xff) w.u8(0x81).u8(n);
  else if (n <= 0xffff) w.u8(0x82).u16be(n);
  else w.u8(0x84).u32be(n);
}
