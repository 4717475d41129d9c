import fc from 'fast-check';
import { toHex } from '../../../../src/core/bytes';
import { ErrorCode, isSimError } from '../../../../src/core/errors';
import { axdr } from '../../../../src/protocols/dlms/axdr/builders';
import { encodeData } from '../../../../src/protocols/dlms/axdr/data-codec';
import { decodeKeyTransferParams, encodeKeyTransferParams } from '../../../../src/protocols/dlms/cosem';
import { buildKeyTransfer, openKeyTransfer } from '../../../../src/protocols/dlms/security';
import { GB } from '../server/fixture';
import { dataArb } from './arbitraries';

describe('key_transfer A-XDR binding (class 64 method 2)', () => {
  it('is array of structure {enum key_id, octet-string key_wrapped}', () => {
    const entries = buildKeyTransfer(GB.kek, [{ keyId: 0, key: GB.ek }]);
    const hex = toHex(encodeData(encodeKeyTransferParams(entries)));
    expect(hex.startsWith('0101' + '0202' + '1600' + '0918')).toBe(true);
    // array(1) structure(2) enum 0 octet-string(24): 8 header octets + the 24-byte wrapped key.
    expect(hex.length).toBe((8 + 24) * 2);
  });

  it('round-trips and opens with the master key', () => {
    const entries = buildKeyTransfer(GB.kek, [
      { keyId: 0, key: GB.ek },
      { keyId: 2, key: GB.ak },
    ]);
    const decoded = decodeKeyTransferParams(encodeKeyTransferParams(entries));
    expect(decoded).toEqual(entries.map((e) => ({ keyId: e.keyId, keyWrapped: e.keyWrapped })));
    expect(openKeyTransfer(GB.kek, decoded)).toEqual([
      { keyId: 0, key: GB.ek },
      { keyId: 2, key: GB.ak },
    ]);
  });

  it.each([
    ['not an array', axdr.u8(1), 'key_transfer'],
    ['element not a pair', axdr.array(axdr.struct(axdr.enum(0))), 'key_transfer[0]'],
    [
      'key_id not an enum',
      axdr.array(axdr.struct(axdr.u8(0), axdr.octets(Buffer.alloc(24)))),
      'key_transfer[0].key_id',
    ],
    [
      'key_id 4',
      axdr.array(axdr.struct(axdr.enum(4), axdr.octets(Buffer.alloc(24)))),
      'key_transfer[0].key_id',
    ],
    [
      'wrapped key not octets',
      axdr.array(axdr.struct(axdr.enum(1), axdr.u32(0))),
      'key_transfer[0].key_wrapped',
    ],
  ])('refuses %s with a path', (_n, d, path) => {
    expect(() => decodeKeyTransferParams(d)).toThrow(
      expect.objectContaining({ code: ErrorCode.DecodeInvalid, context: { path } }) as Error,
    );
  });

  it('random values decode or fail with a coded DecodeInvalid', () => {
    fc.assert(
      fc.property(dataArb, (d) => {
        try {
          expect(Array.isArray(decodeKeyTransferParams(d))).toBe(true);
        } catch (e) {
          expect(isSimError(e) && e.code === ErrorCode.DecodeInvalid).toBe(true);
        }
      }),
      { numRuns: 3000 },
    );
  });
});
