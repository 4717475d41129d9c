/**
 * The interrogator's view of a DLMS profile: where each model path can be read (object,
 * attribute, position in a structure), which SET or method runs a device operation, where the
 * event log and the invocation counter objects are, and what an association may do with each
 * (the same rights the simulated meter enforces, resolved against the class rows). The
 * session (src/migration/sessions/dlms-session.ts) reads through this map; the meter serves
 * through dlms-binding.ts; both take their layout from the one profile.
 */
import { parseObis } from '../protocols/dlms/apdu/obis';
import { canInvoke, canRead, canWrite, type RequestProtection } from '../protocols/dlms/cosem/access';
import { findInterfaceClass } from '../protocols/dlms/cosem/class-catalog';
import {
  attributeMode,
  methodMode,
  resolveRights,
  type ResolvedRights,
} from '../protocols/dlms/cosem/rights';
import type {
  CosemMapping,
  DlmsAttributeSpec,
  DlmsMethodSpec,
  DlmsObjectSpec,
  DlmsSetSpec,
  DlmsValueSpec,
} from './dlms-binding-schema';
import { dlmsParts, objectRights } from './dlms-binding';
import { attributeValue, valueSources } from './dlms-binding-values';
import type { FirmwareProfile } from './schema';

export interface ValueLocation {
  readonly object: DlmsObjectSpec;
  readonly index: number;
  readonly value: DlmsValueSpec;
}

export interface SetLocation {
  readonly object: DlmsObjectSpec;
  readonly attribute: DlmsAttributeSpec;
  readonly set: DlmsSetSpec;
}

export interface MethodLocation {
  readonly object: DlmsObjectSpec;
  readonly method: DlmsMethodSpec;
}

export interface DlmsMap {
  /** Every readable location of each model path, in profile order. */
  readonly sources: ReadonlyMap<string, readonly ValueLocation[]>;
  readonly eventLog: DlmsObjectSpec | undefined;
  /** SETs and methods that run each device operation, in profile order (SETs first). */
  readonly operations: ReadonlyMap<string, ReadonlyArray<SetLocation | MethodLocation>>;
  /** The invocation counter object of a Security setup. */
  invocationCounter(setupObis: string): DlmsObjectSpec | undefined;
  /** Rights of an association on an object; undefined when the object is hidden from it. */
  rights(object: DlmsObjectSpec, association: string): ResolvedRights | undefined;
  canRead(object: DlmsObjectSpec, index: number, association: string, p: RequestProtection): boolean;
  canWrite(object: DlmsObjectSpec, index: number, association: string, p: RequestProtection): boolean;
  canInvoke(object: DlmsObjectSpec, index: number, association: string, p: RequestProtection): boolean;
}

/** What the binding serves for an object: getters, setters and methods by index. */
function presence(o: DlmsObjectSpec) {
  const filled = o.eventLog !== undefined || o.invocationCounter !== undefined;
  return {
    get: (i: number) =>
      filled ||
      (o.classId === 9 && i === 2 && !o.attributes.some((a) => a.index === 2)) ||
      o.attributes.some((a) => a.index === i && a.type !== undefined),
    set: (i: number) => o.attributes.some((a) => a.index === i && a.set !== undefined),
    method: (i: number) => o.methods.some((m) => m.index === i),
  };
}

const maps = new WeakMap<CosemMapping, DlmsMap>();

/**
 * The map of a profile's COSEM objects. Built once per `cosem` section and shared (a sweep opens
 * a session per meter, all with the same profile object; profiles that differ only in their link
 * share the section): the map is immutable, and the rights it resolves are cached in it.
 */
export function dlmsMap(p: FirmwareProfile): DlmsMap {
  const { cosem } = dlmsParts(p);
  let map = maps.get(cosem);
  if (!map) maps.set(cosem, (map = buildDlmsMap(cosem)));
  return map;
}

function buildDlmsMap(cosem: CosemMapping): DlmsMap {
  const sources = new Map<string, ValueLocation[]>();
  const operations = new Map<string, Array<SetLocation | MethodLocation>>();
  const counters = new Map<string, DlmsObjectSpec>();
  let eventLog: DlmsObjectSpec | undefined;
  const sets: SetLocation[] = [];
  const methods: MethodLocation[] = [];
  for (const o of cosem.objects) {
    if (o.eventLog && !eventLog) eventLog = o;
    if (o.invocationCounter) counters.set(parseObis(o.invocationCounter).toString('hex'), o);
    for (const a of o.attributes) {
      const v = attributeValue(a);
      if (v)
        for (const s of valueSources(v))
          sources.set(s.path, [...(sources.get(s.path) ?? []), { object: o, index: a.index, value: v }]);
      if (a.set) sets.push({ object: o, attribute: a, set: a.set });
    }
    for (const m of o.methods) methods.push({ object: o, method: m });
  }
  for (const s of sets) operations.set(s.set.action, [...(operations.get(s.set.action) ?? []), s]);
  for (const m of methods) operations.set(m.method.action, [...(operations.get(m.method.action) ?? []), m]);

  const cache = new Map<DlmsObjectSpec, Map<string, ResolvedRights | null>>();
  const rights = (o: DlmsObjectSpec, association: string): ResolvedRights | undefined => {
    let per = cache.get(o);
    if (!per) cache.set(o, (per = new Map()));
    let r = per.get(association);
    if (r === undefined) {
      const declared = o.access[association] ?? o.access['*'];
      const cls = findInterfaceClass(o.classId);
      r = declared === undefined || !cls ? null : resolveRights(cls, objectRights(declared), presence(o));
      per.set(association, r);
    }
    return r ?? undefined;
  };
  const map: DlmsMap = {
    sources,
    eventLog,
    operations,
    invocationCounter: (setup) => counters.get(parseObis(setup).toString('hex')),
    rights,
    canRead: (o, i, a, prot) => {
      const r = rights(o, a);
      return r !== undefined && canRead(attributeMode(r, i), prot);
    },
    canWrite: (o, i, a, prot) => {
      const r = rights(o, a);
      return r !== undefined && canWrite(attributeMode(r, i), prot);
    },
    canInvoke: (o, i, a, prot) => {
      const r = rights(o, a);
      return r !== undefined && canInvoke(methodMode(r, i), prot);
    },
  };
  return Object.freeze(map);
}
