import { ByteReader, ByteWriter } from '../../core/bytes';
import { ErrorCode, SimError } from '../../core/errors';
import { NEGOTIATE_MAX_BAUD_CODES, Service } from './constants';

/**
 * PSEM service requests (docs/c1218.md §2), hand-written symmetric codecs. Multi-byte fields
 * are big-endian; table ids 16-bit, offsets 24-bit, counts 16-bit.
 */
export type PsemRequest =
  | { service: 'ident' }
  | { service: 'terminate' }
  /** 0x30 full read when `range` is undefined, else 0x3F partial read by offset. */
  | { service: 'read'; tableId: number; range?: { offset: number; count: number } }
  /** 0x40 full write when `offset` is undefined, else 0x4F partial write by offset. */
  | { service: 'write'; tableId: number; offset?: number; data: Buffer }
  /** 0x50: user id and the 10-byte user name exactly as sent (padding included). */
  | { service: 'logon'; userId: number; user: Buffer }
  /** 0x51: the 20-byte password as sent; C12.22 may append a 2-byte user id (W). */
  | { service: 'security'; password: Buffer; userId?: number }
  | { service: 'logoff' }
  /** 0x60 + n: packet size, max packets and n (0..11) baud-rate codes. */
  | { service: 'negotiate'; packetSize: number; maxPackets: number; baudCodes: number[] }
  /** 0x70: hold the session for `seconds`. */
  | { service: 'wait'; seconds: number }
  /**
   * Any other request code (index partial reads 0x31-0x39, C12.21/22 services such as 0x53
   * Authenticate or 0x71 Timing setup, unknown bytes). The server answers sns.
   */
  | { service: 'unsupported'; code: number; body: Buffer };

export type PsemService = PsemRequest['service'];

export const USER_NAME_LENGTH = 10;
export const PASSWORD_LENGTH = 20;

const KNOWN_CODES = new Set<number>([
  Service.ident,
  Service.terminate,
  Service.fullRead,
  Service.partialReadOffset,
  Service.fullWrite,
  Service.partialWriteOffset,
  Service.logon,
  Service.security,
  Service.logoff,
  Service.wait,
]);

export function isKnownRequestCode(code: number): boolean {
  return (
    KNOWN_CODES.has(code) ||
    (code >= Service.negotiate && code <= Service.negotiate + NEGOTIATE_MAX_BAUD_CODES)
  );
}

/**
 * Table data checksum K: the 8-bit two's complement of the byte sum of the data (§2, T, M, W;
 * [O] `41 42 43 44 45` -> `B1`).
 */
export function tableChecksum(data: Uint8Array, start = 0, end = data.length): number {
  let sum = 0;
  for (let i = start; i < end; i++) sum += data[i]!;
  return -sum & 0xff;
}

/** `<count> <data> <cksum>`, the table data a write request and a read response carry. */
export function writeTableData(w: ByteWriter, data: Uint8Array): ByteWriter {
  return w.u16be(data.length).bytes(data).u8(tableChecksum(data));
}

/**
 * Read `<count> <data> <cksum>` up to the end of the message; a checksum that does not match the
 * data is a coded error on the `checksum` field.
 */
export function readTableData(r: ByteReader): Buffer {
  const count = r.u16be('count');
  const data = r.bytes(count, 'data');
  const k = r.u8('checksum');
  r.expectEnd();
  const expected = tableChecksum(data);
  if (k !== expected) {
    r.fail(`0x${k.toString(16)} received, 0x${expected.toString(16)} computed`, 'checksum', {
      received: k,
      computed: expected,
    });
  }
  return data;
}

export function encodeRequest(req: PsemRequest): Buffer {
  switch (req.service) {
    case 'ident':
      return Buffer.of(Service.ident);
    case 'terminate':
      return Buffer.of(Service.terminate);
    case 'logoff':
      return Buffer.of(Service.logoff);
    case 'read': {
      if (!req.range) return new ByteWriter(3).u8(Service.fullRead).u16be(req.tableId).toBuffer();
      return new ByteWriter(8)
        .u8(Service.partialReadOffset)
        .u16be(req.tableId)
        .u24be(req.range.offset)
        .u16be(req.range.count)
        .toBuffer();
    }
    case 'write': {
      const w = new ByteWriter(req.data.length + 9);
      if (req.offset === undefined) w.u8(Service.fullWrite).u16be(req.tableId);
      else w.u8(Service.partialWriteOffset).u16be(req.tableId).u24be(req.offset);
      return writeTableData(w, req.data).toBuffer();
    }
    case 'logon':
      fixedLength(req.user, USER_NAME_LENGTH, 'PsemLogonRequest.user');
      return new ByteWriter(13).u8(Service.logon).u16be(req.userId).bytes(req.user).toBuffer();
    case 'security': {
      fixedLength(req.password, PASSWORD_LENGTH, 'PsemSecurityRequest.password');
      const w = new ByteWriter(23).u8(Service.security).bytes(req.password);
      if (req.userId !== undefined) w.u16be(req.userId);
      return w.toBuffer();
    }
    case 'negotiate': {
      if (req.baudCodes.length > NEGOTIATE_MAX_BAUD_CODES) {
        throw new SimError(ErrorCode.EncodeInvalid, `PsemNegotiateRequest: at most 11 baud codes`, {
          count: req.baudCodes.length,
        });
      }
      const w = new ByteWriter(4 + req.baudCodes.length)
        .u8(Service.negotiate + req.baudCodes.length)
        .u16be(req.packetSize)
        .u8(req.maxPackets);
      for (const c of req.baudCodes) w.u8(c);
      return w.toBuffer();
    }
    case 'wait':
      return new ByteWriter(2).u8(Service.wait).u8(req.seconds).toBuffer();
    case 'unsupported':
      if (isKnownRequestCode(req.code) || req.code < 0 || req.code > 0xff) {
        throw new SimError(
          ErrorCode.EncodeInvalid,
          `PsemRequest: 0x${req.code.toString(16)} is not an unsupported code`,
          {
            code: req.code,
          },
        );
      }
      return new ByteWriter(1 + req.body.length).u8(req.code).bytes(req.body).toBuffer();
  }
}

/**
 * Decode one PSEM request message. Unknown codes decode to `unsupported` (never an error);
 * a known code with a bad body throws a SimError with the field path, e.g.
 * `PsemWriteRequest.checksum`. The input is never mutated or aliased.
 */
export function decodeRequest(bytes: Uint8Array): PsemRequest {
  const top = new ByteReader(bytes, 'PsemRequest');
  const code = top.u8('code');
  switch (code) {
    case Service.ident:
      return empty(bytes, 'PsemIdentRequest', { service: 'ident' });
    case Service.terminate:
      return empty(bytes, 'PsemTerminateRequest', { service: 'terminate' });
    case Service.logoff:
      return empty(bytes, 'PsemLogoffRequest', { service: 'logoff' });
    case Service.fullRead: {
      const r = new ByteReader(bytes, 'PsemReadRequest', 1);
      const tableId = r.u16be('tableId');
      r.expectEnd();
      return { service: 'read', tableId };
    }
    case Service.partialReadOffset: {
      const r = new ByteReader(bytes, 'PsemPartialReadRequest', 1);
      const tableId = r.u16be('tableId');
      const offset = r.u24be('offset');
      const count = r.u16be('count');
      r.expectEnd();
      return { service: 'read', tableId, range: { offset, count } };
    }
    case Service.fullWrite:
    case Service.partialWriteOffset: {
      const partial = code === Service.partialWriteOffset;
      const r = new ByteReader(bytes, partial ? 'PsemPartialWriteRequest' : 'PsemWriteRequest', 1);
      const tableId = r.u16be('tableId');
      const offset = partial ? r.u24be('offset') : undefined;
      const data = readTableData(r);
      return offset === undefined
        ? { service: 'write', tableId, data }
        : { service: 'write', tableId, offset, data };
    }
    case Service.logon: {
      const r = new ByteReader(bytes, 'PsemLogonRequest', 1);
      const userId = r.u16be('userId');
      const user = r.bytes(USER_NAME_LENGTH, 'user');
      r.expectEnd();
      return { service: 'logon', userId, user };
    }
    case Service.security: {
      const r = new ByteReader(bytes, 'PsemSecurityRequest', 1);
      const password = r.bytes(PASSWORD_LENGTH, 'password');
      if (r.atEnd) return { service: 'security', password };
      const userId = r.u16be('userId');
      r.expectEnd();
      return { service: 'security', password, userId };
    }
    case Service.wait: {
      const r = new ByteReader(bytes, 'PsemWaitRequest', 1);
      const seconds = r.u8('seconds');
      r.expectEnd();
      return { service: 'wait', seconds };
    }
    default:
      break;
  }
  if (code >= Service.negotiate && code <= Service.negotiate + NEGOTIATE_MAX_BAUD_CODES) {
    const r = new ByteReader(bytes, 'PsemNegotiateRequest', 1);
    const packetSize = r.u16be('packetSize');
    const maxPackets = r.u8('maxPackets');
    const n = code - Service.negotiate;
    const baudCodes: number[] = [];
    for (let i = 0; i < n; i++) baudCodes.push(r.u8(`baudCodes[${i}]`));
    r.expectEnd();
    return { service: 'negotiate', packetSize, maxPackets, baudCodes };
  }
  return { service: 'unsupported', code, body: top.rest() };
}

/** Pad (or check) a user name / password field to its fixed width. */
export function padField(value: string | Uint8Array, length: number, pad: number, what = 'field'): Buffer {
  const raw = typeof value === 'string' ? Buffer.from(value, 'latin1') : Buffer.from(value);
  if (raw.length > length) {
    throw new SimError(ErrorCode.EncodeInvalid, `${what}: ${raw.length} bytes, at most ${length}`, {
      length: raw.length,
      max: length,
    });
  }
  const out = Buffer.alloc(length, pad);
  raw.copy(out);
  return out;
}

/** The user name with trailing 0x20 / 0x00 padding removed (T pads with 0x20, M too, §2). */
export function userNameText(user: Uint8Array): string {
  let end = user.length;
  while (end > 0 && (user[end - 1] === 0x20 || user[end - 1] === 0x00)) end--;
  return Buffer.from(user.subarray(0, end)).toString('latin1');
}

function empty<T extends PsemRequest>(bytes: Uint8Array, path: string, value: T): T {
  const r = new ByteReader(bytes, path, 1);
  r.expectEnd();
  return value;
}

function fixedLength(b: Uint8Array, n: number, path: string): void {
  if (b.length !== n) {
    throw new SimError(ErrorCode.EncodeInvalid, `${path}: must be ${n} bytes, got ${b.length}`, {
      path,
      length: b.length,
    });
  }
}
