/**
 * Shared set-up for the binding and simulator tests: shipped profiles, meters made from them
 * with the seeded generator, and a C12.18 client/server pair over an in-memory link driven by a
 * ManualClock (no real time passes, no timed assertions).
 */
import { ManualClock } from '../../src/core/clock';
import { Meter } from '../../src/device/meter';
import { MemoryMeterStore } from '../../src/device/storage';
import { C1218Client, type C1218ClientOptions } from '../../src/protocols/c1218/client';
import { C1218Server } from '../../src/protocols/c1218/server';
import { bindC1219, c1218ServerOptions, type C1219Binding } from '../../src/profiles/c1219-binding';
import { deviceBehaviour, newMeterFromProfile, secretBytes } from '../../src/profiles/device-binding';
import { loadProfile } from '../../src/profiles/loader';
import type { FirmwareProfile } from '../../src/profiles/schema';
import { createMemPair } from '../../src/transport/mem';

export const ESME = 'secure-liberty100-esme-p4x2g04';
export const ESME_G05 = 'secure-liberty100-esme-p4x2g05';
export const GSME = 'secure-liberty110-gsme-g1x2g01';
export const START = Date.UTC(2026, 2, 1, 10, 0, 0);

const profiles = new Map<string, FirmwareProfile>();
export function profile(id: string): FirmwareProfile {
  let p = profiles.get(id);
  if (!p) {
    p = loadProfile(id).profile;
    profiles.set(id, p);
  }
  return p;
}

/** The profile's default secret of a level (what the SMSO holds). */
export function secretOf(p: FirmwareProfile, level: string): Buffer {
  return secretBytes(p.accessLevels.find((l) => l.name === level)!);
}

export function userIdOf(p: FirmwareProfile, level: string): number {
  return p.accessLevels.find((l) => l.name === level)!.userId;
}

export function makeMeter(
  p: FirmwareProfile,
  o: { card?: string | null; supplierId?: string; clock?: ManualClock; index?: number; seed?: string } = {},
): { meter: Meter; store: MemoryMeterStore; clock: ManualClock } {
  const clock = o.clock ?? new ManualClock(START);
  const store = new MemoryMeterStore();
  const card = o.card === undefined ? 'SUPB' : o.card;
  const state = newMeterFromProfile(p, {
    id: `m-${o.index ?? 0}`,
    index: o.index ?? 0,
    ids: o.seed ?? 'sim-tests',
    supplierId: o.supplierId ?? 'SUPA',
    card: card === null ? null : { issuerSupplierId: card },
    now: clock.now(),
  });
  const meter = Meter.create(state, { store, clock, behaviour: deviceBehaviour(p) });
  return { meter, store, clock };
}

/**
 * Run `work` while moving the ManualClock forward 1 ms per event-loop turn, so that in-memory
 * transports (setImmediate delivery), response delays and link timers interleave
 * deterministically.
 */
export async function drive<T>(clock: ManualClock, work: Promise<T>, maxMs = 120_000): Promise<T> {
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

export interface BoundPair {
  binding: C1219Binding;
  server: C1218Server;
  client: C1218Client;
  clock: ManualClock;
  /** Ident, Negotiate, Logon as the level's user id, Security with its secret (profile pad). */
  logon(level: string, secret?: Uint8Array): Promise<void>;
  run<T>(work: Promise<T>): Promise<T>;
}

export function boundPair(
  p: FirmwareProfile,
  meter: Meter,
  clock: ManualClock,
  client: C1218ClientOptions = {},
): BoundPair {
  const [a, b] = createMemPair();
  const binding = bindC1219(p, meter);
  const server = new C1218Server({ transport: b, tables: binding, clock, options: c1218ServerOptions(p) });
  const c = new C1218Client(a, { clock, ...client });
  const pad = p.protocol.stack === 'c1218' ? p.protocol.c1218.passwordPad : 0;
  const run = <T>(work: Promise<T>): Promise<T> => drive(clock, work);
  return {
    binding,
    server,
    client: c,
    clock,
    run,
    logon: (level, secret) =>
      run(
        c
          .startSession({
            userId: userIdOf(p, level),
            user: level.slice(0, 10),
            password: secret ?? secretOf(p, level),
            passwordPad: pad,
          })
          .then(() => undefined),
      ),
  };
}

/**
 * The profile with a modelled writable table (no shipped profile has one): MT9 SETTINGS_TBL,
 * supplier and low-credit threshold, read and written by `privileged`.
 */
export function withWritableTable(base: FirmwareProfile): FirmwareProfile {
  return {
    ...base,
    c1219: {
      ...base.c1219!,
      tables: [
        ...base.c1219!.tables,
        {
          id: 'MT9',
          name: 'SETTINGS_TBL',
          read: ['privileged'],
          write: ['privileged'],
          fields: [
            { name: 'SUPPLIER_ID', type: 'STRING', size: 4, source: 'registration.supplierId' },
            { name: 'LOW_CREDIT', type: 'UINT32', source: 'prepayment.lowCreditThreshold' },
          ],
        },
      ],
    },
  };
}
