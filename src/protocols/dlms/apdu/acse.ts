import { ByteWriter, type ByteReader } from '../../../core/bytes';
import { encodeError } from '../axdr/limits';
import { checkInt } from './checks';
import {
  berIntegerContent,
  expectTlv,
  readBerIntegerContent,
  readBerLength,
  readTlv,
  tlv,
  writeTlv,
} from './ber';
import { encodeUserInformation, readUserInformation, type UserInformation } from './xdlms-initiate';

/**
 * ACSE APDUs (BER), as DLMS profiles them (docs/dlms.md §4.1): AARQ 60, AARE 61, RLRQ 62,
 * RLRE 63. Each APDU is a table of context-tagged fields (spec table as data): the same rows
 * drive decode and encode. Fields are accepted in any order and written in tag-number order,
 * which is the ASN.1 SEQUENCE order. AP-titles and AE-qualifiers are OCTET STRINGs in DLMS
 * (`A6 0A 04 08 <system title>`, U9N `test_parse_ciphered_low_security2`).
 */

export type ApplicationContextName = 'LN' | 'SN' | 'LN-ciphered' | 'SN-ciphered';
export type MechanismName =
  'lowest' | 'low' | 'high' | 'high-md5' | 'high-sha1' | 'high-gmac' | 'high-sha256' | 'high-ecdsa';

/** Any OBJECT IDENTIFIER outside the DLMS arcs, kept as its encoded contents. */
export interface UnknownOid {
  readonly oid: Buffer;
}

export type AuthenticationValue =
  | { readonly kind: 'charstring'; readonly value: Buffer }
  | { readonly kind: 'bitstring'; readonly unusedBits: number; readonly value: Buffer };

export interface ResultSourceDiagnostic {
  readonly source: 'acse-service-user' | 'acse-service-provider';
  readonly value: number;
}

export interface Aarq {
  readonly type: 'aarq';
  /** protocol-version BIT STRING contents (e.g. `07 80` = version1); usually absent. */
  readonly protocolVersion?: Buffer | undefined;
  readonly applicationContextName: ApplicationContextName | UnknownOid;
  readonly calledApTitle?: Buffer | undefined;
  readonly calledAeQualifier?: Buffer | undefined;
  readonly calledApInvocationId?: number | undefined;
  readonly calledAeInvocationId?: number | undefined;
  /** Client system title when ciphering (docs/dlms.md §4.1). */
  readonly callingApTitle?: Buffer | undefined;
  readonly callingAeQualifier?: Buffer | undefined;
  readonly callingApInvocationId?: number | undefined;
  readonly callingAeInvocationId?: number | undefined;
  /** acse-requirements with the authentication bit (`8A 02 07 80`). */
  readonly senderAcseRequirements?: boolean | undefined;
  readonly mechanismName?: MechanismName | UnknownOid | undefined;
  /** LLS password or HLS CtoS challenge. */
  readonly callingAuthenticationValue?: AuthenticationValue | undefined;
  readonly implementationInformation?: Buffer | undefined;
  readonly userInformation?: UserInformation | undefined;
}

export interface Aare {
  readonly type: 'aare';
  readonly protocolVersion?: Buffer | undefined;
  readonly applicationContextName: ApplicationContextName | UnknownOid;
  /** AssociationResult: 0 accepted, 1 rejected-permanent, 2 rejected-transient. */
  readonly result: number;
  readonly resultSourceDiagnostic: ResultSourceDiagnostic;
  /** Server system title (not confirmed for plain HLS5: docs/dlms.md §10 item 4). */
  readonly respondingApTitle?: Buffer | undefined;
  readonly respondingAeQualifier?: Buffer | undefined;
  readonly respondingApInvocationId?: number | undefined;
  readonly respondingAeInvocationId?: number | undefined;
  readonly responderAcseRequirements?: boolean | undefined;
  readonly mechanismName?: MechanismName | UnknownOid | undefined;
  /** HLS StoC challenge. */
  readonly respondingAuthenticationValue?: AuthenticationValue | undefined;
  readonly implementationInformation?: Buffer | undefined;
  readonly userInformation?: UserInformation | undefined;
}

export interface Rlrq {
  readonly type: 'rlrq';
  /** ReleaseRequestReason: 0 normal, 1 urgent, 30 user-defined. */
  readonly reason?: number | undefined;
  readonly userInformation?: UserInformation | undefined;
}

export interface Rlre {
  readonly type: 'rlre';
  /** ReleaseResponseReason: 0 normal, 1 not-finished, 30 user-defined. */
  readonly reason?: number | undefined;
  readonly userInformation?: UserInformation | undefined;
}

export type AcseApdu = Aarq | Aare | Rlrq | Rlre;

export const TAG_AARQ = 0x60;
export const TAG_AARE = 0x61;
export const TAG_RLRQ = 0x62;
export const TAG_RLRE = 0x63;

/** `60 85 74 05 08 01 x` / `60 85 74 05 08 02 x` (docs/dlms.md §4.1 "OIDs"). */
const CONTEXT_ARC = Buffer.from([0x60, 0x85, 0x74, 0x05, 0x08, 0x01]);
const MECHANISM_ARC = Buffer.from([0x60, 0x85, 0x74, 0x05, 0x08, 0x02]);

/** Index = last arc. 1..4 per GXPY `ApplicationContextName.py`. */
export const APPLICATION_CONTEXT_NAMES: readonly (ApplicationContextName | undefined)[] = [
  undefined,
  'LN',
  'SN',
  'LN-ciphered',
  'SN-ciphered',
];

/**
 * Index = last arc. 1..7 per U9N `enumerations.py` (docs/dlms.md §4.1); 0 is the Green Book's
 * lowest-level mechanism on the same arc (not in dlms.md; modelled by the arc pattern).
 */
export const MECHANISM_NAMES: readonly MechanismName[] = [
  'lowest',
  'low',
  'high',
  'high-md5',
  'high-sha1',
  'high-gmac',
  'high-sha256',
  'high-ecdsa',
];

/** Field contents codec; `c` is bounded to the field's contents and named after it. */
interface FieldCodec<V> {
  decode(c: ByteReader): V;
  encode(v: V, path: string): Buffer;
}

interface FieldRow {
  readonly tag: number;
  readonly key: string;
  readonly codec: FieldCodec<unknown>;
}

function row<T, K extends keyof T & string>(
  tag: number,
  key: K,
  codec: FieldCodec<NonNullable<T[K]>>,
): FieldRow {
  return { tag, key, codec: codec as FieldCodec<unknown> };
}

function buf(v: unknown, path: string): Buffer {
  if (!Buffer.isBuffer(v)) throw encodeError(path, 'expected a Buffer');
  return v;
}

const rawOctets: FieldCodec<Buffer> = {
  decode: (c) => c.rest(),
  encode: (v, path) => buf(v, path),
};

const explicitOctetString: FieldCodec<Buffer> = {
  decode(c) {
    const v = expectTlv(c, 0x04, 'value').rest();
    c.expectEnd();
    return v;
  },
  encode: (v, path) => tlv(0x04, buf(v, path), path),
};

const implicitInteger: FieldCodec<number> = {
  decode: (c) => readBerIntegerContent(c, ''),
  encode: (v, path) => berIntegerContent(v, path),
};

const explicitInteger: FieldCodec<number> = {
  decode(c) {
    const v = readBerIntegerContent(expectTlv(c, 0x02, 'value'), '');
    c.expectEnd();
    return v;
  },
  encode: (v, path) => tlv(0x02, berIntegerContent(v, path), path),
};

/** ACSE-requirements BIT STRING: only bit 0 (authentication) has a DLMS meaning. */
const acseRequirements: FieldCodec<boolean> = {
  decode(c) {
    c.u8('unusedBits');
    if (c.atEnd) c.fail('empty acse-requirements bit string');
    return (c.rest()[0]! & 0x80) !== 0;
  },
  encode: (v) => Buffer.from([0x07, v ? 0x80 : 0x00]),
};

function oidName<N extends string>(
  arc: Buffer,
  names: readonly (N | undefined)[],
): FieldCodec<N | UnknownOid> {
  return {
    decode(c) {
      const oid = c.rest();
      if (oid.length === arc.length + 1 && oid.subarray(0, arc.length).equals(arc)) {
        const name = names[oid[arc.length]!];
        if (name !== undefined) return name;
      }
      return { oid };
    },
    encode(v, path) {
      if (typeof v === 'object' && v !== null) return buf(v.oid, path);
      const i = names.indexOf(v);
      if (i < 0) throw encodeError(path, `unknown name '${String(v)}'`);
      return Buffer.concat([arc, Buffer.from([i])]);
    },
  };
}

function explicitOid<N extends string>(inner: FieldCodec<N | UnknownOid>): FieldCodec<N | UnknownOid> {
  return {
    decode(c) {
      const v = inner.decode(expectTlv(c, 0x06, 'oid'));
      c.expectEnd();
      return v;
    },
    encode: (v, path) => tlv(0x06, inner.encode(v, path), path),
  };
}

const contextName = explicitOid(oidName(CONTEXT_ARC, APPLICATION_CONTEXT_NAMES));
const mechanismName = oidName(MECHANISM_ARC, MECHANISM_NAMES);

/** Authentication-value CHOICE: charstring [0] (80) or bitstring [1] (81). */
const authenticationValue: FieldCodec<AuthenticationValue> = {
  decode(c) {
    const t = readTlv(c, 'value');
    c.expectEnd();
    if (t.tag === 0x80) return { kind: 'charstring', value: t.content.rest() };
    if (t.tag === 0x81) {
      const unusedBits = t.content.u8('unusedBits');
      if (unusedBits > 7) t.content.fail(`${unusedBits} unused bits, at most 7`, 'unusedBits');
      return { kind: 'bitstring', unusedBits, value: t.content.rest() };
    }
    return c.fail(`authentication-value choice 0x${t.tag.toString(16)} not supported`, 'value', {
      tag: t.tag,
    });
  },
  encode(v, path) {
    if (v.kind === 'charstring') return tlv(0x80, buf(v.value, path), path);
    if (v.kind === 'bitstring') {
      checkInt(v.unusedBits, 0, 7, `${path}.unusedBits`);
      return tlv(0x81, Buffer.concat([Buffer.from([v.unusedBits]), buf(v.value, path)]), path);
    }
    throw encodeError(path, `unknown authentication-value kind ${(v as { kind: string }).kind}`);
  },
};

/** user-information: EXPLICIT OCTET STRING holding one xDLMS APDU (`BE 10 04 0E 01 ...`). */
const userInformation: FieldCodec<UserInformation> = {
  decode(c) {
    const v = readUserInformation(expectTlv(c, 0x04, 'octets'));
    c.expectEnd();
    return v;
  },
  encode: (v, path) => tlv(0x04, encodeUserInformation(v, path), path),
};

/** Associate-source-diagnostic CHOICE: acse-service-user [1] (A1) or acse-service-provider [2] (A2). */
const sourceDiagnostic: FieldCodec<ResultSourceDiagnostic> = {
  decode(c) {
    const t = readTlv(c, 'choice');
    c.expectEnd();
    if (t.tag !== 0xa1 && t.tag !== 0xa2) c.fail(`diagnostic choice 0x${t.tag.toString(16)}`, 'choice');
    const value = explicitInteger.decode(t.content);
    return { source: t.tag === 0xa1 ? 'acse-service-user' : 'acse-service-provider', value };
  },
  encode(v, path) {
    if (v.source !== 'acse-service-user' && v.source !== 'acse-service-provider') {
      throw encodeError(path, `unknown diagnostic source ${String(v.source)}`);
    }
    return tlv(v.source === 'acse-service-user' ? 0xa1 : 0xa2, explicitInteger.encode(v.value, path), path);
  },
};

const AARQ_FIELDS: readonly FieldRow[] = [
  row<Aarq, 'protocolVersion'>(0x80, 'protocolVersion', rawOctets),
  row<Aarq, 'applicationContextName'>(0xa1, 'applicationContextName', contextName),
  row<Aarq, 'calledApTitle'>(0xa2, 'calledApTitle', explicitOctetString),
  row<Aarq, 'calledAeQualifier'>(0xa3, 'calledAeQualifier', explicitOctetString),
  row<Aarq, 'calledApInvocationId'>(0xa4, 'calledApInvocationId', explicitInteger),
  row<Aarq, 'calledAeInvocationId'>(0xa5, 'calledAeInvocationId', explicitInteger),
  row<Aarq, 'callingApTitle'>(0xa6, 'callingApTitle', explicitOctetString),
  row<Aarq, 'callingAeQualifier'>(0xa7, 'callingAeQualifier', explicitOctetString),
  row<Aarq, 'callingApInvocationId'>(0xa8, 'callingApInvocationId', explicitInteger),
  row<Aarq, 'callingAeInvocationId'>(0xa9, 'callingAeInvocationId', explicitInteger),
  row<Aarq, 'senderAcseRequirements'>(0x8a, 'senderAcseRequirements', acseRequirements),
  row<Aarq, 'mechanismName'>(0x8b, 'mechanismName', mechanismName),
  row<Aarq, 'callingAuthenticationValue'>(0xac, 'callingAuthenticationValue', authenticationValue),
  row<Aarq, 'implementationInformation'>(0x9d, 'implementationInformation', rawOctets),
  row<Aarq, 'userInformation'>(0xbe, 'userInformation', userInformation),
];

const AARE_FIELDS: readonly FieldRow[] = [
  row<Aare, 'protocolVersion'>(0x80, 'protocolVersion', rawOctets),
  row<Aare, 'applicationContextName'>(0xa1, 'applicationContextName', contextName),
  row<Aare, 'result'>(0xa2, 'result', explicitInteger),
  row<Aare, 'resultSourceDiagnostic'>(0xa3, 'resultSourceDiagnostic', sourceDiagnostic),
  row<Aare, 'respondingApTitle'>(0xa4, 'respondingApTitle', explicitOctetString),
  row<Aare, 'respondingAeQualifier'>(0xa5, 'respondingAeQualifier', explicitOctetString),
  row<Aare, 'respondingApInvocationId'>(0xa6, 'respondingApInvocationId', explicitInteger),
  row<Aare, 'respondingAeInvocationId'>(0xa7, 'respondingAeInvocationId', explicitInteger),
  row<Aare, 'responderAcseRequirements'>(0x88, 'responderAcseRequirements', acseRequirements),
  row<Aare, 'mechanismName'>(0x89, 'mechanismName', mechanismName),
  row<Aare, 'respondingAuthenticationValue'>(0xaa, 'respondingAuthenticationValue', authenticationValue),
  row<Aare, 'implementationInformation'>(0x9d, 'implementationInformation', rawOctets),
  row<Aare, 'userInformation'>(0xbe, 'userInformation', userInformation),
];

const RELEASE_FIELDS: readonly FieldRow[] = [
  row<Rlrq, 'reason'>(0x80, 'reason', implicitInteger),
  row<Rlrq, 'userInformation'>(0xbe, 'userInformation', userInformation),
];

interface AcseSpec {
  readonly type: AcseApdu['type'];
  readonly tag: number;
  readonly fields: readonly FieldRow[];
  readonly required: readonly string[];
}

export const ACSE_SPECS: readonly AcseSpec[] = [
  { type: 'aarq', tag: TAG_AARQ, fields: AARQ_FIELDS, required: ['applicationContextName'] },
  {
    type: 'aare',
    tag: TAG_AARE,
    fields: AARE_FIELDS,
    required: ['applicationContextName', 'result', 'resultSourceDiagnostic'],
  },
  { type: 'rlrq', tag: TAG_RLRQ, fields: RELEASE_FIELDS, required: [] },
  { type: 'rlre', tag: TAG_RLRE, fields: RELEASE_FIELDS, required: [] },
];

const specByTag = new Map(ACSE_SPECS.map((s) => [s.tag, s]));
const specByType = new Map(ACSE_SPECS.map((s) => [s.type, s]));
const rowsByTag = new Map(ACSE_SPECS.map((s) => [s.tag, new Map(s.fields.map((f) => [f.tag, f]))]));

/** Decode an ACSE APDU whose tag has been read; `r` is positioned at its length. */
export function readAcse(r: ByteReader, tag: number): AcseApdu {
  const spec = specByTag.get(tag);
  if (!spec) return r.fail(`0x${tag.toString(16)} is not an ACSE APDU tag`, 'tag', { tag });
  const len = readBerLength(r, 'length');
  const c: ByteReader = r.sub(len, '');
  const rows = rowsByTag.get(tag)!;
  const out: Record<string, unknown> = { type: spec.type };
  while (!c.atEnd) {
    const fieldTag = c.peekU8('field');
    const f = rows.get(fieldTag);
    if (!f) return c.fail(`unexpected field tag 0x${fieldTag.toString(16)}`, 'field', { tag: fieldTag });
    if (out[f.key] !== undefined) c.fail(`duplicate field ${f.key}`, f.key);
    const t = readTlv(c, f.key);
    out[f.key] = f.codec.decode(t.content);
    t.content.expectEnd();
  }
  for (const key of spec.required) if (out[key] === undefined) c.fail(`missing mandatory field ${key}`, key);
  return out as unknown as AcseApdu;
}

export function writeAcse(w: ByteWriter, apdu: AcseApdu, path: string): void {
  const spec = specByType.get(apdu.type);
  if (!spec) throw encodeError(path, `not an ACSE APDU: ${String((apdu as { type?: unknown }).type)}`);
  const body = new ByteWriter(64);
  const values = apdu as unknown as Record<string, unknown>;
  for (const key of spec.required) {
    if (values[key] === undefined) throw encodeError(`${path}.${key}`, 'mandatory field missing');
  }
  for (const f of spec.fields) {
    const v = values[f.key];
    if (v === undefined) continue;
    writeTlv(body, f.tag, f.codec.encode(v, `${path}.${f.key}`), `${path}.${f.key}`);
  }
  writeTlv(w, spec.tag, body.toBuffer(), path);
}
