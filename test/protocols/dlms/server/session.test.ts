import { fromHex, toHex } from '../../../../src/core/bytes';
import { ErrorCode, SimError } from '../../../../src/core/errors';
import { encodeApdu } from '../../../../src/protocols/dlms/apdu';
import { conformance } from '../../../../src/protocols/dlms/apdu/conformance';
import { rangeAccess } from '../../../../src/protocols/dlms/apdu/selective-access';
import { axdr } from '../../../../src/protocols/dlms/axdr/builders';
import { ClassId, CosemRegistry } from '../../../../src/protocols/dlms/cosem';
import { cipherApdu, hlsGmacResponse } from '../../../../src/protocols/dlms/security';
import { DlmsServer, type ServerSession } from '../../../../src/protocols/dlms/server';
import { buildMeter, GB, OBIS } from './fixture';

/**
 * ServerSession fed with APDU bytes directly: what the meter answers in each association state,
 * byte vectors from docs/dlms.md §4 where there are some.
 */

const AARQ_LN = fromHex('601DA109060760857405080101BE10040E01000000065F1F0400007E1F04B0');
/** The same, proposing only get (bit 19): 5F1F 04 00 000010. */
const AARQ_GET_ONLY = fromHex('601DA109060760857405080101BE10040E01000000065F1F040000001004B0');
/** The same, client max receive PDU 0x0040 = 64. */
const AARQ_PDU64 = fromHex('601DA109060760857405080101BE10040E01000000065F1F0400007E1F0040');
/** docs/dlms.md §4.2 / §8C: GET 0-0:43.1.0.255 attribute 2, invoke C1. */
const GET_IC = fromHex('C001C1000100002B0100FF0200');

async function associated(
  client = 16,
  aarq = AARQ_LN,
): Promise<{ s: ServerSession; meter: ReturnType<typeof buildMeter> }> {
  const meter = buildMeter();
  const s = meter.server.createSession({ client, server: 1 });
  const aare = await s.handle(aarq);
  expect(aare![0]).toBe(0x61);
  expect(s.state.phase).toBe('associated');
  return { s, meter };
}

const hex = (b: Buffer | undefined): string => (b ? toHex(b) : 'silence');

describe('ServerSession: before association', () => {
  const rows: Array<[string, string, string]> = [
    ['GET before AARQ', 'C001C1000100002B0100FF0200', 'd80101'],
    ['unknown APDU tag', 'FF0102', 'd80202'],
    ['empty APDU', '', 'd80202'],
    ['ciphered GET before AARQ', 'C8123001234567', 'd80101'],
    ['RLRQ when idle (docs/dlms.md §4.1 vector)', '6203800100', '6303800100'],
  ];
  it.each(rows)('%s', async (_n, input, want) => {
    const s = buildMeter().server.createSession({ client: 16, server: 1 });
    const out = hex(await s.handle(fromHex(input)));
    expect(out.startsWith(want)).toBe(true);
    expect(s.state.phase).toBe('idle');
  });

  it('a malformed AARQ is rejected permanent, no-reason-given', async () => {
    const s = buildMeter().server.createSession({ client: 16, server: 1 });
    const out = hex(await s.handle(fromHex('6003A10106')));
    expect(out).toBe('6117a109060760857405080101a203020101a305a103020101');
  });
});

describe('ServerSession: associated (public, no security)', () => {
  it('GET answers the §8C vector', async () => {
    const { s } = await associated();
    expect(hex(await s.handle(GET_IC))).toBe('c401c1000600001391');
  });

  it('answers DARs and exceptions per request', async () => {
    const { s } = await associated();
    const rows: Array<[string, string]> = [
      // Unknown object 0-0:96.99.9.255 -> object-undefined (4).
      ['C001C100010000636309FF0200', 'c401c10104'],
      // Serial number is hidden from public -> read-write-denied (3).
      ['C001C1000100006001 00FF0200', 'c401c10103'],
      // Right logical name, wrong class (3 instead of 1) -> object-class-inconsistent (9).
      ['C001C1000300002B0100FF0200', 'c401c10109'],
      // Attribute 9 of a Data object does not exist -> object-undefined.
      ['C001C1000100002B0100FF0900', 'c401c10104'],
      // GET-Request-Next with no long GET -> datablock, last, DAR no-long-get (16).
      ['C002C100000001', 'c402c101000000010110'],
      // SET on a read-only attribute -> read-write-denied.
      ['C101C100080000010000FF0200090C07E50118FF0E303950FFC400', 'c501c103'],
      // Unconfirmed SET (invoke 0x81: confirmed bit clear) -> executed, no answer.
      ['C1018100080000010000FF0200090C07E50118FF0E303950FFC400', 'silence'],
      // ACTION without method access -> read-write-denied.
      ['C301C100030100010800FF01010F00', 'c701c10300'],
      // Action-request-with-list is not served.
      ['C303C10100030100010800FF01010F00', 'd80102'],
      // A GET-Response sent to the server -> service unknown.
      ['C401C1000600001391', 'd80202'],
      // A malformed GET (truncated descriptor) -> service-not-allowed / other.
      ['C001C10001', 'd80103'],
    ];
    for (const [input, want] of rows)
      expect([input, hex(await s.handle(fromHex(input)))]).toEqual([input, want]);
    expect(s.state.phase).toBe('associated');
  });

  it('a service that was not negotiated is refused with an exception', async () => {
    const { s } = await associated(16, AARQ_GET_ONLY);
    expect(hex(await s.handle(GET_IC))).toBe('c401c1000600001391');
    expect(hex(await s.handle(fromHex('C101C100080000010000FF0200090C07E50118FF0E303950FFC400')))).toBe(
      'd80102',
    );
    // Selective access needs the selective-access bit.
    const ranged = encodeApdu({
      type: 'get-request-normal',
      invoke: { invokeId: 1, confirmed: true, highPriority: true },
      attribute: { classId: 7, obis: fromHex('0100630100FF'), attributeId: 2 },
      access: rangeAccess({
        restrictingObject: { classId: 8, obis: fromHex('0000010000FF'), attributeId: 2, dataIndex: 0 },
        from: axdr.octets(Buffer.alloc(12, 0xff)),
        to: axdr.octets(Buffer.alloc(12, 0xff)),
        selectedValues: [],
      }),
    });
    expect(hex(await s.handle(ranged))).toBe('d80102');
  });

  it('an APDU longer than the server max receive PDU is refused pdu-too-long', async () => {
    const { s } = await associated();
    const long = Buffer.concat([fromHex('C101C1000100002B0100FF020009820438'), Buffer.alloc(1080)]);
    expect(hex(await s.handle(long))).toBe('d80104');
  });

  it('GET block transfer: blocks fit the 64-byte client PDU; a wrong block number aborts', async () => {
    const { s } = await associated(16, AARQ_PDU64);
    // The object_list of the public association is longer than 64 bytes.
    const first = (await s.handle(fromHex('C001C1000F0000280000FF0200')))!;
    expect(first.subarray(0, 8)).toEqual(fromHex('C402C100 00000001'));
    expect(first.length).toBeLessThanOrEqual(64);
    const second = (await s.handle(fromHex('C002C100000001')))!;
    expect(second.subarray(0, 8)).toEqual(fromHex('C402C100 00000002'));
    // Asking for the block after 7 while 2 was sent -> data-block-number-invalid (19), transfer over.
    expect(hex(await s.handle(fromHex('C002C100000007')))).toBe('c402c101000000070113');
    expect(hex(await s.handle(fromHex('C002C100000002')))).toBe('c402c101000000020110');
  });

  it('RLRQ ends the association (docs/dlms.md §4.1 RLRQ/RLRE vectors)', async () => {
    const { s } = await associated();
    expect(hex(await s.handle(fromHex('6203800100')))).toBe('6303800100');
    expect(s.state.phase).toBe('idle');
    expect(hex(await s.handle(GET_IC))).toBe('d80101');
  });

  it('an AARQ with response-allowed FALSE associates silently', async () => {
    const s = buildMeter().server.createSession({ client: 16, server: 1 });
    // InitiateRequest: 01 | 00 no dedicated key | 01 00 response-allowed FALSE | 00 | 06 | conformance | pdu.
    const aarq = fromHex('601EA109060760857405080101BE11040F0100010000065F1F0400007E1F04B0');
    expect(await s.handle(aarq)).toBeUndefined();
    expect(s.state.phase).toBe('associated');
  });

  it('ciphered APDUs in a plain LN context are a deciphering error', async () => {
    const { s } = await associated();
    const c = cipherApdu(GET_IC, {
      security: 0x30,
      ic: 1,
      systemTitle: GB.clientSystemTitle,
      ek: GB.ek,
      ak: GB.ak,
    });
    expect(hex(await s.handle(c))).toBe('d80105');
  });
});

describe('ServerSession: HLS pending', () => {
  it('serves only reply_to_HLS_authentication until f(StoC) verifies', async () => {
    const meter = buildMeter({ stoc: Buffer.from('P6wRJ21F', 'latin1') });
    const s = meter.server.createSession({ client: 1, server: 1 });
    const aare = await s.handle(
      encodeApdu({
        type: 'aarq',
        applicationContextName: 'LN',
        callingApTitle: GB.clientSystemTitle,
        senderAcseRequirements: true,
        mechanismName: 'high-gmac',
        callingAuthenticationValue: { kind: 'charstring', value: Buffer.from('K56iVagY', 'latin1') },
        userInformation: {
          type: 'initiate-request',
          responseAllowed: true,
          proposedDlmsVersionNumber: 6,
          proposedConformance: conformance('get', 'set', 'action'),
          clientMaxReceivePduSize: 1200,
        },
      }),
    );
    expect(hex(aare)).toContain('a305a10302010e');
    expect(s.state.phase).toBe('pending');
    expect(hex(await s.handle(GET_IC))).toBe('c401c10103');
    expect(hex(await s.handle(fromHex('C101C100080000010000FF0200090C07E50118FF0E303950FFC400')))).toBe(
      'c501c103',
    );
    expect(hex(await s.handle(fromHex('C301C100030100010800FF01010F00')))).toBe('c701c10300');
    expect(s.state.phase).toBe('pending');
    const f = hlsGmacResponse({
      ek: GB.ek,
      ak: GB.ak,
      challenge: Buffer.from('P6wRJ21F'),
      systemTitle: GB.clientSystemTitle,
      ic: 1,
    });
    const reply = await s.handle(
      encodeApdu({
        type: 'action-request-normal',
        invoke: { invokeId: 1, confirmed: true, highPriority: true },
        method: { classId: ClassId.AssociationLn, obis: fromHex('0000280000FF'), methodId: 1 },
        parameters: axdr.octets(f),
      }),
    );
    expect(hex(reply).startsWith('c701c10001000911')).toBe(true);
    expect(s.state.phase).toBe('associated');
    expect(hex(await s.handle(GET_IC))).toBe('c401c1000600001391');
  });
});

describe('ServerSession: callbacks that fail never crash the server', () => {
  it('a throwing getter answers hardware-fault / other and reports a fault', async () => {
    const registry = new CosemRegistry();
    registry.add({
      classId: 1,
      obis: '0-0:96.1.0.255',
      attributes: {
        2: {
          get: () => {
            throw new SimError(ErrorCode.DeviceStorageFailed, 'disk on fire');
          },
        },
      },
      access: { '*': 'read-only' },
    });
    registry.add({
      classId: 1,
      obis: '0-0:96.1.1.255',
      attributes: {
        2: {
          get: () => {
            throw new Error('plain bug');
          },
        },
      },
      access: { '*': 'read-only' },
    });
    // A getter that returns something the encoder refuses (unsigned 300).
    registry.add({
      classId: 1,
      obis: '0-0:96.1.2.255',
      attributes: { 2: { get: () => axdr.u8(300) } },
      access: { '*': 'read-only' },
    });
    const server = new DlmsServer({
      logicalDevices: [
        { sap: 1, registry, associations: [{ name: 'public', clientSap: 16, mechanism: 'none' }] },
      ],
    });
    const faults: string[] = [];
    server.on('fault', (f) => faults.push(f.where));
    const s = server.createSession({ client: 16, server: 1 });
    await s.handle(AARQ_LN);
    expect(hex(await s.handle(fromHex('C001C100010000600100FF0200')))).toBe('c401c10101');
    expect(hex(await s.handle(fromHex('C001C100010000600101FF0200')))).toBe('c401c101fa');
    expect(hex(await s.handle(fromHex('C001C100010000600102FF0200')))).toBe('c401c101fa');
    expect(faults).toEqual(['get 0-0:96.1.0.255/2', 'get 0-0:96.1.1.255/2', 'get: encode']);
  });
});

describe('DlmsServer configuration', () => {
  it('refuses two logical devices with the same SAP', () => {
    const registry = new CosemRegistry();
    const ld = { sap: 1, registry, associations: [] };
    expect(() => new DlmsServer({ logicalDevices: [ld, { ...ld, registry: new CosemRegistry() }] })).toThrow(
      expect.objectContaining({ code: ErrorCode.ConfigInvalid }) as Error,
    );
  });

  it('adds the current association object and the security setup object to the registry', () => {
    const meter = buildMeter();
    expect(meter.registry.has('0-0:40.0.0.255')).toBe(true);
    expect(meter.registry.has('0-0:43.0.0.255')).toBe(true);
    expect(meter.registry.has(OBIS.clock)).toBe(true);
  });
});
