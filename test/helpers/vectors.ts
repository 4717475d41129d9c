/**
 * Shared helpers for byte-vector tests: hex assembly, capturing a coded error, and the
 * parse / generate / round-trip check every documented vector goes through (the mqtt-packet
 * `testParseGenerate` habit, docs/anchors-style.md).
 */
import { fromHex, toHex } from '../../src/core/bytes';
import { SimError } from '../../src/core/errors';

/** Join hex fragments (one field per argument) into bytes. */
export const hx = (...parts: string[]): Buffer => fromHex(parts.join(''));

/** Run `fn` and return the SimError it throws; fail the test if it throws nothing or something else. */
export function errorOf(fn: () => unknown): SimError {
  try {
    fn();
  } catch (e) {
    if (e instanceof SimError) return e;
    throw e;
  }
  throw new Error('expected a SimError');
}

/** A checker asserting that `bytes` decodes to `value` and `value` encodes to exactly `bytes`. */
export function vectorChecker<T>(
  decode: (bytes: Buffer) => T,
  encode: (value: T) => Uint8Array,
): (bytes: Buffer, value: T) => void {
  return (bytes, value) => {
    expect(decode(bytes)).toEqual(value);
    expect(toHex(encode(value))).toBe(toHex(bytes));
  };
}
