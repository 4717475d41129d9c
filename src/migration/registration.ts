/**
 * Registration data: what DCC holds for each meter point, i.e. MPAN core (ESME) or MPRN (GSME)
 * -> Responsible Supplier id and cohort. Checks MA516/MA517 compare the card issuer against the
 * Responsible Supplier from here, and rule set scopes select by the cohort from here.
 *
 * Formats (docs/migration.md "Registration data"): CSV with a header row, or a JSON array of
 * objects. Rows that fail validation (bad check digit, unknown supplier id format, unknown
 * cohort, duplicate meter point) are reported with their line number and skipped, never
 * silently accepted. Faults that make the whole file unreadable (bad JSON, no usable header,
 * an unclosed quote) throw SimError MigrationRegistrationInvalid naming the file and line.
 */

import { readFile } from 'node:fs/promises';
import { LineCounter, parseDocument, isMap, isSeq } from 'yaml';
import { ErrorCode, SimError } from '../core/errors';
import { validateMpanCore, validateMprn, validateSupplierId } from '../device/identifiers';
import { COHORTS, parseCohort, type Cohort, type DeviceType } from './cohorts';
import { parseCsv } from './csv';

export type MeterPointKind = 'mpan-core' | 'mprn';

export interface RegistrationRecord {
  /** MPAN core (13 digits) or MPRN (6–11 digits), digits only. */
  mpxn: string;
  kind: MeterPointKind;
  /** ESME for an MPAN core, GSME for an MPRN. */
  deviceType: DeviceType;
  /** The Responsible Supplier (MPID). */
  supplierId: string;
  cohort: Cohort;
  /** Where the row came from, for evidence in reports. */
  source: string;
  line: number;
}

export interface RegistrationRowError {
  source: string;
  line: number;
  /** The column/key at fault, when one is. */
  field: string | null;
  value: string | null;
  reason: string;
}

export interface RegistrationData {
  source: string;
  records: readonly RegistrationRecord[];
  errors: readonly RegistrationRowError[];
  byMpxn: ReadonlyMap<string, RegistrationRecord>;
}

export type RegistrationFormat = 'csv' | 'json';

/** Column names accepted in CSV headers (case-insensitive; spaces and '-' read as '_'). */
const POINT_COLUMNS: Record<string, 'mpxn' | MeterPointKind> = {
  mpxn: 'mpxn',
  mpan: 'mpan-core',
  mpan_core: 'mpan-core',
  mprn: 'mprn',
};
const SUPPLIER_COLUMNS = new Set([
  'supplier_id',
  'responsible_supplier',
  'responsible_supplier_id',
  'supplier',
]);
const COHORT_COLUMNS = new Set(['cohort']);

/** JSON keys, mapped onto the same column vocabulary. */
const JSON_KEYS: Record<string, string> = {
  mpxn: 'mpxn',
  mpan: 'mpan',
  mpanCore: 'mpan_core',
  mprn: 'mprn',
  supplierId: 'supplier_id',
  responsibleSupplier: 'responsible_supplier',
  responsibleSupplierId: 'responsible_supplier_id',
  cohort: 'cohort',
};

const fileError = (source: string, line: number | null, reason: string): SimError =>
  new SimError(
    ErrorCode.MigrationRegistrationInvalid,
    `${source}${line !== null ? `:${line}` : ''}: ${reason}`,
    {
      source,
      line,
      reason,
    },
  );

interface RawRow {
  line: number;
  /** Normalised column name -> value. */
  values: Map<string, string>;
}

class Collector {
  readonly records: RegistrationRecord[] = [];
  readonly errors: RegistrationRowError[] = [];
  private readonly seen = new Map<string, RegistrationRecord>();

  constructor(readonly source: string) {}

  add(row: RawRow): void {
    const errs: RegistrationRowError[] = [];
    const err = (field: string | null, value: string | null, reason: string): void => {
      errs.push({ source: this.source, line: row.line, field, value, reason });
    };

    const pointCols = [...row.values.keys()].filter((k) => k in POINT_COLUMNS);
    let mpxn: string | undefined;
    let kind: MeterPointKind | undefined;
    if (pointCols.length !== 1) {
      err(
        null,
        null,
        pointCols.length === 0
          ? 'no MPAN core or MPRN'
          : `more than one meter point (${pointCols.join(', ')})`,
      );
    } else {
      const col = pointCols[0]!;
      // Printed MPANs are often grouped with spaces ("12 3456 7890 123").
      const value = row.values.get(col)!.replace(/\s+/g, '');
      const declared = POINT_COLUMNS[col]!;
      kind = declared === 'mpxn' ? (value.length === 13 ? 'mpan-core' : 'mprn') : declared;
      try {
        mpxn = kind === 'mpan-core' ? validateMpanCore(value, col) : validateMprn(value, col);
      } catch (e) {
        err(col, value, e instanceof SimError ? e.message : String(e));
      }
    }

    const supplierCol = [...row.values.keys()].find((k) => SUPPLIER_COLUMNS.has(k));
    let supplierId: string | undefined;
    if (supplierCol === undefined) {
      err(null, null, 'no Responsible Supplier id');
    } else {
      const value = row.values.get(supplierCol)!.trim();
      try {
        supplierId = validateSupplierId(value, supplierCol);
      } catch (e) {
        err(supplierCol, value, e instanceof SimError ? e.message : String(e));
      }
    }

    const cohortCol = [...row.values.keys()].find((k) => COHORT_COLUMNS.has(k));
    let cohort: Cohort | undefined;
    if (cohortCol === undefined) {
      err(null, null, 'no cohort');
    } else {
      const value = row.values.get(cohortCol)!;
      cohort = parseCohort(value);
      if (!cohort)
        err(cohortCol, value, `cohort: unknown cohort "${value}" (expected one of ${COHORTS.join(', ')})`);
    }

    if (mpxn !== undefined && kind !== undefined) {
      const first = this.seen.get(mpxn);
      if (first) err(null, mpxn, `duplicate meter point ${mpxn}: first given on line ${first.line}`);
    }

    if (
      errs.length > 0 ||
      mpxn === undefined ||
      kind === undefined ||
      supplierId === undefined ||
      cohort === undefined
    ) {
      this.errors.push(...errs);
      return;
    }
    const record: RegistrationRecord = {
      mpxn,
      kind,
      deviceType: kind === 'mpan-core' ? 'ESME' : 'GSME',
      supplierId,
      cohort,
      source: this.source,
      line: row.line,
    };
    this.seen.set(mpxn, record);
    this.records.push(record);
  }

  result(): RegistrationData {
    return { source: this.source, records: this.records, errors: this.errors, byMpxn: new Map(this.seen) };
  }
}

const normaliseColumn = (name: string): string =>
  name
    .trim()
    .toLowerCase()
    .replace(/[\s-]+/g, '_');

/** Parse registration CSV: a header row, then one meter point per row. `#` starts a comment row. */
export function parseRegistrationCsv(text: string, source = 'registration.csv'): RegistrationData {
  let rows;
  try {
    rows = parseCsv(text, source);
  } catch (e) {
    const line = e instanceof SimError && typeof e.context.line === 'number' ? e.context.line : null;
    throw fileError(source, line, 'quoted field is never closed');
  }
  rows = rows.filter((r) => !(r.fields[0] ?? '').trimStart().startsWith('#'));
  const header = rows[0];
  if (!header)
    throw fileError(
      source,
      null,
      'no header row (expected columns mpxn|mpan_core|mprn, supplier_id, cohort)',
    );
  const columns = header.fields.map(normaliseColumn);
  const known = columns.filter((c) => c in POINT_COLUMNS || SUPPLIER_COLUMNS.has(c) || COHORT_COLUMNS.has(c));
  const missing: string[] = [];
  if (!columns.some((c) => c in POINT_COLUMNS)) missing.push('mpxn|mpan_core|mprn');
  if (!columns.some((c) => SUPPLIER_COLUMNS.has(c))) missing.push('supplier_id');
  if (!columns.some((c) => COHORT_COLUMNS.has(c))) missing.push('cohort');
  if (missing.length > 0)
    throw fileError(source, header.line, `header lacks column(s) ${missing.join(', ')}`);
  const dup = known.find((c, i) => known.indexOf(c) !== i);
  if (dup) throw fileError(source, header.line, `header repeats column ${dup}`);

  const out = new Collector(source);
  for (const r of rows.slice(1)) {
    if (r.fields.length !== columns.length) {
      out.errors.push({
        source,
        line: r.line,
        field: null,
        value: null,
        reason: `has ${r.fields.length} fields, header has ${columns.length}`,
      });
      continue;
    }
    const values = new Map<string, string>();
    columns.forEach((c, i) => {
      // Only known columns take part; a blank meter point column reads as absent so that a
      // sheet with both mpan_core and mprn columns works.
      const v = r.fields[i]!;
      if (c in POINT_COLUMNS && v.trim() === '') return;
      if (c in POINT_COLUMNS || SUPPLIER_COLUMNS.has(c) || COHORT_COLUMNS.has(c)) values.set(c, v);
    });
    out.add({ line: r.line, values });
  }
  return out.result();
}

/** Parse registration JSON: an array of objects (keys in docs/migration.md). */
export function parseRegistrationJson(text: string, source = 'registration.json'): RegistrationData {
  // JSON.parse is the arbiter of syntax (YAML would accept more); the YAML parser then gives
  // each array element its line number.
  try {
    JSON.parse(text);
  } catch (e) {
    throw fileError(
      source,
      jsonErrorLine(text, e),
      `not valid JSON: ${e instanceof Error ? e.message : String(e)}`,
    );
  }
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, uniqueKeys: false });
  const root = doc.contents;
  if (!isSeq(root)) throw fileError(source, 1, 'top level must be an array of registration rows');
  const out = new Collector(source);
  for (const item of root.items) {
    const offset = (item as { range?: [number, number, number] } | null)?.range?.[0] ?? 0;
    const line = lines.linePos(offset).line;
    if (!isMap(item)) {
      out.errors.push({ source, line, field: null, value: null, reason: 'row must be an object' });
      continue;
    }
    const values = new Map<string, string>();
    let bad: string | undefined;
    for (const pair of item.items) {
      const key = String((pair.key as { value?: unknown } | null)?.value ?? '');
      const column = JSON_KEYS[key];
      if (column === undefined) continue;
      const v = (pair.value as { value?: unknown } | null)?.value;
      if (v === null || v === undefined) continue;
      if (typeof v !== 'string') {
        bad = `${key} must be a string (identifiers keep leading zeros)`;
        continue;
      }
      values.set(column, v);
    }
    if (bad) {
      out.errors.push({ source, line, field: null, value: null, reason: bad });
      continue;
    }
    out.add({ line, values });
  }
  return out.result();
}

/** Parse by format; the format defaults from the source name (.json, else CSV). */
export function parseRegistration(
  text: string,
  source: string,
  format?: RegistrationFormat,
): RegistrationData {
  const f = format ?? (/\.json$/i.test(source) ? 'json' : 'csv');
  return f === 'json' ? parseRegistrationJson(text, source) : parseRegistrationCsv(text, source);
}

export async function loadRegistrationFile(
  path: string,
  format?: RegistrationFormat,
): Promise<RegistrationData> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    throw fileError(path, null, `cannot read: ${e instanceof Error ? e.message : String(e)}`);
  }
  return parseRegistration(text, path, format);
}

/** Build RegistrationData from records made in code (the farm's manifest, tests). */
export function registrationFromRecords(
  records: readonly RegistrationRecord[],
  source = 'in-memory',
): RegistrationData {
  const byMpxn = new Map<string, RegistrationRecord>();
  for (const r of records) byMpxn.set(r.mpxn, r);
  return { source, records: [...records], errors: [], byMpxn };
}

/** For strict callers: throw when any row was rejected, listing every line. */
export function assertNoRegistrationErrors(data: RegistrationData): void {
  if (data.errors.length === 0) return;
  const list = data.errors.map((e) => `line ${e.line}: ${e.reason}`).join('; ');
  throw new SimError(
    ErrorCode.MigrationRegistrationInvalid,
    `${data.source}: ${data.errors.length} invalid row(s): ${list}`,
    {
      source: data.source,
      errors: data.errors,
    },
  );
}

function jsonErrorLine(text: string, e: unknown): number | null {
  const msg = e instanceof Error ? e.message : '';
  // Node 20: "... in JSON at position 42" (some versions add "(line 3 column 5)").
  const lc = /line (\d+) column \d+/.exec(msg);
  if (lc) return Number(lc[1]);
  const pos = /at position (\d+)/.exec(msg);
  if (pos) return text.slice(0, Number(pos[1])).split('\n').length;
  if (/end of JSON input/i.test(msg)) return text.split('\n').length;
  return null;
}
