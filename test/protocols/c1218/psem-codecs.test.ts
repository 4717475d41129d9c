import fc from 'fast-check';
import { ErrorCode, SimError } from '../../../src/core/errors';
import { BAUD_CODES, baudFromCode, codeFromBaud } from '../../../src/protocols/c1218/constants';
import { isRetryablePsemCode, psemCodeName, psemError } from '../../../src/protocols/c1218/psem-codes';
import {
  decodeRequest,
  encodeRequest,
  padField,
  tableChecksum,
  userNameText,
  type PsemRequest,
} from '../../../src/protocols/c1218/psem-requests';
import {
  decodeResponse,
  encodeResponse,
  responseShapeFor,
  type PsemResponse,
  type ResponseShape,
} from '../../../src/protocols/c1218/psem-responses';
import {
  IDENT_PACKET,
  IDENT_RESPONSE_ALL_FEATURES_PSEM,
  IDENT_RESPONSE_PACKET,
  LOGON_PACKET,
  NEGOTIATE_PACKET,
  PARTIAL_READ_MT1_PSEM,
  PARTIAL_WRITE_ST5_PACKET,
  READ_MT1_PACKET,
  READ_ST8_PACKET,
  SECURITY_PACKET,
  ST7_SP3_PACKET,
  ST8_RESPONSE_PSEM,
  TERMINATE_PACKET,
  bytes,
} from './vectors';

/** PSEM bytes of a doc packet vector: strip the 6-byte header and the 2-byte CRC. */
const psem = (packet: number[]): Buffer => bytes(packet).subarray(6, packet.length - 2);

function roundTripRequest(wire: Buffer, expected: PsemRequest): void {
  expect(decodeRequest(wire)).toEqual(expected);
  expect(encodeRequest(expected).toString('hex')).toBe(wire.toString('hex'));
}

function roundTripResponse(wire: Buffer, shape: ResponseShape, expected: PsemResponse): void {
  expect(decodeResponse(wire, shape)).toEqual(expected);
  expect(encodeResponse(expected).toString('hex')).toBe(wire.toString('hex'));
}

describe('PSEM requests: vectors from docs/c1218.md §6', () => {
  it('Ident 0x20', () => roundTripRequest(psem(IDENT_PACKET), { service: 'ident' }));
  it('Terminate 0x21', () => roundTripRequest(psem(TERMINATE_PACKET), { service: 'terminate' }));
  it('Negotiate 0x61: 512 B, 2 packets, code 6 = 9600', () =>
    roundTripRequest(psem(NEGOTIATE_PACKET), {
      service: 'negotiate',
      packetSize: 512,
      maxPackets: 2,
      baudCodes: [6],
    }));
  it('Logon 0x50: user id 0, "0000" padded with 0x20', () => {
    const user = Buffer.from('0000      ', 'latin1');
    roundTripRequest(psem(LOGON_PACKET), { service: 'logon', userId: 0, user });
    expect(userNameText(user)).toBe('0000');
  });
  it('Security 0x51: 20 zero bytes (T pads with 0x00)', () =>
    roundTripRequest(psem(SECURITY_PACKET), { service: 'security', password: Buffer.alloc(20) }));
  it('Full read 0x30 of MT1 = 2049', () =>
    roundTripRequest(psem(READ_MT1_PACKET), { service: 'read', tableId: 2049 }));
  it('Full read 0x30 of ST8', () => roundTripRequest(psem(READ_ST8_PACKET), { service: 'read', tableId: 8 }));
  it('Partial write 0x4F of ST5 at offset 0 with checksum B1', () =>
    roundTripRequest(psem(PARTIAL_WRITE_ST5_PACKET), {
      service: 'write',
      tableId: 5,
      offset: 0,
      data: Buffer.from('ABCDE'),
    }));
  it('Full write 0x40 of ST7 (T run_procedure 3, param 00)', () =>
    roundTripRequest(psem(ST7_SP3_PACKET), {
      service: 'write',
      tableId: 7,
      data: Buffer.of(0x03, 0x00, 0xbb, 0x00),
    }));
});

describe('PSEM requests: the rest of §2', () => {
  it('Partial read 0x3F: table, 24-bit offset, 16-bit count', () =>
    roundTripRequest(bytes(PARTIAL_READ_MT1_PSEM), {
      service: 'read',
      tableId: 2049,
      range: { offset: 0x010203, count: 64 },
    }));
  it('Logoff 0x52 and Wait 0x70', () => {
    roundTripRequest(Buffer.of(0x52), { service: 'logoff' });
    roundTripRequest(Buffer.of(0x70, 0x05), { service: 'wait', seconds: 5 });
  });
  it('Negotiate 0x60 (no baud code) and 0x6B (11 codes, incl. M code 11 = 38400)', () => {
    roundTripRequest(Buffer.of(0x60, 0x00, 0x40, 0x01), {
      service: 'negotiate',
      packetSize: 64,
      maxPackets: 1,
      baudCodes: [],
    });
    const codes = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11];
    roundTripRequest(Buffer.of(0x6b, 0x04, 0x00, 0xff, ...codes), {
      service: 'negotiate',
      packetSize: 1024,
      maxPackets: 255,
      baudCodes: codes,
    });
    expect(baudFromCode(11)).toBe(38400);
    expect(codeFromBaud(38400)).toBe(0x0b);
    expect(codeFromBaud(9600)).toBe(6);
    expect([...BAUD_CODES.keys()]).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14]);
  });
  it('Security may carry a C12.22 2-byte user id (W)', () =>
    roundTripRequest(Buffer.concat([Buffer.of(0x51), Buffer.alloc(20, 0x20), Buffer.of(0x00, 0x02)]), {
      service: 'security',
      password: Buffer.alloc(20, 0x20),
      userId: 2,
    }));
  it('unknown codes decode as unsupported, never as errors', () => {
    for (const code of [0x00, 0x22, 0x31, 0x39, 0x3e, 0x4e, 0x53, 0x6c, 0x71, 0xff]) {
      const wire = Buffer.of(code, 0xaa);
      expect(decodeRequest(wire)).toEqual({ service: 'unsupported', code, body: Buffer.of(0xaa) });
      expect(encodeRequest({ service: 'unsupported', code, body: Buffer.of(0xaa) })).toEqual(wire);
    }
    expect(() => encodeRequest({ service: 'unsupported', code: 0x20, body: Buffer.alloc(0) })).toThrow(
      expect.objectContaining({ code: ErrorCode.EncodeInvalid }),
    );
  });
  it('the checksum is the two complement of the byte sum ([O] 41..45 -> B1)', () => {
    expect(tableChecksum(Buffer.from('ABCDE'))).toBe(0xb1);
    expect(tableChecksum(Buffer.alloc(0))).toBe(0);
    expect(tableChecksum(Buffer.of(0x03, 0x00, 0xbb, 0x00))).toBe(0x42);
  });
  it('a bad write checksum fails with the field path', () => {
    const wire = psem(PARTIAL_WRITE_ST5_PACKET);
    wire[wire.length - 1] = 0xb2;
    let err: unknown;
    try {
      decodeRequest(wire);
    } catch (e) {
      err = e;
    }
    expect((err as SimError).code).toBe(ErrorCode.DecodeInvalid);
    expect((err as SimError).context['path']).toBe('PsemPartialWriteRequest.checksum');
  });
  it('wrong lengths fail with DecodeTruncated / DecodeTrailingBytes and a path', () => {
    expect(() => decodeRequest(Buffer.of(0x30, 0x08))).toThrow(/PsemReadRequest.tableId/);
    expect(() => decodeRequest(Buffer.of(0x20, 0x00))).toThrow(
      expect.objectContaining({ code: ErrorCode.DecodeTrailingBytes }),
    );
    expect(() => decodeRequest(Buffer.of(0x51, 0x00))).toThrow(/PsemSecurityRequest.password/);
    expect(() => decodeRequest(Buffer.alloc(0))).toThrow(
      expect.objectContaining({ code: ErrorCode.DecodeTruncated }),
    );
    expect(() => decodeRequest(Buffer.of(0x62, 0x02, 0x00, 0x01, 0x06))).toThrow(/baudCodes\[1\]/);
  });
  it('pads user names and passwords to their fixed width and refuses longer ones', () => {
    expect(padField('0000', 10, 0x20)).toEqual(Buffer.from('0000      '));
    expect(padField('abc', 20, 0x00)).toEqual(Buffer.concat([Buffer.from('abc'), Buffer.alloc(17)]));
    expect(() => padField('x'.repeat(21), 20, 0)).toThrow(
      expect.objectContaining({ code: ErrorCode.EncodeInvalid }),
    );
    expect(() => encodeRequest({ service: 'security', password: Buffer.alloc(19) })).toThrow(
      /must be 20 bytes/,
    );
  });
});

describe('PSEM responses (§2, §6)', () => {
  it('Ident response: ok, C12.18 v1.0, end-of-list', () =>
    roundTripResponse(psem(IDENT_RESPONSE_PACKET), 'ident', {
      kind: 'ident',
      ident: { std: 0, version: 1, revision: 0, features: [] },
    }));
  it('Ident response with every feature code (M, §2)', () =>
    roundTripResponse(bytes(IDENT_RESPONSE_ALL_FEATURES_PSEM), 'ident', {
      kind: 'ident',
      ident: {
        std: 2,
        version: 1,
        revision: 0,
        features: [
          { feature: 'auth', authType: 1, algorithmId: 0 },
          { feature: 'authTicket', authType: 1, algorithmId: 0xff, ticket: Buffer.of(0xaa, 0xbb) },
          { feature: 'deviceClass', element: 0x0d, value: Buffer.of(0x01, 0x02) },
          { feature: 'deviceIdentity', identity: Buffer.of(0x09) },
        ],
      },
    }));
  it('Ident response without the end-of-list byte is tolerated (M reads only 3 bytes)', () =>
    expect(decodeResponse(Buffer.of(0, 0, 1, 0), 'ident')).toEqual({
      kind: 'ident',
      ident: { std: 0, version: 1, revision: 0, features: [] },
    }));
  it('an unknown Ident feature fails with its path', () =>
    expect(() => decodeResponse(Buffer.of(0, 0, 1, 0, 0x09, 0), 'ident')).toThrow(/features\[0\]/));
  it('read response for ST8: 00 0004 0300bb00 42 (§6)', () =>
    roundTripResponse(bytes(ST8_RESPONSE_PSEM), 'read', {
      kind: 'read',
      data: Buffer.of(0x03, 0x00, 0xbb, 0x00),
    }));
  it('read response with a bad checksum fails with the path', () => {
    const wire = bytes(ST8_RESPONSE_PSEM);
    wire[7] = 0x43;
    expect(() => decodeResponse(wire, 'read')).toThrow(/PsemReadResponse.checksum/);
  });
  it('negotiate responses with and without the baud byte', () => {
    roundTripResponse(Buffer.of(0x00, 0x02, 0x00, 0x02, 0x06), 'negotiate', {
      kind: 'negotiate',
      packetSize: 512,
      maxPackets: 2,
      baudCode: 6,
    });
    roundTripResponse(Buffer.of(0x00, 0x00, 0x40, 0x01), 'negotiate', {
      kind: 'negotiate',
      packetSize: 64,
      maxPackets: 1,
    });
  });
  it('plain ok and every error code ok..isss, with extra bytes kept (M)', () => {
    roundTripResponse(Buffer.of(0x00), 'ok', { kind: 'ok' });
    const names = ['err', 'sns', 'isc', 'onp', 'iar', 'bsy', 'dnr', 'dlk', 'rno', 'isss'];
    names.forEach((name, i) => {
      const code = i + 1;
      expect(psemCodeName(code)).toBe(name);
      for (const shape of ['ok', 'read', 'ident', 'negotiate'] as const) {
        roundTripResponse(Buffer.of(code), shape, { kind: 'error', code, extra: Buffer.alloc(0) });
      }
    });
    expect(psemCodeName(0)).toBe('ok');
    roundTripResponse(Buffer.of(0x04, 0xde, 0xad), 'ok', {
      kind: 'error',
      code: 4,
      extra: Buffer.of(0xde, 0xad),
    });
  });
  it('maps each request to its response shape', () => {
    expect(responseShapeFor({ service: 'ident' })).toBe('ident');
    expect(responseShapeFor({ service: 'read', tableId: 1 })).toBe('read');
    expect(responseShapeFor({ service: 'negotiate', packetSize: 64, maxPackets: 1, baudCodes: [] })).toBe(
      'negotiate',
    );
    expect(responseShapeFor({ service: 'logoff' })).toBe('ok');
  });
});

describe('PSEM codes to SimErrors (client side)', () => {
  it.each([
    [0x01, 'read', ErrorCode.ServiceError],
    [0x02, 'read', ErrorCode.ServiceNotSupported],
    [0x03, 'read', ErrorCode.ServiceAccessDenied],
    [0x04, 'write', ErrorCode.ServiceOperationNotPossible],
    [0x05, 'write', ErrorCode.ServiceOperationNotPossible],
    [0x06, 'read', ErrorCode.ServiceBusy],
    [0x07, 'read', ErrorCode.ServiceDataNotReady],
    [0x08, 'write', ErrorCode.ServiceDataLocked],
    [0x09, 'read', ErrorCode.ServiceError],
    [0x0a, 'read', ErrorCode.ServiceBadSequence],
    [0x03, 'security', ErrorCode.SessionAuthFailed],
    [0x08, 'security', ErrorCode.SessionLockedOut],
    [0x03, 'logon', ErrorCode.SessionLogonFailed],
  ])('0x%s on %s -> %s, wire code kept', (code, service, expected) => {
    const e = psemError(code, service, { tableId: 5 });
    expect(e.code).toBe(expected);
    expect(e.context['wireCode']).toBe(code);
    expect(e.context['tableId']).toBe(5);
  });
  it('only bsy and dnr are retryable', () => {
    expect([...Array(11).keys()].filter(isRetryablePsemCode)).toEqual([6, 7]);
  });
});

describe('PSEM codecs: properties', () => {
  const requestArb: fc.Arbitrary<PsemRequest> = fc.oneof(
    fc.constant<PsemRequest>({ service: 'ident' }),
    fc.constant<PsemRequest>({ service: 'terminate' }),
    fc.constant<PsemRequest>({ service: 'logoff' }),
    fc.integer({ min: 0, max: 0xffff }).map((tableId): PsemRequest => ({ service: 'read', tableId })),
    fc
      .tuple(
        fc.integer({ min: 0, max: 0xffff }),
        fc.integer({ min: 0, max: 0xffffff }),
        fc.integer({ min: 0, max: 0xffff }),
      )
      .map(([tableId, offset, count]): PsemRequest => ({
        service: 'read',
        tableId,
        range: { offset, count },
      })),
    fc
      .tuple(
        fc.integer({ min: 0, max: 0xffff }),
        fc.option(fc.integer({ min: 0, max: 0xffffff }), { nil: undefined }),
        fc.uint8Array({ maxLength: 60 }),
      )
      .map(([tableId, offset, data]): PsemRequest =>
        offset === undefined
          ? { service: 'write', tableId, data: Buffer.from(data) }
          : { service: 'write', tableId, offset, data: Buffer.from(data) },
      ),
    fc
      .tuple(fc.integer({ min: 0, max: 0xffff }), fc.uint8Array({ minLength: 10, maxLength: 10 }))
      .map(([userId, user]): PsemRequest => ({ service: 'logon', userId, user: Buffer.from(user) })),
    fc
      .uint8Array({ minLength: 20, maxLength: 20 })
      .map((p): PsemRequest => ({ service: 'security', password: Buffer.from(p) })),
    fc
      .tuple(
        fc.integer({ min: 0, max: 0xffff }),
        fc.integer({ min: 0, max: 255 }),
        fc.array(fc.integer({ min: 0, max: 255 }), { maxLength: 11 }),
      )
      .map(([packetSize, maxPackets, baudCodes]): PsemRequest => ({
        service: 'negotiate',
        packetSize,
        maxPackets,
        baudCodes,
      })),
    fc.integer({ min: 0, max: 255 }).map((seconds): PsemRequest => ({ service: 'wait', seconds })),
  );

  it('every request round-trips encode -> decode', () => {
    fc.assert(
      fc.property(requestArb, (req) => {
        expect(decodeRequest(encodeRequest(req))).toEqual(req);
      }),
      { numRuns: 3000 },
    );
  });

  it('random and mutated requests decode to a value or a coded SimError with a path', () => {
    const mutated = fc
      .tuple(requestArb, fc.nat(), fc.integer({ min: 0, max: 255 }), fc.integer({ min: -3, max: 3 }))
      .map(([req, pos, v, cut]) => {
        const b = Buffer.from(encodeRequest(req));
        b[pos % b.length] = v;
        return cut < 0
          ? b.subarray(0, Math.max(0, b.length + cut))
          : Buffer.concat([b, Buffer.alloc(cut, v)]);
      });
    fc.assert(
      fc.property(fc.oneof(fc.uint8Array({ maxLength: 40 }), mutated), (input) => {
        const before = Buffer.from(input);
        try {
          const req = decodeRequest(input);
          expect(typeof req.service).toBe('string');
        } catch (e) {
          expect(e).toBeInstanceOf(SimError);
          expect((e as SimError).layer).toBe('framing');
          expect(typeof (e as SimError).context['path']).toBe('string');
        }
        expect(Buffer.from(input).equals(before)).toBe(true);
      }),
      { numRuns: 5000 },
    );
  });

  it('random responses of every shape decode to a value or a coded SimError', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ maxLength: 40 }),
        fc.constantFrom<ResponseShape>('ok', 'read', 'ident', 'negotiate'),
        (input, shape) => {
          try {
            const r = decodeResponse(input, shape);
            // Whatever decoded re-encodes to the same bytes, except a tolerated missing end-of-list.
            if (!(r.kind === 'ident' && input[input.length - 1] !== 0))
              expect(encodeResponse(r)).toEqual(Buffer.from(input));
          } catch (e) {
            expect(e).toBeInstanceOf(SimError);
          }
        },
      ),
      { numRuns: 5000 },
    );
  });
});
