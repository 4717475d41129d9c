import { appendFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ManualClock } from '../../src/core/clock';
import { ErrorCode, SimError } from '../../src/core/errors';
import { parseEligibleProducts } from '../../src/migration/eligible-products';
import { runMigrationFlow, type MigrationFlowOptions } from '../../src/migration/flow';
import type { MigrationFlowResult } from '../../src/migration/flow-result';
import { FileJournal, MemoryJournal, type JournalEntry } from '../../src/migration/journal';
import { parseRegistrationCsv } from '../../src/migration/registration';
import { loadBuiltinRuleset, type Ruleset } from '../../src/migration/ruleset';
import { CrashingJournal } from './crashing-journal';
import { drive } from './drive';
import {
  FakeMeter,
  MPAN_A,
  MPRN_A,
  OWN,
  SimulatedCrash,
  esmeState,
  gsmeState,
  type FakeMeterState,
  type Op,
} from './fake-session';

const registration = parseRegistrationCsv(
  `mpxn,supplier_id,cohort\n${MPAN_A},${OWN},MOC Secure\n${MPRN_A},${OWN},MOC Secure\n`,
  'dcc.csv',
);
const products = parseEligibleProducts(
  'id: t\nproducts:\n  - { model: Liberty 100, firmware: P4X2G04 }\n  - { model: Liberty 110, firmware: P4X2G04 }\n',
  'products.yaml',
);
// New SMSO-replacement secrets (test values only).
const SECRET = Buffer.from('c0ffee0123456789', 'hex');
const credentials = [
  { level: 'supplier', secret: SECRET },
  { level: 'reader', secret: Buffer.from('0badf00d', 'hex') },
];

let v50: Ruleset;
let v51: Ruleset;
let dir: string;
beforeAll(async () => {
  v50 = await loadBuiltinRuleset('mehrs-5.0');
  v51 = await loadBuiltinRuleset('mehrs-5.1');
});
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'flow-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

interface Rig {
  clock: ManualClock;
  meter: FakeMeter;
  journalPath: string;
  run(overrides?: Partial<MigrationFlowOptions>): Promise<MigrationFlowResult>;
}

function rig(state: FakeMeterState, ruleset: () => Ruleset = () => v51): Rig {
  const clock = new ManualClock(Date.UTC(2026, 0, 1, 9));
  const meter = new FakeMeter(state, clock);
  const journalPath = join(dir, `${state.identity.serial}.jsonl`);
  return {
    clock,
    meter,
    journalPath,
    run: (overrides = {}) =>
      drive(
        runMigrationFlow({
          session: () => Promise.resolve(meter.session()),
          registration,
          ruleset: ruleset(),
          context: { eligibleProducts: products },
          newCredentials: credentials,
          journal: journalPath,
          retry: { attempts: 3, baseDelayMs: 100, maxDelayMs: 1000 },
          clock,
          ...overrides,
        }),
        clock,
      ),
  };
}

const journalOf = (path: string): JournalEntry[] => new FileJournal(path).entries() as JournalEntry[];
const events = (path: string): string[] =>
  journalOf(path).map((e) =>
    'step' in e ? `${e.event}:${e.step}` : e.event === 'end' ? `end:${e.outcome}` : e.event,
  );
const doneCounts = (path: string): Record<string, number> => {
  const out: Record<string, number> = {};
  for (const e of journalOf(path)) if (e.event === 'done') out[e.step] = (out[e.step] ?? 0) + 1;
  return out;
};

/** The meter's end state that matters: migration, card, Site ID, credentials, event types. */
const endState = (m: FakeMeter) => ({
  migration: m.state.migration,
  card: m.state.card,
  siteId: m.state.registration.siteId,
  secrets: m.state.secrets,
  events: m.state.events.map((e) => e.type),
  effects: m.effects,
});

const FULL_RUN = [
  'begin',
  'start:interrogate',
  'done:interrogate',
  'start:evaluate',
  'done:evaluate',
  'start:migrate',
  'done:migrate',
  'start:clear',
  'done:clear',
  'start:verify',
  'done:verify',
  'end:verified',
];

describe('migration flow: straight runs', () => {
  it('migrates, clears and verifies an ESME with a foreign card under mehrs-5.1', async () => {
    const r = rig(esmeState());
    const res = await r.run();
    expect(res.outcome).toBe('verified');
    expect(res.error).toBeNull();
    expect(events(r.journalPath)).toEqual(FULL_RUN);
    // After migrate the card record and Site ID read back empty.
    expect(res.after?.cardRecord).toEqual({ present: false });
    expect(res.after?.registration?.siteId).toBeNull();
    expect(res.after?.migrationState).toEqual({
      state: 'migrated',
      at: '2026-01-01T09:00:00.000Z',
      by: 'smets1-sim',
    });
    expect(res.verification).toEqual({ ok: true, mismatches: [] });
    expect(endState(r.meter)).toEqual({
      migration: { state: 'migrated', at: '2026-01-01T09:00:00.000Z', by: 'smets1-sim' },
      card: null,
      siteId: null,
      secrets: { supplier: 'c0ffee0123456789', reader: '0badf00d' },
      events: ['migrated', 'card-cleared'],
      effects: ['migrate', 'clear'],
    });
    expect(res.steps.map((s) => [s.step, s.status, s.attempts, s.retries])).toEqual([
      ['interrogate', 'done', 1, 0],
      ['evaluate', 'done', 1, 0],
      ['migrate', 'done', 1, 0],
      ['clear', 'done', 1, 0],
      ['verify', 'done', 1, 0],
    ]);
    // The write of the new secret is redacted in the record and the journal holds no secret.
    expect(res.migration?.evidence).toEqual([
      { kind: 'raw', label: 'redacted (held a credential): c1219-table table 42', bytes: '' },
      { kind: 'c1219-procedure', procedureId: 2054, request: '01', response: '00' },
    ]);
    const text = readFileSync(r.journalPath, 'utf8');
    expect(text).not.toContain('c0ffee0123456789');
    expect(text).not.toContain('0badf00d');
    expect(text).toContain('"credentialLevels":["supplier","reader"]');
  });

  it('stops a blocked installation after evaluation with its codes, and a re-run touches nothing', async () => {
    const r = rig(esmeState(), () => v50);
    const res = await r.run();
    expect(res.outcome).toBe('blocked');
    expect(res.evaluation?.blockingCodes).toEqual(['MA516']);
    expect(events(r.journalPath)).toEqual([
      'begin',
      'start:interrogate',
      'done:interrogate',
      'start:evaluate',
      'done:evaluate',
      'end:blocked',
    ]);
    expect(r.meter.calls.migrate + r.meter.calls.clearCardData).toBe(0);
    const reads = r.meter.calls.readIdentity;
    const again = await r.run();
    expect(again).toEqual(res);
    expect(r.meter.calls.readIdentity).toBe(reads);
    expect(events(r.journalPath)).toHaveLength(6);
  });

  it('GSME: blocked by MA517 under 5.0, verified under 5.1', async () => {
    expect((await rig(gsmeState(), () => v50).run()).evaluation?.blockingCodes).toEqual(['MA517']);
    rmSync(join(dir, 'G17UP000001.jsonl'));
    const res = await rig(gsmeState()).run();
    expect(res.outcome).toBe('verified');
  });

  it('missing card data under 5.0: cannot-evaluate, nothing changed', async () => {
    const r = rig(esmeState(), () => v50);
    r.meter.refuse.set('readCardRecord', new SimError(ErrorCode.ServiceAccessDenied, 'isc'));
    const res = await r.run();
    expect(res.outcome).toBe('cannot-evaluate');
    expect(res.evaluation?.undeterminedCodes).toEqual(['MA516']);
    expect(r.meter.effects).toEqual([]);
  });

  it('a meter migrated before the flow: already-migrated, nothing changed', async () => {
    const r = rig(
      esmeState({ migration: { state: 'migrated', at: '2025-01-01T00:00:00.000Z', by: 'someone' } }),
    );
    const res = await r.run();
    expect(res.outcome).toBe('already-migrated');
    expect(r.meter.calls.migrate).toBe(0);
    expect(r.meter.effects).toEqual([]);
  });

  it('nothing to clear: the clear step is done without sending a clear', async () => {
    const r = rig(esmeState({ card: null, registration: { mpxn: MPAN_A, supplierId: OWN, siteId: null } }));
    const res = await r.run();
    expect(res.outcome).toBe('verified');
    expect(res.clearing).toEqual({ cleared: false, alreadyEmpty: true, evidence: [] });
    expect(r.meter.calls.clearCardData).toBe(0);
    expect(res.steps[3]!.note).toBe('card record and Site ID already empty; no clear sent');
  });

  it('stopAfter evaluate gives passed; a later full run continues from the journal', async () => {
    const r = rig(esmeState());
    const first = await r.run({ stopAfter: 'evaluate' });
    expect(first.outcome).toBe('passed');
    expect(r.meter.effects).toEqual([]);
    const second = await r.run();
    expect(second.outcome).toBe('verified');
    expect(second.runs).toBe(2);
    // The journaled interrogation was reused: one identify for it, one for the verify read-back.
    expect(r.meter.calls.identify).toBe(2);
    expect(doneCounts(r.journalPath)).toEqual({
      interrogate: 1,
      evaluate: 1,
      migrate: 1,
      clear: 1,
      verify: 1,
    });
  });

  it('refuses a journal written for another rule set, and bad credentials', async () => {
    const r = rig(esmeState());
    await r.run({ stopAfter: 'evaluate' });
    await expect(r.run({ ruleset: v50 })).rejects.toMatchObject({
      code: ErrorCode.MigrationJournalInvalid,
      message: expect.stringContaining('rule set mehrs-5.1 v5.1'),
    });
    await expect(r.run({ newCredentials: [] })).rejects.toMatchObject({ code: ErrorCode.ConfigInvalid });
  });

  it('verification failure is reported with its mismatches', async () => {
    const r = rig(esmeState());
    r.meter.clearNow = () => true; // a firmware that acknowledges the clear but keeps the data
    const res = await r.run();
    expect(res.outcome).toBe('failed');
    expect(res.error?.codeName).toBe('MigrationVerifyFailed');
    expect(res.verification?.mismatches).toEqual([
      'card record still holds Payment Card ID 9826176066000000024',
      'Site ID still set (SITE-0001)',
    ]);
    expect(res.steps[4]!.status).toBe('failed');
  });
});

describe('migration flow: faults and retries', () => {
  it('retries transient faults with back-off on the clock', async () => {
    const r = rig(esmeState());
    r.meter.inject(
      'clearCardData',
      { before: new SimError(ErrorCode.LinkTimeout, 'no answer') },
      { before: new SimError(ErrorCode.ServiceBusy, 'bsy') },
    );
    const res = await r.run();
    expect(res.outcome).toBe('verified');
    const retries = journalOf(r.journalPath).filter((e) => e.event === 'retry');
    expect(
      retries.map((e) => (e.event === 'retry' ? [e.step, e.attempt, e.delayMs, e.error.codeName] : [])),
    ).toEqual([
      ['clear', 1, 100, 'LinkTimeout'],
      ['clear', 2, 200, 'ServiceBusy'],
    ]);
    expect(r.meter.effects).toEqual(['migrate', 'clear']);
  });

  it('a migrate whose answer is lost is not repeated: the retry finds it migrated by this flow', async () => {
    const r = rig(esmeState());
    r.meter.inject('migrate', { after: new SimError(ErrorCode.TransportTimeout, 'answer lost') });
    const res = await r.run();
    expect(res.outcome).toBe('verified');
    expect(r.meter.calls.migrate).toBe(1);
    expect(r.meter.effects).toEqual(['migrate', 'clear']);
    expect(res.migration?.skipped).toBe(true);
    expect(res.steps[2]).toMatchObject({
      attempts: 2,
      retries: 1,
      note: 'found already migrated by this flow; not migrated again',
    });
  });

  it('data faults are not retried; a resume after the cause is fixed completes', async () => {
    const r = rig(esmeState());
    r.meter.refuse.set(
      'clearCardData',
      new SimError(ErrorCode.ServiceAccessDenied, 'isc: needs supplier level'),
    );
    const res = await r.run();
    expect(res.outcome).toBe('failed');
    expect(res.error).toEqual({
      code: 402,
      codeName: 'ServiceAccessDenied',
      message: 'isc: needs supplier level',
    });
    expect(r.meter.calls.clearCardData).toBe(1);
    r.meter.refuse.clear();
    const done = await r.run();
    expect(done.outcome).toBe('verified');
    expect(r.meter.effects).toEqual(['migrate', 'clear']);
    expect(doneCounts(r.journalPath)).toEqual({
      interrogate: 1,
      evaluate: 1,
      migrate: 1,
      clear: 1,
      verify: 1,
    });
  });

  it('transient faults beyond the policy: communication-failure, then resume', async () => {
    const r = rig(esmeState());
    const drop = new SimError(ErrorCode.TransportDisconnected, 'link dropped');
    r.meter.inject('readMigrationState', { before: drop }, { before: drop }, { before: drop });
    const res = await r.run({ stopAfter: 'migrate' });
    // readMigrationState fails in the interrogation's own retries first (3 attempts).
    expect(res.outcome).toBe('communication-failure');
    expect(res.error?.codeName).toBe('TransportDisconnected');
    expect(r.meter.effects).toEqual([]);
    expect((await r.run()).outcome).toBe('verified');
  });

  it('a different meter behind the link on resume is refused before any change', async () => {
    const r = rig(esmeState());
    await r.run({ stopAfter: 'evaluate' });
    r.meter.state.identity = { ...r.meter.state.identity, deviceId: '90-B3-D5-1F-30-01-00-99' };
    const res = await r.run();
    expect(res.outcome).toBe('failed');
    expect(res.error?.codeName).toBe('MigrationStateConflict');
    expect(res.error?.message).toBe(
      'meter identity changed: device id 90-B3-D5-1F-30-01-00-99, journaled 90-B3-D5-1F-30-01-00-01',
    );
    expect(r.meter.effects).toEqual([]);
  });
});

describe('migration flow: killed and resumed', () => {
  let reference: { outcome: string; state: ReturnType<typeof endState>; evaluation: unknown };
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'flow-ref-'));
    const r = rig(esmeState());
    const res = await r.run();
    reference = { outcome: res.outcome, state: endState(r.meter), evaluation: res.evaluation };
    rmSync(dir, { recursive: true, force: true });
  });

  const check = async (r: Rig, tornTail: boolean) => {
    const res = await r.run();
    expect(res.outcome).toBe(reference.outcome);
    expect(res.evaluation).toEqual(reference.evaluation);
    expect(endState(r.meter)).toEqual(reference.state);
    expect(doneCounts(r.journalPath)).toEqual({
      interrogate: 1,
      evaluate: 1,
      migrate: 1,
      clear: 1,
      verify: 1,
    });
    expect(res.tornTailSeen).toBe(tornTail);
  };

  it.each(FULL_RUN.map((name, i) => [i + 1, name]))(
    'crash after journal entry %i (%s): resume ends as an uninterrupted run',
    async (n) => {
      const r = rig(esmeState());
      const store = new CrashingJournal(new FileJournal(r.journalPath), n as number);
      await expect(r.run({ journal: store })).rejects.toBeInstanceOf(SimulatedCrash);
      store.close();
      expect(journalOf(r.journalPath)).toHaveLength(n as number);
      await check(r, false);
    },
  );

  it.each(FULL_RUN.slice(0, -1).map((name, i) => [i + 1, name]))(
    'crash after entry %i (%s) with the next line torn mid-write: resume ignores the torn line',
    async (n) => {
      const r = rig(esmeState());
      const store = new CrashingJournal(new FileJournal(r.journalPath), n as number);
      await expect(r.run({ journal: store })).rejects.toBeInstanceOf(SimulatedCrash);
      store.close();
      // The crash also tore the following write: half a line, no newline.
      appendFileSync(r.journalPath, `{"v":1,"seq":${n},"at":"2026-01-01T09:00:00.000Z","event":"st`);
      await check(r, true);
    },
  );

  it.each<[Op]>([['migrate'], ['clearCardData']])(
    'crash right after the meter performed %s, before the journal heard of it',
    async (op) => {
      const r = rig(esmeState());
      r.meter.inject(op, { crash: true });
      await expect(r.run()).rejects.toBeInstanceOf(SimulatedCrash);
      await check(r, false);
      expect(r.meter.calls[op]).toBe(1);
    },
  );

  it('an in-memory journal resumes the same way', async () => {
    const r = rig(esmeState());
    const mem = new MemoryJournal();
    r.meter.inject('clearCardData', { crash: true });
    await expect(r.run({ journal: mem })).rejects.toBeInstanceOf(SimulatedCrash);
    const res = await r.run({ journal: mem });
    expect(res.outcome).toBe('verified');
    expect(res.clearing?.alreadyEmpty).toBe(true);
    expect(r.meter.effects).toEqual(['migrate', 'clear']);
  });
});

describe("reads: 'checks' (the first interrogation reads what the checks and the flow need)", () => {
  it('evaluates exactly as a full read, without asking for prepayment, clock or events', async () => {
    const full = rig(esmeState(), () => v50);
    const scoped = rig(esmeState(), () => v50);
    const a = await full.run({ stopAfter: 'evaluate' });
    // Same meter serial, so the same journal path: the second flow must not resume the first.
    rmSync(full.journalPath);
    const b = await scoped.run({ stopAfter: 'evaluate', reads: 'checks' });
    expect(b.outcome).toBe(a.outcome);
    expect(b.evaluation).toEqual(a.evaluation);
    expect(scoped.meter.calls).toMatchObject({ readPrepaymentSummary: 0, readClock: 0, readEventLog: 0 });
    expect(full.meter.calls.readPrepaymentSummary).toBe(1);
    expect(b.before?.notRead).toEqual(['prepayment', 'clock', 'events']);
    expect(b.before?.migrationState).toEqual({ state: 'smso-managed' });
  });

  it('still reads the migration state: an already migrated meter ends already-migrated', async () => {
    const r = rig(
      esmeState({ migration: { state: 'migrated', at: '2025-01-01T00:00:00.000Z', by: 'someone' } }),
    );
    const res = await r.run({ reads: 'checks' });
    expect(res.outcome).toBe('already-migrated');
    expect(r.meter.calls.migrate).toBe(0);
  });

  it('a full flow under 5.1 (no card check) still reads the card record it clears, and verifies with every field read', async () => {
    const r = rig(esmeState({ card: null }));
    const res = await r.run({ reads: 'checks' });
    expect(res.outcome).toBe('verified');
    expect(res.before?.notRead).toEqual(['prepayment', 'clock', 'events']);
    expect(res.before?.cardRecord).toEqual({ present: false });
    expect(res.after?.notRead).toBeUndefined();
    expect(res.after?.prepayment).not.toBeNull();
  });
});
