/**
 * Broken profiles: each case breaks one thing in a valid minimal profile and expects an issue
 * naming the FILE, the PATH and the REASON (docs/profiles.md "Validation").
 */
import { readFileSync } from 'node:fs';
import { ErrorCode } from '../../src/core/errors';
import { formatProfileIssue, validateProfileFile, type ProfileIssue } from '../../src/profiles/loader';
import { minimalProfile, setPath, TempProfiles, type Json } from './helpers';

const tmp = new TempProfiles();
afterAll(() => tmp.remove());

function issuesOf(id: string, content: Json | string): ProfileIssue[] {
  const file = tmp.write(id, content);
  const v = validateProfileFile(file);
  if (v.ok) return [];
  expect(v.code).toBe(ErrorCode.ProfileInvalid);
  for (const i of v.issues) expect(i.file).toBe(file);
  return v.issues;
}

const base = minimalProfile('case');
const table = 'c1219.tables[0]';
const field0 = `${table}.fields[0]`;

describe('a valid minimal profile', () => {
  it('validates and keeps its values', () => {
    const file = tmp.write('mini-esme', minimalProfile());
    const v = validateProfileFile(file);
    expect(v.ok).toBe(true);
    if (v.ok) {
      expect(v.template).toBe(false);
      expect(v.chain).toEqual([file]);
      expect(v.profile!.c1219!.tables[0]!.write).toEqual([]);
      expect(v.profile!.quirks).toEqual({});
      expect(v.profile!.identity.serialPrefix).toBe('');
    }
  });
});

describe('broken profiles name file, path and reason', () => {
  const cases: [string, Json, string, string | RegExp][] = [
    [
      'missing field',
      setPath(base, 'identity.model', undefined),
      'identity.model',
      /expected string, received undefined/,
    ],
    [
      'wrong type',
      setPath(base, 'protocol.c1218.baud', '9600'),
      'protocol.c1218.baud',
      /expected number, received string/,
    ],
    [
      'unknown C12.19 type',
      setPath(base, `${field0}.type`, 'UINT64'),
      `${field0}.type`,
      /Invalid option: expected one of "UINT8"/,
    ],
    [
      'unknown source',
      setPath(base, `${field0}.source`, 'card.pin'),
      `${field0}.source`,
      'unknown source "card.pin" (see docs/profiles.md "Sources")',
    ],
    [
      'source on the wrong device type',
      setPath(base, `${field0}.source`, 'registration.mprn'),
      `${field0}.source`,
      '"registration.mprn" does not exist on a ESME',
    ],
    [
      'type that cannot carry the source',
      setPath(base, `${field0}.type`, 'UINT32'),
      `${field0}.type`,
      '"card.paymentCardId" is digits; UINT32 cannot carry it (use STRING|BCD|BINARY)',
    ],
    [
      'field too small',
      setPath(base, `${field0}.size`, 9),
      `${field0}.size`,
      '"card.paymentCardId" needs 10 byte(s) as BCD, size is 9',
    ],
    [
      'size missing where required',
      setPath(base, `${field0}.size`, undefined),
      `${field0}.size`,
      'size is required for BCD',
    ],
    [
      'fixed-size type with a wrong size',
      setPath(base, `${field0}`, { name: 'N', type: 'UINT16', size: 4, source: 'prepayment.balance' }),
      `${field0}.size`,
      'UINT16 is 2 byte(s) here, not 4',
    ],
    [
      'signed value in unsigned field',
      setPath(base, `${field0}`, { name: 'N', type: 'UINT32', source: 'prepayment.balance' }),
      `${field0}.type`,
      /is int; UINT32 cannot carry it/,
    ],
    [
      'enum without wire values',
      setPath(base, `${field0}`, { name: 'M', type: 'UINT8', source: 'prepayment.paymentMode' }),
      `${field0}.enum`,
      /give its wire values in enum:/,
    ],
    [
      'enum missing a member',
      setPath(base, `${field0}`, {
        name: 'M',
        type: 'UINT8',
        source: 'prepayment.paymentMode',
        enum: { credit: 0 },
      }),
      `${field0}.enum`,
      'no wire value for "prepayment"',
    ],
    [
      'both source and value',
      setPath(base, `${field0}.value`, '1'),
      field0,
      'give exactly one of source: or value:',
    ],
    [
      'constant out of range',
      setPath(base, `${field0}`, { name: 'V', type: 'UINT8', value: 256 }),
      `${field0}.value`,
      'UINT8 constant must be an integer 0..255',
    ],
    [
      'bad field name',
      setPath(base, `${field0}.name`, 'cardId'),
      `${field0}.name`,
      /upper-case C12.19 style name/,
    ],
    [
      'writable table with a read-only source',
      setPath(setPath(base, `${table}.write`, ['reader']), field0, {
        name: 'AT',
        type: 'LTIME',
        source: 'card.registeredAt',
      }),
      `${field0}.source`,
      '"card.registeredAt" is read-only; a writable table may hold only writable sources',
    ],
    [
      'unknown access level',
      setPath(base, `${table}.read`, ['reader', 'root']),
      `${table}.read[1]`,
      'unknown access level "root"',
    ],
    [
      'unknown standard table',
      setPath(base, 'c1219.standardTables[0].id', 'ST99'),
      'c1219.standardTables[0].id',
      'unknown standard table ST99',
    ],
    [
      'numeric manufacturer table id that is not a wire id',
      setPath(base, `${table}.id`, 5),
      `${table}.id`,
      'numeric MT ids are wire ids 2048–4095 (MT1 = 2049); got 5',
    ],
    ['table id of the wrong kind', setPath(base, `${table}.id`, 'ST1'), `${table}.id`, /like MT1/],
    [
      'duplicate table',
      setPath(base, 'c1219.tables[1]', {
        id: 2049,
        name: 'DUP',
        read: 'any',
        fields: [{ name: 'X', type: 'FILL', size: 1 }],
      }),
      'c1219.tables[1].id',
      'MT1 also defined at index 0',
    ],
    [
      'unknown action',
      setPath(base, 'c1219.procedures[0].action', 'eraseEverything'),
      'c1219.procedures[0].action',
      'unknown action "eraseEverything"',
    ],
    [
      'missing required parameter',
      setPath(base, 'c1219.procedures[0].action', 'changeSupplier'),
      'c1219.procedures[0].params',
      'changeSupplier needs a parameter with arg: supplierId',
    ],
    [
      'unknown parameter argument',
      setPath(base, 'c1219.procedures[0].params', [{ name: 'X', type: 'UINT8', arg: 'force' }]),
      'c1219.procedures[0].params[0].arg',
      'clearPaymentCardData has no argument "force"',
    ],
    ['unknown key (typo)', setPath(base, 'timing.responseDelay', 5), 'timing.responseDelay', 'unknown key'],
    [
      'duplicate group bit',
      setPath(base, 'accessLevels[1]', { name: 'other', userId: 1, group: 0, secret: { ascii: 'x' } }),
      'accessLevels[1].group',
      'group bit 0 already used by reader',
    ],
    [
      'secret longer than a C12.18 password',
      setPath(base, 'accessLevels[0].secret', { ascii: 'x'.repeat(21) }),
      'accessLevels[0].secret',
      'C12.18 passwords are 20 bytes; this secret is 21',
    ],
    [
      'stack without its table mapping',
      setPath(base, 'c1219', undefined),
      'c1219',
      'required for stack c1218',
    ],
    [
      'unknown stack',
      setPath(base, 'protocol.stack', 'modbus'),
      'protocol.stack',
      /Invalid discriminator value/,
    ],
    [
      'modelled path that names nothing',
      setPath(base, 'modelled', [{ path: 'c1219.tables[MT9]', reason: 'x' }]),
      'modelled[0].path',
      '"c1219.tables[MT9]" does not name anything in this profile',
    ],
    [
      'start baud not negotiable',
      setPath(base, 'protocol.c1218.negotiableBauds', [19200]),
      'protocol.c1218.negotiableBauds',
      'must include the start baud 9600',
    ],
  ];

  it.each(cases)('%s', (_name, content, path, reason) => {
    const issues = issuesOf('case', content);
    const hit = issues.find((i) => i.path === path);
    expect({ path: hit?.path, all: issues.map((i) => `${i.path}: ${i.reason}`) }).toMatchObject({ path });
    if (typeof reason === 'string') expect(hit!.reason).toBe(reason);
    else expect(hit!.reason).toMatch(reason);
    expect(hit!.line).toBeGreaterThan(0);
  });

  it('reports every problem at once, each with its line', () => {
    const broken = setPath(setPath(base, 'identity.deviceType', 'WSME'), `${field0}.source`, 'card.pin');
    const file = tmp.write('case', broken);
    const v = validateProfileFile(file);
    expect(v.ok).toBe(false);
    if (!v.ok) {
      // Shape errors stop semantic checks: fix those first, then the rest shows.
      expect(v.issues.map((i) => i.path)).toEqual(['identity.deviceType']);
      expect(formatProfileIssue(v.issues[0]!)).toMatch(
        /case\.yaml:\d+:\d+: identity\.deviceType: Invalid option/,
      );
    }
  });

  it('rejects an id that differs from the file name', () => {
    expect(issuesOf('other-name', minimalProfile('mini-esme')).map((i) => [i.path, i.reason])).toEqual([
      ['id', 'must equal the file name "other-name"'],
    ]);
  });

  it('reports YAML syntax errors with their line', () => {
    const issues = issuesOf('case', 'id: case\nname: [unclosed\n');
    expect(issues[0]!.path).toBe('<root>');
    expect(issues[0]!.reason).toMatch(/^YAML: /);
    expect(issues[0]!.line).toBeGreaterThan(0);
    expect(issuesOf('case', '- a list\n')[0]!.reason).toBe('a profile must be a YAML mapping');
    expect(issuesOf('case', 'id: case\nid: again\n')[0]!.reason).toMatch(/unique/);
  });

  it('points at the line of the offending value', () => {
    const file = tmp.write('case', setPath(base, 'timing.responseDelayMs', -1));
    const v = validateProfileFile(file);
    const text = readFileSync(file, 'utf8');
    const line = text.split('\n').findIndex((l) => l.includes('responseDelayMs')) + 1;
    expect(v.ok ? [] : v.issues.map((i) => [i.path, i.line])).toEqual([['timing.responseDelayMs', line]]);
  });
});
