/**
 * The check a C12.18 capture runs before anything is written (docs/capture.md "The check"): the
 * captured profile and state served from a table engine in memory, every captured table read
 * back and compared byte for byte with what the meter sent.
 */
import type { Clock } from '../core/clock';
import { Meter } from '../device/meter';
import type { MeterEvent, MeterState } from '../device/state';
import { MemoryMeterStore } from '../device/storage';
import { StdTable, decodeGenConfig } from '../protocols/c1219/standard-layouts';
import { bindC1219 } from '../profiles/c1219-binding';
import { deviceBehaviour } from '../profiles/device-binding';
import type { FirmwareProfile } from '../profiles/schema';

/** Not compared: written only (ST7), or changing by themselves (ST8 results, ST52 the clock). */
export const LIVE_TABLES: ReadonlySet<number> = new Set([
  StdTable.PROC_INITIATE,
  StdTable.PROC_RESPONSE,
  StdTable.CLOCK,
]);

/** Offset of the first byte that differs (the shorter length when one is a prefix). */
export function firstDifference(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return i;
  return n;
}

const ST0_SETS = [
  'STD_TBLS_USED',
  'MFG_TBLS_USED',
  'STD_PROC_USED',
  'MFG_PROC_USED',
  'STD_TBLS_WRITE',
  'MFG_TBLS_WRITE',
];

/** What differs between two ST0 images, in ST0's own terms ("MFG_PROC_USED: missing 9; "). */
export function st0Differences(captured: Buffer, served: Buffer): string {
  try {
    const a = decodeGenConfig(captured);
    const b = decodeGenConfig(served);
    const out: string[] = [];
    for (const k of Object.keys(a)) {
      if (ST0_SETS.includes(k)) {
        const x = (a[k] ?? []) as number[];
        const y = (b[k] ?? []) as number[];
        const missing = x.filter((i) => !y.includes(i));
        const extra = y.filter((i) => !x.includes(i));
        if (missing.length || extra.length)
          out.push(
            `${k}:${missing.length ? ` missing ${missing.join(',')}` : ''}${extra.length ? ` extra ${extra.join(',')}` : ''}`,
          );
      } else if (JSON.stringify(a[k]) !== JSON.stringify(b[k]))
        out.push(`${k}: ${JSON.stringify(a[k])} captured, ${JSON.stringify(b[k])} served`);
    }
    return out.length ? `${out.join('; ')}; ` : '';
  } catch {
    return '';
  }
}

export interface Difference {
  wireId: number;
  captured: Buffer;
  served: Buffer | null;
}

/** Serve `profile` + `state` from an in-memory engine and compare every captured table. */
export async function compareServed(
  profile: FirmwareProfile,
  state: MeterState,
  events: readonly MeterEvent[],
  tables: ReadonlyMap<number, Buffer>,
  clock: Clock,
): Promise<Difference[]> {
  const store = new MemoryMeterStore();
  const behaviour = deviceBehaviour(profile);
  // ST41/ST42 count the passwords: one placeholder per level, in this in-memory check only.
  const placeholders = Object.fromEntries(profile.accessLevels.map((l) => [l.name, 'ff']));
  store.create(
    { ...state, security: { ...state.security, secrets: placeholders } },
    events,
    behaviour.eventLogBound,
  );
  const meter = Meter.load(state.id, { store, clock, behaviour });
  const binding = bindC1219(profile, meter);
  const access = { userId: 0, user: '', groups: 0xff, authenticated: true };
  const out: Difference[] = [];
  for (const [wireId, captured] of tables) {
    if (LIVE_TABLES.has(wireId)) continue;
    const r = await binding.read(wireId, undefined, access);
    const served = 'data' in r ? Buffer.from(r.data) : null;
    if (!served || !served.equals(captured)) out.push({ wireId, captured, served });
  }
  store.close();
  return out;
}
