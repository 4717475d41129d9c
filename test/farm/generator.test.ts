/**
 * Fleet generation: byte-identical output for the same file and seed, exact share counts,
 * valid and fleet-wide unique identities (10,000 meters), per-group sub-seeds, credentials,
 * hand-written devices, and the errors that need the profiles to detect.
 */
import {
  isValidEui64,
  validateMpanCore,
  validateMprn,
  validatePaymentCardId,
  validateSiteId,
  validateSupplierId,
} from '../../src/device/identifiers';
import { createIdGenerator } from '../../src/device/id-generator';
import { validateFleetSpec } from '../../src/farm/fleet-spec';
import { derivedIssuerPrefix, generateFleet, planDigest, type FleetPlan } from '../../src/farm/generator';
import { manifestDigest, manifestFromPlan } from '../../src/farm/manifest';
import { fleetDoc, profiles, thrown } from './fixtures';

const plan = (overrides: Record<string, unknown> = {}): FleetPlan =>
  generateFleet(validateFleetSpec(fleetDoc(overrides), 'f.yaml'), profiles, { file: 'f.yaml' });

const group = (fleetDoc().groups as Record<string, unknown>[])[0]!;
const ids = createIdGenerator('generator-tests');

describe('determinism', () => {
  it('same file and seed give a byte-identical fleet and manifest', () => {
    const a = plan();
    const b = plan();
    expect(JSON.stringify(a)).toBe(JSON.stringify(b));
    expect(planDigest(a)).toBe(planDigest(b));
    expect(manifestDigest(manifestFromPlan(a))).toBe(manifestDigest(manifestFromPlan(b)));
    expect(planDigest(a)).toMatch(/^[0-9a-f]{64}$/);
  });

  it('a different seed gives a different fleet', () => {
    const a = plan();
    const b = plan({ seed: 'seed-2' });
    expect(planDigest(a)).not.toBe(planDigest(b));
    expect(a.meters[0]!.registration.mpxn).not.toBe(b.meters[0]!.registration.mpxn);
  });

  it('adding a group leaves the identities of the others alone', () => {
    const a = plan();
    const extra = { ...group, name: 'zz-extra', count: 5, transport: { kind: 'mem', namePattern: 'x-{n}' } };
    const b = plan({ groups: [extra, ...(fleetDoc().groups as object[])] });
    const strip = (p: FleetPlan): unknown[] =>
      p.meters.filter((m) => m.group !== 'zz-extra').map(({ index: _i, ...rest }) => rest);
    expect(strip(b)).toEqual(strip(a));
  });
});

describe('shares are exact counts', () => {
  it('round(count × share) meters hold a foreign card, round(count × noCardShare) none', () => {
    const p = plan();
    const esme = p.meters.filter((m) => m.group === 'esme');
    const gsme = p.meters.filter((m) => m.group === 'gsme');
    // esme: 40 meters, foreign 0.25 -> 10, no card 0.1 -> 4, own card 26.
    expect(esme.filter((m) => m.card?.foreign).length).toBe(10);
    expect(esme.filter((m) => m.card === null).length).toBe(4);
    expect(esme.filter((m) => m.card && !m.card.foreign).length).toBe(26);
    // gsme: 20 meters, foreign 0.5 -> 10.
    expect(gsme.filter((m) => m.card?.foreign).length).toBe(10);
    expect(gsme.filter((m) => m.card === null).length).toBe(0);
  });

  it('the default foreign share of a 4,000-meter group is 75 (the 75k-of-4M figure)', () => {
    const p = plan({
      groups: [{ ...group, count: 4000, foreignCardShare: undefined, noCardShare: undefined }],
    });
    expect(p.meters.filter((m) => m.card?.foreign).length).toBe(75);
  });

  it('the supplier mix is apportioned exactly (3:1 of 40 -> 30 and 10)', () => {
    const esme = plan().meters.filter((m) => m.group === 'esme');
    expect(esme.filter((m) => m.registration.supplierId === 'SUPA').length).toBe(30);
    expect(esme.filter((m) => m.registration.supplierId === 'SUPB').length).toBe(10);
  });

  it('own cards are issued by the Responsible Supplier, foreign ones by another', () => {
    const p = plan();
    for (const m of p.meters) {
      if (!m.card) continue;
      expect(m.card.foreign).toBe(m.card.issuerSupplierId !== m.registration.supplierId);
      expect(m.card.paymentCardId.startsWith(p.issuerPrefixes[m.card.issuerSupplierId]!)).toBe(true);
    }
  });

  it('foreignIssuers restricts who issues the foreign cards', () => {
    const p = plan({ groups: [{ ...group, suppliers: [{ id: 'SUPA' }], foreignIssuers: ['SUPC', 'SUPD'] }] });
    const issuers = new Set(p.meters.filter((m) => m.card?.foreign).map((m) => m.card!.issuerSupplierId));
    expect([...issuers].sort()).toEqual(['SUPC', 'SUPD']);
  });
});

describe('identities', () => {
  let big: FleetPlan;
  beforeAll(() => {
    big = generateFleet(
      validateFleetSpec({
        fleet: 'big',
        seed: 'big-1',
        groups: [
          { ...group, name: 'e1', count: 4000, transport: { kind: 'tcp-listen', portStart: 0 } },
          { ...group, name: 'e2', count: 3000, transport: { kind: 'tcp-listen', portStart: 0 } },
          {
            ...group,
            name: 'g1',
            profile: 'test-gsme',
            count: 3000,
            transport: { kind: 'tcp-listen', portStart: 0 },
          },
        ],
      }),
      profiles,
    );
  });
  afterAll(() => {
    big = undefined as unknown as FleetPlan;
  });

  it('10,000 meters: every identifier valid and unique across the fleet', () => {
    expect(big.meters).toHaveLength(10_000);
    const unique = (f: (m: FleetPlan['meters'][number]) => string | null): void => {
      const values = big.meters.map(f).filter((v): v is string => v !== null);
      expect(new Set(values).size).toBe(values.length);
    };
    unique((m) => m.id);
    unique((m) => m.registration.mpxn);
    unique((m) => m.identity.deviceId);
    unique((m) => m.identity.serial);
    unique((m) => m.card?.paymentCardId ?? null);
    unique((m) => m.registration.siteId);
    for (const m of big.meters) {
      if (m.deviceType === 'ESME') {
        expect(validateMpanCore(m.registration.mpanCore)).toBe(m.registration.mpxn);
        expect(m.registration.mprn).toBeNull();
      } else {
        expect(validateMprn(m.registration.mprn)).toBe(m.registration.mpxn);
        expect(m.registration.mpanCore).toBeNull();
      }
      expect(isValidEui64(m.identity.deviceId)).toBe(true);
      validateSupplierId(m.registration.supplierId);
      if (m.card) {
        validatePaymentCardId(m.card.paymentCardId);
        validateSupplierId(m.card.issuerSupplierId);
        validateSiteId(m.registration.siteId);
      } else {
        expect(m.registration.siteId).toBeNull();
      }
    }
  });

  it('indexes run over the fleet in order; ids are <group>-<n>', () => {
    expect(big.meters.map((m) => m.index)).toEqual(big.meters.map((_, i) => i));
    expect(big.meters[0]!.id).toBe('e1-0');
    expect(big.meters[4000]!.id).toBe('e2-0');
    expect(big.meters[9999]!.id).toBe('g1-2999');
  });

  it('endpoints follow the transport: ports, ptys and mem names', () => {
    const p = plan({
      groups: [
        {
          ...group,
          name: 't',
          count: 3,
          transport: { kind: 'tcp-listen', host: '0.0.0.0', portStart: 7100, advertiseHost: 'meters.local' },
        },
        { ...group, name: 'p', count: 2, transport: { kind: 'pty', pathPattern: '/tmp/m/{id}' } },
        { ...group, name: 'm', count: 2, transport: { kind: 'mem', namePattern: 'mm-{n}' } },
      ],
    });
    expect(p.meters.map((m) => [m.endpoint.listen, m.endpoint.connect])).toEqual([
      ['tcp-listen://0.0.0.0:7100', 'tcp://meters.local:7100'],
      ['tcp-listen://0.0.0.0:7101', 'tcp://meters.local:7101'],
      ['tcp-listen://0.0.0.0:7102', 'tcp://meters.local:7102'],
      ['pty:/tmp/m/p-0', 'pty:/tmp/m/p-0'],
      ['pty:/tmp/m/p-1', 'pty:/tmp/m/p-1'],
      ['mem:mm-0', 'mem:mm-0'],
      ['mem:mm-1', 'mem:mm-1'],
    ]);
  });

  it('a wildcard host is advertised as loopback unless told otherwise', () => {
    const p = plan({
      groups: [{ ...group, count: 1, transport: { kind: 'tcp-listen', host: '0.0.0.0', portStart: 0 } }],
    });
    expect(p.meters[0]!.endpoint).toEqual({ listen: 'tcp-listen://0.0.0.0:0', connect: 'tcp://127.0.0.1:0' });
  });
});

describe('credentials', () => {
  it("'profile' copies the profile defaults with their user ids", () => {
    expect(plan().meters[0]!.credentials).toEqual([
      { level: 'reader', userId: 1, secretHex: '00'.repeat(20) },
      { level: 'privileged', userId: 2, secretHex: '11'.repeat(20) },
      { level: 'engineering', userId: 3, secretHex: '313233343536' },
    ]);
  });

  it("'per-meter' derives distinct secrets of the default's length; typed ones stay printable", () => {
    const p = plan({ groups: [{ ...group, credentials: 'per-meter' }] });
    const secrets = p.meters.map((m) => m.credentials.map((c) => c.secretHex).join('/'));
    expect(new Set(secrets).size).toBe(p.meters.length);
    for (const m of p.meters) {
      const [reader, privileged, engineering] = m.credentials.map((c) => Buffer.from(c.secretHex, 'hex'));
      expect(reader!.length).toBe(20);
      expect(privileged!.length).toBe(20);
      expect(engineering!.toString('latin1')).toMatch(/^[A-Za-z0-9]{6}$/);
    }
  });

  it('explicit secrets override named levels only', () => {
    const p = plan({
      groups: [
        { ...group, count: 1, credentials: { engineering: { ascii: '654321' }, reader: { hex: 'ABCD' } } },
      ],
    });
    expect(p.meters[0]!.credentials.map((c) => c.secretHex)).toEqual([
      'abcd',
      '11'.repeat(20),
      '363534333231',
    ]);
  });
});

describe('hand-written devices', () => {
  const mpan = ids.mpanCore(5);
  const device = {
    id: 'lab-esme',
    profile: 'test-esme',
    cohort: 'MOC Secure',
    transport: { kind: 'mem', name: 'lab-esme' },
    mpanCore: mpan,
    supplierId: 'SUPA',
    card: { paymentCardId: ids.paymentCardId(1, '9826176001'), issuerSupplierId: 'SUPB' },
  };

  it('keeps the given identities, fills the rest, and marks a foreign card', () => {
    const p = plan({ devices: [device] });
    const m = p.meters[p.meters.length - 1]!;
    expect(m).toMatchObject({
      index: 60,
      id: 'lab-esme',
      group: null,
      registration: { mpxn: mpan, mpanCore: mpan, mprn: null, supplierId: 'SUPA' },
      card: { paymentCardId: device.card.paymentCardId, issuerSupplierId: 'SUPB', foreign: true },
      endpoint: { listen: 'mem:lab-esme', connect: 'mem:lab-esme' },
    });
    validateSiteId(m.registration.siteId);
    expect(isValidEui64(m.identity.deviceId)).toBe(true);
  });

  it('a meter id that clashes with a generated one is rejected naming both', () => {
    const r = thrown(() => plan({ devices: [{ ...device, id: 'esme-3' }] }));
    expect(r.code).toBe('FarmDuplicate');
    expect(r.message).toContain(
      'meter id esme-3 of groups[0] (meter esme-3) is also used by devices[0] (id esme-3)',
    );
  });

  it('a generated identity steers around a hand-written one', () => {
    const free = plan();
    const taken = free.meters[0]!.registration.mpxn;
    const p = plan({ devices: [{ ...device, mpanCore: taken, card: null }] });
    const generated = p.meters.filter((m) => m.group !== null).map((m) => m.registration.mpxn);
    expect(generated).not.toContain(taken);
    expect(new Set(generated).size).toBe(generated.length);
  });

  it('an ESME profile needs an MPAN core', () => {
    const { mpanCore: _m, ...rest } = device;
    const r = thrown(() => plan({ devices: [{ ...rest, mprn: ids.mprn(3) }] }));
    expect(r.code).toBe('FarmFleetInvalid');
    expect(r.message).toContain('f.yaml: devices[0].mprn: profile test-esme is an ESME: give mpanCore');
  });

  it('a Payment Card ID failing the profile Luhn check is rejected', () => {
    const good = device.card.paymentCardId;
    const bad = good.slice(0, 18) + String((Number(good[18]) + 1) % 10);
    const r = thrown(() => plan({ devices: [{ ...device, card: { ...device.card, paymentCardId: bad } }] }));
    expect(r.message).toMatch(/devices\[0\]\.card\.paymentCardId: Luhn check digit is \d, expected \d/);
  });
});

describe('errors that need the profiles', () => {
  it.each([
    [
      'unknown profile',
      { groups: [{ ...group, profile: 'nope' }] },
      'f.yaml: groups[0].profile: no firmware profile "nope"',
    ],
    [
      'device type mismatch',
      { groups: [{ ...group, deviceType: 'GSME' }] },
      'f.yaml: groups[0].deviceType: is GSME but profile test-esme is a ESME',
    ],
    [
      'no other supplier for foreign cards',
      { groups: [{ ...group, suppliers: [{ id: 'SUPA' }] }] },
      'f.yaml: groups[0].suppliers: no supplier other than SUPA can issue a foreign card: add suppliers or foreignIssuers, or set foreignCardShare: 0',
    ],
    [
      'unknown access level',
      { groups: [{ ...group, credentials: { admin: { hex: '00' } } }] },
      'f.yaml: groups[0].credentials.admin: unknown access level (profile test-esme has reader, privileged, engineering)',
    ],
    [
      'overlapping issuer prefixes',
      { issuerPrefixes: { SUPA: '98261', SUPB: '982612' } },
      'f.yaml: issuerPrefixes.SUPB: prefix 982612 of SUPB starts with prefix 98261 of SUPA: a card could not name its issuer',
    ],
  ])('%s', (_name, overrides, message) => {
    const r = thrown(() => plan(overrides));
    expect(r.code).toBe('FarmFleetInvalid');
    expect(r.message).toContain(message);
  });

  it('a single-supplier group with the default share is fine while the count rounds to 0', () => {
    // 26 × 0.01875 = 0.49 -> 0 foreign cards, so no second supplier is needed.
    const p = plan({
      groups: [{ ...group, count: 26, suppliers: [{ id: 'SUPA' }], foreignCardShare: undefined }],
    });
    expect(p.meters.every((m) => !m.card?.foreign)).toBe(true);
  });
});

describe('issuer prefixes', () => {
  it('fleet file first, then the profile, then the derived modelled default', () => {
    expect(plan().issuerPrefixes).toEqual({ SUPA: '9826176001', SUPB: derivedIssuerPrefix('SUPB') });
    expect(plan({ issuerPrefixes: { SUPA: '11', SUPB: '22' } }).issuerPrefixes).toEqual({
      SUPA: '11',
      SUPB: '22',
    });
  });

  it('derived prefixes are 9826 + 6 digits and stable', () => {
    expect(derivedIssuerPrefix('SUPB')).toMatch(/^9826\d{6}$/);
    expect(derivedIssuerPrefix('SUPB')).toBe(derivedIssuerPrefix('SUPB'));
    expect(derivedIssuerPrefix('SUPB')).not.toBe(derivedIssuerPrefix('SUPC'));
  });
});
