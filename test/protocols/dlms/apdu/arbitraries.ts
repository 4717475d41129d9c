import fc from 'fast-check';
import type {
  Apdu,
  AttributeDescriptor,
  AttributeWithSelection,
  AuthenticationValue,
  ConformanceName,
  DataBlockSA,
  GetDataResult,
  InvokeIdAndPriority,
  MethodDescriptor,
  SelectiveAccess,
  UserInformation,
} from '../../../../src/protocols/dlms/apdu';
import {
  APPLICATION_CONTEXT_NAMES,
  CONFORMANCE_BITS,
  MECHANISM_NAMES,
} from '../../../../src/protocols/dlms/apdu';
import type { ActionOutcome } from '../../../../src/protocols/dlms/apdu/xdlms-action';
import { dataArb } from '../axdr/arbitraries';

/** Random APDUs of every kind, for round-trip and fuzz properties. */

const u8 = fc.integer({ min: 0, max: 255 });
const u16 = fc.integer({ min: 0, max: 0xffff });
const u32 = fc.integer({ min: 0, max: 0xffffffff });
const i8 = fc.integer({ min: -128, max: 127 });
const bytes = (min: number, max: number): fc.Arbitrary<Buffer> =>
  fc.uint8Array({ minLength: min, maxLength: max }).map((a) => Buffer.from(a));
const opt = <T>(a: fc.Arbitrary<T>): fc.Arbitrary<T | undefined> => fc.option(a, { nil: undefined });
const list = <T>(a: fc.Arbitrary<T>): fc.Arbitrary<T[]> => fc.array(a, { maxLength: 3 });

const invoke: fc.Arbitrary<InvokeIdAndPriority> = fc.record({
  invokeId: fc.integer({ min: 0, max: 15 }),
  confirmed: fc.boolean(),
  highPriority: fc.boolean(),
});
const attribute: fc.Arbitrary<AttributeDescriptor> = fc.record({
  classId: u16,
  obis: bytes(6, 6),
  attributeId: i8,
});
const method: fc.Arbitrary<MethodDescriptor> = fc.record({ classId: u16, obis: bytes(6, 6), methodId: i8 });
const access: fc.Arbitrary<SelectiveAccess | undefined> = opt(
  fc.record({ selector: u8, parameters: dataArb }),
);
const withSelection: fc.Arbitrary<AttributeWithSelection> = fc.record({ attribute, access });
const getDataResult: fc.Arbitrary<GetDataResult> = fc.oneof(
  dataArb.map((data): GetDataResult => ({ kind: 'data', data })),
  u8.map((dar): GetDataResult => ({ kind: 'dar', dar })),
);
const block: fc.Arbitrary<DataBlockSA> = fc.record({
  lastBlock: fc.boolean(),
  blockNumber: u32,
  raw: bytes(0, 200),
});
const outcome: fc.Arbitrary<ActionOutcome> = fc.record({ result: u8, returnParameters: opt(getDataResult) });
const conformanceSet = fc.subarray([...CONFORMANCE_BITS]).map((names) => new Set<ConformanceName>(names));

const userInformation: fc.Arbitrary<UserInformation> = fc.oneof(
  fc.record({
    type: fc.constant('initiate-request' as const),
    dedicatedKey: opt(bytes(0, 32)),
    responseAllowed: fc.boolean(),
    proposedQualityOfService: opt(i8),
    proposedDlmsVersionNumber: u8,
    proposedConformance: conformanceSet,
    clientMaxReceivePduSize: u16,
  }),
  fc.record({
    type: fc.constant('initiate-response' as const),
    negotiatedQualityOfService: opt(i8),
    negotiatedDlmsVersionNumber: u8,
    negotiatedConformance: conformanceSet,
    serverMaxReceivePduSize: u16,
    vaaName: u16,
  }),
  fc.record({ type: fc.constant('confirmed-service-error' as const), service: u8, errorKind: u8, error: u8 }),
  fc.tuple(fc.constantFrom(0x21, 0x28), bytes(0, 40)).map(([tag, body]): UserInformation => ({
    type: 'ciphered',
    tag,
    raw: Buffer.concat([Buffer.from([tag]), body]),
  })),
);

/** OIDs outside the DLMS arcs (first octet 0x2A = iso.member-body) so they stay unknown. */
const unknownOid = bytes(1, 10).map((b) => ({ oid: Buffer.concat([Buffer.from([0x2a]), b]) }));
const contextName = fc.oneof(
  fc.constantFrom(...APPLICATION_CONTEXT_NAMES.filter((n) => n !== undefined)),
  unknownOid,
);
const mechanism = fc.oneof(fc.constantFrom(...MECHANISM_NAMES), unknownOid);
const authValue: fc.Arbitrary<AuthenticationValue> = fc.oneof(
  bytes(0, 20).map((value): AuthenticationValue => ({ kind: 'charstring', value })),
  fc
    .tuple(fc.integer({ min: 0, max: 7 }), bytes(0, 20))
    .map(([unusedBits, value]): AuthenticationValue => ({ kind: 'bitstring', unusedBits, value })),
);
const berInt = fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 });

const aarq = fc.record({
  type: fc.constant('aarq' as const),
  protocolVersion: opt(bytes(1, 2)),
  applicationContextName: contextName,
  calledApTitle: opt(bytes(0, 10)),
  calledAeQualifier: opt(bytes(0, 10)),
  calledApInvocationId: opt(berInt),
  calledAeInvocationId: opt(berInt),
  callingApTitle: opt(bytes(8, 8)),
  callingAeQualifier: opt(bytes(0, 10)),
  callingApInvocationId: opt(berInt),
  callingAeInvocationId: opt(berInt),
  senderAcseRequirements: opt(fc.boolean()),
  mechanismName: opt(mechanism),
  callingAuthenticationValue: opt(authValue),
  implementationInformation: opt(bytes(0, 10)),
  userInformation: opt(userInformation),
});

const aare = fc.record({
  type: fc.constant('aare' as const),
  protocolVersion: opt(bytes(1, 2)),
  applicationContextName: contextName,
  result: fc.integer({ min: 0, max: 2 }),
  resultSourceDiagnostic: fc.record({
    source: fc.constantFrom('acse-service-user' as const, 'acse-service-provider' as const),
    value: u8,
  }),
  respondingApTitle: opt(bytes(8, 8)),
  respondingAeQualifier: opt(bytes(0, 10)),
  respondingApInvocationId: opt(berInt),
  respondingAeInvocationId: opt(berInt),
  responderAcseRequirements: opt(fc.boolean()),
  mechanismName: opt(mechanism),
  respondingAuthenticationValue: opt(authValue),
  implementationInformation: opt(bytes(0, 10)),
  userInformation: opt(userInformation),
});

const release = (type: 'rlrq' | 'rlre'): fc.Arbitrary<Apdu> =>
  fc.record({
    type: fc.constant(type),
    reason: opt(fc.integer({ min: 0, max: 30 })),
    userInformation: opt(userInformation),
  });

const xdlms: fc.Arbitrary<Apdu>[] = [
  fc.record({ type: fc.constant('get-request-normal' as const), invoke, attribute, access }),
  fc.record({ type: fc.constant('get-request-next' as const), invoke, blockNumber: u32 }),
  fc.record({ type: fc.constant('get-request-with-list' as const), invoke, attributes: list(withSelection) }),
  fc.record({ type: fc.constant('get-response-normal' as const), invoke, result: getDataResult }),
  fc.record({
    type: fc.constant('get-response-with-datablock' as const),
    invoke,
    lastBlock: fc.boolean(),
    blockNumber: u32,
    result: fc.oneof(
      bytes(0, 200).map((raw) => ({ kind: 'raw' as const, raw })),
      u8.map((dar) => ({ kind: 'dar' as const, dar })),
    ),
  }),
  fc.record({ type: fc.constant('get-response-with-list' as const), invoke, results: list(getDataResult) }),
  fc.record({ type: fc.constant('set-request-normal' as const), invoke, attribute, access, value: dataArb }),
  fc.record({
    type: fc.constant('set-request-with-first-datablock' as const),
    invoke,
    attribute,
    access,
    block,
  }),
  fc.record({ type: fc.constant('set-request-with-datablock' as const), invoke, block }),
  fc.record({
    type: fc.constant('set-request-with-list' as const),
    invoke,
    attributes: list(withSelection),
    values: list(dataArb),
  }),
  fc.record({
    type: fc.constant('set-request-with-list-and-first-datablock' as const),
    invoke,
    attributes: list(withSelection),
    block,
  }),
  fc.record({ type: fc.constant('set-response-normal' as const), invoke, result: u8 }),
  fc.record({ type: fc.constant('set-response-datablock' as const), invoke, blockNumber: u32 }),
  fc.record({
    type: fc.constant('set-response-last-datablock' as const),
    invoke,
    result: u8,
    blockNumber: u32,
  }),
  fc.record({
    type: fc.constant('set-response-last-datablock-with-list' as const),
    invoke,
    results: list(u8),
    blockNumber: u32,
  }),
  fc.record({ type: fc.constant('set-response-with-list' as const), invoke, results: list(u8) }),
  fc.record({
    type: fc.constant('action-request-normal' as const),
    invoke,
    method,
    parameters: opt(dataArb),
  }),
  fc.record({ type: fc.constant('action-request-next-pblock' as const), invoke, blockNumber: u32 }),
  fc.record({
    type: fc.constant('action-request-with-list' as const),
    invoke,
    methods: list(method),
    parameters: list(dataArb),
  }),
  fc.record({ type: fc.constant('action-request-with-first-pblock' as const), invoke, method, block }),
  fc.record({
    type: fc.constant('action-request-with-list-and-first-pblock' as const),
    invoke,
    methods: list(method),
    block,
  }),
  fc.record({ type: fc.constant('action-request-with-pblock' as const), invoke, block }),
  fc.record({
    type: fc.constant('action-response-normal' as const),
    invoke,
    result: u8,
    returnParameters: opt(getDataResult),
  }),
  fc.record({ type: fc.constant('action-response-with-pblock' as const), invoke, block }),
  fc.record({ type: fc.constant('action-response-with-list' as const), invoke, responses: list(outcome) }),
  fc.record({ type: fc.constant('action-response-next-pblock' as const), invoke, blockNumber: u32 }),
  fc.oneof(
    fc.record({
      type: fc.constant('exception-response' as const),
      stateError: u8,
      serviceError: u8.filter((s) => s !== 6),
    }),
    fc.record({
      type: fc.constant('exception-response' as const),
      stateError: u8,
      serviceError: fc.constant(6),
      invocationCounter: u32,
    }),
  ),
  fc
    .tuple(fc.constantFrom(0xc8, 0xcc, 0xd0, 0xdb), bytes(0, 40))
    .map(([tag, body]): Apdu => ({ type: 'ciphered', tag, raw: Buffer.concat([Buffer.from([tag]), body]) })),
];

export const apduArb: fc.Arbitrary<Apdu> = fc.oneof(
  aarq,
  aare,
  release('rlrq'),
  release('rlre'),
  userInformation,
  ...xdlms,
);
