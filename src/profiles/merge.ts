/**
 * `extends:` merging (docs/profiles.md "Templates and extends"). A child is deep-merged over
 * its parent:
 * - objects merge key by key;
 * - lists of objects that all carry an `id` (tables, procedures), a `name` (access levels,
 *   fields, parameters) or a `path` (modelled, facts) merge by that key: an entry with a known
 *   key merges into the parent's entry in place, a new key is appended, and `remove: true`
 *   deletes the parent's entry;
 * - anything else (scalars, other lists) is replaced.
 * Every merged node remembers which file and which path inside it supplied it, so an error in
 * the merged profile is reported against the file and line the user must edit.
 */

export type PathKey = string | number;
export interface Origin {
  file: string;
  /** The path of the node inside that file. */
  src: PathKey[];
}
export type Origins = Map<string, Origin>;

/** Key of a merged node in Origins: pathString without the '<root>' placeholder. */
export function originKey(path: readonly PathKey[]): string {
  let out = '';
  for (const k of path) out = child(out, k);
  return out;
}

export function pathString(path: readonly PathKey[]): string {
  return originKey(path) || '<root>';
}

function child(parent: string, k: PathKey): string {
  return typeof k === 'number' ? `${parent}[${k}]` : parent ? `${parent}.${k}` : k;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

const LIST_KEYS = ['id', 'name', 'path'] as const;

function listKey(a: unknown[], b: unknown[]): (typeof LIST_KEYS)[number] | undefined {
  const all = [...a, ...b];
  if (all.length === 0) return undefined;
  return LIST_KEYS.find((k) => all.every((el) => isObject(el) && el[k] !== undefined));
}

/** Record the origin of `value` and everything under it. */
function annotate(value: unknown, file: string, dst: string, src: PathKey[], origins: Origins): void {
  origins.set(dst, { file, src });
  if (Array.isArray(value)) value.forEach((v, i) => annotate(v, file, child(dst, i), [...src, i], origins));
  else if (isObject(value))
    for (const [k, v] of Object.entries(value)) annotate(v, file, child(dst, k), [...src, k], origins);
}

/** Strip `remove` markers from a layer that has no parent entry to remove. */
function withoutRemoved(v: unknown): unknown {
  if (Array.isArray(v)) return v.filter((el) => !(isObject(el) && el['remove'] === true)).map(withoutRemoved);
  if (isObject(v)) return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, withoutRemoved(x)]));
  return v;
}

interface Layered {
  value: unknown;
  origins: Origins;
}

/**
 * Merge `over` (from `file`) onto `base` whose origins are `baseOrigins`. Origins of base
 * nodes move with them when list entries shift.
 */
export function mergeLayer(base: Layered, over: unknown, file: string): Layered {
  const origins: Origins = new Map();
  const value = merge(base.value, base.origins, '', over, file, [], '', origins);
  return { value, origins };
}

/** The first layer: the root template or a profile without extends. */
export function firstLayer(value: unknown, file: string): Layered {
  const v = withoutRemoved(value);
  const origins: Origins = new Map();
  annotate(v, file, '', [], origins);
  return { value: v, origins };
}

/** Move the origins of an unchanged base subtree to its (possibly shifted) merged position. */
function copyOrigins(from: Origins, fromKey: string, toKey: string, into: Origins, value: unknown): void {
  const o = from.get(fromKey);
  if (o) into.set(toKey, o);
  if (Array.isArray(value))
    value.forEach((v, i) => copyOrigins(from, child(fromKey, i), child(toKey, i), into, v));
  else if (isObject(value))
    for (const [k, v] of Object.entries(value))
      copyOrigins(from, child(fromKey, k), child(toKey, k), into, v);
}

function merge(
  base: unknown,
  baseOrigins: Origins,
  basePath: string,
  over: unknown,
  file: string,
  src: PathKey[],
  dst: string,
  origins: Origins,
): unknown {
  if (over === undefined) {
    copyOrigins(baseOrigins, basePath, dst, origins, base);
    return base;
  }
  if (isObject(base) && isObject(over)) {
    const out: Record<string, unknown> = {};
    origins.set(dst, { file, src });
    for (const k of new Set([...Object.keys(base), ...Object.keys(over)]))
      out[k] = merge(
        base[k],
        baseOrigins,
        child(basePath, k),
        over[k],
        file,
        [...src, k],
        child(dst, k),
        origins,
      );
    return out;
  }
  if (Array.isArray(base) && Array.isArray(over)) {
    const key = listKey(base, over);
    if (key) {
      origins.set(dst, { file, src });
      const out: unknown[] = [];
      const overByKey = new Map<unknown, number>();
      over.forEach((el, i) => overByKey.set((el as Record<string, unknown>)[key], i));
      const consumed = new Set<number>();
      base.forEach((el, i) => {
        const k = (el as Record<string, unknown>)[key];
        const oi = overByKey.get(k);
        if (oi === undefined) {
          copyOrigins(baseOrigins, child(basePath, i), child(dst, out.length), origins, el);
          out.push(el);
          return;
        }
        consumed.add(oi);
        const o = over[oi] as Record<string, unknown>;
        if (o['remove'] === true) return;
        out.push(
          merge(el, baseOrigins, child(basePath, i), o, file, [...src, oi], child(dst, out.length), origins),
        );
      });
      over.forEach((el, i) => {
        if (consumed.has(i) || (el as Record<string, unknown>)['remove'] === true) return;
        const v = withoutRemoved(el);
        annotate(v, file, child(dst, out.length), [...src, i], origins);
        out.push(v);
      });
      return out;
    }
  }
  const v = withoutRemoved(over);
  annotate(v, file, dst, src, origins);
  return v;
}
