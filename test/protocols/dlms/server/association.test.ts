import { fromHex, toHex } from '../../../../src/core/bytes';
import { decodeApdu, encodeApdu, type Aarq } from '../../../../src/protocols/dlms/apdu';
import { conformance } from '../../../../src/protocols/dlms/apdu/conformance';
import type { InitiateRequest } from '../../../../src/protocols/dlms/apdu/xdlms-initiate';
import {
  IDLE,
  afterHlsReply,
  associationStatus,
  evaluateAarq,
  released,
  type AarqInput,
  type AssociationConfig,
  type AssociationState,
} from '../../../../src/protocols/dlms/server';
import { GB, LLS_SECRET } from './fixture';

/**
 * docs/dlms.md §4.1 vectors (U9N test_aarq.py / test_aare.py, "Green Book v10 p.444") and the
 * association state machine as a transition table.
 */
const AARQ_LN = fromHex(
  [
    '60 1D', // AARQ, 29 octets
    'A1 09 06 07 60857405080101', // application-context-name LN
    'BE 10 04 0E', // user-information: OCTET STRING of 14
    '01 00 00 00 06', // InitiateRequest: no dedicated key, response-allowed default, no QoS, version 6
    '5F1F 04 00 007E1F', // proposed conformance
    '04B0', // client max receive PDU 1200
  ].join(''),
);

const AARE_ACCEPTED = fromHex(
  [
    '61 29', // AARE
    'A1 09 06 07 60857405080101', // LN
    'A2 03 02 01 00', // result accepted
    'A3 05 A1 03 02 01 00', // acse-service-user null
    'BE 10 04 0E', // user-information
    '08 00 06', // InitiateResponse, no QoS, version 6
    '5F1F 04 00 00501F', // negotiated conformance
    '01F4', // server max receive PDU 500
    '0007', // VAA name (LN)
  ].join(''),
);

/** LLS "12345678" (docs/dlms.md §4.1; the elided user-information completed with AARQ_LN's). */
const AARQ_LLS = fromHex(
  [
    '60 36',
    'A1 09 06 07 60857405080101',
    '8A 02 07 80', // acse-requirements: authentication
    '8B 07 60857405080201', // mechanism LLS
    'AC 0A 80 08 3132333435363738', // calling-authentication-value "12345678"
    'BE 10 04 0E 01000000 06 5F1F0400007E1F 04B0',
  ].join(''),
);

/** Conformance of the AARE vector: 00501F = bits 9, 11, 19-23. */
const VECTOR_SERVER_CONFORMANCE = conformance(
  'priority-mgmt-supported',
  'block-transfer-with-get-or-read',
  'get',
  'set',
  'selective-access',
  'event-notification',
  'action',
);

const PUBLIC: AssociationConfig = {
  name: 'public',
  clientSap: 16,
  mechanism: 'none',
  conformance: VECTOR_SERVER_CONFORMANCE,
};
const READER: AssociationConfig = { name: 'reader', clientSap: 3, mechanism: 'low' };
const MGMT: AssociationConfig = {
  name: 'management',
  clientSap: 1,
  mechanism: 'high-gmac',
  securitySetup: '0-0:43.0.0.255',
};

function aarq(bytes: Buffer): Aarq {
  const a = decodeApdu(bytes);
  if (a.type !== 'aarq') throw new Error('not an AARQ');
  return a;
}

function input(
  a: Aarq,
  association: AssociationConfig | undefined,
  extra: Partial<AarqInput> = {},
): AarqInput {
  const ui = a.userInformation;
  return {
    aarq: a,
    initiate: ui?.type === 'initiate-request' ? { kind: 'plain', request: ui } : { kind: 'missing' },
    clientSap: association?.clientSap ?? 99,
    serverSap: 1,
    association,
    secret: association?.mechanism === 'low' ? LLS_SECRET : undefined,
    security: { systemTitle: GB.serverSystemTitle, policy: 0 },
    stoc: Buffer.from('P6wRJ21F', 'latin1'),
    serverMaxReceivePduSize: 500,
    ...extra,
  };
}

function withInitiate(a: Aarq, change: Partial<InitiateRequest>): Aarq {
  const ui = a.userInformation as InitiateRequest;
  return { ...a, userInformation: { ...ui, ...change } };
}

describe('evaluateAarq: docs/dlms.md §4.1 vectors', () => {
  it('answers the LN AARQ with the accepted AARE vector, byte for byte', () => {
    const out = evaluateAarq(input(aarq(AARQ_LN), PUBLIC));
    expect(toHex(encodeApdu(out.aare))).toBe(toHex(AARE_ACCEPTED));
    expect(out.state.phase).toBe('associated');
    expect(out.reason).toBe('accepted');
  });

  it('answers version 5 with the "version rejected" user-information BE0604040E010601', () => {
    const out = evaluateAarq(input(withInitiate(aarq(AARQ_LN), { proposedDlmsVersionNumber: 5 }), PUBLIC));
    const hex = toHex(encodeApdu(out.aare));
    expect(hex.endsWith('be0604040e010601')).toBe(true);
    expect(out.aare.result).toBe(1);
    expect(out.state).toBe(IDLE);
  });

  it('accepts the LLS vector with the right secret', () => {
    const out = evaluateAarq(input(aarq(AARQ_LLS), READER));
    expect(out.state.phase).toBe('associated');
    expect(out.aare.mechanismName).toBe('low');
  });
});

describe('evaluateAarq: transition table', () => {
  const hls: Aarq = {
    type: 'aarq',
    applicationContextName: 'LN',
    callingApTitle: GB.clientSystemTitle,
    senderAcseRequirements: true,
    mechanismName: 'high-gmac',
    callingAuthenticationValue: { kind: 'charstring', value: Buffer.from('K56iVagY', 'latin1') },
    userInformation: aarq(AARQ_LN).userInformation,
  };
  const rows: Array<
    [
      string,
      AarqInput,
      { phase: AssociationState['phase']; result: number; diagnostic: number; reason: string },
    ]
  > = [
    [
      'unknown client SAP',
      input(aarq(AARQ_LN), undefined),
      { phase: 'idle', result: 1, diagnostic: 1, reason: 'unknown-client' },
    ],
    [
      'SN context',
      input({ ...aarq(AARQ_LN), applicationContextName: 'SN' }, PUBLIC),
      { phase: 'idle', result: 1, diagnostic: 2, reason: 'context' },
    ],
    [
      'LN-ciphered without a security setup',
      input({ ...aarq(AARQ_LN), applicationContextName: 'LN-ciphered' }, PUBLIC),
      { phase: 'idle', result: 1, diagnostic: 2, reason: 'context' },
    ],
    [
      'plain LN context under policy 3',
      input({ ...hls }, MGMT, { security: { systemTitle: GB.serverSystemTitle, policy: 3 } }),
      { phase: 'idle', result: 1, diagnostic: 2, reason: 'context' },
    ],
    [
      'no mechanism where LLS is required',
      input(aarq(AARQ_LN), READER),
      { phase: 'idle', result: 1, diagnostic: 12, reason: 'mechanism-required' },
    ],
    [
      'LLS where none is configured',
      input(aarq(AARQ_LLS), PUBLIC),
      { phase: 'idle', result: 1, diagnostic: 11, reason: 'mechanism' },
    ],
    [
      'mechanism MD5',
      input({ ...aarq(AARQ_LLS), mechanismName: 'high-md5' }, READER),
      { phase: 'idle', result: 1, diagnostic: 11, reason: 'mechanism' },
    ],
    [
      'wrong LLS secret',
      input(aarq(AARQ_LLS), READER, { secret: Buffer.from('87654321') }),
      { phase: 'idle', result: 1, diagnostic: 13, reason: 'lls-failure' },
    ],
    ['HLS-GMAC', input(hls, MGMT), { phase: 'pending', result: 0, diagnostic: 14, reason: 'hls-pending' }],
    [
      'HLS-GMAC without calling-AP-title',
      input({ ...hls, callingApTitle: undefined }, MGMT),
      { phase: 'idle', result: 1, diagnostic: 13, reason: 'hls-request' },
    ],
    [
      'HLS-GMAC with a 7-byte CtoS',
      input({ ...hls, callingAuthenticationValue: { kind: 'charstring', value: Buffer.alloc(7) } }, MGMT),
      { phase: 'idle', result: 1, diagnostic: 13, reason: 'hls-request' },
    ],
    [
      'no user-information',
      input({ ...aarq(AARQ_LN), userInformation: undefined }, PUBLIC),
      { phase: 'idle', result: 1, diagnostic: 1, reason: 'no-initiate' },
    ],
    [
      'undecipherable initiate',
      input(aarq(AARQ_LN), PUBLIC, { initiate: { kind: 'undecipherable', reason: 'SessionCipherFailed' } }),
      { phase: 'idle', result: 1, diagnostic: 1, reason: 'initiate-SessionCipherFailed' },
    ],
    [
      'no common conformance',
      input(withInitiate(aarq(AARQ_LN), { proposedConformance: conformance('information-report') }), PUBLIC),
      { phase: 'idle', result: 1, diagnostic: 1, reason: 'conformance' },
    ],
    [
      'client PDU 32 < 64',
      input(withInitiate(aarq(AARQ_LN), { clientMaxReceivePduSize: 32 }), PUBLIC),
      { phase: 'idle', result: 1, diagnostic: 1, reason: 'pdu-size' },
    ],
    [
      'client PDU 0 = unlimited',
      input(withInitiate(aarq(AARQ_LN), { clientMaxReceivePduSize: 0 }), PUBLIC),
      { phase: 'associated', result: 0, diagnostic: 0, reason: 'accepted' },
    ],
  ];
  it.each(rows)('%s', (_name, i, want) => {
    const out = evaluateAarq(i);
    expect({
      phase: out.state.phase,
      result: out.aare.result,
      diagnostic: out.aare.resultSourceDiagnostic.value,
      reason: out.reason,
    }).toEqual(want);
  });

  it('initiate errors carry the InitiateError value (2 conformance, 3 PDU size)', () => {
    const conf = evaluateAarq(
      input(withInitiate(aarq(AARQ_LN), { proposedConformance: conformance('information-report') }), PUBLIC),
    );
    expect(conf.aare.userInformation).toEqual({
      type: 'confirmed-service-error',
      service: 1,
      errorKind: 6,
      error: 2,
    });
    const pdu = evaluateAarq(input(withInitiate(aarq(AARQ_LN), { clientMaxReceivePduSize: 32 }), PUBLIC));
    expect(pdu.aare.userInformation).toEqual({
      type: 'confirmed-service-error',
      service: 1,
      errorKind: 6,
      error: 3,
    });
  });

  it('HLS AARE carries StoC, the mechanism and the server system title', () => {
    const out = evaluateAarq(input(hls, MGMT));
    expect(out.aare.respondingAuthenticationValue).toEqual({
      kind: 'charstring',
      value: Buffer.from('P6wRJ21F', 'latin1'),
    });
    expect(out.aare.mechanismName).toBe('high-gmac');
    expect(out.aare.respondingApTitle).toEqual(GB.serverSystemTitle);
    expect(out.state.phase === 'pending' && out.state.ctos.toString('latin1')).toBe('K56iVagY');
    const hex = toHex(encodeApdu(out.aare));
    // docs/dlms.md §4.1: "…A305A10302010E88020780890760857405080205AA0A8008503677524A323146…";
    // this server also sends A4 (responding-AP-title) between them, in ASN.1 tag order
    // (modelled: §10 item 4 has no HLS5 example with A4).
    expect(hex).toContain(
      'a305a10302010e' + 'a40a04084d4d4d0000bc614e' + '88020780890760857405080205aa0a8008503677524a323146',
    );
  });
});

describe('association transitions', () => {
  const pending = evaluateAarq(
    input(
      {
        type: 'aarq',
        applicationContextName: 'LN',
        callingApTitle: GB.clientSystemTitle,
        mechanismName: 'high-gmac',
        callingAuthenticationValue: { kind: 'charstring', value: Buffer.alloc(8, 1) },
        userInformation: aarq(AARQ_LN).userInformation,
      },
      MGMT,
    ),
  ).state;
  const associated = evaluateAarq(input(aarq(AARQ_LN), PUBLIC)).state;
  const rows: Array<[string, AssociationState, (s: AssociationState) => AssociationState, string, string]> = [
    ['pending + f ok', pending, (s) => afterHlsReply(s, true), 'associated', 'associated'],
    ['pending + f bad', pending, (s) => afterHlsReply(s, false), 'idle', 'non-associated'],
    ['associated + f', associated, (s) => afterHlsReply(s, true), 'associated', 'associated'],
    ['idle + f', IDLE, (s) => afterHlsReply(s, true), 'idle', 'non-associated'],
    ['associated + release', associated, released, 'idle', 'non-associated'],
    ['pending + release', pending, released, 'idle', 'non-associated'],
  ];
  it.each(rows)('%s', (_n, from, step, phase, status) => {
    const to = step(from);
    expect(to.phase).toBe(phase);
    expect(associationStatus(to)).toBe(status);
  });
  it('pending reports association-pending', () => {
    expect(associationStatus(pending)).toBe('association-pending');
  });
});
