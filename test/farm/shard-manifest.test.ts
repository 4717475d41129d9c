/**
 * Sharding and the manifest: `i/N` parsing, every meter in exactly one shard, manifest parts
 * merging back into the whole-fleet manifest, registration rows the migration layer parses
 * with zero errors, and a property test for the manifest reader (a decoder).
 */
import fc from 'fast-check';
import { SimError } from '../../src/core/errors';
import { validateFleetSpec } from '../../src/farm/fleet-spec';
import { generateFleet, type FleetPlan } from '../../src/farm/generator';
import {
  manifestDigest,
  manifestFromPlan,
  mergeManifests,
  parseManifest,
  registrationJson,
  serializeManifest,
} from '../../src/farm/manifest';
import { formatShard, parseShard, selectShard, shardSize } from '../../src/farm/shard';
import { parseRegistrationJson } from '../../src/migration/registration';
import { fleetDoc, profiles, thrown } from './fixtures';

const plan: FleetPlan = generateFleet(validateFleetSpec(fleetDoc()), profiles);

describe('parseShard', () => {
  it.each([
    ['0/1', { index: 0, count: 1 }],
    ['3/4', { index: 3, count: 4 }],
    ['12/100', { index: 12, count: 100 }],
  ])('%s', (text, shard) => {
    expect(parseShard(text)).toEqual(shard);
    expect(formatShard(parseShard(text))).toBe(text);
  });

  it.each([
    ['4/4', 'index must be below the count (0..3)'],
    ['0/0', 'shard count must be 1–10000'],
    ['0/20000', 'shard count must be 1–10000'],
    ['-1/4', 'expected i/N, e.g. 0/4 (0-based index / shard count)'],
    ['1 /4', 'expected i/N, e.g. 0/4 (0-based index / shard count)'],
    ['1/4/2', 'expected i/N, e.g. 0/4 (0-based index / shard count)'],
    ['a/b', 'expected i/N, e.g. 0/4 (0-based index / shard count)'],
    ['', 'expected i/N, e.g. 0/4 (0-based index / shard count)'],
  ])('rejects %j', (text, reason) => {
    const r = thrown(() => parseShard(text));
    expect(r.code).toBe('FarmShardInvalid');
    expect(r.context['reason']).toBe(reason);
  });
});

describe('shard assignment', () => {
  it('every meter is in exactly one shard, for any fleet size and N', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 300 }), fc.integer({ min: 1, max: 40 }), (total, count) => {
        const fake = {
          meters: Array.from({ length: total }, (_, index) => ({ index })),
        } as unknown as FleetPlan;
        const seen = new Map<number, number>();
        for (let i = 0; i < count; i++) {
          const part = selectShard(fake, { index: i, count });
          expect(part.length).toBe(shardSize(total, { index: i, count }));
          for (const m of part) seen.set(m.index, (seen.get(m.index) ?? 0) + 1);
        }
        expect(seen.size).toBe(total);
        expect([...seen.values()].every((n) => n === 1)).toBe(true);
      }),
      { numRuns: 200 },
    );
  });

  it('shards differ in size by at most one and spread each group', () => {
    const parts = [0, 1, 2, 3].map((index) => selectShard(plan, { index, count: 4 }));
    expect(parts.map((p) => p.length)).toEqual([15, 15, 15, 15]);
    for (const p of parts) expect(p.filter((m) => m.group === 'gsme').length).toBe(5);
  });
});

describe('manifest', () => {
  const whole = manifestFromPlan(plan);

  it('holds every meter with endpoint, profile, identities, credentials and registration', () => {
    expect(whole).toMatchObject({
      schema: 'smets1-sim/farm-manifest',
      version: 1,
      fleet: 'test',
      seed: 'seed-1',
      shard: { index: 0, count: 1 },
      fleetMeters: 60,
    });
    expect(whole.meters).toHaveLength(60);
    const m = whole.meters[0]!;
    expect(Object.keys(m)).toEqual([
      'index',
      'id',
      'group',
      'profile',
      'deviceType',
      'cohort',
      'endpoint',
      'identity',
      'registration',
      'card',
      'credentials',
    ]);
    expect(whole.registration[0]).toEqual({
      mpxn: m.registration.mpxn,
      supplierId: m.registration.supplierId,
      cohort: 'MOC Secure',
    });
  });

  it('registration rows parse with the migration parser with zero errors', () => {
    const data = parseRegistrationJson(registrationJson(whole), 'manifest.registration');
    expect(data.errors).toEqual([]);
    expect(data.records).toHaveLength(60);
    for (const m of whole.meters) {
      const r = data.byMpxn.get(m.registration.mpxn)!;
      expect(r).toMatchObject({
        mpxn: m.registration.mpxn,
        supplierId: m.registration.supplierId,
        cohort: m.cohort,
        deviceType: m.deviceType,
        kind: m.deviceType === 'ESME' ? 'mpan-core' : 'mprn',
      });
    }
  });

  it('the digest ignores generatedAt and nothing else', () => {
    const stamped = { ...whole, generatedAt: '2026-01-01T00:00:00.000Z' };
    expect(manifestDigest(stamped)).toBe(manifestDigest(whole));
    const changed = { ...whole, seed: 'other' };
    expect(manifestDigest(changed)).not.toBe(manifestDigest(whole));
  });

  it('round-trips through serialize/parse byte for byte', () => {
    const text = serializeManifest(whole);
    expect(serializeManifest(parseManifest(text))).toBe(text);
  });

  it('shard parts merge back into the whole-fleet manifest', () => {
    const parts = [2, 0, 1].map((index) => manifestFromPlan(plan, { index, count: 3 }));
    expect(parts.map((p) => p.meters.length)).toEqual([20, 20, 20]);
    expect(serializeManifest(mergeManifests(parts))).toBe(serializeManifest(whole));
  });

  it.each([
    [
      'a missing shard',
      () => [0, 1].map((index) => manifestFromPlan(plan, { index, count: 3 })),
      'merge: missing shard(s) 2/3',
    ],
    [
      'a repeated shard',
      () => [0, 1, 1].map((index) => manifestFromPlan(plan, { index, count: 3 })),
      'merge: part 2 (shard 1/3) repeats the shard of part 1',
    ],
    [
      'another fleet',
      () => [
        manifestFromPlan(plan, { index: 0, count: 2 }),
        { ...manifestFromPlan(plan, { index: 1, count: 2 }), seed: 'x' },
      ],
      'merge: part 1 (shard 1/2) is fleet test seed x, part 0 is fleet test seed seed-1',
    ],
    [
      'another shard count',
      () => [manifestFromPlan(plan, { index: 0, count: 2 }), manifestFromPlan(plan, { index: 1, count: 3 })],
      'merge: part 1 (shard 1/3) has 3 shards, part 0 has 2',
    ],
    ['no parts', () => [], 'merge: no manifest parts given'],
  ])('merge refuses %s', (_name, parts, message) => {
    const r = thrown(() => mergeManifests(parts()));
    expect(r.code).toBe('FarmManifestInvalid');
    expect(r.message).toBe(message);
  });

  it.each([
    ['not JSON', '{', /^m\.json: not valid JSON: /],
    ['wrong schema', '{"schema":"x"}', /^m\.json: schema: /],
    [
      'bad mpxn type',
      serializeManifest(whole).replace('"supplierId": "SUP', '"supplierId": "sup'),
      /^m\.json: meters\.0\.registration\.supplierId: /,
    ],
  ])('parseManifest rejects %s', (_name, text, message) => {
    const r = thrown(() => parseManifest(text, 'm.json'));
    expect(r.code).toBe('FarmManifestInvalid');
    expect(r.message).toMatch(message);
  });

  it('property: random and mutated manifests yield a manifest or FarmManifestInvalid', () => {
    const small = serializeManifest(manifestFromPlan(plan, { index: 0, count: 20 }));
    const mutated = fc
      .tuple(fc.nat(small.length - 1), fc.string({ maxLength: 3 }), fc.nat(4))
      .map(([at, insert, cut]) => small.slice(0, at) + insert + small.slice(at + cut));
    fc.assert(
      fc.property(fc.oneof(mutated, fc.json(), fc.string()), (text) => {
        try {
          parseManifest(text);
        } catch (e) {
          expect(e).toBeInstanceOf(SimError);
          expect((e as SimError).codeName).toBe('FarmManifestInvalid');
        }
      }),
      { numRuns: 300 },
    );
  });
});
