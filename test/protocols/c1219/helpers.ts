import type { SessionAccess } from '../../../src/protocols/c1219/contract';

/** A session as the C12.18 layer would describe it after Logon (+ Security when groups != 0). */
export function session(groups = 0, userId = 0): SessionAccess {
  return { userId, user: '0000', groups, authenticated: groups !== 0 };
}

/** C12.18 table-data checksum: two's complement of the byte sum (docs/c1218.md §2 "K"). */
export function psemChecksum(data: Uint8Array): number {
  let sum = 0;
  for (const b of data) sum = (sum + b) & 0xff;
  return (0x100 - sum) & 0xff;
}

/** A promise with its resolve handle, for observing ordering without timers. */
export function deferred<T = void>(): { promise: Promise<T>; resolve: (v: T) => void } {
  let resolve!: (v: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}
