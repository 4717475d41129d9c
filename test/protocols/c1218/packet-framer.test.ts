import fc from 'fast-check';
import { encodePacket } from '../../../src/protocols/c1218/packet';
import { PacketFramer, type FramerEvent } from '../../../src/protocols/c1218/packet-framer';
import { IDENT_PACKET, MULTI_RESPONSE_HEAD, READ_MT1_PACKET, TERMINATE_PACKET, bytes } from './vectors';

/** Compact view of framer output for table-style assertions. */
function summary(events: FramerEvent[]): string[] {
  return events.map((e) => {
    switch (e.kind) {
      case 'packet':
        return `packet ${e.packet.data.toString('hex')}`;
      case 'corrupt':
        return `corrupt ${e.bytes.length}`;
      case 'discarded':
        return `discarded(${e.reason}) ${e.bytes.toString('hex')}`;
      default:
        return e.kind;
    }
  });
}

function feedAll(framer: PacketFramer, chunks: Uint8Array[]): string[] {
  return chunks.flatMap((c) => summary(framer.push(c)));
}

describe('PacketFramer (docs/c1218.md §1.1, §1.2, §1.4)', () => {
  it('yields a packet from one chunk', () => {
    expect(summary(new PacketFramer().push(bytes(IDENT_PACKET)))).toEqual(['packet 20']);
  });

  it('discards the 0x55 wake-up byte and garbage before 0xEE (§1.1)', () => {
    const out = new PacketFramer().push(Buffer.concat([Buffer.of(0x55, 0x00, 0x99), bytes(IDENT_PACKET)]));
    expect(summary(out)).toEqual(['discarded(garbage) 550099', 'packet 20']);
  });

  it('reads bare ACK and NAK bytes between packets (§1.4), e.g. T ACK + next request in one chunk', () => {
    const out = new PacketFramer().push(
      Buffer.concat([Buffer.of(0x06), bytes(TERMINATE_PACKET), Buffer.of(0x15)]),
    );
    expect(summary(out)).toEqual(['ack', 'packet 21', 'nak']);
  });

  it('reassembles a packet split into 1-byte chunks', () => {
    const f = new PacketFramer();
    const out = feedAll(
      f,
      [...bytes(READ_MT1_PACKET)].map((b) => Buffer.of(b)),
    );
    expect(out).toEqual(['packet 300801']);
    expect(f.buffered).toBe(0);
  });

  it('holds a partial packet (the doc multi-packet head) and reports the bytes buffered', () => {
    const f = new PacketFramer();
    expect(f.push(bytes(MULTI_RESPONSE_HEAD))).toEqual([]);
    expect(f.buffered).toBe(MULTI_RESPONSE_HEAD.length);
  });

  it('answers a bad CRC with one corrupt event and skips the whole claimed packet', () => {
    const bad = bytes(IDENT_PACKET);
    bad[6] = 0x21; // data flipped: CRC no longer matches
    const out = new PacketFramer().push(Buffer.concat([bad, bytes(TERMINATE_PACKET)]));
    expect(summary(out)).toEqual(['corrupt 9', 'packet 21']);
  });

  it('resynchronises after impossible lengths: 0 and larger than the maximum', () => {
    const zero = Buffer.of(0xee, 0x00, 0x00, 0x00, 0x00, 0x00);
    const huge = Buffer.of(0xee, 0x00, 0x00, 0x00, 0x20, 0x00); // 8192 data bytes > 8184
    const out = new PacketFramer().push(Buffer.concat([zero, huge, bytes(IDENT_PACKET)]));
    expect(summary(out)).toEqual([
      `discarded(garbage) ${zero.toString('hex')}${huge.toString('hex')}`,
      'packet 20',
    ]);
  });

  it('honours a smaller maxPacketSize bound', () => {
    const f = new PacketFramer({ maxPacketSize: 64 });
    const big = encodePacket(0, 0, Buffer.alloc(57, 1));
    const ok = encodePacket(0, 0, Buffer.alloc(56, 1));
    expect(summary(f.push(ok))).toEqual([`packet ${'01'.repeat(56)}`]);
    expect(summary(f.push(big))[0]).toMatch(/^discarded/);
  });

  it('in strict mode treats a non-zero identity or reserved ctrl bits as noise; relaxed mode accepts them', () => {
    const idBad = encodePacket(0, 0, Buffer.of(0x20), 0, 1, 0x07);
    const ctrlBad = encodePacket(0x01, 0, Buffer.of(0x20));
    expect(summary(new PacketFramer().push(idBad))[0]).toMatch(/^discarded/);
    expect(summary(new PacketFramer().push(ctrlBad))[0]).toMatch(/^discarded/);
    expect(summary(new PacketFramer({ strictHeader: false }).push(idBad))).toEqual(['packet 20']);
    expect(summary(new PacketFramer({ identity: 7 }).push(idBad))).toEqual(['packet 20']);
  });

  it('expire() drops a truncated packet and rescans what followed its false start (§1.4)', () => {
    const f = new PacketFramer();
    // A false 0xEE header claiming 16 data bytes, then a real Ident that it swallowed.
    const falseStart = Buffer.of(0xee, 0x00, 0x00, 0x00, 0x00, 0x10);
    expect(f.push(Buffer.concat([falseStart, bytes(IDENT_PACKET)]))).toEqual([]);
    expect(summary(f.expire())).toEqual([
      'discarded(timeout) ee',
      'discarded(garbage) 0000000010',
      'packet 20',
    ]);
    expect(f.buffered).toBe(0);
    expect(f.expire()).toEqual([]);
  });

  it('reset() forgets a partial packet', () => {
    const f = new PacketFramer();
    f.push(bytes(IDENT_PACKET).subarray(0, 4));
    f.reset();
    expect(f.buffered).toBe(0);
    expect(summary(f.push(bytes(TERMINATE_PACKET)))).toEqual(['packet 21']);
  });

  it('never mutates its input', () => {
    const input = Buffer.concat([Buffer.of(0x55), bytes(IDENT_PACKET), bytes(IDENT_PACKET).subarray(0, 5)]);
    const copy = Buffer.from(input);
    const f = new PacketFramer();
    const out = f.push(input);
    f.push(bytes(IDENT_PACKET).subarray(5));
    expect(input.equals(copy)).toBe(true);
    const pkt = out.find((e) => e.kind === 'packet');
    // The emitted packet is a copy: changing it leaves the caller's chunk alone.
    if (pkt?.kind !== 'packet') throw new Error('no packet');
    pkt.raw.fill(0);
    expect(input.equals(copy)).toBe(true);
  });

  it('finds every packet in any chunking, with garbage between them (property)', () => {
    const packetArb = fc
      .record({ toggle: fc.boolean(), data: fc.uint8Array({ minLength: 1, maxLength: 80 }) })
      .map(({ toggle, data }) => encodePacket(toggle ? 0x20 : 0, 0, data));
    // Garbage without 0xEE/0x06/0x15 so the expected output is exact.
    const garbageArb = fc
      .uint8Array({ maxLength: 6 })
      .map((g) => Buffer.from(g.map((b) => (b === 0xee || b === 0x06 || b === 0x15 ? 0x55 : b))));
    fc.assert(
      fc.property(
        fc.array(fc.tuple(garbageArb, packetArb), { minLength: 1, maxLength: 8 }),
        fc.array(fc.integer({ min: 1, max: 40 }), { minLength: 1, maxLength: 20 }),
        (items, cuts) => {
          const stream = Buffer.concat(items.flatMap(([g, p]) => [g, p]));
          const f = new PacketFramer();
          const events: FramerEvent[] = [];
          let at = 0;
          let i = 0;
          while (at < stream.length) {
            const n = cuts[i++ % cuts.length]!;
            events.push(...f.push(stream.subarray(at, at + n)));
            at += n;
          }
          const packets = events
            .filter((e) => e.kind === 'packet')
            .map((e) => (e.kind === 'packet' ? e.raw.toString('hex') : ''));
          expect(packets).toEqual(items.map(([, p]) => p.toString('hex')));
          const discarded = events.reduce((n, e) => n + (e.kind === 'discarded' ? e.bytes.length : 0), 0);
          expect(discarded).toBe(items.reduce((n, [g]) => n + g.length, 0));
          expect(f.buffered).toBe(0);
        },
      ),
      { numRuns: 1000 },
    );
  });

  it('accounts for every byte of random and mutated input and never throws (property)', () => {
    const valid = fc.uint8Array({ minLength: 1, maxLength: 40 }).map((d) => encodePacket(0, 0, d));
    const mutated = fc
      .tuple(
        valid,
        fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 3 }),
      )
      .map(([p, muts]) => {
        const m = Buffer.from(p);
        for (const [pos, v] of muts) m[pos % m.length] = v;
        return m;
      });
    fc.assert(
      fc.property(
        fc.array(fc.oneof(fc.uint8Array({ maxLength: 30 }), valid, mutated), { maxLength: 10 }),
        (chunks) => {
          const f = new PacketFramer();
          let accounted = 0;
          const count = (evs: FramerEvent[]): void => {
            for (const e of evs) {
              if (e.kind === 'packet') accounted += e.raw.length;
              else if (e.kind === 'corrupt' || e.kind === 'discarded') accounted += e.bytes.length;
              else accounted += 1;
            }
          };
          for (const c of chunks) count(f.push(c));
          // Drain: expire until nothing is held back.
          for (let guard = 0; f.buffered > 0 && guard < 10_000; guard++) count(f.expire());
          expect(f.buffered).toBe(0);
          expect(accounted).toBe(chunks.reduce((n, c) => n + c.length, 0));
        },
      ),
      { numRuns: 3000 },
    );
  });
});
