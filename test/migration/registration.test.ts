import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { ErrorCode, SimError } from '../../src/core/errors';
import { formatCsv, parseCsv } from '../../src/migration/csv';
import {
  assertNoRegistrationErrors,
  loadRegistrationFile,
  parseRegistration,
  parseRegistrationCsv,
  parseRegistrationJson,
} from '../../src/migration/registration';
import { FOREIGN, MPAN_A, MPAN_B, MPRN_A, MPRN_B, OWN } from './fake-session';

function fileError(fn: () => unknown): SimError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(SimError);
    expect((e as SimError).code).toBe(ErrorCode.MigrationRegistrationInvalid);
    return e as SimError;
  }
  throw new Error('expected a MigrationRegistrationInvalid error');
}

describe('CSV reader', () => {
  it('keeps the physical start line of each record, across quoted line breaks and CRLF', () => {
    const text = 'a,b\r\n"x\ny",2\r\n\r\n"q""uote",3\n';
    expect(parseCsv(text)).toEqual([
      { line: 1, fields: ['a', 'b'] },
      { line: 2, fields: ['x\ny', '2'] },
      // line 4 is blank
      { line: 5, fields: ['q"uote', '3'] },
    ]);
  });

  it('round-trips fields through formatCsv', () => {
    fc.assert(
      fc.property(
        fc.array(fc.array(fc.string({ maxLength: 6 }), { minLength: 2, maxLength: 4 }), { maxLength: 5 }),
        (rows) => {
          const back = parseCsv(formatCsv(rows)).map((r) => r.fields);
          expect(back).toEqual(rows);
        },
      ),
      { numRuns: 1000 },
    );
  });

  it('reports an unclosed quote with the line it opened on', () => {
    expect(() => parseCsv('a,b\n1,"open\n2,3\n', 'r.csv')).toThrow('r.csv:2: quoted field is never closed');
  });
});

describe('registration CSV', () => {
  it('parses valid rows into records with their lines', () => {
    const data = parseRegistrationCsv(
      [
        '# DCC registration extract', // line 1: comment
        'MPXN,Responsible Supplier,Cohort,notes', // line 2: header (extra column ignored)
        `${MPAN_A},${OWN},MOC Secure,`, // line 3
        `"14 0000 0000 020",${FOREIGN},foc,printed with spaces`, // line 4
        `${MPRN_A},${OWN},MOC (Secure),gas`, // line 5
      ].join('\n'),
      'dcc.csv',
    );
    expect(data.errors).toEqual([]);
    expect(data.records).toEqual([
      {
        mpxn: MPAN_A,
        kind: 'mpan-core',
        deviceType: 'ESME',
        supplierId: OWN,
        cohort: 'MOC Secure',
        source: 'dcc.csv',
        line: 3,
      },
      {
        mpxn: MPAN_B,
        kind: 'mpan-core',
        deviceType: 'ESME',
        supplierId: FOREIGN,
        cohort: 'FOC',
        source: 'dcc.csv',
        line: 4,
      },
      {
        mpxn: MPRN_A,
        kind: 'mprn',
        deviceType: 'GSME',
        supplierId: OWN,
        cohort: 'MOC Secure',
        source: 'dcc.csv',
        line: 5,
      },
    ]);
    expect(data.byMpxn.get(MPRN_A)?.line).toBe(5);
  });

  it('reports invalid rows with line numbers and skips them', () => {
    const data = parseRegistrationCsv(
      [
        'mpan_core,mprn,supplier_id,cohort', // line 1
        `${MPAN_A},,${OWN},IOC`, // line 2: ok
        '1400000000011,,ABCD,IOC', // line 3: MPAN check digit 1, expected 0
        `,3938424404,${OWN},IOC`, // line 4: MPRN check digits 04, expected 03
        `${MPAN_B},,abcd,IOC`, // line 5: lower-case supplier id
        `${MPAN_B},,${OWN},MOC`, // line 6: unknown cohort
        `${MPAN_A},,${OWN},FOC`, // line 7: duplicate of line 2
        `${MPAN_B},${MPRN_B},${OWN},IOC`, // line 8: two meter points
        `${MPAN_B},,${OWN}`, // line 9: too few fields
        `,${MPRN_B},${OWN},IOC`, // line 10: ok
      ].join('\n'),
      'bad.csv',
    );
    expect(data.records.map((r) => [r.line, r.mpxn])).toEqual([
      [2, MPAN_A],
      [10, MPRN_B],
    ]);
    expect(data.errors.map((e) => [e.line, e.field, e.reason])).toEqual([
      [3, 'mpan_core', 'mpan_core: check digit is 1, expected 0'],
      [4, 'mprn', 'mprn: check digits are 04, expected 03'],
      [5, 'supplier_id', 'supplier_id: must be 4 upper-case letters or digits (MPID)'],
      [6, 'cohort', 'cohort: unknown cohort "MOC" (expected one of IOC, MOC Secure, MOC MDS, FOC)'],
      [7, null, `duplicate meter point ${MPAN_A}: first given on line 2`],
      [8, null, 'more than one meter point (mpan_core, mprn)'],
      [9, null, 'has 3 fields, header has 4'],
    ]);
    expect(() => assertNoRegistrationErrors(data)).toThrow(
      /^bad\.csv: 7 invalid row\(s\): line 3: mpan_core: check digit/,
    );
  });

  it('malformed files are errors with line numbers', () => {
    expect(fileError(() => parseRegistrationCsv('', 'e.csv')).message).toBe(
      'e.csv: no header row (expected columns mpxn|mpan_core|mprn, supplier_id, cohort)',
    );
    const e = fileError(() => parseRegistrationCsv('# comment\nmpxn,cohort\n1,2\n', 'e.csv'));
    expect(e.message).toBe('e.csv:2: header lacks column(s) supplier_id');
    expect(e.context).toMatchObject({ source: 'e.csv', line: 2 });
    expect(fileError(() => parseRegistrationCsv('mpxn,supplier_id,cohort,cohort\n', 'e.csv')).message).toBe(
      'e.csv:1: header repeats column cohort',
    );
    expect(
      fileError(() => parseRegistrationCsv(`mpxn,supplier_id,cohort\n"${MPAN_A},ABCD,IOC\n`, 'e.csv'))
        .message,
    ).toBe('e.csv:2: quoted field is never closed');
  });
});

describe('registration JSON', () => {
  it('parses an array of rows and gives each its line', () => {
    const text = [
      '[', // line 1
      `  { "mpanCore": "${MPAN_A}", "supplierId": "${OWN}", "cohort": "MOC Secure" },`, // line 2
      `  { "mprn": "${MPRN_A}", "responsibleSupplier": "${OWN}", "cohort": "IOC" },`, // line 3
      `  { "mpxn": 1400000000020, "supplierId": "${OWN}", "cohort": "IOC" },`, // line 4: number, not string
      '  "not an object",', // line 5
      `  { "mpxn": "${MPAN_B}", "supplierId": "${OWN}" }`, // line 6: no cohort
      ']',
    ].join('\n');
    const data = parseRegistrationJson(text, 'dcc.json');
    expect(data.records.map((r) => [r.line, r.mpxn, r.kind])).toEqual([
      [2, MPAN_A, 'mpan-core'],
      [3, MPRN_A, 'mprn'],
    ]);
    expect(data.errors.map((e) => [e.line, e.reason])).toEqual([
      [4, 'mpxn must be a string (identifiers keep leading zeros)'],
      [5, 'row must be an object'],
      [6, 'no cohort'],
    ]);
  });

  it('malformed JSON is an error with a line number', () => {
    expect(
      fileError(() => parseRegistrationJson('[\n  {"mpxn": "1"},\n  {"mpxn" "2"}\n]', 'e.json')).message,
    ).toMatch(/^e\.json:3: not valid JSON: /);
    expect(fileError(() => parseRegistrationJson('{"mpxn": "1"}', 'e.json')).message).toBe(
      'e.json:1: top level must be an array of registration rows',
    );
    expect(fileError(() => parseRegistrationJson('[\n{"a":1},\n', 'e.json')).message).toMatch(
      /^e\.json:3: not valid JSON/,
    );
  });

  it('picks the format from the file name and loads files', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'reg-'));
    try {
      const j = join(dir, 'r.json');
      writeFileSync(j, `[{"mpxn":"${MPRN_B}","supplierId":"${OWN}","cohort":"FOC"}]`);
      expect((await loadRegistrationFile(j)).records[0]!.mpxn).toBe(MPRN_B);
      expect(
        parseRegistration(`mpxn,supplier_id,cohort\n${MPRN_B},${OWN},FOC\n`, 'x.txt').records,
      ).toHaveLength(1);
      await expect(loadRegistrationFile(join(dir, 'none.csv'))).rejects.toMatchObject({
        code: ErrorCode.MigrationRegistrationInvalid,
      });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('registration parsing properties', () => {
  const validCsv = `mpxn,supplier_id,cohort\n${MPAN_A},${OWN},IOC\n${MPRN_A},${OWN},"MOC Secure"\n`;
  const validJson = `[{"mpxn":"${MPAN_A}","supplierId":"${OWN}","cohort":"IOC"}]`;
  const mutate = (valid: string) =>
    fc
      .tuple(fc.nat(valid.length), fc.nat(6), fc.string({ maxLength: 6 }))
      .map(([at, del, ins]) => valid.slice(0, at) + ins + valid.slice(at + del));

  // Every row either becomes a record or an error with a line inside the file: never both,
  // never neither, never an uncoded exception.
  const holds = (text: string, parse: (t: string) => ReturnType<typeof parseRegistrationCsv>) => {
    try {
      const d = parse(text);
      const lines = text.split('\n').length;
      for (const r of d.records) expect(r.line).toBeGreaterThanOrEqual(1);
      for (const e of d.errors) {
        expect(e.line).toBeGreaterThanOrEqual(1);
        expect(e.line).toBeLessThanOrEqual(lines);
      }
      const recordLines = new Set(d.records.map((r) => r.line));
      for (const e of d.errors) expect(recordLines.has(e.line)).toBe(false);
    } catch (e) {
      expect(e).toBeInstanceOf(SimError);
      expect((e as SimError).code).toBe(ErrorCode.MigrationRegistrationInvalid);
    }
  };

  it('CSV: random and mutated input yields records + line-numbered errors, or a coded error', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string({ maxLength: 120 }), mutate(validCsv)), (t) =>
        holds(t, (x) => parseRegistrationCsv(x, 'p.csv')),
      ),
      { numRuns: 3000 },
    );
  });

  it('JSON: random and mutated input yields records + line-numbered errors, or a coded error', () => {
    fc.assert(
      fc.property(fc.oneof(fc.json(), mutate(validJson)), (t) =>
        holds(t, (x) => parseRegistrationJson(x, 'p.json')),
      ),
      { numRuns: 1500 },
    );
  });
});
