import fc from 'fast-check';
import { ByteReader, ByteWriter, fromHex, toHex } from '../../../../src/core/bytes';
import { ErrorCode, SimError } from '../../../../src/core/errors';
import {
  canActivatePolicy,
  checkIcFresh,
  decodeBerLength,
  decodeSecurityControl,
  decodeSecurityHeader,
  decodeSecurityPolicyV0,
  encodeBerLength,
  encodeSecurityControl,
  encodeSecurityHeader,
  MemoryInvocationCounters,
  nextInvocationCounter,
  policyAccepts,
  policyRequirements,
  scopedCounter,
  SecurityPolicyV0,
  takeNextIc,
} from '../../../../src/protocols/dlms/security';
import { errorOf } from '../../../helpers/vectors';

describe('security control byte (docs/dlms.md §7)', () => {
  it.each([
    [0x30, { suiteId: 0, authentication: true, encryption: true, broadcastKey: false, compression: false }],
    [0x20, { suiteId: 0, authentication: false, encryption: true, broadcastKey: false, compression: false }],
    [0x10, { suiteId: 0, authentication: true, encryption: false, broadcastKey: false, compression: false }],
    [0x70, { suiteId: 0, authentication: true, encryption: true, broadcastKey: true, compression: false }],
    [0x81, { suiteId: 1, authentication: false, encryption: false, broadcastKey: false, compression: true }],
    [0x02, { suiteId: 2, authentication: false, encryption: false, broadcastKey: false, compression: false }],
  ])('SC byte %d decodes to its flags and back', (byte, flags) => {
    expect(decodeSecurityControl(byte)).toEqual(flags);
    expect(encodeSecurityControl(flags)).toBe(byte);
  });

  it('is a bijection on all 256 bytes', () => {
    for (let b = 0; b < 256; b++) expect(encodeSecurityControl(decodeSecurityControl(b))).toBe(b);
  });

  it('refuses a suite id above 15 and non-bytes', () => {
    const sc = { ...decodeSecurityControl(0x30), suiteId: 16 };
    expect(errorOf(() => encodeSecurityControl(sc)).code).toBe(ErrorCode.EncodeInvalid);
    expect(errorOf(() => decodeSecurityControl(256)).code).toBe(ErrorCode.DecodeInvalid);
  });

  it('codes the security header SC || IC', () => {
    const bytes = fromHex(
      [
        '30', // SC
        '01234567', // IC
      ].join(''),
    );
    const h = decodeSecurityHeader(new ByteReader(bytes));
    expect(h).toEqual({ security: decodeSecurityControl(0x30), ic: 0x01234567 });
    expect(toHex(encodeSecurityHeader(new ByteWriter(), h).toBuffer())).toBe('3001234567');
    const e = errorOf(() => decodeSecurityHeader(new ByteReader(bytes.subarray(0, 3), 'Hdr')));
    expect(e.code).toBe(ErrorCode.DecodeTruncated);
    expect(e.context['path']).toBe('Hdr.ic');
  });
});

describe('APDU length (docs/dlms.md §5 "Length")', () => {
  it.each([
    [0, '00'],
    [0x7f, '7f'],
    [0x80, '8180'],
    [0xff, '81ff'],
    [1182, '82049e'],
    [0x10000, '83010000'],
    [0xffffffff, '84ffffffff'],
  ])('%d <-> %s', (n, hex) => {
    expect(toHex(encodeBerLength(new ByteWriter(), n).toBuffer())).toBe(hex);
    expect(decodeBerLength(new ByteReader(fromHex(hex)), 'len')).toBe(n);
  });

  it('accepts non-minimal forms, refuses indefinite and over-long ones', () => {
    expect(decodeBerLength(new ByteReader(fromHex('8105')), 'len')).toBe(5);
    expect(errorOf(() => decodeBerLength(new ByteReader(fromHex('80')), 'len')).code).toBe(
      ErrorCode.DecodeInvalid,
    );
    expect(errorOf(() => decodeBerLength(new ByteReader(fromHex('850000000001')), 'len')).code).toBe(
      ErrorCode.DecodeInvalid,
    );
    expect(errorOf(() => decodeBerLength(new ByteReader(fromHex('82 01')), 'len')).code).toBe(
      ErrorCode.DecodeTruncated,
    );
  });

  it('round trips any length and decodes any bytes to a value or a coded error (property)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 0xffffffff }), (n) => {
        expect(decodeBerLength(new ByteReader(encodeBerLength(new ByteWriter(), n).toBuffer()), 'len')).toBe(
          n,
        );
      }),
    );
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 6 }), (bytes) => {
        try {
          expect(decodeBerLength(new ByteReader(bytes), 'len')).toBeGreaterThanOrEqual(0);
        } catch (e) {
          expect(e).toBeInstanceOf(SimError);
        }
      }),
    );
  });
});

describe('security_policy v0', () => {
  // Transition table: policy -> which SC bytes an association accepts.
  const table: Array<[number, Record<number, boolean>]> = [
    [SecurityPolicyV0.Nothing, { 0x10: true, 0x20: true, 0x30: true }],
    [SecurityPolicyV0.AllAuthenticated, { 0x10: true, 0x20: false, 0x30: true }],
    [SecurityPolicyV0.AllEncrypted, { 0x10: false, 0x20: true, 0x30: true }],
    [SecurityPolicyV0.AllAuthenticatedAndEncrypted, { 0x10: false, 0x20: false, 0x30: true }],
  ];
  it.each(table)('policy %d accepts %j', (policy, accepts) => {
    const p = decodeSecurityPolicyV0(policy);
    for (const [sc, ok] of Object.entries(accepts)) {
      expect(policyAccepts(p)(decodeSecurityControl(Number(sc)))).toBe(ok);
    }
  });

  it('maps enum values to requirements and refuses unknown values', () => {
    expect(policyRequirements(3)).toEqual({ authentication: true, encryption: true });
    expect(policyRequirements(2)).toEqual({ authentication: false, encryption: true });
    const e = errorOf(() => decodeSecurityPolicyV0(4));
    expect(e.code).toBe(ErrorCode.DecodeInvalid);
    expect(e.context).toEqual({ path: 'security_policy', value: 4 });
  });

  it('security_activate only strengthens', () => {
    const allowed: Array<[0 | 1 | 2 | 3, 0 | 1 | 2 | 3, boolean]> = [
      [0, 1, true],
      [0, 3, true],
      [1, 3, true],
      [2, 3, true],
      [1, 2, false],
      [2, 1, false],
      [3, 1, false],
      [1, 0, false],
      [2, 2, true],
    ];
    for (const [from, to, ok] of allowed) expect(canActivatePolicy(from, to)).toBe(ok);
  });
});

describe('invocation counters', () => {
  it('a sender starts at 1, persists before use and stops at 2^32-1', () => {
    const store = new MemoryInvocationCounters();
    const own = scopedCounter(store, { systemTitle: Buffer.alloc(8, 1), key: 'global-unicast' });
    expect(takeNextIc(own)).toBe(1);
    expect(takeNextIc(own)).toBe(2);
    expect(own.getLastIc()).toBe(2);
    expect(nextInvocationCounter(0xfffffffe)).toBe(0xffffffff);
    const e = errorOf(() => nextInvocationCounter(0xffffffff));
    expect(e.code).toBe(ErrorCode.SessionCipherFailed);
    expect(e.context['reason']).toBe('ic-exhausted');
  });

  it('freshness is strictly greater than the last accepted', () => {
    expect(() => checkIcFresh(1, undefined)).not.toThrow();
    expect(errorOf(() => checkIcFresh(0, undefined)).code).toBe(ErrorCode.SessionReplay);
    expect(errorOf(() => checkIcFresh(5, 5)).code).toBe(ErrorCode.SessionReplay);
    expect(errorOf(() => checkIcFresh(4, 5)).code).toBe(ErrorCode.SessionReplay);
    expect(() => checkIcFresh(6, 5)).not.toThrow();
  });

  it('scopes by system title and key usage', () => {
    const store = new MemoryInvocationCounters();
    const st = Buffer.alloc(8, 2);
    store.setLastIc({ systemTitle: st, key: 'global-unicast' }, 10);
    store.setLastIc({ systemTitle: st, key: 'dedicated' }, 3);
    expect(store.getLastIc({ systemTitle: Buffer.alloc(8, 2), key: 'global-unicast' })).toBe(10);
    expect(store.getLastIc({ systemTitle: st, key: 'global-broadcast' })).toBeUndefined();
    expect(store.entries()).toEqual([
      ['0202020202020202/global-unicast', 10],
      ['0202020202020202/dedicated', 3],
    ]);
  });
});
