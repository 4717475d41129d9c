import { ByteReader, ByteWriter } from '../../../core/bytes';
import { ErrorCode, SimError } from '../../../core/errors';

/**
 * The security control byte (SC) and the security header SC || IC that open every ciphered
 * xDLMS APDU (docs/dlms.md §7: "SC bits: 0-3 suite, 0x10 authentication, 0x20 encryption,
 * 0x40 broadcast key, 0x80 compression").
 */

export const SC_SUITE_MASK = 0x0f;
export const SC_AUTHENTICATION = 0x10;
export const SC_ENCRYPTION = 0x20;
export const SC_BROADCAST_KEY = 0x40;
export const SC_COMPRESSION = 0x80;

/** Largest invocation counter: IC is 4 bytes on the wire (docs/dlms.md §7, IV = ST(8) || IC(4)). */
export const MAX_INVOCATION_COUNTER = 0xffffffff;

export interface SecurityControl {
  /** Security suite id (bits 0-3). This module implements suite 0 (AES-GCM-128) only. */
  readonly suiteId: number;
  readonly authentication: boolean;
  readonly encryption: boolean;
  /** The global broadcast key is used instead of the global unicast key. */
  readonly broadcastKey: boolean;
  readonly compression: boolean;
}

/** Either the SC byte as it travels or its decoded flags. */
export type SecurityControlInput = number | SecurityControl;

export function decodeSecurityControl(byte: number): SecurityControl {
  if (!Number.isInteger(byte) || byte < 0 || byte > 0xff) {
    throw new SimError(ErrorCode.DecodeInvalid, `SecurityControl: ${byte} is not a byte`, {
      path: 'SecurityControl',
      value: byte,
    });
  }
  return {
    suiteId: byte & SC_SUITE_MASK,
    authentication: (byte & SC_AUTHENTICATION) !== 0,
    encryption: (byte & SC_ENCRYPTION) !== 0,
    broadcastKey: (byte & SC_BROADCAST_KEY) !== 0,
    compression: (byte & SC_COMPRESSION) !== 0,
  };
}

export function encodeSecurityControl(sc: SecurityControl): number {
  if (!Number.isInteger(sc.suiteId) || sc.suiteId < 0 || sc.suiteId > SC_SUITE_MASK) {
    throw new SimError(ErrorCode.EncodeInvalid, `SecurityControl.suiteId: ${sc.suiteId} out of range 0..15`, {
      path: 'SecurityControl.suiteId',
      value: sc.suiteId,
    });
  }
  return (
    sc.suiteId |
    (sc.authentication ? SC_AUTHENTICATION : 0) |
    (sc.encryption ? SC_ENCRYPTION : 0) |
    (sc.broadcastKey ? SC_BROADCAST_KEY : 0) |
    (sc.compression ? SC_COMPRESSION : 0)
  );
}

/** The SC byte for either form of input (validated). */
export function securityControlByte(sc: SecurityControlInput): number {
  return typeof sc === 'number'
    ? encodeSecurityControl(decodeSecurityControl(sc))
    : encodeSecurityControl(sc);
}

/** SC || IC, the 5 bytes that start every ciphered content and every HLS-GMAC response. */
export interface SecurityHeader {
  readonly security: SecurityControl;
  /** Invocation counter, 0..2^32-1. */
  readonly ic: number;
}

export function decodeSecurityHeader(r: ByteReader): SecurityHeader {
  const security = decodeSecurityControl(r.u8('sc'));
  const ic = r.u32be('ic');
  return { security, ic };
}

export function encodeSecurityHeader(w: ByteWriter, h: SecurityHeader): ByteWriter {
  return w.u8(encodeSecurityControl(h.security)).u32be(h.ic);
}
