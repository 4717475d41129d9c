import fc from 'fast-check';
import { ByteReader, ByteWriter, fromHex, toHex } from '../../src/core/bytes';
import { ErrorCode, SimError } from '../../src/core/errors';

describe('ByteReader', () => {
  it('reads big- and little-endian integers of every width', () => {
    const r = new ByteReader(fromHex('01 0203 0302 040506 060504 0708090a 0a090807 ff fffe'));
    expect(r.u8()).toBe(0x01);
    expect(r.u16be()).toBe(0x0203);
    expect(r.u16le()).toBe(0x0203);
    expect(r.u24be()).toBe(0x040506);
    expect(r.u24le()).toBe(0x040506);
    expect(r.u32be()).toBe(0x0708090a);
    expect(r.u32le()).toBe(0x0708090a);
    expect(r.i8()).toBe(-1);
    expect(r.i16be('x')).toBe(-2 + 0); // 0xfffe
    expect(r.atEnd).toBe(true);
  });

  it('raises DecodeTruncated with the field path', () => {
    const r = new ByteReader(fromHex('ee00'), 'PsemReadResponse');
    r.u8('stp');
    let err: unknown;
    try {
      r.u16be('length');
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(SimError);
    expect((err as SimError).code).toBe(ErrorCode.DecodeTruncated);
    expect((err as SimError).context['path']).toBe('PsemReadResponse.length');
    expect((err as SimError).message).toContain('offset 1');
  });

  it('names array elements with brackets', () => {
    const r = new ByteReader(Buffer.alloc(0), 'PsemReadResponse');
    expect(() => r.u8('data[12]')).toThrow('PsemReadResponse.data[12]');
    const sub = new ByteReader(fromHex('0102'), 'T').sub(1, 'inner');
    expect(sub.path).toBe('T.inner');
  });

  it('never aliases the input in bytes()', () => {
    const input = fromHex('010203');
    const copy = new ByteReader(input).bytes(3);
    copy[0] = 9;
    expect(input[0]).toBe(1);
  });

  it('expectEnd reports trailing bytes', () => {
    const r = new ByteReader(fromHex('0102'));
    r.u8();
    expect(() => r.expectEnd()).toThrow(expect.objectContaining({ code: ErrorCode.DecodeTrailingBytes }));
  });

  it('throws only SimError on arbitrary input (property)', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ maxLength: 16 }),
        fc.array(fc.integer({ min: 0, max: 6 }), { maxLength: 10 }),
        (data, ops) => {
          const r = new ByteReader(data);
          try {
            for (const op of ops) {
              if (op === 0) r.u8();
              else if (op === 1) r.u16be();
              else if (op === 2) r.u24le();
              else if (op === 3) r.u32be();
              else if (op === 4) r.bytes(3);
              else if (op === 5) r.uint(5, true);
              else r.skip(2);
            }
          } catch (e) {
            expect(e).toBeInstanceOf(SimError);
          }
        },
      ),
    );
  });
});

describe('ByteWriter', () => {
  it('writes what the reader reads (round trip)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 0xff }),
        fc.integer({ min: 0, max: 0xffff }),
        fc.integer({ min: 0, max: 0xffffff }),
        fc.integer({ min: 0, max: 0xffffffff }),
        fc.integer({ min: -0x80000000, max: 0x7fffffff }),
        fc.boolean(),
        (a, b, c, d, e, le) => {
          const w = new ByteWriter(1)
            .u8(a)
            .u16be(b)
            .u16le(b)
            .u24be(c)
            .u24le(c)
            .u32be(d)
            .u32le(d)
            .int(e, 4, le);
          const r = new ByteReader(w.toBuffer());
          expect([
            r.u8(),
            r.u16be(),
            r.u16le(),
            r.u24be(),
            r.u24le(),
            r.u32be(),
            r.u32le(),
            r.int(4, le),
          ]).toEqual([a, b, b, c, c, d, d, e]);
          r.expectEnd();
        },
      ),
    );
  });

  it('refuses out-of-range values with EncodeInvalid', () => {
    expect(() => new ByteWriter().u8(256)).toThrow(
      expect.objectContaining({ code: ErrorCode.EncodeInvalid }),
    );
    expect(() => new ByteWriter().u16be(-1)).toThrow(SimError);
  });

  it('back-patches a length', () => {
    const w = new ByteWriter().u8(0xee).u16be(0).bytes(fromHex('aabbcc'));
    w.patchU16be(1, 3);
    expect(toHex(w.toBuffer())).toBe('ee0003aabbcc');
  });
});

describe('hex helpers', () => {
  it('accepts separators and rejects junk', () => {
    expect(toHex(fromHex('0xEE 00:01-02'))).toBe('ee000102');
    expect(() => fromHex('abc')).toThrow(SimError);
    expect(() => fromHex('zz')).toThrow(SimError);
  });
});
