/**
 * A firmware profile's C12.19 data map as engine rows (CONVENTIONS "spec tables are data"):
 * one TableLayout per manufacturer table and per procedure parameter block, built once per
 * profile. The meter side (c1219-binding.ts) encodes with these layouts and the client side
 * (src/migration/sessions/c1218-session.ts) decodes with the very same ones, so the two can
 * never disagree about a byte.
 */
import { ErrorCode, SimError } from '../core/errors';
import { modelPathSpec, type ModelPathSpec } from '../device/model-paths';
import type { Access as EngineAccess } from '../protocols/c1219/access-control';
import { StdTable } from '../protocols/c1219/standard-layouts';
import type { CodecContext, ScalarField, TableLayout } from '../protocols/c1219/field-types';
import { accessMask } from './device-binding';
import { actionSpec, type ActionSpec, type ArgKind } from './procedure-actions';
import type {
  Access,
  FieldSpec,
  FirmwareProfile,
  ParamSpec,
  ProcedureSpec,
  StandardProcedureSpec,
  TableSpec,
} from './schema';
import { parseWireRef, type WireKind, type WireRef } from './wire-ids';

/** A profile table field with its engine row and, for a `source:` field, the model path. */
export interface BoundField {
  spec: FieldSpec;
  def: ScalarField;
  /** Present for `source:` fields. */
  path?: ModelPathSpec;
}

export interface BoundTable {
  spec: TableSpec;
  ref: WireRef;
  layout: TableLayout;
  fields: readonly BoundField[];
  /** Right to read / write it, as ST44 describes it. */
  access: EngineAccess;
  writable: boolean;
  /** A `raw` table: served as these bytes (layout: one BINARY field, RAW). */
  raw?: Buffer;
}

export interface BoundParam {
  spec: ParamSpec;
  def: ScalarField;
  /** What the argument is (from PROCEDURE_ACTIONS); absent for FILL. */
  kind?: ArgKind;
  /** The operation argument it fills (`by`, `newSecrets.reader`, ...). */
  arg?: string;
  /** Allowed values of an enum argument; the longest text of a text argument. */
  values?: readonly string[];
  maxLength?: number;
  required: boolean;
}

export interface BoundProcedure {
  spec: ProcedureSpec | StandardProcedureSpec;
  ref: WireRef;
  action: string;
  actionSpec: ActionSpec;
  /** ST7 PARM layout (id 7: parameters travel in ST7). */
  layout: TableLayout;
  params: readonly BoundParam[];
  /** `write` is the right to run it (ST44 for procedures). */
  access: EngineAccess;
  /** Access levels a per-level argument (newSecrets.<level>) is given for, in param order. */
  perLevel: readonly string[];
}

export interface BoundStandardTable {
  ref: WireRef;
  access: EngineAccess;
  /** A `raw` standard table: served as these bytes. */
  raw?: Buffer;
}

export interface C1219Map {
  profile: FirmwareProfile;
  context: CodecContext;
  standardTables: readonly BoundStandardTable[];
  tables: readonly BoundTable[];
  procedures: readonly BoundProcedure[];
  /** The first table field carrying each model path (table order, then field order). */
  sources: ReadonlyMap<string, { table: BoundTable; field: BoundField }>;
  procedureByAction(action: string): BoundProcedure | undefined;
  table(wireId: number): BoundTable | undefined;
}

function incompatible(p: FirmwareProfile, path: string, reason: string): SimError {
  return new SimError(ErrorCode.ProfileIncompatible, `${p.id}: ${path}: ${reason}`, {
    profile: p.id,
    path,
    reason,
  });
}

/**
 * ST0 format settings of a c1218 profile. The engine encodes ISO 646 and Latin-1 only, so a
 * profile asking for UTF-8/16/32 cannot be bound (docs/c1219-implementation.md).
 */
export function codecContextOf(p: FirmwareProfile): CodecContext {
  if (p.protocol.stack !== 'c1218')
    throw incompatible(p, 'protocol.stack', `${p.protocol.stack} is not bound to C12.19 tables`);
  const c = p.protocol.c1218;
  const charFormat = c.charFormat === 'iso-646' ? 1 : c.charFormat === 'iso-8859-1' ? 2 : undefined;
  if (charFormat === undefined)
    throw incompatible(
      p,
      'protocol.c1218.charFormat',
      `${c.charFormat} is not supported (iso-646, iso-8859-1)`,
    );
  return { dataOrder: c.dataOrder, charFormat, tmFormat: c.tmFormat, idForm: c.idForm === 'bcd' ? 1 : 0 };
}

/** A profile access pair as ST44 rights: 'any' = ANY_READ/ANY_WRITE, else group bits. */
export function engineAccess(p: FirmwareProfile, read: Access, write: Access): EngineAccess {
  const r = accessMask(p, read);
  const w = accessMask(p, write);
  return {
    ...(r.any ? { anyRead: true } : {}),
    ...(w.any ? { anyWrite: true } : {}),
    read: r.groups,
    write: w.groups,
  };
}

function isWritable(a: Access): boolean {
  return a === 'any' || a.length > 0;
}

function scalar(spec: { name: string; type: FieldSpec['type']; size?: number | undefined }): ScalarField {
  return spec.size === undefined
    ? { name: spec.name, type: spec.type }
    : { name: spec.name, type: spec.type, size: spec.size };
}

function ref(p: FirmwareProfile, kind: WireKind, id: string | number, path: string): WireRef {
  const r = parseWireRef(kind, id);
  if (typeof r === 'string') throw incompatible(p, path, r);
  return r;
}

function bindTable(p: FirmwareProfile, t: TableSpec, i: number): BoundTable {
  const r = ref(p, 'MT', t.id, `c1219.tables[${i}].id`);
  if (t.raw !== undefined) {
    // Opaque (captured) table: its bytes as they were read, no model path behind them.
    const raw = Buffer.from(t.raw.hex, 'hex');
    return {
      spec: t,
      ref: r,
      layout: { id: r.wireId, name: t.name, fields: [{ name: 'RAW', type: 'BINARY', size: raw.length }] },
      fields: [],
      access: engineAccess(p, t.read, []),
      writable: false,
      raw,
    };
  }
  const fields: BoundField[] = t.fields.map((f, j) => {
    const def = scalar(f);
    if (f.source === undefined) return { spec: f, def };
    const path = modelPathSpec(f.source);
    // semantic.ts already refuses unknown sources; a profile built in code may skip it.
    if (!path)
      throw incompatible(p, `c1219.tables[${i}].fields[${j}].source`, `unknown source "${f.source}"`);
    return { spec: f, def, path };
  });
  return {
    spec: t,
    ref: r,
    layout: { id: r.wireId, name: t.name, fields: fields.map((f) => f.def) },
    fields,
    access: engineAccess(p, t.read, t.write),
    writable: isWritable(t.write),
  };
}

function bindProcedure(
  p: FirmwareProfile,
  proc: ProcedureSpec | StandardProcedureSpec,
  kind: 'MP' | 'SP',
  path: string,
): BoundProcedure {
  const r = ref(p, kind, proc.id, `${path}.id`);
  const spec = actionSpec(proc.action);
  if (!spec) throw incompatible(p, `${path}.action`, `unknown action "${proc.action}"`);
  const perLevel: string[] = [];
  const params: BoundParam[] = proc.params.map((param, j) => {
    const def = scalar(param);
    if (param.type === 'FILL' || param.arg === undefined) return { spec: param, def, required: false };
    const fixed = spec.args[param.arg];
    if (fixed)
      return {
        spec: param,
        def,
        kind: fixed.kind,
        arg: param.arg,
        required: fixed.required,
        ...(fixed.values ? { values: fixed.values } : {}),
        ...(fixed.maxLength !== undefined ? { maxLength: fixed.maxLength } : {}),
      };
    if (spec.perLevel && param.arg.startsWith(spec.perLevel.prefix)) {
      perLevel.push(param.arg.slice(spec.perLevel.prefix.length));
      return { spec: param, def, kind: spec.perLevel.kind, arg: param.arg, required: true };
    }
    throw incompatible(p, `${path}.params[${j}].arg`, `${proc.action} has no argument "${param.arg}"`);
  });
  return {
    spec: proc,
    ref: r,
    action: proc.action,
    actionSpec: spec,
    layout: { id: StdTable.PROC_INITIATE, name: `${r.label}_PARM`, fields: params.map((x) => x.def) },
    params,
    access: engineAccess(p, [], proc.access),
    perLevel,
  };
}

const cache = new WeakMap<FirmwareProfile, C1219Map>();

/** The C12.19 map of a c1218 profile (cached per profile object). Throws ProfileIncompatible. */
export function c1219Map(p: FirmwareProfile): C1219Map {
  const hit = cache.get(p);
  if (hit) return hit;
  const context = codecContextOf(p);
  const m = p.c1219;
  if (!m) throw incompatible(p, 'c1219', 'a c1218 profile needs a c1219 section');
  const tables = m.tables.map((t, i) => bindTable(p, t, i));
  const procedures = [
    ...m.standardProcedures.map((sp, i) => bindProcedure(p, sp, 'SP', `c1219.standardProcedures[${i}]`)),
    ...m.procedures.map((mp, i) => bindProcedure(p, mp, 'MP', `c1219.procedures[${i}]`)),
  ];
  const standardTables = m.standardTables.map((t, i) => ({
    ref: ref(p, 'ST', t.id, `c1219.standardTables[${i}].id`),
    access: engineAccess(p, t.read, t.write),
    ...(t.raw !== undefined ? { raw: Buffer.from(t.raw.hex, 'hex') } : {}),
  }));
  const sources = new Map<string, { table: BoundTable; field: BoundField }>();
  for (const table of tables)
    for (const field of table.fields)
      if (field.path && !sources.has(field.path.path)) sources.set(field.path.path, { table, field });
  const byWire = new Map(tables.map((t) => [t.ref.wireId, t]));
  const map: C1219Map = {
    profile: p,
    context,
    standardTables,
    tables,
    procedures,
    sources,
    // Profiles name each action once in practice; the first one is the documented choice.
    procedureByAction: (action) => procedures.find((x) => x.action === action),
    table: (wireId) => byWire.get(wireId),
  };
  cache.set(p, map);
  return map;
}
