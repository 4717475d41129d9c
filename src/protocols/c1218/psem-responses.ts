import { ByteReader, ByteWriter } from '../../core/bytes';
import { ErrorCode, SimError } from '../../core/errors';
import { readTableData, writeTableData, type PsemRequest } from './psem-requests';

/**
 * PSEM responses (docs/c1218.md §2). The first byte is the response code; an OK response's body
 * depends on the request it answers, so decoding takes the expected shape as its narrow context.
 */

/** Ident feature list entries [M `MProtocolC1221::Identify`, §2]. */
export type IdentFeature =
  /** 0x01 <auth_type><auth_alg_id>; auth_type bit 0 = authentication supported. */
  | { feature: 'auth'; authType: number; algorithmId: number }
  /** 0x02 <auth_type><auth_alg_id><ticket_len><ticket>. */
  | { feature: 'authTicket'; authType: number; algorithmId: number; ticket: Buffer }
  /** 0x06 <universal-id>: one UID element byte, a length and the encoded id. */
  | { feature: 'deviceClass'; element: number; value: Buffer }
  /** 0x07 <identity-length><identity>. */
  | { feature: 'deviceIdentity'; identity: Buffer };

export interface IdentInfo {
  /** Reference standard: 0 = C12.18, 2 = C12.21, 3 = C12.22. */
  std: number;
  version: number;
  revision: number;
  features: IdentFeature[];
}

export type PsemResponse =
  /** Any non-zero response code; some devices append bytes after the code (M). */
  | { kind: 'error'; code: number; extra: Buffer }
  | { kind: 'ident'; ident: IdentInfo }
  | { kind: 'read'; data: Buffer }
  /** baudCode is absent when the device did not negotiate a rate (0x60, or M's tolerance). */
  | { kind: 'negotiate'; packetSize: number; maxPackets: number; baudCode?: number }
  /** A bare `00`: Terminate, Write, Logon, Security, Logoff, Wait. */
  | { kind: 'ok' };

export type ResponseShape = 'ident' | 'read' | 'negotiate' | 'ok';

/** Which OK body answers a request. */
export function responseShapeFor(req: PsemRequest): ResponseShape {
  switch (req.service) {
    case 'ident':
      return 'ident';
    case 'read':
      return 'read';
    case 'negotiate':
      return 'negotiate';
    default:
      return 'ok';
  }
}

const FEATURE_END = 0x00;
const FEATURE_AUTH = 0x01;
const FEATURE_AUTH_TICKET = 0x02;
const FEATURE_DEVICE_CLASS = 0x06;
const FEATURE_DEVICE_IDENTITY = 0x07;

export function encodeResponse(resp: PsemResponse): Buffer {
  switch (resp.kind) {
    case 'error':
      if (resp.code < 1 || resp.code > 0xff) {
        throw new SimError(ErrorCode.EncodeInvalid, `PsemErrorResponse: code ${resp.code} is not 1..255`, {
          code: resp.code,
        });
      }
      return new ByteWriter(1 + resp.extra.length).u8(resp.code).bytes(resp.extra).toBuffer();
    case 'ok':
      return Buffer.of(0);
    case 'read': {
      if (resp.data.length > 0xffff) {
        throw new SimError(
          ErrorCode.EncodeTooLarge,
          `PsemReadResponse: ${resp.data.length} bytes exceed a 16-bit count`,
        );
      }
      return writeTableData(new ByteWriter(resp.data.length + 4).u8(0), resp.data).toBuffer();
    }
    case 'negotiate': {
      const w = new ByteWriter(5).u8(0).u16be(resp.packetSize).u8(resp.maxPackets);
      if (resp.baudCode !== undefined) w.u8(resp.baudCode);
      return w.toBuffer();
    }
    case 'ident': {
      const { std, version, revision, features } = resp.ident;
      const w = new ByteWriter(16).u8(0).u8(std).u8(version).u8(revision);
      for (const f of features) encodeFeature(w, f);
      return w.u8(FEATURE_END).toBuffer();
    }
  }
}

function encodeFeature(w: ByteWriter, f: IdentFeature): void {
  switch (f.feature) {
    case 'auth':
      w.u8(FEATURE_AUTH).u8(f.authType).u8(f.algorithmId);
      return;
    case 'authTicket':
      w.u8(FEATURE_AUTH_TICKET).u8(f.authType).u8(f.algorithmId).u8(f.ticket.length).bytes(f.ticket);
      return;
    case 'deviceClass':
      w.u8(FEATURE_DEVICE_CLASS).u8(f.element).u8(f.value.length).bytes(f.value);
      return;
    case 'deviceIdentity':
      w.u8(FEATURE_DEVICE_IDENTITY).u8(f.identity.length).bytes(f.identity);
      return;
  }
}

/**
 * Decode a response message given the shape its request expects. Non-zero codes always decode
 * to `error` (whatever the shape). Throws only SimError with a field path.
 */
export function decodeResponse(bytes: Uint8Array, shape: ResponseShape): PsemResponse {
  const head = new ByteReader(bytes, 'PsemResponse');
  const code = head.u8('code');
  if (code !== 0) return { kind: 'error', code, extra: head.rest() };
  switch (shape) {
    case 'ok': {
      const r = new ByteReader(bytes, 'PsemOkResponse', 1);
      r.expectEnd();
      return { kind: 'ok' };
    }
    case 'read': {
      const data = readTableData(new ByteReader(bytes, 'PsemReadResponse', 1));
      return { kind: 'read', data };
    }
    case 'negotiate': {
      const r = new ByteReader(bytes, 'PsemNegotiateResponse', 1);
      const packetSize = r.u16be('packetSize');
      const maxPackets = r.u8('maxPackets');
      if (r.atEnd) return { kind: 'negotiate', packetSize, maxPackets };
      const baudCode = r.u8('baudCode');
      r.expectEnd();
      return { kind: 'negotiate', packetSize, maxPackets, baudCode };
    }
    case 'ident':
      return { kind: 'ident', ident: decodeIdent(new ByteReader(bytes, 'PsemIdentResponse', 1)) };
  }
}

function decodeIdent(r: ByteReader): IdentInfo {
  const std = r.u8('std');
  const version = r.u8('version');
  const revision = r.u8('revision');
  const features: IdentFeature[] = [];
  // Tolerance: M reads only std/ver/rev on C12.18, so a device that omits the end-of-list byte
  // still identifies (T would fail it, needing 5 bytes, §2).
  while (!r.atEnd) {
    const at = `features[${features.length}]`;
    const tag = r.u8(at);
    if (tag === FEATURE_END) break;
    if (tag === FEATURE_AUTH) {
      features.push({
        feature: 'auth',
        authType: r.u8(`${at}.authType`),
        algorithmId: r.u8(`${at}.algorithmId`),
      });
    } else if (tag === FEATURE_AUTH_TICKET) {
      const authType = r.u8(`${at}.authType`);
      const algorithmId = r.u8(`${at}.algorithmId`);
      const ticket = r.bytes(r.u8(`${at}.ticketLength`), `${at}.ticket`);
      features.push({ feature: 'authTicket', authType, algorithmId, ticket });
    } else if (tag === FEATURE_DEVICE_CLASS) {
      const element = r.u8(`${at}.element`);
      const value = r.bytes(r.u8(`${at}.length`), `${at}.value`);
      features.push({ feature: 'deviceClass', element, value });
    } else if (tag === FEATURE_DEVICE_IDENTITY) {
      features.push({ feature: 'deviceIdentity', identity: r.bytes(r.u8(`${at}.length`), `${at}.identity`) });
    } else {
      r.fail(`unrecognised feature code 0x${tag.toString(16).padStart(2, '0')}`, at, { feature: tag });
    }
  }
  r.expectEnd();
  return { std, version, revision, features };
}
