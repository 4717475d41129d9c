import { toHex } from '../../../../src/core/bytes';
import { errorOf, hx, vectorChecker } from '../../../helpers/vectors';
import { ErrorCode } from '../../../../src/core/errors';
import {
  conformance,
  conformanceFromBits,
  decodeApdu,
  decodeInitiateApdu,
  encodeApdu,
  type Aare,
  type Aarq,
  type Apdu,
  type InitiateRequest,
  type InitiateResponse,
} from '../../../../src/protocols/dlms/apdu';

const vector = vectorChecker<Apdu>((b) => decodeApdu(b), encodeApdu);

/** `007E1F`: bits 9-14 and 19-23 (docs/dlms.md §4.1). */
const CONF_007E1F = conformance(
  'priority-mgmt-supported',
  'attribute0-supported-with-get',
  'block-transfer-with-get-or-read',
  'block-transfer-with-set-or-write',
  'block-transfer-with-action',
  'multiple-references',
  'get',
  'set',
  'selective-access',
  'event-notification',
  'action',
);

const INITIATE_1200: InitiateRequest = {
  type: 'initiate-request',
  responseAllowed: true,
  proposedDlmsVersionNumber: 6,
  proposedConformance: CONF_007E1F,
  clientMaxReceivePduSize: 1200,
};

const USER_INFO_1200 = [
  'BE 10', //             user-information
  '04 0E', //             OCTET STRING, 14 octets
  '01', //                InitiateRequest
  '00', //                no dedicated key
  '00', //                response-allowed: default (TRUE)
  '00', //                no proposed QoS
  '06', //                DLMS version 6
  '5F1F 04 00 007E1F', // conformance [APPLICATION 31], 0 unused bits
  '04B0', //              client max receive PDU 1200
];

/** AARE user-information: InitiateResponse, server max PDU 500, VAA 0007 (docs/dlms.md §4.1). */
const INITIATE_RESPONSE_500: InitiateResponse = {
  type: 'initiate-response',
  negotiatedDlmsVersionNumber: 6,
  negotiatedConformance: conformanceFromBits(0x00501f),
  serverMaxReceivePduSize: 500,
  vaaName: 0x0007,
};

describe('AARQ (docs/dlms.md §4.1)', () => {
  it('LN, no security (U9N test_aarq.py, Green Book v10 p.444)', () => {
    vector(
      hx(
        '60 1D', //                          AARQ, 29 octets
        'A1 09 06 07 608574050801 01', //    application-context-name: LN
        ...USER_INFO_1200,
      ),
      { type: 'aarq', applicationContextName: 'LN', userInformation: INITIATE_1200 },
    );
  });

  it('LLS with password "12345678"', () => {
    vector(
      hx(
        '60 36', //                          AARQ
        'A1 09 06 07 608574050801 01', //    context LN
        '8A 02 07 80', //                    acse-requirements: authentication
        '8B 07 608574050802 01', //          mechanism-name: LLS
        'AC 0A 80 08 3132333435363738', //   calling-authentication-value: charstring "12345678"
        ...USER_INFO_1200,
      ),
      {
        type: 'aarq',
        applicationContextName: 'LN',
        senderAcseRequirements: true,
        mechanismName: 'low',
        callingAuthenticationValue: { kind: 'charstring', value: Buffer.from('12345678') },
        userInformation: INITIATE_1200,
      },
    );
  });

  it('HLS-GMAC with CtoS "K56iVagY"', () => {
    const aarq = decodeApdu(
      hx(
        '60 36',
        'A1 09 06 07 608574050801 01',
        '8A 02 07 80',
        '8B 07 608574050802 05', //          mechanism-name: HLS GMAC (5)
        'AC 0A 80 08 4B35366956616759', //   CtoS
        ...USER_INFO_1200,
      ),
    ) as Aarq;
    expect(aarq.mechanismName).toBe('high-gmac');
    expect(aarq.callingAuthenticationValue).toEqual({ kind: 'charstring', value: Buffer.from('K56iVagY') });
    expect(toHex(encodeApdu(aarq))).toContain('8b0760857405080205ac0a80084b35366956616759');
  });

  it('the §8A connect AARQ, client max PDU 65535 and conformance 001E1D', () => {
    const bytes = hx(
      '60 1D',
      'A1 09 06 07 608574050801 01',
      'BE 10 04 0E 01 00 00 00 06',
      '5F1F 04 00 001E1D', // block-transfer get/set/action, multiple-references, get, set, selective-access, action
      'FFFF',
    );
    const aarq = decodeApdu(bytes) as Aarq;
    expect(aarq.userInformation).toEqual({
      type: 'initiate-request',
      responseAllowed: true,
      proposedDlmsVersionNumber: 6,
      proposedConformance: conformance(
        'block-transfer-with-get-or-read',
        'block-transfer-with-set-or-write',
        'block-transfer-with-action',
        'multiple-references',
        'get',
        'set',
        'selective-access',
        'action',
      ),
      clientMaxReceivePduSize: 65535,
    });
    expect(toHex(encodeApdu(aarq))).toBe(toHex(bytes));
  });

  it('ciphered LLS AARQ keeps the glo-initiate-request opaque for the security layer (docs/dlms.md §7)', () => {
    const gloInitiate = hx(
      '21 30', //                           glo-initiate-request, 48 octets
      '30', //                              security control: authenticated + encrypted
      '01234567', //                        invocation counter
      '801302FF8A7874133D414CED25B42534D28DB0047720606B175BD52211BE6841DB204D39EE6FDB8E356855',
    );
    vector(
      hx(
        '60 66',
        'A1 09 06 07 608574050801 03', //    context LN-ciphered
        'A6 0A 04 08 4D4D4D0000BC614E', //   calling-AP-title: client system title
        '8A 02 07 80',
        '8B 07 608574050802 01',
        'AC 0A 80 08 3132333435363738',
        'BE 34 04 32',
        toHex(gloInitiate),
      ),
      {
        type: 'aarq',
        applicationContextName: 'LN-ciphered',
        callingApTitle: hx('4D4D4D0000BC614E'),
        senderAcseRequirements: true,
        mechanismName: 'low',
        callingAuthenticationValue: { kind: 'charstring', value: Buffer.from('12345678') },
        userInformation: { type: 'ciphered', tag: 0x21, raw: gloInitiate },
      },
    );
  });

  it('decodes the deciphered InitiateRequest carrying a dedicated key (docs/dlms.md §7)', () => {
    expect(
      decodeInitiateApdu(
        hx(
          '01', //                                   InitiateRequest
          '01 10 00112233445566778899AABBCCDDEEFF', // dedicated key present, 16 octets
          '00', //                                   response-allowed default
          '00', //                                   no QoS
          '06', //                                   version 6
          '5F1F 04 00 007E1F',
          '04B0',
        ),
      ),
    ).toEqual({ ...INITIATE_1200, dedicatedKey: hx('00112233445566778899AABBCCDDEEFF') });
  });

  it('writes response-allowed FALSE explicitly and a proposed QoS when given', () => {
    const ui: InitiateRequest = { ...INITIATE_1200, responseAllowed: false, proposedQualityOfService: -1 };
    const bytes = encodeApdu({ type: 'aarq', applicationContextName: 'LN', userInformation: ui });
    // OCTET STRING 16 | InitiateRequest | no key | response-allowed present FALSE | QoS present -1 | version
    expect(toHex(bytes)).toContain('0410' + '01' + '00' + '0100' + '01ff' + '06');
    expect((decodeApdu(bytes) as Aarq).userInformation).toEqual(ui);
  });
});

describe('AARE (docs/dlms.md §4.1)', () => {
  const AARE_HEAD = [
    'A1 09 06 07 608574050801 01', // context LN
  ];

  it('accepted, no security (U9N test_aare.py)', () => {
    vector(
      hx(
        '61 29', //                        AARE, 41 octets
        ...AARE_HEAD,
        'A2 03 02 01 00', //               result: accepted
        'A3 05 A1 03 02 01 00', //         result-source-diagnostic: acse-service-user null
        'BE 10 04 0E', //                  user-information
        '08', //                           InitiateResponse
        '00', //                           no QoS
        '06', //                           version 6
        '5F1F 04 00 00501F', //            negotiated conformance
        '01F4', //                         server max receive PDU 500
        '0007', //                         VAA name (LN)
      ),
      {
        type: 'aare',
        applicationContextName: 'LN',
        result: 0,
        resultSourceDiagnostic: { source: 'acse-service-user', value: 0 },
        userInformation: INITIATE_RESPONSE_500,
      },
    );
  });

  it('rejected: application context name not supported', () => {
    const aare = decodeApdu(
      hx('6129', ...AARE_HEAD, 'A203020101', 'A305A103020102', 'BE10040E0800065F1F040000501F01F40007'),
    ) as Aare;
    expect(aare.result).toBe(1);
    expect(aare.resultSourceDiagnostic).toEqual({ source: 'acse-service-user', value: 2 });
  });

  it('version rejected: confirmed-service-error 0E / initiate / dlms-version-too-low', () => {
    vector(
      hx(
        '61 1F',
        ...AARE_HEAD,
        'A2 03 02 01 01', //               rejected-permanent
        'A3 05 A1 03 02 01 01', //         no-reason-given
        'BE 06 04 04', //                  user-information, 4 octets
        '0E 01 06 01', //                  ConfirmedServiceError: initiateError, initiate, dlms-version-too-low
      ),
      {
        type: 'aare',
        applicationContextName: 'LN',
        result: 1,
        resultSourceDiagnostic: { source: 'acse-service-user', value: 1 },
        userInformation: { type: 'confirmed-service-error', service: 1, errorKind: 6, error: 1 },
      },
    );
  });

  it('HLS-GMAC: StoC "P6wRJ21F" with diagnostic 14 authentication-required', () => {
    vector(
      hx(
        '61 42',
        ...AARE_HEAD,
        'A2 03 02 01 00',
        'A3 05 A1 03 02 01 0E', //         authentication-required
        '88 02 07 80', //                  responder-acse-requirements
        '89 07 608574050802 05', //        mechanism-name: GMAC
        'AA 0A 80 08 503677524A323146', // responding-authentication-value: StoC
        'BE 10 04 0E 08 00 06 5F1F0400 00501F 01F4 0007',
      ),
      {
        type: 'aare',
        applicationContextName: 'LN',
        result: 0,
        resultSourceDiagnostic: { source: 'acse-service-user', value: 14 },
        responderAcseRequirements: true,
        mechanismName: 'high-gmac',
        respondingAuthenticationValue: { kind: 'charstring', value: Buffer.from('P6wRJ21F') },
        userInformation: INITIATE_RESPONSE_500,
      },
    );
  });

  it('the §8A connect AARE: server max PDU 1224', () => {
    const aare = decodeApdu(
      hx('6129', ...AARE_HEAD, 'A203020100', 'A305A103020100', 'BE10040E0800065F1F0400001E1D04C80007'),
    ) as Aare;
    expect((aare.userInformation as InitiateResponse).serverMaxReceivePduSize).toBe(1224);
  });

  it('carries a responding-AP-title and an acse-service-provider diagnostic', () => {
    const aare: Aare = {
      type: 'aare',
      applicationContextName: 'LN-ciphered',
      result: 2,
      resultSourceDiagnostic: { source: 'acse-service-provider', value: 2 },
      respondingApTitle: hx('4D4D4D0000BC614E'),
    };
    const bytes = encodeApdu(aare);
    expect(toHex(bytes)).toContain('a305a203020102');
    expect(toHex(bytes)).toContain('a40a04084d4d4d0000bc614e');
    expect(decodeApdu(bytes)).toEqual(aare);
  });
});

describe('RLRQ / RLRE (U9N test_rlrq.py, test_rlre.py)', () => {
  it('reason normal', () => {
    vector(hx('62 03', '80 01 00'), { type: 'rlrq', reason: 0 });
    vector(hx('63 03', '80 01 00'), { type: 'rlre', reason: 0 });
  });

  it('with user-information', () => {
    const rlrq: Apdu = { type: 'rlrq', reason: 1, userInformation: INITIATE_1200 };
    expect(decodeApdu(encodeApdu(rlrq))).toEqual(rlrq);
  });
});

describe('ACSE decode errors', () => {
  it('a missing mandatory field', () => {
    const e = errorOf(() => decodeApdu(hx('61 0B', ...AARE_ONLY_CONTEXT)));
    expect(e.code).toBe(ErrorCode.DecodeInvalid);
    expect(e.message).toContain('result');
  });

  it('an unknown field tag, a truncated length, trailing bytes', () => {
    expect(errorOf(() => decodeApdu(hx('60 0D A1 09 06 07 608574050801 01 9F 00'))).code).toBe(
      ErrorCode.DecodeInvalid,
    );
    expect(errorOf(() => decodeApdu(hx('60 1D A1 09 06 07 608574050801 01'))).code).toBe(
      ErrorCode.DecodeTruncated,
    );
    expect(errorOf(() => decodeApdu(hx('62 03 80 01 00 00'))).code).toBe(ErrorCode.DecodeTrailingBytes);
  });

  it('user-information that is not an initiate APDU', () => {
    const e = errorOf(() => decodeApdu(hx('62 05 BE 03 04 01 C0')));
    expect(e.code).toBe(ErrorCode.DecodeInvalid);
    expect(e.context['path']).toBe('RLRQ.userInformation.octets.tag');
  });

  it('keeps an application context outside the DLMS arc as a raw OID', () => {
    const aarq = decodeApdu(hx('60 07 A1 05 06 03 2A0304')) as Aarq;
    expect(aarq.applicationContextName).toEqual({ oid: hx('2A0304') });
    expect(toHex(encodeApdu(aarq))).toBe('6007a10506032a0304');
  });

  it('refuses to encode without a mandatory field', () => {
    const e = errorOf(() => encodeApdu({ type: 'aare', applicationContextName: 'LN' } as unknown as Apdu));
    expect(e.code).toBe(ErrorCode.EncodeInvalid);
    expect(e.context['path']).toBe('AARE.result');
  });
});

const AARE_ONLY_CONTEXT = ['A1 09 06 07 608574050801 01'];
