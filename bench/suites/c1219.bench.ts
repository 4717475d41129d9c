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
 */

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
}
