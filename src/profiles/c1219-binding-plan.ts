/**
 * What binding a profile's C12.19 tables to a meter needs that depends on neither the meter nor
 * the connection, built once per profile object (a WeakMap, as c1219Map is).
 *
 * Why: a farm binds one table engine per TCP connection (bindC1219), so a sweep of 10,000 meters
 * builds 10,000 of them, and each binding lives as long as its connection. With this plan a build
 * only creates the engine and registers the shared definitions below: their callbacks are given
 * the binding (the engine's host, table-engine.ts SharedTableDefinition) instead of closing over
 * it, so a build allocates no closure, layout or buffer per table or procedure.
 *
 * Cached per profile:
 * - the C12.19 map (c1219-binding-layouts.ts) and the value context (format, password pad);
 * - the engine's ST0 options (DEVICE_CLASS bytes, NAMEPLATE_TYPE) and the access of the
 *   engine's own tables from `standardTables`; a profile listing a standard table that nothing
 *   serves is refused here, before any engine is built;
 * - one definition per served table, in registration order: ST1/ST5/ST6 and captured standard
 *   tables, then the manufacturer tables. Their layouts are the same objects for every engine,
 *   so the engine validates each once (field-types.ts validateLayout remembers valid layouts);
 * - one definition per procedure, its parameter block size (ST0 MAX_PROC_PARM_LENGTH) computed
 *   once.
 * Nothing here holds meter or session state: ST8, the device state and the events stay per
 * binding (test/sim/c1219-binding-cache.test.ts).
 */
import { ErrorCode, SimError } from '../core/errors';
import type { Access } from '../protocols/c1219/access-control';
import type { GenConfigOptions } from '../protocols/c1219/engine-types';
import { layoutSize, type TableLayout } from '../protocols/c1219/field-types';
import { encodeTable } from '../protocols/c1219/table-codec';
import type { SharedProcedureDefinition, SharedTableDefinition } from '../protocols/c1219/table-engine';
import type { C1219Binding } from './c1219-binding';
import { c1219Map, type BoundProcedure, type C1219Map } from './c1219-binding-layouts';
import { MAX_PROCEDURE_RESPONSE } from './c1219-binding-procedures';
import { encodeTableRecord, recordValues } from './c1219-binding-records';
import {
  BOUND_STANDARD_TABLES,
  ENGINE_STANDARD_TABLES,
  standardTableLayout,
  standardTableRecord,
} from './c1219-binding-standard';
import type { ValueContext } from './c1219-binding-values';
import { applyTableWrite } from './c1219-binding-writes';
import type { FirmwareProfile } from './schema';

/** SP3/SP6/SP7/SP8 are engine built-ins (SP3 only with clearData, which is not given). */
const ENGINE_PROCEDURES: ReadonlySet<number> = new Set([6, 7, 8]);

export interface PlannedProcedure {
  bound: BoundProcedure;
  def: SharedProcedureDefinition<C1219Binding>;
  /** A standard procedure the engine runs itself: binding the profile fails when reached. */
  builtin: boolean;
}

export interface C1219BindPlan {
  map: C1219Map;
  vc: ValueContext;
  genConfig: GenConfigOptions;
  /** ST52 and the other engine tables: the access the profile lists. */
  tableAccess: Readonly<Record<number, Access>>;
  securityPad: 0x00 | 0x20;
  tables: readonly SharedTableDefinition<C1219Binding>[];
  procedures: readonly PlannedProcedure[];
}

function standardTables(p: FirmwareProfile, map: C1219Map): SharedTableDefinition<C1219Binding>[] {
  const ctx = map.context;
  const defs: SharedTableDefinition<C1219Binding>[] = [];
  for (const st of map.standardTables) {
    const raw = st.raw;
    const n = st.ref.number;
    if (raw && !ENGINE_STANDARD_TABLES.has(n)) {
      // A captured table (docs/capture.md): its bytes as they were read.
      const layout: TableLayout = {
        id: st.ref.wireId,
        name: st.ref.label,
        fields: [{ name: 'RAW', type: 'BINARY', size: raw.length }],
      };
      defs.push({ id: st.ref.wireId, layout, access: st.access, read: () => Buffer.from(raw) });
      continue;
    }
    if (!BOUND_STANDARD_TABLES.has(n)) continue;
    const layout = standardTableLayout(n, ctx);
    defs.push({
      id: st.ref.wireId,
      layout,
      access: st.access,
      read: (b) => encodeTable(layout, standardTableRecord(n, p, b.meter.state, ctx), ctx),
    });
  }
  return defs;
}

function manufacturerTables(map: C1219Map, vc: ValueContext): SharedTableDefinition<C1219Binding>[] {
  return map.tables.map((t) => {
    const raw = t.raw;
    const def: SharedTableDefinition<C1219Binding> = {
      id: t.ref.wireId,
      layout: t.layout,
      access: t.access,
      read: raw ? () => Buffer.from(raw) : (b) => encodeTableRecord(t, b.meter.state, b.meter.now(), vc),
    };
    if (t.writable)
      def.write = (record, info, b) =>
        applyTableWrite(b.meter, recordValues(t, record, vc), b.actorOf(info.access));
    return def;
  });
}

function procedures(map: C1219Map): PlannedProcedure[] {
  return map.procedures.map((proc) => ({
    bound: proc,
    builtin: proc.ref.kind === 'SP' && ENGINE_PROCEDURES.has(proc.ref.number),
    def: {
      id: proc.ref.wireId,
      name: proc.spec.name,
      access: proc.access,
      maxParamLength: layoutSize(proc.layout, map.context),
      maxResponseLength: MAX_PROCEDURE_RESPONSE,
      run: (params, access, b) => b.runProcedure(proc, params, access),
    },
  }));
}

function buildPlan(p: FirmwareProfile): C1219BindPlan {
  const map = c1219Map(p);
  const c = p.protocol.stack === 'c1218' ? p.protocol.c1218 : undefined;
  const vc: ValueContext = { ctx: map.context, pad: c?.passwordPad ?? 0x00 };
  const tableAccess: Record<number, Access> = {};
  for (const st of map.standardTables) {
    const n = st.ref.number;
    if (!ENGINE_STANDARD_TABLES.has(n) && !BOUND_STANDARD_TABLES.has(n) && !st.raw)
      throw new SimError(
        ErrorCode.ProfileIncompatible,
        `${p.id}: ${st.ref.label} is listed, but the C12.19 binding serves no data for it`,
        { profile: p.id, table: st.ref.label },
      );
    if (ENGINE_STANDARD_TABLES.has(n)) tableAccess[n] = st.access;
  }
  return {
    map,
    vc,
    genConfig: {
      // Shared by every engine of the profile; the engine only reads it.
      deviceClass: Buffer.from(p.c1219!.deviceClass, 'latin1'),
      // ST0 NAMEPLATE_TYPE: 0 gas, 2 electric (docs/c1218.md §3).
      nameplateType: p.identity.deviceType === 'GSME' ? 0 : 2,
    },
    tableAccess,
    securityPad: vc.pad === 0x20 ? 0x20 : 0x00,
    tables: [...standardTables(p, map), ...manufacturerTables(map, vc)],
    procedures: procedures(map),
  };
}

const plans = new WeakMap<FirmwareProfile, C1219BindPlan>();

/**
 * The bind plan of a c1218 profile (cached per profile object, like c1219Map). Throws
 * ProfileIncompatible as binding would; a profile that throws is not cached.
 */
export function c1219BindPlan(p: FirmwareProfile): C1219BindPlan {
  let plan = plans.get(p);
  if (!plan) {
    plan = buildPlan(p);
    plans.set(p, plan);
  }
  return plan;
}
