/**
 * Fleet file validation: schema errors name file, path, reason and line; cross-entry checks
 * (unique names, port ranges, duplicate hand-written identities naming both entries); and a
 * property test that random or mutated files only ever yield a spec or a coded SimError.
 */
import fc from 'fast-check';
import { SimError } from '../../src/core/errors';
import { createIdGenerator } from '../../src/device/id-generator';
import {
  DEFAULT_FOREIGN_CARD_SHARE,
  expandPattern,
  parseFleetText,
  validateFleetSpec,
  type FleetIssueAt,
} from '../../src/farm/fleet-spec';
import { fleetDoc, thrown } from './fixtures';

const ids = createIdGenerator('fleet-spec-tests');

function issues(fn: () => unknown): { code: string; issues: FleetIssueAt[] } {
  try {
    fn();
  } catch (e) {
    if (e instanceof SimError) return { code: e.codeName, issues: e.context['issues'] as FleetIssueAt[] };
    throw e;
  }
  return { code: 'ok', issues: [] };
}

const EXAMPLE = `fleet: small
seed: 7
groups:
  - name: esme
    profile: test-esme
    count: 10
    transport: { kind: tcp-listen, portStart: 7000 }
    cohort: MOC (Secure)
    suppliers: [{ id: SUPA }]
`;

describe('fleet file schema', () => {
  it('applies the documented defaults', () => {
    const spec = parseFleetText(EXAMPLE, 'small.yaml');
    expect(spec.version).toBe(1);
    expect(spec.seed).toBe('7');
    const g = spec.groups[0]!;
    expect(g.cohort).toBe('MOC Secure');
    expect(g.transport).toEqual({ kind: 'tcp-listen', host: '127.0.0.1', portStart: 7000 });
    expect(g.foreignCardShare).toBe(DEFAULT_FOREIGN_CARD_SHARE);
    expect(DEFAULT_FOREIGN_CARD_SHARE).toBe(0.01875);
    expect(g.noCardShare).toBe(0);
    expect(g.suppliers).toEqual([{ id: 'SUPA', weight: 1 }]);
    expect(g.credentials).toBe('profile');
    expect(spec.devices).toEqual([]);
  });

  it('names file, path, reason and line for schema errors', () => {
    const text = EXAMPLE.replace('count: 10', 'count: -3').replace('cohort: MOC (Secure)', 'cohort: XOC');
    const r = issues(() => parseFleetText(text, 'bad.yaml'));
    expect(r.code).toBe('FarmFleetInvalid');
    expect(r.issues).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ file: 'bad.yaml', path: 'groups[0].count', line: 6 }),
        expect.objectContaining({
          file: 'bad.yaml',
          path: 'groups[0].cohort',
          line: 8,
          reason: 'unknown cohort "XOC" (expected one of IOC, MOC Secure, MOC MDS, FOC)',
        }),
      ]),
    );
    expect(thrown(() => parseFleetText(text, 'bad.yaml')).message).toContain('bad.yaml:6: groups[0].count:');
  });

  it.each([
    [
      'unknown key',
      { groups: [{ ...(fleetDoc().groups as object[])[0]!, colour: 'red' }] },
      'groups[0].colour',
      'unknown key',
    ],
    [
      'bad supplier id',
      { groups: [{ ...(fleetDoc().groups as object[])[0]!, suppliers: [{ id: 'abcd' }] }] },
      'groups[0].suppliers[0].id',
      'a supplier id: 4 upper-case letters or digits (MPID)',
    ],
    [
      'share above 1',
      { groups: [{ ...(fleetDoc().groups as object[])[0]!, noCardShare: 1.5 }] },
      'groups[0].noCardShare',
      'must be between 0 and 1',
    ],
    [
      'bad group name',
      { groups: [{ ...(fleetDoc().groups as object[])[0]!, name: 'ESME 1' }] },
      'groups[0].name',
      'lower-case letters, digits and "-", at most 40 characters',
    ],
    [
      'missing fleet name',
      { fleet: undefined },
      'fleet',
      'Invalid input: expected string, received undefined',
    ],
    [
      'port above 65535',
      {
        groups: [
          { ...(fleetDoc().groups as object[])[0]!, transport: { kind: 'tcp-listen', portStart: 70000 } },
        ],
      },
      'groups[0].transport.portStart',
      'Too big: expected number to be <=65535',
    ],
  ])('%s', (_name, overrides, path, reason) => {
    const r = issues(() => validateFleetSpec(fleetDoc(overrides), 'f.yaml'));
    expect(r.code).toBe('FarmFleetInvalid');
    expect(r.issues).toContainEqual({ file: 'f.yaml', path, reason });
  });

  it('reports YAML syntax errors with their line', () => {
    const r = issues(() => parseFleetText('fleet: x\nseed: 1\ngroups: [\n', 'broken.yaml'));
    expect(r.code).toBe('FarmFleetInvalid');
    expect(r.issues[0]).toMatchObject({ file: 'broken.yaml', path: '<root>' });
    expect(r.issues[0]!.reason).toMatch(/^YAML: /);
    expect(typeof r.issues[0]!.line).toBe('number');
  });
});

describe('cross-entry checks', () => {
  const group = (fleetDoc().groups as Record<string, unknown>[])[0]!;

  it('rejects overlapping tcp port ranges, naming both groups', () => {
    const doc = fleetDoc({
      groups: [
        { ...group, name: 'a', count: 10, transport: { kind: 'tcp-listen', portStart: 7000 } },
        { ...group, name: 'b', count: 10, transport: { kind: 'tcp-listen', portStart: 7005 } },
        { ...group, name: 'c', count: 10, transport: { kind: 'tcp-listen', portStart: 7010 } },
      ],
    });
    const r = issues(() => validateFleetSpec(doc, 'f.yaml'));
    expect(r.code).toBe('FarmDuplicate');
    expect(r.issues).toEqual([
      {
        file: 'f.yaml',
        path: 'groups[1].transport.portStart',
        reason: 'ports 7005–7014 of groups[1] overlap ports 7000–7009 of groups[0]',
        duplicate: true,
      },
      {
        file: 'f.yaml',
        path: 'groups[2].transport.portStart',
        reason: 'ports 7010–7019 of groups[2] overlap ports 7005–7014 of groups[1]',
        duplicate: true,
      },
    ]);
  });

  it('lets port-0 groups share (each meter gets its own ephemeral port)', () => {
    const doc = fleetDoc({
      groups: [
        { ...group, name: 'a', transport: { kind: 'tcp-listen', portStart: 0 } },
        { ...group, name: 'b', transport: { kind: 'tcp-listen', portStart: 0 } },
      ],
    });
    expect(validateFleetSpec(doc).groups).toHaveLength(2);
  });

  it('rejects a range that runs past port 65535', () => {
    const doc = fleetDoc({
      groups: [{ ...group, count: 10, transport: { kind: 'tcp-listen', portStart: 65530 } }],
    });
    expect(issues(() => validateFleetSpec(doc, 'f.yaml')).issues).toContainEqual({
      file: 'f.yaml',
      path: 'groups[0].transport.portStart',
      reason: '10 meters from port 65530 run past 65535',
    });
  });

  it('rejects repeated group names and suppliers', () => {
    const doc = fleetDoc({
      groups: [
        group,
        {
          ...group,
          transport: { kind: 'mem', namePattern: 'other-{n}' },
          suppliers: [{ id: 'SUPA' }, { id: 'SUPA' }],
        },
      ],
    });
    const r = issues(() => validateFleetSpec(doc, 'f.yaml'));
    expect(r.issues.map((i) => [i.path, i.reason])).toEqual([
      ['groups[1].name', 'group name "esme" is also used by groups[0]'],
      ['groups[1].suppliers[1].id', 'supplier SUPA is also listed at groups[1].suppliers[0]'],
    ]);
  });

  it('requires {n} or {id} in a shared pty/mem pattern', () => {
    const doc = fleetDoc({ groups: [{ ...group, transport: { kind: 'pty', pathPattern: '/tmp/meter' } }] });
    expect(issues(() => validateFleetSpec(doc, 'f.yaml')).issues).toContainEqual({
      file: 'f.yaml',
      path: 'groups[0].transport.pathPattern',
      reason: 'must contain {n} or {id}: 40 meters cannot share "/tmp/meter"',
    });
  });

  it('rejects shares that add up to more than all meters', () => {
    const doc = fleetDoc({ groups: [{ ...group, foreignCardShare: 0.6, noCardShare: 0.5 }] });
    expect(issues(() => validateFleetSpec(doc, 'f.yaml')).issues).toContainEqual({
      file: 'f.yaml',
      path: 'groups[0].noCardShare',
      reason: 'foreignCardShare + noCardShare = 1.1 exceeds 1',
    });
  });

  it('rejects a fleet without meters', () => {
    expect(issues(() => validateFleetSpec({ fleet: 'x', seed: 1 }, 'f.yaml')).issues).toEqual([
      { file: 'f.yaml', path: 'groups', reason: 'the fleet has no meters: give groups or devices' },
    ]);
  });
});

describe('hand-written devices', () => {
  const mpan = ids.mpanCore(0);
  const card = ids.paymentCardId(0, '9826176001');
  const device = (id: string, extra: Record<string, unknown> = {}): Record<string, unknown> => ({
    id,
    profile: 'test-esme',
    cohort: 'MOC Secure',
    transport: { kind: 'mem', name: `dev-${id}` },
    mpanCore: ids.mpanCore(Number(id.replace(/\D/g, '')) + 1),
    supplierId: 'SUPA',
    ...extra,
  });

  it('rejects duplicate identities, naming both entries', () => {
    const doc = fleetDoc({
      groups: [],
      devices: [
        device('lab-0', {
          mpanCore: mpan,
          deviceId: '02-53-4D-00-00-00-00-01',
          card: { paymentCardId: card, issuerSupplierId: 'SUPB' },
        }),
        device('lab-1'),
        device('lab-2', {
          mpanCore: mpan,
          deviceId: '02:53:4d:00:00:00:00:01',
          card: { paymentCardId: card, issuerSupplierId: 'SUPB' },
        }),
        device('lab-0', { transport: { kind: 'mem', name: 'dev-lab-1' } }),
      ],
    });
    const r = issues(() => validateFleetSpec(doc, 'lab.yaml'));
    expect(r.code).toBe('FarmDuplicate');
    expect(r.issues.map((i) => `${i.path}: ${i.reason}`)).toEqual([
      `devices[2].mpanCore: MPAN core ${mpan} duplicates devices[0] (id lab-0) (MPAN core ${mpan})`,
      'devices[2].deviceId: device id 02-53-4D-00-00-00-00-01 duplicates devices[0] (id lab-0) (device id 02-53-4D-00-00-00-00-01)',
      `devices[2].card.paymentCardId: Payment Card ID ${card} duplicates devices[0] (id lab-0) (Payment Card ID ${card})`,
      'devices[3].id: meter id lab-0 duplicates devices[0] (id lab-0) (meter id lab-0)',
      'devices[3].transport: endpoint mem:dev-lab-1 duplicates devices[1] (id lab-1) (endpoint mem:dev-lab-1)',
    ]);
  });

  it('checks identifiers with the device validators', () => {
    const bad = mpan.slice(0, 12) + String((Number(mpan[12]) + 1) % 10);
    const doc = fleetDoc({ groups: [], devices: [device('lab-0', { mpanCore: bad, deviceId: 'nope' })] });
    const r = issues(() => validateFleetSpec(doc, 'lab.yaml'));
    expect(r.code).toBe('FarmFleetInvalid');
    expect(r.issues.map((i) => i.path)).toEqual(['devices[0].mpanCore', 'devices[0].deviceId']);
    expect(r.issues[0]!.reason).toMatch(/^check digit is \d, expected \d$/);
  });

  it('needs exactly one meter point', () => {
    const doc = fleetDoc({ groups: [], devices: [device('lab-0', { mprn: ids.mprn(0) })] });
    expect(issues(() => validateFleetSpec(doc, 'lab.yaml')).issues).toContainEqual({
      file: 'lab.yaml',
      path: 'devices[0]',
      reason: 'give exactly one of mpanCore (ESME) or mprn (GSME)',
    });
  });
});

describe('patterns', () => {
  it.each([
    ['/tmp/meters/esme-{n}', 4, 'esme-4', '/tmp/meters/esme-4'],
    ['{id}', 0, 'g-0', 'g-0'],
    ['m-{n}-{id}-{n}', 2, 'g-2', 'm-2-g-2-2'],
    ['fixed', 9, 'g-9', 'fixed'],
  ])('%s (n=%i, id=%s) -> %s', (pattern, n, id, out) => {
    expect(expandPattern(pattern, n, id)).toBe(out);
  });
});

describe('property: the fleet parser never crashes', () => {
  const fields = fc.dictionary(
    fc.constantFrom('fleet', 'seed', 'groups', 'devices', 'issuerPrefixes', 'version', 'x'),
    fc.anything({ maxDepth: 3 }),
  );

  it('random documents yield a spec or FarmFleetInvalid/FarmDuplicate', () => {
    fc.assert(
      fc.property(fields, (doc) => {
        try {
          validateFleetSpec(doc);
        } catch (e) {
          expect(e).toBeInstanceOf(SimError);
          expect(['FarmFleetInvalid', 'FarmDuplicate']).toContain((e as SimError).codeName);
        }
      }),
      { numRuns: 200 },
    );
  });

  it('an alias to an anchor that does not exist is FarmFleetInvalid, not a ReferenceError (fast-check counterexample)', () => {
    const text = EXAMPLE.replace(/count: (\d+)/, 'count: *$1');
    expect(text).not.toBe(EXAMPLE);
    expect(() => parseFleetText(text, 'm.yaml')).toThrow(
      expect.objectContaining({
        codeName: 'FarmFleetInvalid',
        message: expect.stringMatching(/m\.yaml.*Unresolved alias/s),
      }),
    );
  });

  it('mutated YAML text yields a spec or a coded error', () => {
    fc.assert(
      fc.property(fc.nat(EXAMPLE.length - 1), fc.string({ maxLength: 4 }), fc.nat(3), (at, insert, cut) => {
        const text = EXAMPLE.slice(0, at) + insert + EXAMPLE.slice(at + cut);
        try {
          parseFleetText(text, 'm.yaml');
        } catch (e) {
          expect(e).toBeInstanceOf(SimError);
          expect(['FarmFleetInvalid', 'FarmDuplicate']).toContain((e as SimError).codeName);
        }
      }),
      { numRuns: 200 },
    );
  });
});
