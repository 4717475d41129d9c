import { ErrorCode, SimError } from '../../../core/errors';
import {
  AttributeAccess,
  MethodAccess,
  withoutRead,
  withoutWrite,
  type AttributeAccessMode,
  type MethodAccessMode,
} from './access';
import type { InterfaceClass } from './interface-class';

/**
 * Access rights of one association to one object. A profile states them per object and per
 * association name; an association the object does not list cannot see it (it is not in that
 * association's object_list and requests for it are refused).
 *
 * - `'class-default'`: the class row's default attribute and method modes;
 * - `'read-only'`: every attribute readable, no method;
 * - an object: a base (default `'none'`) with per-index overrides.
 */
export type ObjectRights =
  | 'class-default'
  | 'read-only'
  | {
      readonly base?: 'class-default' | 'read-only' | 'none';
      readonly attributes?: Readonly<Record<number, AttributeAccessMode>>;
      readonly methods?: Readonly<Record<number, MethodAccessMode>>;
    };

/** Key of `CosemObjectDef.access` that applies to every association not listed by name. */
export const ANY_ASSOCIATION = '*';

/** Effective modes, indexed by attribute / method index (holes = no-access). */
export interface ResolvedRights {
  readonly attributes: readonly AttributeAccessMode[];
  readonly methods: readonly MethodAccessMode[];
}

export interface BindingPresence {
  readonly get: (index: number) => boolean;
  readonly set: (index: number) => boolean;
  readonly method: (index: number) => boolean;
}

/**
 * Resolve declared rights against the class row and what the object actually binds: an
 * attribute without a getter cannot be read whatever the profile says, and a method without a
 * handler cannot be invoked, so the object_list never promises what the server cannot do.
 */
export function resolveRights(
  cls: InterfaceClass,
  rights: ObjectRights,
  has: BindingPresence,
): ResolvedRights {
  const spec = typeof rights === 'string' ? { base: rights } : rights;
  const base = spec.base ?? 'none';
  const attributes: AttributeAccessMode[] = [];
  for (const a of cls.attributes) {
    let mode: AttributeAccessMode =
      base === 'class-default' ? a.access : base === 'read-only' ? 'read-only' : 'no-access';
    const override = spec.attributes?.[a.index];
    if (override !== undefined) mode = checkAttributeMode(override, cls, a.index);
    if (!has.get(a.index)) mode = withoutRead(mode);
    if (!has.set(a.index)) mode = withoutWrite(mode);
    attributes[a.index] = mode;
  }
  const methods: MethodAccessMode[] = [];
  for (const m of cls.methods) {
    let mode: MethodAccessMode = base === 'class-default' ? m.access : 'no-access';
    const override = spec.methods?.[m.index];
    if (override !== undefined) mode = checkMethodMode(override, cls, m.index);
    if (!has.method(m.index)) mode = 'no-access';
    methods[m.index] = mode;
  }
  for (const k of Object.keys(spec.attributes ?? {})) {
    if (!cls.attributes.some((a) => a.index === Number(k))) unknownIndex(cls, 'attribute', k);
  }
  for (const k of Object.keys(spec.methods ?? {})) {
    if (!cls.methods.some((m) => m.index === Number(k))) unknownIndex(cls, 'method', k);
  }
  return { attributes, methods };
}

function checkAttributeMode(
  mode: AttributeAccessMode,
  cls: InterfaceClass,
  index: number,
): AttributeAccessMode {
  if (AttributeAccess[mode] === undefined) {
    throw new SimError(
      ErrorCode.ProfileInvalid,
      `${cls.name} attribute ${index}: unknown access mode '${mode}'`,
      {
        classId: cls.classId,
        index,
      },
    );
  }
  return mode;
}

function checkMethodMode(mode: MethodAccessMode, cls: InterfaceClass, index: number): MethodAccessMode {
  if (MethodAccess[mode] === undefined) {
    throw new SimError(
      ErrorCode.ProfileInvalid,
      `${cls.name} method ${index}: unknown access mode '${mode}'`,
      {
        classId: cls.classId,
        index,
      },
    );
  }
  return mode;
}

function unknownIndex(cls: InterfaceClass, what: string, index: string): never {
  throw new SimError(ErrorCode.ProfileInvalid, `${cls.name} has no ${what} ${index}`, {
    classId: cls.classId,
    index: Number(index),
  });
}

export function attributeMode(r: ResolvedRights, index: number): AttributeAccessMode {
  return r.attributes[index] ?? 'no-access';
}

export function methodMode(r: ResolvedRights, index: number): MethodAccessMode {
  return r.methods[index] ?? 'no-access';
}
