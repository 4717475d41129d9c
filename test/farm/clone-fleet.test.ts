/**
 * A fleet of clones of a captured meter (issue 9 "Capture a real meter": capture writes a
 * profile and a state "that simulate and the farm can serve — so a fleet of clones of a real
 * meter answers the interrogation the way it does"; docs/capture.md "A fleet of clones").
 *
 * A simulated Secure Liberty with a non-default balance, thresholds and debts is captured over
 * TCP through the CLI; a fleet file gives a group of 20 clones (`template:` the captured state,
 * the captured profile through --profiles-dir, per-meter credentials, the captured profile's
 * env secrets left unset). The farm serves them; their prepayment is the captured one, their
 * identities are their own, the card shares are the fleet file's, an interrogation answers as
 * the original apart from identity, registration, card and times, and a sweep blocks exactly the
 * foreign-card clones under MEHRS 5.0 and none under 5.1. Then the error cases.
 */
import { createHash } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { Command } from 'commander';
import { stringify } from 'yaml';
import { secretVariable } from '../../src/capture/profile-doc';
import { registerFarm } from '../../src/cli/commands/farm';
import { validateMpanCore } from '../../src/device/identifiers';
import type { MeterState } from '../../src/device/state';
import { SqliteMeterStore } from '../../src/device/storage';
import { readCloneTemplate } from '../../src/farm/clone-template';
import { runFarm } from '../../src/farm/farm-command';
import { firmwareProfileResolver } from '../../src/farm/farm-profile';
import { parseFleetText } from '../../src/farm/fleet-spec';
import { generateFleet, planDigest } from '../../src/farm/generator';
import { manifestFromPlan, parseManifest, serializeManifest } from '../../src/farm/manifest';
import { parseEligibleProducts } from '../../src/migration/eligible-products';
import { loadBuiltinRuleset } from '../../src/migration/ruleset';
import { loadProfile } from '../../src/profiles/loader';
import type { Simulator } from '../../src/sim/simulator';
import { c1218SessionFactory } from '../../src/sweep/c1218-sessions';
import { dlmsMeterSessions } from '../../src/sweep/dlms-sessions';
import { runSweep } from '../../src/sweep/sweep';
import { c1218ServerFactory, startFarm, type StartedFarm } from '../../src/testing/farm';
import { cli, ESME, login, removeTempDirs, simulator, tempDir } from '../e2e/helpers';

const CLONE = 'clone-liberty';
const COUNT = 20;

let dir: string;
let clones: string;
let original: Simulator;
/** The original's interrogation (JSON of `interrogate --json`). */
let A: Record<string, unknown>;
let captured: MeterState;
let farm: StartedFarm | undefined;

const PRODUCTS = (() => {
  const p = loadProfile(ESME).profile.identity;
  return parseEligibleProducts(
    `id: clones\nproducts:\n  - { manufacturer: ${p.manufacturer}, model: ${p.model}, firmware: ${p.applicationFirmwareId}, deviceType: ESME }\n`,
    'clones-products.yaml',
  );
})();

function group(extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    name: 'clones',
    profile: CLONE,
    count: COUNT,
    transport: { kind: 'tcp-listen', host: '127.0.0.1', portStart: 0 },
    cohort: 'MOC Secure',
    suppliers: [{ id: 'SUPA' }, { id: 'SUPB' }],
    foreignCardShare: 0.25,
    noCardShare: 0.1,
    credentials: 'per-meter',
    template: 'clones/clone-liberty.db',
    ...extra,
  };
}

function writeFleet(name: string, groups: Record<string, unknown>[], seed = 'clone-seed'): string {
  const file = join(dir, name);
  writeFileSync(file, stringify({ fleet: 'clones', seed, groups }));
  return file;
}

/** What a clone may differ in from its original: identity, registration, card, times. */
function comparable(doc: Record<string, unknown>): unknown {
  const d = structuredClone(doc) as Record<string, unknown> & { evidence: { field: string }[] };
  for (const k of ['interrogatedAt', 'clock', 'identity', 'registration', 'cardRecord', 'session'])
    delete d[k];
  // ST1 (the session's identification) carries the serial number.
  const own = new Set(['clock', 'identity', 'registration', 'cardRecord', 'session']);
  d.evidence = d.evidence.filter((e) => !own.has(e.field));
  return d;
}

beforeAll(async () => {
  for (const l of loadProfile(ESME).profile.accessLevels) delete process.env[secretVariable(CLONE, l.name)];
  dir = tempDir();
  clones = join(dir, 'clones');
  mkdirSync(clones);
  original = await simulator('tcp', dir, ESME, { card: 'SUPB', supplierId: 'SUPA' });
  // Away from what a generated meter holds, so only the template can give the clones these.
  await original.meter.apply('applyVend', {
    actor: 'test',
    mode: 'add',
    amountPence: 4321,
    source: 'keypad',
    utrnRef: 'UTRN-CLONE-1',
  });
  await original.meter.apply('configurePrepayment', {
    actor: 'test',
    lowCreditThreshold: 444,
    emergencyCredit: { limit: 1600, threshold: 160 },
    debt: { paymentBasedPercent: 15, paymentBasedOutstandingPence: 2500 },
  });
  const who = login(ESME, 'privileged');
  const connect = original.endpoint.connect!;
  const a = await cli('interrogate', '--connect', connect, '--profile', ESME, ...who, '--json');
  expect(a.code).toBe(0);
  A = a.json();
  const c = await cli(
    'capture',
    '--connect',
    connect,
    '--profile',
    ESME,
    ...who,
    '--profile-out',
    join(clones, `${CLONE}.yaml`),
    '--state-out',
    join(clones, `${CLONE}.db`),
  );
  expect(c.err).toBe('');
  expect(c.code).toBe(0);
  const store = new SqliteMeterStore(join(clones, `${CLONE}.db`));
  captured = store.get('sim')!;
  store.close();
  farm = await startFarm({ fleet: writeFleet('fleet.yaml', [group()]), profilesDir: clones });
}, 60_000);

afterAll(async () => {
  await farm?.stop();
  await original?.close();
  removeTempDirs();
});

describe('a fleet of 20 clones of a captured Secure Liberty', () => {
  it('starts every clone from the captured prepayment, clock offset and migration state', () => {
    const p = original.meter.state.prepayment;
    // The capture carried the values the original was given.
    expect(captured.prepayment).toMatchObject({
      balance: p.balance,
      lowCreditThreshold: 444,
      emergencyCredit: { limit: 1600, threshold: 160 },
      debt: { paymentBasedPercent: 15, paymentBasedOutstandingPence: 2500 },
    });
    expect(p.balance).not.toBe(loadProfile(ESME).profile.defaults.balancePence ?? 1000);
    expect(farm!.meters).toHaveLength(COUNT);
    for (const m of farm!.meters) {
      const d = farm!.farm.detail(m.id);
      expect(d.state.profileId).toBe(CLONE);
      expect(d.state.prepayment).toEqual(captured.prepayment);
      expect(d.state.clock.offsetMs).toBe(captured.clock.offsetMs);
      expect(d.state.migration).toEqual(captured.migration);
      // A fresh event log: the clone's own creation only, none of the template's events.
      expect(d.events.map((e) => [e.seq, e.type])).toEqual([[1, 'meter-created']]);
      expect(d.state.security.failures).toEqual({ consecutive: 0, total: 0 });
    }
  });

  it('gives every clone its own valid identity and registration', () => {
    const ms = farm!.meters;
    const unique = (f: (m: (typeof ms)[number]) => string | null): void =>
      expect(new Set(ms.map(f)).size).toBe(COUNT);
    unique((m) => m.identity.serial);
    unique((m) => m.identity.deviceId);
    unique((m) => m.registration.mpxn);
    unique((m) => m.credentials.find((c) => c.level === 'privileged')!.secretHex);
    for (const m of ms) {
      expect(validateMpanCore(m.registration.mpanCore)).toBe(m.registration.mpxn);
      expect(m.identity.serial).not.toBe(captured.identity.serial);
      expect(m.identity.deviceId).not.toBe(captured.identity.deviceId);
      expect(m.registration.mpxn).not.toBe(captured.registration.mpanCore);
      expect(m.identity.model).toBe(captured.identity.model);
      expect(m.identity.applicationFirmwareId).toBe(captured.identity.applicationFirmwareId);
      // The meter serves what the manifest says.
      const s = farm!.farm.detail(m.id).state;
      expect(s.identity.serial).toBe(m.identity.serial);
      expect(s.registration.supplierId).toBe(m.registration.supplierId);
    }
  });

  it('holds cards as the fleet file says: 5 foreign, 2 without, 13 the supplier’s own', () => {
    const ms = farm!.meters;
    expect(ms.filter((m) => m.card?.foreign === true)).toHaveLength(5);
    expect(ms.filter((m) => m.card === null)).toHaveLength(2);
    expect(ms.filter((m) => m.card?.foreign === false)).toHaveLength(13);
    for (const m of ms)
      expect(farm!.farm.detail(m.id).state.card?.paymentCardId ?? null).toBe(m.card?.paymentCardId ?? null);
  });

  it('records the template and its SHA-256 in every clone’s manifest entry', () => {
    const sha = createHash('sha256')
      .update(readFileSync(join(clones, `${CLONE}.db`)))
      .digest('hex');
    for (const m of farm!.manifest.meters)
      expect(m.template).toEqual({ file: 'clones/clone-liberty.db', sha256: sha });
    const again = parseManifest(serializeManifest(farm!.manifest));
    expect(again.meters[0]!.template).toEqual({ file: 'clones/clone-liberty.db', sha256: sha });
  });

  it('answers the interrogation as the original, apart from identity, registration, card and times', async () => {
    for (const m of farm!.meters.slice(0, 3)) {
      const secret = m.credentials.find((c) => c.level === 'privileged')!.secretHex;
      const b = await cli(
        'interrogate',
        '--connect',
        m.endpoint.connect,
        '--profile',
        ESME,
        '--level',
        'privileged',
        '--password-hex',
        secret,
        '--json',
      );
      expect(b.err).toBe('');
      expect(b.code).toBe(0);
      const B = b.json();
      expect(comparable(B)).toEqual(comparable(A));
      expect((B['identity'] as { serial: string }).serial).toBe(m.identity.serial);
      expect(B['prepayment']).toEqual(A['prepayment']);
    }
  }, 30_000);

  it('is swept: MEHRS 5.0 blocks exactly the foreign-card clones, 5.1 none', async () => {
    const v50 = await loadBuiltinRuleset('mehrs-5.0');
    const v51 = await loadBuiltinRuleset('mehrs-5.1');
    const common = {
      manifest: farm!.manifest,
      eligibleProducts: PRODUCTS,
      sessionFactory: c1218SessionFactory({ profilesDir: clones, client: { timers: { ackTimeoutMs: 500 } } }),
      concurrency: 10,
    };
    const foreign = farm!.meters.filter((m) => m.card?.foreign).map((m) => m.id);
    const r50 = await runSweep({ ...common, ruleset: v50 });
    expect(r50.errors).toEqual([]);
    expect(r50.summary.blockedBy).toEqual({ MA516: 5 });
    expect(r50.devices.filter((d) => d.blockingCodes.includes('MA516')).map((d) => d.meterId)).toEqual(
      foreign,
    );
    expect(r50.summary.passed).toBe(COUNT - 5);
    const r51 = await runSweep({ ...common, ruleset: v51 });
    expect(r51.summary.blocked).toBe(0);
    expect(r51.summary.passed).toBe(COUNT);
  }, 60_000);
});

describe('generation with a template', () => {
  const resolver = (): ReturnType<typeof firmwareProfileResolver> => firmwareProfileResolver({ dir: clones });

  function plan(file: string, text: string) {
    writeFileSync(file, text);
    return generateFleet(parseFleetText(text, file), resolver(), { file });
  }

  it('is byte-identical for the same file and seed, and a changed template shows in the manifest', () => {
    const file = writeFleet('same.yaml', [group()]);
    const text = readFileSync(file, 'utf8');
    const a = plan(file, text);
    const b = plan(file, text);
    expect(planDigest(a)).toBe(planDigest(b));
    expect(serializeManifest(manifestFromPlan(a))).toBe(serializeManifest(manifestFromPlan(b)));
    // Another template: same identities (the seed decides them), another hash.
    const other = join(dir, 'other');
    mkdirSync(other, { recursive: true });
    copyFileSync(join(clones, `${CLONE}.db`), join(other, 'copy.db'));
    const store = new SqliteMeterStore(join(other, 'copy.db'));
    const s = store.get('sim')!;
    store.commit({
      id: 'sim',
      expectedRev: s.rev,
      state: { ...s, rev: s.rev + 1, prepayment: { ...s.prepayment, balance: s.prepayment.balance + 1 } },
      events: [],
      eventBound: 100,
    });
    store.close();
    const c = plan(file, text.replace('clones/clone-liberty.db', 'other/copy.db'));
    expect(c.meters.map((m) => m.identity.serial)).toEqual(a.meters.map((m) => m.identity.serial));
    expect(c.meters[0]!.template!.sha256).not.toBe(a.meters[0]!.template!.sha256);
    expect(c.templates!['clones']!.state.prepayment.balance).toBe(captured.prepayment.balance + 1);
  });

  it('reads a template file once, however many meters and groups use it', () => {
    const t = readCloneTemplate('x.db', join(clones, `${CLONE}.db`));
    const second = group({
      name: 'more-clones',
      count: 5,
      transport: { kind: 'mem', namePattern: 'more-{n}' },
    });
    const p = plan(
      join(dir, 'once.yaml'),
      stringify({ fleet: 'clones', seed: 1, groups: [group(), second] }),
    );
    expect(Object.keys(p.templates!)).toEqual(['clones', 'more-clones']);
    expect(p.templates!['clones']!.sha256).toBe(t.sha256);
    // One object: the second group did not read the file again.
    expect(p.templates!['more-clones']).toBe(p.templates!['clones']);
    expect(p.meters.filter((m) => m.template?.sha256 === t.sha256)).toHaveLength(COUNT + 5);
  });

  it('refuses a template of another profile, naming the file and line of the group', () => {
    const file = join(dir, 'wrong.yaml');
    const text = stringify({ fleet: 'clones', seed: 1, groups: [group({ profile: ESME })] });
    writeFileSync(file, text);
    expect(() => generateFleet(parseFleetText(text, file), firmwareProfileResolver(), { file })).toThrow(
      new RegExp(
        `wrong\\.yaml:\\d+: groups\\[0\\]\\.template: clones/clone-liberty\\.db is a meter of profile ${CLONE}, not of the group's profile ${ESME}`,
      ),
    );
  });

  it('refuses a missing, unreadable or wrong-kind template with a clear error', () => {
    const file = join(dir, 'bad.yaml');
    const gen =
      (template: string): (() => unknown) =>
      () =>
        plan(file, stringify({ fleet: 'clones', seed: 1, groups: [group({ template })] }));
    expect(gen('clones/missing.db')).toThrow(
      /bad\.yaml:\d+: groups\[0\]\.template: .*missing\.db: no such file/,
    );
    writeFileSync(join(dir, 'text.db'), 'not a database, just text '.repeat(10));
    expect(gen('text.db')).toThrow(/groups\[0\]\.template: .*text\.db is not a SQLite state file/);
    const empty = new Database(join(dir, 'other-kind.db'));
    empty.exec('CREATE TABLE t (a); INSERT INTO t VALUES (1);');
    empty.close();
    expect(gen('other-kind.db')).toThrow(/other-kind\.db is not a meter state file this version reads/);
    // A farm's state database holds many meters: not a template.
    const many = new SqliteMeterStore(join(dir, 'many.db'));
    for (const id of ['a', 'b']) many.create({ ...captured, id, eventSeq: 0 }, [], 100);
    many.close();
    expect(gen('many.db')).toThrow(/many\.db holds more than one meter/);
    mkdirSync(join(dir, 'a-dir.db'));
    expect(gen('a-dir.db')).toThrow(/a-dir\.db: cannot read/);
  });

  it('names the environment variable when credentials: profile needs the unset default', () => {
    const file = join(dir, 'profile-creds.yaml');
    const text = stringify({ fleet: 'clones', seed: 1, groups: [group({ credentials: 'profile' })] });
    expect(() => plan(file, text)).toThrow(
      new RegExp(
        `profile-creds\\.yaml:\\d+: groups\\[0\\]\\.credentials: .*\\$${secretVariable(CLONE, 'reader')}, which is not set`,
      ),
    );
  });

  it('takes explicit secrets per level without the variables, and the defaults once they are set', () => {
    const levels = loadProfile(ESME).profile.accessLevels.map((l) => l.name);
    const explicit = Object.fromEntries(levels.map((l, i) => [l, { ascii: `CLONE-SECRET-${i}` }]));
    const p = plan(
      join(dir, 'explicit.yaml'),
      stringify({ fleet: 'clones', seed: 1, groups: [group({ credentials: explicit })] }),
    );
    expect(p.meters[0]!.credentials.map((c) => Buffer.from(c.secretHex, 'hex').toString())).toEqual(
      levels.map((_, i) => `CLONE-SECRET-${i}`),
    );
    const vars = levels.map((l) => secretVariable(CLONE, l));
    try {
      for (const v of vars) process.env[v] = 'FROM-THE-ENVIRONMENT';
      const q = plan(
        join(dir, 'env.yaml'),
        stringify({ fleet: 'clones', seed: 1, groups: [group({ credentials: 'profile' })] }),
      );
      for (const c of q.meters[0]!.credentials)
        expect(Buffer.from(c.secretHex, 'hex').toString()).toBe('FROM-THE-ENVIRONMENT');
      // Per-meter secrets do not depend on the environment: same plan with or without it.
      const file = writeFleet('per-meter.yaml', [group()]);
      const withEnv = plan(file, readFileSync(file, 'utf8'));
      for (const v of vars) delete process.env[v];
      expect(planDigest(plan(file, readFileSync(file, 'utf8')))).toBe(planDigest(withEnv));
    } finally {
      for (const v of vars) delete process.env[v];
    }
  });
});

describe('farm --profiles-dir and resume', () => {
  it('runFarm takes profilesDir; with --state existing clones keep their stored state', async () => {
    const fleetFile = writeFleet('resume.yaml', [group({ count: 3 })], 'resume-seed');
    const stateDir = join(dir, 'resume-state');
    const start = () =>
      runFarm({
        fleetFile,
        stateDir,
        profilesDir: clones,
        factory: c1218ServerFactory,
        api: false,
        signals: new EventEmitter(),
      });
    const first = await start();
    const id = first.farm.list()[0]!.id;
    await first.farm.changeSupplier(id, 'SUPC');
    const meter = first.farm.detail(id);
    expect(meter.state.registration.supplierId).toBe('SUPC');
    await first.stop();
    const second = await start();
    try {
      expect(second.farm.resumed).toBe(true);
      const again = second.farm.detail(id);
      expect(again.state.registration.supplierId).toBe('SUPC');
      expect(again.state.prepayment).toEqual(captured.prepayment);
      expect(again.events.map((e) => e.type)).toEqual(['meter-created', 'supplier-changed']);
    } finally {
      await second.stop();
    }
  }, 30_000);

  it('the CLI passes --profiles-dir to the farm', async () => {
    const fleetFile = writeFleet('cli.yaml', [group({ count: 2 })], 'cli-seed');
    let seen: Parameters<typeof runFarm>[0] | undefined;
    const program = new Command().exitOverride();
    let code = -1;
    registerFarm(
      program,
      { out: () => undefined, err: () => undefined },
      (c) => (code = c),
      async (o) => {
        seen = o;
        const running = await runFarm({ ...o, api: false, signals: new EventEmitter() });
        void running.stop();
        return running;
      },
    );
    await program.parseAsync([
      'node',
      'x',
      'farm',
      '--fleet',
      fleetFile,
      '--profiles-dir',
      clones,
      '--no-api',
    ]);
    expect(seen?.profilesDir).toBe(clones);
    expect(code).toBe(0);
  }, 30_000);
});

describe('a fleet of DLMS clones (generic-dlms-esme-v1 captured as reader)', () => {
  const DLMS = 'generic-dlms-esme-v1';
  const DCLONE = 'clone-dlms';
  let dlmsFarm: StartedFarm | undefined;
  let dlmsCaptured: MeterState;

  beforeAll(async () => {
    const sim = await simulator('pty', dir, DLMS, { card: 'SUPB', supplierId: 'SUPA' });
    try {
      await sim.meter.apply('configurePrepayment', {
        actor: 'test',
        lowCreditThreshold: 555,
        debt: { paymentBasedPercent: 20, paymentBasedOutstandingPence: 1234 },
      });
      const c = await cli(
        'capture',
        '--connect',
        sim.endpoint.connect!,
        '--profile',
        DLMS,
        '--association',
        'reader',
        '--password',
        '12345678',
        '--profile-out',
        join(clones, `${DCLONE}.yaml`),
        '--state-out',
        join(clones, `${DCLONE}.db`),
      );
      expect(c.code).toBe(0);
    } finally {
      await sim.close();
    }
    dlmsCaptured = readCloneTemplate('t', join(clones, `${DCLONE}.db`)).state;
    dlmsFarm = await startFarm({
      fleet: writeFleet(
        'dlms.yaml',
        [
          group({
            name: 'dlms-clones',
            profile: DCLONE,
            count: 4,
            template: `clones/${DCLONE}.db`,
            foreignCardShare: 0.5,
            noCardShare: 0,
          }),
        ],
        'dlms-seed',
      ),
      profilesDir: clones,
    });
  }, 60_000);
  afterAll(() => dlmsFarm?.stop());

  it('derives 16-byte keys per meter without the variables, and is swept by the management association', async () => {
    const ms = dlmsFarm!.meters;
    for (const m of ms) {
      const key = (level: string): string => m.credentials.find((c) => c.level === level)!.secretHex;
      expect(key('management-ek')).toHaveLength(32);
      expect(key('management-ak')).toHaveLength(32);
      expect(Buffer.from(key('reader'), 'hex').toString()).toMatch(/^[A-Za-z0-9]{8}$/);
      const s = dlmsFarm!.farm.detail(m.id).state;
      expect(s.prepayment).toEqual(dlmsCaptured.prepayment);
      expect(s.prepayment.lowCreditThreshold).toBe(555);
      expect(s.prepayment.debt.paymentBasedOutstandingPence).toBe(1234);
    }
    const products = parseEligibleProducts(
      `id: dlms\nproducts:\n  - { manufacturer: ${dlmsCaptured.identity.manufacturer}, model: ${dlmsCaptured.identity.model}, firmware: ${dlmsCaptured.identity.applicationFirmwareId}, deviceType: ESME }\n`,
      'dlms-products.yaml',
    );
    const sweep = async (id: 'mehrs-5.0' | 'mehrs-5.1') =>
      runSweep({
        manifest: dlmsFarm!.manifest,
        ruleset: await loadBuiltinRuleset(id),
        eligibleProducts: products,
        sessionFactory: c1218SessionFactory({ profilesDir: clones }),
        meterSessions: dlmsMeterSessions({ profilesDir: clones, timeoutMs: 5_000 }),
        concurrency: 4,
      });
    const r50 = await sweep('mehrs-5.0');
    expect(r50.errors).toEqual([]);
    expect(r50.summary.blockedBy).toEqual({ MA516: 2 });
    expect(r50.devices.filter((d) => d.blockingCodes.includes('MA516')).map((d) => d.meterId)).toEqual(
      ms.filter((m) => m.card?.foreign).map((m) => m.id),
    );
    const r51 = await sweep('mehrs-5.1');
    expect(r51.summary.passed).toBe(4);
  }, 60_000);
});
