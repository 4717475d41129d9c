/**
 * Failure paths of interrogate / clear / migrate through main(argv, io): each ends with its
 * documented exit code (docs/cli.md "Exit codes") and one line on stderr saying why.
 *   2 usage: malformed registration file, bad credentials file, unknown rule set or profile,
 *     a profile that does not describe the meter, new credentials missing a level
 *   5 communication: nothing listening on the port
 *   1 failure: wrong password (authentication failed), a meter that refuses or fails to clear
 *     (reader privilege; the P4X2G05 firmware that leaves the Site ID), already migrated
 *   4 cannot evaluate: MA110 without an eligible product list
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { listen } from '../../src/transport/open';
import type { Simulator } from '../../src/sim/simulator';
import {
  ESME,
  ESME_G05,
  cli,
  login,
  productsFile,
  registrationFile,
  removeTempDirs,
  simulator,
  tempDir,
} from './helpers';

const dir = tempDir();
const products = productsFile(dir);
let esme: Simulator;
let g05: Simulator;
let reg: string;

beforeAll(async () => {
  esme = await simulator('tcp', dir, ESME, { card: 'SUPB', supplierId: 'SUPA' });
  g05 = await simulator('tcp', dir, ESME_G05, { card: 'SUPB', supplierId: 'SUPA' });
  reg = registrationFile(dir, esme, 'SUPA', 'MOC Secure');
});
afterAll(async () => {
  await esme.close();
  await g05.close();
  removeTempDirs();
});

const lines = (text: string): string[] => text.split('\n').filter(Boolean);

function migrateArgs(sim: Simulator, registration: string, ...more: string[]): string[] {
  return [
    'migrate',
    '--connect',
    sim.endpoint.connect!,
    '--ruleset',
    'mehrs-5.1',
    '--registration',
    registration,
    ...more,
  ];
}

describe('usage errors: exit 2', () => {
  it('a registration file that cannot be read as data', async () => {
    const bad = join(dir, 'bad.json');
    writeFileSync(bad, '[{"mpxn": "1400000000010", "supplierId": "SUPA",\n');
    const r = await cli(...migrateArgs(esme, bad, ...login(ESME, 'privileged'), '--products', products));
    expect(r.code).toBe(2);
    expect(lines(r.err)).toHaveLength(1);
    expect(r.err).toMatch(
      new RegExp(`^smets1-sim migrate: .*${bad}.*\\[MigrationRegistrationInvalid 803\\]$`),
    );
    const noHeader = join(dir, 'no-header.csv');
    writeFileSync(noHeader, 'meter,who\n1,2\n');
    const h = await cli(...migrateArgs(esme, noHeader, ...login(ESME, 'privileged')));
    expect(h.code).toBe(2);
    expect(h.err).toContain(noHeader);
  });

  it('credentials: a malformed file, both forms at once, none at all', async () => {
    const file = join(dir, 'creds.yaml');
    writeFileSync(file, "level: privileged\npassword: SMSO-PRIVILEGED-0001\npasswordHex: '00'\n");
    const r = await cli('interrogate', '--connect', esme.endpoint.connect!, '--credentials', file);
    expect(r.code).toBe(2);
    expect(r.err).toBe(
      `smets1-sim interrogate: ${file}: give exactly one of password and passwordHex [UsageError 1000]`,
    );
    writeFileSync(file, 'level: reader\npasswordHex: 0000\n');
    const unquoted = await cli('interrogate', '--connect', esme.endpoint.connect!, '--credentials', file);
    expect(unquoted.code).toBe(2);
    expect(unquoted.err).toContain(
      "passwordHex: hex bytes as a string: quote it in YAML, e.g. passwordHex: '00ff'",
    );
    const both = await cli(
      'clear',
      '--connect',
      esme.endpoint.connect!,
      '--credentials',
      file,
      '--password',
      'x',
    );
    expect(both.code).toBe(2);
    const none = await cli('clear', '--connect', esme.endpoint.connect!);
    expect(none.code).toBe(2);
    expect(none.err).toBe(
      'smets1-sim clear: who logs on? give --level NAME with --password or --password-hex, or --credentials FILE [UsageError 1000]',
    );
  });

  it('unknown rule set file, unknown profile, a profile that does not describe the meter, missing --connect', async () => {
    const rs = await cli(
      ...migrateArgs(esme, reg, ...login(ESME, 'privileged')).map((a) =>
        a === 'mehrs-5.1' ? 'mehrs-9.9' : a,
      ),
    );
    expect(rs.code).toBe(2);
    expect(rs.err).toMatch(/mehrs-9\.9.*cannot read.*\[MigrationRulesetInvalid 802\]$/);
    const prof = await cli(
      'interrogate',
      '--connect',
      esme.endpoint.connect!,
      '--profile',
      'nope',
      ...login(ESME, 'reader'),
    );
    expect(prof.code).toBe(2);
    expect(prof.err).toContain('no firmware profile "nope"');
    const wrong = await cli(
      'interrogate',
      '--connect',
      esme.endpoint.connect!,
      '--profile',
      ESME_G05,
      ...login(ESME, 'reader'),
    );
    expect(wrong.code).toBe(2);
    expect(wrong.err).toContain('the meter identifies as SECU LIB100 hw 1.0 fw 4.0');
    const noConnect = await cli('interrogate', ...login(ESME, 'reader'));
    expect(noConnect.code).toBe(2);
  });

  it('a new-credentials file that lacks a level the firmware sets', async () => {
    const file = join(dir, 'new.yaml');
    writeFileSync(file, '- level: privileged\n  password: NEW-PRIVILEGED\n');
    const r = await cli(
      ...migrateArgs(
        esme,
        reg,
        ...login(ESME, 'privileged'),
        '--products',
        products,
        '--new-credentials',
        file,
      ),
    );
    expect(r.code).toBe(2);
    expect(r.err).toContain('sets new secrets for reader, privileged; the file has none for reader');
    expect(esme.meter.readMigration().state).toBe('smso-managed');
  });
});

describe('communication failure: exit 5', () => {
  it('nothing listens on the port', async () => {
    const l = await listen('tcp-listen://127.0.0.1:0');
    const uri = `tcp://${l.info.path}`;
    await l.close();
    for (const cmd of ['interrogate', 'clear']) {
      const r = await cli(cmd, '--connect', uri, ...login(ESME, 'reader'), '--attempts', '2');
      expect(r.code).toBe(5);
      expect(lines(r.err)).toEqual([
        expect.stringMatching(
          new RegExp(
            `^smets1-sim ${cmd}: cannot reach the meter: .*connection refused.*\\[TransportConnectionRefused 111\\]$`,
          ),
        ),
      ]);
    }
    const m = await cli(
      'migrate',
      '--connect',
      uri,
      '--ruleset',
      'mehrs-5.1',
      '--registration',
      reg,
      ...login(ESME, 'privileged'),
      '--attempts',
      '1',
    );
    expect(m.code).toBe(5);
  });
});

describe('failures: exit 1', () => {
  it('a wrong password is an authentication failure', async () => {
    const wrong = ['--level', 'privileged', '--password', 'not-the-password'];
    for (const args of [
      ['interrogate', '--connect', esme.endpoint.connect!, ...wrong],
      ['clear', '--connect', esme.endpoint.connect!, ...wrong],
      migrateArgs(esme, reg, ...wrong, '--products', products),
    ]) {
      const r = await cli(...args);
      expect(r.code).toBe(1);
      expect(lines(r.err)).toEqual([
        expect.stringMatching(
          /^smets1-sim \w+: authentication failed: security: device answered isc \(0x03\) \[SessionAuthFailed 502\]$/,
        ),
      ]);
    }
    expect(esme.meter.state.security.failures.consecutive).toBe(3);
    expect(esme.meter.readCardRecord()).not.toBeNull();
  });

  it('clearing refused for lack of privilege (isc): the card stays', async () => {
    const r = await cli('clear', '--connect', esme.endpoint.connect!, ...login(ESME, 'reader'));
    expect(r.code).toBe(1);
    expect(r.err).toBe(
      'smets1-sim clear: read MT1 PAYMENT_CARD_TBL: access level reader may not read it (isc) [ServiceAccessDenied 402]',
    );
    expect(esme.meter.readCardRecord()).not.toBeNull();
  });

  it('P4X2G05 two-step clearing: clear runs MP1 then MP5 and leaves neither card nor Site ID', async () => {
    const c = await cli('clear', '--connect', g05.endpoint.connect!, ...login(ESME_G05, 'privileged'));
    expect(c.code).toBe(0);
    expect(g05.meter.readCardRecord()).toBeNull();
    expect(g05.meter.readRegistration().siteId).toBeNull();
  });

  it('MA110 without a product list cannot be evaluated (4); an already migrated meter is left alone (1)', async () => {
    const r = await cli(...migrateArgs(esme, reg, ...login(ESME, 'privileged')));
    expect(r.code).toBe(4);
    expect(r.err.split('\n').at(-1)).toMatch(/^smets1-sim migrate: cannot evaluate MA110: /);
    expect(r.out).toContain('rule set mehrs-5.1 v5.1: CANNOT-EVALUATE (MA110)');

    const creds = join(dir, 'esme-new.yaml');
    const ok = await cli(
      ...migrateArgs(
        esme,
        reg,
        ...login(ESME, 'privileged'),
        '--products',
        products,
        '--new-credentials',
        creds,
      ),
    );
    expect(ok.code).toBe(0);
    const again = await cli(
      ...migrateArgs(esme, reg, '--credentials', creds, '--level', 'privileged', '--products', products),
    );
    expect(again.code).toBe(1);
    expect(again.err).toMatch(
      /^smets1-sim migrate: already migrated by smets1-sim at .*; nothing was changed$/,
    );
  });
});
