import { fromHex, toHex } from '../../../../src/core/bytes';
import { ErrorCode } from '../../../../src/core/errors';
import {
  cipherApdu,
  decipherApdu,
  decodeCipheredApdu,
  MemoryInvocationCounters,
  policyAccepts,
  SecurityPolicyV0,
  type DecipherContext,
} from '../../../../src/protocols/dlms/security';
import { GB } from './vectors';
import { errorOf } from '../../../helpers/vectors';

const acceptAll = (): boolean => true;

function ctx(over: Partial<DecipherContext> = {}): DecipherContext {
  return {
    peerSystemTitle: GB.serverSystemTitle,
    keys: { ek: GB.ek, ak: GB.ak },
    accept: acceptAll,
    counters: new MemoryInvocationCounters(),
    ...over,
  };
}

// docs/dlms.md §7 "GB Table 40 vectors" [V]: EK 00..0F, AK D0..DF, ST 4D4D4D0000BC614E, IC 01234567.
const TABLE40 = [
  {
    name: '30',
    sc: 0x30,
    apdu: fromHex(
      [
        'C8', // glo-get-request
        '1E', // length 30
        '30', // SC: authenticated and encrypted, suite 0
        '01234567', // IC
        '411312FF935A47566827C467BC', // ciphertext of C0010000080000010000FF0200
        '7D825C3BE4A77C3FCC056B6B', // authentication tag (12)
      ].join(''),
    ),
  },
  {
    name: '20',
    sc: 0x20,
    apdu: fromHex(
      [
        'C8', // glo-get-request
        '12', // length 18
        '20', // SC: encrypted only, no tag
        '01234567', // IC
        '411312FF935A47566827C467BC', // ciphertext
      ].join(''),
    ),
  },
  {
    name: '10',
    sc: 0x10,
    apdu: fromHex(
      [
        'C8', // glo-get-request
        '1E', // length 30
        '10', // SC: authenticated only
        '01234567', // IC
        'C0010000080000010000FF0200', // plaintext in clear
        '06725D910F9221D263877516', // GMAC tag over SC || AK || plaintext
      ].join(''),
    ),
  },
];

describe('cipherApdu / decipherApdu: GB Table 40', () => {
  it.each(TABLE40)('SC $name ciphers the GET to the GB bytes', ({ sc, apdu }) => {
    const out = cipherApdu(GB.getClockTime, {
      security: sc,
      ic: GB.ic,
      systemTitle: GB.serverSystemTitle,
      ek: GB.ek,
      ak: GB.ak,
    });
    expect(toHex(out)).toBe(toHex(apdu));
  });

  it.each(TABLE40)('SC $name deciphers the GB bytes to the GET', ({ sc, apdu }) => {
    const counters = new MemoryInvocationCounters();
    const out = decipherApdu(apdu, ctx({ counters }));
    expect(toHex(out.plaintext)).toBe(toHex(GB.getClockTime));
    expect(out.tag).toBe(0xc8);
    expect(out.form).toBe('glo');
    expect(out.ic).toBe(GB.ic);
    expect(out.keyUsage).toBe('global-unicast');
    expect(out.security.authentication).toBe((sc & 0x10) !== 0);
    expect(out.security.encryption).toBe((sc & 0x20) !== 0);
    expect(toHex(out.systemTitle)).toBe('4d4d4d0000bc614e');
    expect(counters.getLastIc({ systemTitle: GB.serverSystemTitle, key: 'global-unicast' })).toBe(GB.ic);
  });
});

describe('ciphered AARQ user-information (docs/dlms.md §4.1 / §7, JDLMS CipheringTest) [V]', () => {
  const aarq = fromHex(
    [
      '60 66', // AARQ
      'A1 09 06 07 60857405080103', // context LN-ciphered
      'A6 0A 04 08 4D4D4D0000BC614E', // calling-AP-title = client system title
      '8A 02 0780', // acse-requirements
      '8B 07 60857405080201', // mechanism LLS
      'AC 0A 80 08 3132333435363738', // "12345678"
      'BE 34', // user-information
      '04 32', // OCTET STRING, 50 bytes
      '21 30', // glo-initiate-request, 48 bytes
      '30', // SC
      '01234567', // IC
      '801302FF8A7874133D414CED25B42534D28DB0047720606B175BD52211BE68', // ciphertext (31)
      '41DB204D39EE6FDB8E356855', // authentication tag (12)
    ].join(' '),
  );

  it('finds the ciphered InitiateRequest and deciphers it', () => {
    // Walk the BER TLVs to user-information (BE) and its OCTET STRING: the ACSE codec's job
    // in production, done by hand here.
    let i = 2;
    let userInfo: Buffer | undefined;
    let callingTitle: Buffer | undefined;
    while (i < aarq.length) {
      const t = aarq[i]!;
      const l = aarq[i + 1]!;
      const v = aarq.subarray(i + 2, i + 2 + l);
      if (t === 0xbe) userInfo = v;
      if (t === 0xa6) callingTitle = v.subarray(2);
      i += 2 + l;
    }
    expect(i).toBe(aarq.length);
    expect(userInfo![0]).toBe(0x04);
    const glo = userInfo!.subarray(2, 2 + userInfo![1]!);
    expect(glo[0]).toBe(0x21);
    const out = decipherApdu(glo, ctx({ peerSystemTitle: callingTitle }));
    expect(toHex(out.plaintext)).toBe(
      toHex(
        fromHex(
          [
            '01', // initiate-request
            '01 10 00112233445566778899AABBCCDDEEFF', // dedicated-key present, 16 bytes
            '00', // response-allowed default (true)
            '00', // no proposed-quality-of-service
            '06', // proposed-dlms-version-number 6
            '5F1F 04 00 007E1F', // proposed-conformance
            '04B0', // client-max-receive-pdu-size 1200
          ].join(' '),
        ),
      ),
    );
    expect(out.form).toBe('glo');
    expect(out.tag).toBe(0x21);
  });
});

describe('replay protection', () => {
  const apdu = TABLE40[0]!.apdu;

  it('rejects the same IC twice and a lower IC, without changing the counter', () => {
    const counters = new MemoryInvocationCounters();
    decipherApdu(apdu, ctx({ counters }));
    const again = errorOf(() => decipherApdu(apdu, ctx({ counters })));
    expect(again.code).toBe(ErrorCode.SessionReplay);
    expect(again.context).toEqual({ ic: GB.ic, lastIc: GB.ic });
    const lower = cipherApdu(GB.getClockTime, {
      security: 0x30,
      ic: GB.ic - 1,
      systemTitle: GB.serverSystemTitle,
      ek: GB.ek,
      ak: GB.ak,
    });
    expect(errorOf(() => decipherApdu(lower, ctx({ counters }))).code).toBe(ErrorCode.SessionReplay);
    const higher = cipherApdu(GB.getClockTime, {
      security: 0x30,
      ic: GB.ic + 1,
      systemTitle: GB.serverSystemTitle,
      ek: GB.ek,
      ak: GB.ak,
    });
    expect(decipherApdu(higher, ctx({ counters })).ic).toBe(GB.ic + 1);
    expect(counters.entries()).toEqual([['4d4d4d0000bc614e/global-unicast', GB.ic + 1]]);
  });

  it('refuses IC 0: counters start at 1', () => {
    const zero = cipherApdu(GB.getClockTime, {
      security: 0x30,
      ic: 0,
      systemTitle: GB.serverSystemTitle,
      ek: GB.ek,
      ak: GB.ak,
    });
    expect(errorOf(() => decipherApdu(zero, ctx())).code).toBe(ErrorCode.SessionReplay);
  });

  it('keeps separate counters per key family', () => {
    const counters = new MemoryInvocationCounters();
    decipherApdu(apdu, ctx({ counters }));
    const ded = cipherApdu(GB.getClockTime, {
      security: 0x30,
      ic: 1,
      systemTitle: GB.serverSystemTitle,
      ek: GB.ak, // any 16-byte key as the dedicated key
      ak: GB.ak,
      form: 'ded',
    });
    const out = decipherApdu(ded, ctx({ counters, keys: { ek: GB.ek, ak: GB.ak, dedicatedKey: GB.ak } }));
    expect(out.keyUsage).toBe('dedicated');
    expect(out.tag).toBe(0xd0);
  });
});

describe('failures', () => {
  it('a wrong key gives SessionCipherFailed and leaves the counter alone', () => {
    const counters = new MemoryInvocationCounters();
    const wrong = Buffer.from(GB.ek);
    wrong[15] = wrong[15]! ^ 1;
    const e = errorOf(() =>
      decipherApdu(TABLE40[0]!.apdu, ctx({ counters, keys: { ek: wrong, ak: GB.ak } })),
    );
    expect(e.code).toBe(ErrorCode.SessionCipherFailed);
    expect(e.context['reason']).toBe('auth-tag');
    expect(JSON.stringify(e.context)).not.toContain(toHex(wrong));
    expect(counters.entries()).toEqual([]);
  });

  it('a wrong AK fails SC 10 and SC 30', () => {
    const ak = Buffer.alloc(16, 0xd0);
    for (const v of [TABLE40[0]!, TABLE40[2]!]) {
      expect(errorOf(() => decipherApdu(v.apdu, ctx({ keys: { ek: GB.ek, ak } }))).code).toBe(
        ErrorCode.SessionCipherFailed,
      );
    }
  });

  it('a wrong system title fails the tag', () => {
    const e = errorOf(() => decipherApdu(TABLE40[0]!.apdu, ctx({ peerSystemTitle: GB.clientSystemTitle })));
    expect(e.code).toBe(ErrorCode.SessionCipherFailed);
  });

  it('the policy check refuses weaker protection than the association requires', () => {
    const accept = policyAccepts(SecurityPolicyV0.AllAuthenticatedAndEncrypted);
    const e = errorOf(() => decipherApdu(TABLE40[1]!.apdu, ctx({ accept })));
    expect(e.code).toBe(ErrorCode.SessionCipherFailed);
    expect(e.context).toEqual({ reason: 'policy', sc: 0x20 });
    expect(decipherApdu(TABLE40[0]!.apdu, ctx({ accept })).plaintext).toEqual(GB.getClockTime);
  });

  it('missing keys are SessionKeyMissing', () => {
    expect(errorOf(() => decipherApdu(TABLE40[0]!.apdu, ctx({ keys: { ak: GB.ak } }))).code).toBe(
      ErrorCode.SessionKeyMissing,
    );
    expect(errorOf(() => decipherApdu(TABLE40[0]!.apdu, ctx({ keys: { ek: GB.ek } }))).code).toBe(
      ErrorCode.SessionKeyMissing,
    );
    // SC 20 needs no AK.
    expect(decipherApdu(TABLE40[1]!.apdu, ctx({ keys: { ek: GB.ek } })).plaintext).toEqual(GB.getClockTime);
  });

  it('refuses other suites, compression, and SC without protection', () => {
    for (const [sc, reason] of [
      [0x31, 'suite'],
      [0xb0, 'compression'],
      [0x00, 'no-protection'],
    ] as const) {
      const apdu = Buffer.from(TABLE40[0]!.apdu);
      apdu[2] = sc;
      const e = errorOf(() => decipherApdu(apdu, ctx()));
      expect(e.code).toBe(ErrorCode.SessionCipherFailed);
      expect(e.context['reason']).toBe(reason);
      expect(
        errorOf(() =>
          cipherApdu(GB.getClockTime, {
            security: sc,
            ic: 1,
            systemTitle: GB.serverSystemTitle,
            ek: GB.ek,
            ak: GB.ak,
          }),
        ).code,
      ).toBe(ErrorCode.EncodeInvalid);
    }
  });

  it('refuses a verified APDU whose content is not the service its tag names', () => {
    // A set-request ciphered, then relabelled glo-get-request: the tag is not in the AAD, so the
    // GCM tag still verifies; the content check catches it.
    const set = cipherApdu(fromHex('C101C100080000010000FF0200090C07E50118FF0E303950FFC400'), {
      security: 0x30,
      ic: 5,
      systemTitle: GB.serverSystemTitle,
      ek: GB.ek,
      ak: GB.ak,
    });
    expect(set[0]).toBe(0xc9);
    set[0] = 0xc8;
    const e = errorOf(() => decipherApdu(set, ctx()));
    expect(e.code).toBe(ErrorCode.SessionCipherFailed);
    expect(e.context['reason']).toBe('content-mismatch');
  });

  it('structural faults are decode errors with a path', () => {
    const short = TABLE40[0]!.apdu.subarray(0, 20);
    const e = errorOf(() => decipherApdu(short, ctx()));
    expect(e.code).toBe(ErrorCode.DecodeTruncated);
    expect(e.context['path']).toBe('CipheredApdu.content');
    const long = Buffer.concat([TABLE40[0]!.apdu, Buffer.of(0)]);
    expect(errorOf(() => decipherApdu(long, ctx())).code).toBe(ErrorCode.DecodeTrailingBytes);
    const unknown = Buffer.from(TABLE40[0]!.apdu);
    unknown[0] = 0xc0;
    const u = errorOf(() => decipherApdu(unknown, ctx()));
    expect(u.code).toBe(ErrorCode.DecodeInvalid);
    expect(u.context['path']).toBe('CipheredApdu.tag');
  });
});

describe('tag mapping and forms', () => {
  const plain: Array<[string, string, number, number]> = [
    ['initiate-request', '01', 0x21, 0x41],
    ['initiate-response', '08', 0x28, 0x48],
    ['get-request', 'C0', 0xc8, 0xd0],
    ['set-request', 'C1', 0xc9, 0xd1],
    ['event-notification', 'C2', 0xca, 0xd2],
    ['action-request', 'C3', 0xcb, 0xd3],
    ['get-response', 'C4', 0xcc, 0xd4],
    ['set-response', 'C5', 0xcd, 0xd5],
    ['action-response', 'C7', 0xcf, 0xd7],
  ];
  it.each(plain)('%s %s -> glo %d / ded %d', (_name, tag, glo, ded) => {
    const body = fromHex(`${tag}0102030405`);
    const p = { security: 0x30, ic: 7, systemTitle: GB.serverSystemTitle, ek: GB.ek, ak: GB.ak };
    expect(cipherApdu(body, p)[0]).toBe(glo);
    expect(cipherApdu(body, { ...p, form: 'ded' })[0]).toBe(ded);
  });

  it('exception-response (D8) has no service-specific ciphered form but goes in general-glo', () => {
    const exception = fromHex('D8 01 05'); // service-not-allowed, deciphering-error
    const p = { security: 0x30, ic: 9, systemTitle: GB.serverSystemTitle, ek: GB.ek, ak: GB.ak };
    const e = errorOf(() => cipherApdu(exception, p));
    expect(e.code).toBe(ErrorCode.EncodeInvalid);
    const general = cipherApdu(exception, { ...p, form: 'general-glo' });
    expect(toHex(general.subarray(0, 12))).toBe(
      [
        'db', // general-glo-ciphering
        '08', // system title length
        '4d4d4d0000bc614e', // system title
        '14', // content length 1 + 4 + 3 + 12 = 20
        '30', // SC
      ].join(''),
    );
    // The receiver learns the title from the APDU when the association did not give one.
    const out = decipherApdu(general, ctx({ peerSystemTitle: undefined }));
    expect(out.plaintext).toEqual(exception);
    expect(out.form).toBe('general-glo');
  });

  it('general-glo with a different title than the association is refused', () => {
    const p = { security: 0x30, ic: 9, systemTitle: GB.clientSystemTitle, ek: GB.ek, ak: GB.ak };
    const general = cipherApdu(GB.getClockTime, { ...p, form: 'general-glo' });
    const e = errorOf(() => decipherApdu(general, ctx()));
    expect(e.context['reason']).toBe('system-title');
  });

  it('general-ded uses the dedicated key; broadcast bit selects the broadcast key', () => {
    const dedicated = Buffer.alloc(16, 0x42);
    const bcast = Buffer.alloc(16, 0x24);
    const keys = { ek: GB.ek, ak: GB.ak, dedicatedKey: dedicated, broadcastEk: bcast };
    const p = { ic: 3, systemTitle: GB.serverSystemTitle, ak: GB.ak };
    const ded = cipherApdu(GB.getClockTime, { ...p, security: 0x30, ek: dedicated, form: 'general-ded' });
    expect(ded[0]).toBe(0xdc);
    expect(decipherApdu(ded, ctx({ keys })).keyUsage).toBe('dedicated');
    const b = cipherApdu(GB.getClockTime, { ...p, security: 0x70, ek: bcast });
    expect(decodeCipheredApdu(b).security.broadcastKey).toBe(true);
    const out = decipherApdu(b, ctx({ keys }));
    expect(out.keyUsage).toBe('global-broadcast');
    expect(out.plaintext).toEqual(GB.getClockTime);
    expect(
      errorOf(() => cipherApdu(GB.getClockTime, { ...p, security: 0x70, ek: dedicated, form: 'ded' }))
        .context['reason'],
    ).toBe('broadcast-dedicated');
  });

  it('long APDUs use the 0x82 length form', () => {
    const body = Buffer.concat([fromHex('C401C100'), Buffer.alloc(1020, 0x55)]);
    const c = cipherApdu(body, {
      security: 0x30,
      ic: 1,
      systemTitle: GB.serverSystemTitle,
      ek: GB.ek,
      ak: GB.ak,
    });
    expect(toHex(c.subarray(0, 4))).toBe(
      [
        'cc', // glo-get-response
        '82', // two length bytes follow
        '0411', // 1 + 4 + 1024 + 12 = 1041
      ].join(''),
    );
    expect(decipherApdu(c, ctx()).plaintext).toEqual(body);
  });
});
