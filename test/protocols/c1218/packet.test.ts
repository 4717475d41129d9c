import fc from 'fast-check';
import { crc16x25 } from '../../../src/core/crc16';
import { ErrorCode, SimError } from '../../../src/core/errors';
import {
  ctrlFor,
  decodePacket,
  encodePacket,
  encodePacketValue,
  isFirst,
  isMulti,
  toggleOf,
  wireCrc,
} from '../../../src/protocols/c1218/packet';
import {
  IDENT_PACKET,
  IDENT_RESPONSE_PACKET,
  LOGON_PACKET,
  NEGOTIATE_PACKET,
  OK_RESPONSE_PACKET,
  PARTIAL_WRITE_ST5_PACKET,
  READ_MT1_PACKET,
  READ_ST8_PACKET,
  SECURITY_PACKET,
  ST7_SP3_PACKET,
  TERMINATE_PACKET,
  bytes,
} from './vectors';

/** Every complete packet in docs/c1218.md: parse, regenerate, compare byte for byte. */
const VECTORS: [string, number[], { ctrl: number; seq: number; crc: number; data: string }][] = [
  ['Ident (§1.3 [O])', IDENT_PACKET, { ctrl: 0x00, seq: 0, crc: 0x1013, data: '20' }],
  ['Terminate (§1.3)', TERMINATE_PACKET, { ctrl: 0x00, seq: 0, crc: 0x019a, data: '21' }],
  ['OK response (§1.3)', OK_RESPONSE_PACKET, { ctrl: 0x00, seq: 0, crc: 0x3111, data: '00' }],
  ['Ident response (§6)', IDENT_RESPONSE_PACKET, { ctrl: 0x00, seq: 0, crc: 0xb5c6, data: '0000010000' }],
  ['Negotiate (§6)', NEGOTIATE_PACKET, { ctrl: 0x20, seq: 0, crc: 0xdd24, data: '6102000206' }],
  ['Logon (§6)', LOGON_PACKET, { ctrl: 0x00, seq: 0, crc: 0x3576, data: '50000030303030202020202020' }],
  ['Security (§6)', SECURITY_PACKET, { ctrl: 0x20, seq: 0, crc: 0xa227, data: '51' + '00'.repeat(20) }],
  ['Read MT1 (§6)', READ_MT1_PACKET, { ctrl: 0x00, seq: 0, crc: 0xc395, data: '300801' }],
  [
    'Partial write ST5 (§6)',
    PARTIAL_WRITE_ST5_PACKET,
    { ctrl: 0, seq: 0, crc: 0x3df4, data: '4f000500000000054142434445b1' },
  ],
  ['ST7 SP3 (§6)', ST7_SP3_PACKET, { ctrl: 0x00, seq: 0, crc: 0x2f47, data: '40000700040300bb0042' }],
  ['Read ST8 (§6)', READ_ST8_PACKET, { ctrl: 0x20, seq: 0, crc: 0xf317, data: '300008' }],
];

describe('C12.18 packet codec (docs/c1218.md §1.2, §1.3, §6)', () => {
  it.each(VECTORS)('%s parses, regenerates and round-trips', (_name, vector, expected) => {
    const wire = bytes(vector);
    const p = decodePacket(wire);
    expect(p.identity).toBe(0);
    expect(p.ctrl).toBe(expected.ctrl);
    expect(p.seq).toBe(expected.seq);
    expect(p.crc).toBe(expected.crc);
    expect(p.data.toString('hex')).toBe(expected.data);
    expect(wireCrc(wire)).toBe(expected.crc);
    expect(encodePacketValue(p).equals(wire)).toBe(true);
    expect(encodePacket(p.ctrl, p.seq, p.data).toString('hex')).toBe(wire.toString('hex'));
  });

  it('computes the CRC as X-25 over header and data, sent low byte first (§1.3)', () => {
    expect(crc16x25(Buffer.from('123456789'))).toBe(0x906e);
    const ident = encodePacket(0, 0, Buffer.of(0x20));
    expect(ident.subarray(-2)).toEqual(Buffer.of(0x13, 0x10));
  });

  it('reads the ctrl bits: multi, first, toggle (§1.2, §1.6)', () => {
    expect([isMulti(0xe0), isFirst(0xe0), toggleOf(0xe0)]).toEqual([true, true, 1]);
    expect([isMulti(0x80), isFirst(0x80), toggleOf(0x80)]).toEqual([true, false, 0]);
    expect([isMulti(0x20), isFirst(0x20), toggleOf(0x20)]).toEqual([false, false, 1]);
    expect(ctrlFor(1, true, true)).toBe(0xe0);
    expect(ctrlFor(0, true, true)).toBe(0xc0);
    expect(ctrlFor(1, true, false)).toBe(0xa0);
    expect(ctrlFor(0, false, true)).toBe(0x00);
  });

  it('rejects a bad CRC with FrameCrc and the computed value', () => {
    const wire = bytes(IDENT_PACKET);
    wire[7] = 0x14;
    let err: unknown;
    try {
      decodePacket(wire);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(SimError);
    expect((err as SimError).code).toBe(ErrorCode.FrameCrc);
    expect((err as SimError).context['computed']).toBe(0x1013);
    expect((err as SimError).context['received']).toBe(0x1014);
  });

  it('rejects a wrong start byte, truncation and trailing bytes with coded errors', () => {
    const wrongStart = bytes(IDENT_PACKET);
    wrongStart[0] = 0x55;
    expect(() => decodePacket(wrongStart)).toThrow(
      expect.objectContaining({ code: ErrorCode.DecodeInvalid }),
    );
    expect(() => decodePacket(bytes(IDENT_PACKET).subarray(0, 8))).toThrow(
      expect.objectContaining({ code: ErrorCode.DecodeTruncated }),
    );
    expect(() => decodePacket(Buffer.concat([bytes(IDENT_PACKET), Buffer.of(0)]))).toThrow(
      expect.objectContaining({ code: ErrorCode.DecodeTrailingBytes }),
    );
  });

  it('refuses to encode more than 8184 data bytes or non-byte header fields', () => {
    expect(() => encodePacket(0, 0, Buffer.alloc(8185))).toThrow(
      expect.objectContaining({ code: ErrorCode.EncodeTooLarge }),
    );
    expect(encodePacket(0, 0, Buffer.alloc(8184)).length).toBe(8192);
    expect(() => encodePacket(0x100, 0, Buffer.of(1))).toThrow(
      expect.objectContaining({ code: ErrorCode.EncodeInvalid }),
    );
  });

  it('round-trips any packet and never throws anything but SimError on any bytes (property)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 255 }),
        fc.integer({ min: 0, max: 255 }),
        fc.uint8Array({ minLength: 0, maxLength: 300 }),
        (ctrl, seq, data) => {
          const wire = encodePacket(ctrl, seq, data);
          const p = decodePacket(wire);
          expect([p.ctrl, p.seq]).toEqual([ctrl, seq]);
          expect(Buffer.from(p.data).equals(Buffer.from(data))).toBe(true);
        },
      ),
      { numRuns: 500 },
    );
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), (junk) => {
        try {
          decodePacket(junk);
        } catch (e) {
          expect(e).toBeInstanceOf(SimError);
        }
      }),
      { numRuns: 2000 },
    );
  });
});
