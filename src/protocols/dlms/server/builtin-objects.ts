import { isSimError } from '../../../core/errors';
import { conformanceToBits } from '../apdu/conformance';
import { parseObis } from '../apdu/obis';
import { axdr } from '../axdr/builders';
import type { Data } from '../axdr/types';
import { ClassId } from '../cosem/class-catalog';
import { ASSOCIATION_STATUS_VALUE, refuse, type CosemContext, type MethodHandler } from '../cosem/context';
import { decodeKeyTransferParams } from '../cosem/key-transfer-data';
import type { CosemObjectDef, CosemRegistry } from '../cosem/object-registry';
import type { ObjectRights } from '../cosem/rights';
import { openKeyTransfer } from '../security/key-transfer';
import { canActivatePolicy, isSecurityPolicyV0 } from '../security/security-policy';
import {
  CURRENT_ASSOCIATION_OBIS,
  type AssociationConfig,
  type LogicalDeviceConfig,
  type SecuritySetupConfig,
} from './config';

/**
 * Objects every logical device has and whose values come from the session rather than the
 * device model: the current association (Association LN, class 15, `0-0:40.0.0.255`) and the
 * Security setup objects (class 64) named by the associations (docs/dlms.md §6).
 */

/** {2, 16, 756, 5, 8, arc, id}: the DLMS OIDs as Association LN version 1 lists them (GXPY). */
function oidStructure(arc: number, id: number): Data {
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

const CONTEXT_ID = { LN: 1, 'LN-ciphered': 3 } as const;
const MECHANISM_ID = { none: 0, low: 1, 'high-gmac': 5 } as const;

function conformanceBits(ctx: CosemContext): Data {
  const v = conformanceToBits(ctx.association.conformance);
  return axdr.bits(24, Buffer.from([(v >>> 16) & 0xff, (v >>> 8) & 0xff, v & 0xff]));
}

function secretChanger(associations: readonly AssociationConfig[]) {
  return async (value: Data, ctx: CosemContext): Promise<void | ReturnType<typeof refuse>> => {
    const a = associations.find((x) => x.name === ctx.association.name);
    if (!a?.changeSecret || value.type !== 'octet-string') return refuse('read-write-denied');
    await a.changeSecret(value.value);
  };
}

/** The current association object; its attributes describe the association the request came through. */
export function currentAssociationObject(ld: LogicalDeviceConfig): CosemObjectDef {
  const registry = ld.registry;
  const changeSecret = secretChanger(ld.associations);
  const replyToHls: MethodHandler = async (params, ctx) => {
    if (params?.type !== 'octet-string' || !ctx.session || ctx.association.status !== 'association-pending') {
      return refuse('read-write-denied');
    }
    const reply = await ctx.session.replyToHlsAuthentication(params.value);
    // Modelled: a failed f(StoC) is answered read-write-denied and the association is dropped.
    return reply === undefined ? refuse('read-write-denied') : axdr.octets(reply);
  };
  return {
    classId: ClassId.AssociationLn,
    obis: CURRENT_ASSOCIATION_OBIS,
    attributes: {
      2: { get: (ctx) => registry.objectList(ctx.association.name) },
      3: {
        get: (ctx) => axdr.struct(axdr.i8(ctx.association.clientSap), axdr.u16(ctx.association.serverSap)),
      },
      4: { get: (ctx) => oidStructure(1, CONTEXT_ID[ctx.association.applicationContext]) },
      5: {
        get: (ctx) =>
          axdr.struct(
            conformanceBits(ctx),
            axdr.u16(ctx.association.serverMaxReceivePduSize),
            axdr.u16(Math.min(ctx.association.clientMaxReceivePduSize, 0xffff)),
            axdr.u8(ctx.association.dlmsVersion),
            axdr.i8(0),
            // Modelled: cyphering_info never discloses key material; it is sent empty.
            axdr.octets(Buffer.alloc(0)),
          ),
      },
      6: { get: (ctx) => oidStructure(2, MECHANISM_ID[ctx.association.mechanism]) },
      7: { set: changeSecret },
      8: { get: (ctx) => axdr.enum(ASSOCIATION_STATUS_VALUE[ctx.association.status]) },
      9: { get: (ctx) => axdr.octets(ctx.association.securitySetup ?? Buffer.alloc(6)) },
    },
    methods: {
      1: replyToHls,
      2: async (params, ctx) => (params === undefined ? refuse('type-unmatched') : changeSecret(params, ctx)),
    },
    access: ld.associationObjectAccess ?? { '*': 'class-default' },
  };
}

function defaultSecurityAccess(ld: LogicalDeviceConfig, obis: string): Record<string, ObjectRights> {
  const key = parseObis(obis);
  const out: Record<string, ObjectRights> = {};
  for (const a of ld.associations) {
    if (a.securitySetup && parseObis(a.securitySetup).equals(key)) out[a.name] = 'read-only';
  }
  return out;
}

/** A Security setup object (version 0) over a SecuritySetupConfig. */
export function securitySetupObject(ld: LogicalDeviceConfig, s: SecuritySetupConfig): CosemObjectDef {
  const activate: MethodHandler = async (params) => {
    if (params?.type !== 'enum') return refuse('type-unmatched');
    if (!s.activatePolicy) return refuse('read-write-denied');
    const requested = params.value;
    // Modelled: an unknown policy or one that weakens the current one is refused as "other".
    if (!isSecurityPolicyV0(requested) || !canActivatePolicy(s.policy(), requested)) return refuse('other');
    await s.activatePolicy(requested);
  };
  const keyTransfer: MethodHandler = async (params, ctx) => {
    if (!s.installKeys || params === undefined) return refuse('read-write-denied');
    let entries;
    try {
      entries = decodeKeyTransferParams(params);
    } catch {
      return refuse('type-unmatched');
    }
    let keys;
    try {
      keys = openKeyTransfer(s.keys().kek, entries);
    } catch {
      // Wrong master key, altered data or a repeated key id: nothing is installed.
      return refuse('other');
    }
    try {
      await s.installKeys(keys, ctx.association.name);
    } catch (e) {
      // Modelled: a device that cannot take these keys (no such key, storage refused) says "other".
      if (isSimError(e)) return refuse('other');
      throw e;
    }
  };
  return {
    classId: ClassId.SecuritySetup,
    obis: s.obis,
    attributes: {
      2: { get: () => axdr.enum(s.policy()) },
      // Suite 0 (AES-GCM-128) is the only suite this simulator implements.
      3: { get: () => axdr.enum(0) },
      4: { get: (ctx) => axdr.octets(ctx.association.clientSystemTitle ?? Buffer.alloc(0)) },
      5: { get: () => axdr.octets(s.keys().systemTitle) },
    },
    methods: { 1: activate, 2: keyTransfer },
    access: s.access ?? defaultSecurityAccess(ld, s.obis),
  };
}

/** Add the built-in objects to a logical device's registry unless the profile registered its own. */
export function addBuiltinObjects(ld: LogicalDeviceConfig, registry: CosemRegistry = ld.registry): void {
  if (!registry.has(CURRENT_ASSOCIATION_OBIS)) registry.add(currentAssociationObject(ld));
  for (const s of ld.securitySetups ?? []) {
    if (!registry.has(s.obis)) registry.add(securitySetupObject(ld, s));
  }
}
