/**
 * Cross-checks of the DLMS parts of a profile that the shape alone cannot express (docs/dlms-
 * profiles.md "Validation"): link sections present for the chosen link, HDLC addresses that fit
 * their octet count, associations with the secrets and keys their mechanism needs (keys 16
 * bytes, docs/dlms.md §7), objects of known classes at unique OBIS codes, attributes and methods
 * that exist in the class row (src/protocols/dlms/cosem), sources that exist on the device type
 * and fit their A-XDR type, values that conform to the class row's attribute type, SETs and
 * methods that name device operations with every argument they need, rights that name known
 * associations and indices.
 */
import { modelPathSpec } from '../device/model-paths';
import { parseObis } from '../protocols/dlms/apdu/obis';
import { typeMismatch } from '../protocols/dlms/cosem/attr-types';
import { findInterfaceClass } from '../protocols/dlms/cosem/class-catalog';
import type { InterfaceClass } from '../protocols/dlms/cosem/interface-class';
import type {
  DlmsAttributeSpec,
  DlmsObjectSpec,
  DlmsParamSpec,
  DlmsRightsSpec,
  DlmsSetSpec,
  DlmsValueSpec,
} from './dlms-binding-schema';
import {
  DLMS_ACCEPTS,
  INTEGER_RANGE,
  attributeValue,
  constantData,
  encodeScalar,
  kindOfPath,
  sampleData,
} from './dlms-binding-values';
import { actionSpec, type ArgKind } from './procedure-actions';
import type { FirmwareProfile } from './schema';
import type { PathKey, SemanticIssue } from './semantic';

/** Suite 0 keys are 16 bytes (docs/dlms.md §7). */
export const DLMS_KEY_BYTES = 16;

/** Bytes of a level's secret; null when supplied at run time (`env`, docs/capture.md). */
function secretLength(p: FirmwareProfile, level: string): number | null | undefined {
  const l = p.accessLevels.find((x) => x.name === level);
  if (!l) return undefined;
  if ('env' in l.secret) return null;
  return 'hex' in l.secret ? l.secret.hex.length / 2 : l.secret.ascii.length;
}

class DlmsChecker {
  readonly issues: SemanticIssue[] = [];
  private readonly associations: Set<string>;

  constructor(private readonly p: FirmwareProfile) {
    this.associations = new Set(
      p.protocol.stack === 'dlms' ? p.protocol.dlms.associations.map((a) => a.name) : [],
    );
  }

  issue(path: PathKey[], reason: string): void {
    this.issues.push({ path, reason });
  }

  private level(name: string, path: PathKey[], bytes?: number): void {
    const n = secretLength(this.p, name);
    if (n === undefined) this.issue(path, `unknown access level "${name}"`);
    else if (bytes !== undefined && n !== null && n !== bytes)
      this.issue(path, `access level "${name}" holds ${n} byte(s); a suite 0 key is ${bytes}`);
  }

  protocol(): void {
    if (this.p.protocol.stack !== 'dlms') return;
    const d = this.p.protocol.dlms;
    const base: PathKey[] = ['protocol', 'dlms'];
    if ((d.link === 'hdlc' || d.link === 'mode-e') && !d.hdlc)
      this.issue([...base, 'hdlc'], `required for link ${d.link}`);
    if (d.link === 'mode-e' && !d.modeE) this.issue([...base, 'modeE'], 'required for link mode-e');
    if (d.link !== 'mode-e' && d.modeE) this.issue([...base, 'modeE'], 'applies to link mode-e only');
    if (d.link === 'wrapper' && d.hdlc)
      this.issue([...base, 'hdlc'], 'applies to links hdlc and mode-e only');
    if (d.link !== 'wrapper' && d.wrapper) this.issue([...base, 'wrapper'], 'applies to link wrapper only');
    if (d.hdlc) {
      const h = d.hdlc;
      if (h.addressSize === 1 && h.physical !== undefined)
        this.issue([...base, 'hdlc', 'addressSize'], 'a 1-octet server address has no physical part');
      if (h.addressSize !== 1 && h.physical === undefined)
        this.issue(
          [...base, 'hdlc', 'physical'],
          `a ${h.addressSize}-octet server address needs a physical part`,
        );
      const max = h.addressSize === 4 ? 0x3fff : 0x7f;
      if (d.logicalDevice > max)
        this.issue(
          [...base, 'logicalDevice'],
          `${d.logicalDevice} does not fit a ${h.addressSize}-octet address`,
        );
      if (h.physical !== undefined && h.physical > max)
        this.issue(
          [...base, 'hdlc', 'physical'],
          `${h.physical} does not fit a ${h.addressSize}-octet address`,
        );
    }
    const wake = this.p.timing.wake;
    if (d.modeE && wake && d.modeE.wakeUpNuls === undefined)
      this.issue(
        [...base, 'modeE', 'wakeUpNuls'],
        'a battery meter (timing.wake) needs the NUL count that wakes it',
      );
    if (d.modeE?.wakeUpNuls !== undefined && !wake)
      this.issue([...base, 'modeE', 'wakeUpNuls'], 'only battery meters (timing.wake) sleep');
    if (!this.p.cosem) this.issue(['cosem'], 'required for stack dlms');

    const names = new Map<string, number>();
    const saps = new Map<number, number>();
    const setups = new Map<string, { keys: string; policy: number; index: number }>();
    d.associations.forEach((a, i) => {
      const ap: PathKey[] = [...base, 'associations', i];
      if (names.has(a.name)) this.issue([...ap, 'name'], `association "${a.name}" defined twice`);
      names.set(a.name, i);
      if (saps.has(a.clientSap))
        this.issue(
          [...ap, 'clientSap'],
          `client SAP ${a.clientSap} already used by ${d.associations[saps.get(a.clientSap)!]!.name}`,
        );
      saps.set(a.clientSap, i);
      if (a.mechanism === 'lls' && a.secret === undefined)
        this.issue([...ap, 'secret'], 'LLS needs the access level of its password');
      if (a.mechanism !== 'lls' && a.secret !== undefined)
        this.issue([...ap, 'secret'], 'only LLS takes a password');
      if (a.secret !== undefined) this.level(a.secret, [...ap, 'secret']);
      const ciphered = a.mechanism === 'hls-gmac' || a.securityPolicy > 0;
      if (ciphered && !a.keys)
        this.issue([...ap, 'keys'], 'HLS-GMAC and security policies above 0 need keys');
      if (ciphered && !a.securitySetup)
        this.issue(
          [...ap, 'securitySetup'],
          'HLS-GMAC and security policies above 0 need a Security setup object',
        );
      if (a.keys) {
        for (const k of ['ek', 'ak', 'kek'] as const)
          this.level(a.keys[k], [...ap, 'keys', k], DLMS_KEY_BYTES);
        if (!a.securitySetup)
          this.issue([...ap, 'securitySetup'], 'keys live in a Security setup object; name it');
      }
      if (a.securitySetup && !a.keys) this.issue([...ap, 'keys'], 'a Security setup holds keys: name them');
      if (a.securitySetup) {
        const key = this.obis(a.securitySetup, [...ap, 'securitySetup']);
        const keys = a.keys ? `${a.keys.ek}/${a.keys.ak}/${a.keys.kek}` : '';
        const prev = key === undefined ? undefined : setups.get(key);
        if (prev && (prev.keys !== keys || prev.policy !== a.securityPolicy))
          this.issue(
            [...ap, 'securitySetup'],
            `${a.securitySetup} is shared with ${d.associations[prev.index]!.name} but with other keys or policy`,
          );
        if (key !== undefined && !prev) setups.set(key, { keys, policy: a.securityPolicy, index: i });
      }
    });
  }

  /** OBIS text -> canonical key, or undefined (issue raised) when a group is out of range. */
  obis(text: string, path: PathKey[]): string | undefined {
    try {
      return parseObis(text).toString('hex');
    } catch {
      this.issue(path, `"${text}" is not an OBIS code (groups 0–255)`);
      return undefined;
    }
  }

  /** Kind and type checks of one sourced or constant value (recursive for structures). */
  value(v: DlmsValueSpec, path: PathKey[]): void {
    if (v.type === 'structure') {
      if (!v.fields?.length) this.issue([...path, 'fields'], 'a structure needs fields');
      for (const k of ['source', 'value', 'enum', 'prefix'] as const)
        if (v[k] !== undefined) this.issue([...path, k], 'a structure takes fields:, not this');
      v.fields?.forEach((f, i) => this.value(f, [...path, 'fields', i]));
      if (v.absent && !v.fields?.some((f) => f.source !== undefined || f.type === 'structure'))
        this.issue([...path, 'absent'], 'absent: needs at least one sourced field');
      return;
    }
    if (v.fields) this.issue([...path, 'fields'], 'fields: applies to structures only');
    if (v.absent) this.issue([...path, 'absent'], 'absent: applies to structures only');
    if (v.type === 'null') {
      if (v.source !== undefined || v.value !== undefined) this.issue(path, 'a null value carries nothing');
      return;
    }
    if ((v.source === undefined) === (v.value === undefined)) {
      this.issue(path, 'give exactly one of source: or value:');
      return;
    }
    if (v.value !== undefined) {
      if (v.enum || v.prefix) this.issue(path, 'enum: and prefix: apply to sources only');
      try {
        constantData(v, 'value');
      } catch (e) {
        this.issue([...path, 'value'], e instanceof Error ? e.message.replace(/^value: /, '') : String(e));
      }
      return;
    }
    const spec = modelPathSpec(v.source!);
    if (!spec) {
      this.issue([...path, 'source'], `unknown source "${v.source}" (see docs/profiles.md "Sources")`);
      return;
    }
    if (spec.deviceTypes && !spec.deviceTypes.includes(this.p.identity.deviceType))
      this.issue([...path, 'source'], `"${v.source}" does not exist on a ${this.p.identity.deviceType}`);
    this.carries(spec.kind, spec.values, v, path, `"${v.source}"`);
    if (v.prefix !== undefined && spec.kind !== 'text' && spec.kind !== 'digits')
      this.issue([...path, 'prefix'], 'prefix: applies to text and digits sources only');
  }

  /** Can a `kind` value travel as this type (with its enum map)? */
  carries(
    kind: ArgKind,
    values: readonly string[] | undefined,
    spec: { type: DlmsValueSpec['type']; enum?: Record<string, number> | undefined },
    path: PathKey[],
    what: string,
  ): void {
    if (!DLMS_ACCEPTS[kind].includes(spec.type)) {
      this.issue(
        [...path, 'type'],
        `${what} is ${kind}; ${spec.type} cannot carry it (use ${DLMS_ACCEPTS[kind].join('|')})`,
      );
      return;
    }
    const members = kind === 'bool' ? ['false', 'true'] : kind === 'enum' ? (values ?? []) : undefined;
    const mapped =
      members !== undefined && (spec.type === 'enum' || (kind === 'enum' && spec.type !== 'visible-string'));
    if (!mapped) {
      if (spec.enum) this.issue([...path, 'enum'], 'enum: applies to enum values only');
      return;
    }
    if (!spec.enum) {
      this.issue([...path, 'enum'], `${what} needs wire values for ${members.join('|')} in enum:`);
      return;
    }
    for (const m of members)
      if (spec.enum[m] === undefined) this.issue([...path, 'enum'], `no wire value for "${m}"`);
    for (const k of Object.keys(spec.enum))
      if (!members.includes(k)) this.issue([...path, 'enum', k], `"${k}" is not one of ${members.join('|')}`);
    const nums = Object.values(spec.enum);
    if (new Set(nums).size !== nums.length) this.issue([...path, 'enum'], 'wire values must be distinct');
    const hi = INTEGER_RANGE[spec.type]?.[1] ?? 255;
    for (const [k, n] of Object.entries(spec.enum))
      if (n > hi) this.issue([...path, 'enum', k], `${n} does not fit ${spec.type}`);
  }

  set(s: DlmsSetSpec, cls: InterfaceClass, attrIndex: number, path: PathKey[]): void {
    const spec = actionSpec(s.action);
    if (!spec) {
      this.issue([...path, 'action'], `unknown action "${s.action}"`);
      return;
    }
    if ((s.params === undefined) === (s.param === undefined)) {
      this.issue(path, 'give exactly one of params: (a structure, [] = empty) or param: (a bare value)');
      return;
    }
    const params: DlmsParamSpec[] = s.params ?? [s.param!];
    const levels = new Set(this.p.accessLevels.map((l) => l.name));
    const used = new Set<string>();
    let perLevel = 0;
    const kinds: ArgKind[] = [];
    params.forEach((param, i) => {
      const pp: PathKey[] = s.params ? [...path, 'params', i] : [...path, 'param'];
      if (used.has(param.arg)) this.issue([...pp, 'arg'], `argument ${param.arg} filled twice`);
      used.add(param.arg);
      const fixed = spec.args[param.arg];
      if (fixed) {
        kinds.push(fixed.kind);
        return this.carries(fixed.kind, fixed.values, param, pp, `argument ${param.arg}`);
      }
      if (spec.perLevel && param.arg.startsWith(spec.perLevel.prefix)) {
        const level = param.arg.slice(spec.perLevel.prefix.length);
        if (!levels.has(level)) return this.issue([...pp, 'arg'], `unknown access level "${level}"`);
        perLevel++;
        kinds.push(spec.perLevel.kind);
        return this.carries(spec.perLevel.kind, undefined, param, pp, `argument ${param.arg}`);
      }
      const known = [...Object.keys(spec.args), ...(spec.perLevel ? [`${spec.perLevel.prefix}<level>`] : [])];
      this.issue(
        [...pp, 'arg'],
        `${s.action} has no argument "${param.arg}"${known.length ? ` (${known.join(', ')})` : ''}`,
      );
    });
    for (const [name, a] of Object.entries(spec.args))
      if (a.required && !used.has(name)) this.issue(path, `${s.action} needs a parameter with arg: ${name}`);
    if (spec.perLevel && perLevel === 0)
      this.issue(path, `${s.action} needs at least one ${spec.perLevel.prefix}<level> parameter`);
    // The SET value must pass the class row's type check, or the server answers type-unmatched.
    const row = cls.attributes.find((a) => a.index === attrIndex);
    if (row && kinds.length === params.length) {
      try {
        const items = params.map((p, i) => encodeScalar(p, kinds[i]!, sampleArg(kinds[i]!, p), 'param'));
        const sample = s.params ? { type: 'structure' as const, items } : items[0]!;
        if (typeMismatch(sample, row.type) !== undefined)
          this.issue(path, `the SET value does not conform to ${cls.name} attribute ${attrIndex}`);
      } catch {
        // The parameter issue was reported above.
      }
    }
  }

  rights(r: DlmsRightsSpec, cls: InterfaceClass, path: PathKey[]): void {
    if (typeof r === 'string') return;
    for (const k of Object.keys(r.attributes ?? {}))
      if (!cls.attributes.some((a) => a.index === Number(k)))
        this.issue([...path, 'attributes', k], `${cls.name} has no attribute ${k}`);
    for (const k of Object.keys(r.methods ?? {}))
      if (!cls.methods.some((m) => m.index === Number(k)))
        this.issue([...path, 'methods', k], `${cls.name} has no method ${k}`);
  }

  attribute(a: DlmsAttributeSpec, cls: InterfaceClass, path: PathKey[]): void {
    const row = cls.attributes.find((x) => x.index === a.index);
    if (!row) this.issue([...path, 'index'], `${cls.name} has no attribute ${a.index}`);
    const v = attributeValue(a);
    if (v) {
      const before = this.issues.length;
      this.value(v, path);
      if (row && this.issues.length === before) {
        const sample = sampleData(v, kindOfPath);
        if (sample.type !== 'dont-care' && typeMismatch(sample, row.type) !== undefined)
          this.issue(
            [...path, 'type'],
            `${cls.name} attribute ${a.index} (${row.name}) cannot hold this value`,
          );
      }
    } else {
      for (const k of ['source', 'value', 'enum', 'prefix', 'fields', 'absent'] as const)
        if (a[k] !== undefined) this.issue([...path, k], 'give type: for a value');
      if (!a.set) this.issue(path, 'an attribute needs a value (type:) or a set:');
    }
    if (a.set && row) this.set(a.set, cls, a.index, [...path, 'set']);
  }

  object(o: DlmsObjectSpec, path: PathKey[], setups: ReadonlySet<string>): void {
    const cls = findInterfaceClass(o.classId);
    if (!cls) {
      this.issue([...path, 'classId'], `COSEM interface class ${o.classId} is not supported`);
      return;
    }
    if (o.eventLog || o.invocationCounter) {
      if (o.attributes.length || o.methods.length)
        this.issue(
          path,
          'eventLog and invocationCounter objects are filled by the binding: no attributes or methods',
        );
      if (o.eventLog && o.invocationCounter)
        this.issue(path, 'an object is an event log or an invocation counter, not both');
      if (o.eventLog && o.classId !== 7)
        this.issue([...path, 'classId'], 'an event log is a Profile generic (7)');
      if (o.invocationCounter) {
        if (o.classId !== 1) this.issue([...path, 'classId'], 'an invocation counter is a Data object (1)');
        const key = this.obis(o.invocationCounter, [...path, 'invocationCounter']);
        if (key !== undefined && !setups.has(key))
          this.issue(
            [...path, 'invocationCounter'],
            `no association uses the Security setup ${o.invocationCounter}`,
          );
      }
    }
    const indices = new Set<number>();
    o.attributes.forEach((a, j) => {
      if (indices.has(a.index))
        this.issue([...path, 'attributes', j, 'index'], `attribute ${a.index} defined twice`);
      indices.add(a.index);
      this.attribute(a, cls, [...path, 'attributes', j]);
    });
    const methods = new Set<string>();
    o.methods.forEach((m, j) => {
      const mp: PathKey[] = [...path, 'methods', j];
      if (!cls.methods.some((x) => x.index === m.index))
        this.issue([...mp, 'index'], `${cls.name} has no method ${m.index}`);
      const script = o.classId === 9 && m.index === 1;
      if (script && m.script === undefined)
        this.issue([...mp, 'script'], 'Script table execute takes the script id: give script:');
      if (!script && m.script !== undefined)
        this.issue([...mp, 'script'], 'script: applies to Script table (9) execute (1) only');
      const key = `${m.index}/${m.script ?? ''}`;
      if (methods.has(key))
        this.issue(
          mp,
          `method ${m.index}${m.script !== undefined ? ` script ${m.script}` : ''} defined twice`,
        );
      methods.add(key);
      const spec = actionSpec(m.action);
      if (!spec) this.issue([...mp, 'action'], `unknown action "${m.action}"`);
      else if (spec.perLevel || Object.values(spec.args).some((a) => a.required))
        this.issue([...mp, 'action'], `${m.action} takes arguments; bind it to an attribute set: instead`);
    });
    for (const [name, r] of Object.entries(o.access)) {
      if (name !== '*' && !this.associations.has(name))
        this.issue([...path, 'access', name], `unknown association "${name}"`);
      this.rights(r, cls, [...path, 'access', name]);
    }
  }

  cosem(): void {
    const c = this.p.cosem;
    if (!c) return;
    if (this.p.protocol.stack !== 'dlms') {
      this.issue(['cosem'], 'applies to stack dlms only');
      return;
    }
    const setups = new Set<string>();
    for (const a of this.p.protocol.dlms.associations)
      if (a.securitySetup) {
        try {
          setups.add(parseObis(a.securitySetup).toString('hex'));
        } catch {
          // Reported by protocol().
        }
      }
    const names = new Map<string, number>();
    const codes = new Map<string, number>();
    c.objects.forEach((o, i) => {
      const op: PathKey[] = ['cosem', 'objects', i];
      if (names.has(o.name)) this.issue([...op, 'name'], `object "${o.name}" defined twice`);
      names.set(o.name, i);
      const key = this.obis(o.obis, [...op, 'obis']);
      if (key !== undefined) {
        if (codes.has(key))
          this.issue([...op, 'obis'], `${o.obis} also used by ${c.objects[codes.get(key)!]!.name}`);
        else if (setups.has(key))
          this.issue([...op, 'obis'], `${o.obis} is a Security setup the server provides`);
        else if (
          /^00002800[0-9a-f]{2}ff$/.test(key) &&
          parseInt(key.slice(8, 10), 16) <= this.associations.size
        )
          this.issue([...op, 'obis'], `${o.obis} is an Association LN object the binding provides`);
        codes.set(key, i);
      }
      this.object(o, op, setups);
    });
  }
}

function sampleArg(kind: ArgKind, p: DlmsParamSpec): string | number | boolean {
  switch (kind) {
    case 'int':
    case 'uint':
      return 1;
    case 'bool':
      return true;
    case 'time':
      return Date.UTC(2026, 0, 1);
    case 'enum':
      return Object.keys(p.enum ?? {})[0] ?? 'x';
    case 'binary':
      return '00';
    default:
      return '1';
  }
}

/** Issues of the `protocol.dlms` and `cosem` sections (empty for a c1218 profile without cosem). */
export function dlmsSemanticIssues(p: FirmwareProfile): SemanticIssue[] {
  const c = new DlmsChecker(p);
  c.protocol();
  c.cosem();
  return c.issues;
}
