/**
 * Table records and procedure parameter blocks of a bound profile, in both directions:
 * meter state -> record (the meter), record -> model values by path (the client), arguments ->
 * ST7 parameters (the client), ST7 parameters -> arguments (the meter). Layouts come from
 * c1219-binding-layouts.ts, value rules from c1219-binding-values.ts.
 */
import { ErrorCode, SimError } from '../core/errors';
import { readModelPath, type ModelValue } from '../device/model-paths';
import type { MeterState } from '../device/state';
import type { FieldValue, TableRecord } from '../protocols/c1219/field-types';
import { decodeTable, encodeTable } from '../protocols/c1219/table-codec';
import { layoutSize } from '../protocols/c1219/field-types';
import type { BoundField, BoundParam, BoundProcedure, BoundTable } from './c1219-binding-layouts';
import {
  constantToWire,
  modelToWire,
  wireToModel,
  type ValueContext,
  type ValueSpec,
} from './c1219-binding-values';

export function fieldValueSpec(f: BoundField): ValueSpec {
  const p = f.path!;
  return { kind: p.kind, enum: f.spec.enum, values: p.values };
}

function paramValueSpec(p: BoundParam): ValueSpec {
  return { kind: p.kind!, enum: p.spec.enum, values: p.values };
}

/** The record a table holds for this meter state (`now` = device time, for clock.now). */
export function tableRecord(table: BoundTable, s: MeterState, now: number, vc: ValueContext): TableRecord {
  const rec: TableRecord = {};
  for (const f of table.fields) {
    const spec = f.spec;
    const path = `${table.spec.name}.${spec.name}`;
    if (spec.type === 'FILL') continue;
    if (spec.type === 'SET') {
      // A SET field's bits each carry one boolean source (schema: fields[].bits).
      rec[spec.name] = (spec.bits ?? [])
        .filter((b) => readModelPath(s, b.source, now) === true)
        .map((b) => b.bit);
      continue;
    }
    if (spec.value !== undefined) {
      rec[spec.name] = constantToWire(f.def, spec.value, path);
      continue;
    }
    rec[spec.name] = modelToWire(f.def, fieldValueSpec(f), f.path!.get(s, now), vc, path);
  }
  return rec;
}

export function encodeTableRecord(table: BoundTable, s: MeterState, now: number, vc: ValueContext): Buffer {
  return encodeTable(table.layout, tableRecord(table, s, now, vc), vc.ctx);
}

/**
 * The model values a table image carries, by source path (SET bits included). Constants and
 * FILL carry none. Throws SimError (Decode*) with the field path on bytes that do not decode.
 */
export function tableValues(table: BoundTable, bytes: Uint8Array, vc: ValueContext): Map<string, ModelValue> {
  const rec = decodeTable(table.layout, bytes, vc.ctx);
  return recordValues(table, rec, vc);
}

export function recordValues(table: BoundTable, rec: TableRecord, vc: ValueContext): Map<string, ModelValue> {
  const out = new Map<string, ModelValue>();
  for (const f of table.fields) {
    const spec = f.spec;
    const path = `${table.spec.name}.${spec.name}`;
    if (spec.type === 'SET') {
      const items = rec[spec.name] as readonly number[];
      for (const b of spec.bits ?? []) if (!out.has(b.source)) out.set(b.source, items.includes(b.bit));
      continue;
    }
    if (!f.path || out.has(f.path.path)) continue;
    out.set(f.path.path, wireToModel(f.def, fieldValueSpec(f), rec[spec.name] as FieldValue, vc, path));
  }
  return out;
}

/** Arguments by name (`by`, `newSecrets.reader`); binary arguments are hex. */
export type ProcedureArgs = Record<string, ModelValue>;

/** ST7 PARM bytes for a call (client side). A missing argument is sent blank. */
export function encodeProcedureParams(proc: BoundProcedure, args: ProcedureArgs, vc: ValueContext): Buffer {
  const rec: TableRecord = {};
  for (const p of proc.params) {
    if (!p.arg) continue;
    rec[p.spec.name] = modelToWire(
      p.def,
      paramValueSpec(p),
      args[p.arg] ?? null,
      vc,
      `${proc.ref.label}.${p.spec.name}`,
    );
  }
  return encodeTable(proc.layout, rec, vc.ctx);
}

/**
 * Arguments of a call from its ST7 PARM bytes (meter side). A procedure without parameters
 * ignores any bytes sent (termineter sends one 00 byte with SP3, docs/c1218.md §6); one with
 * parameters needs exactly its layout's length. Throws SimError (Decode*) on a bad block.
 */
export function decodeProcedureParams(proc: BoundProcedure, params: Buffer, vc: ValueContext): ProcedureArgs {
  if (proc.params.length === 0) return {};
  const size = layoutSize(proc.layout, vc.ctx);
  if (params.length !== size)
    throw new SimError(
      ErrorCode.DecodeInvalid,
      `${proc.ref.label}: ${params.length} parameter byte(s), expected ${size}`,
      { path: proc.ref.label, length: params.length, expected: size },
    );
  const rec = decodeTable(proc.layout, params, vc.ctx);
  const args: ProcedureArgs = {};
  for (const p of proc.params) {
    if (!p.arg) continue;
    args[p.arg] = wireToModel(
      p.def,
      paramValueSpec(p),
      rec[p.spec.name] as FieldValue,
      vc,
      `${proc.ref.label}.${p.spec.name}`,
    );
  }
  return args;
}

/** `emergencyCredit.limit` -> {emergencyCredit: {limit}}; null optional arguments are left out. */
export function operationInput(proc: BoundProcedure, args: ProcedureArgs): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const p of proc.params) {
    if (!p.arg) continue;
    const v = args[p.arg] ?? null;
    if (v === null && !p.required) continue;
    const keys = p.arg.split('.');
    let node = out;
    for (const k of keys.slice(0, -1)) {
      const next = (node[k] ?? {}) as Record<string, unknown>;
      node[k] = next;
      node = next;
    }
    node[keys[keys.length - 1]!] = v;
  }
  return out;
}
