import { fromHex, toHex } from '../../../src/core/bytes';
import { mp, PsemCode } from '../../../src/protocols/c1219/contract';
import type { SetDateTimeRequest } from '../../../src/protocols/c1219/engine-types';
import { DEFAULT_CODEC_CONTEXT } from '../../../src/protocols/c1219/field-types';
import {
  encodeProcedureRequest,
  ProcResult,
  type ProcResultCode,
} from '../../../src/protocols/c1219/procedure-codec';
import { createMemoryModeStatus, encodeSetDateTime } from '../../../src/protocols/c1219/standard-procedures';
import { createTableEngine, type TableEngine } from '../../../src/protocols/c1219/table-engine';
import { deferred, psemChecksum, session } from './helpers';

const OP = 0x02;

function st7(procedure: number, mfg: boolean, selector: number, seq: number, params = ''): Buffer {
  return encodeProcedureRequest({ procedure, mfg, selector, seq, params: fromHex(params) }, 'little');
}

async function st8(engine: TableEngine): Promise<string | number> {
  const r = await engine.read(8, undefined, session(OP));
  return r.code === PsemCode.ok ? toHex(r.data) : r.code;
}

describe('ST7/ST8 with the transcript vectors (docs/c1218.md §6)', () => {
  it('SP3 Clear Data: ST7 `03 00 BB 00` runs the callback and ST8 reads `03 00 BB 00`', async () => {
    const calls: string[] = [];
    const engine = createTableEngine({ clearData: (params) => void calls.push(toHex(params)) });
    const write = fromHex(
      [
        '03 00', // TABLE_IDB_BFLD: SP3, selector 0
        'bb', // SEQ_NBR
        '00', // PARM
      ].join(' '),
    );
    expect((await engine.write(7, undefined, write, session(OP))).code).toBe(PsemCode.ok);
    expect(calls).toEqual(['00']);
    const read = await engine.read(8, undefined, session());
    if (read.code !== PsemCode.ok) throw new Error('ST8 read failed');
    expect(toHex(read.data)).toBe('0300bb00');
    // The §6 response `00 0004 0300bb00 42`: count 4 and checksum 0x42 over the data.
    expect(read.data.length).toBe(4);
    expect(psemChecksum(read.data)).toBe(0x42);
  });

  it('MP70 as termineter set_meter_id sends it: `46 08 1C 03 0B 0C 09 0F 12`', async () => {
    const engine = createTableEngine();
    const seen: string[] = [];
    engine.registerProcedure({
      id: mp(70),
      name: 'set meter id (modelled)',
      access: { write: OP },
      run: (params) => {
        seen.push(toHex(params));
        return { result: ProcResult.completed, response: fromHex('aa') };
      },
    });
    const write = fromHex('46 08 1c 03 0b 0c 09 0f 12');
    expect((await engine.write(7, undefined, write, session(OP))).code).toBe(PsemCode.ok);
    expect(seen).toEqual(['030b0c090f12']);
    expect(await st8(engine)).toBe(
      [
        '4608', // TABLE_IDB_BFLD echoed
        '1c', // SEQ_NBR echoed
        '00', // RESULT_CODE completed
        'aa', // RESP_DATA
      ].join(''),
    );
  });

  it('a big-endian meter reads TABLE_IDB_BFLD high byte first', async () => {
    const engine = createTableEngine({ format: { dataOrder: 'big' }, clearData: () => undefined });
    expect((await engine.write(7, undefined, fromHex('00 03 bb 00'), session(OP))).code).toBe(PsemCode.ok);
    expect(await st8(engine)).toBe('0003bb00');
  });
});

describe('procedure dispatch', () => {
  it('an unknown procedure is accepted and answers result 6 in ST8', async () => {
    const engine = createTableEngine();
    expect((await engine.write(7, undefined, st7(99, false, 0, 1), session())).code).toBe(PsemCode.ok);
    expect(await st8(engine)).toBe('630001' + '06');
    expect((await engine.write(7, undefined, st7(5, true, 0, 2), session())).code).toBe(PsemCode.ok);
    expect(await st8(engine)).toBe('050802' + '06'); // MP5
  });

  it('a procedure the session may not run answers isc, does not run, and leaves ST8 as it was', async () => {
    let runs = 0;
    const engine = createTableEngine();
    engine.registerProcedure({
      id: mp(1),
      name: 'clear card (modelled)',
      access: { write: 0x04 },
      run: () => {
        runs++;
        return { result: 0 };
      },
    });
    await engine.write(7, undefined, st7(99, false, 0, 7), session(OP)); // posts result 6
    expect((await engine.write(7, undefined, st7(1, true, 0, 8), session(OP))).code).toBe(PsemCode.isc);
    expect(runs).toBe(0);
    expect(await st8(engine)).toBe('63000706');
    expect((await engine.write(7, undefined, st7(1, true, 0, 9), session(0x04))).code).toBe(PsemCode.ok);
    expect(runs).toBe(1);
  });

  it.each([
    ['fewer than 3 bytes', undefined, '0300'],
    ['a partial write not at offset 0', 1, '0300bb00'],
    ['a reserved selector (4)', undefined, '034001'],
  ])('refuses %s with iar and runs nothing', async (_n, offset, hex) => {
    let runs = 0;
    const engine = createTableEngine({ clearData: () => void runs++ });
    expect((await engine.write(7, offset, fromHex(hex), session(OP))).code).toBe(PsemCode.iar);
    expect(runs).toBe(0);
    expect(await st8(engine)).toBe(PsemCode.dnr);
  });

  it('accepts a partial write at offset 0 as termineter write_table sends it', async () => {
    let runs = 0;
    const engine = createTableEngine({ clearData: () => void runs++ });
    expect((await engine.write(7, 0, fromHex('0300bb00'), session(OP))).code).toBe(PsemCode.ok);
    expect(runs).toBe(1);
  });

  it('answers the ST7 write only after the procedure completed (durable before ok)', async () => {
    const gate = deferred();
    const engine = createTableEngine({ clearData: () => gate.promise });
    let answered = false;
    const pending = engine.write(7, undefined, st7(3, false, 0, 1), session(OP)).then((r) => {
      answered = true;
      return r;
    });
    await new Promise((r) => setImmediate(r));
    expect(answered).toBe(false);
    gate.resolve();
    expect((await pending).code).toBe(PsemCode.ok);
    expect(answered).toBe(true);
  });

  it('a throwing procedure answers err and posts nothing; an invalid result code too', async () => {
    const engine = createTableEngine({
      clearData: () => {
        throw new Error('storage failed');
      },
    });
    engine.registerProcedure({
      id: mp(2),
      name: 'bad',
      access: { anyWrite: true },
      run: () => ({ result: 9 as ProcResultCode }),
    });
    expect((await engine.write(7, undefined, st7(3, false, 0, 1), session(OP))).code).toBe(PsemCode.err);
    expect((await engine.write(7, undefined, st7(2, true, 0, 2), session())).code).toBe(PsemCode.err);
    expect(await st8(engine)).toBe(PsemCode.dnr);
  });

  it('ST8 before any procedure answers dnr, and endSession empties it again', async () => {
    const engine = createTableEngine();
    expect(await st8(engine)).toBe(PsemCode.dnr);
    await engine.write(7, undefined, st7(99, false, 0, 1), session());
    expect(engine.procedureResponse()?.result).toBe(6);
    engine.endSession(session());
    expect(await st8(engine)).toBe(PsemCode.dnr);
    expect(engine.procedureResponse()).toBeUndefined();
  });

  it('ST8 is read-only (onp)', async () => {
    expect((await createTableEngine().write(8, undefined, fromHex('00000000'), session(0xff))).code).toBe(
      PsemCode.onp,
    );
  });
});

describe('SELECTOR semantics (docs/c1218.md §3)', () => {
  function engineWith(result: ProcResultCode, during?: (e: TableEngine) => Promise<void>): TableEngine {
    const engine = createTableEngine();
    engine.registerProcedure({
      id: mp(3),
      name: 'test',
      access: { anyWrite: true },
      run: async () => {
        if (during) await during(engine);
        return { result, response: fromHex('77') };
      },
    });
    return engine;
  }
  const prior = '63000106'; // an earlier unknown-procedure response (SP99, seq 1, result 6)

  async function run(engine: TableEngine, selector: number): Promise<void> {
    await engine.write(7, undefined, st7(99, false, 0, 1), session()); // establishes `prior`
    expect((await engine.write(7, undefined, st7(3, true, selector, 0x20), session())).code).toBe(
      PsemCode.ok,
    );
  }

  it('0: posts on completion', async () => {
    const e = engineWith(ProcResult.completed);
    await run(e, 0);
    expect(await st8(e)).toBe('03082000' + '77');
  });

  it('1: posts only on exception — success leaves ST8 unchanged', async () => {
    const ok = engineWith(ProcResult.completed);
    await run(ok, 1);
    expect(await st8(ok)).toBe(prior);
    const bad = engineWith(ProcResult.setupConflict);
    await run(bad, 1);
    expect(await st8(bad)).toBe('03182003' + '77'); // selector 1 in b12-15 echoed
  });

  it('2: never posts', async () => {
    const e = engineWith(ProcResult.invalidParameter);
    await run(e, 2);
    expect(await st8(e)).toBe(prior);
  });

  it('3: posts "accepted, not completed" immediately and the result on completion', async () => {
    const seenDuring: (string | number)[] = [];
    const e = engineWith(ProcResult.completed, async (engine) => {
      seenDuring.push(await st8(engine));
    });
    await run(e, 3);
    expect(seenDuring).toEqual(['03382001']); // result 1 while running, no RESP_DATA
    expect(await st8(e)).toBe('03382000' + '77');
  });
});

describe('standard procedures', () => {
  it('SP6 Change End Device Mode sets ST3 ED_MODE (1 metering, 2 test, 4 shop, 8 factory)', async () => {
    const modeStatus = createMemoryModeStatus();
    const engine = createTableEngine({ modeStatus });
    for (const mode of [2, 4, 8, 1]) {
      await engine.write(
        7,
        undefined,
        st7(6, false, 0, mode, mode.toString(16).padStart(2, '0')),
        session(OP),
      );
      expect(await st8(engine)).toBe(`0600${mode.toString(16).padStart(2, '0')}00`);
      const st3 = await engine.read(3, { offset: 0, count: 1 }, session());
      expect(st3.code === 0 && st3.data[0]).toBe(mode);
    }
  });

  it.each([
    ['two modes at once (3)', '03'],
    ['no parameter', ''],
    ['two parameter bytes', '0100'],
  ])('SP6 with %s -> result 2, mode unchanged', async (_n, params) => {
    const modeStatus = createMemoryModeStatus({ mode: 1 });
    const engine = createTableEngine({ modeStatus });
    await engine.write(7, undefined, st7(6, false, 0, 5, params), session(OP));
    expect(await st8(engine)).toBe('06000502');
    expect(await modeStatus.getMode()).toBe(1);
  });

  it('SP7 / SP8 clear the standard / manufacturer status flags', async () => {
    const modeStatus = createMemoryModeStatus({ std1: 0x0800, std2: 1, mfg: [3] });
    const engine = createTableEngine({ modeStatus });
    await engine.write(7, undefined, st7(7, false, 0, 1), session(OP));
    expect(await modeStatus.getStatus()).toEqual({ std1: 0, std2: 0, mfg: [3] });
    await engine.write(7, undefined, st7(8, false, 0, 2), session(OP));
    expect(await modeStatus.getStatus()).toEqual({ std1: 0, std2: 0, mfg: [] });
  });

  it('built-in procedures need a group by default (isc before Security)', async () => {
    const modeStatus = createMemoryModeStatus({ std1: 1 });
    const engine = createTableEngine({ modeStatus });
    expect((await engine.write(7, undefined, st7(7, false, 0, 1), session(0))).code).toBe(PsemCode.isc);
    expect((await modeStatus.getStatus()).std1).toBe(1);
  });

  describe('SP10 Set Date/Time (modelled parameter layout)', () => {
    const when = { year: 2026, month: 3, day: 15, hour: 12, minute: 34, second: 56 };
    const request: SetDateTimeRequest = {
      setTime: true,
      setDate: true,
      setQualifier: false,
      dateTime: when,
      qualifier: { dst: true },
    };

    it('decodes SET_MASK + LTIME + TIME_DATE_QUAL and hands them to the clock', async () => {
      const got: SetDateTimeRequest[] = [];
      const engine = createTableEngine({ meterClock: { now: () => 0, set: (r) => void got.push(r) } });
      const params = encodeSetDateTime(request, DEFAULT_CODEC_CONTEXT);
      expect(toHex(params)).toBe(
        [
          '03', // SET_MASK: time (b0) + date (b1)
          '1a030f0c2238', // LTIME_DATE, TM_FORMAT 2
          '08', // TIME_DATE_QUAL: DAY_OF_WEEK 0 (Sunday), DST_FLAG b3
        ].join(''),
      );
      await engine.write(7, undefined, st7(10, false, 0, 4, toHex(params)), session(OP));
      expect(await st8(engine)).toBe('0a000400');
      expect(got).toEqual([
        { ...request, qualifier: { dst: true, gmt: false, tmZnApplied: false, dstApplied: false } },
      ]);
    });

    it.each([
      ['a wrong length', '031a030f0c22'],
      ['an impossible date (Feb 30)', '03' + '1a021e0c2238' + '00'],
    ])('answers result 2 for %s without calling the clock', async (_n, hex) => {
      let calls = 0;
      const engine = createTableEngine({ meterClock: { now: () => 0, set: () => void calls++ } });
      await engine.write(7, undefined, st7(10, false, 0, 4, hex), session(OP));
      expect(await st8(engine)).toBe('0a000402');
      expect(calls).toBe(0);
    });

    it('passes the clock callback result through (e.g. 3 = conflicts with setup)', async () => {
      const engine = createTableEngine({
        meterClock: { now: () => 0, set: () => ({ result: ProcResult.setupConflict }) },
      });
      const params = encodeSetDateTime(request, DEFAULT_CODEC_CONTEXT);
      await engine.write(7, undefined, st7(10, false, 0, 4, toHex(params)), session(OP));
      expect(await st8(engine)).toBe('0a000403');
    });
  });
});
