import { ErrorCode, SimError, isSimError } from '../../../core/errors';
import { formatObis, parseObis } from '../apdu/obis';
import { ActionResult, DataAccessResult } from '../apdu/result-codes';
import type {
  AttributeDescriptor,
  GetDataResult,
  MethodDescriptor,
  SelectiveAccess,
} from '../apdu/xdlms-common';
import type { ActionOutcome } from '../apdu/xdlms-action';
import { axdr } from '../axdr/builders';
import type { Data } from '../axdr/types';
import { canInvoke, canRead, canWrite } from './access';
import { typeMismatch } from './attr-types';
import { interfaceClass } from './class-catalog';
import { isRefusal, type AttributeBinding, type CosemContext, type MethodHandler } from './context';
import type { InterfaceClass } from './interface-class';
import {
  ANY_ASSOCIATION,
  attributeMode,
  methodMode,
  resolveRights,
  type ObjectRights,
  type ResolvedRights,
} from './rights';
import { objectListData } from './object-list';

/**
 * The COSEM objects of one logical device and who may use them (docs/dlms.md §6). Objects are
 * data plus callbacks: the class row says which attributes and methods exist and their types,
 * the bindings reach the device model, and the rights say which association may do what. Every
 * GET/SET/ACTION decision is taken here, in this order (modelled where docs/dlms.md is silent):
 *
 *   no object at that logical name             -> object-undefined (4)
 *   object not visible to the association      -> read-write-denied (3) (option: object-undefined)
 *   class id differs from the object's         -> object-class-inconsistent (9)
 *   attribute / method index not in the class  -> object-undefined (4)
 *   mode forbids it (incl. authenticated_*)    -> read-write-denied (3)
 *   selector the attribute does not take       -> scope-of-access-violated (13)
 *   SET / ACTION value of the wrong type       -> type-unmatched (12)
 *   the callback refused or threw              -> its Refusal / hardware-fault / temporary-failure
 */

export interface CosemObjectDef {
  readonly classId: number;
  /** `0-0:1.0.0.255` or 6 octets. */
  readonly obis: string | Uint8Array;
  /** Attribute bindings by index; logical_name (1) is answered automatically. */
  readonly attributes?: Readonly<Record<number, AttributeBinding>>;
  readonly methods?: Readonly<Record<number, MethodHandler>>;
  /** Association name (or `'*'` for any other) -> rights. Unlisted associations cannot see it. */
  readonly access: Readonly<Record<string, ObjectRights>>;
}

export interface RegisteredObject {
  readonly classId: number;
  readonly version: number;
  readonly obis: Buffer;
  readonly name: string;
  readonly cls: InterfaceClass;
  readonly attributes: ReadonlyMap<number, AttributeBinding>;
  readonly methods: ReadonlyMap<number, MethodHandler>;
  readonly access: Readonly<Record<string, ObjectRights>>;
}

export interface RegistryOptions {
  /**
   * What a request for an object the association cannot see is answered: read-write-denied
   * (default) or object-undefined, as if the object did not exist (both seen on real meters;
   * modelled choice).
   */
  readonly hiddenObjectResult?: 'read-write-denied' | 'object-undefined';
  /** Called when a callback throws; the request is still answered (never crashes the server). */
  readonly onFault?: (error: SimError, where: string) => void;
}

/** The obis octets as one number (48 bits fit a double exactly): a cheap map key. */
export function obisKey(obis: Uint8Array): number {
  return (
    obis[0]! * 2 ** 40 +
    obis[1]! * 2 ** 32 +
    ((obis[2]! << 24) >>> 0) +
    (obis[3]! << 16) +
    (obis[4]! << 8) +
    obis[5]!
  );
}

function logicalNameBinding(obis: Buffer): AttributeBinding {
  const value = axdr.octets(obis);
  return { get: () => value };
}

/**
 * The result code for a callback that threw: device unavailable -> temporary-failure (2),
 * storage failure -> hardware-fault (1), anything else -> other (250). Modelled mapping.
 */
export function resultForError(e: unknown): number {
  if (isSimError(e)) {
    if (e.code === ErrorCode.DeviceOff || e.code === ErrorCode.ServiceBusy)
      return DataAccessResult['temporary-failure'];
    if (e.code === ErrorCode.DeviceStorageFailed) return DataAccessResult['hardware-fault'];
  }
  return DataAccessResult.other;
}

export class CosemRegistry {
  private readonly byKey = new Map<number, RegisteredObject>();
  private readonly order: RegisteredObject[] = [];
  private readonly rightsCache = new Map<string, Map<RegisteredObject, ResolvedRights | null>>();
  private readonly listCache = new Map<string, Data>();
  private readonly hiddenResult: number;
  private readonly faultListeners: Array<(error: SimError, where: string) => void> = [];

  constructor(options: RegistryOptions = {}) {
    this.hiddenResult = DataAccessResult[options.hiddenObjectResult ?? 'read-write-denied'];
    if (options.onFault) this.faultListeners.push(options.onFault);
  }

  /** Be told when a callback throws (the server forwards these as `fault` events). */
  addFaultListener(listener: (error: SimError, where: string) => void): () => void {
    this.faultListeners.push(listener);
    return () => {
      const i = this.faultListeners.indexOf(listener);
      if (i >= 0) this.faultListeners.splice(i, 1);
    };
  }

  /** Register an object; ProfileInvalid for an unknown class, index or duplicate logical name. */
  add(def: CosemObjectDef): RegisteredObject {
    const cls = interfaceClass(def.classId);
    const obis = typeof def.obis === 'string' ? parseObis(def.obis) : Buffer.from(def.obis);
    const name = formatObis(obis);
    const key = obisKey(obis);
    if (this.byKey.has(key)) {
      throw new SimError(ErrorCode.ProfileInvalid, `object ${name} is registered twice`, { obis: name });
    }
    const attributes = new Map<number, AttributeBinding>([[1, logicalNameBinding(obis)]]);
    for (const [k, b] of Object.entries(def.attributes ?? {})) {
      const index = Number(k);
      if (index === 1) throw invalid(`${name}: logical_name (1) is answered by the registry`, name);
      if (!cls.attributes.some((a) => a.index === index))
        invalid(`${name}: ${cls.name} has no attribute ${k}`, name);
      attributes.set(index, b);
    }
    const methods = new Map<number, MethodHandler>();
    for (const [k, h] of Object.entries(def.methods ?? {})) {
      const index = Number(k);
      if (!cls.methods.some((m) => m.index === index))
        invalid(`${name}: ${cls.name} has no method ${k}`, name);
      methods.set(index, h);
    }
    const obj: RegisteredObject = {
      classId: cls.classId,
      version: cls.version,
      obis,
      name,
      cls,
      attributes,
      methods,
      access: def.access,
    };
    // Validate every declared rights entry now, not on the first request.
    for (const r of Object.values(def.access)) resolveRights(cls, r, presence(obj));
    this.byKey.set(key, obj);
    this.order.push(obj);
    this.rightsCache.clear();
    this.listCache.clear();
    return obj;
  }

  has(obis: string | Uint8Array): boolean {
    return this.find(typeof obis === 'string' ? parseObis(obis) : obis) !== undefined;
  }

  find(obis: Uint8Array): RegisteredObject | undefined {
    return obis.length === 6 ? this.byKey.get(obisKey(obis)) : undefined;
  }

  get size(): number {
    return this.order.length;
  }

  /** Every object, in registration order. */
  all(): readonly RegisteredObject[] {
    return this.order;
  }

  /** The association's rights on an object, or undefined when the object is hidden from it. */
  rights(obj: RegisteredObject, association: string): ResolvedRights | undefined {
    let perAssoc = this.rightsCache.get(association);
    if (!perAssoc) {
      perAssoc = new Map();
      this.rightsCache.set(association, perAssoc);
    }
    let r = perAssoc.get(obj);
    if (r === undefined) {
      const declared = obj.access[association] ?? obj.access[ANY_ASSOCIATION];
      r = declared === undefined ? null : resolveRights(obj.cls, declared, presence(obj));
      perAssoc.set(obj, r);
    }
    return r ?? undefined;
  }

  /** The objects an association can see, in registration order. */
  visible(association: string): RegisteredObject[] {
    return this.order.filter((o) => this.rights(o, association) !== undefined);
  }

  /** Association LN object_list for one association (cached until the registry changes). */
  objectList(association: string): Data {
    let d = this.listCache.get(association);
    if (!d) {
      d = objectListData(
        this.visible(association).map((o) => ({ obj: o, rights: this.rights(o, association)! })),
      );
      this.listCache.set(association, d);
    }
    return d;
  }

  private locate(
    classId: number,
    obis: Uint8Array,
    association: string,
  ): { obj: RegisteredObject; rights: ResolvedRights } | number {
    const obj = this.find(obis);
    if (!obj) return DataAccessResult['object-undefined'];
    const rights = this.rights(obj, association);
    if (!rights) return this.hiddenResult;
    if (obj.classId !== classId) return DataAccessResult['object-class-inconsistent'];
    return { obj, rights };
  }

  private fault(e: unknown, where: string): number {
    const err = isSimError(e)
      ? e
      : new SimError(ErrorCode.DeviceInvalidOperation, String(e), {}, { cause: e });
    for (const l of this.faultListeners) l(err, where);
    return resultForError(e);
  }

  /** GET one attribute for an association. Never throws. */
  async get(
    desc: AttributeDescriptor,
    access: SelectiveAccess | undefined,
    ctx: Omit<CosemContext, 'access'>,
  ): Promise<GetDataResult> {
    const found = this.locate(desc.classId, desc.obis, ctx.association.name);
    if (typeof found === 'number') return { kind: 'dar', dar: found };
    const { obj, rights } = found;
    const spec = obj.cls.attributes.find((a) => a.index === desc.attributeId);
    if (!spec) return { kind: 'dar', dar: DataAccessResult['object-undefined'] };
    if (!canRead(attributeMode(rights, spec.index), ctx.protection)) {
      return { kind: 'dar', dar: DataAccessResult['read-write-denied'] };
    }
    if (access !== undefined && !(spec.selectors ?? []).includes(access.selector)) {
      return { kind: 'dar', dar: DataAccessResult['scope-of-access-violated'] };
    }
    const binding = obj.attributes.get(spec.index)!;
    try {
      const v = await binding.get!({ ...ctx, access });
      return isRefusal(v) ? { kind: 'dar', dar: v.refused } : { kind: 'data', data: v };
    } catch (e) {
      return { kind: 'dar', dar: this.fault(e, `get ${obj.name}/${spec.index}`) };
    }
  }

  /** SET one attribute; resolves the Data-Access-Result. Never throws. */
  async set(
    desc: AttributeDescriptor,
    access: SelectiveAccess | undefined,
    value: Data,
    ctx: Omit<CosemContext, 'access'>,
  ): Promise<number> {
    const found = this.locate(desc.classId, desc.obis, ctx.association.name);
    if (typeof found === 'number') return found;
    const { obj, rights } = found;
    const spec = obj.cls.attributes.find((a) => a.index === desc.attributeId);
    if (!spec) return DataAccessResult['object-undefined'];
    if (!canWrite(attributeMode(rights, spec.index), ctx.protection))
      return DataAccessResult['read-write-denied'];
    if (access !== undefined && !(spec.selectors ?? []).includes(access.selector)) {
      return DataAccessResult['scope-of-access-violated'];
    }
    if (typeMismatch(value, spec.type) !== undefined) return DataAccessResult['type-unmatched'];
    try {
      const r = await obj.attributes.get(spec.index)!.set!(value, { ...ctx, access });
      return isRefusal(r) ? r.refused : DataAccessResult.success;
    } catch (e) {
      return this.fault(e, `set ${obj.name}/${spec.index}`);
    }
  }

  /** ACTION one method; resolves the Action-Result and any return parameters. Never throws. */
  async action(
    desc: MethodDescriptor,
    params: Data | undefined,
    ctx: Omit<CosemContext, 'access'>,
  ): Promise<ActionOutcome> {
    const found = this.locate(desc.classId, desc.obis, ctx.association.name);
    if (typeof found === 'number') return { result: found };
    const { obj, rights } = found;
    const spec = obj.cls.methods.find((m) => m.index === desc.methodId);
    if (!spec) return { result: ActionResult['object-undefined'] };
    if (!canInvoke(methodMode(rights, spec.index), ctx.protection))
      return { result: ActionResult['read-write-denied'] };
    const typeOk =
      spec.paramType === undefined
        ? params === undefined
        : params !== undefined && typeMismatch(params, spec.paramType) === undefined;
    if (!typeOk) return { result: ActionResult['type-unmatched'] };
    try {
      const r = await obj.methods.get(spec.index)!(params, { ...ctx, access: undefined });
      if (isRefusal(r)) return { result: r.refused };
      return r === undefined
        ? { result: ActionResult.success }
        : { result: ActionResult.success, returnParameters: { kind: 'data', data: r } };
    } catch (e) {
      return { result: this.fault(e, `action ${obj.name}/${spec.index}`) };
    }
  }
}

function presence(obj: RegisteredObject): {
  get: (i: number) => boolean;
  set: (i: number) => boolean;
  method: (i: number) => boolean;
} {
  return {
    get: (i) => obj.attributes.get(i)?.get !== undefined,
    set: (i) => obj.attributes.get(i)?.set !== undefined,
    method: (i) => obj.methods.has(i),
  };
}

function invalid(message: string, obis: string): never {
  throw new SimError(ErrorCode.ProfileInvalid, message, { obis });
}
