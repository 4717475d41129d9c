import fc from 'fast-check';
import { ByteReader, ByteWriter, fromHex, toHex } from '../../../../src/core/bytes';
import { ErrorCode } from '../../../../src/core/errors';
import {
  CONFORMANCE_BITS,
  conformance,
  conformanceFromBits,
  conformanceToBits,
  formatObis,
  intersectConformance,
  isManufacturerSpecificObis,
  isObisText,
  obisFromTuple,
  parseObis,
  readConformance,
  writeConformance,
  type ConformanceName,
} from '../../../../src/protocols/dlms/apdu';

describe('OBIS (docs/dlms.md §6)', () => {
  it('parses the canonical, shorthand and dotted forms', () => {
    expect(toHex(parseObis('0-0:1.0.0.255'))).toBe('0000010000ff'); // clock
    expect(toHex(parseObis('1-0:99.1.0'))).toBe('0100630100ff'); // F defaults to 255
    expect(toHex(parseObis('0.0.40.0.0.255'))).toBe('0000280000ff'); // GXPY / U9N print form
    expect(toHex(parseObis(' 0-1:19.0.0.255 '))).toBe('0001130000ff');
  });

  it('formats 6 octets canonically', () => {
    expect(formatObis(fromHex('00002B0100FF'))).toBe('0-0:43.1.0.255');
    expect(() => formatObis(fromHex('0000'))).toThrow(
      expect.objectContaining({ code: ErrorCode.DecodeInvalid }),
    );
  });

  it('refuses malformed codes with a coded error', () => {
    for (const bad of [
      '0-0:256.0.0.255',
      '0-0:1.0',
      'a-b:c.d.e.f',
      '0-0:1.0.0.255.1',
      '',
      '-1-0:1.0.0.255',
    ]) {
      expect(isObisText(bad)).toBe(false);
      expect(() => parseObis(bad)).toThrow(expect.objectContaining({ code: ErrorCode.EncodeInvalid }));
    }
    expect(() => obisFromTuple([0, 0, 1, 0, 0, 256])).toThrow(
      expect.objectContaining({ code: ErrorCode.EncodeInvalid }),
    );
  });

  it('spots manufacturer-specific codes: any of B..D in 128..254 (dlms.com FAQ)', () => {
    expect(isManufacturerSpecificObis(parseObis('0-0:128.0.0.255'))).toBe(true);
    expect(isManufacturerSpecificObis(parseObis('0-128:1.0.0.255'))).toBe(true);
    expect(isManufacturerSpecificObis(parseObis('0-0:1.0.0.255'))).toBe(false);
    expect(isManufacturerSpecificObis(parseObis('0-0:255.0.0.255'))).toBe(false);
  });

  it('format(parse(x)) round-trips every 6-tuple', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 6, maxLength: 6 }), (o) => {
        expect(parseObis(formatObis(o))).toEqual(Buffer.from(o));
      }),
      { numRuns: 1000 },
    );
  });
});

describe('conformance block (docs/dlms.md §4.1)', () => {
  it('`007E1F` = bits 9-14 and 19-23', () => {
    const set = conformanceFromBits(0x007e1f);
    expect([...set].sort()).toEqual(
      [
        'priority-mgmt-supported',
        'attribute0-supported-with-get',
        'block-transfer-with-get-or-read',
        'block-transfer-with-set-or-write',
        'block-transfer-with-action',
        'multiple-references',
        'get',
        'set',
        'selective-access',
        'event-notification',
        'action',
      ].sort(),
    );
    expect(conformanceToBits(set)).toBe(0x007e1f);
  });

  it('bit 0 is the MSB of the first octet', () => {
    expect(CONFORMANCE_BITS[0]).toBe('reserved-zero');
    expect(conformanceToBits(conformance('reserved-zero'))).toBe(0x800000);
    expect(conformanceToBits(conformance('action'))).toBe(0x000001);
    expect(conformanceToBits(conformance('general-protection'))).toBe(0x400000);
  });

  it('reads and writes `5F1F 04 00 xxxxxx`', () => {
    const w = new ByteWriter();
    writeConformance(w, conformanceFromBits(0x00501f));
    expect(toHex(w.toBuffer())).toBe('5f1f040000501f');
    expect(conformanceToBits(readConformance(new ByteReader(w.toBuffer()), 'conformance'))).toBe(0x00501f);
    for (const bad of ['5F20 04 00 000000', '5F1F 03 00 000000', '5F1F 04 01 000000']) {
      expect(() => readConformance(new ByteReader(fromHex(bad)), 'c')).toThrow(
        expect.objectContaining({ code: ErrorCode.DecodeInvalid }),
      );
    }
  });

  it('intersects what client and server support', () => {
    const negotiated = intersectConformance(conformanceFromBits(0x007e1f), conformanceFromBits(0x00501f));
    expect(conformanceToBits(negotiated)).toBe(0x00501f & 0x007e1f);
  });

  it('refuses unknown names', () => {
    expect(() => conformanceToBits(['bogus' as ConformanceName])).toThrow(
      expect.objectContaining({ code: ErrorCode.EncodeInvalid }),
    );
  });

  it('bits -> names -> bits is the identity on 24 bits', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 0xffffff }), (v) => {
        expect(conformanceToBits(conformanceFromBits(v))).toBe(v);
      }),
      { numRuns: 1000 },
    );
  });
});
