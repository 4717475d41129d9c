import { fromHex } from '../../../../src/core/bytes';
import {
  cipherApdu,
  constantTimeEqual,
  keyFingerprint,
  looksCiphered,
  redactKeySet,
  traceApdu,
  verifyLlsSecret,
} from '../../../../src/protocols/dlms/security';
import { GB } from './vectors';

describe('LLS secret', () => {
  // docs/dlms.md §4.1 "LLS 12345678": AC 0A 80 08 3132333435363738.
  const secret = Buffer.from('12345678', 'latin1');

  it('accepts the exact secret only', () => {
    expect(verifyLlsSecret(secret, Buffer.from('12345678', 'latin1'))).toBe(true);
    expect(verifyLlsSecret(secret, Buffer.from('12345679', 'latin1'))).toBe(false);
    expect(verifyLlsSecret(secret, Buffer.from('1234567', 'latin1'))).toBe(false);
    expect(verifyLlsSecret(secret, Buffer.from('123456789', 'latin1'))).toBe(false);
    expect(verifyLlsSecret(secret, Buffer.alloc(0))).toBe(false);
  });

  it('an empty expected secret never matches', () => {
    expect(verifyLlsSecret(Buffer.alloc(0), Buffer.alloc(0))).toBe(false);
  });

  it('constantTimeEqual compares bytes of any lengths', () => {
    expect(constantTimeEqual(fromHex('0102'), fromHex('0102'))).toBe(true);
    expect(constantTimeEqual(fromHex('0102'), fromHex('010200'))).toBe(false);
    expect(constantTimeEqual(Buffer.alloc(0), Buffer.alloc(0))).toBe(true);
  });
});

describe('redaction and trace view', () => {
  const ks = { systemTitle: GB.serverSystemTitle, ek: GB.ek, ak: GB.ak, kek: GB.ek };
  const hexOf = (b: Buffer): string => b.toString('hex');

  it('a redacted key set holds no key bytes', () => {
    const r = redactKeySet(ks);
    expect(r.systemTitle).toBe('4d4d4d0000bc614e');
    expect(r.ek).toMatch(/^sha256:[0-9a-f]{8}$/);
    expect(r.ek).toBe(keyFingerprint(GB.ek));
    expect(r.ak).not.toBe(r.ek);
    const text = JSON.stringify(r);
    expect(text).not.toContain(hexOf(GB.ek));
    expect(text).not.toContain(hexOf(GB.ak));
  });

  const apdu = cipherApdu(GB.getClockTime, {
    security: 0x30,
    ic: GB.ic,
    systemTitle: GB.serverSystemTitle,
    ek: GB.ek,
    ak: GB.ak,
  });

  it('without keys shows only the wire bytes and the header', () => {
    const v = traceApdu(apdu);
    expect(v).toEqual({
      wire: hexOf(apdu),
      ciphered: true,
      tag: 0xc8,
      form: 'glo',
      sc: 0x30,
      ic: GB.ic,
      note: 'no-key',
    });
    expect(JSON.stringify(v)).not.toContain(hexOf(GB.getClockTime));
  });

  it('with keys shows the plaintext', () => {
    const v = traceApdu(apdu, { keys: ks, peerSystemTitle: GB.serverSystemTitle });
    expect(v.plaintext).toBe(hexOf(GB.getClockTime));
    expect(v.note).toBeUndefined();
  });

  it('with wrong keys shows no plaintext and names the failure; repeated views need no counter', () => {
    const v = traceApdu(apdu, { keys: { ...ks, ek: GB.ak }, peerSystemTitle: GB.serverSystemTitle });
    expect(v.plaintext).toBeUndefined();
    expect(v.note).toBe('SessionCipherFailed');
    // Viewing twice works: the viewer does not consume the IC.
    expect(traceApdu(apdu, { keys: ks, peerSystemTitle: GB.serverSystemTitle }).plaintext).toBe(
      hexOf(GB.getClockTime),
    );
  });

  it('plain and malformed APDUs are shown as they are', () => {
    expect(traceApdu(GB.getClockTime)).toEqual({ wire: hexOf(GB.getClockTime), ciphered: false });
    expect(traceApdu(apdu.subarray(0, 5))).toEqual({
      wire: hexOf(apdu.subarray(0, 5)),
      ciphered: true,
      tag: 0xc8,
      note: 'malformed',
    });
    expect(looksCiphered(apdu)).toBe(true);
    expect(looksCiphered(GB.getClockTime)).toBe(false);
    expect(looksCiphered(Buffer.alloc(0))).toBe(false);
  });
});
