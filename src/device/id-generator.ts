/**
 * Deterministic identifier generators for farms and tests.
 *
 * Each identifier is a pure function of (seed, kind, index): the same seed always yields the
 * same fleet, and any shard can compute meter #i on its own (DESIGN.md "Farm", --shard i/N).
 * Uniqueness is guaranteed, not hoped for: the variable part of every identifier is an affine
 * permutation x -> (a·x + b) mod m with gcd(a, m) = 1, which is a bijection on [0, m), so
 * distinct indices below m give distinct identifiers.
 */
import { createHash } from 'node:crypto';
import { ErrorCode, SimError } from '../core/errors';
import {
  formatEui64,
  luhnCheckDigit,
  mpanCheckDigit,
  mprnCheckDigits,
  parseEui64,
  validateIssuerPrefix,
  PAYMENT_CARD_ID_LENGTH,
} from './identifiers';

/**
 * GB distribution network operator ids 10–23 (the 14 public-licence areas). Not in
 * docs/domain.md, which only says "2-digit distributor": modelled for generated MPANs.
 */
export const GB_DNO_IDS: readonly string[] = [
  '10',
  '11',
  '12',
  '13',
  '14',
  '15',
  '16',
  '17',
  '18',
  '19',
  '20',
  '21',
  '22',
  '23',
];

/**
 * Default OUI for generated device ids: 02-53-4D has the locally-administered bit set and
 * spells "SM", so a generated id can never collide with a vendor-assigned one. Modelled.
 */
export const DEFAULT_DEVICE_OUI = '02-53-4D';

function gcd(a: bigint, b: bigint): bigint {
  while (b !== 0n) [a, b] = [b, a % b];
  return a;
}

class AffinePermutation {
  private readonly a: bigint;
  private readonly b: bigint;

  constructor(
    readonly modulus: bigint,
    seed: string,
    kind: string,
  ) {
    const h = createHash('sha256').update(`${seed}\u0000${kind}`).digest();
    let a = (h.readBigUInt64BE(0) % modulus) | 1n;
    while (gcd(a, modulus) !== 1n) a = (a + 2n) % modulus;
    this.a = a;
    this.b = h.readBigUInt64BE(8) % modulus;
  }

  at(index: number, kind: string): bigint {
    if (!Number.isSafeInteger(index) || index < 0 || BigInt(index) >= this.modulus)
      throw new SimError(
        ErrorCode.DeviceInvalidIdentifier,
        `${kind}: index ${index} outside 0..${this.modulus - 1n}`,
        {
          field: kind,
          value: String(index),
          reason: 'generator index out of range',
        },
      );
    return (this.a * BigInt(index) + this.b) % this.modulus;
  }
}

export interface IdGenerator {
  readonly seed: string;
  /** 13-digit MPAN core with a valid check digit; distributor cycles through GB_DNO_IDS. */
  mpanCore(index: number): string;
  /** 10-digit MPRN (8-digit body, no leading zero, modelled check pair). */
  mprn(index: number): string;
  /** 19-digit Payment Card ID = issuer prefix + account digits + Luhn digit (modelled). */
  paymentCardId(index: number, issuerPrefix: string): string;
  /** 4-character upper-case alphanumeric supplier id (MPID style). */
  supplierId(index: number): string;
  /** EUI-64 device id: 3-byte OUI + 5 bytes from the index. */
  deviceId(index: number, oui?: string): string;
  /** Meter serial: prefix + 8 digits (format modelled). */
  serial(index: number, prefix: string): string;
  /** Site ID: 10 digits (format modelled, see validateSiteId). */
  siteId(index: number): string;
}

const ALNUM = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ';

export function createIdGenerator(seed: string | number): IdGenerator {
  const s = String(seed);
  const cache = new Map<string, AffinePermutation>();
  const perm = (kind: string, modulus: bigint): AffinePermutation => {
    const key = `${kind}/${modulus}`;
    let p = cache.get(key);
    if (!p) {
      p = new AffinePermutation(modulus, s, kind);
      cache.set(key, p);
    }
    return p;
  };

  return {
    seed: s,
    mpanCore(index) {
      const dno = GB_DNO_IDS[index % GB_DNO_IDS.length]!;
      const body = perm('mpan', 10n ** 10n)
        .at(index, 'mpanCore')
        .toString()
        .padStart(10, '0');
      const first12 = dno + body;
      return first12 + String(mpanCheckDigit(first12));
    },
    mprn(index) {
      // Body 10_000_000..99_999_999: eight digits without a leading zero.
      const body = (10_000_000n + perm('mprn', 90_000_000n).at(index, 'mprn')).toString();
      return body + mprnCheckDigits(body);
    },
    paymentCardId(index, issuerPrefix) {
      const prefix = validateIssuerPrefix(issuerPrefix);
      const accountDigits = PAYMENT_CARD_ID_LENGTH - 1 - prefix.length;
      const account = perm(`card:${prefix}`, 10n ** BigInt(accountDigits))
        .at(index, 'paymentCardId')
        .toString()
        .padStart(accountDigits, '0');
      const payload = prefix + account;
      return payload + String(luhnCheckDigit(payload));
    },
    supplierId(index) {
      let v = perm('supplier', 36n ** 4n).at(index, 'supplierId');
      let out = '';
      for (let i = 0; i < 4; i++) {
        out = ALNUM[Number(v % 36n)]! + out;
        v /= 36n;
      }
      return out;
    },
    deviceId(index, oui = DEFAULT_DEVICE_OUI) {
      const prefix = parseEui64(`${oui}-00-00-00-00-00`, 'deviceIdOui').subarray(0, 3);
      const tail = perm(`eui:${oui}`, 1n << 40n).at(index, 'deviceId');
      const bytes = Buffer.alloc(8);
      prefix.copy(bytes, 0);
      for (let i = 0; i < 5; i++) bytes[7 - i] = Number((tail >> BigInt(8 * i)) & 0xffn);
      return formatEui64(bytes);
    },
    serial(index, prefix) {
      return (
        prefix +
        perm(`serial:${prefix}`, 10n ** 8n)
          .at(index, 'serial')
          .toString()
          .padStart(8, '0')
      );
    },
    siteId(index) {
      return (1_000_000_000n + perm('site', 9_000_000_000n).at(index, 'siteId')).toString();
    },
  };
}
