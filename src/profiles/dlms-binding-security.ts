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
 * - The server's own sending invocation counter is a device counter, committed before it is
 *   used and never reused after kill -9.
 * - The last counters accepted from clients (replay protection) are device counters too, kept
 *   as a monotonic maximum per Security setup, client system title and key family
 *   (`dlms:rx:<E>:<system title>:<g|b|d>`). An accepted IC is held back and committed with the
 *   server's next own-counter bump (the answer's IC), so a ciphered exchange costs one commit;
 *   the session flushes whatever is still held before any answer leaves (e.g. an exception
 *   response), so a request is never answered with its IC forgotten by a restart.
 * - key_transfer installs the unwrapped keys with the device operation `transferKeys` on the
 *   access levels the association's `keys` name (ek, ak, kek); durable before the ACTION answer.
 *   Associations that use a Security setup may invoke key_transfer (method 2) when the request
 *   is authenticated (modelled rights: the profile does not list class 64 objects).
 * - Lock-out (security.lockout, device counters): a refused LLS password, a failed HLS f(StoC)
 *   and a ciphered AARQ that does not verify each count a failure; while locked out every LLS
 *   and HLS association is refused authentication-failure (modelled; docs/dlms.md has no rule).
 */
import { toHex } from '../core/bytes';
import { ErrorCode, SimError } from '../core/errors';
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
import type { TransferredKey } from '../protocols/dlms/security/key-transfer';
import { KeyId, type KeyIdValue, type KeySet } from '../protocols/dlms/security/keys';
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

/**
 * Counter records held back until the next commit of this meter's counters: one per meter,
 * shared by its Security setups' peer stores and own counters.
 */
export class PendingCounters {
  private held: Record<string, number> = {};
  private count = 0;

  constructor(readonly meter: Meter) {}

  get(name: string): number | undefined {
    return this.held[name];
  }

  hold(name: string, ic: number): void {
    if (ic > (this.held[name] ?? 0)) {
      if (this.held[name] === undefined) this.count++;
      this.held[name] = ic;
    }
  }

  /** Commit the held records, and `bump` when given; one device operation. */
  commit(bump?: string): number | null {
    if (this.count === 0 && bump === undefined) return null;
    const atLeast = this.held;
    const r = this.meter.applySync('recordInvocationCounters', {
      ...(this.count > 0 ? { atLeast } : {}),
      ...(bump !== undefined ? { bump } : {}),
    });
    this.held = {};
    this.count = 0;
    return r.value;
  }
}

const USAGE_LETTER = { 'global-unicast': 'g', 'global-broadcast': 'b', dedicated: 'd' } as const;

/** Device counter name of the last IC accepted from one client (≤ 32 chars). */
export function peerCounterName(setupObis: string, scope: CounterScope): string {
  const e = parseObis(setupObis)[4]!;
  return `dlms:rx:${e.toString(16).padStart(2, '0')}:${toHex(scope.systemTitle)}:${USAGE_LETTER[scope.key]}`;
}

/**
 * Last ICs accepted from clients, as durable device counters (see the header); `max()` feeds
 * the invocation counter object.
 */
export class PeerCounters implements InvocationCounterStore {
  private readonly prefix: string;

  constructor(
    private readonly setupObis: string,
    private readonly pending: PendingCounters,
  ) {
    this.prefix = `dlms:rx:${parseObis(setupObis)[4]!.toString(16).padStart(2, '0')}:`;
  }

  getLastIc(scope: CounterScope): number | undefined {
    const name = peerCounterName(this.setupObis, scope);
    const held = this.pending.get(name);
    const stored = this.pending.meter.state.security.invocationCounters[name];
    return held === undefined ? stored : Math.max(held, stored ?? 0);
  }

  setLastIc(scope: CounterScope, ic: number): void {
    this.pending.hold(peerCounterName(this.setupObis, scope), ic);
  }

  flush(): void {
    this.pending.commit();
  }

  /** The highest IC accepted from any client under any key (0 before the first). */
  max(): number {
    let m = 0;
    for (const [name, v] of Object.entries(this.pending.meter.state.security.invocationCounters))
      if (name.startsWith(this.prefix)) m = Math.max(m, v, this.pending.get(name) ?? 0);
    return m;
  }
}

/** Device counter name of a Security setup's own sending IC (device counter names: ≤ 32 chars). */
export function ownCounterName(setupObis: string): string {
  return `dlms:ic:${parseObis(setupObis).toString('hex')}`;
}

/**
 * The server's sending IC as a durable device counter: each step is one committed bump, which
 * also commits the client ICs held back since the last one.
 */
export function deviceCounter(
  meter: Meter,
  name: string,
  pending = new PendingCounters(meter),
): InvocationCounterGuard {
  return {
    getLastIc: () => meter.state.security.invocationCounters[name],
    setLastIc: (ic) => {
      // takeNextIc asks for last + 1; bump until the stored value reaches it (normally once).
      for (let guard = 0; (meter.state.security.invocationCounters[name] ?? 0) < ic && guard < 16; guard++)
        pending.commit(name);
    },
  };
}

/** The access levels key_transfer key ids land on: the association's `keys` (modelled map). */
function keyLevels(keys: { ek: string; ak: string; kek: string }): Partial<Record<KeyIdValue, string>> {
  return {
    [KeyId.GlobalUnicastEncryption]: keys.ek,
    [KeyId.Authentication]: keys.ak,
    [KeyId.Master]: keys.kek,
  };
}

function keyInstaller(meter: Meter, keys: { ek: string; ak: string; kek: string }) {
  const levels = keyLevels(keys);
  return async (transferred: readonly TransferredKey[], association: string): Promise<void> => {
    const out: Record<string, string> = {};
    for (const k of transferred) {
      const level = levels[k.keyId];
      if (level === undefined)
        throw new SimError(ErrorCode.DeviceInvalidOperation, `key_transfer: no key with id ${k.keyId}`, {
          reason: 'unknown-access-level',
          keyId: k.keyId,
        });
      out[level] = k.key.toString('hex');
    }
    await meter.apply('transferKeys', { actor: `dlms/${association}`.slice(0, 64), keys: out });
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
  const pending = new PendingCounters(meter);
  for (const a of dlms.associations) {
    if (!a.securitySetup || !a.keys) continue;
    const key = parseObis(a.securitySetup).toString('hex');
    if (setups.has(key)) continue;
    const keys = a.keys;
    const peer = new PeerCounters(a.securitySetup, pending);
    peers.set(key, peer);
    const users = dlms.associations.filter(
      (x) => x.securitySetup !== undefined && parseObis(x.securitySetup).toString('hex') === key,
    );
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
      installKeys: keyInstaller(meter, keys),
      ownCounter: deviceCounter(meter, ownCounterName(a.securitySetup), pending),
      peerCounters: peer,
      access: Object.fromEntries(
        users.map((u) => [
          u.name,
          u.mechanism === 'hls-gmac'
            ? {
                base: 'read-only' as const,
                // The keys travel wrapped under the master key either way; where the policy
                // protects every APDU, the request must be authenticated too.
                methods: {
                  2: u.securityPolicy > 0 ? ('authenticated-access' as const) : ('access' as const),
                },
              }
            : ('read-only' as const),
        ]),
      ),
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
    ...(level !== undefined ? { secret: () => levelSecret(meter, level) } : {}),
    ...(a.mechanism !== 'none' ? { lockedOut: () => meter.isLockedOut() } : {}),
    ...(a.securitySetup && a.keys ? { securitySetup: a.securitySetup } : {}),
    conformance: conformanceOf(a.conformance ?? dlms.conformance),
  };
}
