/**
 * Checks on a shape-valid profile that the schema cannot express (docs/profiles.md
 * "Validation"): sources exist in the device model and suit the device type, field types and
 * sizes can carry their values, access levels referenced exist, ids are unique and known,
 * procedure actions and parameters match device operations, modelled/fact paths resolve.
 */
import { modelPathSpec, type ModelPathSpec } from '../device/model-paths';
import { ENGINE_STANDARD_TABLES } from './c1219-binding-standard';
import { dlmsSemanticIssues } from './dlms-binding-semantic';
import { actionSpec, type ArgKind } from './procedure-actions';
import {
  FIXED_SIZE,
  LTIME_SIZE,
  type Access,
  type C1219Type,
  type FieldSpec,
  type FirmwareProfile,
  type ParamSpec,
} from './schema';
import { KNOWN_STANDARD_PROCEDURES, KNOWN_STANDARD_TABLES, parseWireRef, type WireKind } from './wire-ids';

export type PathKey = string | number;
export interface SemanticIssue {
  path: PathKey[];
  reason: string;
}

const UNSIGNED: C1219Type[] = ['UINT8', 'UINT16', 'UINT24', 'UINT32', 'UINT48'];
const SIGNED: C1219Type[] = ['INT8', 'INT16', 'INT32'];
const INTEGER = new Set<C1219Type>([...UNSIGNED, ...SIGNED]);

/** Which wire types can carry each kind of value. */
const ACCEPTS: Readonly<Record<ArgKind, readonly C1219Type[]>> = {
  text: ['STRING', 'BINARY'],
  digits: ['STRING', 'BCD', 'BINARY'],
  eui64: ['BINARY', 'STRING'],
  int: SIGNED,
  uint: [...UNSIGNED, ...SIGNED, 'BCD'],
  bool: ['BOOL', 'UINT8'],
  time: ['LTIME', 'UINT32'],
  enum: ['UINT8', 'UINT16', 'STRING'],
  binary: ['BINARY', 'STRING'],
};

function intRange(type: C1219Type): [number, number] {
  const bytes = FIXED_SIZE[type] ?? 0;
  return SIGNED.includes(type)
    ? [-(2 ** (8 * bytes - 1)), 2 ** (8 * bytes - 1) - 1]
    : [0, 2 ** (8 * bytes) - 1];
}

class Checker {
  readonly issues: SemanticIssue[] = [];
  private readonly levels: Set<string>;

  constructor(private readonly p: FirmwareProfile) {
    this.levels = new Set(p.accessLevels.map((l) => l.name));
  }

  issue(path: PathKey[], reason: string): void {
    this.issues.push({ path, reason });
  }

  private get tmFormat(): 1 | 2 | 3 | 4 {
    return this.p.protocol.stack === 'c1218' ? this.p.protocol.c1218.tmFormat : 4;
  }

  access(a: Access, path: PathKey[]): void {
    if (a === 'any') return;
    a.forEach((name, i) => {
      if (!this.levels.has(name)) this.issue([...path, i], `unknown access level "${name}"`);
    });
  }

  /** Size of a field/param on the wire, or undefined when it cannot be known (issue raised). */
  size(spec: { type: C1219Type; size?: number | undefined }, path: PathKey[]): number | undefined {
    const fixed = spec.type === 'LTIME' ? LTIME_SIZE[this.tmFormat] : FIXED_SIZE[spec.type];
    if (fixed !== undefined) {
      if (spec.size !== undefined && spec.size !== fixed)
        this.issue([...path, 'size'], `${spec.type} is ${fixed} byte(s) here, not ${spec.size}`);
      return fixed;
    }
    if (spec.size === undefined) {
      this.issue([...path, 'size'], `size is required for ${spec.type}`);
      return undefined;
    }
    return spec.size;
  }

  /**
   * Can a value of `kind` travel in this field ('out': device to wire, must fit any value) or
   * parameter ('in': wire to device, may be shorter than the longest value the operation takes)?
   */
  carries(
    kind: ArgKind,
    meta: { maxLength?: number | undefined; values?: readonly string[] | undefined },
    spec: { type: C1219Type; enum?: Record<string, number> | undefined },
    size: number | undefined,
    path: PathKey[],
    what: string,
    direction: 'out' | 'in' = 'out',
  ): void {
    if (!ACCEPTS[kind].includes(spec.type)) {
      this.issue(
        [...path, 'type'],
        `${what} is ${kind}; ${spec.type} cannot carry it (use ${ACCEPTS[kind].join('|')})`,
      );
      return;
    }
    if (size === undefined) return;
    const max = meta.maxLength;
    if ((kind === 'digits' || (kind === 'text' && direction === 'out')) && max !== undefined) {
      const need = spec.type === 'BCD' ? Math.ceil(max / 2) : max;
      if (size < need)
        this.issue([...path, 'size'], `${what} needs ${need} byte(s) as ${spec.type}, size is ${size}`);
    }
    if (kind === 'eui64') {
      const need = spec.type === 'BINARY' ? 8 : 23;
      if (size !== need && (spec.type === 'BINARY' || size < need))
        this.issue([...path, 'size'], `${what} (EUI-64) needs ${need} bytes as ${spec.type}`);
    }
    if (kind === 'enum') {
      const values = meta.values ?? [];
      if (spec.type === 'STRING') {
        const need = Math.max(...values.map((v) => v.length));
        if (size < need) this.issue([...path, 'size'], `${what} needs ${need} characters`);
      } else if (!spec.enum) {
        this.issue(
          [...path, 'enum'],
          `${what} is an enum (${values.join('|')}); give its wire values in enum:`,
        );
      } else {
        const keys = Object.keys(spec.enum);
        for (const v of values)
          if (!keys.includes(v)) this.issue([...path, 'enum'], `no wire value for "${v}"`);
        for (const k of keys)
          if (!values.includes(k))
            this.issue([...path, 'enum', k], `"${k}" is not one of ${values.join('|')}`);
        const nums = Object.values(spec.enum);
        if (new Set(nums).size !== nums.length) this.issue([...path, 'enum'], 'wire values must be distinct');
        const [, hi] = intRange(spec.type);
        for (const k of keys)
          if (spec.enum[k]! > hi)
            this.issue([...path, 'enum', k], `${spec.enum[k]} does not fit ${spec.type}`);
      }
    } else if (spec.enum) {
      this.issue([...path, 'enum'], 'enum: applies to enum values only');
    }
  }

  source(source: string, path: PathKey[]): ModelPathSpec | undefined {
    const spec = modelPathSpec(source);
    if (!spec) {
      this.issue(path, `unknown source "${source}" (see docs/profiles.md "Sources")`);
      return undefined;
    }
    if (spec.deviceTypes && !spec.deviceTypes.includes(this.p.identity.deviceType))
      this.issue(path, `"${source}" does not exist on a ${this.p.identity.deviceType}`);
    return spec;
  }

  constant(f: FieldSpec, size: number | undefined, path: PathKey[]): void {
    const v = f.value;
    if (INTEGER.has(f.type)) {
      const [lo, hi] = intRange(f.type);
      if (typeof v !== 'number' || !Number.isInteger(v) || v < lo || v > hi)
        this.issue([...path, 'value'], `${f.type} constant must be an integer ${lo}..${hi}`);
    } else if (f.type === 'BOOL') {
      if (typeof v !== 'boolean') this.issue([...path, 'value'], 'BOOL constant must be true or false');
    } else if (f.type === 'STRING' || f.type === 'BINARY' || f.type === 'BCD') {
      const len = typeof v === 'string' ? (f.type === 'BCD' ? Math.ceil(v.length / 2) : v.length) : -1;
      if (typeof v !== 'string' || (f.type === 'BCD' && !/^\d*$/.test(v)))
        this.issue(
          [...path, 'value'],
          `${f.type} constant must be a ${f.type === 'BCD' ? 'digit ' : ''}string`,
        );
      else if (size !== undefined && len > size)
        this.issue([...path, 'value'], `constant longer than ${size} byte(s)`);
    } else {
      this.issue([...path, 'value'], `${f.type} fields cannot hold a constant`);
    }
  }

  field(f: FieldSpec, path: PathKey[], writable: boolean): void {
    const size = this.size(f, path);
    const has = { source: f.source !== undefined, value: f.value !== undefined, bits: f.bits !== undefined };
    if (f.type === 'FILL') {
      if (has.source || has.value || has.bits || f.enum)
        this.issue(path, 'FILL fields carry nothing: no source, value, bits or enum');
      return;
    }
    if (f.type === 'SET') {
      if (has.source || has.value) this.issue(path, 'SET fields take bits:, not source/value');
      if (!f.bits?.length) {
        this.issue([...path, 'bits'], 'SET fields need bits: [{bit, source}]');
        return;
      }
      const seen = new Set<number>();
      f.bits.forEach((b, i) => {
        const bp = [...path, 'bits', i];
        if (seen.has(b.bit)) this.issue([...bp, 'bit'], `bit ${b.bit} used twice`);
        seen.add(b.bit);
        if (size !== undefined && b.bit >= size * 8)
          this.issue([...bp, 'bit'], `bit ${b.bit} outside ${size} byte(s)`);
        const spec = this.source(b.source, [...bp, 'source']);
        if (spec && spec.kind !== 'bool')
          this.issue([...bp, 'source'], `"${b.source}" is ${spec.kind}, a SET bit needs bool`);
        if (spec && writable && !spec.setter) this.issue([...bp, 'source'], `"${b.source}" is read-only`);
      });
      return;
    }
    if (has.bits) this.issue([...path, 'bits'], 'bits: applies to SET fields only');
    if (has.source === has.value) {
      this.issue(path, 'give exactly one of source: or value:');
      return;
    }
    if (has.value) {
      this.constant(f, size, path);
      return;
    }
    const spec = this.source(f.source!, [...path, 'source']);
    if (!spec) return;
    this.carries(spec.kind, spec, f, size, path, `"${f.source}"`);
    if (writable && !spec.setter)
      this.issue(
        [...path, 'source'],
        `"${f.source}" is read-only; a writable table may hold only writable sources`,
      );
  }

  wireIds(
    kind: WireKind,
    items: readonly { id: string | number }[],
    path: PathKey[],
    known?: ReadonlySet<number>,
  ): void {
    const seen = new Map<number, number>();
    items.forEach((item, i) => {
      const ref = parseWireRef(kind, item.id);
      if (typeof ref === 'string') return this.issue([...path, i, 'id'], ref);
      if (known && !known.has(ref.number))
        this.issue(
          [...path, i, 'id'],
          `unknown ${kind === 'ST' ? 'standard table' : 'standard procedure'} ${ref.label}`,
        );
      const prev = seen.get(ref.wireId);
      if (prev !== undefined) this.issue([...path, i, 'id'], `${ref.label} also defined at index ${prev}`);
      seen.set(ref.wireId, i);
    });
  }

  procedure(proc: { action: string; access: Access; params: ParamSpec[] }, path: PathKey[]): void {
    this.access(proc.access, [...path, 'access']);
    const spec = actionSpec(proc.action);
    if (!spec) {
      this.issue([...path, 'action'], `unknown action "${proc.action}"`);
      return;
    }
    const used = new Set<string>();
    const names = new Set<string>();
    let perLevel = 0;
    proc.params.forEach((param, i) => {
      const pp = [...path, 'params', i];
      if (names.has(param.name)) this.issue([...pp, 'name'], `parameter ${param.name} defined twice`);
      names.add(param.name);
      const size = this.size(param, pp);
      if (param.type === 'FILL') return;
      if (param.arg === undefined)
        return this.issue([...pp, 'arg'], 'arg: is required (or use type FILL for padding)');
      if (used.has(param.arg)) this.issue([...pp, 'arg'], `argument ${param.arg} filled twice`);
      used.add(param.arg);
      const fixedArg = spec.args[param.arg];
      if (fixedArg)
        return this.carries(fixedArg.kind, fixedArg, param, size, pp, `argument ${param.arg}`, 'in');
      if (spec.perLevel && param.arg.startsWith(spec.perLevel.prefix)) {
        const level = param.arg.slice(spec.perLevel.prefix.length);
        if (!this.levels.has(level)) return this.issue([...pp, 'arg'], `unknown access level "${level}"`);
        perLevel++;
        return this.carries(spec.perLevel.kind, {}, param, size, pp, `argument ${param.arg}`, 'in');
      }
      const known = [...Object.keys(spec.args), ...(spec.perLevel ? [`${spec.perLevel.prefix}<level>`] : [])];
      this.issue(
        [...pp, 'arg'],
        `${proc.action} has no argument "${param.arg}"${known.length ? ` (${known.join(', ')})` : ''}`,
      );
    });
    for (const [name, a] of Object.entries(spec.args))
      if (a.required && !used.has(name))
        this.issue([...path, 'params'], `${proc.action} needs a parameter with arg: ${name}`);
    if (spec.perLevel && perLevel === 0)
      this.issue(
        [...path, 'params'],
        `${proc.action} needs at least one ${spec.perLevel.prefix}<level> parameter`,
      );
  }

  run(): SemanticIssue[] {
    const p = this.p;
    const names = new Map<string, number>();
    const groups = new Map<number, number>();
    p.accessLevels.forEach((l, i) => {
      if (names.has(l.name))
        this.issue(['accessLevels', i, 'name'], `access level "${l.name}" defined twice`);
      names.set(l.name, i);
      if (groups.has(l.group))
        this.issue(
          ['accessLevels', i, 'group'],
          `group bit ${l.group} already used by ${p.accessLevels[groups.get(l.group)!]!.name}`,
        );
      groups.set(l.group, i);
      // An `env` secret is supplied at run time; its length is checked then.
      const bytes =
        'hex' in l.secret ? l.secret.hex.length / 2 : 'ascii' in l.secret ? l.secret.ascii.length : 0;
      if (p.protocol.stack === 'c1218' && bytes > 20)
        this.issue(['accessLevels', i, 'secret'], `C12.18 passwords are 20 bytes; this secret is ${bytes}`);
    });

    if (p.protocol.stack === 'c1218') {
      const c = p.protocol.c1218;
      if (!c.negotiableBauds.includes(c.baud))
        this.issue(['protocol', 'c1218', 'negotiableBauds'], `must include the start baud ${c.baud}`);
      if (!p.c1219) this.issue(['c1219'], 'required for stack c1218');
    }

    if (p.c1219) {
      const m = p.c1219;
      // A raw (captured) standard table may carry any number; the engine's own tables cannot be raw.
      const rawIds = m.standardTables.filter((t) => t.raw !== undefined).map((t) => parseWireRef('ST', t.id));
      const known = new Set([
        ...KNOWN_STANDARD_TABLES,
        ...rawIds.flatMap((r) => (typeof r === 'string' ? [] : [r.number])),
      ]);
      this.wireIds('ST', m.standardTables, ['c1219', 'standardTables'], known);
      m.standardTables.forEach((t, i) => {
        this.access(t.read, ['c1219', 'standardTables', i, 'read']);
        this.access(t.write, ['c1219', 'standardTables', i, 'write']);
        if (t.raw === undefined) return;
        const r = parseWireRef('ST', t.id);
        if (typeof r !== 'string' && ENGINE_STANDARD_TABLES.has(r.number))
          this.issue(
            ['c1219', 'standardTables', i, 'raw'],
            `${r.label} is built by the table engine; it cannot be raw`,
          );
        if (t.write === 'any' || t.write.length > 0)
          this.issue(['c1219', 'standardTables', i, 'write'], 'a raw table is read-only');
      });
      this.wireIds('MT', m.tables, ['c1219', 'tables']);
      m.tables.forEach((t, i) => {
        const tp: PathKey[] = ['c1219', 'tables', i];
        this.access(t.read, [...tp, 'read']);
        this.access(t.write, [...tp, 'write']);
        const writable = t.write === 'any' || t.write.length > 0;
        if (t.raw !== undefined && t.fields.length > 0)
          this.issue([...tp, 'raw'], 'a raw table has no fields: give raw or fields, not both');
        if (t.raw === undefined && t.fields.length === 0)
          this.issue([...tp, 'fields'], 'a table needs fields (or raw bytes)');
        if (t.raw !== undefined && writable)
          this.issue([...tp, 'write'], 'a raw table is read-only: its bytes map to no model path');
        const fieldNames = new Set<string>();
        t.fields.forEach((f, j) => {
          if (fieldNames.has(f.name))
            this.issue([...tp, 'fields', j, 'name'], `field ${f.name} defined twice`);
          fieldNames.add(f.name);
          this.field(f, [...tp, 'fields', j], writable);
        });
      });
      this.wireIds('SP', m.standardProcedures, ['c1219', 'standardProcedures'], KNOWN_STANDARD_PROCEDURES);
      m.standardProcedures.forEach((sp, i) => this.procedure(sp, ['c1219', 'standardProcedures', i]));
      this.wireIds('MP', m.procedures, ['c1219', 'procedures']);
      m.procedures.forEach((mp, i) => this.procedure(mp, ['c1219', 'procedures', i]));
    }

    this.issues.push(...dlmsSemanticIssues(p));

    const modelled = new Set<string>();
    p.modelled.forEach((entry, i) => {
      if (resolveProfilePath(p, entry.path) === undefined)
        this.issue(['modelled', i, 'path'], `"${entry.path}" does not name anything in this profile`);
      modelled.add(entry.path);
    });
    p.facts.forEach((entry, i) => {
      if (resolveProfilePath(p, entry.path) === undefined)
        this.issue(['facts', i, 'path'], `"${entry.path}" does not name anything in this profile`);
      if (modelled.has(entry.path))
        this.issue(['facts', i, 'path'], `"${entry.path}" is also listed as modelled`);
    });
    p.captured.forEach((entry, i) => {
      if (resolveProfilePath(p, entry.path) === undefined)
        this.issue(['captured', i, 'path'], `"${entry.path}" does not name anything in this profile`);
    });
    return this.issues;
  }
}

export function semanticIssues(p: FirmwareProfile): SemanticIssue[] {
  return new Checker(p).run();
}

/**
 * Resolve a documentation path such as `c1219.tables[MT1].fields[PAYMENT_CARD_ID].size` or
 * `accessLevels[engineering].secret`: `[n]` is an index, `[key]` matches an element's id (as
 * written or as its MT/MP/ST/SP label) or name.
 */
export function resolveProfilePath(root: unknown, path: string): unknown {
  if (!/^[A-Za-z_][\w-]*(?:\.[A-Za-z_][\w-]*|\[[^\]]+\])*$/.test(path)) return undefined;
  const tokens = path.match(/[^.[\]]+|\[[^\]]*\]/g) ?? [];
  let node: unknown = root;
  for (const t of tokens) {
    if (node === undefined || node === null) return undefined;
    if (t.startsWith('[')) {
      const key = t.slice(1, -1);
      if (!Array.isArray(node)) return undefined;
      node = /^\d+$/.test(key) ? (node as unknown[])[Number(key)] : node.find((el) => matchesKey(el, key));
    } else {
      if (typeof node !== 'object' || Array.isArray(node)) return undefined;
      node = (node as Record<string, unknown>)[t];
    }
  }
  return node;
}

function matchesKey(el: unknown, key: string): boolean {
  if (typeof el !== 'object' || el === null) return false;
  const o = el as { id?: unknown; name?: unknown };
  if (o.name === key || String(o.id) === key) return true;
  if (typeof o.id !== 'number' && typeof o.id !== 'string') return false;
  const kind = key.slice(0, 2) as WireKind;
  if (!['MT', 'MP', 'ST', 'SP'].includes(kind)) return false;
  const ref = parseWireRef(kind, o.id);
  return typeof ref !== 'string' && ref.label === key;
}
