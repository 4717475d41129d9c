import { ManualClock } from '../../src/core/clock';
import { Meter } from '../../src/device/meter';
import { MemoryMeterStore } from '../../src/device/storage';
import { bindC1219 } from '../../src/profiles/c1219-binding';
import { deviceBehaviour, newMeterFromProfile } from '../../src/profiles/device-binding';
import { loadProfile } from '../../src/profiles/loader';
import type { FirmwareProfile } from '../../src/profiles/schema';
import { mt, type SessionAccess } from '../../src/protocols/c1219/contract';
import {
  DEFAULT_CODEC_CONTEXT,
  type TableLayout,
  type TableRecord,
} from '../../src/protocols/c1219/field-types';
import { encodeProcedureRequest } from '../../src/protocols/c1219/procedure-codec';
import { decodeTable, encodeTable } from '../../src/protocols/c1219/table-codec';
import { createTableEngine } from '../../src/protocols/c1219/table-engine';
import { round, type BenchHarness } from '../harness';

/**
 * C12.19 engine CPU. Target: a C12.18 read of a 64-byte table under 20 µs of server CPU
 * including the link layer, so the table engine's part should be a few µs.
 *
 * Binding build: a farm binds one C12.19 engine per TCP connection (bindC1219), so a
 * 10,000-meter sweep builds 10,000 of them. Target: at most 30 µs of CPU per build.
 */

/** Shipped Secure profiles whose per-connection binding build is timed (ESME and GSME). */
const BOUND_PROFILES = [
  { key: 'esme_p4x2g04', id: 'secure-liberty100-esme-p4x2g04' },
  { key: 'gsme_g1x2g01', id: 'secure-liberty110-gsme-g1x2g01' },
] as const;

/** A 64-byte manufacturer table of mixed field types (modelled card-record shape). */
const LAYOUT: TableLayout = {
  id: mt(1),
  name: 'MT1_CARD',
  fields: [
    { name: 'PAYMENT_CARD_ID', type: 'BCD', size: 10 },
    { name: 'SUPPLIER', type: 'STRING', size: 16 },
    { name: 'REGISTERED_AT', type: 'LTIME' },
    { name: 'BALANCE', type: 'INT32' },
    { name: 'DEBT', type: 'UINT32' },
    {
      name: 'FLAGS',
      type: 'UINT16',
      bits: [
        { name: 'PRESENT', shift: 0, width: 1 },
        { name: 'MODE', shift: 1, width: 3 },
      ],
    },
    { name: 'MIGRATED', type: 'BOOL' },
    { name: 'RESERVED', type: 'BINARY', size: 21 },
  ],
};

const RECORD: TableRecord = {
  PAYMENT_CARD_ID: '01234567890123456789',
  SUPPLIER: 'SUPPLIER-A',
  REGISTERED_AT: { year: 2019, month: 6, day: 1, hour: 9, minute: 30, second: 0 },
  BALANCE: -1250,
  DEBT: 4200,
  FLAGS: { PRESENT: 1, MODE: 2 },
  MIGRATED: false,
  RESERVED: Buffer.alloc(21),
};

const ACCESS: SessionAccess = { userId: 0, user: '0000', groups: 0x02, authenticated: true };

async function cpuPerAsyncCall(fn: () => Promise<unknown>, iterations: number): Promise<number> {
  for (let i = 0; i < Math.min(2000, iterations); i++) await fn();
  const c0 = process.cpuUsage();
  for (let i = 0; i < iterations; i++) await fn();
  const c = process.cpuUsage(c0);
  return round((c.user + c.system) / iterations);
}

/** Meters made from the profile as a farm makes them (seeded ids, memory store, fixed clock). */
function metersOf(profileId: string, n: number): { profile: FirmwareProfile; meters: Meter[] } {
  const profile = loadProfile(profileId).profile;
  const clock = new ManualClock(Date.UTC(2026, 2, 1, 10, 0, 0));
  const meters = Array.from({ length: n }, (_v, i) =>
    Meter.create(
      newMeterFromProfile(profile, {
        id: `bench-${i}`,
        index: i,
        ids: 'bench-c1219',
        supplierId: 'SUPA',
        card: { issuerSupplierId: 'SUPB' },
        now: clock.now(),
      }),
      { store: new MemoryMeterStore(), clock, behaviour: deviceBehaviour(profile) },
    ),
  );
  return { profile, meters };
}

/**
 * µs per bindC1219, the profile's own caches warm as on a farm. The CPU figure builds for
 * 100 meters in turn and keeps the last 500 bindings alive (open connections), so what a
 * build allocates is collected the way a farm's is, not all in the nursery.
 */
function measureBindingBuild(h: BenchHarness): void {
  for (const { key, id } of BOUND_PROFILES) {
    const { profile, meters } = metersOf(id, 100);
    const live = new Array<unknown>(500);
    let i = 0;
    const cpu = round(
      h.cpuPerCall(() => {
        live[i % live.length] = bindC1219(profile, meters[i % meters.length]!);
        i++;
      }, 20_000),
    );
    h.record(`binding.build.${key}.cpu_us`, cpu, 'us', 'bindC1219 per connection, 500 open; target <= 30');
    const one = meters[0]!;
    const stats = h.measureSync(() => void bindC1219(profile, one), { iterations: 20_000, warmup: 2000 });
    h.recordStats(`binding.build.${key}`, stats);
    h.log(`bindC1219 ${id}: ${cpu.toFixed(2)} us CPU, median ${stats.medianUs.toFixed(2)} us wall per build`);
  }
}

export default async function run(h: BenchHarness): Promise<void> {
  const ctx = DEFAULT_CODEC_CONTEXT;
  const engine = createTableEngine();
  engine.registerTable({ id: mt(1), layout: LAYOUT, read: () => RECORD, access: { read: 0x02 } });
  const raw = encodeTable(LAYOUT, RECORD, ctx);
  if (raw.length !== 64) throw new Error(`layout is ${raw.length} bytes, expected 64`);
  engine.registerTable({
    id: mt(2),
    layout: { ...LAYOUT, id: mt(2), name: 'MT2_RAW' },
    read: () => raw,
    access: { read: 0x02 },
  });
  engine.registerProcedure({ id: mt(3), name: 'noop', access: { write: 0x02 }, run: () => ({ result: 0 }) });

  const read = (): Promise<unknown> => engine.read(mt(1), undefined, ACCESS);
  const stats = await h.measureAsync(async () => void (await read()), { iterations: 20_000, warmup: 2000 });
  h.recordStats('engine.read.mt64_record', stats);
  const cpu = await cpuPerAsyncCall(read, 50_000);
  h.record('engine.read.mt64_record.cpu_us', cpu, 'us', 'record from callback, encoded per read');

  const rawCpu = await cpuPerAsyncCall(() => engine.read(mt(2), undefined, ACCESS), 50_000);
  h.record('engine.read.mt64_bytes.cpu_us', rawCpu, 'us', 'callback returns the 64 bytes');

  const partialCpu = await cpuPerAsyncCall(
    () => engine.read(mt(1), { offset: 16, count: 32 }, ACCESS),
    50_000,
  );
  h.record('engine.read.mt64_partial32.cpu_us', partialCpu, 'us');

  const encode = round(h.cpuPerCall(() => void encodeTable(LAYOUT, RECORD, ctx), 100_000));
  h.record('codec.encode.mt64.cpu_us', encode, 'us');
  h.ratio('engine_read_vs_encode', cpu, encode, 'engine.read CPU / encodeTable CPU (same table)');
  const decode = round(h.cpuPerCall(() => void decodeTable(LAYOUT, raw, ctx), 100_000));
  h.record('codec.decode.mt64.cpu_us', decode, 'us');

  const st7 = encodeProcedureRequest(
    { procedure: 3, mfg: true, selector: 0, seq: 1, params: Buffer.alloc(0) },
    'little',
  );
  const procCpu = await cpuPerAsyncCall(async () => {
    await engine.write(7, undefined, st7, ACCESS);
    await engine.read(8, undefined, ACCESS);
  }, 20_000);
  h.record('engine.procedure_write_and_st8_read.cpu_us', procCpu, 'us');
  h.log(
    `64-byte MT read: median ${stats.medianUs.toFixed(2)} us wall, ${cpu.toFixed(2)} us CPU (target: a few us)`,
  );

  measureBindingBuild(h);
}
