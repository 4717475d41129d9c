import { ByteReader, ByteWriter } from '../../src/core/bytes';
import { crc16x25 } from '../../src/core/crc16';
import type { BenchHarness } from '../harness';

/** Baselines for the codecs: cursor reads against raw Buffer reads, CRC throughput. */
export default async function run(h: BenchHarness): Promise<void> {
  const buf = Buffer.alloc(64, 0x5a);
  const raw = h.cpuPerCall(() => {
    let s = 0;
    for (let i = 0; i + 4 <= 64; i += 4) s += buf.readUInt32BE(i);
    if (s < 0) throw new Error();
  }, 200_000);
  const cursor = h.cpuPerCall(() => {
    const r = new ByteReader(buf);
    let s = 0;
    while (r.remaining >= 4) s += r.u32be();
    if (s < 0) throw new Error();
  }, 200_000);
  h.record('read16xU32.raw_cpu_us', raw, 'us');
  h.record('read16xU32.cursor_cpu_us', cursor, 'us');
  h.ratio('read16xU32.cursor_vs_raw', cursor, raw, 'ByteReader time / raw Buffer.readUInt32BE time');
  const frame = Buffer.alloc(512, 0xa5);
  const crc = h.cpuPerCall(() => void crc16x25(frame), 50_000);
  h.record('crc16x25.512B_cpu_us', crc, 'us');
  h.record('crc16x25.MiB_per_s', Math.round(512 / crc), 'MB/s');
  const w = h.cpuPerCall(
    () => void new ByteWriter(16).u8(0xee).u16be(3).u32be(7).bytes(buf).toBuffer(),
    100_000,
  );
  h.record('writer.small_frame_cpu_us', w, 'us');
}
