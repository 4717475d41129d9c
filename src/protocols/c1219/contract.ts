/**
 * The contract between the C12.18 server session (src/protocols/c1218) and whatever serves
 * C12.19 tables behind it (src/protocols/c1219, bound to a device through a profile).
 *
 * The session owns framing, link, Ident/Negotiate/Logon/Security/Logoff/Terminate and
 * turns PSEM read/write requests into calls here. The table server owns table contents,
 * access control per table, ST7/ST8 procedure execution and password checking (passwords
 * live in ST42, lock-out state in the device).
 */

/** PSEM response codes (docs/c1218.md §2). */
export const PsemCode = {
  ok: 0x00,
  err: 0x01,
  sns: 0x02,
  isc: 0x03,
  onp: 0x04,
  iar: 0x05,
  bsy: 0x06,
  dnr: 0x07,
  dlk: 0x08,
  rno: 0x09,
  isss: 0x0a,
} as const;
export type PsemCodeName = keyof typeof PsemCode;
export type PsemCodeValue = (typeof PsemCode)[PsemCodeName];

/** Who is asking: established by Logon (user id + name) and Security (password). */
export interface SessionAccess {
  userId: number;
  /** User name from Logon, trailing pad removed. */
  user: string;
  /** ST42 ACCESS_PERMISSIONS group bitmask of the matched password; 0 before Security. */
  groups: number;
  /** True once a Security request was accepted. */
  authenticated: boolean;
}

export type TableReadResult =
  { code: typeof PsemCode.ok; data: Buffer } | { code: Exclude<PsemCodeValue, 0> };
export type TableWriteResult = { code: PsemCodeValue };

export type AuthResult =
  | { ok: true; groups: number }
  /** isc for a wrong password, dlk while locked out after repeated failures. */
  | { ok: false; code: PsemCodeValue; reason: string };

export interface TableServer {
  /** Full read when `range` is undefined, else a partial read by offset. */
  read(
    tableId: number,
    range: { offset: number; count: number } | undefined,
    access: SessionAccess,
  ): Promise<TableReadResult>;
  /** Full write when `offset` is undefined. A write to ST7 runs a procedure. */
  write(
    tableId: number,
    offset: number | undefined,
    data: Buffer,
    access: SessionAccess,
  ): Promise<TableWriteResult>;
  /** Check a 20-byte Security password for the logged-on user. */
  authenticate(userId: number, user: string, password: Buffer): Promise<AuthResult>;
  /** Called when a session ends (Terminate, timeout, new Ident), e.g. to drop pending ST8 results. */
  endSession?(access: SessionAccess): void;
}

/** Table id helpers: bit 11 marks manufacturer tables/procedures (MTn/MPn = 2048 + n). */
export const MFG_FLAG = 0x0800;
export const mt = (n: number): number => MFG_FLAG + n;
export const mp = (n: number): number => MFG_FLAG + n;
