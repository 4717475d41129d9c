import { ByteReader, ByteWriter } from '../../../core/bytes';
import { readLength, writeLength } from '../axdr/length';
import { encodeError } from '../axdr/limits';
import { checkI8, checkU16, checkU8 } from './checks';
import { readConformance, writeConformance, type Conformance } from './conformance';
import {
  CIPHERED_TAGS,
  opaqueCipheredBytes,
  readOpaqueCiphered,
  type OpaqueCipheredApdu,
} from './xdlms-ciphered';

/**
 * xDLMS initiate APDUs, A-XDR encoded, carried in the ACSE user-information field
 * (docs/dlms.md §4.1). OPTIONAL fields are a presence octet (00 absent / 01 present) before the
 * value; `response-allowed BOOLEAN DEFAULT TRUE` is 00 for the default.
 *
 *   InitiateRequest  01 | dedicated-key? | response-allowed | QoS? | version | conformance | client-max-pdu(2)
 *   InitiateResponse 08 | QoS? | version | conformance | server-max-pdu(2) | vaa-name(2)
 *   ConfirmedServiceError 0E | service | error kind | error value   (e.g. 0E 01 06 01: initiate / dlms-version-too-low)
 */
export interface InitiateRequest {
  readonly type: 'initiate-request';
  readonly dedicatedKey?: Buffer | undefined;
  readonly responseAllowed: boolean;
  readonly proposedQualityOfService?: number | undefined;
  readonly proposedDlmsVersionNumber: number;
  readonly proposedConformance: Conformance;
  readonly clientMaxReceivePduSize: number;
}

export interface InitiateResponse {
  readonly type: 'initiate-response';
  readonly negotiatedQualityOfService?: number | undefined;
  readonly negotiatedDlmsVersionNumber: number;
  readonly negotiatedConformance: Conformance;
  readonly serverMaxReceivePduSize: number;
  /** 0x0007 for LN referencing (docs/dlms.md §4.1); Gurux SN traces show 0xFA00. */
  readonly vaaName: number;
}

export interface ConfirmedServiceError {
  readonly type: 'confirmed-service-error';
  /** ConfirmedServiceError CHOICE index; 1 = initiateError. */
  readonly service: number;
  /** ServiceError CHOICE index; 6 = initiate. */
  readonly errorKind: number;
  /** The ENUMERATED value inside, e.g. InitiateError.dlms-version-too-low = 1. */
  readonly error: number;
}

/** What an ACSE user-information field may carry. */
export type UserInformation = InitiateRequest | InitiateResponse | ConfirmedServiceError | OpaqueCipheredApdu;

export const TAG_INITIATE_REQUEST = 0x01;
export const TAG_INITIATE_RESPONSE = 0x08;
export const TAG_CONFIRMED_SERVICE_ERROR = 0x0e;

function presence(r: ByteReader, field: string): boolean {
  const p = r.u8(field);
  if (p > 1) r.fail(`presence flag 0x${p.toString(16)}, expected 00 or 01`, field);
  return p === 1;
}

export function readInitiateRequest(r: ByteReader): InitiateRequest {
  const dedicatedKey = presence(r, 'dedicatedKey')
    ? r.bytes(readLength(r, 'dedicatedKey'), 'dedicatedKey')
    : undefined;
  const responseAllowed = presence(r, 'responseAllowed') ? r.u8('responseAllowed') !== 0 : true;
  const proposedQualityOfService = presence(r, 'proposedQualityOfService')
    ? r.i8('proposedQualityOfService')
    : undefined;
  return {
    type: 'initiate-request',
    dedicatedKey,
    responseAllowed,
    proposedQualityOfService,
    proposedDlmsVersionNumber: r.u8('proposedDlmsVersionNumber'),
    proposedConformance: readConformance(r, 'proposedConformance'),
    clientMaxReceivePduSize: r.u16be('clientMaxReceivePduSize'),
  };
}

export function writeInitiateRequest(w: ByteWriter, v: InitiateRequest, path: string): void {
  w.u8(TAG_INITIATE_REQUEST);
  if (v.dedicatedKey === undefined) w.u8(0);
  else {
    w.u8(1);
    writeLength(w, v.dedicatedKey.length, `${path}.dedicatedKey`);
    w.bytes(v.dedicatedKey);
  }
  // DEFAULT TRUE: the default is sent as "absent".
  if (v.responseAllowed) w.u8(0);
  else w.u8(1).u8(0);
  writeOptionalI8(w, v.proposedQualityOfService, `${path}.proposedQualityOfService`);
  checkU8(v.proposedDlmsVersionNumber, `${path}.proposedDlmsVersionNumber`);
  w.u8(v.proposedDlmsVersionNumber);
  writeConformance(w, v.proposedConformance);
  checkU16(v.clientMaxReceivePduSize, `${path}.clientMaxReceivePduSize`);
  w.u16be(v.clientMaxReceivePduSize);
}

export function readInitiateResponse(r: ByteReader): InitiateResponse {
  const negotiatedQualityOfService = presence(r, 'negotiatedQualityOfService')
    ? r.i8('negotiatedQualityOfService')
    : undefined;
  return {
    type: 'initiate-response',
    negotiatedQualityOfService,
    negotiatedDlmsVersionNumber: r.u8('negotiatedDlmsVersionNumber'),
    negotiatedConformance: readConformance(r, 'negotiatedConformance'),
    serverMaxReceivePduSize: r.u16be('serverMaxReceivePduSize'),
    vaaName: r.u16be('vaaName'),
  };
}

export function writeInitiateResponse(w: ByteWriter, v: InitiateResponse, path: string): void {
  w.u8(TAG_INITIATE_RESPONSE);
  writeOptionalI8(w, v.negotiatedQualityOfService, `${path}.negotiatedQualityOfService`);
  checkU8(v.negotiatedDlmsVersionNumber, `${path}.negotiatedDlmsVersionNumber`);
  w.u8(v.negotiatedDlmsVersionNumber);
  writeConformance(w, v.negotiatedConformance);
  checkU16(v.serverMaxReceivePduSize, `${path}.serverMaxReceivePduSize`);
  w.u16be(v.serverMaxReceivePduSize);
  checkU16(v.vaaName, `${path}.vaaName`);
  w.u16be(v.vaaName);
}

export function readConfirmedServiceError(r: ByteReader): ConfirmedServiceError {
  return {
    type: 'confirmed-service-error',
    service: r.u8('service'),
    errorKind: r.u8('errorKind'),
    error: r.u8('error'),
  };
}

export function writeConfirmedServiceError(w: ByteWriter, v: ConfirmedServiceError, path: string): void {
  checkU8(v.service, `${path}.service`);
  checkU8(v.errorKind, `${path}.errorKind`);
  checkU8(v.error, `${path}.error`);
  w.u8(TAG_CONFIRMED_SERVICE_ERROR).u8(v.service).u8(v.errorKind).u8(v.error);
}

/** Decode the xDLMS APDU inside a user-information OCTET STRING (the whole reader window). */
export function readUserInformation(c: ByteReader): UserInformation {
  const tag = c.u8('tag');
  let v: UserInformation;
  if (tag === TAG_INITIATE_REQUEST) v = readInitiateRequest(c);
  else if (tag === TAG_INITIATE_RESPONSE) v = readInitiateResponse(c);
  else if (tag === TAG_CONFIRMED_SERVICE_ERROR) v = readConfirmedServiceError(c);
  else if (CIPHERED_TAGS.has(tag)) v = readOpaqueCiphered(c, tag);
  else return c.fail(`0x${tag.toString(16)} is not an xDLMS initiate APDU`, 'tag', { tag });
  c.expectEnd();
  return v;
}

export function encodeUserInformation(v: UserInformation, path: string): Buffer {
  const w = new ByteWriter(32);
  switch (v.type) {
    case 'initiate-request':
      writeInitiateRequest(w, v, path);
      break;
    case 'initiate-response':
      writeInitiateResponse(w, v, path);
      break;
    case 'confirmed-service-error':
      writeConfirmedServiceError(w, v, path);
      break;
    case 'ciphered':
      w.bytes(opaqueCipheredBytes(v, path));
      break;
    default:
      throw encodeError(path, `unsupported user-information ${(v as { type: string }).type}`);
  }
  return w.toBuffer();
}

function writeOptionalI8(w: ByteWriter, v: number | undefined, path: string): void {
  if (v === undefined) {
    w.u8(0);
    return;
  }
  checkI8(v, path);
  w.u8(1).i8(v);
}

/** Decode a standalone initiate APDU (e.g. the plaintext of a glo-initiate-request). */
export function decodeInitiateApdu(input: Uint8Array, path = 'Initiate'): UserInformation {
  return readUserInformation(new ByteReader(input, path));
}
