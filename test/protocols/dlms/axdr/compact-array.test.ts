import fc from 'fast-check';
import { errorOf, hx, vectorChecker } from '../../../helpers/vectors';
import { ErrorCode } from '../../../../src/core/errors';
import { axdr, decodeData, encodeData, type Data } from '../../../../src/protocols/dlms/axdr';
import { compactArrayArb } from './arbitraries';

/**
 * compact-array vectors. No published byte vector was found, so these are built from the Blue Book
 * TypeDescription syntax and cross-checked against the layout GXPY `_GXCommon.getCompactArray`
 * reads (description, A-XDR contents length, untagged contents).
 */

const vector = vectorChecker<Data>((b) => decodeData(b), encodeData);

describe('compact-array', () => {
  it('of unsigned: one type tag, contents length, untagged values', () => {
    vector(
      hx(
        '13', //       compact-array
        '11', //       description: unsigned
        '03', //       contents: 3 octets
        '01 02 03', // three untagged unsigned
      ),
      axdr.compactArray({ type: 'unsigned' }, [axdr.u8(1), axdr.u8(2), axdr.u8(3)]),
    );
  });

  it('of structure {long-unsigned, unsigned}', () => {
    vector(
      hx(
        '13', //          compact-array
        '02 02 12 11', // description: structure of 2 {long-unsigned, unsigned}
        '06', //          contents: 6 octets
        '0001 05', //     item 0
        '0002 06', //     item 1
      ),
      axdr.compactArray({ type: 'structure', fields: [{ type: 'long-unsigned' }, { type: 'unsigned' }] }, [
        axdr.struct(axdr.u16(1), axdr.u8(5)),
        axdr.struct(axdr.u16(2), axdr.u8(6)),
      ]),
    );
  });

  it('of octet-string: each element keeps its length prefix', () => {
    vector(
      hx(
        '13', //        compact-array
        '09', //        description: octet-string
        '05', //        contents: 5 octets
        '02 AABB', //   item 0
        '01 CC', //     item 1
      ),
      axdr.compactArray({ type: 'octet-string' }, [axdr.octets(hx('AABB')), axdr.octets(hx('CC'))]),
    );
  });

  it('of array: number-of-elements is a fixed Unsigned16', () => {
    vector(
      hx(
        '13', //            compact-array
        '01 0002 12', //    description: array of 2 long-unsigned
        '08', //            contents: 8 octets
        '0001 0002', //     item 0
        '0003 0004', //     item 1
      ),
      axdr.compactArray({ type: 'array', count: 2, element: { type: 'long-unsigned' } }, [
        axdr.array(axdr.u16(1), axdr.u16(2)),
        axdr.array(axdr.u16(3), axdr.u16(4)),
      ]),
    );
  });

  it('refuses contents that do not divide into whole elements', () => {
    const e = errorOf(() => decodeData(hx('13 12 03 0001 00')));
    expect(e.code).toBe(ErrorCode.DecodeTruncated);
    expect(e.context['path']).toBe('data.contents[1]');
  });

  it('refuses element types that take no octets, on both sides', () => {
    expect(errorOf(() => decodeData(hx('13 00 01 00'))).code).toBe(ErrorCode.DecodeInvalid);
    expect(decodeData(hx('13 00 00'))).toEqual(axdr.compactArray({ type: 'null' }, []));
    expect(errorOf(() => encodeData(axdr.compactArray({ type: 'null' }, [axdr.null()]))).code).toBe(
      ErrorCode.EncodeInvalid,
    );
  });

  it('refuses a compact-array inside a description and unknown type tags', () => {
    expect(errorOf(() => decodeData(hx('13 13 00'))).code).toBe(ErrorCode.DecodeInvalid);
    expect(errorOf(() => decodeData(hx('13 02 01 07 00'))).code).toBe(ErrorCode.DecodeInvalid);
  });

  it('bounds a hostile structure description count', () => {
    expect(errorOf(() => decodeData(hx('13 02 84 7FFFFFFF'))).code).toBe(ErrorCode.DecodeTooLarge);
  });

  it('refuses items that do not match the description on encode', () => {
    const e = errorOf(() => encodeData(axdr.compactArray({ type: 'unsigned' }, [axdr.u8(1), axdr.u16(2)])));
    expect(e.code).toBe(ErrorCode.EncodeInvalid);
    expect(e.context['path']).toBe('data[1]');
    expect(
      errorOf(() =>
        encodeData(
          axdr.compactArray({ type: 'array', count: 2, element: { type: 'unsigned' } }, [
            axdr.array(axdr.u8(1)),
          ]),
        ),
      ).code,
    ).toBe(ErrorCode.EncodeInvalid);
  });

  it('decode(encode(v)) equals v for random descriptions and items', () => {
    fc.assert(
      fc.property(compactArrayArb, (v) => {
        expect(decodeData(encodeData(v))).toEqual(v);
      }),
      { numRuns: 500 },
    );
  });
});
