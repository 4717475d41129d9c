/**
 * Reading and acting on a DLMS meter through its profile, for one association (the
 * interrogator's counterpart of dlms-binding.ts): model paths are read from the attributes the
 * profile maps them to — each attribute once per call, preferring one the association may read
 * with the protection its requests carry — and decoded with the value specs the simulated meter
 * encodes with; device operations are the SET or method the profile binds to them. Every wire
 * access leaves one `cosem` evidence item with the A-XDR bytes (docs/migration.md §2 Evidence).
 */
import { toHex } from '../core/bytes';
import { ErrorCode, SimError } from '../core/errors';
import type { ModelValue } from '../device/model-paths';
import type { SelectiveAccess } from '../protocols/dlms/apdu/xdlms-common';
import { axdr } from '../protocols/dlms/axdr/builders';
import { encodeData } from '../protocols/dlms/axdr/data-codec';
import type { Data } from '../protocols/dlms/axdr/types';
import type { DlmsClient } from '../protocols/dlms/client';
import type { RequestProtection } from '../protocols/dlms/cosem/access';
import { findInterfaceClass } from '../protocols/dlms/cosem/class-catalog';
import { profileObis } from './dlms-binding';
import type { DlmsMap, MethodLocation, SetLocation, ValueLocation } from './dlms-binding-map';
import type { DlmsAssociationSpec } from './dlms-binding-schema';
import { kindOfPath } from './dlms-binding-values';
import { decodeValue } from './dlms-binding-values';
import type { FirmwareProfile } from './schema';

/** The `cosem` evidence item of docs/migration.md §2 (structurally the MeterSession Evidence). */
export interface CosemEvidence {
  kind: 'cosem';
  op: 'get' | 'set' | 'action';
  classId: number;
  obis: string;
  index: number;
  bytes: string;
}

export function cosemEvidence(
  op: CosemEvidence['op'],
  object: { classId: number; obis: string },
  index: number,
  data: Data | undefined,
): CosemEvidence {
  return {
    kind: 'cosem',
    op,
    classId: object.classId,
    obis: profileObis(object.obis).canonical,
    index,
    bytes: data === undefined ? '' : toHex(encodeData(data)).toLowerCase(),
  };
}

/** Model path values read in one call, with the evidence of each GET. */
export interface PathValues {
  get(path: string): ModelValue | undefined;
  readonly evidence: CosemEvidence[];
}

/**
 * Attributes per GET-Request-With-List (modelled: the standard sets no limit; a real meter may
 * refuse long lists, and ten keeps each answer well inside a 1 KiB PDU for the shipped profiles).
 */
export const MAX_GET_LIST = 10;

export class CosemAccess {
  constructor(
    private readonly client: () => DlmsClient,
    readonly profile: FirmwareProfile,
    readonly association: DlmsAssociationSpec,
    readonly map: DlmsMap,
    /** Runs every wire call (the session marks its link broken on transient faults). */
    private readonly wire: <T>(op: () => Promise<T>) => Promise<T> = (op) => op(),
  ) {}

  /** Ciphered requests go with SC 0x30: authenticated and encrypted (docs/dlms.md §7). */
  get protection(): RequestProtection {
    const ciphered = this.client().association?.ciphered ?? false;
    return { authenticated: ciphered, encrypted: ciphered };
  }

  async get(
    object: { classId: number; obis: string },
    index: number,
    access?: SelectiveAccess,
  ): Promise<{ data: Data; evidence: CosemEvidence }> {
    const data = await this.wire(() =>
      this.client().get({ classId: object.classId, obis: profileObis(object.obis).bytes, index }, access),
    );
    return { data, evidence: cosemEvidence('get', object, index, data) };
  }

  private pick(locations: readonly ValueLocation[]): ValueLocation {
    const a = this.association.name;
    return locations.find((l) => this.map.canRead(l.object, l.index, a, this.protection)) ?? locations[0]!;
  }

  /**
   * Values of model paths. A required path the profile maps nowhere is ServiceNotSupported;
   * optional paths that are not mapped come back undefined. A value that does not decode is
   * ServiceInvalidResponse naming the object and the field.
   */
  async values(required: readonly string[], optional: readonly string[] = []): Promise<PathValues> {
    for (const path of required)
      if (!this.map.sources.has(path))
        throw new SimError(
          ErrorCode.ServiceNotSupported,
          `profile ${this.profile.id} maps no COSEM attribute to ${path}`,
          { profile: this.profile.id, path },
        );
    const reads = new Map<string, ValueLocation>();
    for (const path of [...required, ...optional]) {
      const locs = this.map.sources.get(path);
      if (!locs) continue;
      const l = this.pick(locs);
      reads.set(`${l.object.obis}/${l.index}`, l);
    }
    const out = new Map<string, ModelValue>();
    const evidence: CosemEvidence[] = [];
    const locations = [...reads.values()];
    const data = await this.readAll(locations);
    for (const [i, l] of locations.entries()) {
      const d = data[i]!;
      evidence.push(cosemEvidence('get', l.object, l.index, d));
      const got = new Map<string, ModelValue>();
      try {
        decodeValue(l.value, d, kindOfPath, got, `${l.object.obis}/${l.index}`);
      } catch (e) {
        if (e instanceof SimError)
          throw new SimError(e.code, `${l.object.name}: ${e.message}`, { ...e.context, obis: l.object.obis });
        throw e;
      }
      for (const [k, v] of got) if (!out.has(k)) out.set(k, v);
    }
    return { get: (path) => out.get(path), evidence };
  }

  /**
   * The attributes' values, in order. With the `multiple-references` conformance negotiated
   * (docs/dlms.md §4.2 GET-Request-With-List) they travel in lists of up to MAX_GET_LIST
   * attributes, one round trip each instead of one per attribute; otherwise one GET each. Either
   * way the first attribute the meter refuses is thrown as a single GET would throw it.
   */
  private async readAll(locations: readonly ValueLocation[]): Promise<Data[]> {
    const client = this.client();
    if (locations.length < 2 || !client.association?.conformance.has('multiple-references')) {
      const out: Data[] = [];
      for (const l of locations) out.push((await this.get(l.object, l.index)).data);
      return out;
    }
    const out: Data[] = [];
    for (let i = 0; i < locations.length; i += MAX_GET_LIST) {
      const chunk = locations.slice(i, i + MAX_GET_LIST);
      const results = await this.wire(async () => {
        const r = await client.getWithList(
          chunk.map((l) => ({
            classId: l.object.classId,
            obis: profileObis(l.object.obis).bytes,
            index: l.index,
          })),
        );
        for (const item of r) if (!item.ok) throw item.error;
        return r;
      });
      for (const item of results) if (item.ok) out.push(item.data);
    }
    return out;
  }

  /** The SET or method the profile binds to `action`, preferring one this association may use. */
  operation(action: string): SetLocation | MethodLocation {
    const all = this.map.operations.get(action) ?? [];
    if (all.length === 0)
      throw new SimError(
        ErrorCode.ServiceNotSupported,
        `profile ${this.profile.id} binds no SET or method to ${action}`,
        { profile: this.profile.id, action },
      );
    const a = this.association.name;
    const p = this.protection;
    const allowed = (l: SetLocation | MethodLocation): boolean =>
      'set' in l
        ? this.map.canWrite(l.object, l.attribute.index, a, p)
        : this.map.canInvoke(l.object, l.method.index, a, p);
    return all.find(allowed) ?? all[0]!;
  }

  async set(l: SetLocation, value: Data): Promise<CosemEvidence> {
    const ref = { classId: l.object.classId, obis: l.object.obis, index: l.attribute.index };
    await this.wire(() => this.client().set(ref, value));
    return cosemEvidence('set', l.object, l.attribute.index, value);
  }

  /**
   * Invoke a bound method: a Script table execute carries its script id; other methods the
   * Blue Book dummy "integer (0)" (src/protocols/dlms/cosem/classes-basic.ts) or nothing.
   */
  async invoke(l: MethodLocation): Promise<CosemEvidence> {
    const row = findInterfaceClass(l.object.classId)?.methods.find((m) => m.index === l.method.index);
    let params: Data | undefined;
    if (l.method.script !== undefined) params = axdr.u16(l.method.script);
    else if (row?.paramType === 'integer') params = axdr.i8(0);
    else if (row?.paramType !== undefined)
      throw new SimError(
        ErrorCode.ServiceNotSupported,
        `${l.object.name} method ${l.method.index} takes a parameter the profile cannot fill`,
        { object: l.object.name, index: l.method.index },
      );
    const ref = { classId: l.object.classId, obis: l.object.obis, index: l.method.index };
    await this.wire(() => this.client().action(ref, params));
    return cosemEvidence('action', l.object, l.method.index, params);
  }

  /** Levels whose secrets the profile's migrate SET replaces (e.g. reader, management-ek). */
  migrateLevels(): string[] {
    const loc = (this.map.operations.get('migrate') ?? []).find((l): l is SetLocation => 'set' in l);
    const params = loc ? (loc.set.params ?? (loc.set.param ? [loc.set.param] : [])) : [];
    return params
      .filter((p) => p.arg.startsWith('newSecrets.'))
      .map((p) => p.arg.slice('newSecrets.'.length));
  }
}
