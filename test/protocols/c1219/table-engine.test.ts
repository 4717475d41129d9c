import { fromHex, toHex } from '../../../src/core/bytes';
import { ErrorCode } from '../../../src/core/errors';
import {
  mt,
  PsemCode,
  type PsemCodeValue,
  type TableReadResult,
} from '../../../src/protocols/c1219/contract';
import type { TableLayout, TableRecord } from '../../../src/protocols/c1219/field-types';
import { ST42_BLANK } from '../../../src/protocols/c1219/builtin-tables';
import {
  ST41_LAYOUT,
  st3Layout,
  st42Layout,
  st44Layout,
  ST52_LAYOUT,
} from '../../../src/protocols/c1219/standard-layouts';
import { createMemoryModeStatus } from '../../../src/protocols/c1219/standard-procedures';
import { decodeTable } from '../../../src/protocols/c1219/table-codec';
import {
  createTableEngine,
  type SharedProcedureDefinition,
  type SharedTableDefinition,
  type TableEngine,
} from '../../../src/protocols/c1219/table-engine';
import { encodeProcedureRequest } from '../../../src/protocols/c1219/procedure-codec';
import type { TableEngineOptions } from '../../../src/protocols/c1219/engine-types';
import { DEFAULT_CODEC_CONTEXT } from '../../../src/protocols/c1219/field-types';
import { session } from './helpers';

/**
 * A modelled card table (docs/c1218.md §7.2: card data lives in a manufacturer table; the real
 * Secure layout is not public): 8 bytes.
 */
const CARD: TableLayout = {
  id: mt(10),
  name: 'MT10_CARD',
  fields: [
    { name: 'CARD_ID', type: 'BCD', size: 4 },
    { name: 'SUPPLIER', type: 'UINT16' },
    { name: 'FLAGS', type: 'UINT8' },
    { name: 'SPARE', type: 'FILL', size: 1 },
  ],
};

const OPERATOR = 0x02;
const READER = 0x01;

function setup(options: TableEngineOptions = {}): {
  engine: TableEngine;
  card: { value: TableRecord; writes: TableRecord[] };
} {
  const engine = createTableEngine(options);
  const card = {
    value: { CARD_ID: '12345678', SUPPLIER: 0x0102, FLAGS: 1 } as TableRecord,
    writes: [] as TableRecord[],
  };
  engine.registerTable({
    id: mt(10),
    layout: CARD,
    read: () => card.value,
    write: (rec) => {
      card.writes.push(rec);
      card.value = rec;
    },
    access: { read: READER | OPERATOR, write: OPERATOR },
  });
  return { engine, card };
}

const cardBytes = [
  '12345678', // CARD_ID BCD(4)
  '0201', // SUPPLIER 0x0102, little-endian
  '01', // FLAGS
  '00', // SPARE FILL
].join('');

function data(r: TableReadResult): string {
  if (r.code !== PsemCode.ok) throw new Error(`read answered ${r.code}`);
  return toHex(r.data);
}

describe('reads', () => {
  it('serves a registered manufacturer table from its callback, full and partial', async () => {
    const { engine, card } = setup();
    expect(data(await engine.read(mt(10), undefined, session(READER)))).toBe(cardBytes);
    expect(data(await engine.read(mt(10), { offset: 4, count: 2 }, session(READER)))).toBe('0201');
    card.value = { ...card.value, FLAGS: 0 };
    // Values are live: the next read calls the callback again.
    expect(data(await engine.read(mt(10), { offset: 6, count: 1 }, session(READER)))).toBe('00');
  });

  it('a read of the whole table through the offset service equals the full read; count 0 is empty', async () => {
    const { engine } = setup();
    expect(data(await engine.read(mt(10), { offset: 0, count: 8 }, session(READER)))).toBe(cardBytes);
    expect(data(await engine.read(mt(10), { offset: 8, count: 0 }, session(READER)))).toBe('');
  });

  const errors: [
    string,
    number,
    { offset: number; count: number } | undefined,
    TableEngineOptions,
    PsemCodeValue,
  ][] = [
    ['unknown table -> iar (modelled default)', 99, undefined, {}, PsemCode.iar],
    ['unknown manufacturer table -> iar', mt(11), undefined, {}, PsemCode.iar],
    ['unknown table with policy sns', 99, undefined, { responses: { unknownTable: 'sns' } }, PsemCode.sns],
    ['pending-table id (bit 12) is not served', 0x1000 | mt(10), undefined, {}, PsemCode.iar],
    ['partial read starting past the end -> iar', mt(10), { offset: 9, count: 1 }, {}, PsemCode.iar],
    ['partial read overlapping the end -> iar by default', mt(10), { offset: 6, count: 4 }, {}, PsemCode.iar],
    ['negative offset -> iar', mt(10), { offset: -1, count: 1 }, {}, PsemCode.iar],
    ['ST7 is write-only -> onp', 7, undefined, {}, PsemCode.onp],
  ];
  it.each(errors)('%s', async (_name, id, range, options, code) => {
    const { engine, card } = setup(options);
    const before = card.value;
    expect((await engine.read(id, range, session(OPERATOR))).code).toBe(code);
    expect(card.value).toBe(before);
    expect(card.writes).toHaveLength(0);
  });

  it('truncates an overlapping read when the policy says so', async () => {
    const { engine } = setup({ responses: { readOverlap: 'truncate' } });
    expect(data(await engine.read(mt(10), { offset: 6, count: 4 }, session(READER)))).toBe('0100');
  });

  it('answers err when the read callback throws or returns bytes of the wrong size', async () => {
    const engine = createTableEngine();
    const layout: TableLayout = { id: mt(2), name: 'MT2', fields: [{ name: 'B', type: 'BINARY', size: 4 }] };
    engine.registerTable({ id: mt(2), layout, read: () => Buffer.alloc(3), access: { anyRead: true } });
    const layout3: TableLayout = { ...layout, id: mt(3), name: 'MT3' };
    engine.registerTable({
      id: mt(3),
      layout: layout3,
      read: () => {
        throw new Error('storage gone');
      },
      access: { anyRead: true },
    });
    expect((await engine.read(mt(2), undefined, session())).code).toBe(PsemCode.err);
    expect((await engine.read(mt(3), undefined, session())).code).toBe(PsemCode.err);
  });
});

describe('writes', () => {
  it('decodes a full write with the layout and awaits the callback before answering', async () => {
    const { engine, card } = setup();
    const res = await engine.write(mt(10), undefined, fromHex('87654321 0300 00 00'), session(OPERATOR));
    expect(res.code).toBe(PsemCode.ok);
    expect(card.writes).toEqual([{ CARD_ID: '87654321', SUPPLIER: 3, FLAGS: 0 }]);
    expect(data(await engine.read(mt(10), undefined, session(READER)))).toBe('8765432103000000');
  });

  it('applies a partial write over the current image (termineter write_table uses 0x4F)', async () => {
    const { engine, card } = setup();
    expect((await engine.write(mt(10), 6, fromHex('00'), session(OPERATOR))).code).toBe(PsemCode.ok);
    expect(card.value).toEqual({ CARD_ID: '12345678', SUPPLIER: 0x0102, FLAGS: 0 });
  });

  const refused: [string, number, number | undefined, string, number, PsemCodeValue][] = [
    [
      'ST44: session without the write group -> isc',
      mt(10),
      undefined,
      '0000000000000000',
      READER,
      PsemCode.isc,
    ],
    ['ST44: session with no groups -> isc', mt(10), 0, '00', 0, PsemCode.isc],
    ['full write one byte short -> iar', mt(10), undefined, '00000000000000', OPERATOR, PsemCode.iar],
    ['full write one byte long -> iar', mt(10), undefined, '000000000000000000', OPERATOR, PsemCode.iar],
    ['partial write past the end -> iar', mt(10), 7, '0000', OPERATOR, PsemCode.iar],
    ['empty partial write -> iar', mt(10), 0, '', OPERATOR, PsemCode.iar],
    ['bytes that do not decode (BCD 0xAB) -> iar', mt(10), 0, 'ab', OPERATOR, PsemCode.iar],
    ['read-only engine table ST0 -> onp', 0, undefined, '00', OPERATOR, PsemCode.onp],
    ['ST42 passwords are not writable here -> onp', 42, 0, '00', 0xff, PsemCode.onp],
    ['unknown table -> iar', 77, undefined, '00', OPERATOR, PsemCode.iar],
  ];
  it.each(refused)('%s, table untouched', async (_name, id, offset, hex, groups, code) => {
    const { engine, card } = setup();
    const before = card.value;
    expect((await engine.write(id, offset, fromHex(hex), session(groups))).code).toBe(code);
    expect(card.writes).toHaveLength(0);
    expect(card.value).toBe(before);
    expect(data(await engine.read(mt(10), undefined, session(READER)))).toBe(cardBytes);
  });

  it('refuses reads without a read group with isc', async () => {
    const { engine } = setup();
    expect((await engine.read(mt(10), undefined, session(0x80))).code).toBe(PsemCode.isc);
    expect((await engine.read(mt(10), { offset: 0, count: 1 }, session(0))).code).toBe(PsemCode.isc);
  });

  it('answers onp for a registered table without a writer even when the session is privileged', async () => {
    const engine = createTableEngine();
    const layout: TableLayout = { id: mt(4), name: 'MT4', fields: [{ name: 'A', type: 'UINT8' }] };
    engine.registerTable({
      id: mt(4),
      layout,
      read: () => ({ A: 1 }),
      access: { anyRead: true, anyWrite: true },
    });
    expect((await engine.write(mt(4), undefined, fromHex('02'), session(0xff))).code).toBe(PsemCode.onp);
  });

  it('passes a PSEM code returned by the writer through, and answers err when it throws', async () => {
    const engine = createTableEngine();
    const layout: TableLayout = { id: mt(5), name: 'MT5', fields: [{ name: 'A', type: 'UINT8' }] };
    engine.registerTable({
      id: mt(5),
      layout,
      read: () => ({ A: 1 }),
      write: (rec) => (rec['A'] === 0 ? PsemCode.dlk : undefined),
      access: { anyWrite: true, anyRead: true },
    });
    const layout6: TableLayout = { ...layout, id: mt(6), name: 'MT6' };
    engine.registerTable({
      id: mt(6),
      layout: layout6,
      read: () => ({ A: 1 }),
      write: () => Promise.reject(new Error('disk full')),
      access: { anyWrite: true },
    });
    expect((await engine.write(mt(5), undefined, fromHex('00'), session())).code).toBe(PsemCode.dlk);
    expect((await engine.write(mt(5), undefined, fromHex('01'), session())).code).toBe(PsemCode.ok);
    expect((await engine.write(mt(6), undefined, fromHex('01'), session())).code).toBe(PsemCode.err);
  });

  it('hands the writer the whole image, the offset and the session', async () => {
    const engine = createTableEngine();
    const layout: TableLayout = { id: mt(7), name: 'MT7', fields: [{ name: 'B', type: 'BINARY', size: 3 }] };
    const seen: unknown[] = [];
    engine.registerTable({
      id: mt(7),
      layout,
      read: () => ({ B: fromHex('010203') }),
      write: (_rec, info) => void seen.push([toHex(info.bytes), info.offset, info.access.groups]),
      access: { write: 4 },
    });
    await engine.write(mt(7), 1, fromHex('ff'), session(4));
    expect(seen).toEqual([['01ff03', 1, 4]]);
  });
});

describe('security tables', () => {
  const security = {
    passwords: () => [
      { password: 'reader', groups: READER },
      { password: Buffer.from('op'), groups: OPERATOR | 0x80 },
    ],
  };

  it('ST42 never shows passwords: they read as 0xFF with their group masks', async () => {
    const { engine } = setup({ security });
    const res = await engine.read(42, undefined, session(READER));
    const rec = decodeTable(st42Layout(2, 20), fromHex(data(res)), DEFAULT_CODEC_CONTEXT);
    expect(rec).toEqual({
      PASSWORDS: [
        { PASSWORD: Buffer.alloc(20, ST42_BLANK), ACCESS_PERMISSIONS: READER },
        { PASSWORD: Buffer.alloc(20, ST42_BLANK), ACCESS_PERMISSIONS: OPERATOR | 0x80 },
      ],
    });
    expect(data(res)).not.toContain(Buffer.from('reader').toString('hex'));
    // A partial read sees the same blanked image.
    expect(data(await engine.read(42, { offset: 0, count: 6 }, session(READER)))).toBe('ffffffffffff');
  });

  it('ST42 is refused (isc) before Security', async () => {
    const { engine } = setup({ security });
    expect((await engine.read(42, undefined, session(0))).code).toBe(PsemCode.isc);
  });

  it('ST41 gives the counts ST42 and ST44 are sized by', async () => {
    const { engine } = setup({ security });
    const rec = decodeTable(
      ST41_LAYOUT,
      fromHex(data(await engine.read(41, undefined, session()))),
      DEFAULT_CODEC_CONTEXT,
    );
    // 8 engine tables (0,3,7,8,41,42,44 + MT10) and 3 built-in procedures (6,7,8).
    expect(rec).toEqual({ NBR_PASSWORDS: 2, PASSWORD_LEN: 20, NBR_KEYS: 0, KEY_LEN: 0, NBR_PERM_USED: 11 });
  });

  it('ST44 lists every table and procedure with the rights the engine enforces', async () => {
    const { engine } = setup({ security });
    const raw = fromHex(data(await engine.read(44, undefined, session())));
    expect(raw.length).toBe(11 * 4);
    const rec = decodeTable(st44Layout(11), raw, DEFAULT_CODEC_CONTEXT);
    const rows = rec['ACCESS_CONTROL'] as TableRecord[];
    const card = rows.find((r) => (r['TABLE_IDC_BFLD'] as Record<string, number>)['TBL_PROC_NBR'] === 10);
    expect(card).toEqual({
      TABLE_IDC_BFLD: { TBL_PROC_NBR: 10, STD_VS_MFG_FLAG: 1, PROC_FLAG: 0, ANY_READ: 0, ANY_WRITE: 0 },
      GRP_READ_ACCESS: READER | OPERATOR,
      GRP_WRITE_ACCESS: OPERATOR,
    });
    // The MT10 row on the wire: TABLE_IDC_BFLD 0x080A little-endian, read 03, write 02.
    expect(toHex(raw)).toContain('0a080302');
    const st0 = rows[0]!;
    expect(st0).toEqual({
      TABLE_IDC_BFLD: { TBL_PROC_NBR: 0, STD_VS_MFG_FLAG: 0, PROC_FLAG: 0, ANY_READ: 1, ANY_WRITE: 0 },
      GRP_READ_ACCESS: 0,
      GRP_WRITE_ACCESS: 0,
    });
    const sp6 = rows.find((r) => (r['TABLE_IDC_BFLD'] as Record<string, number>)['PROC_FLAG'] === 1);
    expect(sp6?.['TABLE_IDC_BFLD']).toEqual({
      TBL_PROC_NBR: 6,
      STD_VS_MFG_FLAG: 0,
      PROC_FLAG: 1,
      ANY_READ: 0,
      ANY_WRITE: 0,
    });
  });

  it('tableAccess overrides the default rights of engine tables', async () => {
    const { engine } = setup({ tableAccess: { 0: { read: OPERATOR } } });
    expect((await engine.read(0, undefined, session(READER))).code).toBe(PsemCode.isc);
    expect((await engine.read(0, undefined, session(OPERATOR))).code).toBe(PsemCode.ok);
  });
});

describe('ST3 and ST52', () => {
  it('ST3 shows the mode/status store', async () => {
    const modeStatus = createMemoryModeStatus({ mode: 2, std1: 0x1001, std2: 0, mfg: [0, 7] });
    const engine = createTableEngine({ modeStatus });
    const raw = fromHex(data(await engine.read(3, undefined, session())));
    expect(toHex(raw)).toBe(
      [
        '02', // ED_MODE: test mode
        '0110', // ED_STD_STATUS1 0x1001: unprogrammed (b0) + tamper (b12), little-endian
        '00', // ED_STD_STATUS2
        '81', // ED_MFG_STATUS items 0 and 7
      ].join(''),
    );
    const rec = decodeTable(st3Layout(1), raw, DEFAULT_CODEC_CONTEXT);
    expect((rec['ED_STD_STATUS1'] as Record<string, number>)['TAMPER_DETECT_FLAG']).toBe(1);
    expect((rec['ED_MODE'] as Record<string, number>)['TEST_MODE_FLAG']).toBe(1);
  });

  it('ST52 shows the meter clock in TM_FORMAT 2 with the day of week', async () => {
    const engine = createTableEngine({
      meterClock: { now: () => Date.UTC(2026, 2, 15, 12, 34, 56, 500), qualifier: () => ({ gmt: true }) },
    });
    const raw = fromHex(data(await engine.read(52, undefined, session())));
    expect(toHex(raw)).toBe(
      [
        '1a030f0c2238', // 26-03-15 12:34:56
        '10', // TIME_DATE_QUAL: DAY_OF_WEEK 0 (Sunday), GMT_FLAG b4
      ].join(''),
    );
    expect(decodeTable(ST52_LAYOUT, raw, DEFAULT_CODEC_CONTEXT)['CLOCK_CALENDAR']).toEqual({
      year: 2026,
      month: 3,
      day: 15,
      hour: 12,
      minute: 34,
      second: 56,
    });
  });

  it('has no ST52 without a meter clock', async () => {
    expect((await createTableEngine().read(52, undefined, session())).code).toBe(PsemCode.iar);
  });
});

describe('registration', () => {
  const layout: TableLayout = { id: mt(1), name: 'MT1', fields: [{ name: 'A', type: 'UINT8' }] };
  const def = { id: mt(1), layout, read: () => ({ A: 0 }), access: { anyRead: true } };

  it.each([
    ['an engine-owned table', { ...def, id: 42, layout: { ...layout, id: 42 } }, /served by the engine/],
    ['an id past MT2039', { ...def, id: mt(2040), layout: { ...layout, id: mt(2040) } }, /not STn\/MTn/],
    ['a layout with another id', { ...def, layout: { ...layout, id: mt(2) } }, /has id 2050/],
    [
      'an invalid layout',
      { ...def, layout: { ...layout, fields: [{ name: 'S', type: 'STRING' as const }] } },
      /size/,
    ],
  ])('rejects %s', (_n, d, message) => {
    const engine = createTableEngine();
    expect(() => engine.registerTable(d)).toThrow(expect.objectContaining({ code: ErrorCode.ConfigInvalid }));
    expect(() => engine.registerTable(d)).toThrow(message);
  });

  it('rejects duplicates of tables and procedures (including built-ins)', () => {
    const engine = createTableEngine();
    engine.registerTable(def);
    expect(() => engine.registerTable(def)).toThrow(/already registered/);
    expect(() =>
      engine.registerProcedure({ id: 6, name: 'x', run: () => ({ result: 0 }), access: {} }),
    ).toThrow(/already registered/);
  });

  it('recomputes ST0 after a registration', async () => {
    const engine = createTableEngine();
    const before = data(await engine.read(0, undefined, session()));
    engine.registerTable(def);
    const after = data(await engine.read(0, undefined, session()));
    expect(after).not.toBe(before);
    expect(engine.genConfig()['MFG_TBLS_USED']).toEqual([1]);
    expect(engine.tableIds()).toEqual([0, 3, 7, 8, 41, 42, 44, mt(1)]);
  });

  it('rejects unsupported formats at creation', () => {
    expect(() => createTableEngine({ format: { charFormat: 3 as never } })).toThrow(/CHAR_FORMAT 3/);
    expect(() => createTableEngine({ format: { tmFormat: 0 as never } })).toThrow(/TM_FORMAT 0/);
  });
});

describe('definitions shared by many engines', () => {
  /** What one connection owns; the shared definitions reach it only through the engine's host. */
  interface Host {
    value: number;
    runs: number;
  }
  const layout: TableLayout = { id: mt(1), name: 'MT1', fields: [{ name: 'A', type: 'UINT8' }] };
  const table: SharedTableDefinition<Host> = {
    id: mt(1),
    layout,
    access: { anyRead: true, anyWrite: true },
    read: (h) => ({ A: h.value }),
    write: (rec, _info, h) => {
      h.value = rec['A'] as number;
    },
  };
  const proc: SharedProcedureDefinition<Host> = {
    id: mt(2),
    name: 'count',
    access: { anyWrite: true },
    run: (_params, _access, h) => {
      h.runs++;
      return { result: 0 };
    },
  };

  it("one definition registered with two engines reads, writes and runs on each engine's host", async () => {
    const hosts: Host[] = [
      { value: 1, runs: 0 },
      { value: 2, runs: 0 },
    ];
    const [a, b] = hosts.map((host) => {
      const engine = createTableEngine<Host>({ host });
      engine.registerTable(table);
      engine.registerProcedure(proc);
      return engine;
    }) as [TableEngine<Host>, TableEngine<Host>];
    expect(data(await a.read(mt(1), undefined, session()))).toBe('01');
    expect(data(await b.read(mt(1), undefined, session()))).toBe('02');
    expect((await a.write(mt(1), undefined, Buffer.of(9), session())).code).toBe(PsemCode.ok);
    const st7 = encodeProcedureRequest(
      { procedure: 2, mfg: true, selector: 0, seq: 1, params: Buffer.alloc(0) },
      'little',
    );
    expect((await b.write(7, undefined, st7, session())).code).toBe(PsemCode.ok);
    expect(hosts).toEqual([
      { value: 9, runs: 0 },
      { value: 2, runs: 1 },
    ]);
    expect(a.procedureResponse()).toBeUndefined();
    expect(b.procedureResponse()).toMatchObject({ procedure: 2, mfg: true, result: 0 });
  });

  it('a shared layout is validated once: a second engine rejects nothing the first accepted', () => {
    for (let i = 0; i < 2; i++) createTableEngine<Host>({ host: { value: 0, runs: 0 } }).registerTable(table);
    const bad = { ...table, layout: { ...layout, fields: [{ name: 'S', type: 'STRING' as const }] } };
    for (let i = 0; i < 2; i++)
      expect(() => createTableEngine<Host>().registerTable(bad)).toThrow(/needs an integer size/);
  });
});
