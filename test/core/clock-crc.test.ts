import { ManualClock } from '../../src/core/clock';
import { crc16x25 } from '../../src/core/crc16';
import { fromHex } from '../../src/core/bytes';

describe('crc16x25', () => {
  it('matches the check value and the documented vectors', () => {
    expect(crc16x25(Buffer.from('123456789'))).toBe(0x906e); // c1218.md §1.3, dlms.md §2
    // C12.18 Ident captured from termineter: CRC 0x1013 sent as 13 10 (c1218.md §1.3)
    expect(crc16x25(fromHex('ee 00 00 00 00 01 20'))).toBe(0x1013);
    // HDLC SNRM header A0 08 02 23 21 93 -> 0x64BD (dlms.md §2)
    expect(crc16x25(fromHex('a0 08 02 23 21 93'))).toBe(0x64bd);
    // u9n TestCrc: 03 3F -> 5B EC as sent on the wire (low byte first), i.e. the value 0xEC5B
    expect(crc16x25(fromHex('03 3f'))).toBe(0xec5b);
  });
});

describe('ManualClock', () => {
  it('fires timers in due order, including ones scheduled while advancing', () => {
    const c = new ManualClock(1_000_000);
    const seen: string[] = [];
    c.setTimeout(() => seen.push('b@20'), 20);
    c.setTimeout(() => {
      seen.push('a@10');
      c.setTimeout(() => seen.push('c@15'), 5);
    }, 10);
    const cancelled = c.setTimeout(() => seen.push('never'), 12);
    c.clearTimeout(cancelled);
    c.advance(25);
    expect(seen).toEqual(['a@10', 'c@15', 'b@20']);
    expect(c.monotonic()).toBe(25);
    expect(c.now()).toBe(1_000_025);
    expect(c.pending).toBe(0);
  });

  it('resolves sleep when advanced', async () => {
    const c = new ManualClock();
    let done = false;
    const p = c.sleep(100).then(() => (done = true));
    await c.advanceAsync(99);
    expect(done).toBe(false);
    await c.advanceAsync(1);
    await p;
    expect(done).toBe(true);
  });
});
