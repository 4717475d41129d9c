import { fromHex, toHex } from '../../../../src/core/bytes';
import { ErrorCode } from '../../../../src/core/errors';
import {
  applyKeyTransfer,
  buildKeyTransfer,
  KeyId,
  loadKeySet,
  openKeyTransfer,
  unwrapKey,
  validateKeySet,
  withKey,
  wrapKey,
  type KeySet,
  type KeyStore,
} from '../../../../src/protocols/dlms/security';
import { GB } from './vectors';
import { errorOf } from '../../../helpers/vectors';

// RFC 3394 §4.1 "Wrap 128 bits of Key Data with a 128-bit KEK".
const RFC3394 = {
  kek: fromHex('000102030405060708090A0B0C0D0E0F'),
  key: fromHex('00112233445566778899AABBCCDDEEFF'),
  wrapped: fromHex(
    [
      '1FA68B0A8112B447', // A (integrity block)
      'AEF34BD8FB5A7B82', // R[1]
      '9D3E862371D2CFE5', // R[2]
    ].join(''),
  ),
};

const keySet: KeySet = {
  systemTitle: GB.serverSystemTitle,
  ek: GB.ek,
  ak: GB.ak,
  kek: fromHex('000102030405060708090A0B0C0D0E0F'),
};

describe('RFC 3394 key wrap', () => {
  it('wraps the §4.1 vector', () => {
    expect(toHex(wrapKey(RFC3394.kek, RFC3394.key))).toBe(toHex(RFC3394.wrapped));
  });

  it('unwraps the §4.1 vector', () => {
    expect(toHex(unwrapKey(RFC3394.kek, RFC3394.wrapped))).toBe(toHex(RFC3394.key));
  });

  it('a wrong KEK or an altered byte fails the integrity check', () => {
    const e = errorOf(() => unwrapKey(Buffer.alloc(16, 7), RFC3394.wrapped));
    expect(e.code).toBe(ErrorCode.SessionCipherFailed);
    expect(e.context).toEqual({ reason: 'key-unwrap', path: 'key_wrapped' });
    for (let i = 0; i < RFC3394.wrapped.length; i++) {
      const w = Buffer.from(RFC3394.wrapped);
      w[i] = w[i]! ^ 0x80;
      expect(errorOf(() => unwrapKey(RFC3394.kek, w)).code).toBe(ErrorCode.SessionCipherFailed);
    }
  });

  it('checks lengths', () => {
    expect(errorOf(() => wrapKey(RFC3394.kek, Buffer.alloc(24))).code).toBe(ErrorCode.EncodeInvalid);
    expect(errorOf(() => wrapKey(Buffer.alloc(24), RFC3394.key)).code).toBe(ErrorCode.SessionKeyMissing);
    expect(errorOf(() => unwrapKey(RFC3394.kek, RFC3394.wrapped.subarray(0, 16))).code).toBe(
      ErrorCode.DecodeInvalid,
    );
  });
});

describe('key_transfer (Security setup method 2)', () => {
  const newEk = Buffer.alloc(16, 0x11);
  const newAk = Buffer.alloc(16, 0x22);

  it('round trips wrapped keys and applies them to the key set', () => {
    const entries = buildKeyTransfer(keySet.kek, [
      { keyId: KeyId.GlobalUnicastEncryption, key: newEk },
      { keyId: KeyId.Authentication, key: newAk },
    ]);
    expect(entries.map((e) => [e.keyId, e.keyWrapped.length])).toEqual([
      [0, 24],
      [2, 24],
    ]);
    expect(toHex(entries[0]!.keyWrapped)).toBe(toHex(wrapKey(keySet.kek, newEk)));
    const opened = openKeyTransfer(keySet.kek, entries);
    const next = applyKeyTransfer(keySet, opened);
    expect(next.ek).toEqual(newEk);
    expect(next.ak).toEqual(newAk);
    expect(next.kek).toEqual(keySet.kek);
    expect(keySet.ek).toEqual(GB.ek); // the input key set is untouched
  });

  it('is all or nothing: one bad entry fails the call with its path', () => {
    const entries = buildKeyTransfer(keySet.kek, [
      { keyId: KeyId.GlobalUnicastEncryption, key: newEk },
      { keyId: KeyId.Master, key: newAk },
    ]);
    const broken = [
      entries[0]!,
      { ...entries[1]!, keyWrapped: Buffer.from(entries[1]!.keyWrapped).fill(0, 0, 1) },
    ];
    const e = errorOf(() => openKeyTransfer(keySet.kek, broken));
    expect(e.code).toBe(ErrorCode.SessionCipherFailed);
    expect(e.context['path']).toBe('key_transfer[1].key_wrapped');
  });

  it('refuses unknown, duplicate or no key ids', () => {
    const w = wrapKey(keySet.kek, newEk);
    const unknown = errorOf(() => openKeyTransfer(keySet.kek, [{ keyId: 4, keyWrapped: w }]));
    expect(unknown.code).toBe(ErrorCode.DecodeInvalid);
    expect(unknown.context).toEqual({ path: 'key_transfer[0].key_id', value: 4 });
    const dup = errorOf(() =>
      openKeyTransfer(keySet.kek, [
        { keyId: 0, keyWrapped: w },
        { keyId: 0, keyWrapped: w },
      ]),
    );
    expect(dup.context).toEqual({ path: 'key_transfer[1].key_id', value: 0 });
    expect(errorOf(() => openKeyTransfer(keySet.kek, [])).code).toBe(ErrorCode.DecodeInvalid);
    expect(errorOf(() => buildKeyTransfer(keySet.kek, [])).code).toBe(ErrorCode.EncodeInvalid);
  });

  it('withKey replaces exactly the named key', () => {
    const k = Buffer.alloc(16, 0x33);
    expect(withKey(keySet, KeyId.GlobalBroadcastEncryption, k).broadcastEk).toEqual(k);
    expect(withKey(keySet, KeyId.Master, k).kek).toEqual(k);
    expect(withKey(keySet, KeyId.Master, k).ek).toEqual(keySet.ek);
    expect(errorOf(() => withKey(keySet, KeyId.Master, Buffer.alloc(8))).code).toBe(
      ErrorCode.SessionKeyMissing,
    );
  });
});

describe('key sets and key stores', () => {
  it('loads a key set through an async key store, by system title or device id', async () => {
    const asked: Array<[string, number]> = [];
    const store: KeyStore = async (peer, keyId) => {
      asked.push([typeof peer === 'string' ? peer : toHex(peer), keyId]);
      return Buffer.alloc(16, keyId + 1);
    };
    const ks = await loadKeySet(store, '00-11-22-33-44-55-66-77', GB.serverSystemTitle);
    expect(ks.ek).toEqual(Buffer.alloc(16, 1));
    expect(ks.ak).toEqual(Buffer.alloc(16, 3));
    expect(ks.kek).toEqual(Buffer.alloc(16, 4));
    expect(ks.broadcastEk).toBeUndefined();
    expect(asked.map(([, id]) => id).sort()).toEqual([0, 2, 3]);
    const withBroadcast = await loadKeySet(store, GB.serverSystemTitle, GB.serverSystemTitle, {
      broadcast: true,
    });
    expect(withBroadcast.broadcastEk).toEqual(Buffer.alloc(16, 2));
    expect(asked.at(-1)).toEqual(['4d4d4d0000bc614e', 1]);
  });

  it('rejects short keys and titles', async () => {
    const store: KeyStore = async (_peer, keyId) => Buffer.alloc(keyId === KeyId.Authentication ? 15 : 16);
    await expect(loadKeySet(store, 'x', GB.serverSystemTitle)).rejects.toMatchObject({
      code: ErrorCode.SessionKeyMissing,
      context: { reason: 'key-length', key: 'ak', length: 15 },
    });
    expect(errorOf(() => validateKeySet({ ...keySet, systemTitle: Buffer.alloc(7) })).context['reason']).toBe(
      'system-title-length',
    );
  });
});
