/**
 * Which xDLMS APDU may be carried by which ciphered APDU tag. Spec table as data: one row per
 * service, driving both cipherApdu (plaintext tag -> wire tag) and decipherApdu (wire tag ->
 * form, key and the plaintext tag it must contain).
 *
 * Sources: docs/dlms.md §7 "Glo tags" (GXPY `enums/Command.py`): initiate 21/28, GET C8/CC,
 * SET C9/CD, ACTION CB/CF, event notification CA, dedicated variants D0-D7, general ciphering
 * DB/DC/DD. The ded-* values, the confirmed-service-error rows (0E -> 2E/4E) and the ded
 * initiate rows (41/48) are read from the same GXPY file (DED_GET_REQUEST = 0xD0, DED_SET_REQUEST =
 * 0xD1, DED_EVENT_NOTIFICATION = 0xD2, DED_METHOD_REQUEST = 0xD3, DED_GET_RESPONSE = 0xD4,
 * DED_SET_RESPONSE = 0xD5, DED_METHOD_RESPONSE = 0xD7, GLO_CONFIRMED_SERVICE_ERROR = 46,
 * DED_CONFIRMED_SERVICE_ERROR = 78, DED_INITIATE_REQUEST = 65, DED_INITIATE_RESPONSE = 72).
 *
 * exception-response (D8) has no glo-/ded- tag in that list: it is not in this table, so a
 * service-specific cipherApdu refuses it. It travels in clear, or wrapped whole in
 * general-glo-ciphering (DB), which carries any APDU (modelled choice for the simulator).
 */

export interface CipheredServiceRow {
  readonly service: string;
  /** Tag of the plaintext APDU. */
  readonly plain: number;
  /** glo-* tag: ciphered with a global key (unicast, or broadcast when SC has 0x40). */
  readonly glo: number;
  /** ded-* tag: ciphered with the dedicated key from the InitiateRequest. */
  readonly ded: number;
}

export const CIPHERED_SERVICE_TABLE: readonly CipheredServiceRow[] = [
  { service: 'initiate-request', plain: 0x01, glo: 0x21, ded: 0x41 },
  { service: 'initiate-response', plain: 0x08, glo: 0x28, ded: 0x48 },
  { service: 'confirmed-service-error', plain: 0x0e, glo: 0x2e, ded: 0x4e },
  { service: 'get-request', plain: 0xc0, glo: 0xc8, ded: 0xd0 },
  { service: 'set-request', plain: 0xc1, glo: 0xc9, ded: 0xd1 },
  { service: 'event-notification-request', plain: 0xc2, glo: 0xca, ded: 0xd2 },
  { service: 'action-request', plain: 0xc3, glo: 0xcb, ded: 0xd3 },
  { service: 'get-response', plain: 0xc4, glo: 0xcc, ded: 0xd4 },
  { service: 'set-response', plain: 0xc5, glo: 0xcd, ded: 0xd5 },
  { service: 'action-response', plain: 0xc7, glo: 0xcf, ded: 0xd7 },
];

/** general-glo-ciphering: system title + ciphered content, global key (docs/dlms.md §3, §7). */
export const TAG_GENERAL_GLO_CIPHERING = 0xdb;
/** general-ded-ciphering: the same layout with the dedicated key. */
export const TAG_GENERAL_DED_CIPHERING = 0xdc;

/**
 * How a ciphered APDU is framed and which key family it uses:
 * - `glo` / `ded`: service-specific tag, `tag len SC IC payload [authTag]`;
 * - `general-glo` / `general-ded`: `tag len(ST) ST len SC IC payload [authTag]`.
 */
export type CipheredForm = 'glo' | 'ded' | 'general-glo' | 'general-ded';

export interface CipheredTagInfo {
  readonly form: CipheredForm;
  /** The plaintext tag the content must start with; undefined for the general forms (any APDU). */
  readonly plain: number | undefined;
  readonly service: string;
}

const byWireTag = new Map<number, CipheredTagInfo>();
const byPlainTag = new Map<number, CipheredServiceRow>();
for (const row of CIPHERED_SERVICE_TABLE) {
  byWireTag.set(row.glo, { form: 'glo', plain: row.plain, service: row.service });
  byWireTag.set(row.ded, { form: 'ded', plain: row.plain, service: row.service });
  byPlainTag.set(row.plain, row);
}
byWireTag.set(TAG_GENERAL_GLO_CIPHERING, {
  form: 'general-glo',
  plain: undefined,
  service: 'general-glo-ciphering',
});
byWireTag.set(TAG_GENERAL_DED_CIPHERING, {
  form: 'general-ded',
  plain: undefined,
  service: 'general-ded-ciphering',
});

/** What a wire tag means, or undefined if it is not a ciphered APDU this suite handles. */
export function cipheredTagInfo(tag: number): CipheredTagInfo | undefined {
  return byWireTag.get(tag);
}

export function isCipheredTag(tag: number): boolean {
  return byWireTag.has(tag);
}

/** The wire tag for a plaintext APDU tag in a given form, or undefined when there is none. */
export function cipheredTagFor(plainTag: number, form: CipheredForm): number | undefined {
  if (form === 'general-glo') return TAG_GENERAL_GLO_CIPHERING;
  if (form === 'general-ded') return TAG_GENERAL_DED_CIPHERING;
  const row = byPlainTag.get(plainTag);
  if (!row) return undefined;
  return form === 'glo' ? row.glo : row.ded;
}

/** True for the forms whose content is ciphered with the dedicated key. */
export function usesDedicatedKey(form: CipheredForm): boolean {
  return form === 'ded' || form === 'general-ded';
}

/** True for the forms that carry the sender's system title in the APDU. */
export function carriesSystemTitle(form: CipheredForm): boolean {
  return form === 'general-glo' || form === 'general-ded';
}
