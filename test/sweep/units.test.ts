/**
 * The sweep's small parts: the bounded pool, new-credential derivation, journal naming and the
 * interruptible journal, the progress tracker's rate and ETA, the summary counts, and the
 * credential phase read from a journal.
 */
import { createHmac } from 'node:crypto';
import fc from 'fast-check';
import { ErrorCode } from '../../src/core/errors';
import { MemoryJournal } from '../../src/migration/journal';
import { snapshotFromJournal } from '../../src/migration/flow-result';
import { FLOW_OUTCOMES } from '../../src/migration/outcome';
import { deriveSecret, newCredentialsFor } from '../../src/sweep/credentials';
import { InterruptibleJournal, journalFileName, SweepInterrupted } from '../../src/sweep/journals';
import { runPool } from '../../src/sweep/pool';
import { ProgressTracker } from '../../src/sweep/progress';
import { phaseFromJournal } from '../../src/sweep/session-source';
import { summarise, type SweepDeviceResult } from '../../src/sweep/summary';

const tick = (): Promise<void> => new Promise((r) => setImmediate(r));

describe('runPool', () => {
  test('runs every item once, starts them in order, never exceeds the bound', async () => {
    const started: number[] = [];
    let inFlight = 0;
    let max = 0;
    const stats = await runPool([...Array(20).keys()], 3, async (item) => {
      started.push(item);
      inFlight++;
      max = Math.max(max, inFlight);
      // Uneven durations: a slow item must not hold the others back.
      for (let i = 0; i < (item % 4) + 1; i++) await tick();
      inFlight--;
    });
    expect(started).toEqual([...Array(20).keys()]);
    expect(max).toBe(3);
    expect(stats).toEqual({ completed: 20, notStarted: 0, maxInFlight: 3 });
  });

  test('an abort stops new starts and lets in-flight items finish', async () => {
    const ac = new AbortController();
    const finished: number[] = [];
    const stats = await runPool(
      [...Array(10).keys()],
      2,
      async (item) => {
        if (item === 3) ac.abort();
        await tick();
        finished.push(item);
      },
      ac.signal,
    );
    // Items 0..3 started (3 aborts while 2 is still in flight); both in-flight ones finish.
    expect(finished.sort()).toEqual([0, 1, 2, 3]);
    expect(stats.notStarted).toBe(6);
    expect(stats.completed).toBe(4);
  });

  test('a throwing worker stops new work and the error surfaces after the others finish', async () => {
    const finished: number[] = [];
    await expect(
      runPool([0, 1, 2, 3, 4], 2, async (item) => {
        await tick();
        if (item === 1) throw new Error('boom');
        await tick();
        finished.push(item);
      }),
    ).rejects.toThrow('boom');
    expect(finished).toEqual([0]);
  });

  test('an empty list and a bound larger than the list', async () => {
    expect(await runPool([], 4, () => Promise.resolve())).toEqual({
      completed: 0,
      notStarted: 0,
      maxInFlight: 0,
    });
    expect((await runPool([1, 2], 50, () => tick())).maxInFlight).toBe(2);
  });
});

describe('new credentials', () => {
  const current = [
    { level: 'reader', userId: 0, secretHex: '00'.repeat(20) },
    { level: 'privileged', userId: 1, secretHex: Buffer.from('SMSO-PRIVILEGED-0001').toString('hex') },
    { level: 'engineering', userId: 2, secretHex: '303030303030' },
  ];

  test('derived per meter and level, reproducible, sized like the old secret', () => {
    const a = newCredentialsFor({ kind: 'derived', key: 'k' }, 'meter-1', current);
    const again = newCredentialsFor({ kind: 'derived', key: 'k' }, 'meter-1', current);
    const other = newCredentialsFor({ kind: 'derived', key: 'k' }, 'meter-2', current);
    expect(a.map((c) => c.level)).toEqual(['reader', 'privileged']);
    expect(a.map((c) => Buffer.from(c.secret).toString('hex'))).toEqual(
      again.map((c) => Buffer.from(c.secret).toString('hex')),
    );
    expect(Buffer.from(a[1]!.secret).equals(Buffer.from(other[1]!.secret))).toBe(false);
    expect(a[0]!.secret).toHaveLength(20);
    expect(a[1]!.secret).toHaveLength(20);
    // A printable old secret gives a printable (alphanumeric) new one; binary stays binary.
    expect(Buffer.from(a[1]!.secret).toString('latin1')).toMatch(/^[A-Za-z0-9]{20}$/);
    expect(Buffer.from(a[0]!.secret).toString('latin1')).not.toMatch(/^[A-Za-z0-9]{20}$/);
  });

  test('derivation is HMAC-SHA256(key, "<meter>/<level>/<block>"), blocks concatenated', () => {
    const s = deriveSecret('key', 'm', 'reader', Buffer.alloc(4));
    // HMAC-SHA256(key="key", "m/reader/0"), first 4 bytes.
    const want = createHmac('sha256', 'key').update('m/reader/0').digest().subarray(0, 4);
    expect(s.toString('hex')).toBe(want.toString('hex'));
    // Longer than one HMAC block: the second block continues with "/1".
    const long = deriveSecret('key', 'm', 'reader', Buffer.alloc(40));
    const block1 = createHmac('sha256', 'key').update('m/reader/1').digest().subarray(0, 8);
    expect(long.subarray(32).toString('hex')).toBe(block1.toString('hex'));
  });

  test('explicit levels, fixed credentials, and the refusals', () => {
    const eng = newCredentialsFor({ kind: 'derived', key: 'k', levels: ['engineering'] }, 'm', current);
    expect(eng.map((c) => [c.level, c.secret.length])).toEqual([['engineering', 6]]);
    const fixed = newCredentialsFor(
      { kind: 'fixed', credentials: [{ level: 'reader', secret: Buffer.from('0102', 'hex') }] },
      'm',
      current,
    );
    expect(Buffer.from(fixed[0]!.secret).toString('hex')).toBe('0102');
    expect(() =>
      newCredentialsFor({ kind: 'derived', key: 'k', levels: ['supplier'] }, 'm', current),
    ).toThrow(expect.objectContaining({ code: ErrorCode.ConfigInvalid }) as Error);
    expect(() => newCredentialsFor({ kind: 'fixed', credentials: [] }, 'm', current)).toThrow(
      expect.objectContaining({ code: ErrorCode.ConfigInvalid }) as Error,
    );
    expect(() => newCredentialsFor({ kind: 'derived', key: 'k' }, 'm', [current[2]!])).toThrow(
      expect.objectContaining({ code: ErrorCode.ConfigInvalid }) as Error,
    );
  });
});

describe('journals', () => {
  test('file names keep [A-Za-z0-9._-] and percent-encode the rest', () => {
    expect(journalFileName('moc-esme-g04-12')).toBe('moc-esme-g04-12.jsonl');
    expect(journalFileName('lab:1')).toBe('lab%3A1.jsonl');
    expect(journalFileName('a.b_c')).toBe('a.b_c.jsonl');
  });

  test('after the stop signal, entries that start work are refused; records still go through', () => {
    const ac = new AbortController();
    const inner = new MemoryJournal();
    const j = new InterruptibleJournal(inner, ac.signal, 'm-1');
    j.append({ event: 'begin', data: { flowId: 'f' } }, 0);
    j.append({ event: 'start', step: 'interrogate', attempt: 1 }, 0);
    ac.abort();
    // The step in flight records its result, and evaluation (no meter contact) may run.
    j.append({ event: 'done', step: 'interrogate', data: {} }, 0);
    j.append({ event: 'start', step: 'evaluate', attempt: 1 }, 0);
    j.append({ event: 'done', step: 'evaluate', data: {} }, 0);
    expect(() => j.append({ event: 'start', step: 'migrate', attempt: 1 }, 0)).toThrow(SweepInterrupted);
    expect(() =>
      j.append(
        {
          event: 'retry',
          step: 'migrate',
          attempt: 1,
          delayMs: 5,
          error: { code: 1, codeName: 'x', message: 'y' },
        },
        0,
      ),
    ).toThrow(SweepInterrupted);
    expect(() => j.append({ event: 'resume', data: {} }, 0)).toThrow(SweepInterrupted);
    j.append({ event: 'end', outcome: 'passed', error: null }, 0);
    expect(inner.entries().map((e) => e.event)).toEqual(['begin', 'start', 'done', 'start', 'done', 'end']);
    // SweepInterrupted is deliberately not a SimError: the flow treats it as a crash.
    expect(new SweepInterrupted('m').name).toBe('SweepInterrupted');
  });
});

describe('credential phase from the journal', () => {
  const begin = {
    event: 'begin' as const,
    data: {
      flowId: 'f',
      label: null,
      ruleset: { id: 'mehrs-5.1', version: '5.1' },
      migratedBy: 'x',
      credentialLevels: ['reader'],
    },
  };
  const snap = (...entries: Parameters<MemoryJournal['append']>[0][]) => {
    const j = new MemoryJournal();
    for (const e of [begin, ...entries]) j.append(e, 0);
    return snapshotFromJournal(j.entries());
  };

  test('no migrate yet: smso; started not done: uncertain; done: new', () => {
    expect(phaseFromJournal(undefined)).toBe('smso');
    expect(phaseFromJournal(snap())).toBe('smso');
    expect(phaseFromJournal(snap({ event: 'start', step: 'migrate', attempt: 1 }))).toBe('uncertain');
    expect(
      phaseFromJournal(
        snap(
          { event: 'start', step: 'migrate', attempt: 1 },
          {
            event: 'done',
            step: 'migrate',
            data: {
              state: { state: 'migrated', at: '2026-01-01T00:00:00.000Z', by: 'x' },
              skipped: false,
              evidence: [],
            },
          },
        ),
      ),
    ).toBe('new');
  });
});

describe('progress and summary', () => {
  const dev = (over: Partial<SweepDeviceResult>): SweepDeviceResult => ({
    meterId: 'm',
    outcome: 'passed',
    verdict: 'passed',
    blockingCodes: [],
    undeterminedCodes: [],
    error: null,
    migrated: false,
    cleared: false,
    retries: 0,
    runs: 1,
    fromJournal: false,
    ...over,
  });

  test('rate and ETA count devices worked on in this run only', () => {
    let now = 0;
    const t = new ProgressTracker(10, () => now);
    // Two devices found finished in their journals: done at once, no rate.
    t.finished(dev({ fromJournal: true }), false);
    t.finished(dev({ fromJournal: true, outcome: 'blocked', verdict: 'blocked' }), false);
    expect(t.snapshot('device').etaMs).toBeNull();
    t.deviceStarted();
    t.deviceStarted();
    expect(t.snapshot('device').inFlight).toBe(2);
    now = 2000;
    const p = t.finished(dev({}), true);
    t.finished(dev({ outcome: 'communication-failure', verdict: null }), true);
    const q = t.snapshot('device');
    expect(p.done).toBe(3);
    expect(q).toMatchObject({
      done: 4,
      inFlight: 0,
      fromJournal: 2,
      passed: 2,
      blocked: 1,
      communicationFailures: 1,
      elapsedMs: 2000,
      ratePerSec: 1,
      etaMs: 6000,
    });
  });

  test('summarise: verdicts, blocked by each code, outcomes, not finished', () => {
    const s = summarise(
      7,
      [
        dev({ meterId: 'a' }),
        dev({ meterId: 'b', outcome: 'blocked', verdict: 'blocked', blockingCodes: ['MA516'] }),
        dev({ meterId: 'c', outcome: 'blocked', verdict: 'blocked', blockingCodes: ['MA517', 'MA110'] }),
        dev({
          meterId: 'd',
          outcome: 'cannot-evaluate',
          verdict: 'cannot-evaluate',
          undeterminedCodes: ['MA110'],
        }),
        dev({ meterId: 'e', outcome: 'failed', migrated: true, cleared: true, retries: 2 }),
        dev({ meterId: 'f', outcome: 'communication-failure', verdict: null, retries: 3 }),
      ],
      0,
    );
    expect(s).toMatchObject({
      installations: 7,
      finished: 6,
      notFinished: 1,
      passed: 2,
      blocked: 2,
      blockedBy: { MA110: 1, MA516: 1, MA517: 1 },
      cannotEvaluate: 1,
      undeterminedBy: { MA110: 1 },
      communicationFailures: 1,
      failed: 1,
      migrated: 1,
      cleared: 1,
      verified: 0,
      retries: 5,
    });
    expect(Object.keys(s.blockedBy)).toEqual(['MA110', 'MA516', 'MA517']);
  });
});

describe('properties', () => {
  test('runPool: any sizes, bounds and abort points: each item at most once, in order, bound kept', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.nat(3), { maxLength: 40 }),
        fc.integer({ min: 1, max: 8 }),
        fc.option(fc.nat(40), { nil: undefined }),
        async (delays, bound, abortAt) => {
          const ac = new AbortController();
          const started: number[] = [];
          let inFlight = 0;
          let max = 0;
          const stats = await runPool(
            delays,
            bound,
            async (d, i) => {
              started.push(i);
              if (i === abortAt) ac.abort();
              inFlight++;
              max = Math.max(max, inFlight);
              for (let k = 0; k < d; k++) await tick();
              inFlight--;
            },
            ac.signal,
          );
          expect(started).toEqual([...Array(started.length).keys()]);
          expect(max).toBeLessThanOrEqual(bound);
          expect(stats.completed + stats.notStarted).toBe(delays.length);
          if (abortAt === undefined || abortAt >= delays.length) expect(stats.notStarted).toBe(0);
          else expect(started.length).toBeLessThanOrEqual(abortAt + bound);
        },
      ),
      { numRuns: 200 },
    );
  });

  test('summarise: the verdicts and outcomes always add up', () => {
    const outcome = fc.constantFrom(...FLOW_OUTCOMES);
    const verdict = fc.constantFrom<SweepDeviceResult['verdict']>(
      'passed',
      'blocked',
      'cannot-evaluate',
      null,
    );
    const code = fc.constantFrom('MA516', 'MA517', 'MA110');
    const device = fc.record({
      outcome,
      verdict,
      blockingCodes: fc.array(code, { maxLength: 3 }),
      retries: fc.nat(5),
    });
    fc.assert(
      fc.property(fc.array(device, { maxLength: 50 }), fc.nat(10), fc.nat(5), (devs, extra, internal) => {
        const list = devs.map((d, i): SweepDeviceResult => ({
          meterId: `m${i}`,
          outcome: d.outcome,
          verdict: d.verdict,
          blockingCodes: d.verdict === 'blocked' ? d.blockingCodes : [],
          undeterminedCodes: [],
          error: null,
          migrated: false,
          cleared: false,
          retries: d.retries,
          runs: 1,
          fromJournal: false,
        }));
        const s = summarise(list.length + extra + internal, list, internal);
        expect(s.finished + s.notFinished + s.internalErrors).toBe(s.installations);
        expect(s.notFinished).toBe(extra);
        const noVerdict = list.filter((d) => d.verdict === null).length;
        expect(s.passed + s.blocked + s.cannotEvaluate + noVerdict).toBe(s.finished);
        expect(Object.values(s.byOutcome).reduce((a, b) => a + b, 0)).toBe(s.finished);
        for (const [c, n] of Object.entries(s.blockedBy)) {
          expect(n).toBeLessThanOrEqual(s.blocked);
          expect(n).toBe(list.filter((d) => d.blockingCodes.includes(c)).length);
        }
        expect(s.retries).toBe(list.reduce((a, d) => a + d.retries, 0));
      }),
      { numRuns: 500 },
    );
  });
});
