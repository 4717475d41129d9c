/**
 * Capture a C12.18 meter (docs/capture.md "C12.18"): log on, read ST0, then every standard and
 * manufacturer table ST0 lists as used (security tables excepted), decode each with the base
 * profile's layout where it has one, and build a stand-alone profile plus a device state that
 * serve those tables again byte for byte.
 *
 * - A manufacturer table the base profile lays out is kept with its layout and its values go
 *   into the state; any other (or one whose bytes do not decode, or do not re-encode to the very
 *   same bytes) becomes a `raw` table holding the captured bytes.
 * - The result is checked before it is returned (c1218-check.ts): the profile and state are
 *   bound to a table engine in memory and every captured table is read back and compared. A
 *   manufacturer table (or ST1/ST5/ST6) that differs becomes raw; any other standard table that
 *   differs is listed as not reproduced.
 * - ST42 / ST45 (passwords, keys) are never read; ST7 is write-only; ST8 and ST52 change by
 *   themselves (procedure results, the clock: its offset goes into the state).
 */
import { systemClock, type Clock } from '../core/clock';
import { ErrorCode, SimError, isTransient } from '../core/errors';
import { silentLogger, type Logger } from '../core/logger';
import type { ModelValue } from '../device/model-paths';
import type { MeterEvent, MeterState } from '../device/state';
import type { C1218ClientOptions } from '../protocols/c1218/client';
import type { C1218TraceEntry } from '../protocols/c1218/trace';
import type { CodecContext, LTime, TableRecord } from '../protocols/c1219/field-types';
import { layoutSize } from '../protocols/c1219/field-types';
import { ltimeToEpochMs } from '../protocols/c1219/ltime';
import {
  ST52_LAYOUT,
  StdTable,
  contextFromGenConfig,
  decodeGenConfig,
  st1Layout,
  st44Layout,
  st5Layout,
} from '../protocols/c1219/standard-layouts';
import { decodeTable } from '../protocols/c1219/table-codec';
import { c1219Map } from '../profiles/c1219-binding-layouts';
import { tableValues } from '../profiles/c1219-binding-records';
import type { Access, FirmwareProfile, StandardTableSpec, TableSpec } from '../profiles/schema';
import { BOUND_STANDARD_TABLES, ENGINE_STANDARD_TABLES } from '../profiles/c1219-binding-standard';
import { MFG_BIT } from '../profiles/wire-ids';
import { openC1218Session, type C1218Credentials } from '../migration/sessions/c1218-session';
import { passwordPad } from '../migration/sessions/c1218-meter-session';
import type { Transport } from '../transport/types';
import { capturedProfile, type CaptureIssue, type NotReproduced } from './profile-doc';
import { capturedState, eventsFor } from './state-builder';
import { compareServed, firstDifference, st0Differences } from './c1218-check';
import { describeError, readWholeTable } from './table-reads';

export interface C1218CaptureOptions {
  /** Transport URI or an open transport (left open). */
  connect: string | Transport;
  /** Base profile: decodes the manufacturer tables. Absent = identified from ST1. */
  profile?: string | FirmwareProfile;
  profilesDir?: string;
  credentials: C1218Credentials;
  /** Id of the captured profile (its file name without .yaml). */
  id: string;
  clock?: Clock;
  logger?: Logger;
  trace?: (entry: C1218TraceEntry) => void;
  client?: Partial<C1218ClientOptions>;
}

/** One table or object of a capture, for the printed summary. */
export interface CapturedItem {
  item: string;
  name: string | null;
  bytes: number;
  /**
   * decoded: values in the state; raw: bytes in the profile; served: built from the profile;
   * not-reproduced: read, but the clone does not serve it (listed in capture.notReproduced).
   */
  how: 'decoded' | 'raw' | 'served' | 'not-reproduced';
  /** C12.18: one full read, or offset-partial reads in chunks (too large for one response). */
  read?: 'full' | 'partial';
}

export interface CaptureOutcome {
  profile: FirmwareProfile;
  state: MeterState;
  events: MeterEvent[];
  items: CapturedItem[];
}

/** Tables whose content is passwords or keys (docs/c1218.md §4): never read, never written. */
export const SECRET_TABLES: ReadonlySet<number> = new Set([StdTable.SECURITY, 45]);

const label = (wireId: number): string => `${wireId & MFG_BIT ? 'MT' : 'ST'}${wireId & 0x7ff}`;

/**
 * Read rights of manufacturer tables from the meter's ST44 (docs/c1218.md §4): ANY_READ, or the
 * base profile's access levels whose group bits GRP_READ_ACCESS holds.
 */
function st44ReadAccess(
  bytes: Buffer | undefined,
  ctx: CodecContext,
  base: FirmwareProfile,
): Map<number, Access> {
  const out = new Map<number, Access>();
  if (!bytes || bytes.length % 4 !== 0) return out;
  try {
    const rec = decodeTable(st44Layout(bytes.length / 4), bytes, ctx);
    for (const e of rec['ACCESS_CONTROL'] as TableRecord[]) {
      const idc = e['TABLE_IDC_BFLD'] as Record<string, number>;
      if (idc['PROC_FLAG'] !== 0) continue;
      const groups = e['GRP_READ_ACCESS'] as number;
      out.set(
        idc['TBL_PROC_NBR']! | (idc['STD_VS_MFG_FLAG'] === 1 ? MFG_BIT : 0),
        idc['ANY_READ'] === 1
          ? 'any'
          : base.accessLevels.filter((l) => groups & (1 << l.group)).map((l) => l.name),
      );
    }
  } catch {
    // An ST44 that does not decode leaves the rights to the base profile (checked by compare()).
  }
  return out;
}

function rawStandard(n: number, bytes: Buffer, read: Access): StandardTableSpec {
  return { id: `ST${n}`, read, write: [], raw: { hex: bytes.toString('hex') } };
}

function rawSpec(n: number, bytes: Buffer, base: TableSpec | undefined, read: Access): TableSpec {
  return {
    id: `MT${n}`,
    name: base?.name ?? `MFG_TABLE_${n}`,
    description: `Captured bytes (${bytes.length}); layout not known to the capture's base profile.`,
    read,
    write: [],
    fields: [],
    raw: { hex: bytes.toString('hex') },
  };
}

interface Reads {
  tables: Map<number, Buffer>;
  how: Map<number, 'full' | 'partial'>;
  unreadable: CaptureIssue[];
  clockAt: number;
}

/** Capture the meter. Throws SimError when it cannot be reached or refuses the logon or ST0. */
export async function captureC1218(o: C1218CaptureOptions): Promise<CaptureOutcome> {
  const clock = o.clock ?? systemClock;
  const log = (o.logger ?? silentLogger).child({ component: 'capture' });
  const session = await openC1218Session({
    connect: o.connect,
    ...(o.profile !== undefined ? { profile: o.profile } : {}),
    ...(o.profilesDir !== undefined ? { profilesDir: o.profilesDir } : {}),
    credentials: o.credentials,
    clock,
    ...(o.logger ? { logger: o.logger } : {}),
    ...(o.trace ? { trace: o.trace } : {}),
    ...(o.client ? { client: o.client } : {}),
  });
  const at = new Date(clock.now()).toISOString();
  let reads: Reads;
  let st0: TableRecord;
  try {
    const client = session.client;
    reads = { tables: new Map(), how: new Map(), unreadable: [], clockAt: clock.now() };
    const read = async (wireId: number): Promise<void> => {
      try {
        const before = clock.now();
        const r = await readWholeTable(client, wireId);
        reads.tables.set(wireId, r.bytes);
        reads.how.set(wireId, r.how);
        if (wireId === StdTable.CLOCK) reads.clockAt = Math.round((before + clock.now()) / 2);
      } catch (e) {
        if (!(e instanceof SimError) || isTransient(e)) throw e;
        reads.unreadable.push({ item: label(wireId), error: describeError(e) });
        log.warn({ table: label(wireId) }, `${label(wireId)} unreadable: ${describeError(e)}`);
      }
    };
    await read(StdTable.GEN_CONFIG);
    const st0Bytes = reads.tables.get(StdTable.GEN_CONFIG);
    if (!st0Bytes)
      throw new SimError(
        ErrorCode.ServiceAccessDenied,
        `ST0 unreadable as ${session.level.name}: ${reads.unreadable[0]?.error ?? ''}`,
      );
    st0 = decodeGenConfig(st0Bytes);
    for (const n of (st0['STD_TBLS_USED'] as number[] | undefined) ?? []) {
      // ST7 is written, not read; ST8 holds the last procedure's answer (dnr until one ran).
      if (n === StdTable.GEN_CONFIG || n === StdTable.PROC_INITIATE || n === StdTable.PROC_RESPONSE) continue;
      if (SECRET_TABLES.has(n)) continue;
      await read(n);
    }
    for (const n of (st0['MFG_TBLS_USED'] as number[] | undefined) ?? []) await read(n | MFG_BIT);
  } finally {
    await session.close();
  }
  return buildC1218Capture(session.profile, session.level.name, st0, reads, at, o.id, clock);
}

function buildC1218Capture(
  base: FirmwareProfile,
  level: string,
  st0: TableRecord,
  reads: Reads,
  at: string,
  id: string,
  clock: Clock,
): Promise<CaptureOutcome> {
  const map = c1219Map(base);
  const ctx = contextFromGenConfig(st0);
  const vc = { ctx, pad: passwordPad(base) };
  const values = new Map<string, ModelValue>();
  const std = ((st0['STD_TBLS_USED'] as number[] | undefined) ?? []).slice();
  const mfg = ((st0['MFG_TBLS_USED'] as number[] | undefined) ?? []).slice();
  const notReproduced: NotReproduced[] = [];
  const decoded = new Set<number>();

  // Manufacturer tables: values through the base layout where it fits exactly.
  for (const n of mfg) {
    const wireId = n | MFG_BIT;
    const bytes = reads.tables.get(wireId);
    const t = map.table(wireId);
    if (!bytes || !t || t.raw) continue;
    try {
      if (layoutSize(t.layout, ctx) !== bytes.length) continue;
      for (const [path, v] of tableValues(t, bytes, vc)) if (!values.has(path)) values.set(path, v);
      decoded.add(wireId);
    } catch {
      // Does not decode with the base layout: kept raw below.
    }
  }
  // Standard tables that carry model values the manufacturer tables may not.
  const st1 = reads.tables.get(StdTable.GENERAL_MFG_ID);
  let st1Rec: TableRecord | undefined;
  if (st1)
    try {
      st1Rec = decodeTable(st1Layout(ctx.idForm), st1, ctx);
      if (!values.has('identity.serial') && ctx.idForm === 0)
        values.set('identity.serial', String(st1Rec['MFG_SERIAL_NUMBER']));
    } catch {
      /* reported by the check below */
    }
  const st5 = reads.tables.get(StdTable.DEVICE_IDENT);
  if (st5 && !values.has('identity.deviceId') && ctx.idForm === 0)
    try {
      const hex = String(decodeTable(st5Layout(0), st5, ctx)['IDENTIFICATION']).trim();
      if (/^[0-9A-Fa-f]{16}$/.test(hex)) values.set('identity.deviceId', parseEui64Hex(hex));
    } catch {
      /* reported by the check below */
    }
  const st52 = reads.tables.get(StdTable.CLOCK);
  if (st52)
    try {
      const rec = decodeTable(ST52_LAYOUT, st52, ctx);
      values.set('clock.now', ltimeToEpochMs(rec['CLOCK_CALENDAR'] as LTime));
    } catch {
      /* the clone then keeps the host's time */
    }

  // The profile: the base, with the tables, procedures and settings ST0 announces.
  const p: FirmwareProfile = structuredClone(base);
  const c1219 = p.c1219!;
  // Which procedures and standard tables the clone really serves (the engine has built-ins the
  // profile does not list) is settled by reading ST0 and every table back from it (finish()).
  const stdProcs = new Set((st0['STD_PROC_USED'] as number[] | undefined) ?? []);
  const mfgProcs = new Set((st0['MFG_PROC_USED'] as number[] | undefined) ?? []);
  const keepProc = (kind: 'SP' | 'MP', used: Set<number>) => (x: { id: string | number }) => {
    const r = map.procedures.find((b) => b.spec.id === x.id && b.ref.kind === kind);
    return r !== undefined && used.has(r.ref.number);
  };
  c1219.standardProcedures = c1219.standardProcedures.filter(keepProc('SP', stdProcs));
  c1219.procedures = c1219.procedures.filter(keepProc('MP', mfgProcs));
  const rights = st44ReadAccess(reads.tables.get(StdTable.ACCESS_CONTROL), ctx, base);
  const baseStd = new Map(map.standardTables.map((s, i) => [s.ref.number, c1219.standardTables[i]!]));
  // Engine tables: the base's entry (its access) or the engine's default; tables the binding
  // fills from the profile and state: the base's entry; any other table: its bytes, raw.
  c1219.standardTables = std.flatMap((n): StandardTableSpec[] => {
    const b = baseStd.get(n);
    if (ENGINE_STANDARD_TABLES.has(n) || (b && BOUND_STANDARD_TABLES.has(n))) return b ? [b] : [];
    const bytes = reads.tables.get(n);
    if (bytes) return [rawStandard(n, bytes, rights.get(n) ?? b?.read ?? [level])];
    notReproduced.push({ item: `ST${n}`, reason: 'unreadable, and the C12.19 binding has no data for it' });
    return [];
  });
  for (const n of std)
    if (SECRET_TABLES.has(n))
      notReproduced.push({
        item: `ST${n}`,
        reason: 'security table: not read (it holds passwords or keys); the clone serves its own',
      });
  const baseTables = new Map(map.tables.map((t, i) => [t.ref.number, c1219.tables[i]!]));
  const tableSpec = (n: number): TableSpec | undefined => {
    const wireId = n | MFG_BIT;
    const bytes = reads.tables.get(wireId);
    const b = baseTables.get(n);
    // The meter's ST44 says who may read it; the base's write rights stay (compare() checks ST44).
    if (decoded.has(wireId) && b) return { ...b, read: rights.get(wireId) ?? b.read };
    if (bytes) return rawSpec(n, bytes, b, rights.get(wireId) ?? b?.read ?? [level]);
    if (!b)
      notReproduced.push({ item: `MT${n}`, reason: 'unreadable, and the base profile does not lay it out' });
    return b;
  };
  c1219.tables = mfg.map(tableSpec).filter((t): t is TableSpec => t !== undefined);
  if (st1Rec) {
    const idn = c1219.identification;
    idn.manufacturer = String(st1Rec['MANUFACTURER']) || idn.manufacturer;
    idn.edModel = String(st1Rec['ED_MODEL']) || idn.edModel;
    idn.hwVersion = st1Rec['HW_VERSION_NUMBER'] as number;
    idn.hwRevision = st1Rec['HW_REVISION_NUMBER'] as number;
    idn.fwVersion = st1Rec['FW_VERSION_NUMBER'] as number;
    idn.fwRevision = st1Rec['FW_REVISION_NUMBER'] as number;
  }
  c1219.deviceClass = Buffer.from(st0['DEVICE_CLASS'] as Uint8Array).toString('latin1');
  if (p.protocol.stack === 'c1218') {
    const c = p.protocol.c1218;
    c.dataOrder = ctx.dataOrder;
    c.charFormat = ctx.charFormat === 2 ? 'iso-8859-1' : 'iso-646';
    c.tmFormat = ctx.tmFormat;
    c.idForm = ctx.idForm === 1 ? 'bcd' : 'string';
  }
  for (const k of ['manufacturer', 'model', 'applicationFirmwareId', 'metrologyFirmwareId'] as const) {
    const v = values.get(`identity.${k}`);
    if (typeof v === 'string' && v) p.identity[k] = v;
  }
  const capturedPaths = [
    'identity',
    'c1219.identification',
    'c1219.deviceClass',
    'protocol.c1218.dataOrder',
    'protocol.c1218.charFormat',
    'protocol.c1218.tmFormat',
    'protocol.c1218.idForm',
    ...c1219.tables.filter((t) => reads.tables.has(tableWire(t))).map((t) => `c1219.tables[${labelOf(t)}]`),
  ];
  return finish(base, p, values, reads, { at, id, level, notReproduced, capturedPaths }, clock);
}

/** ST5's 16 hex digits as the canonical EUI-64 (st5Record in c1219-binding-standard.ts). */
function parseEui64Hex(hex: string): string {
  return hex.toUpperCase().match(/../g)!.join('-');
}

function tableWire(t: TableSpec): number {
  const n = typeof t.id === 'number' ? t.id & 0x7ff : Number(String(t.id).slice(2));
  return n | MFG_BIT;
}

function stdNumber(t: { id: string | number }): number {
  return typeof t.id === 'number' ? t.id : Number(String(t.id).slice(2));
}

function labelOf(t: TableSpec): string {
  return label(tableWire(t));
}

async function finish(
  base: FirmwareProfile,
  draft: FirmwareProfile,
  values: Map<string, ModelValue>,
  reads: Reads,
  m: { at: string; id: string; level: string; notReproduced: NotReproduced[]; capturedPaths: string[] },
  clock: Clock,
): Promise<CaptureOutcome> {
  const built = capturedState(base, m.id, values, reads.clockAt, clock.now());
  const events = eventsFor(built, [], clock.now() + built.clock.offsetMs);
  let profile = draft;
  const notReproduced = [...m.notReproduced];
  const withMeta = (p: FirmwareProfile): FirmwareProfile =>
    capturedProfile(p, {
      id: m.id,
      at: m.at,
      stack: 'c1218',
      base: base.id,
      as: m.level,
      unreadable: reads.unreadable,
      notReproduced,
      capturedPaths: m.capturedPaths,
    });
  // Read back every captured table from the clone; a bound table that differs becomes raw.
  for (let pass = 0; pass < 2; pass++) {
    const candidate = withMeta(profile);
    const diffs = await compareServed(candidate, built, events, reads.tables, clock);
    // Manufacturer tables and the standard tables the binding fills (ST1, ST5, ST6) can be raw.
    const fixable = diffs.filter((d) =>
      d.wireId & MFG_BIT
        ? !candidate.c1219!.tables.find((t) => tableWire(t) === d.wireId)?.raw
        : BOUND_STANDARD_TABLES.has(d.wireId) &&
          !candidate.c1219!.standardTables.find((t) => stdNumber(t) === d.wireId)?.raw,
    );
    if (pass === 0 && fixable.length > 0) {
      const c1219 = structuredClone(profile.c1219!);
      const fix = (w: number): boolean => fixable.some((d) => d.wireId === w);
      c1219.tables = c1219.tables.map((t) => {
        const w = tableWire(t);
        return fix(w) ? rawSpec(w & 0x7ff, reads.tables.get(w)!, t, t.read) : t;
      });
      c1219.standardTables = c1219.standardTables.map((t) =>
        fix(stdNumber(t)) ? rawStandard(stdNumber(t), reads.tables.get(stdNumber(t))!, t.read) : t,
      );
      profile = { ...profile, c1219 };
      continue;
    }
    for (const d of diffs)
      notReproduced.push({
        item: label(d.wireId),
        reason:
          (d.wireId === StdTable.GEN_CONFIG && d.served ? st0Differences(d.captured, d.served) : '') +
          `the clone serves ${d.served === null ? 'nothing' : `${d.served.length} byte(s), differing from byte ${firstDifference(d.served, d.captured)}`} of the ${d.captured.length} captured`,
      });
    const final = withMeta(profile);
    const items: CapturedItem[] = [...reads.tables].map(([w, bytes]) => {
      const t = final.c1219!.tables.find((x) => tableWire(x) === w);
      return {
        item: label(w),
        name: t?.name ?? null,
        bytes: bytes.length,
        how: w & MFG_BIT ? (t?.raw ? 'raw' : 'decoded') : 'served',
        read: reads.how.get(w) ?? 'full',
      };
    });
    return { profile: final, state: built, events, items };
  }
  throw new Error('unreachable');
}
