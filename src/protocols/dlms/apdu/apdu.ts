import { ByteReader, ByteWriter } from '../../../core/bytes';
import { ErrorCode, SimError } from '../../../core/errors';
import { DecodeBudget, checkInputSize, encodeError, resolveLimits, type AxdrLimits } from '../axdr/limits';
import { TAG_AARE, TAG_AARQ, TAG_RLRE, TAG_RLRQ, readAcse, writeAcse, type AcseApdu } from './acse';
import {
  TAG_ACTION_REQUEST,
  TAG_ACTION_RESPONSE,
  readActionRequest,
  readActionResponse,
  writeActionRequest,
  writeActionResponse,
  type ActionRequest,
  type ActionResponse,
} from './xdlms-action';
import {
  CIPHERED_TAGS,
  opaqueCipheredBytes,
  readOpaqueCiphered,
  type OpaqueCipheredApdu,
} from './xdlms-ciphered';
import {
  TAG_EXCEPTION_RESPONSE,
  readExceptionResponse,
  writeExceptionResponse,
  type ExceptionResponse,
} from './xdlms-exception';
import {
  TAG_GET_REQUEST,
  TAG_GET_RESPONSE,
  readGetRequest,
  readGetResponse,
  writeGetRequest,
  writeGetResponse,
  type GetRequest,
  type GetResponse,
} from './xdlms-get';
import {
  TAG_CONFIRMED_SERVICE_ERROR,
  TAG_INITIATE_REQUEST,
  TAG_INITIATE_RESPONSE,
  readConfirmedServiceError,
  readInitiateRequest,
  readInitiateResponse,
  writeConfirmedServiceError,
  writeInitiateRequest,
  writeInitiateResponse,
  type ConfirmedServiceError,
  type InitiateRequest,
  type InitiateResponse,
} from './xdlms-initiate';
import {
  TAG_SET_REQUEST,
  TAG_SET_RESPONSE,
  readSetRequest,
  readSetResponse,
  writeSetRequest,
  writeSetResponse,
  type SetRequest,
  type SetResponse,
} from './xdlms-set';

/**
 * Every APDU this layer speaks, as one discriminated union on `type`. What the link layers
 * (HDLC, wrapper) carry as bytes decodes to exactly one of these, or to a coded SimError.
 */
export type Apdu =
  | AcseApdu
  | InitiateRequest
  | InitiateResponse
  | ConfirmedServiceError
  | GetRequest
  | GetResponse
  | SetRequest
  | SetResponse
  | ActionRequest
  | ActionResponse
  | ExceptionResponse
  | OpaqueCipheredApdu;

export type ApduType = Apdu['type'];

export interface ApduDecoderEntry {
  readonly tag: number;
  /** Root of error paths, e.g. `GetResponse.result.data.items[3]`. */
  readonly name: string;
  decode(r: ByteReader, budget: DecodeBudget, tag: number): Apdu;
}

function entry(tag: number, name: string, decode: ApduDecoderEntry['decode']): [number, ApduDecoderEntry] {
  return [tag, { tag, name, decode }];
}

/** Tag registry (first octet -> decoder); tags from docs/dlms.md §4.1, §4.2, §7. */
export const APDU_DECODERS: ReadonlyMap<number, ApduDecoderEntry> = new Map([
  entry(TAG_AARQ, 'AARQ', (r, _b, t) => readAcse(r, t)),
  entry(TAG_AARE, 'AARE', (r, _b, t) => readAcse(r, t)),
  entry(TAG_RLRQ, 'RLRQ', (r, _b, t) => readAcse(r, t)),
  entry(TAG_RLRE, 'RLRE', (r, _b, t) => readAcse(r, t)),
  entry(TAG_INITIATE_REQUEST, 'InitiateRequest', (r) => readInitiateRequest(r)),
  entry(TAG_INITIATE_RESPONSE, 'InitiateResponse', (r) => readInitiateResponse(r)),
  entry(TAG_CONFIRMED_SERVICE_ERROR, 'ConfirmedServiceError', (r) => readConfirmedServiceError(r)),
  entry(TAG_GET_REQUEST, 'GetRequest', readGetRequest),
  entry(TAG_GET_RESPONSE, 'GetResponse', readGetResponse),
  entry(TAG_SET_REQUEST, 'SetRequest', readSetRequest),
  entry(TAG_SET_RESPONSE, 'SetResponse', readSetResponse),
  entry(TAG_ACTION_REQUEST, 'ActionRequest', readActionRequest),
  entry(TAG_ACTION_RESPONSE, 'ActionResponse', readActionResponse),
  entry(TAG_EXCEPTION_RESPONSE, 'ExceptionResponse', (r) => readExceptionResponse(r)),
  ...[...CIPHERED_TAGS].map((t) => entry(t, 'Ciphered', (r, _b, tag) => readOpaqueCiphered(r, tag))),
]);

/**
 * Decode one whole APDU. Never throws anything but a SimError: DecodeTruncated / DecodeInvalid /
 * DecodeTrailingBytes for malformed input, DecodeTooLarge / DecodeTooDeep past the limits.
 */
export function decodeApdu(input: Uint8Array, limits?: Partial<AxdrLimits>): Apdu {
  const l = resolveLimits(limits);
  checkInputSize(input, l, 'apdu');
  if (input.length === 0) {
    throw new SimError(ErrorCode.DecodeTruncated, 'apdu: empty input', { path: 'apdu', offset: 0 });
  }
  const tag = input[0]!;
  const e = APDU_DECODERS.get(tag);
  if (!e) {
    throw new SimError(
      ErrorCode.DecodeInvalid,
      `apdu: unknown APDU tag 0x${tag.toString(16).padStart(2, '0')}`,
      {
        path: 'apdu',
        offset: 0,
        tag,
      },
    );
  }
  const r = new ByteReader(input, e.name, 1);
  const apdu = e.decode(r, new DecodeBudget(l), tag);
  r.expectEnd();
  return apdu;
}

export function writeApdu(w: ByteWriter, a: Apdu): void {
  switch (a.type) {
    case 'aarq':
    case 'aare':
    case 'rlrq':
    case 'rlre':
      writeAcse(w, a, a.type.toUpperCase());
      return;
    case 'initiate-request':
      writeInitiateRequest(w, a, 'InitiateRequest');
      return;
    case 'initiate-response':
      writeInitiateResponse(w, a, 'InitiateResponse');
      return;
    case 'confirmed-service-error':
      writeConfirmedServiceError(w, a, 'ConfirmedServiceError');
      return;
    case 'get-request-normal':
    case 'get-request-next':
    case 'get-request-with-list':
      writeGetRequest(w, a, 'GetRequest');
      return;
    case 'get-response-normal':
    case 'get-response-with-datablock':
    case 'get-response-with-list':
      writeGetResponse(w, a, 'GetResponse');
      return;
    case 'set-request-normal':
    case 'set-request-with-first-datablock':
    case 'set-request-with-datablock':
    case 'set-request-with-list':
    case 'set-request-with-list-and-first-datablock':
      writeSetRequest(w, a, 'SetRequest');
      return;
    case 'set-response-normal':
    case 'set-response-datablock':
    case 'set-response-last-datablock':
    case 'set-response-last-datablock-with-list':
    case 'set-response-with-list':
      writeSetResponse(w, a, 'SetResponse');
      return;
    case 'action-request-normal':
    case 'action-request-next-pblock':
    case 'action-request-with-list':
    case 'action-request-with-first-pblock':
    case 'action-request-with-list-and-first-pblock':
    case 'action-request-with-pblock':
      writeActionRequest(w, a, 'ActionRequest');
      return;
    case 'action-response-normal':
    case 'action-response-with-pblock':
    case 'action-response-with-list':
    case 'action-response-next-pblock':
      writeActionResponse(w, a, 'ActionResponse');
      return;
    case 'exception-response':
      writeExceptionResponse(w, a, 'ExceptionResponse');
      return;
    case 'ciphered':
      w.bytes(opaqueCipheredBytes(a, 'Ciphered'));
      return;
    default: {
      const never: never = a;
      throw encodeError('apdu', `unknown APDU type ${String((never as { type?: unknown }).type)}`);
    }
  }
}

/** Encode one APDU; throws SimError(EncodeInvalid) naming the field that is out of range. */
export function encodeApdu(a: Apdu): Buffer {
  const w = new ByteWriter(64);
  writeApdu(w, a);
  return w.toBuffer();
}
