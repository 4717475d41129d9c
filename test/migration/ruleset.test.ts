import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { ErrorCode, SimError } from '../../src/core/errors';
import { createCheckRegistry } from '../../src/migration/checks/registry';
import type { CheckDefinition } from '../../src/migration/checks/types';
import { parseEligibleProducts } from '../../src/migration/eligible-products';
import {
  BUILTIN_RULESET_IDS,
  loadBuiltinRuleset,
  loadRuleset,
  parseRuleset,
  resolveRuleset,
} from '../../src/migration/ruleset';

function expectError(fn: () => unknown, code: number, message: string): SimError {
  let caught: unknown;
  try {
    fn();
  } catch (e) {
    caught = e;
  }
  expect(caught).toBeInstanceOf(SimError);
  const e = caught as SimError;
  expect(e.code).toBe(code);
  expect(e.message).toBe(message);
  return e;
}

describe('shipped rule sets', () => {
  it('mehrs-5.0: MA516 + MA517 for MOC Secure, MA110 for all', async () => {
    const rs = await loadBuiltinRuleset('mehrs-5.0');
    expect(rs.id).toBe('mehrs-5.0');
    expect(rs.version).toBe('5.0');
    expect(rs.modelled).toBe(true);
    expect(rs.checks).toEqual([
      { code: 'MA516', scope: { cohorts: ['MOC Secure'], deviceTypes: ['ESME'] }, severity: 'block' },
      { code: 'MA517', scope: { cohorts: ['MOC Secure'], deviceTypes: ['GSME'] }, severity: 'block' },
      { code: 'MA110', scope: { cohorts: null, deviceTypes: null }, severity: 'block' },
    ]);
  });

  it('mehrs-5.1: MA516 and MA517 removed', async () => {
    const rs = await loadBuiltinRuleset('mehrs-5.1');
    expect(rs.version).toBe('5.1');
    expect(rs.checks.map((c) => c.code)).toEqual(['MA110']);
  });

  it('resolveRuleset takes an id or a path', async () => {
    expect([...BUILTIN_RULESET_IDS]).toEqual(['mehrs-5.0', 'mehrs-5.1']);
    const dir = mkdtempSync(join(tmpdir(), 'rs-'));
    try {
      const p = join(dir, 'mine.yaml');
      writeFileSync(p, "id: mine\nname: Mine\nversion: '2'\nchecks: []\n");
      expect((await resolveRuleset('mehrs-5.1')).id).toBe('mehrs-5.1');
      const mine = await resolveRuleset(p);
      expect(mine).toMatchObject({ id: 'mine', version: '2', file: p, checks: [] });
      await expect(loadRuleset(join(dir, 'missing.yaml'))).rejects.toMatchObject({
        code: ErrorCode.MigrationRulesetInvalid,
      });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('user rule sets', () => {
  it('select and scope checks; cohorts accept DCC spellings', () => {
    const rs = parseRuleset(
      [
        'id: secure-only', // line 1
        'name: Secure ESMEs only',
        "version: '0.1'",
        'checks:',
        '  - code: MA516', // line 5
        '    scope:',
        '      cohorts: [MOC (Secure), moc-mds]',
        '    severity: warn',
      ].join('\n'),
      'secure-only.yaml',
    );
    expect(rs.checks).toEqual([
      { code: 'MA516', scope: { cohorts: ['MOC Secure', 'MOC MDS'], deviceTypes: null }, severity: 'warn' },
    ]);
    expect(rs.description).toBe('');
    expect(rs.modelled).toBe(false);
  });

  it('an unknown check code is an error naming the file and line', () => {
    const text = "id: bad\nname: Bad\nversion: '1'\nchecks:\n  - code: MA110\n  - code: MA999\n";
    const e = expectError(
      () => parseRuleset(text, 'rulesets/bad.yaml'),
      ErrorCode.MigrationRulesetInvalid,
      'rulesets/bad.yaml:6: unknown check code "MA999" (known: MA516, MA517, MA110)',
    );
    expect(e.context).toMatchObject({ file: 'rulesets/bad.yaml', line: 6, code: 'MA999' });
  });

  it('user-defined codes are accepted once registered in code', () => {
    const custom: CheckDefinition = {
      code: 'X100',
      title: 't',
      description: 'd',
      deviceTypes: 'all',
      modelled: true,
      source: 'test',
      evaluate: () => ({ outcome: 'pass', reason: 'ok', evidence: [] }),
    };
    const text = "id: c\nname: C\nversion: '1'\nchecks:\n  - code: X100\n";
    expectError(
      () => parseRuleset(text, 'c.yaml'),
      ErrorCode.MigrationRulesetInvalid,
      'c.yaml:5: unknown check code "X100" (known: MA516, MA517, MA110)',
    );
    expect(parseRuleset(text, 'c.yaml', createCheckRegistry([custom])).checks[0]!.code).toBe('X100');
    expect(() => createCheckRegistry([custom, custom])).toThrow('check X100 is already registered');
    expect(() => createCheckRegistry([{ ...custom, code: '1 bad' }])).toThrow(/must match/);
  });

  it('names file, line and path for schema faults', () => {
    const base = "id: e\nname: E\nversion: '1'\nchecks:\n";
    expectError(
      () => parseRuleset(base + '  - code: MA516\n    scope:\n      cohorts: [MOC]\n', 'e.yaml'),
      ErrorCode.MigrationRulesetInvalid,
      'e.yaml:7: invalid rule set: line 7: checks.0.scope.cohorts.0: unknown cohort "MOC" (expected one of IOC, MOC Secure, MOC MDS, FOC)',
    );
    expectError(
      () => parseRuleset('id: e\nname: E\nversion: 5.0\nchecks: []\n', 'e.yaml'),
      ErrorCode.MigrationRulesetInvalid,
      'e.yaml:3: invalid rule set: line 3: version: version must be a string (quote it: "5.0")',
    );
    expectError(
      () => parseRuleset(base + '  - code: MA516\n    scopes: {}\n', 'e.yaml'),
      ErrorCode.MigrationRulesetInvalid,
      'e.yaml:5: invalid rule set: line 5: checks.0: Unrecognized key: "scopes"',
    );
    expectError(
      () => parseRuleset(base + '  - code: MA516\n  - code: MA516\n', 'e.yaml'),
      ErrorCode.MigrationRulesetInvalid,
      'e.yaml:6: check MA516 is listed twice (first at checks.0)',
    );
    expectError(
      () => parseRuleset(base + '  - code: MA516\n    scope: { deviceTypes: [GSME] }\n', 'e.yaml'),
      ErrorCode.MigrationRulesetInvalid,
      'e.yaml:6: check MA516 is defined for ESME only; scope.deviceTypes GSME would never apply',
    );
    expect(() => parseRuleset('id: [unclosed\n', 'e.yaml')).toThrow(
      /^e\.yaml:2: not valid YAML: Flow sequence/,
    );
    expect(() => parseRuleset('id: *nowhere\n', 'e.yaml')).toThrow(/^e\.yaml: not valid YAML: .*nowhere/);
  });

  it('property: random and mutated rule set text yields a Ruleset or a coded error naming the file', () => {
    const valid =
      "id: p\nname: P\nversion: '1'\nchecks:\n  - code: MA516\n    scope:\n      cohorts: [MOC Secure]\n";
    const mutated = fc
      .tuple(fc.nat(valid.length), fc.nat(8), fc.string({ maxLength: 8 }))
      .map(([at, del, ins]) => valid.slice(0, at) + ins + valid.slice(at + del));
    fc.assert(
      fc.property(fc.oneof(fc.string({ maxLength: 200 }), mutated), (text) => {
        try {
          const rs = parseRuleset(text, 'p.yaml');
          expect(typeof rs.id).toBe('string');
        } catch (e) {
          expect(e).toBeInstanceOf(SimError);
          expect((e as SimError).code).toBe(ErrorCode.MigrationRulesetInvalid);
          expect((e as SimError).message.startsWith('p.yaml')).toBe(true);
        }
      }),
      { numRuns: 600 },
    );
  });
});

describe('eligible product list', () => {
  it('parses entries and rejects repeats with the index', () => {
    const list = parseEligibleProducts(
      'id: l\nproducts:\n  - { model: M1, firmware: F1 }\n  - { model: M2, firmware: F2, deviceType: GSME }\n',
      'l.yaml',
    );
    expect(list.products).toEqual([
      { model: 'M1', firmware: 'F1', manufacturer: null, deviceType: null, index: 0 },
      { model: 'M2', firmware: 'F2', manufacturer: null, deviceType: 'GSME', index: 1 },
    ]);
    expectError(
      () =>
        parseEligibleProducts(
          'id: l\nproducts:\n  - { model: M1, firmware: F1 }\n  - { model: M1, firmware: F1 }\n',
          'l.yaml',
        ),
      ErrorCode.MigrationProductListInvalid,
      'l.yaml: products.1 repeats products.0 (M1 / F1)',
    );
    expectError(
      () => parseEligibleProducts('id: l\nproducts:\n  - { model: M1 }\n', 'l.yaml'),
      ErrorCode.MigrationProductListInvalid,
      'l.yaml:3: invalid eligible product list: line 3: products.0.firmware: Invalid input: expected string, received undefined',
    );
  });

  it('JSON is accepted (valid YAML)', () => {
    const list = parseEligibleProducts('{"id":"j","products":[{"model":"M","firmware":"F"}]}', 'j.json');
    expect(list.products).toHaveLength(1);
  });

  it('property: random and mutated text yields a list or a coded error', () => {
    const valid = 'id: l\nproducts:\n  - { model: M1, firmware: F1, manufacturer: Secure }\n';
    const mutated = fc
      .tuple(fc.nat(valid.length), fc.nat(6), fc.string({ maxLength: 6 }))
      .map(([at, del, ins]) => valid.slice(0, at) + ins + valid.slice(at + del));
    fc.assert(
      fc.property(fc.oneof(fc.string({ maxLength: 120 }), mutated), (text) => {
        try {
          expect(Array.isArray(parseEligibleProducts(text, 'l.yaml').products)).toBe(true);
        } catch (e) {
          expect(e).toBeInstanceOf(SimError);
          expect((e as SimError).code).toBe(ErrorCode.MigrationProductListInvalid);
        }
      }),
      { numRuns: 600 },
    );
  });
});
