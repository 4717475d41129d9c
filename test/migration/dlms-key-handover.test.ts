/**
 * The migration flow's key hand-over against a real simulated DLMS ESME (wrapper over an
 * in-memory listener): the journal records the intent (levels and key fingerprints) before the
 * key_transfer and the fact after a new association with the new keys; a flow killed at every
 * boundary — after each journal entry, right after the meter installed the keys, right after
 * the verification — resumes in a "new process" (a fresh session factory that knows only the
 * SMSO credentials and the new ones), finds which keys are live by trying the new keys first
 * and the old ones second, and ends exactly as an uninterrupted run: one key transfer, one
 * migration, one clear, new keys live, card record gone.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runMigrationFlow } from '../../src/migration/flow';
import type { MigrationFlowResult } from '../../src/migration/flow-result';
import { FileJournal, type JournalEntry, type JournalStore } from '../../src/migration/journal';
import { loadBuiltinRuleset, type Ruleset } from '../../src/migration/ruleset';
import type { Credential, MeterSession, SessionRequest } from '../../src/migration/session';
import { dlmsSessionSource } from '../../src/migration/sessions/dlms-session';
import { serveDlmsMeter } from '../../src/profiles/dlms-serve';
import { listen } from '../../src/transport/open';
import type { Listener } from '../../src/transport/types';
import {
  DLMS_ESME,
  defaultCredentials,
  eligible,
  makeMeter,
  profile,
  registrationFor,
  withLink,
} from '../e2e-dlms/helpers';
import { CrashingJournal } from './crashing-journal';
import { SimulatedCrash } from './fake-session';

const p = withLink(profile(DLMS_ESME), 'wrapper');
const NEW: Credential[] = [
  { level: 'reader', secret: Buffer.from('reader-after') },
  { level: 'management-ek', secret: Buffer.alloc(16, 0x5e) },
  { level: 'management-ak', secret: Buffer.alloc(16, 0xa5) },
];
const OLD = defaultCredentials(p, 'management');
const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

let ruleset: Ruleset;
let dir: string;
let n = 0;
beforeAll(async () => {
  ruleset = await loadBuiltinRuleset('mehrs-5.1');
});
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'dlms-handover-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

type Hook = 'transferKeys' | 'verifyKeys';

async function rig() {
  const { meter } = makeMeter(p, { card: 'SUPB', supplierId: 'SUPA' });
  const name = `dlms-handover-${++n}`;
  const listener: Listener = await listen(`mem:${name}`);
  const served = serveDlmsMeter(listener, meter, p);
  const journalPath = join(dir, `flow-${n}.jsonl`);
  const requests: SessionRequest['credentials'][] = [];
  /** One "process": a factory that knows the SMSO credentials only; optionally dies after a call. */
  const run = async (
    o: { journal?: JournalStore; crashAfter?: Hook; newCredentials?: Credential[] } = {},
  ) => {
    const factory = dlmsSessionSource({
      connect: `mem:${name}`,
      profile: p,
      credentials: OLD,
      timeoutMs: 5_000,
    });
    const session = async (req?: SessionRequest): Promise<MeterSession> => {
      requests.push(req?.credentials ?? 'old');
      const s = await factory(req);
      const hook = o.crashAfter;
      if (hook) {
        const original = s[hook].bind(s) as (...a: unknown[]) => Promise<unknown>;
        Object.assign(s, {
          [hook]: async (...a: unknown[]) => {
            await original(...a);
            throw new SimulatedCrash(`after ${hook}`);
          },
        });
      }
      return s;
    };
    return runMigrationFlow({
      session,
      registration: registrationFor(meter, 'SUPA'),
      ruleset,
      context: { eligibleProducts: eligible(p) },
      newCredentials: o.newCredentials ?? NEW,
      journal: o.journal ?? journalPath,
    });
  };
  const close = async () => {
    await served.close();
    await listener.close();
  };
  return { meter, run, close, journalPath, requests };
}

function journal(path: string): JournalEntry[] {
  return readFileSync(path, 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as JournalEntry);
}

function label(e: JournalEntry): string {
  return e.event === 'keys' ? `keys ${e.phase}` : 'step' in e ? `${e.event} ${e.step}` : e.event;
}

type Rig = Awaited<ReturnType<typeof rig>>;

function expectMigratedOnce(r: Rig, res: MigrationFlowResult): void {
  expect(res.error).toBeNull();
  expect(res.outcome).toBe('verified');
  const sec = r.meter.state.security.secrets;
  expect([sec['management-ek'], sec['management-ak'], sec['master']]).toEqual([
    '5e'.repeat(16),
    'a5'.repeat(16),
    hex(OLD.keys!.kek!),
  ]);
  expect(sec['reader']).toBe(Buffer.from('reader-after').toString('hex'));
  expect(r.meter.readCardRecord()).toBeNull();
  expect(r.meter.readMigration()).toMatchObject({ state: 'migrated', by: 'smets1-sim' });
  const count = (t: string) => r.meter.events().filter((e) => e.type === t).length;
  expect([count('keys-transferred'), count('migrated'), count('card-cleared')]).toEqual([1, 1, 1]);
  const text = readFileSync(r.journalPath, 'utf8');
  for (const c of NEW) expect(text).not.toContain(Buffer.from(c.secret).toString('hex'));
}

const FULL_RUN = [
  'begin',
  'start interrogate',
  'done interrogate',
  'start evaluate',
  'done evaluate',
  'start migrate',
  'keys intent',
  'keys live',
  'done migrate',
  'start clear',
  'done clear',
  'start verify',
  'done verify',
  'end',
];

describe('DLMS key hand-over in the migration flow', () => {
  it('journals the intent before the key transfer and the fact after the new keys associated', async () => {
    const r = await rig();
    try {
      const res = await r.run();
      expectMigratedOnce(r, res);
      const entries = journal(r.journalPath);
      expect(entries.map(label)).toEqual(FULL_RUN);
      const keys = entries.filter((e) => e.event === 'keys');
      expect(keys.map((e) => (e.event === 'keys' ? e.keys : []))).toEqual([
        [
          { level: 'management-ak', fingerprint: expect.stringMatching(/^sha256:[0-9a-f]{8}$/) },
          { level: 'management-ek', fingerprint: expect.stringMatching(/^sha256:[0-9a-f]{8}$/) },
        ],
        expect.anything(),
      ]);
      // One session: the flow asked for the SMSO credentials, the session switched keys itself.
      expect(r.requests).toEqual(['old']);
      // The key transfer is on record, without the wrapped keys.
      expect(res.migration?.evidence[0]).toEqual({
        kind: 'raw',
        label:
          'key_transfer 0-0:43.0.0.255 method 2: management-ek, management-ak (wrapped keys not recorded)',
        bytes: '',
      });
    } finally {
      await r.close();
    }
  });

  it.each(FULL_RUN.map((name, i) => [i + 1, name]))(
    'killed after journal entry %i (%s): the resumed flow ends as an uninterrupted run',
    async (k) => {
      const r = await rig();
      try {
        const store = new CrashingJournal(new FileJournal(r.journalPath), k as number);
        await expect(r.run({ journal: store })).rejects.toBeInstanceOf(SimulatedCrash);
        store.close();
        const res = await r.run();
        expectMigratedOnce(r, res);
      } finally {
        await r.close();
      }
    },
  );

  it('killed right after the meter installed the keys, before verification: resume finds the new keys live', async () => {
    const r = await rig();
    try {
      await expect(r.run({ crashAfter: 'transferKeys' })).rejects.toBeInstanceOf(SimulatedCrash);
      expect(r.meter.state.security.secrets['management-ek']).toBe('5e'.repeat(16));
      expect(journal(r.journalPath).map(label).slice(-2)).toEqual(['start migrate', 'keys intent']);
      r.requests.length = 0;
      const res = await r.run();
      expectMigratedOnce(r, res);
      // The resumed run asked for the new keys first, and they associated.
      expect(r.requests[0]).toBe('new');
      expect(r.requests).not.toContain('old');
      expect(
        journal(r.journalPath)
          .filter((e) => e.event === 'keys')
          .map(label),
      ).toEqual(['keys intent', 'keys live']);
    } finally {
      await r.close();
    }
  });

  it('killed after the intent, before the transfer: the new keys are refused, the old ones associate, the transfer runs', async () => {
    const r = await rig();
    try {
      const store = new CrashingJournal(new FileJournal(r.journalPath), FULL_RUN.indexOf('keys intent') + 1);
      await expect(r.run({ journal: store })).rejects.toBeInstanceOf(SimulatedCrash);
      store.close();
      expect(r.meter.state.security.secrets['management-ek']).toBe(hex(OLD.keys!.ek));
      r.requests.length = 0;
      const res = await r.run();
      expectMigratedOnce(r, res);
      expect(r.requests.slice(0, 2)).toEqual(['new', 'old']);
      // The refused try counted once on the device, and the good association reset it.
      expect(r.meter.events().map((e) => e.type)).toEqual(
        expect.arrayContaining(['bad-password', 'failures-reset']),
      );
      expect(r.meter.state.security.failures.consecutive).toBe(0);
    } finally {
      await r.close();
    }
  });

  it('killed after verification, before the fact was journaled: resume journals it without a second transfer', async () => {
    const r = await rig();
    try {
      await expect(r.run({ crashAfter: 'verifyKeys' })).rejects.toBeInstanceOf(SimulatedCrash);
      r.requests.length = 0;
      const res = await r.run();
      expectMigratedOnce(r, res);
      expect(r.requests[0]).toBe('new');
    } finally {
      await r.close();
    }
  });

  it('a resume with other new keys than the journaled intent is refused and changes nothing more', async () => {
    const r = await rig();
    try {
      const store = new CrashingJournal(new FileJournal(r.journalPath), FULL_RUN.indexOf('keys intent') + 1);
      await expect(r.run({ journal: store })).rejects.toBeInstanceOf(SimulatedCrash);
      store.close();
      const other = NEW.map((c) =>
        c.level === 'management-ek' ? { ...c, secret: Buffer.alloc(16, 0x77) } : c,
      );
      const res = await r.run({ newCredentials: other });
      expect(res.outcome).toBe('failed');
      expect(res.error?.codeName).toBe('MigrationJournalInvalid');
      expect(res.error?.message).toMatch(/^the journal records a key hand-over of other keys/);
      expect(r.meter.state.security.secrets['management-ek']).toBe(hex(OLD.keys!.ek));
      expect(r.meter.readMigration().state).toBe('smso-managed');
    } finally {
      await r.close();
    }
  });

  it('refuses to hand the master key over: it is the key the others travel under', async () => {
    const r = await rig();
    try {
      const res = await r.run({
        newCredentials: [...NEW, { level: 'master', secret: Buffer.alloc(16, 1) }],
      });
      expect(res.outcome).toBe('failed');
      expect(res.error?.codeName).toBe('ConfigInvalid');
      expect(r.meter.state.security.secrets['management-ek']).toBe(hex(OLD.keys!.ek));
    } finally {
      await r.close();
    }
  });
});
