/**
 * Images of the standard tables the engine owns and builds from its sources on every read:
 * ST3 (mode/status store), ST41/ST42 (security options), ST52 (meter clock). ST0 and ST44 are
 * built from the registry (gen-config.ts, access-control.ts); ST7/ST8 live in the engine.
 */
import type { Access } from './access-control';
import type { MeterClock, ModeStatusStore, PasswordEntry } from './engine-types';
import type { CodecContext, TableRecord } from './field-types';
import { ltimeFromEpochMs } from './ltime';
import { PASSWORD_LEN } from './password-auth';
import {
  ED_MODE_BITS,
  ED_STD_STATUS1_BITS,
  ST41_LAYOUT,
  ST52_LAYOUT,
  StdTable,
  st3Layout,
  st42Layout,
} from './standard-layouts';
import { dayOfWeek, qualifierBits } from './standard-procedures';
import { encodeTable, unpackBits } from './table-codec';

/**
 * Default access to the engine's own tables (modelled: SMETS1 ST44 contents are not public).
 * ST0 must be readable before Security: termineter's `connect` reads it after Logon without
 * Security (docs/c1218.md §2 "Session order"). ST7 is open for writing because each procedure
 * carries its own right (checked in the engine).
 */
export const DEFAULT_TABLE_ACCESS: Readonly<Record<number, Access>> = {
  [StdTable.GEN_CONFIG]: { anyRead: true },
  [StdTable.ED_MODE_STATUS]: { anyRead: true },
  [StdTable.PROC_INITIATE]: { anyWrite: true },
  [StdTable.PROC_RESPONSE]: { anyRead: true },
  [StdTable.ACT_SECURITY_LIMITING]: { anyRead: true },
  // Passwords are blanked on read (see ST42_BLANK), so ST42 only reveals group masks; still
  // limited to sessions holding some group.
  [StdTable.SECURITY]: { read: 0xff },
  [StdTable.ACCESS_CONTROL]: { anyRead: true },
  [StdTable.CLOCK]: { anyRead: true },
};

/**
 * Byte that replaces every password byte when ST42 is read. Passwords never leave the device;
 * the table keeps its layout (NBR_PASSWORDS x (PASSWORD_LEN + 1)) because termineter's
 * get_security_info rejects an ST42 of any other length [T `security.py`], so an authorised
 * reader still learns the group masks. 0xFF rather than 0x00 because 20 zero bytes is
 * termineter's default password and would read as a real one. modelled.
 */
export const ST42_BLANK = 0xff;

export async function modeStatusImage(
  store: ModeStatusStore,
  mfgStatusBytes: number,
  ctx: CodecContext,
): Promise<Buffer> {
  const mode = await store.getMode();
  const s = await store.getStatus();
  const rec: TableRecord = {
    ED_MODE: unpackBits(ED_MODE_BITS, mode & 0xff),
    ED_STD_STATUS1: unpackBits(ED_STD_STATUS1_BITS, s.std1 & 0xffff),
    ED_STD_STATUS2: s.std2 & 0xff,
  };
  if (mfgStatusBytes > 0) rec['ED_MFG_STATUS'] = s.mfg.filter((i) => i < mfgStatusBytes * 8);
  return encodeTable(st3Layout(mfgStatusBytes), rec, ctx);
}

export function securityLimitingImage(nbrPasswords: number, nbrPermUsed: number, ctx: CodecContext): Buffer {
  return encodeTable(
    ST41_LAYOUT,
    {
      NBR_PASSWORDS: Math.min(255, nbrPasswords),
      PASSWORD_LEN,
      // C12.21 keys (ST45) are not served by this engine.
      NBR_KEYS: 0,
      KEY_LEN: 0,
      NBR_PERM_USED: nbrPermUsed,
    },
    ctx,
  );
}

export function securityImage(entries: readonly PasswordEntry[], ctx: CodecContext): Buffer {
  const list = entries.slice(0, 255);
  const blank = Buffer.alloc(PASSWORD_LEN, ST42_BLANK);
  return encodeTable(
    st42Layout(list.length, PASSWORD_LEN),
    { PASSWORDS: list.map((e) => ({ PASSWORD: blank, ACCESS_PERMISSIONS: e.groups & 0xff })) },
    ctx,
  );
}

export async function clockImage(clock: MeterClock, ctx: CodecContext): Promise<Buffer> {
  const t = ltimeFromEpochMs(await clock.now());
  const q = (await clock.qualifier?.()) ?? {};
  return encodeTable(ST52_LAYOUT, { CLOCK_CALENDAR: t, TIME_DATE_QUAL: qualifierBits(q, dayOfWeek(t)) }, ctx);
}
