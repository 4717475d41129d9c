import { appendFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { ErrorCode, SimError } from '../../src/core/errors';
import { FileJournal, MemoryJournal, parseJournal } from '../../src/migration/journal';

const T0 = Date.UTC(2026, 0, 1);

// Three journal lines as the flow writes them (docs/migration.md "Journal format").
const L0 = '{"v":1,"seq":0,"at":"2026-01-01T00:00:00.000Z","event":"begin","data":{"flowId":"f"}}\n';
const L1 =
  '{"v":1,"seq":1,"at":"2026-01-01T00:00:00.000Z","event":"start","step":"interrogate","attempt":1}\n';
const L2 = '{"v":1,"seq":2,"at":"2026-01-01T00:00:01.000Z","event":"done","step":"interrogate","data":{}}\n';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'journal-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('parseJournal', () => {
  it('reads complete lines', () => {
    const r = parseJournal(L0 + L1 + L2);
    expect(r.entries.map((e) => [e.seq, e.event])).toEqual([
      [0, 'begin'],
      [1, 'start'],
      [2, 'done'],
    ]);
    expect(r.tornTail).toBe(false);
    expect(r.validBytes).toBe(Buffer.byteLength(L0 + L1 + L2));
  });

  it('drops a torn last line: cut short, or unterminated, or garbage after the last newline', () => {
    for (const tail of [L2.slice(0, 25), L2.slice(0, -1), '\0\0\0\0\n', '{"v":1,"seq":7}\n']) {
      const r = parseJournal(L0 + L1 + tail);
      expect(r.entries).toHaveLength(2);
      expect(r.tornTail).toBe(true);
      expect(r.validBytes).toBe(Buffer.byteLength(L0 + L1));
    }
  });

  it('a bad line before the last is corruption, named by line', () => {
    expect(() => parseJournal(L0 + 'garbage\n' + L2, 'j.jsonl')).toThrow(
      expect.objectContaining({
        code: ErrorCode.MigrationJournalInvalid,
        message: expect.stringMatching(/^j\.jsonl:2: /),
      }),
    );
    // A line that parses but skips a sequence number.
    expect(() => parseJournal(L0 + L2 + L1, 'j.jsonl')).toThrow('j.jsonl:2: seq 2 where 1 was expected');
  });

  it('property: random and mutated journals yield entries or a coded error', () => {
    const valid = L0 + L1 + L2;
    const mutated = fc
      .tuple(fc.nat(valid.length), fc.nat(10), fc.string({ maxLength: 10 }))
      .map(([at, del, ins]) => valid.slice(0, at) + ins + valid.slice(at + del));
    fc.assert(
      fc.property(
        fc.oneof(fc.string({ maxLength: 200 }), mutated, fc.uint8Array({ maxLength: 100 })),
        (input) => {
          try {
            const r = parseJournal(typeof input === 'string' ? input : Buffer.from(input));
            r.entries.forEach((e, i) => expect(e.seq).toBe(i));
            expect(r.validBytes).toBeLessThanOrEqual(
              typeof input === 'string' ? Buffer.byteLength(input) : input.length,
            );
          } catch (e) {
            expect(e).toBeInstanceOf(SimError);
            expect((e as SimError).code).toBe(ErrorCode.MigrationJournalInvalid);
          }
        },
      ),
      { numRuns: 3000 },
    );
  });
});

describe('FileJournal', () => {
  it('appends stamped lines with a fixed key order and reads them back', () => {
    const p = join(dir, 'j.jsonl');
    const j = new FileJournal(p);
    j.append({ event: 'begin', data: { flowId: 'f' } }, T0);
    j.append({ event: 'start', step: 'interrogate', attempt: 1 }, T0);
    j.close();
    expect(readFileSync(p, 'utf8')).toBe(L0 + L1);
    const again = new FileJournal(p);
    expect(again.entries()).toHaveLength(2);
    again.append({ event: 'done', step: 'interrogate', data: {} }, T0 + 1000);
    again.close();
    expect(readFileSync(p, 'utf8')).toBe(L0 + L1 + L2);
  });

  it('truncates a torn tail on open so the next line starts clean', () => {
    const p = join(dir, 'j.jsonl');
    writeFileSync(p, L0 + L1);
    appendFileSync(p, L2.slice(0, 30)); // the crash cut this line short
    const j = new FileJournal(p);
    expect(j.tornTail).toBe(true);
    expect(j.entries()).toHaveLength(2);
    j.append({ event: 'done', step: 'interrogate', data: {} }, T0 + 1000);
    j.close();
    expect(readFileSync(p, 'utf8')).toBe(L0 + L1 + L2);
  });

  it('MemoryJournal renders the same text', () => {
    const m = new MemoryJournal();
    m.append({ event: 'begin', data: { flowId: 'f' } }, T0);
    m.append({ event: 'start', step: 'interrogate', attempt: 1 }, T0);
    expect(m.toText()).toBe(L0 + L1);
  });
});
