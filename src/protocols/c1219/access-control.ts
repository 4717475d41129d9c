/**
 * Table and procedure access rights as ST44 ACCESS_CONTROL_TBL describes them (docs/c1218.md §4):
 * per table or procedure, ANY_READ / ANY_WRITE flags and READ / WRITE group masks matched against
 * the ACCESS_PERMISSIONS byte of the ST42 password the session presented.
 */
import { MFG_FLAG, type SessionAccess } from './contract';
import type { TableRecord } from './field-types';

export interface Access {
  /** Anyone may read (ST44 ANY_READ), even before Security. */
  anyRead?: boolean;
  /** Anyone may write / execute (ST44 ANY_WRITE). */
  anyWrite?: boolean;
  /** Group mask allowed to read (ST44 GRP_READ_ACCESS). */
  read?: number;
  /**
   * Group mask allowed to write (ST44 GRP_WRITE_ACCESS). For a procedure this is the right to
   * run it through ST7 (modelled: procedures are initiated by a write).
   */
  write?: number;
}

/** [I] docs/c1218.md §4: allowed by ANY_READ or by a shared group bit, else the answer is isc. */
export function mayRead(a: Access, s: SessionAccess): boolean {
  return a.anyRead === true || (s.groups & (a.read ?? 0) & 0xff) !== 0;
}

export function mayWrite(a: Access, s: SessionAccess): boolean {
  return a.anyWrite === true || (s.groups & (a.write ?? 0) & 0xff) !== 0;
}

export interface AccessEntry {
  /** Table id (STn/MTn) or procedure id (SPn/MPn) as the engine registers it. */
  id: number;
  procedure: boolean;
  access: Access;
}

/** One ST44 row per served table and procedure: tables first, then procedures, each by id. */
export function accessControlRecord(entries: readonly AccessEntry[]): TableRecord {
  const sorted = [...entries].sort((a, b) => Number(a.procedure) - Number(b.procedure) || a.id - b.id);
  return {
    ACCESS_CONTROL: sorted.map((e) => ({
      TABLE_IDC_BFLD: {
        TBL_PROC_NBR: e.id & 0x7ff,
        STD_VS_MFG_FLAG: e.id & MFG_FLAG ? 1 : 0,
        PROC_FLAG: e.procedure ? 1 : 0,
        ANY_READ: e.access.anyRead ? 1 : 0,
        ANY_WRITE: e.access.anyWrite ? 1 : 0,
      },
      GRP_READ_ACCESS: (e.access.read ?? 0) & 0xff,
      GRP_WRITE_ACCESS: (e.access.write ?? 0) & 0xff,
    })),
  };
}
