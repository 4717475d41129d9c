/**
 * The profile keys capture adds (docs/profiles.md, docs/capture.md): raw tables, `env` secrets,
 * `captured:` provenance and the `capture:` section — valid uses validate, broken ones are issues
 * naming the path, an env secret resolves from the environment or names the missing variable.
 */
import { ErrorCode, SimError } from '../../src/core/errors';
import { secretBytes } from '../../src/profiles/device-binding';
import { validateProfileFile, type ProfileIssue } from '../../src/profiles/loader';
import { provenanceOf } from '../../src/profiles/provenance';
import { minimalProfile, setPath, TempProfiles, type Json } from '../profiles/helpers';

const tmp = new TempProfiles();
afterAll(() => tmp.remove());

function check(
  id: string,
  content: Json,
): { ok: true; profile: NonNullable<ReturnType<typeof validOf>> } | { ok: false; issues: ProfileIssue[] } {
  const v = validateProfileFile(tmp.write(id, content));
  return v.ok ? { ok: true, profile: validOf(v) } : { ok: false, issues: v.issues };
}

function validOf(v: ReturnType<typeof validateProfileFile>) {
  if (!v.ok || !v.profile) throw new Error('not valid');
  return v.profile;
}

function issues(id: string, content: Json): string[] {
  const r = check(id, content);
  return r.ok ? [] : r.issues.map((i) => `${i.path}: ${i.reason}`);
}

const rawTable = { id: 'MT9', name: 'MFG_TABLE_9', read: ['reader'], raw: { hex: '0102ff' } };

describe('captured profile keys', () => {
  it('a raw table, env secrets, captured provenance and a capture section validate', () => {
    let p = minimalProfile('cap-ok');
    p = setPath(p, 'c1219.tables[1]', rawTable);
    p = setPath(p, 'accessLevels[0].secret', { env: 'SMETS1_SECRET_CAP_OK_READER' });
    p = setPath(p, 'captured', [{ path: 'c1219.tables[MT9]', source: 'read at t as reader' }]);
    p = setPath(p, 'capture', {
      at: '2026-11-28T00:00:00.000Z',
      stack: 'c1218',
      base: 'mini-esme',
      as: 'reader',
      unreadable: [{ item: 'MT7', error: 'isc: read: device answered isc (0x03)' }],
      secretsOmitted: [{ path: 'accessLevels[reader].secret', supplyWith: 'SMETS1_SECRET_CAP_OK_READER' }],
    });
    const r = check('cap-ok', p);
    if (!r.ok) throw new Error(JSON.stringify(r.issues));
    expect(r.profile.c1219!.tables[1]).toMatchObject({ fields: [], raw: { hex: '0102ff' } });
    expect(r.profile.capture!.notReproduced).toEqual([]);
    expect(provenanceOf(r.profile, 'c1219.tables[MT9].raw')).toEqual({
      kind: 'captured',
      path: 'c1219.tables[MT9]',
      source: 'read at t as reader',
    });
    expect(provenanceOf(r.profile, 'c1219.tables[MT1]')).toEqual({ kind: 'unmarked' });
  });

  it('refuses a raw table with fields, a writable one, a table with neither, a captured path to nothing', () => {
    const both = setPath(minimalProfile('cap-both'), 'c1219.tables[0].raw', { hex: '00' });
    expect(issues('cap-both', both)).toEqual([
      'c1219.tables[0].raw: a raw table has no fields: give raw or fields, not both',
    ]);
    const writable = setPath(minimalProfile('cap-w'), 'c1219.tables[1]', { ...rawTable, write: ['reader'] });
    expect(issues('cap-w', writable)).toEqual([
      'c1219.tables[1].write: a raw table is read-only: its bytes map to no model path',
    ]);
    const empty = setPath(minimalProfile('cap-e'), 'c1219.tables[0].fields', []);
    expect(issues('cap-e', empty)).toEqual(['c1219.tables[0].fields: a table needs fields (or raw bytes)']);
    const badHex = setPath(minimalProfile('cap-h'), 'c1219.tables[1]', { ...rawTable, raw: { hex: '0' } });
    expect(issues('cap-h', badHex)).toEqual(['c1219.tables[1].raw.hex: hex bytes']);
    const nowhere = setPath(minimalProfile('cap-n'), 'captured', [
      { path: 'c1219.tables[MT5]', source: 's' },
    ]);
    expect(issues('cap-n', nowhere)).toEqual([
      'captured[0].path: "c1219.tables[MT5]" does not name anything in this profile',
    ]);
    const rawEngine = setPath(minimalProfile('cap-st0'), 'c1219.standardTables[0].raw', { hex: '00' });
    expect(issues('cap-st0', rawEngine)).toEqual([
      'c1219.standardTables[0].raw: ST0 is built by the table engine; it cannot be raw',
    ]);
    const rawStd = setPath(minimalProfile('cap-st2'), 'c1219.standardTables[1]', {
      id: 'ST2',
      read: 'any',
      raw: { hex: '00' },
    });
    expect(issues('cap-st2', rawStd)).toEqual([]);
    const unknownStd = setPath(minimalProfile('cap-st9'), 'c1219.standardTables[1]', {
      id: 'ST9',
      read: 'any',
    });
    expect(issues('cap-st9', unknownStd)).toEqual(['c1219.standardTables[1].id: unknown standard table ST9']);
    const rawUnknownStd = setPath(minimalProfile('cap-st9r'), 'c1219.standardTables[1]', {
      id: 'ST9',
      read: 'any',
      raw: { hex: '00' },
    });
    expect(issues('cap-st9r', rawUnknownStd)).toEqual([]);
    const badVar = setPath(minimalProfile('cap-v'), 'accessLevels[0].secret', { env: 'lower-case' });
    expect(issues('cap-v', badVar)).toEqual(['accessLevels[0].secret.env: an environment variable name']);
  });

  it('an env secret is read when needed: ASCII or hex:, and an unset variable is named', () => {
    const level = { name: 'reader', userId: 0, group: 0, secret: { env: 'SMETS1_TEST_SECRET' } };
    expect(secretBytes(level, { SMETS1_TEST_SECRET: 'abc' })).toEqual(Buffer.from('abc'));
    expect(secretBytes(level, { SMETS1_TEST_SECRET: 'hex:00ff' })).toEqual(Buffer.from([0, 0xff]));
    for (const env of [{}, { SMETS1_TEST_SECRET: 'hex:0' }, { SMETS1_TEST_SECRET: '' }]) {
      let err: unknown;
      try {
        secretBytes(level, env);
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(SimError);
      expect((err as SimError).code).toBe(ErrorCode.ConfigInvalid);
      expect((err as SimError).message).toMatch(
        /^access level reader: its secret comes from \$SMETS1_TEST_SECRET, which is/,
      );
    }
  });
});
