/**
 * Associations, keys and invocation counters of a DLMS profile, backed by the device model
 * (security issue: "Keys live in the device's durable state"):
 *
 * - An LLS password and the HLS/ciphering keys are access-level secrets in
 *   `MeterState.security.secrets`, read at every use, so a `migrate` that replaces them applies
 *   at once and survives a restart with the state file.
 * - The server system title is the meter's EUI-64 device id (8 octets; modelled: a DLMS system
 *   title is usually a FLAG id + serial, docs/dlms.md §7, and the device id is the unique 8-octet
 *   identity the model already has).
 * - The server's own sending invocation counter is a device counter (`bumpInvocationCounter`,
 *   committed before it is used, never reused after kill -9).
 * - The last counters accepted from clients are kept in memory per meter (PeerCounters). The
 *   device model offers only +1 counters, and a client IC may jump; see the report/docs gap.
 * - Lock-out (security.lockout) applies to LLS: a refused LLS password or a failed HLS f(StoC)
 *   counts a failure on the device; while locked out the LLS password matches nothing.
 */
import { toHex } from '../core/bytes';
import type { Meter } from '../device/meter';
import { conformance, type ConformanceName } from '../protocols/dlms/apdu/conformance';
import { parseObis } from '../protocols/dlms/apdu/obis';
import type { AuthMechanism } from '../protocols/dlms/cosem/context';
import type { AssociationConfig, SecuritySetupConfig } from '../protocols/dlms/server/config';
import type {
  CounterScope,
  InvocationCounterGuard,
  InvocationCounterStore,
} from '../protocols/dlms/security/invocation-counter';
import type { KeySet } from '../protocols/dlms/security/keys';
import type { SecurityPolicyV0Value } from '../protocols/dlms/security/security-policy';
import type { DlmsAssociationSpec, DlmsMechanism, DlmsParams } from './dlms-binding-schema';

export const MECHANISM: Readonly<Record<DlmsMechanism, AuthMechanism>> = {
  none: 'none',
  lls: 'low',
  'hls-gmac': 'high-gmac',
};

/** The secret bytes the meter currently holds for an access level (empty when unknown). */
export function levelSecret(meter: Meter, level: string): Buffer {
  const hex = meter.state.security.secrets[level];
  return hex === undefined ? Buffer.alloc(0) : Buffer.from(hex, 'hex');
}

/** The server system title: the EUI-64 device id as 8 octets (modelled, see the header). */
export function serverSystemTitle(deviceId: string): Buffer {
  return Buffer.from(deviceId.replace(/-/g, ''), 'hex');
}

/** Last ICs accepted from clients, in memory; `max()` feeds the invocation counter object. */
export class PeerCounters implements InvocationCounterStore {
  private readonly last = new Map<string, number>();

  private static key(scope: CounterScope): string {
    return `${toHex(scope.systemTitle)}/${scope.key}`;
  }

  getLastIc(scope: CounterScope): number | undefined {
    return this.last.get(PeerCounters.key(scope));
  }

  setLastIc(scope: CounterScope, ic: number): void {
    this.last.set(PeerCounters.key(scope), ic);
  }

  /** The highest IC accepted from any client under any key (0 before the first). */
  max(): number {
    let m = 0;
    for (const v of this.last.values()) m = Math.max(m, v);
    return m;
  }
}

/** Device counter name of a Security setup's own sending IC (device counter names: ≤ 32 chars). */
export function ownCounterName(setupObis: string): string {
  return `dlms:ic:${parseObis(setupObis).toString('hex')}`;
}

/** The server's sending IC as a durable device counter: each step is one committed bump. */
export function deviceCounter(meter: Meter, name: string): InvocationCounterGuard {
  return {
    getLastIc: () => meter.state.security.invocationCounters[name],
    setLastIc: (ic) => {
      // takeNextIc asks for last + 1; bump until the stored value reaches it (normally once).
      for (let guard = 0; (meter.state.security.invocationCounters[name] ?? 0) < ic && guard < 16; guard++)
        meter.applySync('bumpInvocationCounter', { name });
    },
  };
}

export interface SecurityRuntime {
  readonly associations: AssociationConfig[];
  readonly securitySetups: SecuritySetupConfig[];
  /** Peer counters per Security setup (canonical OBIS hex). */
  readonly peers: ReadonlyMap<string, PeerCounters>;
}

function conformanceOf(names: readonly ConformanceName[]): ReadonlySet<ConformanceName> {
  return conformance(...names);
}

/** Association and Security setup configs of a DLMS profile, reading secrets from `meter`. */
export function securityRuntime(dlms: DlmsParams, meter: Meter): SecurityRuntime {
  const peers = new Map<string, PeerCounters>();
  const setups = new Map<string, SecuritySetupConfig>();
  for (const a of dlms.associations) {
    if (!a.securitySetup || !a.keys) continue;
    const key = parseObis(a.securitySetup).toString('hex');
    if (setups.has(key)) continue;
    const keys = a.keys;
    const peer = new PeerCounters();
    peers.set(key, peer);
    const policy = a.securityPolicy as SecurityPolicyV0Value;
    setups.set(key, {
      obis: a.securitySetup,
      policy: () => policy,
      keys: (): KeySet => ({
        systemTitle: serverSystemTitle(meter.readIdentity().deviceId),
        ek: levelSecret(meter, keys.ek),
        ak: levelSecret(meter, keys.ak),
        kek: levelSecret(meter, keys.kek),
      }),
      ownCounter: deviceCounter(meter, ownCounterName(a.securitySetup)),
      peerCounters: peer,
    });
  }
  const associations = dlms.associations.map((a) => associationConfig(a, dlms, meter));
  return { associations, securitySetups: [...setups.values()], peers };
}

function associationConfig(a: DlmsAssociationSpec, dlms: DlmsParams, meter: Meter): AssociationConfig {
  const level = a.secret;
  return {
    name: a.name,
    clientSap: a.clientSap,
    mechanism: MECHANISM[a.mechanism],
    // An empty expected secret never matches (verifyLlsSecret): that is how lock-out refuses.
    ...(level !== undefined
      ? { secret: () => (meter.isLockedOut() ? Buffer.alloc(0) : levelSecret(meter, level)) }
      : {}),
    ...(a.securitySetup && a.keys ? { securitySetup: a.securitySetup } : {}),
    conformance: conformanceOf(a.conformance ?? dlms.conformance),
  };
}
