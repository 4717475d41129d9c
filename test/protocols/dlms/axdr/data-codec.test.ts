import fc from 'fast-check';
import { errorOf, hx, vectorChecker } from '../../../helpers/vectors';
import { isDeepStrictEqual } from 'node:util';
import { ByteReader, ByteWriter, toHex } from '../../../../src/core/bytes';
import { ErrorCode, SimError } from '../../../../src/core/errors';
import {
  axdr,
  decodeData,
  encodeData,
  expectData,
  readLength,
  writeLength,
  type Data,
} from '../../../../src/protocols/dlms/axdr';
import { dataArb } from './arbitraries';

const vector = vectorChecker<Data>((b) => decodeData(b), encodeData);

describe('A-XDR length (docs/dlms.md §5)', () => {
  it('reads 82049E as 1182 and writes it back (U9N test_get.py)', () => {
    const r = new ByteReader(hx('82 049E'));
    expect(readLength(r, 'len')).toBe(1182);
    const w = new ByteWriter();
    writeLength(w, 1182);
    expect(toHex(w.toBuffer())).toBe('82049e');
  });

  it('uses one octet below 0x80, then 81 xx, 82 xx xx, 84 xx xx xx xx', () => {
    const enc = (n: number): string => {
      const w = new ByteWriter();
      writeLength(w, n);
      return toHex(w.toBuffer());
    };
    expect(enc(0x7f)).toBe('7f');
    expect(enc(0x80)).toBe('8180');
    expect(enc(0xff)).toBe('81ff');
    expect(enc(0x100)).toBe('820100');
    expect(enc(0x10000)).toBe('8400010000');
  });

  it('accepts 83 and 84 on decode and refuses 80 and 85', () => {
    expect(readLength(new ByteReader(hx('83 000102')), 'len')).toBe(0x102);
    expect(readLength(new ByteReader(hx('84 00000003')), 'len')).toBe(3);
    expect(errorOf(() => readLength(new ByteReader(hx('80')), 'len')).code).toBe(ErrorCode.DecodeInvalid);
    expect(errorOf(() => readLength(new ByteReader(hx('85 0000000001')), 'len')).code).toBe(
      ErrorCode.DecodeInvalid,
    );
  });

  it('decodes an octet-string whose length uses the 83 form', () => {
    expect(decodeData(hx('09', '83 000003', 'AABBCC'))).toEqual(axdr.octets(hx('AABBCC')));
  });
});

describe('A-XDR vectors, one per tag (docs/dlms.md §5)', () => {
  it('double-long-unsigned 5009 (Get-Response §4.2 `C401C1 00 0600001391`)', () => {
    vector(hx('06', '00001391'), axdr.u32(5009));
  });

  it('octet-string date-time `090C07E50118FF0E303950FFC400` (Set-Request §4.2)', () => {
    vector(hx('09 0C', '07E50118FF0E303950FFC400'), axdr.octets(hx('07E50118FF0E303950FFC400')));
  });

  it('logical device name `0910 "ISK1030777764366"` (Get-Response-With-List §4.2)', () => {
    vector(
      hx('09 10', Buffer.from('ISK1030777764366').toString('hex')),
      axdr.octets(Buffer.from('ISK1030777764366')),
    );
  });

  it('capture_object_definition structure (U9N test_selective_access.py)', () => {
    vector(
      hx(
        '02 04', //             structure of 4
        '12 0008', //           class 8 (clock), long-unsigned
        '09 06 0000010000FF', // logical name 0-0:1.0.0.255
        '0F 02', //             attribute 2, integer
        '12 0000', //           data index 0, long-unsigned
      ),
      axdr.struct(axdr.u16(8), axdr.octets(hx('0000010000FF')), axdr.i8(2), axdr.u16(0)),
    );
  });

  it('every simple type', () => {
    vector(hx('00'), axdr.null());
    vector(hx('03 01'), axdr.bool(true));
    vector(hx('03 00'), axdr.bool(false));
    vector(hx('04 0A', 'C040'), axdr.bits(10, hx('C040'))); // length in bits, then ceil(10/8) = 2 octets
    vector(hx('05 FFFFFFC4'), axdr.i32(-60));
    vector(hx('0A 03 414243'), axdr.visible('ABC'));
    vector(hx('0C 02 C3A9'), axdr.utf8('é'));
    vector(hx('0D 12'), axdr.bcd(0x12));
    vector(hx('0F FF'), axdr.i8(-1));
    vector(hx('10 FFC4'), axdr.i16(-60));
    vector(hx('11 FF'), axdr.u8(255));
    vector(hx('12 0008'), axdr.u16(8));
    vector(hx('14 FFFFFFFFFFFFFFFE'), axdr.i64(-2n));
    vector(hx('15 FFFFFFFFFFFFFFFF'), axdr.u64(0xffffffffffffffffn));
    vector(hx('16 03'), axdr.enum(3));
    vector(hx('17 3FC00000'), axdr.f32(1.5));
    vector(hx('18 3FF8000000000000'), axdr.f64(1.5));
    vector(hx('19 07E50118FF0E303950FFC400'), axdr.dateTime(hx('07E50118FF0E303950FFC400')));
    vector(hx('1A 07E80B15FF'), axdr.date(hx('07E80B15FF'))); // U9N test_dlms_date_time_data.py: 2024-11-21
    vector(hx('1B 081E0F17'), axdr.time(hx('081E0F17'))); // U9N: 08:30:15.23
    vector(hx('FF'), axdr.dontCare());
  });

  it('keeps any octet of a visible-string (latin1) and treats any non-zero boolean as true', () => {
    expect(decodeData(hx('0A 02 00FF'))).toEqual(axdr.visible('\u0000\u00ff'));
    expect(decodeData(hx('03 FF'))).toEqual(axdr.bool(true));
  });

  it('an array of 1182 octets of data carries the 82 length form', () => {
    const big = axdr.octets(Buffer.alloc(1182, 0xab));
    const bytes = encodeData(big);
    expect(toHex(bytes.subarray(0, 4))).toBe('0982049e');
    expect(decodeData(bytes)).toEqual(big);
  });
});

describe('A-XDR decode limits and errors', () => {
  it('an array count of 0x7FFFFFFF fails fast with DecodeTooLarge (`01 84 7F FF FF FF`)', () => {
    const e = errorOf(() => decodeData(hx('01 84 7FFFFFFF')));
    expect(e.code).toBe(ErrorCode.DecodeTooLarge);
    expect(e.context['path']).toBe('data');
    expect(e.context['count']).toBe(0x7fffffff);
  });

  it('a count larger than the bytes left fails with DecodeTruncated before reading items', () => {
    const e = errorOf(() => decodeData(hx('02 82 FFFF'), { maxElements: 1e9 }));
    expect(e.code).toBe(ErrorCode.DecodeTruncated);
    expect(e.context['count']).toBe(0xffff);
  });

  it('a huge octet-string length fails without allocating', () => {
    expect(errorOf(() => decodeData(hx('09 84 FFFFFFFF 00'))).code).toBe(ErrorCode.DecodeTruncated);
    expect(errorOf(() => decodeData(hx('04 84 FFFFFFFF 00'))).code).toBe(ErrorCode.DecodeTruncated);
  });

  it('allows 16 nested containers by default and refuses 17 with DecodeTooDeep', () => {
    const nested = (n: number): Buffer => Buffer.concat([Buffer.from('0101'.repeat(n), 'hex'), hx('00')]);
    expect(() => decodeData(nested(16))).not.toThrow();
    const e = errorOf(() => decodeData(nested(17)));
    expect(e.code).toBe(ErrorCode.DecodeTooDeep);
    expect(e.context['path']).toBe(`data${'.items[0]'.repeat(16)}`);
  });

  it('counts every value against maxElements', () => {
    const twenty = Buffer.concat([hx('01 14'), Buffer.alloc(20, 0)]);
    expect(() => decodeData(twenty, { maxElements: 21 })).not.toThrow();
    expect(errorOf(() => decodeData(twenty, { maxElements: 20 })).code).toBe(ErrorCode.DecodeTooLarge);
  });

  it('refuses input above maxBytes', () => {
    expect(errorOf(() => decodeData(Buffer.alloc(11), { maxBytes: 10 })).code).toBe(ErrorCode.DecodeTooLarge);
  });

  it('names the failing element in the path', () => {
    const e = errorOf(() =>
      decodeData(
        hx(
          '02 02', //    structure of 2
          '00', //       [0] null
          '01 03', //    [1] array of 3
          '00 00', //        two nulls
          '12 00', //        [2] long-unsigned cut short
        ),
        undefined,
        'GetResponse.data',
      ),
    );
    expect(e.code).toBe(ErrorCode.DecodeTruncated);
    expect(e.context['path']).toBe('GetResponse.data.items[1].items[2]');
  });

  it('unknown tags, trailing bytes and empty input are coded errors', () => {
    const unknown = errorOf(() => decodeData(hx('07 00')));
    expect(unknown.code).toBe(ErrorCode.DecodeInvalid);
    expect(unknown.context['tag']).toBe(7);
    expect(errorOf(() => decodeData(hx('00 00'))).code).toBe(ErrorCode.DecodeTrailingBytes);
    expect(errorOf(() => decodeData(Buffer.alloc(0))).code).toBe(ErrorCode.DecodeTruncated);
  });

  it('never mutates its input', () => {
    const input = hx('02 02 09 03 010203 0A 01 41');
    const copy = Buffer.from(input);
    const d = decodeData(input) as unknown as { items: { value: Buffer }[] };
    d.items[0]!.value[0] = 0x99;
    expect(input.equals(copy)).toBe(true);
  });
});

describe('A-XDR encode errors carry the path', () => {
  it('out-of-range integers', () => {
    const e = errorOf(() => encodeData(axdr.struct(axdr.u8(1), axdr.array(axdr.u8(300)))));
    expect(e.code).toBe(ErrorCode.EncodeInvalid);
    expect(e.context['path']).toBe('data.items[1].items[0]');
    expect(errorOf(() => encodeData(axdr.i32(2 ** 31))).code).toBe(ErrorCode.EncodeInvalid);
    expect(errorOf(() => encodeData(axdr.u64(-1n))).code).toBe(ErrorCode.EncodeInvalid);
    expect(errorOf(() => encodeData(axdr.u16(1.5))).code).toBe(ErrorCode.EncodeInvalid);
  });

  it('malformed values', () => {
    expect(errorOf(() => encodeData(axdr.bits(9, hx('FF')))).code).toBe(ErrorCode.EncodeInvalid);
    expect(errorOf(() => encodeData(axdr.visible('€'))).code).toBe(ErrorCode.EncodeInvalid);
    expect(errorOf(() => encodeData(axdr.dateTime(hx('00')))).code).toBe(ErrorCode.EncodeInvalid);
    expect(errorOf(() => encodeData({ type: 'nope' } as unknown as Data)).code).toBe(ErrorCode.EncodeInvalid);
  });

  it('a cyclic value is refused instead of overflowing the stack', () => {
    const items: Data[] = [];
    const cyclic: Data = { type: 'array', items };
    items.push(cyclic);
    expect(errorOf(() => encodeData(cyclic)).code).toBe(ErrorCode.EncodeInvalid);
  });
});

describe('builders and expectData', () => {
  it('build the typed values the encoder expects', () => {
    expect(toHex(encodeData(axdr.struct(axdr.u16(8), axdr.octets(hx('0000010000FF')))))).toBe(
      '0202120008' + '09060000010000ff',
    );
    expect(axdr.octets(new Uint8Array([1, 2]))).toEqual({ type: 'octet-string', value: hx('0102') });
  });

  it('expectData narrows or fails with ServiceInvalidResponse and the path', () => {
    expect(expectData(axdr.u16(8), 'long-unsigned').value).toBe(8);
    const e = errorOf(() => expectData(axdr.u8(8), 'long-unsigned', 'Clock.time'));
    expect(e.code).toBe(ErrorCode.ServiceInvalidResponse);
    expect(e.context).toMatchObject({ path: 'Clock.time', expected: 'long-unsigned', actual: 'unsigned' });
  });
});

describe('A-XDR properties', () => {
  it('decode(encode(v)) equals v for random nested values', () => {
    fc.assert(
      fc.property(dataArb, (v) => {
        expect(decodeData(encodeData(v))).toEqual(v);
      }),
      { numRuns: 1000 },
    );
  });

  it('random bytes decode to a value or a coded SimError, never anything else', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 48 }), (bytes) => {
        // Plain checks instead of expect(): this runs 10,000 times.
        let v: Data;
        try {
          v = decodeData(bytes);
        } catch (e) {
          if (!(e instanceof SimError) || e.layer !== 'framing')
            throw new Error(`not a coded error: ${String(e)}`);
          return;
        }
        if (!isDeepStrictEqual(decodeData(encodeData(v)), v))
          throw new Error('re-encoding changed the value');
      }),
      { numRuns: 10000 },
    );
  });

  it('mutated valid encodings decode to a value or a coded SimError', () => {
    fc.assert(
      fc.property(dataArb, fc.nat(), fc.integer({ min: 0, max: 255 }), (v, at, byte) => {
        const bytes = Buffer.from(encodeData(v));
        bytes[at % bytes.length] = byte;
        try {
          const d = decodeData(bytes);
          expect(decodeData(encodeData(d))).toEqual(d);
        } catch (e) {
          expect(e).toBeInstanceOf(SimError);
        }
      }),
      { numRuns: 1000 },
    );
  });
});
