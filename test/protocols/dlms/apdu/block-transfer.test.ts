import fc from 'fast-check';
import { hx } from '../../../helpers/vectors';
import { toHex } from '../../../../src/core/bytes';
import { ErrorCode } from '../../../../src/core/errors';
import { axdr, encodeData, type Data } from '../../../../src/protocols/dlms/axdr';
import {
  DEFAULT_INVOKE,
  checkSetResponse,
  continueGetTransfer,
  decodeApdu,
  encodeApdu,
  entryAccess,
  maxChunkSize,
  parseObis,
  splitSetRequest,
  startGetReassembly,
  startGetTransfer,
  startSetReassembly,
  stepGetReassembly,
  stepSetReassembly,
  type AttributeDescriptor,
  type GetResponseWithDatablock,
  type GetTransferState,
  type SetReassemblyState,
  type SetResponse,
  type SelectiveAccess,
  type SetRequestWithDatablock,
  type SetRequestWithFirstDatablock,
} from '../../../../src/protocols/dlms/apdu';
import { dataArb } from '../axdr/arbitraries';

/** An object_list-like value big enough to need several blocks. */
const bigValue: Data = axdr.array(
  ...Array.from({ length: 40 }, (_, i) =>
    axdr.struct(axdr.u16(1), axdr.u8(0), axdr.octets(Buffer.from([0, 0, 96, 1, i, 255])), axdr.array()),
  ),
);

/** Run a whole GET transfer through the wire encoding; returns the APDUs sent by the server. */
function runGet(value: Data, maxPdu: number): { data: Data; sent: Buffer[] } {
  const first = startGetTransfer(DEFAULT_INVOKE, value, maxPdu);
  const sent = [encodeApdu(first.response)];
  if (first.response.type === 'get-response-normal') {
    const back = decodeApdu(sent[0]!);
    if (back.type !== 'get-response-normal' || back.result.kind !== 'data')
      throw new Error('bad normal response');
    return { data: back.result.data, sent };
  }
  let server: GetTransferState | undefined = first.state;
  let client = startGetReassembly();
  let response = decodeApdu(sent[0]!) as GetResponseWithDatablock;
  for (;;) {
    const step = stepGetReassembly(client, response);
    if (step.kind === 'failed') throw step.error;
    if (step.kind === 'complete') return { data: step.data, sent };
    client = step.state;
    const request = decodeApdu(encodeApdu(step.request));
    if (request.type !== 'get-request-next') throw new Error('expected get-request-next');
    const next = continueGetTransfer(server, request);
    server = next.state;
    sent.push(encodeApdu(next.response));
    response = decodeApdu(sent[sent.length - 1]!) as GetResponseWithDatablock;
  }
}

describe('GET block transfer', () => {
  it('answers normally when the response fits', () => {
    const step = startGetTransfer(DEFAULT_INVOKE, axdr.u32(5009), 9);
    expect(toHex(encodeApdu(step.response))).toBe('c401c1000600001391');
    expect(step.state).toBeUndefined();
  });

  it('splits into blocks that each fit maxPdu and reassembles the same value', () => {
    const { data, sent } = runGet(bigValue, 64);
    expect(data).toEqual(bigValue);
    expect(sent.length).toBeGreaterThan(5);
    expect(sent.every((b) => b.length <= 64)).toBe(true);
    const blocks = sent.map((b) => decodeApdu(b) as GetResponseWithDatablock);
    expect(blocks.map((b) => b.blockNumber)).toEqual(blocks.map((_, i) => i + 1));
    expect(blocks.map((b) => b.lastBlock)).toEqual(blocks.map((_, i) => i === blocks.length - 1));
    expect(
      Buffer.concat(blocks.map((b) => (b.result.kind === 'raw' ? b.result.raw : Buffer.alloc(0)))),
    ).toEqual(encodeData(bigValue));
  });

  it('the client answers the §8B first block with exactly `C002C100000001`', () => {
    const block1 = decodeApdu(hx('C402C1 00 00000001 00 02 0150')) as GetResponseWithDatablock;
    const step = stepGetReassembly(startGetReassembly(), block1);
    expect(step.kind).toBe('next');
    if (step.kind === 'next') expect(toHex(encodeApdu(step.request))).toBe('c002c100000001');
  });

  it('the server aborts a Next for the wrong block with data-block-number-invalid', () => {
    const first = startGetTransfer(DEFAULT_INVOKE, bigValue, 64);
    const wrong = continueGetTransfer(first.state, {
      type: 'get-request-next',
      invoke: DEFAULT_INVOKE,
      blockNumber: 7,
    });
    expect(wrong.state).toBeUndefined();
    expect(toHex(encodeApdu(wrong.response))).toBe('c402c1' + '01' + '00000007' + '01' + '13');
  });

  it('a Next with no transfer in progress gets no-long-get', () => {
    const r = continueGetTransfer(undefined, {
      type: 'get-request-next',
      invoke: DEFAULT_INVOKE,
      blockNumber: 1,
    });
    expect(r.response).toMatchObject({ lastBlock: true, result: { kind: 'dar', dar: 16 } });
  });

  it('the client fails on a DAR, a block out of order, too much data or garbage', () => {
    const blk = (n: number, last: boolean, raw: string): GetResponseWithDatablock => ({
      type: 'get-response-with-datablock',
      invoke: DEFAULT_INVOKE,
      lastBlock: last,
      blockNumber: n,
      result: { kind: 'raw', raw: hx(raw) },
    });
    const dar = stepGetReassembly(startGetReassembly(), {
      ...blk(1, true, ''),
      result: { kind: 'dar', dar: 15 },
    });
    expect(dar).toMatchObject({
      kind: 'failed',
      error: { code: ErrorCode.ServiceError, context: { dar: 15 } },
    });
    const order = stepGetReassembly(startGetReassembly(), blk(2, false, '01'));
    expect(order).toMatchObject({ kind: 'failed', error: { code: ErrorCode.ServiceBadSequence } });
    const big = stepGetReassembly(startGetReassembly(), blk(1, false, '0102030405'), { maxBytes: 4 });
    expect(big).toMatchObject({ kind: 'failed', error: { code: ErrorCode.DecodeTooLarge } });
    const junk = stepGetReassembly(startGetReassembly(), blk(1, true, '0102'));
    expect(junk).toMatchObject({ kind: 'failed', error: { code: ErrorCode.DecodeTruncated } });
  });

  it('refuses a max PDU too small for any data', () => {
    expect(() => maxChunkSize(10, 9)).toThrow(expect.objectContaining({ code: ErrorCode.EncodeTooLarge }));
    expect(maxChunkSize(11, 9)).toBe(1);
    expect(maxChunkSize(9 + 2 + 200, 9)).toBe(200); // 81 C8 length form
  });

  it('any value survives any max PDU (property)', () => {
    fc.assert(
      fc.property(dataArb, fc.integer({ min: 12, max: 200 }), (v, maxPdu) => {
        const { data, sent } = runGet(v, maxPdu);
        expect(data).toEqual(v);
        for (const b of sent) expect(b.length).toBeLessThanOrEqual(maxPdu);
      }),
      { numRuns: 200 },
    );
  });
});

const clockTime: AttributeDescriptor = { classId: 8, obis: parseObis('0-0:1.0.0.255'), attributeId: 2 };

/** Run a SET through splitSetRequest and the server reassembler, over the wire encoding. */
function runSet(value: Data, maxPdu: number, access?: SelectiveAccess): { value: Data; sent: Buffer[] } {
  const requests = splitSetRequest(DEFAULT_INVOKE, clockTime, access, value, maxPdu);
  const sent = requests.map(encodeApdu);
  const first = decodeApdu(sent[0]!);
  if (first.type === 'set-request-normal') {
    expect(first.access).toEqual(access);
    return { value: first.value, sent };
  }
  expect((first as SetRequestWithFirstDatablock).access).toEqual(access);
  let state: SetReassemblyState | undefined;
  for (let i = 0; i < sent.length; i++) {
    const req = decodeApdu(sent[i]!);
    const step =
      i === 0
        ? startSetReassembly(req as SetRequestWithFirstDatablock)
        : stepSetReassembly(state, req as SetRequestWithDatablock);
    if (step.kind === 'failed') throw step.error;
    if (step.kind === 'complete') {
      expect(i).toBe(sent.length - 1);
      const done = checkSetResponse(requests[i]!, {
        type: 'set-response-last-datablock',
        invoke: step.invoke,
        result: 0,
        blockNumber: step.blockNumber,
      });
      expect(done).toEqual({ kind: 'done', result: 0 });
      return { value: step.value, sent };
    }
    expect(checkSetResponse(requests[i]!, decodeApdu(encodeApdu(step.response)) as SetResponse)).toEqual({
      kind: 'continue',
    });
    state = step.state;
  }
  throw new Error('transfer did not complete');
}

describe('SET block transfer', () => {
  it('sends a Set-Request-Normal when it fits', () => {
    const value = axdr.octets(hx('07E50118FF0E303950FFC400'));
    const [only, ...rest] = splitSetRequest(DEFAULT_INVOKE, clockTime, undefined, value, 100);
    expect(rest).toHaveLength(0);
    expect(toHex(encodeApdu(only))).toBe('c101c100080000010000ff0200090c07e50118ff0e303950ffc400');
    expect(
      checkSetResponse(only, { type: 'set-response-normal', invoke: DEFAULT_INVOKE, result: 3 }),
    ).toEqual({
      kind: 'done',
      result: 3,
    });
  });

  it('splits, acknowledges each block by number and reassembles', () => {
    const value = axdr.octets(Buffer.alloc(300, 7));
    const { value: got, sent } = runSet(value, 48);
    expect(got).toEqual(value);
    expect(sent.every((b) => b.length <= 48)).toBe(true);
    expect(toHex(sent[0]!.subarray(0, 3))).toBe('c102c1');
    expect(toHex(sent[1]!.subarray(0, 3))).toBe('c103c1');
  });

  it('the server acks block 1 with `C502C100000001`', () => {
    const first: SetRequestWithFirstDatablock = {
      type: 'set-request-with-first-datablock',
      invoke: DEFAULT_INVOKE,
      attribute: { classId: 1, obis: parseObis('0-0:128.0.0.255'), attributeId: 2 },
      block: { lastBlock: false, blockNumber: 1, raw: hx('093201020304050607080910111213141516171819') },
    };
    const step = startSetReassembly(first);
    expect(step.kind).toBe('ack');
    if (step.kind === 'ack') expect(toHex(encodeApdu(step.response))).toBe('c502c100000001');
  });

  it('aborts on a wrong block number, no transfer, oversize or bad data', () => {
    const first = splitSetRequest(DEFAULT_INVOKE, clockTime, undefined, axdr.octets(Buffer.alloc(100)), 40);
    const s1 = startSetReassembly(first[0] as SetRequestWithFirstDatablock);
    if (s1.kind !== 'ack') throw new Error('expected ack');
    const skip = stepSetReassembly(s1.state, first[2] as SetRequestWithDatablock);
    expect(skip).toMatchObject({
      kind: 'failed',
      response: { result: 19 },
      error: { code: ErrorCode.ServiceBadSequence },
    });
    const none = stepSetReassembly(undefined, first[1] as SetRequestWithDatablock);
    expect(none).toMatchObject({ kind: 'failed', response: { result: 18 } });
    const big = startSetReassembly(first[0] as SetRequestWithFirstDatablock, { maxBytes: 5 });
    expect(big).toMatchObject({
      kind: 'failed',
      response: { result: 17 },
      error: { code: ErrorCode.DecodeTooLarge },
    });
    const junk = startSetReassembly({
      ...(first[0] as SetRequestWithFirstDatablock),
      block: { lastBlock: true, blockNumber: 1, raw: hx('07') },
    });
    expect(junk).toMatchObject({
      kind: 'failed',
      response: { type: 'set-response-last-datablock', result: 12 },
    });
  });

  it('the client treats a wrong ack as a failure', () => {
    const reqs = splitSetRequest(DEFAULT_INVOKE, clockTime, undefined, axdr.octets(Buffer.alloc(100)), 40);
    const r = checkSetResponse(reqs[0], {
      type: 'set-response-datablock',
      invoke: DEFAULT_INVOKE,
      blockNumber: 2,
    });
    expect(r).toMatchObject({ kind: 'failed', error: { code: ErrorCode.ServiceInvalidResponse } });
    const aborted = checkSetResponse(reqs[0], {
      type: 'set-response-last-datablock',
      invoke: DEFAULT_INVOKE,
      result: 17,
      blockNumber: 1,
    });
    expect(aborted).toEqual({ kind: 'done', result: 17 });
  });

  it('any value survives any max PDU, with selective access too (property)', () => {
    fc.assert(
      fc.property(dataArb, fc.integer({ min: 40, max: 200 }), fc.boolean(), (v, maxPdu, withAccess) => {
        const access = withAccess
          ? entryAccess({ fromEntry: 1, toEntry: 10, fromSelectedValue: 1, toSelectedValue: 0 })
          : undefined;
        const { value, sent } = runSet(v, maxPdu, access);
        expect(value).toEqual(v);
        for (const b of sent) expect(b.length).toBeLessThanOrEqual(maxPdu);
      }),
      { numRuns: 200 },
    );
  });
});
