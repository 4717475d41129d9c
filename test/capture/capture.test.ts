/**
 * `smets1-sim capture` acceptance (issue 9, docs/capture.md): a simulated meter on a pty is
 * interrogated (JSON A), captured through the CLI, the captured profile and state are served
 * the same way, and interrogated again (JSON B): A equals B apart from timestamps — for a
 * C12.18 profile and a DLMS profile. The capture holds no secret, and what the meter refuses is
 * reported with its error.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { secretVariable } from '../../src/capture/profile-doc';
import { secretBytes } from '../../src/profiles/device-binding';
import { loadProfile, validateProfileFile } from '../../src/profiles/loader';
import type { FirmwareProfile } from '../../src/profiles/schema';
import { startSimulator } from '../../src/sim/simulator';
import { cli, login, tempDir } from '../e2e/helpers';
import { captureFixture, timeless } from './helpers';

const ESME = 'secure-liberty100-esme-p4x2g04';
const DLMS = 'generic-dlms-esme-v1';

const { sims, supplySecrets } = captureFixture();

let n = 0;
async function serve(dir: string, o: { profileId?: string; profile?: FirmwareProfile; statePath?: string }) {
  const sim = await startSimulator({
    ...o,
    listen: `pty:${join(dir, `meter-${++n}`)}`,
    card: 'SUPB',
    supplierId: 'SUPA',
    seed: 7,
  });
  sims.push(sim);
  return sim;
}

async function roundTrip(baseId: string, who: string[], name: string) {
  const dir = tempDir();
  const base = loadProfile(baseId).profile;
  const a = await serve(dir, { profileId: baseId });
  // Away from what a generated meter holds, so that only captured values can make B equal A.
  await a.meter.apply('applyVend', {
    actor: 'test',
    mode: 'add',
    amountPence: 2345,
    source: 'keypad',
    utrnRef: 'UTRN-CAP-1',
  });
  await a.meter.apply('configurePrepayment', {
    actor: 'test',
    lowCreditThreshold: 333,
    emergencyCredit: { limit: 1500, threshold: 150 },
  });
  const A = await cli('interrogate', '--connect', a.endpoint.connect!, '--profile', baseId, ...who, '--json');
  expect(A.code).toBe(0);
  const profileOut = join(dir, `${name}.yaml`);
  const stateOut = join(dir, `${name}.db`);
  const c = await cli(
    'capture',
    '--connect',
    a.endpoint.connect!,
    '--profile',
    baseId,
    ...who,
    '--profile-out',
    profileOut,
    '--state-out',
    stateOut,
  );
  expect(c.err).toBe('');
  expect(c.code).toBe(0);
  const files = { yaml: readFileSync(profileOut), state: readFileSync(stateOut), out: c.out };
  supplySecrets(base, name);
  const s = await cli('capture-secrets', '--profile-file', profileOut, '--state', stateOut);
  expect(s.code).toBe(0);
  const v = validateProfileFile(profileOut);
  if (!v.ok || !v.profile) throw new Error(`captured profile invalid: ${JSON.stringify(v)}`);
  const b = await serve(dir, { profile: v.profile, statePath: stateOut });
  const B = await cli('interrogate', '--connect', b.endpoint.connect!, '--profile', baseId, ...who, '--json');
  expect(B.code).toBe(0);
  return { A: A.json(), B: B.json(), profile: v.profile, files, capture: c, meter: a.meter };
}

function expectNoSecret(haystacks: Buffer[], secrets: Buffer[]): void {
  for (const h of haystacks) {
    const text = h.toString('latin1').toLowerCase();
    for (const s of secrets) {
      expect(h.includes(s)).toBe(false);
      expect(text.includes(s.toString('hex').toLowerCase())).toBe(false);
    }
  }
}

describe('capture a C12.18 meter (secure-liberty100-esme-p4x2g04) over a pty', () => {
  it('serves the capture back: the interrogation is the same apart from timestamps', async () => {
    const r = await roundTrip(ESME, login(ESME, 'privileged'), 'clone-esme');
    // The Liberty profiles map no event log table: the one gap, in both runs.
    expect((r.A['gaps'] as { field: string }[]).map((g) => g.field)).toEqual(['events']);
    expect(timeless(r.B)).toEqual(timeless(r.A));
    // The card record of another supplier came across, in the state and on the wire.
    expect((r.B['cardRecord'] as { issuerSupplierId: string }).issuerSupplierId).toBe('SUPB');
    expect(r.profile.capture).toMatchObject({ stack: 'c1218', base: ESME, as: 'privileged', unreadable: [] });
    expect(r.profile.extends).toBeUndefined();
    expect(r.profile.captured.map((c) => c.path)).toContain('c1219.tables[MT1]');
    // Every table the base lays out decoded into the state; none needed raw bytes.
    expect(r.profile.c1219!.tables.map((t) => [t.id, t.raw === undefined])).toEqual(
      ['MT1', 'MT2', 'MT3', 'MT4', 'MT5', 'MT6', 'MT7'].map((id) => [id, true]),
    );
    expect(r.profile.capture!.notReproduced).toEqual([
      {
        item: 'ST42',
        reason: 'security table: not read (it holds passwords or keys); the clone serves its own',
      },
    ]);
  });

  it('writes no secret: the profile names a variable per level, the state holds none', async () => {
    const r = await roundTrip(ESME, login(ESME, 'privileged'), 'clone-esme-secrets');
    const base = loadProfile(ESME).profile;
    const secrets = [Buffer.from('SMSO-PRIVILEGED-0001')];
    expectNoSecret([r.files.yaml, r.files.state, Buffer.from(r.files.out)], secrets);
    for (const l of r.profile.accessLevels)
      expect(l.secret).toEqual({ env: secretVariable('clone-esme-secrets', l.name) });
    expect(r.profile.capture!.secretsOmitted.map((s) => s.path)).toEqual(
      base.accessLevels.map((l) => `accessLevels[${l.name}].secret`),
    );
    expect(r.files.out).toContain('secret not captured: accessLevels[privileged].secret');
  });

  it('reports the tables the level may not read, with the meter answer', async () => {
    const dir = tempDir();
    const a = await serve(dir, { profileId: ESME });
    const out = join(dir, 'clone-reader.yaml');
    const c = await cli(
      'capture',
      '--connect',
      a.endpoint.connect!,
      ...login(ESME, 'reader'),
      '--profile-out',
      out,
    );
    expect(c.code).toBe(0);
    const v = validateProfileFile(out);
    if (!v.ok || !v.profile) throw new Error('captured profile invalid');
    const p = v.profile;
    expect(p.capture!.unreadable.map((u) => u.item)).toEqual(['MT1', 'MT6', 'MT7']);
    for (const u of p.capture!.unreadable) expect(u.error).toMatch(/^isc: /);
    expect(c.out).toMatch(/unreadable: MT1: isc: /);
  });
});

describe('capture a DLMS meter (generic-dlms-esme-v1) over a pty', () => {
  const reader = ['--association', 'reader', '--password', '12345678'];

  it('serves the capture back: the interrogation is the same apart from timestamps', async () => {
    const r = await roundTrip(DLMS, reader, 'clone-dlms');
    expect(r.A['gaps']).toEqual([]);
    expect(timeless(r.B)).toEqual(timeless(r.A));
    expect(r.profile.capture).toMatchObject({ stack: 'dlms', base: DLMS, as: 'reader' });
    // Attributes the class has but the meter does not serve read as no-access in its object_list:
    // listed per object, not skipped silently.
    const unreadable = r.profile.capture!.unreadable;
    expect(unreadable).toContainEqual({
      item: '0-0:1.0.0.255 attributes 5,6,7,8',
      error: 'object_list access no-access for reader',
    });
    for (const u of unreadable) expect(u.error).toBe('object_list access no-access for reader');
    expect(r.profile.capture!.notReproduced).toEqual([]);
  });

  it('writes no password or key', async () => {
    const r = await roundTrip(DLMS, reader, 'clone-dlms-secrets');
    const base = loadProfile(DLMS).profile;
    expectNoSecret(
      [r.files.yaml, r.files.state, Buffer.from(r.files.out)],
      base.accessLevels.map((l) => secretBytes(l)),
    );
  });
});

describe('capture usage errors (exit 2, before any connection)', () => {
  it('refuses an output name that is not a profile id, an existing file, a DLMS capture without association', async () => {
    const dir = tempDir();
    const bad = await cli(
      'capture',
      '--connect',
      'tcp://127.0.0.1:1',
      ...login(ESME, 'reader'),
      '--profile-out',
      join(dir, 'Clone.yaml'),
    );
    expect(bad.code).toBe(2);
    expect(bad.err).toMatch(/the file name is the profile id/);
    const existing = join(dir, 'exists.yaml');
    writeFileSync(existing, 'x');
    const taken = await cli(
      'capture',
      '--connect',
      'tcp://127.0.0.1:1',
      ...login(ESME, 'reader'),
      '--profile-out',
      existing,
    );
    expect(taken.code).toBe(2);
    expect(taken.err).toMatch(/exists; remove it or pass --force/);
    expect(readFileSync(existing, 'utf8')).toBe('x');
    const dlms = await cli(
      'capture',
      '--connect',
      'tcp://127.0.0.1:1',
      '--profile',
      DLMS,
      '--profile-out',
      join(dir, 'd.yaml'),
    );
    expect(dlms.code).toBe(2);
    expect(dlms.err).toMatch(/--association NAME \(public, reader, management\)/);
  });
});
