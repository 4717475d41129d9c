/**
 * Table and procedure ids as written in profiles: `MT<n>` / `MP<n>` for manufacturer items,
 * `ST<n>` / `SP<n>` for standard ones, or a number. Bit 11 marks manufacturer items on the
 * wire, so MTn = MPn = 2048 + n (docs/c1218.md §2, §3). A number given for a manufacturer item
 * is read as its wire id (e.g. 2049 = MT1), the form tools such as termineter print.
 */
export type WireKind = 'MT' | 'ST' | 'MP' | 'SP';

export interface WireRef {
  kind: WireKind;
  /** Number within its space (the n of MTn). */
  number: number;
  /** The 16-bit id sent on the wire. */
  wireId: number;
  label: string;
}

export const MFG_BIT = 0x0800;

/** Parse an id of the given kind; a string result is the reason it is invalid. */
export function parseWireRef(kind: WireKind, id: string | number): WireRef | string {
  const manufacturer = kind === 'MT' || kind === 'MP';
  let n: number;
  if (typeof id === 'string') {
    if (!id.startsWith(kind)) return `expected ${kind}<n>, got ${id}`;
    n = Number(id.slice(kind.length));
  } else if (manufacturer) {
    if (id < MFG_BIT || id > 0x0fff)
      return `numeric ${kind} ids are wire ids ${MFG_BIT}–4095 (MT1 = 2049); got ${id}`;
    n = id - MFG_BIT;
  } else {
    n = id;
  }
  if (!Number.isInteger(n) || n < 0 || n > 2047) return `${kind} number must be 0–2047, got ${n}`;
  return { kind, number: n, wireId: manufacturer ? MFG_BIT + n : n, label: `${kind}${n}` };
}

/**
 * Standard tables a C12.19 engine for this project knows (docs/c1218.md §3 and §4); a profile
 * naming any other is an error, so a typo cannot silently expose nothing.
 */
export const KNOWN_STANDARD_TABLES: ReadonlySet<number> = new Set([
  0, 1, 2, 3, 5, 6, 7, 8, 20, 21, 22, 23, 40, 41, 42, 44, 45, 52, 110, 111, 112, 113, 114, 115, 116, 117, 118,
]);

/** Standard procedure numbers listed in docs/c1218.md §3 (0–32). */
export const KNOWN_STANDARD_PROCEDURES: ReadonlySet<number> = new Set([
  0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 27, 28, 29, 30, 31, 32,
]);
