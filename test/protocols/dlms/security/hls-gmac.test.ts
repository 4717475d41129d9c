import { fromHex, toHex } from '../../../../src/core/bytes';
import { ErrorCode } from '../../../../src/core/errors';
import {
  checkChallenge,
  generateChallenge,
  hlsGmacResponse,
  MemoryInvocationCounters,
  scopedCounter,
  verifyHlsGmacResponse,
  type InvocationCounterGuard,
} from '../../../../src/protocols/dlms/security';
import { GB } from './vectors';
import { errorOf } from '../../../helpers/vectors';

function guard(last?: number): InvocationCounterGuard & { value: number | undefined } {
  const g = {
    value: last,
    getLastIc: () => g.value,
    setLastIc: (ic: number) => {
      g.value = ic;
    },
  };
  return g;
}

// docs/dlms.md §4.1 "HLS-GMAC exchange": CtoS "K56iVagY" in the AARQ, StoC "P6wRJ21F" in the AARE.
const CtoS = Buffer.from('K56iVagY', 'latin1');
const StoC = Buffer.from('P6wRJ21F', 'latin1');

// docs/dlms.md §7 "HLS5 flow", GB Table 43 [V].
const F_STOC = fromHex(
  [
    '10', // SC: authentication only, suite 0
    '00000001', // client IC 1
    '1A52FE7DD3E72748973C1E28', // GMAC(EK, IV = 4D4D4D0000000001 || 00000001, AAD = 10 || AK || StoC)
  ].join(''),
);
const F_CTOS = fromHex(
  [
    '10', // SC
    '01234567', // server IC
    'FE1466AFB3DBCD4F9389E2B7', // GMAC(EK, IV = 4D4D4D0000BC614E || 01234567, AAD = 10 || AK || CtoS)
  ].join(''),
);

describe('HLS-GMAC: GB Table 43', () => {
  it('the client computes f(StoC)', () => {
    const f = hlsGmacResponse({
      ek: GB.ek,
      ak: GB.ak,
      challenge: StoC,
      systemTitle: GB.clientSystemTitle,
      ic: 1,
    });
    expect(toHex(f)).toBe(toHex(F_STOC));
  });

  it('the server computes f(CtoS)', () => {
    const f = hlsGmacResponse({
      ek: GB.ek,
      ak: GB.ak,
      challenge: CtoS,
      systemTitle: GB.serverSystemTitle,
      ic: GB.ic,
    });
    expect(toHex(f)).toBe(toHex(F_CTOS));
  });

  it('the server verifies f(StoC) and records the client IC', () => {
    const counter = guard();
    const r = verifyHlsGmacResponse({
      ek: GB.ek,
      ak: GB.ak,
      response: F_STOC,
      challenge: StoC,
      peerSystemTitle: GB.clientSystemTitle,
      counter,
    });
    expect(r).toEqual({ ic: 1 });
    expect(counter.value).toBe(1);
  });

  it('the client verifies f(CtoS) through a store scope', () => {
    const store = new MemoryInvocationCounters();
    const scope = { systemTitle: GB.serverSystemTitle, key: 'global-unicast' as const };
    verifyHlsGmacResponse({
      ek: GB.ek,
      ak: GB.ak,
      response: F_CTOS,
      challenge: CtoS,
      peerSystemTitle: GB.serverSystemTitle,
      counter: scopedCounter(store, scope),
    });
    expect(store.getLastIc(scope)).toBe(GB.ic);
  });
});

describe('HLS-GMAC verification failures', () => {
  const base = {
    ek: GB.ek,
    ak: GB.ak,
    response: F_STOC,
    challenge: StoC,
    peerSystemTitle: GB.clientSystemTitle,
  };

  it('a replayed or stale IC is SessionReplay and nothing is recorded', () => {
    const counter = guard(1);
    expect(errorOf(() => verifyHlsGmacResponse({ ...base, counter })).code).toBe(ErrorCode.SessionReplay);
    expect(counter.value).toBe(1);
  });

  it.each([
    ['another challenge', { challenge: CtoS }],
    ['another system title', { peerSystemTitle: GB.serverSystemTitle }],
    ['another EK', { ek: Buffer.alloc(16, 1) }],
    ['another AK', { ak: Buffer.alloc(16, 2) }],
  ])('%s is SessionAuthFailed (gmac)', (_name, over) => {
    const counter = guard();
    const e = errorOf(() => verifyHlsGmacResponse({ ...base, ...over, counter }));
    expect(e.code).toBe(ErrorCode.SessionAuthFailed);
    expect(e.context).toEqual({ reason: 'gmac' });
    expect(counter.value).toBeUndefined();
  });

  it('a wrong length or SC is SessionAuthFailed', () => {
    const counter = guard();
    expect(
      errorOf(() => verifyHlsGmacResponse({ ...base, response: F_STOC.subarray(0, 16), counter })).context,
    ).toEqual({ reason: 'length' });
    const sc30 = Buffer.from(F_STOC);
    sc30[0] = 0x30;
    expect(errorOf(() => verifyHlsGmacResponse({ ...base, response: sc30, counter })).context).toEqual({
      reason: 'sc',
    });
  });

  it('every single bit flip of f(StoC) is refused (all 136 bits)', () => {
    for (let bit = 0; bit < F_STOC.length * 8; bit++) {
      const r = Buffer.from(F_STOC);
      r[bit >> 3] = r[bit >> 3]! ^ (1 << (bit & 7));
      const counter = guard();
      const e = errorOf(() => verifyHlsGmacResponse({ ...base, response: r, counter }));
      // Flipping the low bit of IC 1 gives IC 0: a replay; every other flip fails SC or GMAC.
      expect(e.code).toBe(bit === 32 ? ErrorCode.SessionReplay : ErrorCode.SessionAuthFailed);
      expect(counter.value).toBeUndefined();
    }
  });
});

describe('challenges', () => {
  it('uses the injected random source and checks the 8..64 range', () => {
    const rng = (n: number): Buffer => Buffer.alloc(n, 0xab);
    expect(toHex(generateChallenge(8, rng))).toBe('abababababababab');
    expect(generateChallenge(undefined, rng).length).toBe(16);
    expect(generateChallenge(64).length).toBe(64);
    expect(errorOf(() => generateChallenge(7, rng)).code).toBe(ErrorCode.EncodeInvalid);
    expect(errorOf(() => generateChallenge(65, rng)).code).toBe(ErrorCode.EncodeInvalid);
    expect(errorOf(() => generateChallenge(8, () => Buffer.alloc(4))).code).toBe(ErrorCode.EncodeInvalid);
  });

  it('refuses peer challenges outside 8..64 bytes', () => {
    expect(() => checkChallenge(Buffer.alloc(8))).not.toThrow();
    expect(() => checkChallenge(Buffer.alloc(64))).not.toThrow();
    expect(errorOf(() => checkChallenge(Buffer.alloc(7))).code).toBe(ErrorCode.SessionAuthFailed);
    expect(errorOf(() => checkChallenge(Buffer.alloc(65))).code).toBe(ErrorCode.SessionAuthFailed);
  });

  it('two random challenges differ', () => {
    expect(generateChallenge(32).equals(generateChallenge(32))).toBe(false);
  });
});
