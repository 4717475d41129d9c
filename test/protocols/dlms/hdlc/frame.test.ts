import { ByteReader, ByteWriter, fromHex } from '../../../../src/core/bytes';
import { crc16x25 } from '../../../../src/core/crc16';
import { ErrorCode, SimError } from '../../../../src/core/errors';
import {
  decodeFrmrInfo,
  decodeHdlcAddress,
  decodeHdlcControl,
  decodeHdlcFrame,
  decodeHdlcParameters,
  encodeFrmrInfo,
  encodeHdlcAddress,
  encodeHdlcControl,
  encodeHdlcFrame,
  encodeHdlcParameters,
  FrmrReason,
  hdlcClient,
  hdlcFrame,
  hdlcServer,
  HDLC_DEFAULT_PARAMETERS,
  negotiateAsClient,
  negotiateAsServer,
  parseHdlcFrame,
  stripLlc,
  addLlc,
  segmentInfo,
  type HdlcAddress,
  type HdlcControl,
} from '../../../../src/protocols/dlms/hdlc';
import * as V from './vectors';

const addr = (hex: string): HdlcAddress => decodeHdlcAddress(new ByteReader(fromHex(hex)), 'a');
const addrHex = (a: HdlcAddress): string => encodeHdlcAddress(a, new ByteWriter()).toBuffer().toString('hex');

describe('HDLC addresses (dlms.md §2 "Addresses")', () => {
  it.each([
    ['21', { logical: 16, size: 1 }], // client 16 (public)
    ['03', { logical: 1, size: 1 }], // client 1 (management) / server 1, 1 octet
    ['0223', { logical: 1, physical: 17, size: 2 }], // server 1/17
    ['0257', { logical: 1, physical: 43, size: 2 }], // server 1/43 (TOH)
    ['00020023', { logical: 1, physical: 17, size: 4 }], // server 1/17, 4 octets
    ['00022c29', { logical: 1, physical: 2836, size: 4 }], // server 1/2836 (u9n#95) [V]
  ])('%s <-> %j', (hex, expected) => {
    expect(addr(hex)).toEqual(expected);
    expect(addrHex(expected as HdlcAddress)).toBe(hex);
  });

  it('picks the smallest form and refuses 3 or 5 octets', () => {
    expect(hdlcServer(1)).toEqual({ logical: 1, size: 1 });
    expect(hdlcServer(1, 17)).toEqual({ logical: 1, physical: 17, size: 2 });
    expect(hdlcServer(1, 2836)).toEqual({ logical: 1, physical: 2836, size: 4 });
    expect(hdlcClient(16)).toEqual({ logical: 16, size: 1 });
    expect(() => addr('020223')).toThrow(/3 octets/);
    expect(() => addr('0202020203')).toThrow(/longer than 4/);
    expect(() => addr('0202')).toThrow(SimError);
    expect(() => addrHex({ logical: 200, physical: 1, size: 2 })).toThrow(/2-octet/);
  });
});

describe('HDLC control octet (dlms.md §2 "Control byte")', () => {
  it.each<[number, HdlcControl]>([
    [0x93, { type: 'SNRM', pf: true }],
    [0x73, { type: 'UA', pf: true }],
    [0x53, { type: 'DISC', pf: true }],
    [0x1f, { type: 'DM', pf: true }],
    [0x97, { type: 'FRMR', pf: true }],
    [0x13, { type: 'UI', pf: true }],
    [0x03, { type: 'UI', pf: false }],
    [0x51, { type: 'RR', nr: 2, pf: true }],
    [0x55, { type: 'RNR', nr: 2, pf: true }],
    [0x10, { type: 'I', ns: 0, nr: 0, pf: true }],
  ])('0x%s', (byte, control) => {
    expect(decodeHdlcControl(byte)).toEqual(control);
    expect(encodeHdlcControl(control)).toBe(byte);
  });

  it('follows the documented sequence 10 -> 30 -> 32 -> 52 -> 54 -> 74 (U9N; TOH)', () => {
    const seq = [0x10, 0x30, 0x32, 0x52, 0x54, 0x74].map((b) => decodeHdlcControl(b));
    expect(seq.map((c) => (c.type === 'I' ? [c.ns, c.nr] : null))).toEqual([
      [0, 0], // client I
      [0, 1], // server I
      [1, 1], // client I
      [1, 2], // server I
      [2, 2], // client I
      [2, 3], // server I
    ]);
  });

  it('refuses REJ and unknown U frames with a coded error', () => {
    for (const b of [0x09, 0x0d, 0x2f, 0xe3]) {
      expect(() => decodeHdlcControl(b)).toThrow(expect.objectContaining({ code: ErrorCode.DecodeInvalid }));
    }
  });
});

describe('HDLC frames: every [V] vector decodes, and re-encodes to the same bytes', () => {
  const cases: [string, Buffer, Partial<ReturnType<typeof decodeHdlcFrame>>][] = [
    ['SNRM', V.SNRM, { dest: hdlcServer(1, 17), src: hdlcClient(16), control: { type: 'SNRM', pf: true } }],
    ['UA with parameters', V.UA_WITH_PARAMS, { dest: hdlcClient(16), src: hdlcServer(1, 17) }],
    [
      'UA without parameters',
      V.UA_NO_PARAMS,
      { dest: hdlcClient(16), src: hdlcServer(1), control: { type: 'UA', pf: true } },
    ],
    ['AARQ', V.AARQ_FRAME, { control: { type: 'I', ns: 0, nr: 0, pf: true }, segmented: false }],
    ['AARE', V.AARE_FRAME, { control: { type: 'I', ns: 0, nr: 1, pf: true } }],
    [
      'GET object_list',
      V.GET_OBJECT_LIST,
      { dest: hdlcServer(1, 43), control: { type: 'I', ns: 1, nr: 1, pf: true } },
    ],
    [
      'GET block 1',
      V.GET_BLOCK_1,
      { src: hdlcServer(1, 43), control: { type: 'I', ns: 1, nr: 2, pf: true } },
    ],
    ['GET-NEXT 1', V.GET_NEXT_1, { control: { type: 'I', ns: 2, nr: 2, pf: true } }],
    ['last block', V.GET_LAST_BLOCK, { control: { type: 'I', ns: 3, nr: 4, pf: true } }],
    ['RR', V.RR, { dest: hdlcServer(1), src: hdlcClient(16), control: { type: 'RR', nr: 2, pf: true } }],
    ['DISC', V.DISC, { dest: hdlcServer(1), src: hdlcClient(16), control: { type: 'DISC', pf: true } }],
    ['FRMR', V.FRMR, { dest: hdlcClient(1), src: hdlcServer(1, 2836), control: { type: 'FRMR', pf: true } }],
  ];
  it.each(cases)('%s', (_name, raw, expected) => {
    const f = decodeHdlcFrame(raw);
    expect(f).toMatchObject(expected);
    expect(encodeHdlcFrame(f).toString('hex')).toBe(raw.toString('hex'));
  });

  it('carries the §8 APDUs behind the LLC headers', () => {
    expect(stripLlc(decodeHdlcFrame(V.AARQ_FRAME).info, 'request')).toEqual(V.AARQ_APDU);
    expect(V.AARQ_APDU.subarray(0, 2).toString('hex')).toBe('601d');
    expect(stripLlc(decodeHdlcFrame(V.AARE_FRAME).info, 'response').subarray(0, 2).toString('hex')).toBe(
      '6129',
    );
    expect(stripLlc(decodeHdlcFrame(V.GET_OBJECT_LIST).info, 'request').toString('hex')).toBe(
      'c001c1000f0000280000ff0200',
    );
    expect(stripLlc(decodeHdlcFrame(V.GET_NEXT_1).info, 'request').toString('hex')).toBe('c002c100000001');
  });

  it('generates SNRM, UA and an AARQ frame from fields', () => {
    expect(encodeHdlcFrame(hdlcFrame(hdlcServer(1, 17), hdlcClient(16), { type: 'SNRM', pf: true }))).toEqual(
      V.SNRM,
    );
    const ua = encodeHdlcParameters(
      { maxInfoTx: 154, maxInfoRx: 154, windowTx: 1, windowRx: 1 },
      { omitDefaults: false },
    );
    expect(
      encodeHdlcFrame(hdlcFrame(hdlcClient(16), hdlcServer(1, 17), { type: 'UA', pf: true }, ua)),
    ).toEqual(V.UA_WITH_PARAMS);
    const aarq = hdlcFrame(
      hdlcServer(1, 17),
      hdlcClient(16),
      { type: 'I', ns: 0, nr: 0, pf: true },
      addLlc(V.AARQ_APDU, 'request'),
    );
    expect(encodeHdlcFrame(aarq)).toEqual(V.AARQ_FRAME);
  });

  it('sets the segmentation bit: format A8.. (dlms.md §2 "Segmentation")', () => {
    const f = hdlcFrame(
      hdlcClient(16),
      hdlcServer(1),
      { type: 'I', ns: 1, nr: 2, pf: true },
      Buffer.alloc(80, 1),
      true,
    );
    const raw = encodeHdlcFrame(f);
    expect(raw[1]! & 0xf8).toBe(0xa8);
    expect(decodeHdlcFrame(raw).segmented).toBe(true);
  });

  it('reports FCS, HCS, length and flag faults as coded errors with a path', () => {
    const badFcs = Buffer.from(V.DISC);
    badFcs[5] = badFcs[5]! ^ 0xff;
    expect(() => decodeHdlcFrame(badFcs)).toThrow(
      expect.objectContaining({
        code: ErrorCode.FrameCrc,
        context: expect.objectContaining({ path: 'HdlcFrame.fcs' }),
      }),
    );
    // Corrupt the HCS and repair the FCS so only the header check fails.
    const badHcs = Buffer.from(V.AARQ_FRAME);
    badHcs[7] = badHcs[7]! ^ 0x01;
    badHcs.writeUInt16LE(crc16x25(badHcs, 1, badHcs.length - 3), badHcs.length - 3);
    const p = parseHdlcFrame(badHcs);
    expect(p.error).toMatchObject({ code: ErrorCode.FrameCrc, context: { path: 'HdlcFrame.hcs' } });
    expect(p.dest).toEqual(hdlcServer(1, 17));
    expect(p.controlByte).toBe(0x10);
    expect(() => decodeHdlcFrame(V.DISC.subarray(0, 8))).toThrow(
      expect.objectContaining({ code: ErrorCode.FrameLength }),
    );
    const badType = Buffer.from(V.DISC);
    badType[1] = 0xb0;
    expect(() => decodeHdlcFrame(badType)).toThrow(
      expect.objectContaining({ code: ErrorCode.DecodeInvalid }),
    );
  });

  it('reports an unknown control octet with the addresses still readable (for FRMR W)', () => {
    const raw = encodeHdlcFrame(hdlcFrame(hdlcServer(1), hdlcClient(16), { type: 'DISC', pf: true }));
    raw[5] = 0x19; // REJ: not used by DLMS HDLC
    raw.writeUInt16LE(crc16x25(raw, 1, 6), 6);
    const p = parseHdlcFrame(raw);
    expect(p.frame).toBeUndefined();
    expect(p.badControl).toBe(true);
    expect(p.controlByte).toBe(0x19);
    expect(p.src).toEqual(hdlcClient(16));
  });

  it('refuses an info field that does not fit the 11-bit length', () => {
    const f = hdlcFrame(
      hdlcServer(1),
      hdlcClient(16),
      { type: 'I', ns: 0, nr: 0, pf: true },
      Buffer.alloc(2040),
    );
    expect(() => encodeHdlcFrame(f)).toThrow(expect.objectContaining({ code: ErrorCode.EncodeTooLarge }));
  });
});

describe('SNRM/UA parameters (dlms.md §2 "SNRM/UA negotiation")', () => {
  it('decodes the U9N UA info and the two-octet example', () => {
    expect(decodeHdlcParameters(decodeHdlcFrame(V.UA_WITH_PARAMS).info)).toEqual({
      maxInfoTx: 154,
      maxInfoRx: 154,
      windowTx: 1,
      windowRx: 1,
    });
    // knogi gist: 81 80 14 | 05 02 07EE | 06 02 07EE | 07 04 00000001 | 08 04 00000001
    const twoOctet = fromHex('818014 050207EE 060207EE 070400000001 080400000001');
    expect(decodeHdlcParameters(twoOctet)).toEqual({
      maxInfoTx: 2030,
      maxInfoRx: 2030,
      windowTx: 1,
      windowRx: 1,
    });
    expect(encodeHdlcParameters(decodeHdlcParameters(twoOctet), { omitDefaults: false })).toEqual(twoOctet);
  });

  it('treats an empty info field as the defaults and omits defaults when encoding', () => {
    expect(decodeHdlcParameters(Buffer.alloc(0))).toEqual(HDLC_DEFAULT_PARAMETERS);
    expect(encodeHdlcParameters(HDLC_DEFAULT_PARAMETERS).length).toBe(0);
    expect(encodeHdlcParameters(HDLC_DEFAULT_PARAMETERS, { omitDefaults: false }).toString('hex')).toBe(
      '818012' + '050180' + '060180' + '070400000001' + '080400000001',
    );
    // one value: one-octet, only the non-default one
    expect(encodeHdlcParameters({ ...HDLC_DEFAULT_PARAMETERS, maxInfoRx: 512 }).toString('hex')).toBe(
      '81800406020200',
    );
  });

  it('reads 1, 2 and 4 octet values and skips unknown ids', () => {
    expect(decodeHdlcParameters(fromHex('81800d 0501ff 09021234 06040000012c'))).toEqual({
      ...HDLC_DEFAULT_PARAMETERS,
      maxInfoTx: 255,
      maxInfoRx: 300,
    });
  });

  it('refuses malformed fields with a path', () => {
    expect(() => decodeHdlcParameters(fromHex('828003050180'))).toThrow(/formatId/);
    expect(() => decodeHdlcParameters(fromHex('818003050580'))).toThrow(/length 5/);
    expect(() => decodeHdlcParameters(fromHex('818004050180'))).toThrow(
      expect.objectContaining({ code: ErrorCode.DecodeTruncated }),
    );
    expect(() => decodeHdlcParameters(fromHex('81800305018000'))).toThrow(
      expect.objectContaining({ code: ErrorCode.DecodeTrailingBytes }),
    );
  });

  it('negotiates from each side with the UA in the server view', () => {
    // Client can receive 512 and send 256; server limits 1024/200.
    const snrm = { maxInfoTx: 256, maxInfoRx: 512, windowTx: 7, windowRx: 7 };
    const server = negotiateAsServer({ maxInfoTx: 1024, maxInfoRx: 200, windowTx: 1, windowRx: 1 }, snrm);
    expect(server).toEqual({ maxInfoTx: 512, maxInfoRx: 200, windowTx: 1, windowRx: 1 });
    // The client reads the UA: server TX (512) is its RX, server RX (200) its TX.
    expect(negotiateAsClient(snrm, server)).toEqual({
      maxInfoTx: 200,
      maxInfoRx: 512,
      windowTx: 1,
      windowRx: 1,
    });
    expect(() => negotiateAsServer(HDLC_DEFAULT_PARAMETERS, { ...snrm, maxInfoRx: 0 })).toThrow(
      expect.objectContaining({ code: ErrorCode.LinkRejected }),
    );
  });
});

describe('LLC and segmentation', () => {
  it('adds and strips E6 E6 00 / E6 E7 00', () => {
    const apdu = fromHex('c001c1000100002b0100ff0200');
    expect(addLlc(apdu, 'request').toString('hex')).toBe('e6e600' + apdu.toString('hex'));
    expect(addLlc(apdu, 'response').toString('hex')).toBe('e6e700' + apdu.toString('hex'));
    expect(stripLlc(addLlc(apdu, 'response'), 'response')).toEqual(apdu);
    expect(stripLlc(apdu, 'response')).toEqual(apdu);
  });

  it('cuts into max-info pieces', () => {
    const data = Buffer.alloc(300, 7);
    expect(segmentInfo(data, 128).map((s) => s.length)).toEqual([128, 128, 44]);
    expect(segmentInfo(Buffer.alloc(0), 128).map((s) => s.length)).toEqual([0]);
  });
});

describe('FRMR info (modelled reason bits, frmr.ts)', () => {
  it('reads the u9n#95 FRMR as "invalid N(S)" on an I frame with N(S)=2 at V(R)=0', () => {
    const info = decodeFrmrInfo(decodeHdlcFrame(V.FRMR).info);
    expect(info).toEqual({ rejectedControl: 0x54, vs: 0, vr: 0, response: false, reasons: FrmrReason.V });
    expect(decodeHdlcControl(info.rejectedControl)).toEqual({ type: 'I', ns: 2, nr: 2, pf: true });
    expect(encodeFrmrInfo(info).toString('hex')).toBe('540010');
    expect(
      encodeFrmrInfo({ rejectedControl: 0x32, vs: 3, vr: 5, response: true, reasons: FrmrReason.Z }).toString(
        'hex',
      ),
    ).toBe('32b608');
  });
});
