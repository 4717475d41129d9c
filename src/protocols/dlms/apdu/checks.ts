import { encodeError } from '../axdr/limits';

/** Range checks for encoders, failing with EncodeInvalid and the field's path. */
export function checkInt(v: number, min: number, max: number, path: string): void {
  if (!Number.isInteger(v) || v < min || v > max) {
    throw encodeError(path, `value ${v} out of range ${min}..${max}`, { value: v });
  }
}

export const checkU8 = (v: number, path: string): void => checkInt(v, 0, 0xff, path);
export const checkI8 = (v: number, path: string): void => checkInt(v, -0x80, 0x7f, path);
export const checkU16 = (v: number, path: string): void => checkInt(v, 0, 0xffff, path);
export const checkU32 = (v: number, path: string): void => checkInt(v, 0, 0xffffffff, path);

export function checkOctets(v: Uint8Array, n: number, path: string): void {
  if (!(v instanceof Uint8Array) || v.length !== n) {
    throw encodeError(
      path,
      `needs exactly ${n} octets, got ${v instanceof Uint8Array ? v.length : typeof v}`,
    );
  }
}
