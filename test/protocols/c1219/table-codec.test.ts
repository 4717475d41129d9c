import { fromHex, toHex } from '../../../src/core/bytes';
import { ErrorCode, SimError } from '../../../src/core/errors';
import { mt } from '../../../src/protocols/c1219/contract';
import {
  type CodecContext,
  type TableLayout,
  DEFAULT_CODEC_CONTEXT,
  layoutSize,
  validateLayout,
} from '../../../src/protocols/c1219/field-types';
import {
  decodeLtime,
  encodeLtime,
  ltimeFromEpochMs,
  ltimeToEpochMs,
} from '../../../src/protocols/c1219/ltime';
import { decodeTable, encodeTable } from '../../../src/protocols/c1219/table-codec';
import { ByteReader, ByteWriter } from '../../../src/core/bytes';

const LE: CodecContext = { ...DEFAULT_CODEC_CONTEXT, dataOrder: 'little' };
const BE: CodecContext = { ...DEFAULT_CODEC_CONTEXT, dataOrder: 'big' };

/** A manufacturer table using every field type once (a modelled layout, not a real meter's). */
const ALL_TYPES: TableLayout = {
  id: mt(1),
  name: 'MT1',
  fields: [
    { name: 'U16', type: 'UINT16' },
    { name: 'U24', type: 'UINT24' },
    { name: 'I16', type: 'INT16' },
    { name: 'FLAG', type: 'BOOL' },
    { name: 'NAME', type: 'STRING', size: 4 },
    { name: 'DIGITS', type: 'BCD', size: 2 },
    { name: 'ITEMS', type: 'SET', size: 2 },
    { name: 'PAD', type: 'FILL', size: 1 },
    {
      name: 'NIBBLES',
      type: 'UINT8',
      bits: [
        { name: 'LO', shift: 0, width: 4 },
        { name: 'HI', shift: 4, width: 4 },
      ],
    },
    { name: 'LIST', type: 'UINT8', count: 3 },
    { name: 'RAW', type: 'BINARY', size: 2 },
    { name: 'U48', type: 'UINT48' },
    { name: 'I8', type: 'INT8' },
  ],
};

const ALL_TYPES_RECORD = {
  U16: 0x1234,
  U24: 0x0a0b0c,
  I16: -2,
  FLAG: true,
  NAME: 'AB',
  DIGITS: '0219',
  ITEMS: [0, 9, 15],
  NIBBLES: { LO: 0x5, HI: 0xa },
  LIST: [1, 2, 3],
  RAW: Buffer.from([0xde, 0xad]),
  U48: 0x010203040506,
  I8: -128,
};

describe('table codec: every field type', () => {
  it('encodes little-endian as ST0 DATA_ORDER 0 says (docs/c1218.md §3)', () => {
    const bytes = encodeTable(ALL_TYPES, ALL_TYPES_RECORD, LE);
    expect(toHex(bytes)).toBe(
      [
        '3412', // U16 0x1234, low byte first
        '0c0b0a', // U24
        'feff', // I16 -2, two's complement
        '01', // FLAG true
        '41422020', // NAME "AB" padded with 0x20 to 4 chars
        '0219', // DIGITS BCD, high nibble first
        '0182', // ITEMS {0, 9, 15}: bit i of byte p = item 8p+i (docs/c1218.md §3 ST0 sets)
        '00', // PAD FILL
        'a5', // NIBBLES HI=a (b4-7), LO=5 (b0-3)
        '010203', // LIST
        'dead', // RAW
        '060504030201', // U48
        '80', // I8 -128
      ].join(''),
    );
    expect(bytes.length).toBe(layoutSize(ALL_TYPES, LE));
    expect(decodeTable(ALL_TYPES, bytes, LE)).toEqual(ALL_TYPES_RECORD);
  });

  it('encodes big-endian as ST0 DATA_ORDER 1 says; byte-wide fields do not change', () => {
    const bytes = encodeTable(ALL_TYPES, ALL_TYPES_RECORD, BE);
    expect(toHex(bytes)).toBe(
      [
        '1234', // U16
        '0a0b0c', // U24
        'fffe', // I16
        '01',
        '41422020',
        '0219',
        '0182', // SET bytes keep their order: byte p holds items 8p..8p+7
        '00',
        'a5',
        '010203',
        'dead',
        '010203040506', // U48
        '80',
      ].join(''),
    );
    expect(decodeTable(ALL_TYPES, bytes, BE)).toEqual(ALL_TYPES_RECORD);
  });

  it('packs bit fields of multi-byte integers in device byte order (TABLE_IDB_BFLD of MP70)', () => {
    const layout: TableLayout = {
      id: 7,
      name: 'IDB',
      fields: [
        {
          name: 'IDB',
          type: 'UINT16',
          bits: [
            { name: 'N', shift: 0, width: 11 },
            { name: 'MFG', shift: 11, width: 1 },
            { name: 'SEL', shift: 12, width: 4 },
          ],
        },
      ],
    };
    // docs/c1218.md §3: T's set_meter_id writes 46 08 ... = 0x0846 -> MP70, little-endian.
    expect(decodeTable(layout, fromHex('46 08'), LE)).toEqual({ IDB: { N: 70, MFG: 1, SEL: 0 } });
    expect(toHex(encodeTable(layout, { IDB: { N: 70, MFG: 1, SEL: 3 } }, BE))).toBe('3846');
  });

  it('supports nested repeated groups (ST42-style) with paths in errors', () => {
    const layout: TableLayout = {
      id: 42,
      name: 'SECURITY_TBL',
      fields: [
        {
          name: 'PASSWORDS',
          count: 2,
          group: [
            { name: 'PASSWORD', type: 'BINARY', size: 2 },
            { name: 'ACCESS_PERMISSIONS', type: 'UINT8' },
          ],
        },
      ],
    };
    const rec = {
      PASSWORDS: [
        { PASSWORD: Buffer.from('ab'), ACCESS_PERMISSIONS: 1 },
        { PASSWORD: Buffer.from('cd'), ACCESS_PERMISSIONS: 0x80 },
      ],
    };
    const bytes = encodeTable(layout, rec, LE);
    expect(toHex(bytes)).toBe('616201' + '636480');
    expect(decodeTable(layout, bytes, LE)).toEqual(rec);
    let err: unknown;
    try {
      decodeTable(layout, bytes.subarray(0, 4), LE);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(SimError);
    expect((err as SimError).code).toBe(ErrorCode.DecodeTruncated);
    expect((err as SimError).context['path']).toBe('SECURITY_TBL.PASSWORDS[1].PASSWORD');
  });

  it('takes the remaining bytes into a rest field (ST7 PARM)', () => {
    const layout: TableLayout = {
      id: 7,
      name: 'T',
      fields: [
        { name: 'H', type: 'UINT8' },
        { name: 'REST', type: 'BINARY', rest: true },
      ],
    };
    expect(decodeTable(layout, fromHex('01 02 03'), LE)).toEqual({ H: 1, REST: fromHex('0203') });
    expect(decodeTable(layout, fromHex('01'), LE)).toEqual({ H: 1, REST: Buffer.alloc(0) });
    expect(toHex(encodeTable(layout, { H: 9, REST: fromHex('aabbcc') }, LE))).toBe('09aabbcc');
  });
});

describe('table codec: strings by CHAR_FORMAT', () => {
  const layout: TableLayout = { id: 5, name: 'S', fields: [{ name: 'S', type: 'STRING', size: 6 }] };
  const latin1: CodecContext = { ...LE, charFormat: 2 };

  it('ISO 646 accepts 7-bit text only, both ways', () => {
    expect(toHex(encodeTable(layout, { S: 'Ab1' }, LE))).toBe('416231202020');
    expect(() => encodeTable(layout, { S: 'café' }, LE)).toThrow(
      expect.objectContaining({
        code: ErrorCode.EncodeInvalid,
        context: expect.objectContaining({ path: 'S.S' }),
      }),
    );
    expect(() => decodeTable(layout, fromHex('41 e9 20 20 20 20'), LE)).toThrow(
      expect.objectContaining({ code: ErrorCode.DecodeInvalid }),
    );
  });

  it('Latin-1 carries 8-bit characters', () => {
    const bytes = encodeTable(layout, { S: 'café' }, latin1);
    expect(toHex(bytes)).toBe('636166e92020');
    expect(decodeTable(layout, bytes, latin1)).toEqual({ S: 'café' });
  });

  it('rejects text longer than the field and strips only the 0x20 pad', () => {
    expect(() => encodeTable(layout, { S: '1234567' }, LE)).toThrow(/exceed the field size 6/);
    // A NUL inside the field is data, not pad.
    expect(decodeTable(layout, fromHex('41 00 20 20 20 20'), LE)).toEqual({ S: 'A\u0000' });
  });
});

describe('table codec: encode refuses values that do not fit, naming the field', () => {
  const cases: [string, Record<string, unknown>, RegExp][] = [
    ['U16 too big', { U16: 0x10000 }, /MT1\.U16: 65536 out of range 0\.\.65535/],
    ['INT8 too small', { I8: -129 }, /MT1\.I8: -129 out of range/],
    ['BCD with a letter', { DIGITS: '02a9' }, /MT1\.DIGITS: BCD\(2\)/],
    ['BCD too short', { DIGITS: '219' }, /MT1\.DIGITS: BCD\(2\)/],
    ['SET item past the end', { ITEMS: [16] }, /MT1\.ITEMS: item 16 outside 0\.\.15/],
    ['bit sub-field too wide', { NIBBLES: { LO: 16, HI: 0 } }, /MT1\.NIBBLES\.LO: not an integer 0\.\.15/],
    ['array of the wrong length', { LIST: [1, 2] }, /MT1\.LIST: needs an array of 3/],
    ['BINARY of the wrong length', { RAW: Buffer.alloc(3) }, /MT1\.RAW: BINARY\(2\) got 3/],
    ['BOOL given a number', { FLAG: 1 }, /MT1\.FLAG: BOOL needs a boolean/],
    ['missing field', { U24: undefined }, /MT1\.U24: missing/],
  ];
  it.each(cases)('%s', (_name, patch, message) => {
    const rec = { ...ALL_TYPES_RECORD, ...patch } as Record<string, unknown>;
    let err: unknown;
    try {
      encodeTable(ALL_TYPES, rec as never, LE);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(SimError);
    expect((err as SimError).code).toBe(ErrorCode.EncodeInvalid);
    expect((err as SimError).message).toMatch(message);
  });
});

describe('table codec: decode failures are coded', () => {
  it('bad BCD nibble -> DecodeInvalid with path', () => {
    const layout: TableLayout = { id: 1, name: 'T', fields: [{ name: 'SERIAL', type: 'BCD', size: 2 }] };
    expect(() => decodeTable(layout, fromHex('12 3f'), LE)).toThrow(
      expect.objectContaining({
        code: ErrorCode.DecodeInvalid,
        context: expect.objectContaining({ path: 'T.SERIAL' }),
      }),
    );
  });

  it('extra bytes -> DecodeTrailingBytes', () => {
    const layout: TableLayout = { id: 1, name: 'T', fields: [{ name: 'A', type: 'UINT8' }] };
    expect(() => decodeTable(layout, fromHex('01 02'), LE)).toThrow(
      expect.objectContaining({ code: ErrorCode.DecodeTrailingBytes }),
    );
  });

  it('does not mutate its input and returns copies of BINARY fields', () => {
    const input = fromHex('dead');
    const layout: TableLayout = { id: 1, name: 'T', fields: [{ name: 'B', type: 'BINARY', size: 2 }] };
    const rec = decodeTable(layout, input, LE);
    (rec['B'] as Buffer)[0] = 0;
    expect(toHex(input)).toBe('dead');
  });
});

describe('validateLayout', () => {
  const bad: [string, TableLayout, RegExp][] = [
    [
      'duplicate names',
      {
        id: 1,
        name: 'T',
        fields: [
          { name: 'A', type: 'UINT8' },
          { name: 'A', type: 'UINT8' },
        ],
      },
      /duplicate/,
    ],
    [
      'STRING without size',
      { id: 1, name: 'T', fields: [{ name: 'S', type: 'STRING' }] },
      /needs an integer size/,
    ],
    [
      'bits on INT',
      { id: 1, name: 'T', fields: [{ name: 'X', type: 'INT8', bits: [{ name: 'a', shift: 0, width: 1 }] }] },
      /UINT types only/,
    ],
    [
      'overlapping bits',
      {
        id: 1,
        name: 'T',
        fields: [
          {
            name: 'X',
            type: 'UINT16',
            bits: [
              { name: 'a', shift: 0, width: 9 },
              { name: 'b', shift: 8, width: 2 },
            ],
          },
        ],
      },
      /overlaps/,
    ],
    [
      'bits past the width',
      { id: 1, name: 'T', fields: [{ name: 'X', type: 'UINT8', bits: [{ name: 'a', shift: 6, width: 3 }] }] },
      /does not fit in 8 bits/,
    ],
    [
      'rest not last',
      {
        id: 1,
        name: 'T',
        fields: [
          { name: 'R', type: 'BINARY', rest: true },
          { name: 'A', type: 'UINT8' },
        ],
      },
      /last top-level/,
    ],
    [
      'unknown type',
      { id: 1, name: 'T', fields: [{ name: 'X', type: 'FLOAT64' as never }] },
      /unknown type FLOAT64/,
    ],
  ];
  it.each(bad)('rejects %s with ConfigInvalid', (_n, layout, message) => {
    expect(() => validateLayout(layout)).toThrow(expect.objectContaining({ code: ErrorCode.ConfigInvalid }));
    expect(() => validateLayout(layout)).toThrow(message);
  });

  it('accepts a 48-bit bit field using the top bits', () => {
    expect(() =>
      validateLayout({
        id: 1,
        name: 'T',
        fields: [
          {
            name: 'X',
            type: 'UINT48',
            bits: [
              { name: 'top', shift: 40, width: 8 },
              { name: 'low', shift: 0, width: 40 },
            ],
          },
        ],
      }),
    ).not.toThrow();
  });
});

describe('LTIME by TM_FORMAT (docs/c1218.md §3)', () => {
  const t = { year: 2026, month: 3, day: 15, hour: 12, minute: 34, second: 56 };
  const vectors: [number, 'little' | 'big', string][] = [
    // 1: BCD YY MM DD hh mm ss
    [1, 'little', '26 03 15 12 34 56'],
    // 2: UINT8 YY MM DD hh mm ss
    [2, 'little', '1a 03 0f 0c 22 38'],
    // 3: UINT32 minutes since 1970 (29559634 = 0x01c30b52) + UINT8 seconds (56)
    [3, 'little', '52 0b c3 01 38'],
    [3, 'big', '01 c3 0b 52 38'],
    // 4: UINT32 seconds since 1970 (1773578096 = 0x69b6a770)
    [4, 'little', '70 a7 b6 69'],
    [4, 'big', '69 b6 a7 70'],
  ];
  it.each(vectors)('TM_FORMAT %i %s-endian', (tm, order, hex) => {
    const ctx: CodecContext = { ...LE, tmFormat: tm as CodecContext['tmFormat'], dataOrder: order };
    const w = new ByteWriter();
    encodeLtime(w, t, ctx, 'T');
    expect(toHex(w.toBuffer())).toBe(hex.replace(/ /g, ''));
    expect(decodeLtime(new ByteReader(fromHex(hex)), ctx, 'T')).toEqual(t);
  });

  it('windows two-digit years like termineter: 90..99 -> 19xx, 00..89 -> 20xx', () => {
    const ctx: CodecContext = { ...LE, tmFormat: 2 };
    expect(decodeLtime(new ByteReader(fromHex('63 01 01 00 00 00')), ctx, 'T').year).toBe(1999);
    expect(decodeLtime(new ByteReader(fromHex('59 01 01 00 00 00')), ctx, 'T').year).toBe(2089);
    const w = new ByteWriter();
    expect(() => encodeLtime(w, { ...t, year: 2090 }, ctx, 'T')).toThrow(/two-digit window/);
    expect(() => decodeLtime(new ByteReader(fromHex('64 01 01 00 00 00')), ctx, 'T')).toThrow(
      expect.objectContaining({ code: ErrorCode.DecodeInvalid }),
    );
  });

  it('formats 3/4 refuse a non-existent date; 1/2 carry discrete fields as sent', () => {
    const w = new ByteWriter();
    expect(() => encodeLtime(w, { ...t, month: 2, day: 30 }, { ...LE, tmFormat: 4 }, 'T')).toThrow(
      /not a valid calendar date-time/,
    );
    // An all-zero LTIME (a meter's "unset") decodes in format 2 without inventing a date.
    expect(decodeLtime(new ByteReader(fromHex('00 00 00 00 00 00')), { ...LE, tmFormat: 2 }, 'T')).toEqual({
      year: 2000,
      month: 0,
      day: 0,
      hour: 0,
      minute: 0,
      second: 0,
    });
  });

  it('converts to and from epoch ms', () => {
    expect(ltimeFromEpochMs(Date.UTC(2026, 2, 15, 12, 34, 56, 789))).toEqual(t);
    expect(ltimeToEpochMs(t)).toBe(Date.UTC(2026, 2, 15, 12, 34, 56));
    expect(ltimeToEpochMs({ ...t, month: 13 })).toBeNaN();
  });
});
