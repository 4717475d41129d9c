/**
 * GB metering identifiers: validation, formatting and check digits (docs/domain.md §7).
 *
 * Every validator throws SimError(DeviceInvalidIdentifier) naming the field, so a bad value
 * is rejected with the same code whether it came from a farm file, a profile or the wire.
 * Facts and modelled assumptions are marked per identifier.
 */
import { ErrorCode, SimError } from '../core/errors';

function invalid(field: string, value: unknown, reason: string): SimError {
  return new SimError(ErrorCode.DeviceInvalidIdentifier, `${field}: ${reason}`, {
    field,
    value: typeof value === 'string' ? value : String(value),
    reason,
  });
}

function requireString(field: string, value: unknown): string {
  if (typeof value !== 'string') throw invalid(field, value, 'must be a string');
  return value;
}

const digitsOnly = /^[0-9]+$/;

// ---------------------------------------------------------------------------------------
// MPAN core (domain.md §7, fact): 13 digits = 2-digit distributor + 10 digits + check digit.
// Check digit = Σ(d_i × w_i) mod 11 mod 10 over the first 12 digits. The weights are the
// primes from 3 to 43 without 11 (one indexed repository uses wrong weights; these are the
// ones from tlocke/mpan and limejump/mpan).

export const MPAN_WEIGHTS: readonly number[] = [3, 5, 7, 13, 17, 19, 23, 29, 31, 37, 41, 43];

/** Check digit of a 12-digit MPAN core body. */
export function mpanCheckDigit(first12: string): number {
  if (first12.length !== 12 || !digitsOnly.test(first12))
    throw invalid('mpanCore', first12, 'check digit needs exactly 12 leading digits');
  let sum = 0;
  for (let i = 0; i < 12; i++) sum += (first12.charCodeAt(i) - 48) * MPAN_WEIGHTS[i]!;
  return (sum % 11) % 10;
}

/** Validate a 13-digit MPAN core and return it. */
export function validateMpanCore(value: unknown, field = 'mpanCore'): string {
  const s = requireString(field, value);
  if (s.length !== 13 || !digitsOnly.test(s)) throw invalid(field, s, 'must be exactly 13 digits');
  const expected = mpanCheckDigit(s.slice(0, 12));
  if (s.charCodeAt(12) - 48 !== expected)
    throw invalid(field, s, `check digit is ${s[12]}, expected ${expected}`);
  return s;
}

export function isValidMpanCore(value: unknown): boolean {
  return accepts(() => validateMpanCore(value));
}

// ---------------------------------------------------------------------------------------
// MPRN (domain.md §7): 6–11 digits, usually 10 (fact). The check below comes from a
// low-authority wiki: modelled. The last two digits = Σ(digit × weight) mod 11, zero-padded,
// where the weights run from n down to 1 over the n leading digits. 3938424403 → "03".

/** The two check digits of an MPRN body (the digits before the check pair). Modelled. */
export function mprnCheckDigits(body: string): string {
  if (body.length < 4 || body.length > 9 || !digitsOnly.test(body))
    throw invalid('mprn', body, 'MPRN body must be 4–9 digits');
  let sum = 0;
  const n = body.length;
  for (let i = 0; i < n; i++) sum += (body.charCodeAt(i) - 48) * (n - i);
  return String(sum % 11).padStart(2, '0');
}

export function validateMprn(value: unknown, field = 'mprn'): string {
  const s = requireString(field, value);
  if (s.length < 6 || s.length > 11 || !digitsOnly.test(s)) throw invalid(field, s, 'must be 6–11 digits');
  const expected = mprnCheckDigits(s.slice(0, -2));
  if (s.slice(-2) !== expected)
    throw invalid(field, s, `check digits are ${s.slice(-2)}, expected ${expected}`);
  return s;
}

export function isValidMprn(value: unknown): boolean {
  return accepts(() => validateMprn(value));
}

// ---------------------------------------------------------------------------------------
// Payment Card ID (domain.md §4): the 19-digit number printed on a top-up card (fact). That
// it is an ISO/IEC 7812 PAN with a Luhn check digit is an inference: modelled, and the Luhn
// check can be switched off per firmware profile for cards that turn out not to carry one.

export const PAYMENT_CARD_ID_LENGTH = 19;

/** Luhn check digit for `payload` (all digits before the check digit). */
export function luhnCheckDigit(payload: string): number {
  if (payload.length === 0 || !digitsOnly.test(payload))
    throw invalid('paymentCardId', payload, 'Luhn payload must be digits');
  let sum = 0;
  // Double every second digit counting leftwards from the digit next to the check digit.
  for (let i = payload.length - 1, dbl = true; i >= 0; i--, dbl = !dbl) {
    let d = payload.charCodeAt(i) - 48;
    if (dbl) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
  }
  return (10 - (sum % 10)) % 10;
}

export interface PaymentCardOptions {
  /** Require a valid Luhn check digit (modelled; default true). */
  luhn?: boolean;
}

export function validatePaymentCardId(
  value: unknown,
  options: PaymentCardOptions = {},
  field = 'paymentCardId',
): string {
  const s = requireString(field, value);
  if (s.length !== PAYMENT_CARD_ID_LENGTH || !digitsOnly.test(s))
    throw invalid(field, s, `must be exactly ${PAYMENT_CARD_ID_LENGTH} digits`);
  if (options.luhn ?? true) {
    const expected = luhnCheckDigit(s.slice(0, -1));
    if (s.charCodeAt(18) - 48 !== expected)
      throw invalid(field, s, `Luhn check digit is ${s[18]}, expected ${expected}`);
  }
  return s;
}

export function isValidPaymentCardId(value: unknown, options: PaymentCardOptions = {}): boolean {
  return accepts(() => validatePaymentCardId(value, options));
}

/**
 * Which supplier issued a card, by longest matching issuer prefix. The prefix-to-supplier
 * mapping is not public (domain.md §8 item 3): the table is configuration, modelled.
 */
export function issuerOfPaymentCard(
  paymentCardId: string,
  issuerPrefixes: Readonly<Record<string, string>>,
): string | undefined {
  let best: { supplier: string; len: number } | undefined;
  for (const [supplier, prefix] of Object.entries(issuerPrefixes)) {
    if (paymentCardId.startsWith(prefix) && (!best || prefix.length > best.len))
      best = { supplier, len: prefix.length };
  }
  return best?.supplier;
}

export function validateIssuerPrefix(value: unknown, field = 'issuerPrefix'): string {
  const s = requireString(field, value);
  // At least one account digit must remain between the prefix and the check digit.
  if (!digitsOnly.test(s) || s.length < 1 || s.length > PAYMENT_CARD_ID_LENGTH - 2)
    throw invalid(field, s, `must be 1–${PAYMENT_CARD_ID_LENGTH - 2} digits`);
  return s;
}

// ---------------------------------------------------------------------------------------
// Supplier id (domain.md §7): Elexon MPID, "4 digit" in the glossary, 4 alphanumeric
// characters in practice. Canonical form is upper case; lower case is rejected rather than
// silently changed so that comparisons against the Responsible Supplier stay exact.

const supplierIdPattern = /^[A-Z0-9]{4}$/;

export function validateSupplierId(value: unknown, field = 'supplierId'): string {
  const s = requireString(field, value);
  if (!supplierIdPattern.test(s)) throw invalid(field, s, 'must be 4 upper-case letters or digits (MPID)');
  return s;
}

export function isValidSupplierId(value: unknown): boolean {
  return accepts(() => validateSupplierId(value));
}

// ---------------------------------------------------------------------------------------
// EUI-64 (domain.md §7): written as 8 hyphen-separated hex octets, e.g.
// 90-B3-D5-1F-30-01-00-00. Parsing also accepts ':' separators or 16 bare hex digits, and the
// canonical form is upper-case hyphenated.

const euiPattern = /^(?:[0-9A-Fa-f]{2}([-:])(?:[0-9A-Fa-f]{2}\1){6}[0-9A-Fa-f]{2}|[0-9A-Fa-f]{16})$/;

export function parseEui64(value: unknown, field = 'deviceId'): Buffer {
  const s = requireString(field, value);
  if (!euiPattern.test(s)) throw invalid(field, s, 'must be an EUI-64 like 90-B3-D5-1F-30-01-00-00');
  return Buffer.from(s.replace(/[-:]/g, ''), 'hex');
}

export function formatEui64(bytes: Uint8Array): string {
  if (bytes.length !== 8) throw invalid('deviceId', Buffer.from(bytes).toString('hex'), 'EUI-64 is 8 bytes');
  return Array.from(bytes, (b) => b.toString(16).toUpperCase().padStart(2, '0')).join('-');
}

/** Validate and return the canonical form. */
export function normalizeEui64(value: unknown, field = 'deviceId'): string {
  return formatEui64(parseEui64(value, field));
}

export function isValidEui64(value: unknown): boolean {
  return accepts(() => parseEui64(value));
}

// ---------------------------------------------------------------------------------------
// Site ID: the Liberty stores a "Site ID" next to the Payment Card ID (TRM engineering UTRN
// "clear Site ID and Payment Card ID", domain.md §4). Its format is not public: modelled as
// 1–20 letters, digits or '-' (fits a 20-char C12.19 STRING field).

const siteIdPattern = /^[A-Za-z0-9-]{1,20}$/;

export function validateSiteId(value: unknown, field = 'siteId'): string {
  const s = requireString(field, value);
  if (!siteIdPattern.test(s)) throw invalid(field, s, 'must be 1–20 letters, digits or "-" (modelled)');
  return s;
}

/** A meter id inside one store: free-form but safe in URLs, file names and SQL text. */
const meterIdPattern = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$/;

export function validateMeterId(value: unknown, field = 'id'): string {
  const s = requireString(field, value);
  if (!meterIdPattern.test(s))
    throw invalid(field, s, 'must be 1–64 of [A-Za-z0-9._:-], starting alphanumeric');
  return s;
}

function accepts(fn: () => unknown): boolean {
  try {
    fn();
    return true;
  } catch (e) {
    if (e instanceof SimError) return false;
    throw e;
  }
}
