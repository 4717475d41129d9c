import { fromHex, toHex } from '../../../src/core/bytes';
import { mp, mt, PsemCode } from '../../../src/protocols/c1219/contract';
import {
  DEFAULT_CODEC_CONTEXT,
  layoutSize,
  type CodecContext,
} from '../../../src/protocols/c1219/field-types';
import {
  decodeProcedureRequest,
  decodeProcedureResponse,
  encodeProcedureRequest,
  encodeProcedureResponse,
  procedureId,
} from '../../../src/protocols/c1219/procedure-codec';
import {
  contextFromGenConfig,
  decodeGenConfig,
  ST6_LAYOUT,
  ST41_LAYOUT,
  ST52_LAYOUT,
  st1Layout,
  st3Layout,
  st5Layout,
  st42Layout,
  st44Layout,
} from '../../../src/protocols/c1219/standard-layouts';
import { decodeTable, encodeTable } from '../../../src/protocols/c1219/table-codec';
import { createTableEngine, type TableEngine } from '../../../src/protocols/c1219/table-engine';
import { psemChecksum, session } from './helpers';

const LE = DEFAULT_CODEC_CONTEXT;

describe('ST1 GENERAL_MFG_ID_TBL (docs/c1218.md §3 ST1)', () => {
  const rec = {
    MANUFACTURER: 'SECU', // modelled value, the real code is not public
    ED_MODEL: 'LIB100',
    HW_VERSION_NUMBER: 1,
    HW_REVISION_NUMBER: 2,
    FW_VERSION_NUMBER: 3,
    FW_REVISION_NUMBER: 4,
  };

  it('is 32 bytes with a 16-char serial when ID_FORM = 0', () => {
    const layout = st1Layout(0);
    const bytes = encodeTable(layout, { ...rec, MFG_SERIAL_NUMBER: 'E12345' }, LE);
    expect(layoutSize(layout, LE)).toBe(32);
    expect(toHex(bytes)).toBe(
      [
        '53454355', // MANUFACTURER "SECU"
        '4c49423130302020', // ED_MODEL "LIB100" + 2 spaces
        '01', // HW_VERSION_NUMBER
        '02', // HW_REVISION_NUMBER
        '03', // FW_VERSION_NUMBER
        '04', // FW_REVISION_NUMBER
        '453132333435' + '20'.repeat(10), // MFG_SERIAL_NUMBER "E12345" padded to 16
      ].join(''),
    );
    expect(decodeTable(layout, bytes, LE)).toEqual({ ...rec, MFG_SERIAL_NUMBER: 'E12345' });
  });

  it('is 24 bytes with a BCD(8) serial when ID_FORM = 1', () => {
    const layout = st1Layout(1);
    const bytes = encodeTable(layout, { ...rec, MFG_SERIAL_NUMBER: '0000000012345678' }, LE);
    expect(bytes.length).toBe(24);
    expect(toHex(bytes.subarray(16))).toBe('0000000012345678');
  });
});

describe('fixed standard layouts have the sizes the sources give', () => {
  it.each([
    ['ST3 with 1 mfg status byte (E)', layoutSize(st3Layout(1), LE), 5],
    ['ST5 ID_FORM 0 (20 chars)', layoutSize(st5Layout(0), LE), 20],
    ['ST5 ID_FORM 1 (BCD 10)', layoutSize(st5Layout(1), LE), 10],
    ['ST6 (E): 7 x 20 + 3 x 10 + 8 + 2 x 6 + 10 + 30', layoutSize(ST6_LAYOUT, LE), 230],
    ['ST41 (T)', layoutSize(ST41_LAYOUT, LE), 6],
    ['ST42 3 x (20 + 1) (T)', layoutSize(st42Layout(3, 20), LE), 63],
    ['ST44 5 x 4 (T)', layoutSize(st44Layout(5), LE), 20],
    ['ST52 TM_FORMAT 2 (E)', layoutSize(ST52_LAYOUT, LE), 7],
    ['ST52 TM_FORMAT 4', layoutSize(ST52_LAYOUT, { ...LE, tmFormat: 4 }), 5],
  ])('%s', (_name, size, expected) => {
    expect(size).toBe(expected);
  });
});

describe('ST7 / ST8 encoding (docs/c1218.md §3, §6)', () => {
  it('decodes the ST7 data of the §6 transcript: SP3, seq 0xBB, param 00', () => {
    // Full write `40 0007 0004 03 00 BB 00 42` [O]; the table data is:
    const st7 = fromHex(
      [
        '03 00', // TABLE_IDB_BFLD little-endian: proc 3, std, selector 0
        'bb', // SEQ_NBR
        '00', // PARM
      ].join(' '),
    );
    const req = decodeProcedureRequest(st7, 'little');
    expect(req).toEqual({ procedure: 3, mfg: false, selector: 0, seq: 0xbb, params: fromHex('00') });
    expect(procedureId(req)).toBe(3);
    expect(toHex(encodeProcedureRequest(req, 'little'))).toBe('0300bb00');
    expect(psemChecksum(st7)).toBe(0x42); // the K byte of the transcript
  });

  it('decodes the MP70 request termineter set_meter_id writes: 46 08 1C 03 0B 0C 09 0F 12', () => {
    const st7 = fromHex(
      [
        '46 08', // TABLE_IDB_BFLD = 0x0846: b0-10 = 70, b11 = manufacturer, selector 0
        '1c', // SEQ_NBR
        '03 0b 0c 09 0f 12', // PARM
      ].join(' '),
    );
    const req = decodeProcedureRequest(st7, 'little');
    expect(req).toEqual({
      procedure: 70,
      mfg: true,
      selector: 0,
      seq: 0x1c,
      params: fromHex('030b0c090f12'),
    });
    expect(procedureId(req)).toBe(mp(70));
    expect(procedureId(req)).toBe(2118);
    expect(encodeProcedureRequest(req, 'little')).toEqual(st7);
    // A big-endian device puts the bit field high byte first.
    expect(toHex(encodeProcedureRequest(req, 'big'))).toBe('08461c030b0c090f12');
  });

  it('round-trips the ST8 response of the transcript: 03 00 BB 00', () => {
    const st8 = fromHex(
      [
        '03 00', // TABLE_IDB_BFLD echoed
        'bb', // SEQ_NBR echoed
        '00', // RESULT_CODE 0 = completed
      ].join(' '),
    );
    const res = decodeProcedureResponse(st8, 'little');
    expect(res).toEqual({
      procedure: 3,
      mfg: false,
      selector: 0,
      seq: 0xbb,
      result: 0,
      data: Buffer.alloc(0),
    });
    expect(encodeProcedureResponse(res, 'little')).toEqual(st8);
    expect(psemChecksum(st8)).toBe(0x42); // `00 0004 0300bb00 42` in §6
  });

  it('rejects an ST7 image shorter than its 3-byte header with a coded error', () => {
    expect(() => decodeProcedureRequest(fromHex('03 00'), 'little')).toThrow(
      expect.objectContaining({ name: 'SimError' }),
    );
  });
});

describe('ST0 GEN_CONFIG_TBL built from a known registration', () => {
  function build(format: Partial<CodecContext> = {}): TableEngine {
    const e = createTableEngine({
      format,
      genConfig: { nameplateType: 2 },
      meterClock: { now: () => Date.UTC(2026, 0, 1), set: () => undefined }, // ST52 + SP10
      clearData: () => undefined, // SP3
    });
    const ro = { anyRead: true };
    e.registerTable({ id: 1, layout: st1Layout(0), read: () => Buffer.alloc(32, 0x20), access: ro });
    e.registerTable({
      id: 5,
      layout: st5Layout(0),
      read: () => ({ IDENTIFICATION: 'X' }),
      write: () => undefined,
      access: ro,
    });
    const mt1 = { id: mt(1), name: 'MT1', fields: [{ name: 'A', type: 'UINT8' as const }] };
    const mt9 = { id: mt(9), name: 'MT9', fields: [{ name: 'A', type: 'UINT8' as const }] };
    e.registerTable({ id: mt(1), layout: mt1, read: () => ({ A: 1 }), access: ro });
    e.registerTable({ id: mt(9), layout: mt9, read: () => ({ A: 1 }), write: () => undefined, access: ro });
    e.registerProcedure({
      id: mp(70),
      name: 'set meter id',
      run: () => ({ result: 0 }),
      access: { write: 1 },
      maxParamLength: 6,
    });
    return e;
  }

  const expected = [
    '02', // FORMAT_CONTROL_1: DATA_ORDER 0 (little), CHAR_FORMAT 1 (ISO 646) in b1-3
    '0a', // FORMAT_CONTROL_2: TM_FORMAT 2, DATA_ACCESS_METHOD 1 (b3-4), ID_FORM 0
    '00', // FORMAT_CONTROL_3
    '00000000', // DEVICE_CLASS
    '02', // NAMEPLATE_TYPE electric
    '00', // DEFAULT_SET_USED
    '08', // MAX_PROC_PARM_LENGTH: SP10 = SET_MASK 1 + LTIME 6 + QUAL 1
    '00', // MAX_RESP_DATA_LEN
    '02', // STD_VERSION_NO
    '00', // STD_REVISION_NO
    '07', // DIM_STD_TBLS_USED: highest ST52 -> 7 bytes
    '02', // DIM_MFG_TBLS_USED: highest MT9 -> 2 bytes
    '02', // DIM_STD_PROC_USED: highest SP10 -> 2 bytes
    '09', // DIM_MFG_PROC_USED: MP70 -> 9 bytes
    '01', // DIM_MFG_STATUS_USED
    '00', // NBR_PENDING
    'ab01000000' + '1610', // STD_TBLS_USED: 0,1,3,5,7 | 8 | - | - | - | 41,42,44 | 52
    '0202', // MFG_TBLS_USED: MT1 | MT9
    'c805', // STD_PROC_USED: SP3,6,7 | SP8,10
    '0000000000000000' + '40', // MFG_PROC_USED: MP70 = byte 8, bit 6
    'a0000000000000', // STD_TBLS_WRITE: ST5, ST7
    '0002', // MFG_TBLS_WRITE: MT9
  ];

  it('reads back as the expected bytes through the engine', async () => {
    const res = await build().read(0, undefined, session());
    expect(res.code).toBe(PsemCode.ok);
    expect(res.code === 0 && toHex(res.data)).toBe(expected.join(''));
  });

  it('decodes like a client would, giving back sets and the codec context', async () => {
    const e = build({ dataOrder: 'big', idForm: 1, tmFormat: 4, charFormat: 2 });
    const res = await e.read(0, undefined, session());
    if (res.code !== 0) throw new Error('read failed');
    expect(res.data[0]).toBe(0x05); // DATA_ORDER 1, CHAR_FORMAT 2
    expect(res.data[1]).toBe(0x2c); // TM_FORMAT 4, DATA_ACCESS_METHOD 1, ID_FORM 1
    const st0 = decodeGenConfig(res.data);
    expect(st0['STD_TBLS_USED']).toEqual([0, 1, 3, 5, 7, 8, 41, 42, 44, 52]);
    expect(st0['MFG_TBLS_USED']).toEqual([1, 9]);
    expect(st0['STD_PROC_USED']).toEqual([3, 6, 7, 8, 10]);
    expect(st0['MFG_PROC_USED']).toEqual([70]);
    expect(st0['STD_TBLS_WRITE']).toEqual([5, 7]);
    expect(st0['MFG_TBLS_WRITE']).toEqual([9]);
    expect(contextFromGenConfig(st0)).toEqual({ dataOrder: 'big', charFormat: 2, tmFormat: 4, idForm: 1 });
    expect(e.genConfig()).toEqual(st0);
  });

  it('leaves out empty sets and SP3/SP10/ST52 when their callbacks are absent', async () => {
    const res = await createTableEngine().read(0, undefined, session());
    if (res.code !== 0) throw new Error('read failed');
    const st0 = decodeGenConfig(res.data);
    expect(st0['DIM_MFG_TBLS_USED']).toBe(0);
    expect(st0['MFG_TBLS_USED']).toBeUndefined();
    expect(st0['STD_TBLS_USED']).toEqual([0, 3, 7, 8, 41, 42, 44]);
    expect(st0['STD_PROC_USED']).toEqual([6, 7, 8]);
    expect(st0['MAX_PROC_PARM_LENGTH']).toBe(1);
    expect(res.data.length).toBe(19 + 6 + 2 + 6);
  });
});
