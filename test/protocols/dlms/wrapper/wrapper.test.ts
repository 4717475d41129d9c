import fc from 'fast-check';
import { fromHex } from '../../../../src/core/bytes';
import { ErrorCode } from '../../../../src/core/errors';
import {
  decodeWrapperFrame,
  decodeWrapperHeader,
  DLMS_WRAPPER_PORT,
  encodeWrapperFrame,
  encodeWrapperHeader,
  WrapperFramer,
  wrapperReplyTo,
  type WrapperFramerOutput,
} from '../../../../src/protocols/dlms/wrapper';

// dlms.md §3, U9N test_udp_message.py [real example]
const HEADER = Buffer.from([
  0x00,
  0x01, // version 1
  0x00,
  0x01, // source wPort 1 (client)
  0x00,
  0x01, // destination wPort 1 (logical device)
  0x00,
  0x46, // APDU length 70
]);
// The first 16 APDU octets as the doc gives them; the rest of the 70 is filler (the doc elides it).
const APDU = Buffer.concat([
  Buffer.from([0xdb]), // general-glo-ciphering
  Buffer.from([0x08]), // system title length 8
  fromHex('2f19229199164103'), // system title
  Buffer.from([0x3b]), // length 59
  Buffer.from([0x30]), // security control: authenticated + encrypted
  fromHex('000001e5'), // invocation counter 0x1E5
  Buffer.alloc(54, 0xc3), // ciphertext + tag (filler)
]);

describe('TCP wrapper header (dlms.md §3)', () => {
  it('decodes and regenerates the real example header', () => {
    expect(decodeWrapperHeader(HEADER)).toEqual({ version: 1, source: 1, dest: 1, length: 70 });
    expect(encodeWrapperHeader({ version: 1, source: 1, dest: 1, length: 70 })).toEqual(HEADER);
    expect(APDU.length).toBe(70);
    const frame = Buffer.concat([HEADER, APDU]);
    expect(decodeWrapperFrame(frame)).toEqual({ source: 1, dest: 1, apdu: APDU });
    expect(encodeWrapperFrame({ source: 1, dest: 1, apdu: APDU })).toEqual(frame);
  });

  it('swaps addresses for the reply and uses port 4059', () => {
    expect(wrapperReplyTo({ source: 16, dest: 1 }, Buffer.from([1]))).toEqual({
      source: 1,
      dest: 16,
      apdu: Buffer.from([1]),
    });
    expect(
      encodeWrapperFrame(wrapperReplyTo({ source: 0x10, dest: 0x01 }, Buffer.from([0xc4]))).toString('hex'),
    ).toBe('0001000100100001c4');
    expect(DLMS_WRAPPER_PORT).toBe(4059);
  });

  it('refuses bad versions, short and long frames with a path', () => {
    expect(() => decodeWrapperFrame(fromHex('0002000100010000'))).toThrow(/WrapperFrame.version/);
    expect(() => decodeWrapperFrame(fromHex('00010001000100020a'))).toThrow(
      expect.objectContaining({ code: ErrorCode.DecodeTruncated }),
    );
    expect(() => decodeWrapperFrame(fromHex('00010001000100010a0b'))).toThrow(
      expect.objectContaining({ code: ErrorCode.DecodeTrailingBytes }),
    );
    expect(() => encodeWrapperFrame({ source: 1, dest: 1, apdu: Buffer.alloc(70000) })).toThrow(
      expect.objectContaining({ code: ErrorCode.EncodeTooLarge }),
    );
  });
});

const framesOf = (o: WrapperFramerOutput[]) => o.flatMap((x) => (x.kind === 'frame' ? [x.frame] : []));

describe('WrapperFramer', () => {
  const a = encodeWrapperFrame({ source: 16, dest: 1, apdu: fromHex('c001c1000100002b0100ff0200') });
  const b = encodeWrapperFrame({ source: 1, dest: 16, apdu: fromHex('c401c1000600001391') });

  it('cuts a stream in every chunking', () => {
    const stream = Buffer.concat([a, b, a]);
    for (let size = 1; size <= stream.length; size++) {
      const f = new WrapperFramer();
      const o: WrapperFramerOutput[] = [];
      for (let i = 0; i < stream.length; i += size) o.push(...f.push(stream.subarray(i, i + size)));
      expect(framesOf(o).map((x) => x.apdu.toString('hex'))).toEqual([
        'c001c1000100002b0100ff0200',
        'c401c1000600001391',
        'c001c1000100002b0100ff0200',
      ]);
      expect(f.pending).toBe(0);
    }
  });

  it('resyncs on the next 00 01 after a bad version (documented policy)', () => {
    const o = new WrapperFramer().push(Buffer.concat([fromHex('deadbeef'), a]));
    expect(o[0]).toEqual({ kind: 'discarded', bytes: fromHex('deadbeef'), reason: 'bad-version' });
    expect(framesOf(o)).toHaveLength(1);
  });

  it('discards a header announcing more than maxApduLength', () => {
    const f = new WrapperFramer({ maxApduLength: 10 }); // a carries 13 octets, b 9
    const o = f.push(Buffer.concat([a, b]));
    expect(o[0]).toMatchObject({ kind: 'discarded', reason: 'too-long' });
    expect(framesOf(o).map((x) => x.source)).toEqual([1]);
  });

  it('gives a stalled partial frame up on expire() and finds what follows', () => {
    const f = new WrapperFramer();
    const bogus = fromHex('0001000100010400'); // announces 1024 octets
    expect(f.push(Buffer.concat([bogus, b]))).toEqual([]);
    const o = f.expire();
    expect(o[0]).toMatchObject({ kind: 'discarded', reason: 'expired' });
    expect(framesOf(o)).toHaveLength(1);
    expect(f.pending).toBe(0);
  });

  it('never throws on random or mutated input (100,000 items)', () => {
    const item = fc.oneof(
      fc.uint8Array({ maxLength: 24 }).map((x) => Buffer.from(x)),
      fc.constantFrom(a, b),
      fc.tuple(fc.constantFrom(a, b), fc.nat(), fc.integer({ min: 0, max: 255 })).map(([v, at, x]) => {
        const m = Buffer.from(v);
        m[at % m.length] = x;
        return m;
      }),
    );
    fc.assert(
      fc.property(
        fc.array(item, { minLength: 20, maxLength: 20 }),
        fc.integer({ min: 1, max: 32 }),
        (items, size) => {
          const f = new WrapperFramer();
          const data = Buffer.concat(items);
          const o: WrapperFramerOutput[] = [];
          for (let i = 0; i < data.length; i += size) o.push(...f.push(data.subarray(i, i + size)));
          o.push(...f.expire());
          let total = 0;
          for (const x of o) {
            if (x.kind === 'frame') total += 8 + x.frame.apdu.length;
            else total += x.bytes.length;
          }
          // Every input byte is accounted for exactly once.
          if (total !== data.length) throw new Error(`accounted ${total} of ${data.length}`);
          if (f.pending !== 0) throw new Error('pending after expire');
        },
      ),
      { numRuns: 5_000 },
    );
  });
});
