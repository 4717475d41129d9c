/**
 * Shared set-up for the DLMS profile, binding and session tests: the shipped DLMS profiles,
 * meters made from them with the seeded generator, a DlmsClient on an in-memory APDU pair to
 * the bound meter, the profile's default credentials, and the registration DCC would hold.
 */
import { ManualClock, type Clock } from '../../src/core/clock';
import { SimError } from '../../src/core/errors';
import { Meter } from '../../src/device/meter';
import { MemoryMeterStore } from '../../src/device/storage';
import { registrationFromRecords } from '../../src/migration/registration';
import { DlmsClient, type AssociateOptions } from '../../src/protocols/dlms/client';
import { createMemApduPair } from '../../src/protocols/dlms/server/apdu-channel';
import type { DlmsServer } from '../../src/protocols/dlms/server/dlms-server';
import type { InvocationCounterGuard } from '../../src/protocols/dlms/security/invocation-counter';
import {
  DEFAULT_CLIENT_SYSTEM_TITLE,
  dlmsCredentialsFor,
  type DlmsCredentials,
} from '../../src/profiles/dlms-binding-client';
import { deviceBehaviour, newMeterFromProfile, secretBytes } from '../../src/profiles/device-binding';
import { loadProfile } from '../../src/profiles/loader';
import type { FirmwareProfile } from '../../src/profiles/schema';

export const DLMS_ESME = 'generic-dlms-esme-v1';
export const DLMS_GSME = 'generic-dlms-gsme-v1';
export const START = Date.UTC(2026, 2, 1, 10, 0, 0);

const cache = new Map<string, FirmwareProfile>();
export function profile(id: string): FirmwareProfile {
  let p = cache.get(id);
  if (!p) {
    p = loadProfile(id).profile;
    cache.set(id, p);
  }
  return p;
}

/** The profile with another link (the e2e tests run the ESME over every link). */
export function withLink(p: FirmwareProfile, link: 'hdlc' | 'wrapper'): FirmwareProfile {
  if (p.protocol.stack !== 'dlms') throw new Error('not a DLMS profile');
  const { hdlc, ...rest } = p.protocol.dlms;
  const dlms = link === 'wrapper' ? { ...rest, link } : { ...rest, link, hdlc: hdlc! };
  return { ...p, protocol: { stack: 'dlms', dlms } };
}

export function secretOf(p: FirmwareProfile, level: string): Buffer {
  return secretBytes(p.accessLevels.find((l) => l.name === level)!);
}

export function makeMeter(
  p: FirmwareProfile,
  o: { card?: string | null; supplierId?: string; clock?: Clock; index?: number } = {},
): { meter: Meter; store: MemoryMeterStore; clock: Clock } {
  const clock = o.clock ?? new ManualClock(START);
  const store = new MemoryMeterStore();
  const card = o.card === undefined ? 'SUPB' : o.card;
  const state = newMeterFromProfile(p, {
    id: `m-${o.index ?? 0}`,
    index: o.index ?? 0,
    ids: 'dlms-tests',
    supplierId: o.supplierId ?? 'SUPA',
    card: card === null ? null : { issuerSupplierId: card },
    now: clock.now(),
  });
  const meter = Meter.create(state, { store, clock, behaviour: deviceBehaviour(p) });
  return { meter, store, clock };
}

/** The SMSO's credentials for an association (profile default secrets). */
export function defaultCredentials(p: FirmwareProfile, association: string): DlmsCredentials {
  return dlmsCredentialsFor(p, association, (level) => secretOf(p, level));
}

/** A client sending IC kept across associations (the meter refuses a reused IC). */
export function persistentCounter(): InvocationCounterGuard & { readonly last: number | undefined } {
  let last: number | undefined;
  return {
    get last() {
      return last;
    },
    getLastIc: () => last,
    setLastIc: (ic) => {
      last = ic;
    },
  };
}

/** AARQ options of a profile association with the default credentials. */
export function associateAs(
  p: FirmwareProfile,
  association: 'public' | 'reader' | 'management',
  counter: InvocationCounterGuard = persistentCounter(),
  creds: DlmsCredentials = defaultCredentials(p, association),
): AssociateOptions {
  const a =
    p.protocol.stack === 'dlms'
      ? p.protocol.dlms.associations.find((x) => x.name === association)!
      : undefined;
  if (!a) throw new Error('no such association');
  if (a.mechanism === 'none') return {};
  if (a.mechanism === 'lls') return { mechanism: 'low', secret: creds.secret! };
  const ciphered = a.securityPolicy > 0;
  return {
    mechanism: 'high-gmac',
    context: ciphered ? 'LN-ciphered' : 'LN',
    cipher: ciphered,
    security: { systemTitle: DEFAULT_CLIENT_SYSTEM_TITLE, keys: creds.keys!, sc: 0x30, counter },
  };
}

/** A DlmsClient talking to `server` over an in-memory APDU pair as client SAP `sap`. */
export function apduClient(server: DlmsServer, sap: number): DlmsClient {
  const pair = createMemApduPair({ client: sap, server: 1 });
  server.attach(pair.server);
  return new DlmsClient(pair.client, { timeoutMs: 5_000 });
}

export function sapOf(p: FirmwareProfile, association: string): number {
  if (p.protocol.stack !== 'dlms') throw new Error('not a DLMS profile');
  return p.protocol.dlms.associations.find((a) => a.name === association)!.clientSap;
}

export async function rejection(work: Promise<unknown>): Promise<SimError> {
  try {
    await work;
  } catch (e) {
    if (e instanceof SimError) return e;
    throw e;
  }
  throw new Error('expected a SimError');
}

/** DCC's registration record for the meter: Responsible Supplier and cohort. */
export function registrationFor(meter: Meter, supplierId: string) {
  const r = meter.readRegistration();
  const esme = meter.readIdentity().deviceType === 'ESME';
  return registrationFromRecords([
    {
      mpxn: (esme ? r.mpanCore : r.mprn)!,
      kind: esme ? 'mpan-core' : 'mprn',
      deviceType: esme ? 'ESME' : 'GSME',
      supplierId,
      cohort: 'MOC Secure',
      source: 'test',
      line: 2,
    },
  ]);
}

/** MA110's product list holding the profile's model and firmware. */
export function eligible(p: FirmwareProfile) {
  return {
    id: 'test',
    source: 'test',
    description: null,
    modelled: true,
    products: [
      {
        model: p.identity.model,
        firmware: p.identity.applicationFirmwareId,
        manufacturer: null,
        deviceType: null,
        line: 1,
      },
    ],
  } as never;
}

/**
 * Run `work` while moving a ManualClock forward 1 ms per event-loop turn, so in-memory
 * transports, the mode E sign-on delays and link timers interleave deterministically.
 */
export async function drive<T>(clock: ManualClock, work: Promise<T>, maxMs = 600_000): Promise<T> {
  let outcome: { ok: true; value: T } | { ok: false; error: unknown } | undefined;
  const watched = work.then(
    (value) => (outcome = { ok: true, value }),
    (error: unknown) => (outcome = { ok: false, error }),
  );
  for (let t = 0; !outcome && t < maxMs; t++) await clock.advanceAsync(1);
  await Promise.race([watched, Promise.resolve()]);
  const result = outcome as typeof outcome;
  if (!result) throw new Error(`drive: still pending after ${maxMs} virtual ms`);
  if (!result.ok) throw result.error;
  return result.value;
}
