/**
 * Binding a DLMS firmware profile and a Meter to the COSEM data view (DESIGN.md "Layers": data
 * view over device; docs/dlms-profiles.md): the profile's `cosem.objects` become a CosemRegistry
 * whose getters read model paths on every request, whose SETs and methods run device
 * operations (awaited, so they are durable before the meter answers), and whose rights are the
 * profile's per association. `protocol.dlms` becomes the logical device: associations, Security
 * setup objects with keys from the device state (dlms-binding-security.ts), max PDU.
 *
 * - Values: dlms-binding-values.ts (model <-> A-XDR, the same codec the interrogator decodes with).
 * - Event log: a Profile generic over meter.events() (dlms-binding-events.ts).
 * - Script table (class 9): execute(script id) runs the action bound to that script; attribute 2
 *   lists the scripts with no actions (modelled: the firmware runs them internally).
 * - A device refusal (DeviceStateConflict, DeviceInvalidOperation, DeviceInvalidIdentifier) is
 *   answered `other` (250) and reported as an `operation` event with the reason (modelled: the
 *   DLMS result codes carry no reason, docs/dlms.md §4.2); a SET or ACTION parameter that does
 *   not fit the profile's parameters is `type-unmatched` (12).
 * - Every operation runs as the actor `dlms/<association>`, so the event log says who did what.
 */
import { ErrorCode, SimError, isSimError } from '../core/errors';
import { TypedEmitter } from '../core/events';
import { silentLogger, type Logger } from '../core/logger';
import type { Meter } from '../device/meter';
import { readModelPath, type ModelValue } from '../device/model-paths';
import type { OperationName } from '../device/operations';
import { axdr } from '../protocols/dlms/axdr/builders';
import type { Data } from '../protocols/dlms/axdr/types';
import {
  refuse,
  type AttributeBinding,
  type CosemContext,
  type MethodHandler,
  type Refusal,
} from '../protocols/dlms/cosem/context';
import { CosemRegistry, type CosemObjectDef } from '../protocols/dlms/cosem/object-registry';
import { profileGenericObject } from '../protocols/dlms/cosem/profile-generic';
import type { ObjectRights } from '../protocols/dlms/cosem/rights';
import { formatObis, parseObis } from '../protocols/dlms/apdu/obis';
import type { LogicalDeviceConfig } from '../protocols/dlms/server/config';
import { DlmsServer, type DlmsServerOptions } from '../protocols/dlms/server/dlms-server';
import { EVENT_LOG_COLUMNS, eventRow } from './dlms-binding-events';
import type {
  CosemMapping,
  DlmsAssociationSpec,
  DlmsMethodSpec,
  DlmsObjectSpec,
  DlmsParams,
  DlmsRightsSpec,
  DlmsSetSpec,
} from './dlms-binding-schema';
import { kindOfPath } from './dlms-binding-values';
import { PeerCounters, securityRuntime } from './dlms-binding-security';
import { attributeValue, decodeParam, encodeValue } from './dlms-binding-values';
import { actionSpec, type ArgKind } from './procedure-actions';
import type { FirmwareProfile } from './schema';

export interface DlmsBindingOptions {
  logger?: Logger;
  /** Actor prefix recorded with device operations. Default 'dlms'. */
  actorPrefix?: string;
}

/** A SET or ACTION that ran (or was refused) a device operation. */
export interface DlmsOperationActivity {
  object: string;
  obis: string;
  via: 'set' | 'action';
  index: number;
  action: string;
  association: string;
  actor: string;
  ok: boolean;
  /** Refusal reason (device) or `invalid-parameter`. */
  reason: string | null;
}

export type DlmsBindingEvents = {
  operation: [DlmsOperationActivity];
};

/** The DLMS parts of a profile, or ProfileIncompatible for a profile of another stack. */
export function dlmsParts(p: FirmwareProfile): { dlms: DlmsParams; cosem: CosemMapping } {
  if (p.protocol.stack !== 'dlms' || !p.cosem)
    throw new SimError(ErrorCode.ProfileIncompatible, `profile ${p.id} is not a DLMS/COSEM profile`, {
      profile: p.id,
      stack: p.protocol.stack,
    });
  return { dlms: p.protocol.dlms, cosem: p.cosem };
}

const parsedObis = new Map<string, { bytes: Buffer; canonical: string }>();

/**
 * A profile's OBIS text as octets and in canonical form. Binding a meter, every read of the
 * interrogator and every evidence item need them, and a profile has a few dozen: each text is
 * parsed once (parseObis throws EncodeInvalid for text that is not OBIS, which the profile
 * schema has already refused). The octets are shared: read them, never write them.
 */
export function profileObis(text: string): { readonly bytes: Buffer; readonly canonical: string } {
  let o = parsedObis.get(text);
  if (!o) {
    const bytes = parseObis(text);
    o = { bytes, canonical: formatObis(bytes) };
    parsedObis.set(text, o);
  }
  return o;
}

/** Profile rights -> registry rights (YAML keys are strings). */
export function objectRights(r: DlmsRightsSpec): ObjectRights {
  if (typeof r === 'string') return r;
  const num = <T>(rec: Record<string, T> | undefined): Record<number, T> | undefined =>
    rec === undefined ? undefined : Object.fromEntries(Object.entries(rec).map(([k, v]) => [Number(k), v]));
  return {
    ...(r.base !== undefined ? { base: r.base } : {}),
    ...(r.attributes !== undefined ? { attributes: num(r.attributes)! } : {}),
    ...(r.methods !== undefined ? { methods: num(r.methods)! } : {}),
  };
}

const rightsByObject = new WeakMap<DlmsObjectSpec, Readonly<Record<string, ObjectRights>>>();

/** Registry rights of a profile object: made once per profile object, shared by every meter bound to it. */
function rightsOf(o: DlmsObjectSpec): Readonly<Record<string, ObjectRights>> {
  let r = rightsByObject.get(o);
  if (!r) {
    r = Object.freeze(Object.fromEntries(Object.entries(o.access).map(([k, v]) => [k, objectRights(v)])));
    rightsByObject.set(o, r);
  }
  return r;
}

class InvalidParameter extends Error {}

/** {2, 16, 756, 5, 8, arc, id}: a DLMS OID as Association LN version 1 lists it (GXPY). */
function oid(arc: number, id: number): Data {
  return axdr.struct(
    axdr.u8(2),
    axdr.u8(16),
    axdr.u16(756),
    axdr.u8(5),
    axdr.u8(8),
    axdr.u8(arc),
    axdr.u8(id),
  );
}

/** The kind of each SET parameter's operation argument (validated by the profile checks). */
export function paramKinds(set: DlmsSetSpec): { arg: string; kind: ArgKind; values?: readonly string[] }[] {
  const spec = actionSpec(set.action);
  const params = set.params ?? (set.param ? [set.param] : []);
  return params.map((p) => {
    const fixed = spec?.args[p.arg];
    if (fixed) return { arg: p.arg, kind: fixed.kind, ...(fixed.values ? { values: fixed.values } : {}) };
    return { arg: p.arg, kind: spec?.perLevel?.kind ?? 'binary' };
  });
}

/** SET value -> operation input (`newSecrets.reader` nests). Throws InvalidParameter. */
function setInput(set: DlmsSetSpec, value: Data): Record<string, unknown> {
  const kinds = paramKinds(set);
  const params = set.params ?? (set.param ? [set.param] : []);
  let items: readonly Data[];
  if (set.params) {
    if (value.type !== 'structure' || value.items.length !== params.length) throw new InvalidParameter();
    items = value.items;
  } else {
    items = [value];
  }
  const out: Record<string, unknown> = {};
  params.forEach((p, i) => {
    let v: string | number | boolean;
    try {
      v = decodeParam(p, kinds[i]!.kind, items[i]!, `params[${i}]`, kinds[i]!.values);
    } catch {
      throw new InvalidParameter();
    }
    const keys = p.arg.split('.');
    let node = out;
    for (const k of keys.slice(0, -1)) {
      const next = (node[k] ?? {}) as Record<string, unknown>;
      node[k] = next;
      node = next;
    }
    node[keys[keys.length - 1]!] = v;
  });
  return out;
}

const REFUSAL_CODES: ReadonlySet<number> = new Set([
  ErrorCode.DeviceStateConflict,
  ErrorCode.DeviceInvalidOperation,
  ErrorCode.DeviceInvalidIdentifier,
]);

export class DlmsBinding extends TypedEmitter<DlmsBindingEvents> {
  readonly registry: CosemRegistry;
  readonly logicalDevice: LogicalDeviceConfig;
  /** Peer invocation counters per Security setup (canonical OBIS hex). */
  readonly peers: ReadonlyMap<string, PeerCounters>;
  private readonly actorPrefix: string;
  private readonly log: Logger;

  constructor(
    readonly profile: FirmwareProfile,
    readonly meter: Meter,
    options: DlmsBindingOptions = {},
  ) {
    super();
    const { dlms, cosem } = dlmsParts(profile);
    this.actorPrefix = options.actorPrefix ?? 'dlms';
    this.log = options.logger ?? silentLogger;
    const security = securityRuntime(dlms, meter);
    this.peers = security.peers;
    this.registry = new CosemRegistry({
      onFault: (error, where) => this.log.warn({ code: error.codeName, where }, `cosem: ${error.message}`),
    });
    for (const o of cosem.objects) this.registry.add(this.objectDef(o));
    dlms.associations.forEach((a, i) => this.registry.add(this.associationObject(dlms, a, i + 1)));
    this.logicalDevice = {
      sap: dlms.logicalDevice,
      registry: this.registry,
      associations: security.associations,
      securitySetups: security.securitySetups,
      maxReceivePduSize: dlms.maxPdu,
    };
  }

  private actor(ctx: CosemContext): string {
    return `${this.actorPrefix}/${ctx.association.name}`.slice(0, 64);
  }

  private read = (path: string): ModelValue =>
    readModelPath(this.meter.state, path, this.meter.now()) ?? null;

  /** Run a device operation for a SET or ACTION; refusals become `other`, with an event. */
  private async run(
    o: DlmsObjectSpec,
    via: 'set' | 'action',
    index: number,
    action: string,
    input: Record<string, unknown>,
    ctx: CosemContext,
  ): Promise<void | Refusal> {
    const actor = this.actor(ctx);
    const activity = {
      object: o.name,
      obis: o.obis,
      via,
      index,
      action,
      association: ctx.association.name,
      actor,
    };
    try {
      await this.meter.apply(
        action as OperationName,
        (action === 'migrate' ? input : { ...input, actor }) as never,
      );
      this.emit('operation', { ...activity, ok: true, reason: null });
      return undefined;
    } catch (e) {
      if (!isSimError(e) || !REFUSAL_CODES.has(e.code)) throw e;
      const reason = typeof e.context['reason'] === 'string' ? e.context['reason'] : e.codeName;
      this.emit('operation', { ...activity, ok: false, reason });
      return refuse('other');
    }
  }

  private refusedParameter(
    o: DlmsObjectSpec,
    via: 'set' | 'action',
    index: number,
    action: string,
    ctx: CosemContext,
  ): Refusal {
    this.emit('operation', {
      object: o.name,
      obis: o.obis,
      via,
      index,
      action,
      association: ctx.association.name,
      actor: this.actor(ctx),
      ok: false,
      reason: 'invalid-parameter',
    });
    return refuse('type-unmatched');
  }

  private attributes(o: DlmsObjectSpec): Record<number, AttributeBinding> {
    const out: Record<number, AttributeBinding> = {};
    for (const a of o.attributes) {
      const value = attributeValue(a);
      const set = a.set;
      const label = `${o.name}/${a.index}`;
      out[a.index] = {
        ...(value ? { get: () => encodeValue(value, this.read, kindOfPath, label) } : {}),
        ...(set
          ? {
              set: async (v: Data, ctx: CosemContext) => {
                let input: Record<string, unknown>;
                try {
                  input = setInput(set, v);
                } catch (e) {
                  if (e instanceof InvalidParameter)
                    return this.refusedParameter(o, 'set', a.index, set.action, ctx);
                  throw e;
                }
                return this.run(o, 'set', a.index, set.action, input, ctx);
              },
            }
          : {}),
      };
    }
    if (o.classId === 9 && !out[2]) {
      // Script table scripts: one per bound script id, actions left out (modelled, see header).
      const ids = [...new Set(o.methods.filter((m) => m.script !== undefined).map((m) => m.script!))];
      const scripts = axdr.array(...ids.map((id) => axdr.struct(axdr.u16(id), axdr.array())));
      out[2] = { get: () => scripts };
    }
    return out;
  }

  private methods(o: DlmsObjectSpec): Record<number, MethodHandler> {
    const byIndex = new Map<number, DlmsMethodSpec[]>();
    for (const m of o.methods) byIndex.set(m.index, [...(byIndex.get(m.index) ?? []), m]);
    const out: Record<number, MethodHandler> = {};
    for (const [index, entries] of byIndex) {
      out[index] = async (params, ctx) => {
        let m: DlmsMethodSpec | undefined = entries[0];
        if (o.classId === 9 && index === 1) {
          const id = params?.type === 'long-unsigned' ? params.value : undefined;
          m = entries.find((e) => e.script === id);
          // Modelled: executing a script the firmware does not have is object-unavailable (11).
          if (!m) return refuse('object-unavailable');
        }
        return this.run(o, 'action', index, m!.action, {}, ctx);
      };
    }
    return out;
  }

  private objectDef(o: DlmsObjectSpec): CosemObjectDef {
    const access = rightsOf(o);
    if (o.eventLog) {
      const entries = o.eventLog.entries;
      return profileGenericObject({
        obis: o.obis,
        columns: EVENT_LOG_COLUMNS,
        rows: () => this.meter.events().slice(-entries).map(eventRow),
        profileEntries: entries,
        access,
      });
    }
    // Parsed once per profile OBIS text (the registry copies the octets it keeps).
    const obis = profileObis(o.obis).bytes;
    if (o.invocationCounter) {
      const peer = this.peers.get(profileObis(o.invocationCounter).bytes.toString('hex'));
      return {
        classId: o.classId,
        obis,
        attributes: { 2: { get: () => axdr.u32(peer?.max() ?? 0) } },
        access,
      };
    }
    return {
      classId: o.classId,
      obis,
      attributes: this.attributes(o),
      methods: this.methods(o),
      access,
    };
  }

  /**
   * The Association LN object of the n-th profile association, `0-0:40.0.n.255` (docs/dlms.md §6:
   * `0-0:40.0.0.255` is the current association, which the server adds): its object_list,
   * partners, context, mechanism and Security setup. Visible to that association and, modelled,
   * to every HLS-GMAC association (the management view of a meter's associations).
   */
  private associationObject(dlms: DlmsParams, a: DlmsAssociationSpec, n: number): CosemObjectDef {
    const mechanism = { none: 0, lls: 1, 'hls-gmac': 5 }[a.mechanism];
    const access: Record<string, ObjectRights> = { [a.name]: 'read-only' };
    for (const other of dlms.associations)
      if (other.mechanism === 'hls-gmac') access[other.name] = 'read-only';
    const setup = a.securitySetup && a.keys ? parseObis(a.securitySetup) : Buffer.alloc(6);
    return {
      classId: 15,
      obis: `0-0:40.0.${n}.255`,
      attributes: {
        2: { get: () => this.registry.objectList(a.name) },
        3: { get: () => axdr.struct(axdr.i8(a.clientSap), axdr.u16(dlms.logicalDevice)) },
        4: { get: () => oid(1, a.securityPolicy > 0 ? 3 : 1) },
        6: { get: () => oid(2, mechanism) },
        9: { get: () => axdr.octets(setup) },
      },
      access,
    };
  }

  /**
   * A DLMS server for this meter. Failed LLS passwords and HLS proofs count as failed logons
   * on the device (lock-out); a successful authenticated association resets the count.
   */
  createServer(options: Omit<DlmsServerOptions, 'logicalDevices'> = {}): DlmsServer {
    const server = new DlmsServer({ ...options, logicalDevices: [this.logicalDevice] });
    const byClient = new Map(this.logicalDevice.associations.map((a) => [a.clientSap, a.name]));
    const record = (association: string): void => {
      if (this.meter.isLockedOut()) return;
      this.meter
        .recordFailedLogon(`${this.actorPrefix}/${association}`.slice(0, 64))
        .catch((e: unknown) => this.log.warn({ err: e }, 'dlms: could not record a failed logon'));
    };
    const keyed = new Set(this.logicalDevice.associations.filter((a) => a.securitySetup).map((a) => a.name));
    server.on('rejected', (e) => {
      // 13 = authentication-failure (docs/dlms.md §4.1 "User diagnostics"). A ciphered
      // InitiateRequest whose tag fails is what wrong keys look like (modelled as a failed logon).
      const name = byClient.get(e.address.client);
      if (name === undefined) return;
      if (e.diagnostic === 13 || (keyed.has(name) && e.reason === 'initiate-SessionCipherFailed'))
        record(name);
    });
    server.on('hlsFailed', (e) => record(e.association));
    server.on('associated', (e) => {
      if (e.mechanism === 'none' || this.meter.state.security.failures.consecutive === 0) return;
      this.meter
        .resetFailures(`${this.actorPrefix}/${e.association}`.slice(0, 64))
        .catch((err: unknown) => this.log.warn({ err }, 'dlms: could not reset failures'));
    });
    return server;
  }
}

/** Bind a DLMS profile to a meter. ProfileIncompatible for other stacks; ProfileInvalid for a bad object. */
export function bindDlms(
  profile: FirmwareProfile,
  meter: Meter,
  options: DlmsBindingOptions = {},
): DlmsBinding {
  return new DlmsBinding(profile, meter, options);
}
