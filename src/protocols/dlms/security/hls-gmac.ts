import { randomBytes, timingSafeEqual } from 'node:crypto';
import { ErrorCode, SimError } from '../../../core/errors';
import { gmac, SUITE0_TAG_LENGTH } from './gcm';
import { checkIcFresh, type InvocationCounterGuard } from './invocation-counter';
import { SC_AUTHENTICATION } from './security-control';

/**
 * HLS authentication mechanism 5 (HLS-GMAC), docs/dlms.md §4.1 and §7 "HLS5 flow":
 * CtoS travels in the AARQ, StoC in the AARE (diagnostic 14); the client proves itself with
 * f(StoC) in ACTION Association LN method 1, the server answers f(CtoS).
 *   f(challenge) = SC(0x10) || IC(4) || GMAC(EK, IV = ST || IC, AAD = SC || AK || challenge)
 * where ST and IC are the responder's own: 17 bytes.
 */

export const HLS_CHALLENGE_MIN = 8;
export const HLS_CHALLENGE_MAX = 64;
/** Modelled default; the GB example challenges ("K56iVagY", "P6wRJ21F") are 8 bytes. */
export const HLS_CHALLENGE_DEFAULT = 16;
/** SC || IC || 12-byte GMAC. */
export const HLS_GMAC_RESPONSE_LENGTH = 1 + 4 + SUITE0_TAG_LENGTH;
/** The SC byte of f(): suite 0, authentication only. */
export const HLS_GMAC_SC = SC_AUTHENTICATION;

/** Random source, injectable so tests are deterministic. */
export type RandomBytes = (size: number) => Buffer;

export function generateChallenge(
  length: number = HLS_CHALLENGE_DEFAULT,
  rng: RandomBytes = randomBytes,
): Buffer {
  if (!Number.isInteger(length) || length < HLS_CHALLENGE_MIN || length > HLS_CHALLENGE_MAX) {
    throw new SimError(
      ErrorCode.EncodeInvalid,
      `HLS challenge length ${length} out of range ${HLS_CHALLENGE_MIN}..${HLS_CHALLENGE_MAX}`,
      { length },
    );
  }
  const out = rng(length);
  if (out.length !== length) {
    throw new SimError(
      ErrorCode.EncodeInvalid,
      `random source gave ${out.length} bytes, asked for ${length}`,
      {
        length: out.length,
      },
    );
  }
  return Buffer.from(out);
}

/** A peer's challenge (CtoS from the AARQ, StoC from the AARE) must be 8..64 bytes. */
export function checkChallenge(challenge: Uint8Array, what = 'challenge'): void {
  if (challenge.length < HLS_CHALLENGE_MIN || challenge.length > HLS_CHALLENGE_MAX) {
    throw new SimError(
      ErrorCode.SessionAuthFailed,
      `${what} is ${challenge.length} bytes, expected ${HLS_CHALLENGE_MIN}..${HLS_CHALLENGE_MAX}`,
      { reason: 'challenge-length', length: challenge.length },
    );
  }
}

export interface HlsGmacKeys {
  readonly ek: Uint8Array;
  readonly ak: Uint8Array;
}

/** f(challenge) computed by the responder with its own system title and IC (17 bytes). */
export function hlsGmacResponse(
  p: HlsGmacKeys & { readonly challenge: Uint8Array; readonly systemTitle: Uint8Array; readonly ic: number },
): Buffer {
  checkChallenge(p.challenge);
  const tag = gmac(
    { sc: HLS_GMAC_SC, ic: p.ic, systemTitle: p.systemTitle, ek: p.ek, ak: p.ak },
    p.challenge,
  );
  const out = Buffer.allocUnsafe(HLS_GMAC_RESPONSE_LENGTH);
  out[0] = HLS_GMAC_SC;
  out.writeUInt32BE(p.ic, 1);
  tag.copy(out, 5);
  return out;
}

export interface HlsGmacVerifyParams extends HlsGmacKeys {
  /** The 17 bytes the peer returned. */
  readonly response: Uint8Array;
  /** The challenge this side sent (StoC on the server, CtoS on the client). */
  readonly challenge: Uint8Array;
  /** The peer's system title. */
  readonly peerSystemTitle: Uint8Array;
  /**
   * The peer's IC freshness record. Which scope it reads is the caller's choice: sharing the
   * global-unicast scope of decipherApdu rejects a peer that reuses, inside f(), the IC of the
   * ciphered ACTION that carries it; a separate authentication scope accepts that (modelled).
   */
  readonly counter: InvocationCounterGuard;
}

/**
 * Verify f(challenge) from the peer. Throws SessionAuthFailed (wrong length, SC or GMAC) or
 * SessionReplay (IC not fresh); records the IC only on success. The GMAC is compared in
 * constant time.
 */
export function verifyHlsGmacResponse(p: HlsGmacVerifyParams): { ic: number } {
  const fail = (reason: string, message: string): never => {
    throw new SimError(ErrorCode.SessionAuthFailed, `HLS-GMAC: ${message}`, { reason });
  };
  if (p.response.length !== HLS_GMAC_RESPONSE_LENGTH) {
    fail('length', `response is ${p.response.length} bytes, expected ${HLS_GMAC_RESPONSE_LENGTH}`);
  }
  const response = Buffer.from(p.response.buffer, p.response.byteOffset, p.response.byteLength);
  if (response[0] !== HLS_GMAC_SC)
    fail('sc', `security control 0x${response[0]!.toString(16)}, expected 0x10`);
  const ic = response.readUInt32BE(1);
  checkIcFresh(ic, p.counter.getLastIc(), 'HLS-GMAC response');
  const expected = hlsGmacResponse({
    ek: p.ek,
    ak: p.ak,
    challenge: p.challenge,
    systemTitle: p.peerSystemTitle,
    ic,
  });
  if (!timingSafeEqual(expected, response)) fail('gmac', 'the response does not prove the shared keys');
  p.counter.setLastIc(ic);
  return { ic };
}
