import fc from 'fast-check';
import { ErrorCode } from '../../../../src/core/errors';
import {
  encodeHdlcFrame,
  hdlcClient,
  hdlcFrame,
  hdlcServer,
  HdlcFramer,
  parseHdlcFrame,
  type HdlcFramerOutput,
} from '../../../../src/protocols/dlms/hdlc';
import * as V from './vectors';

const ALL = [
  V.SNRM,
  V.UA_WITH_PARAMS,
  V.UA_NO_PARAMS,
  V.AARQ_FRAME,
  V.AARE_FRAME,
  V.GET_OBJECT_LIST,
  V.GET_BLOCK_1,
  V.GET_NEXT_1,
  V.GET_LAST_BLOCK,
  V.RR,
  V.DISC,
  V.FRMR,
];

/** Feed `data` in chunks whose sizes cycle through `sizes`. */
function feed(framer: HdlcFramer, data: Buffer, sizes: number[]): HdlcFramerOutput[] {
  const out: HdlcFramerOutput[] = [];
  let i = 0;
  let k = 0;
  while (i < data.length) {
    const n = sizes.length ? sizes[k++ % sizes.length]! : data.length;
    out.push(...framer.push(data.subarray(i, i + n)));
    i += n;
  }
  return out;
}

const frames = (out: HdlcFramerOutput[]): string[] =>
  out.filter((o) => o.kind === 'frame').map((o) => o.bytes.toString('hex'));
const discarded = (out: HdlcFramerOutput[]): string =>
  out
    .filter((o) => o.kind === 'discarded')
    .map((o) => o.bytes.toString('hex'))
    .join('');

describe('HdlcFramer', () => {
  it('finds every [V] vector in one chunk, with separate flags', () => {
    const out = new HdlcFramer().push(Buffer.concat(ALL));
    expect(frames(out)).toEqual(ALL.map((b) => b.toString('hex')));
    expect(out.filter((o) => o.kind === 'discarded')).toEqual([]);
  });

  it('handles adjacent frames sharing one flag (…7E A0…) and idle flags', () => {
    // SNRM + UA sharing the flag between them, then idle fill, then DISC.
    const shared = Buffer.concat([V.SNRM, V.UA_NO_PARAMS.subarray(1), Buffer.from([0x7e, 0x7e]), V.DISC]);
    const framer = new HdlcFramer();
    const out = framer.push(shared);
    expect(frames(out)).toEqual([V.SNRM, V.UA_NO_PARAMS, V.DISC].map((b) => b.toString('hex')));
    expect(out.filter((o) => o.kind === 'discarded')).toEqual([]);
    expect(framer.pending).toBe(0);
  });

  it('keeps 0x7E inside a frame (no byte stuffing, dlms.md §2)', () => {
    const info = Buffer.from([0xe6, 0xe6, 0x00, 0x7e, 0x7e, 0xa0, 0x07, 0x7e, 0x01]);
    const raw = encodeHdlcFrame(
      hdlcFrame(hdlcServer(1), hdlcClient(16), { type: 'I', ns: 0, nr: 0, pf: true }, info),
    );
    for (const size of [1, 2, 3, 7, 64]) {
      const out = feed(new HdlcFramer(), raw, [size]);
      expect(frames(out)).toEqual([raw.toString('hex')]);
    }
  });

  it('finds the same frames for every chunking 1..64 with garbage between frames', () => {
    const garbage = [
      Buffer.from('hello'),
      Buffer.from([0x7e, 0x00, 0x7e]),
      Buffer.from([0x7e, 0xa0, 0x30, 1, 2]),
      Buffer.from([0xff]),
    ];
    const parts: Buffer[] = [];
    ALL.forEach((f, i) => parts.push(garbage[i % garbage.length]!, f));
    const stream = Buffer.concat(parts);
    for (let size = 1; size <= 64; size++) {
      const framer = new HdlcFramer();
      const out = [...feed(framer, stream, [size, ((size * 7) % 13) + 1]), ...framer.expire()];
      expect(frames(out)).toEqual(ALL.map((b) => b.toString('hex')));
      // All garbage bytes are accounted for as discards (flags of garbage included).
      expect(discarded(out).length).toBeGreaterThan(0);
    }
  });

  it('resyncs after a truncated frame on the next flag', () => {
    const truncated = V.AARQ_FRAME.subarray(0, 20); // announces 44 octets, stops at 19
    const stream = Buffer.concat([truncated, V.AARE_FRAME, V.DISC, V.RR]);
    const framer = new HdlcFramer();
    const out = framer.push(stream);
    // The bogus length runs into the AARE; its closing flag is absent, so the framer rescans.
    expect(frames(out)).toEqual([V.AARE_FRAME, V.DISC, V.RR].map((b) => b.toString('hex')));
    expect(out[0]).toMatchObject({ kind: 'discarded', reason: 'no-closing-flag' });
    expect(out[0]!.bytes).toEqual(truncated);
  });

  it('gives a stalled partial frame up on expire() and finds what follows it', () => {
    // A frame announcing 0x7FF octets swallows a short valid one until the line goes idle.
    const bogus = Buffer.from([0x7e, 0xa7, 0xff, 0x03, 0x21]);
    const framer = new HdlcFramer();
    expect(framer.push(Buffer.concat([bogus, V.DISC]))).toEqual([]);
    expect(framer.pending).toBe(bogus.length + V.DISC.length);
    const out = framer.expire();
    expect(out[0]).toMatchObject({ kind: 'discarded', reason: 'expired', bytes: bogus });
    expect(frames(out)).toEqual([V.DISC.toString('hex')]);
    expect(framer.pending).toBe(0);
    expect(framer.expire()).toEqual([]);
  });

  it('discards a frame with a bad FCS and a wrong type nibble', () => {
    const bad = Buffer.from(V.RR);
    bad[6] = bad[6]! ^ 0x40;
    const notA = Buffer.from(V.DISC);
    notA[1] = 0x80;
    const out = new HdlcFramer().push(Buffer.concat([bad, notA, V.SNRM]));
    expect(frames(out)).toEqual([V.SNRM.toString('hex')]);
    expect(out.filter((o) => o.kind === 'discarded').map((o) => (o as { reason: string }).reason)).toEqual([
      'bad-fcs',
      'bad-format',
    ]);
  });

  it('reset() drops what is buffered', () => {
    const framer = new HdlcFramer();
    framer.push(V.AARQ_FRAME.subarray(0, 10));
    expect(framer.reset()).toEqual([
      { kind: 'discarded', bytes: V.AARQ_FRAME.subarray(0, 10), reason: 'expired' },
    ]);
    expect(framer.pending).toBe(0);
    expect(frames(framer.push(V.SNRM))).toEqual([V.SNRM.toString('hex')]);
  });
});

// ---- property tests ----------------------------------------------------------------------

const chunking = fc.array(fc.integer({ min: 1, max: 64 }), { minLength: 1, maxLength: 8 });

/**
 * Every output is a frame or a discard; every frame carries a valid length and FCS. Plain
 * checks (not expect) keep 100,000 items per property inside a few seconds.
 */
function checkOutputs(out: HdlcFramerOutput[]): void {
  for (const o of out) {
    if (o.kind === 'frame') {
      const p = parseHdlcFrame(o.bytes);
      if (
        p.error &&
        (p.error.code === ErrorCode.FrameLength || p.error.context['path'] === 'HdlcFrame.fcs')
      ) {
        throw new Error(`framer emitted a frame with ${p.error.message}`);
      }
    } else if (o.kind !== 'discarded' || o.bytes.length === 0) {
      throw new Error(`unexpected output ${JSON.stringify(o)}`);
    }
  }
}

/** A valid frame mutated: bit flips, insertions, deletions, truncation. */
const mutatedFrame = fc
  .tuple(
    fc.constantFrom(...ALL),
    fc.array(
      fc.oneof(
        fc.record({ op: fc.constant('flip' as const), at: fc.nat(), bit: fc.integer({ min: 0, max: 7 }) }),
        fc.record({
          op: fc.constant('insert' as const),
          at: fc.nat(),
          byte: fc.integer({ min: 0, max: 255 }),
        }),
        fc.record({ op: fc.constant('delete' as const), at: fc.nat() }),
        fc.record({ op: fc.constant('truncate' as const), at: fc.nat() }),
      ),
      { minLength: 1, maxLength: 4 },
    ),
  )
  .map(([base, ops]) => {
    const b = [...base];
    for (const m of ops) {
      const at = b.length ? m.at % b.length : 0;
      if (m.op === 'flip' && b.length) b[at] = b[at]! ^ (1 << m.bit);
      else if (m.op === 'insert') b.splice(at, 0, m.byte);
      else if (m.op === 'delete') b.splice(at, 1);
      else if (m.op === 'truncate') b.length = at;
    }
    return Buffer.from(b);
  });

// 5,000 runs x 20 items = 100,000 random / mutated frames per property.
const ITEMS = 20;

describe('HdlcFramer properties (fast-check)', () => {
  it('random bytes never crash or hang and only yield frames/discards (100,000 items)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.uint8Array({ maxLength: 60 }), { minLength: ITEMS, maxLength: ITEMS }),
        chunking,
        (items, sizes) => {
          const framer = new HdlcFramer();
          const out = [...feed(framer, Buffer.concat(items), sizes), ...framer.expire()];
          checkOutputs(out);
          if (framer.pending > 1) throw new Error(`expire() left ${framer.pending} bytes`);
        },
      ),
      { numRuns: 5_000 },
    );
  });

  it('a truncated copy whose length reaches exactly past the next frame, with a checking FCS, is one frame', () => {
    // Counterexample from CI (fast-check seed -1015301150): no byte stuffing means the wire
    // cannot tell this apart from a genuine 25-byte frame.
    const truncated = Buffer.from('7ea0192102579679dbe6e700c402c00100', 'hex');
    const snrm = Buffer.from('7ea00802232193bd647e', 'hex');
    const out = [...new HdlcFramer().push(Buffer.concat([truncated, snrm]))];
    expect(frames(out)).toEqual([Buffer.concat([truncated, snrm]).toString('hex')]);
  });

  it('a truncated copy whose length reaches onto the flag after the next frame, with a checking FCS, is one frame', () => {
    // Counterexample from CI (fast-check seed -1691502337): the announced 15 bytes end on the
    // opening flag of the frame after, which then also serves as this frame's closing flag.
    const truncated = Buffer.from('7ea00f037b022c', 'hex');
    const next = Buffer.from('7ea00703215111e47e', 'hex');
    const after = Buffer.from('7ea00802232193bd647e', 'hex');
    const out = [...new HdlcFramer().push(Buffer.concat([truncated, next, after]))];
    expect(frames(out)).toEqual([
      Buffer.concat([truncated, next, after.subarray(0, 1)]).toString('hex'),
      after.toString('hex'),
    ]);
  });

  it('mutated frames between valid ones never cost the valid ones (100,000 items)', () => {
    const item = fc.tuple(mutatedFrame, fc.constantFrom(...ALL));
    fc.assert(
      fc.property(
        fc.array(item, { minLength: ITEMS / 2, maxLength: ITEMS / 2 }),
        chunking,
        (pairs, sizes) => {
          const framer = new HdlcFramer();
          const stream = Buffer.concat(pairs.flatMap(([bad, good]) => [bad, good]));
          const out = [...feed(framer, stream, sizes), ...framer.expire()];
          checkOutputs(out);
          // Every valid frame comes out, in order; a mutant may itself still be a valid frame
          // (e.g. a flipped bit in a flag-free spot of a truncated copy), so match as a subsequence.
          // One more ambiguity the wire cannot resolve: a truncated copy whose length field reaches
          // to the end of the next valid frame (or one byte on, onto the flag the frame after
          // shares), and whose FCS then happens to check (about 1 in 65,536; seen in CI, seeds
          // -1015301150 and -1691502337), IS a valid frame that contains it. So a valid frame
          // counts as delivered when it comes out alone or inside such a frame.
          const got = frames(out);
          let k = 0;
          for (const [, good] of pairs) {
            const hex = good.toString('hex');
            while (k < got.length && !got[k]!.includes(hex)) k++;
            if (k === got.length) throw new Error(`valid frame ${hex} lost`);
            k++;
          }
        },
      ),
      { numRuns: 5_000 },
    );
  });
});
