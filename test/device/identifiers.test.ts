import fc from 'fast-check';
import { ErrorCode, SimError } from '../../src/core/errors';
import { createIdGenerator, GB_DNO_IDS } from '../../src/device/id-generator';
import {
  formatEui64,
  isValidEui64,
  isValidMpanCore,
  isValidMprn,
  isValidPaymentCardId,
  isValidSupplierId,
  issuerOfPaymentCard,
  luhnCheckDigit,
  MPAN_WEIGHTS,
  mpanCheckDigit,
  mprnCheckDigits,
  normalizeEui64,
  parseEui64,
  validateMeterId,
  validateMpanCore,
  validateMprn,
  validatePaymentCardId,
  validateSiteId,
  validateSupplierId,
} from '../../src/device/identifiers';

/** n random decimal digits (faster than fc.stringMatching). */
function digits(min: number, max = min): fc.Arbitrary<string> {
  return fc.array(fc.integer({ min: 0, max: 9 }), { minLength: min, maxLength: max }).map((a) => a.join(''));
}

function expectInvalid(fn: () => unknown, field: string): SimError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(SimError);
    const err = e as SimError;
    expect(err.code).toBe(ErrorCode.DeviceInvalidIdentifier);
    expect(err.context['field']).toBe(field);
    return err;
  }
  throw new Error('expected a DeviceInvalidIdentifier error');
}

/** Independent reference for the MPAN residue, written out longhand (domain.md §7). */
function mpanResidue(first12: string): number {
  const w = [3, 5, 7, 13, 17, 19, 23, 29, 31, 37, 41, 43];
  let sum = 0;
  for (let i = 0; i < 12; i++) sum += Number(first12[i]) * w[i]!;
  return sum % 11;
}

describe('MPAN core (domain.md §7)', () => {
  it('uses the prime weights 3..43 without 11', () => {
    expect(MPAN_WEIGHTS).toEqual([3, 5, 7, 13, 17, 19, 23, 29, 31, 37, 41, 43]);
  });

  it.each([
    // limejump/mpan README: full MPAN 00 111 222 | 13 12345678 90 7, core 1312345678907.
    // Σ = 1·3+3·5+1·7+2·13+3·17+4·19+5·23+6·29+7·31+8·37+9·41+0·43 = 1349; 1349 mod 11 = 7.
    ['131234567890', 7],
    // Σ = 2·3 + 4·5 + 9·(7+13+…+43 = 260) = 2366; mod 11 = 1 (limejump tests list …0 as a bad checksum).
    ['249999999999', 1],
    // Σ = 1·3 = 3.
    ['100000000000', 3],
    // Σ = 2·3 + 3·5 = 21; 21 mod 11 = 10; 10 mod 10 = 0: the residue-10 case.
    ['230000000000', 0],
    // Σ = 1·3 + 1·7 + 1·43 = 53; mod 11 = 9.
    ['101000000001', 9],
  ])('check digit of %s is %d', (first12, digit) => {
    expect(mpanCheckDigit(first12)).toBe(digit);
    expect(validateMpanCore(first12 + String(digit))).toBe(first12 + String(digit));
  });

  it('rejects the published bad checksum and malformed cores, naming the field', () => {
    const e = expectInvalid(() => validateMpanCore('2499999999990'), 'mpanCore');
    expect(e.message).toBe('mpanCore: check digit is 0, expected 1');
    expectInvalid(() => validateMpanCore('131234567890'), 'mpanCore');
    expectInvalid(() => validateMpanCore('13123456789077'), 'mpanCore');
    expectInvalid(() => validateMpanCore('13123456789O7'), 'mpanCore');
    expectInvalid(() => validateMpanCore(1312345678907), 'mpanCore');
    expectInvalid(() => validateMpanCore('2499999999990', 'registration.mpanCore'), 'registration.mpanCore');
    expect(isValidMpanCore('1312345678907')).toBe(true);
    expect(isValidMpanCore('1312345678906')).toBe(false);
  });

  it('accepts every core built from 12 random digits plus its check digit', () => {
    fc.assert(
      fc.property(digits(12), (first12) => {
        const core = first12 + String(mpanCheckDigit(first12));
        expect(validateMpanCore(core)).toBe(core);
      }),
      { numRuns: 2000 },
    );
  });

  it('rejects every single-digit mutation except the residue 0 <-> 10 blind spot', () => {
    // Changing digit i by δ changes Σ by δ·w_i, never a multiple of 11 (w_i prime ≠ 11), so
    // the residue always moves; only 0 and 10 share check digit 0, so that move goes unseen.
    fc.assert(
      fc.property(
        digits(12),
        fc.integer({ min: 0, max: 12 }),
        fc.integer({ min: 1, max: 9 }),
        (first12, pos, delta) => {
          const core = first12 + String(mpanCheckDigit(first12));
          const mutated = core.slice(0, pos) + String((Number(core[pos]) + delta) % 10) + core.slice(pos + 1);
          const blindSpot =
            pos < 12 &&
            new Set([mpanResidue(first12), mpanResidue(mutated.slice(0, 12))]).size === 2 &&
            [0, 10].includes(mpanResidue(first12)) &&
            [0, 10].includes(mpanResidue(mutated.slice(0, 12)));
          expect(isValidMpanCore(mutated)).toBe(blindSpot);
        },
      ),
      { numRuns: 5000 },
    );
  });

  it('has the blind spot on a concrete pair: 2300000000000 and 2380000000000', () => {
    // 230000000000: Σ = 21, residue 10, check digit 0. Setting the third digit to 8 adds
    // 8·7 = 56 ≡ 1 (mod 11): residue 0, check digit 0 again. One digit differs, both validate.
    const neighbours = [...Array(10).keys()]
      .map((d) => `23${d}000000000`)
      .filter((b) => mpanResidue(b) === 0);
    expect(neighbours).toEqual(['238000000000']);
    expect(isValidMpanCore('2300000000000')).toBe(true);
    expect(isValidMpanCore('2380000000000')).toBe(true);
  });
});

describe('MPRN (domain.md §7, check pair modelled)', () => {
  it.each([
    // Wiki example: 39384244 | 03. Σ = 3·8+9·7+3·6+8·5+4·4+2·3+4·2+4·1 = 179; 179 mod 11 = 3.
    ['39384244', '03'],
    // Σ = 1·4+2·3+3·2+4·1 = 20; mod 11 = 9.
    ['1234', '09'],
    // 9-digit body (11-digit MPRN), IGT-style prefix 74: Σ = 7·9+4·8+1·1 = 96; mod 11 = 8.
    ['740000001', '08'],
  ])('check pair of %s is %s', (body, pair) => {
    expect(mprnCheckDigits(body)).toBe(pair);
    expect(validateMprn(body + pair)).toBe(body + pair);
  });

  it('accepts 3938424403 and rejects wrong check pairs and lengths', () => {
    expect(isValidMprn('3938424403')).toBe(true);
    expect(expectInvalid(() => validateMprn('3938424404'), 'mprn').message).toBe(
      'mprn: check digits are 04, expected 03',
    );
    expectInvalid(() => validateMprn('12345'), 'mprn');
    expectInvalid(() => validateMprn('123456789012'), 'mprn');
    expectInvalid(() => validateMprn('39384244a3'), 'mprn');
  });

  it('accepts generated MPRNs of every allowed length', () => {
    fc.assert(
      fc.property(digits(4, 9), (body) => {
        expect(isValidMprn(body + mprnCheckDigits(body))).toBe(true);
      }),
      { numRuns: 2000 },
    );
  });
});

describe('Payment Card ID (domain.md §4, Luhn modelled)', () => {
  it('computes Luhn digits', () => {
    // The textbook Luhn example 7992739871 -> 3.
    expect(luhnCheckDigit('7992739871')).toBe(3);
    // Observed prefix 9826176001 (domain.md §4) + 8 account digits 00000001 -> 3.
    expect(luhnCheckDigit('982617600100000001')).toBe(3);
    expect(luhnCheckDigit('982617606612345678')).toBe(0);
  });

  it('validates 19 digits with the Luhn digit, or without it when the profile says so', () => {
    expect(validatePaymentCardId('9826176001000000013')).toBe('9826176001000000013');
    const e = expectInvalid(() => validatePaymentCardId('9826176001000000014'), 'paymentCardId');
    expect(e.message).toBe('paymentCardId: Luhn check digit is 4, expected 3');
    expect(validatePaymentCardId('9826176001000000014', { luhn: false })).toBe('9826176001000000014');
    expectInvalid(() => validatePaymentCardId('982617600100000001'), 'paymentCardId');
    expectInvalid(() => validatePaymentCardId('98261760010000000134', { luhn: false }), 'paymentCardId');
    expect(isValidPaymentCardId('9826176066123456780')).toBe(true);
  });

  it('finds the issuer by the longest matching prefix', () => {
    const prefixes = { SUPA: '9826176', SUPB: '9826176066' };
    expect(issuerOfPaymentCard('9826176066123456780', prefixes)).toBe('SUPB');
    expect(issuerOfPaymentCard('9826176001000000013', prefixes)).toBe('SUPA');
    expect(issuerOfPaymentCard('1111111111111111111', prefixes)).toBeUndefined();
  });

  it('detects every single-digit substitution (Luhn property)', () => {
    fc.assert(
      fc.property(
        digits(18),
        fc.integer({ min: 0, max: 18 }),
        fc.integer({ min: 1, max: 9 }),
        (payload, pos, delta) => {
          const id = payload + String(luhnCheckDigit(payload));
          const mutated = id.slice(0, pos) + String((Number(id[pos]) + delta) % 10) + id.slice(pos + 1);
          expect(isValidPaymentCardId(id)).toBe(true);
          expect(isValidPaymentCardId(mutated)).toBe(false);
        },
      ),
      { numRuns: 3000 },
    );
  });
});

describe('supplier id, Site ID, meter id, EUI-64', () => {
  it('accepts MPID-style supplier ids only in canonical upper case', () => {
    expect(validateSupplierId('SUPA')).toBe('SUPA');
    expect(validateSupplierId('E0N1')).toBe('E0N1');
    expect(isValidSupplierId('supa')).toBe(false);
    expectInvalid(() => validateSupplierId('SUP'), 'supplierId');
    expectInvalid(() => validateSupplierId('SUPAB', 'card.issuerSupplierId'), 'card.issuerSupplierId');
  });

  it('validates Site IDs and meter ids', () => {
    expect(validateSiteId('1234567890')).toBe('1234567890');
    expectInvalid(() => validateSiteId(''), 'siteId');
    expectInvalid(() => validateSiteId('x'.repeat(21)), 'siteId');
    expect(validateMeterId('farm-a.esme:0001')).toBe('farm-a.esme:0001');
    expectInvalid(() => validateMeterId('-bad'), 'id');
    expectInvalid(() => validateMeterId("x'; DROP"), 'id');
  });

  it('parses and formats EUI-64 (domain.md §7 example)', () => {
    const bytes = parseEui64('90-B3-D5-1F-30-01-00-00');
    expect([...bytes]).toEqual([
      0x90, // OUI byte 1
      0xb3, // OUI byte 2
      0xd5, // OUI byte 3
      0x1f,
      0x30,
      0x01,
      0x00,
      0x00,
    ]);
    expect(formatEui64(bytes)).toBe('90-B3-D5-1F-30-01-00-00');
    expect(normalizeEui64('90:b3:d5:1f:30:01:00:00')).toBe('90-B3-D5-1F-30-01-00-00');
    expect(normalizeEui64('90b3d51f30010000')).toBe('90-B3-D5-1F-30-01-00-00');
    expect(isValidEui64('90-B3:D5-1F-30-01-00-00')).toBe(false);
    expect(isValidEui64('90-B3-D5-1F-30-01-00')).toBe(false);
    expectInvalid(() => parseEui64('zz-B3-D5-1F-30-01-00-00', 'identity.deviceId'), 'identity.deviceId');
  });

  it('round-trips any 8 bytes through format and parse', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 8, maxLength: 8 }), (b) => {
        expect([...parseEui64(formatEui64(b))]).toEqual([...b]);
      }),
      { numRuns: 1000 },
    );
  });
});

describe('seeded identifier generator', () => {
  const N = 10_000;

  it('generates valid, unique identifiers for 10,000 meters', () => {
    const g = createIdGenerator(42);
    const kinds: Record<string, (i: number) => string> = {
      mpan: (i) => g.mpanCore(i),
      mprn: (i) => g.mprn(i),
      card: (i) => g.paymentCardId(i, '9826176001'),
      supplier: (i) => g.supplierId(i),
      eui: (i) => g.deviceId(i),
      serial: (i) => g.serial(i, 'SL'),
      site: (i) => g.siteId(i),
    };
    for (const [kind, gen] of Object.entries(kinds)) {
      const seen = new Set<string>();
      for (let i = 0; i < N; i++) seen.add(gen(i));
      expect({ kind, unique: seen.size }).toEqual({ kind, unique: N });
    }
    for (let i = 0; i < N; i += 97) {
      expect(isValidMpanCore(g.mpanCore(i))).toBe(true);
      expect(GB_DNO_IDS).toContain(g.mpanCore(i).slice(0, 2));
      expect(g.mprn(i)).toHaveLength(10);
      expect(isValidMprn(g.mprn(i))).toBe(true);
      expect(g.paymentCardId(i, '9826176001').startsWith('9826176001')).toBe(true);
      expect(isValidPaymentCardId(g.paymentCardId(i, '9826176001'))).toBe(true);
      expect(isValidSupplierId(g.supplierId(i))).toBe(true);
      expect(g.deviceId(i).startsWith('02-53-4D-')).toBe(true);
      expect(g.serial(i, 'SL')).toMatch(/^SL[0-9]{8}$/);
      expect(() => validateSiteId(g.siteId(i))).not.toThrow();
    }
  });

  it('is deterministic per seed and differs between seeds', () => {
    const a = createIdGenerator('fleet-1');
    const b = createIdGenerator('fleet-1');
    const c = createIdGenerator('fleet-2');
    expect([a.mpanCore(7), a.mprn(7), a.deviceId(7, '90-B3-D5')]).toEqual([
      b.mpanCore(7),
      b.mprn(7),
      b.deviceId(7, '90-B3-D5'),
    ]);
    expect(a.mpanCore(7)).not.toBe(c.mpanCore(7));
    expect(a.deviceId(7, '90-B3-D5').startsWith('90-B3-D5-')).toBe(true);
  });

  it('validates generated identifiers for any seed and index', () => {
    fc.assert(
      fc.property(fc.string(), fc.nat({ max: 1_000_000_000 }), (seed, index) => {
        const g = createIdGenerator(seed);
        expect(isValidMpanCore(g.mpanCore(index))).toBe(true);
        expect(isValidMprn(g.mprn(index % 90_000_000))).toBe(true);
        expect(isValidPaymentCardId(g.paymentCardId(index, '98261760'))).toBe(true);
        expect(isValidEui64(g.deviceId(index))).toBe(true);
      }),
      { numRuns: 500 },
    );
  });

  it('refuses an index beyond the permutation range', () => {
    const g = createIdGenerator(1);
    expectInvalid(() => g.supplierId(36 ** 4), 'supplierId');
    expectInvalid(() => g.mpanCore(-1), 'mpanCore');
    expectInvalid(() => g.paymentCardId(10, '98261760011234567'), 'paymentCardId');
    expectInvalid(() => g.paymentCardId(0, '982617600112345678'), 'issuerPrefix');
  });
});
