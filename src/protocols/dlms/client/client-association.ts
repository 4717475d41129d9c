import { ErrorCode, SimError } from '../../../core/errors';
import type { Aare, Aarq } from '../apdu/acse';
import { encodeApdu } from '../apdu/apdu';
import { conformance, type Conformance } from '../apdu/conformance';
import { decodeInitiateApdu, type InitiateRequest, type InitiateResponse } from '../apdu/xdlms-initiate';
import type { AuthMechanism } from '../cosem/context';
import { cipherApdu, decipherApdu } from '../security/apdu-cipher';
import type { CipheredForm } from '../security/ciphered-tags';
import {
  MemoryInvocationCounters,
  takeNextIc,
  type InvocationCounterGuard,
  type InvocationCounterStore,
} from '../security/invocation-counter';
import { KeyId, type KeyPeer, type KeyStore } from '../security/keys';
import { aareError } from './client-errors';

/**
 * The client's side of association establishment (docs/dlms.md §4.1): AARQ building, key
 * resolution (options or a KeyStore callback), AARE checking.
 */

export interface ClientKeys {
  readonly ek: Uint8Array;
  readonly ak: Uint8Array;
  /** Master key, needed only to wrap keys for key_transfer. */
  readonly kek?: Uint8Array;
}

export interface ClientSecurity {
  /** The client's own system title (8 bytes): calling-AP-title and the IV of what it sends. */
  readonly systemTitle: Uint8Array;
  readonly keys?: ClientKeys;
  /** Key lookup when `keys` is not given (CONVENTIONS: keys come in through a callback). */
  readonly keyStore?: KeyStore;
  /** Who to ask the key store about; default the server system title. */
  readonly keyPeer?: KeyPeer;
  /** Known server system title; otherwise taken from the AARE responding-AP-title. */
  readonly serverSystemTitle?: Uint8Array;
  /** SC of ciphered requests: 0x10, 0x20 or 0x30 (default 0x30). */
  readonly sc?: number;
  /** Ciphered APDU form (default glo). */
  readonly form?: CipheredForm;
  /** Dedicated key sent in the ciphered InitiateRequest (needed for the ded forms). */
  readonly dedicatedKey?: Uint8Array;
  /** The client's sending IC (persist it for long-lived clients); default in memory from 1. */
  readonly counter?: InvocationCounterGuard;
  /** Last ICs accepted from servers; default in memory. */
  readonly peerCounters?: InvocationCounterStore;
}

export interface AssociateOptions {
  readonly mechanism?: AuthMechanism;
  /** LLS password. */
  readonly secret?: Uint8Array;
  /** Default LN-ciphered when `security` is given, else LN. */
  readonly context?: 'LN' | 'LN-ciphered';
  readonly security?: ClientSecurity;
  /** Cipher xDLMS requests (default: context is LN-ciphered). */
  readonly cipher?: boolean;
  /** Proposed conformance (default DEFAULT_CLIENT_CONFORMANCE). */
  readonly conformance?: Conformance;
  /** client-max-receive-pdu-size (default 1200, as in the docs/dlms.md §4.1 AARQ). */
  readonly maxReceivePduSize?: number;
  /** CtoS for HLS-GMAC; default 16 random bytes. */
  readonly challenge?: Uint8Array;
}

export const DEFAULT_CLIENT_CONFORMANCE: Conformance = conformance(
  'block-transfer-with-get-or-read',
  'block-transfer-with-set-or-write',
  'multiple-references',
  'get',
  'set',
  'selective-access',
  'action',
);

export const DEFAULT_CLIENT_MAX_PDU = 1200;

/** Resolved security of an association in progress. */
export interface ClientCrypto {
  readonly systemTitle: Buffer;
  readonly ek: Buffer;
  readonly ak: Buffer;
  readonly kek: Buffer | undefined;
  readonly sc: number;
  readonly form: CipheredForm;
  readonly dedicatedKey: Buffer | undefined;
  readonly counter: InvocationCounterGuard;
  readonly peerCounters: InvocationCounterStore;
  serverSystemTitle: Buffer | undefined;
}

function memoryCounter(): InvocationCounterGuard {
  let last: number | undefined;
  return {
    getLastIc: () => last,
    setLastIc: (ic) => {
      last = ic;
    },
  };
}

export async function resolveClientCrypto(s: ClientSecurity): Promise<ClientCrypto> {
  if (s.systemTitle.length !== 8) {
    throw new SimError(ErrorCode.SessionKeyMissing, 'client system title must be 8 bytes', {
      length: s.systemTitle.length,
    });
  }
  let keys = s.keys;
  if (!keys) {
    const peer = s.keyPeer ?? s.serverSystemTitle;
    if (!s.keyStore || peer === undefined) {
      throw new SimError(
        ErrorCode.SessionKeyMissing,
        'ciphering needs keys, or a key store and the peer to ask it about',
        {
          reason: 'no-keys',
        },
      );
    }
    const [ek, ak, kek] = await Promise.all([
      s.keyStore(peer, KeyId.GlobalUnicastEncryption),
      s.keyStore(peer, KeyId.Authentication),
      s.keyStore(peer, KeyId.Master).catch(() => undefined),
    ]);
    keys = { ek, ak, kek };
  }
  return {
    systemTitle: Buffer.from(s.systemTitle),
    ek: Buffer.from(keys.ek),
    ak: Buffer.from(keys.ak),
    kek: keys.kek ? Buffer.from(keys.kek) : undefined,
    sc: s.sc ?? 0x30,
    form: s.form ?? 'glo',
    dedicatedKey: s.dedicatedKey ? Buffer.from(s.dedicatedKey) : undefined,
    counter: s.counter ?? memoryCounter(),
    peerCounters: s.peerCounters ?? new MemoryInvocationCounters(),
    serverSystemTitle: s.serverSystemTitle ? Buffer.from(s.serverSystemTitle) : undefined,
  };
}

export function buildAarq(
  o: AssociateOptions,
  crypto: ClientCrypto | undefined,
  ctos: Buffer | undefined,
): Aarq {
  const mechanism = o.mechanism ?? 'none';
  const context = o.context ?? (o.security ? 'LN-ciphered' : 'LN');
  const initiate: InitiateRequest = {
    type: 'initiate-request',
    dedicatedKey: crypto?.dedicatedKey,
    responseAllowed: true,
    proposedDlmsVersionNumber: 6,
    proposedConformance: o.conformance ?? DEFAULT_CLIENT_CONFORMANCE,
    clientMaxReceivePduSize: o.maxReceivePduSize ?? DEFAULT_CLIENT_MAX_PDU,
  };
  let userInformation: Aarq['userInformation'] = initiate;
  if (crypto && context === 'LN-ciphered') {
    // The dedicated key travels only inside a ciphered InitiateRequest (docs/dlms.md §7).
    const raw = cipherApdu(encodeApdu(initiate), {
      security: crypto.sc === 0x10 ? 0x30 : crypto.sc,
      ic: takeNextIc(crypto.counter),
      systemTitle: crypto.systemTitle,
      ek: crypto.ek,
      ak: crypto.ak,
    });
    userInformation = { type: 'ciphered', tag: raw[0]!, raw };
  }
  let auth: Aarq['callingAuthenticationValue'];
  if (mechanism === 'low') auth = { kind: 'charstring', value: Buffer.from(o.secret ?? Buffer.alloc(0)) };
  if (mechanism === 'high-gmac') auth = { kind: 'charstring', value: ctos! };
  return {
    type: 'aarq',
    applicationContextName: context,
    callingApTitle:
      crypto && (context === 'LN-ciphered' || mechanism === 'high-gmac') ? crypto.systemTitle : undefined,
    senderAcseRequirements: mechanism !== 'none' ? true : undefined,
    mechanismName: mechanism === 'none' ? undefined : mechanism,
    callingAuthenticationValue: auth,
    userInformation,
  };
}

/** Check an AARE: throws on rejection; returns the InitiateResponse (deciphered if needed). */
export function checkAare(aare: Aare, crypto: ClientCrypto | undefined): InitiateResponse {
  const ui = aare.userInformation;
  if (aare.result !== 0) throw aareError(aare, ui?.type === 'confirmed-service-error' ? ui : undefined);
  if (ui?.type === 'initiate-response') return ui;
  if (ui?.type === 'ciphered') {
    if (!crypto || !crypto.serverSystemTitle) {
      throw new SimError(
        ErrorCode.SessionKeyMissing,
        'ciphered InitiateResponse but no server system title or keys',
      );
    }
    const d = decipherApdu(ui.raw, {
      peerSystemTitle: crypto.serverSystemTitle,
      keys: { ek: crypto.ek, ak: crypto.ak },
      accept: () => true,
      counters: crypto.peerCounters,
    });
    const inner = decodeInitiateApdu(d.plaintext, 'AARE.userInformation');
    if (inner.type === 'initiate-response') return inner;
  }
  throw new SimError(ErrorCode.ServiceInvalidResponse, 'AARE accepted without an InitiateResponse', {
    userInformation: ui?.type,
  });
}
