import { ErrorCode, SimError } from '../../../core/errors';
import { decodeCipheredApdu, encodeCipheredApdu, type CipheredApdu } from './ciphered-apdu';
import {
  carriesSystemTitle,
  cipheredTagFor,
  cipheredTagInfo,
  usesDedicatedKey,
  type CipheredForm,
} from './ciphered-tags';
import { openPayload, protectPayload, SYSTEM_TITLE_LENGTH } from './gcm';
import {
  checkIcFresh,
  type CounterScope,
  type InvocationCounterStore,
  type KeyUsage,
} from './invocation-counter';
import {
  decodeSecurityControl,
  securityControlByte,
  type SecurityControl,
  type SecurityControlInput,
} from './security-control';

/**
 * cipherApdu / decipherApdu: suite 0 protection of whole xDLMS APDUs (docs/dlms.md §7).
 * Ciphering wraps plaintext APDU bytes; the APDU codecs never see keys.
 */

export interface CipherApduParams {
  /** SC byte or flags; suite 0, authentication and/or encryption, optional broadcast bit. */
  readonly security: SecurityControlInput;
  /** The sender's IC for this key; use takeNextIc() so it is persisted before sending. */
  readonly ic: number;
  /** The sender's own system title (8 bytes). */
  readonly systemTitle: Uint8Array;
  /** The key of the chosen form: global unicast, global broadcast (SC 0x40) or dedicated key. */
  readonly ek: Uint8Array;
  /** Authentication key, needed when SC has 0x10. */
  readonly ak?: Uint8Array | undefined;
  /** Default `glo` (service-specific tag, global key). */
  readonly form?: CipheredForm;
}

function assertSuite0(
  sc: SecurityControl,
  code: typeof ErrorCode.EncodeInvalid | typeof ErrorCode.SessionCipherFailed,
): void {
  const fail = (reason: string, message: string): never => {
    throw new SimError(code, message, { reason, sc: securityControlByte(sc) });
  };
  if (sc.suiteId !== 0) fail('suite', `security suite ${sc.suiteId} is not supported (suite 0 only)`);
  // Modelled: compression (SC 0x80) is not offered by this simulator's suite 0 peers.
  if (sc.compression) fail('compression', 'compressed ciphered APDUs are not supported');
  if (!sc.authentication && !sc.encryption)
    fail('no-protection', 'SC asks for neither authentication nor encryption');
}

function keyUsageOf(form: CipheredForm, sc: SecurityControl): KeyUsage | undefined {
  if (usesDedicatedKey(form)) return sc.broadcastKey ? undefined : 'dedicated';
  return sc.broadcastKey ? 'global-broadcast' : 'global-unicast';
}

/** Cipher a plaintext APDU: `tag len SC IC ciphertext authTag` (or the general-ciphering layout). */
export function cipherApdu(plaintext: Uint8Array, p: CipherApduParams): Buffer {
  const form = p.form ?? 'glo';
  const scByte = securityControlByte(p.security);
  const sc = decodeSecurityControl(scByte);
  assertSuite0(sc, ErrorCode.EncodeInvalid);
  if (keyUsageOf(form, sc) === undefined) {
    throw new SimError(
      ErrorCode.EncodeInvalid,
      'the broadcast key bit cannot be used with the dedicated key',
      {
        reason: 'broadcast-dedicated',
        sc: scByte,
      },
    );
  }
  if (plaintext.length === 0) {
    throw new SimError(ErrorCode.EncodeInvalid, 'empty plaintext APDU', { path: 'plaintext' });
  }
  const tag = cipheredTagFor(plaintext[0]!, form);
  if (tag === undefined) {
    throw new SimError(
      ErrorCode.EncodeInvalid,
      `APDU tag 0x${plaintext[0]!.toString(16)} has no ${form}-ciphered form; use general-glo ciphering`,
      { path: 'plaintext.tag', tag: plaintext[0]!, form },
    );
  }
  const { payload, authTag } = protectPayload(
    { sc: scByte, ic: p.ic, systemTitle: p.systemTitle, ek: p.ek, ak: p.ak },
    plaintext,
  );
  return encodeCipheredApdu({
    tag,
    form,
    systemTitle: carriesSystemTitle(form) ? Buffer.from(p.systemTitle) : undefined,
    security: sc,
    ic: p.ic,
    payload,
    authTag,
  });
}

/** The receiver's keys. A KeySet (keys.ts) fits; the dedicated key comes from the InitiateRequest. */
export interface DecipherKeys {
  /** Global unicast encryption key. */
  readonly ek?: Uint8Array | undefined;
  /** Global broadcast encryption key (SC 0x40). */
  readonly broadcastEk?: Uint8Array | undefined;
  readonly dedicatedKey?: Uint8Array | undefined;
  readonly ak?: Uint8Array | undefined;
}

export interface DecipherContext {
  /**
   * The peer's system title (calling-AP-title of the AARQ / responding-AP-title of the AARE).
   * Required for service-specific tags; for general ciphering it must match the carried one.
   */
  readonly peerSystemTitle?: Uint8Array | undefined;
  readonly keys: DecipherKeys;
  /** The association's security policy: may an APDU with this SC be accepted? See policyAccepts(). */
  readonly accept: (sc: SecurityControl, apdu: CipheredApdu) => boolean;
  /** Last accepted IC per sender and key; updated only when the APDU is accepted. */
  readonly counters: InvocationCounterStore;
}

export interface DecipheredApdu {
  /** The plaintext xDLMS APDU. */
  readonly plaintext: Buffer;
  readonly tag: number;
  readonly form: CipheredForm;
  readonly security: SecurityControl;
  readonly ic: number;
  /** The sender's system title the IV was built from. */
  readonly systemTitle: Buffer;
  readonly keyUsage: KeyUsage;
}

function cipherFailure(reason: string, message: string, context: Record<string, unknown> = {}): SimError {
  return new SimError(ErrorCode.SessionCipherFailed, message, { reason, ...context });
}

function resolveSystemTitle(apdu: CipheredApdu, peer: Uint8Array | undefined): Buffer {
  const carried = apdu.systemTitle;
  if (carried && carried.length === SYSTEM_TITLE_LENGTH) {
    if (peer && !Buffer.from(peer).equals(carried)) {
      throw cipherFailure(
        'system-title',
        'the APDU names a different sender system title than the association',
      );
    }
    return carried;
  }
  if (!peer || peer.length !== SYSTEM_TITLE_LENGTH) {
    throw cipherFailure(
      'system-title',
      'the sender system title is unknown (none in the APDU or the association)',
    );
  }
  return Buffer.from(peer);
}

function keyFor(usage: KeyUsage, keys: DecipherKeys): Uint8Array | undefined {
  if (usage === 'dedicated') return keys.dedicatedKey;
  return usage === 'global-broadcast' ? keys.broadcastEk : keys.ek;
}

interface Resolved {
  readonly systemTitle: Buffer;
  readonly keyUsage: KeyUsage;
}

function resolve(apdu: CipheredApdu, peer: Uint8Array | undefined): Resolved {
  assertSuite0(apdu.security, ErrorCode.SessionCipherFailed);
  const keyUsage = keyUsageOf(apdu.form, apdu.security);
  if (keyUsage === undefined) {
    throw cipherFailure('broadcast-dedicated', 'the broadcast key bit cannot be used with the dedicated key');
  }
  return { systemTitle: resolveSystemTitle(apdu, peer), keyUsage };
}

function open(apdu: CipheredApdu, r: Resolved, keys: DecipherKeys): Buffer {
  const key = keyFor(r.keyUsage, keys);
  if (key === undefined) {
    throw new SimError(ErrorCode.SessionKeyMissing, `no ${r.keyUsage} key to decipher this APDU`, {
      reason: 'key-missing',
      keyUsage: r.keyUsage,
    });
  }
  const plaintext = openPayload(
    { sc: securityControlByte(apdu.security), ic: apdu.ic, systemTitle: r.systemTitle, ek: key, ak: keys.ak },
    apdu.payload,
    apdu.authTag,
  );
  // A glo-get-request must carry a get-request: refuse a verified APDU whose content is another
  // service (modelled: a service-specific tag names its content, GXPY Command.py pairs).
  if (plaintext.length === 0) throw cipherFailure('content-mismatch', 'the ciphered content is empty');
  const expected = cipheredTagInfo(apdu.tag)?.plain;
  if (expected !== undefined && plaintext[0] !== expected) {
    throw cipherFailure(
      'content-mismatch',
      `the ciphered content is not the APDU its tag 0x${apdu.tag.toString(16)} names`,
      {
        tag: apdu.tag,
      },
    );
  }
  return plaintext;
}

/**
 * Decipher without policy or replay checks and without touching counters: for trace viewers
 * and tools. Protocol code uses decipherApdu.
 */
export function openCipheredApdu(
  apdu: CipheredApdu,
  keys: DecipherKeys,
  peerSystemTitle?: Uint8Array,
): { plaintext: Buffer; systemTitle: Buffer; keyUsage: KeyUsage } {
  const r = resolve(apdu, peerSystemTitle);
  return { plaintext: open(apdu, r, keys), ...r };
}

/**
 * Decipher a received APDU. In order: structure (Decode*), suite / compression / sender system
 * title (SessionCipherFailed), policy (SessionCipherFailed, reason `policy`), IC freshness
 * (SessionReplay), key presence (SessionKeyMissing), tag (SessionCipherFailed, reason `auth-tag`),
 * content tag (SessionCipherFailed, reason `content-mismatch`). The counter is advanced only
 * when every check passed, and the plaintext is returned whole or not at all.
 */
export function decipherApdu(input: Uint8Array, ctx: DecipherContext): DecipheredApdu {
  const apdu = decodeCipheredApdu(input);
  const r = resolve(apdu, ctx.peerSystemTitle);
  if (!ctx.accept(apdu.security, apdu)) {
    throw cipherFailure('policy', 'the APDU security does not meet the association security policy', {
      sc: securityControlByte(apdu.security),
    });
  }
  const scope: CounterScope = { systemTitle: r.systemTitle, key: r.keyUsage };
  checkIcFresh(apdu.ic, ctx.counters.getLastIc(scope), 'ciphered APDU');
  const plaintext = open(apdu, r, ctx.keys);
  ctx.counters.setLastIc(scope, apdu.ic);
  return {
    plaintext,
    tag: apdu.tag,
    form: apdu.form,
    security: apdu.security,
    ic: apdu.ic,
    systemTitle: r.systemTitle,
    keyUsage: r.keyUsage,
  };
}
