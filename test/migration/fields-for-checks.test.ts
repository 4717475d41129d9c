import { createCheckRegistry } from '../../src/migration/checks/registry';
import type { CheckDefinition } from '../../src/migration/checks/types';
import { fieldsForChecks } from '../../src/migration/evaluate';
import { INTERROGATION_FIELDS } from '../../src/migration/interrogation-schema';
import { loadBuiltinRuleset, type Ruleset } from '../../src/migration/ruleset';

const ruleset = (codes: string[]): Ruleset => ({
  id: 't',
  name: 't',
  version: '1',
  description: '',
  source: '',
  modelled: false,
  file: 't.yaml',
  checks: codes.map((code) => ({ code, severity: 'block', scope: { cohorts: null, deviceTypes: null } })),
});

describe('fieldsForChecks', () => {
  it('MEHRS 5.0 (MA516, MA517, MA110) needs the card record on top of what scope needs', async () => {
    expect(fieldsForChecks(await loadBuiltinRuleset('mehrs-5.0'))).toEqual([
      'session',
      'identity',
      'registration',
      'cardRecord',
    ]);
  });

  it('MEHRS 5.1 (MA110 only) needs no card record; `extra` fields are added in field order', async () => {
    const v51 = await loadBuiltinRuleset('mehrs-5.1');
    expect(fieldsForChecks(v51)).toEqual(['session', 'identity', 'registration']);
    expect(fieldsForChecks(v51, undefined, ['migrationState'])).toEqual([
      'session',
      'identity',
      'registration',
      'migrationState',
    ]);
  });

  it('a check that does not say what it reads, or one the registry does not know, needs every field', () => {
    const silent: CheckDefinition = {
      code: 'X1',
      title: 'x',
      description: 'x',
      deviceTypes: 'all',
      modelled: true,
      source: 'test',
      evaluate: () => ({ outcome: 'pass', reason: 'ok', evidence: [] }),
    };
    const registry = createCheckRegistry([silent, { ...silent, code: 'X2', reads: ['clock'] }]);
    expect(fieldsForChecks(ruleset(['X1']), registry)).toEqual([...INTERROGATION_FIELDS]);
    expect(fieldsForChecks(ruleset(['NOPE']), registry)).toEqual([...INTERROGATION_FIELDS]);
    expect(fieldsForChecks(ruleset(['X2']), registry)).toEqual([
      'session',
      'identity',
      'registration',
      'clock',
    ]);
  });
});
