import fc from 'fast-check';
import { fromHex } from '../../../../src/core/bytes';
import { decodeApdu, encodeApdu, type Apdu } from '../../../../src/protocols/dlms/apdu';
import { axdr } from '../../../../src/protocols/dlms/axdr/builders';
import { DlmsClient } from '../../../../src/protocols/dlms/client';
import { createMemApduPair } from '../../../../src/protocols/dlms/server';
import {
  cipherApdu,
  decodeCipheredApdu,
  decipherApdu,
  MemoryInvocationCounters,
} from '../../../../src/protocols/dlms/security';
import type { ServerSession } from '../../../../src/protocols/dlms/server';
import { buildMeter, GB, OBIS, type Meter } from './fixture';

/**
 * 100,000 random and mutated APDUs into associated server sessions (CONVENTIONS: every decoder
 * gets a property test). Whatever arrives: no throw, no hang, an answer that is a well-formed
 * xDLMS response or exception-response (silence only for unconfirmed SET/ACTION), the association
 * unchanged and the meter untouched.
 */

const AARQ_LN = fromHex('601DA109060760857405080101BE10040E01000000065F1F0400007E1F04B0');
const C1 = { invokeId: 1, confirmed: true, highPriority: true };
const ln = (t: string): Buffer => Buffer.from(t.split(/[-:.]/).map(Number));

/** Valid requests to mutate (docs/dlms.md §4.2 layouts). */
const VALID: readonly Apdu[] = [
  {
    type: 'get-request-normal',
    invoke: C1,
    attribute: { classId: 1, obis: ln(OBIS.icObject), attributeId: 2 },
  },
  {
    type: 'get-request-normal',
    invoke: C1,
    attribute: { classId: 15, obis: ln('0-0:40.0.0.255'), attributeId: 2 },
  },
  { type: 'get-request-next', invoke: C1, blockNumber: 1 },
  {
    type: 'get-request-with-list',
    invoke: C1,
    attributes: [
      { attribute: { classId: 8, obis: ln(OBIS.clock), attributeId: 2 } },
      { attribute: { classId: 3, obis: ln(OBIS.energy), attributeId: 3 } },
    ],
  },
  {
    type: 'set-request-normal',
    invoke: C1,
    attribute: { classId: 8, obis: ln(OBIS.clock), attributeId: 2 },
    value: axdr.octets(Buffer.alloc(12)),
  },
  {
    type: 'set-request-with-first-datablock',
    invoke: C1,
    attribute: { classId: 1, obis: ln(OBIS.note), attributeId: 2 },
    block: { lastBlock: false, blockNumber: 1, raw: Buffer.from([9, 4, 1, 2]) },
  },
  {
    type: 'set-request-with-datablock',
    invoke: C1,
    block: { lastBlock: true, blockNumber: 2, raw: Buffer.from([3, 4]) },
  },
  {
    type: 'action-request-normal',
    invoke: C1,
    method: { classId: 115, obis: ln(OBIS.tokenGateway), methodId: 1 },
    parameters: axdr.octets(Buffer.from([0, 0, 1, 0])),
  },
  {
    type: 'action-request-normal',
    invoke: C1,
    method: { classId: 3, obis: ln(OBIS.energy), methodId: 1 },
    parameters: axdr.i8(0),
  },
];
const VALID_BYTES = VALID.map(encodeApdu);

const RESPONSE_TYPES = new Set([
  'get-response-normal',
  'get-response-with-datablock',
  'get-response-with-list',
  'set-response-normal',
  'set-response-datablock',
  'set-response-last-datablock',
  'set-response-with-list',
  'action-response-normal',
  'exception-response',
]);

/** Random bytes, bytes behind a known tag, or a valid request mutated 1-3 times. */
function apduArb(pool: readonly Buffer[], tags: readonly number[]): fc.Arbitrary<Buffer> {
  const mutation = fc.oneof(
    fc.record({ kind: fc.constant('flip' as const), at: fc.nat(), bit: fc.integer({ min: 0, max: 7 }) }),
    fc.record({ kind: fc.constant('set' as const), at: fc.nat(), value: fc.integer({ min: 0, max: 255 }) }),
    fc.record({ kind: fc.constant('cut' as const), at: fc.nat() }),
    fc.record({
      kind: fc.constant('insert' as const),
      at: fc.nat(),
      bytes: fc.uint8Array({ minLength: 1, maxLength: 4 }),
    }),
  );
  const mutated = fc
    .tuple(fc.constantFrom(...pool), fc.array(mutation, { minLength: 1, maxLength: 3 }))
    .map(([base, ms]) => {
      let b = Buffer.from(base);
      for (const m of ms) {
        const at = b.length === 0 ? 0 : m.at % b.length;
        if (m.kind === 'flip' && b.length) b[at] = b[at]! ^ (1 << m.bit);
        else if (m.kind === 'set' && b.length) b[at] = m.value;
        else if (m.kind === 'cut') b = b.subarray(0, at);
        else if (m.kind === 'insert')
          b = Buffer.concat([b.subarray(0, at), Buffer.from(m.bytes), b.subarray(at)]);
      }
      return b;
    });
  const random = fc.uint8Array({ maxLength: 80 }).map((a) => Buffer.from(a));
  const tagged = fc
    .tuple(fc.constantFrom(...tags), fc.uint8Array({ maxLength: 60 }))
    .map(([t, a]) => Buffer.concat([Buffer.from([t]), a]));
  return fc.oneof(
    { weight: 2, arbitrary: random },
    { weight: 3, arbitrary: tagged },
    { weight: 5, arbitrary: mutated },
  );
}

/** AARQ (60) and RLRQ (62) change the association by design; they have their own property. */
function isAcseRequest(b: Buffer): boolean {
  return b[0] === 0x60 || b[0] === 0x62;
}

function snapshot(m: Meter): unknown {
  const s = m.state;
  return {
    e: s.energyWh,
    c: s.credit,
    t: s.tokens.length,
    k: s.keys.ek.toString('hex'),
    p: s.policy,
    n: s.note,
    w: s.clockWrites.length,
  };
}

/** Plain assertions inside the hot loops: jest's expect costs more than the server under test. */
function check(ok: boolean, what: string, input: Buffer): void {
  if (!ok) throw new Error(`${what} for input ${input.toString('hex')}`);
}

function checkPlainAnswer(input: Buffer, out: Buffer | undefined): void {
  if (out === undefined) {
    // Silence only for an unconfirmed SET / ACTION that decoded.
    const a = decodeApdu(input);
    check(
      (a.type.startsWith('set-request') || a.type.startsWith('action-request')) &&
        'invoke' in a &&
        !a.invoke.confirmed,
      'silence',
      input,
    );
    return;
  }
  check(RESPONSE_TYPES.has(decodeApdu(out).type), 'not a response', input);
}

describe('ServerSession property: random and mutated APDUs', () => {
  it('public, plaintext: 80,000 APDUs', async () => {
    const meter = buildMeter();
    const s = meter.server.createSession({ client: 16, server: 1 });
    await s.handle(AARQ_LN);
    const assoc = s.state;
    const before = snapshot(meter);
    const tags = [
      0xc0, 0xc1, 0xc3, 0xc4, 0xc5, 0xc7, 0xc8, 0xcb, 0xd8, 0xdb, 0x01, 0x08, 0x0e, 0x61, 0x63, 0xe0,
    ];
    const arb = apduArb(VALID_BYTES, tags).filter((b) => !isAcseRequest(b));
    await fc.assert(
      fc.asyncProperty(fc.array(arb, { minLength: 10, maxLength: 10 }), async (inputs) => {
        for (const input of inputs) {
          checkPlainAnswer(input, await s.handle(input));
          check(s.state === assoc, 'association changed', input);
        }
      }),
      { numRuns: 8000 },
    );
    expect(snapshot(meter)).toEqual(before);
  });

  it('management over HLS-GMAC with SC 0x30: 15,000 mutated ciphered APDUs', async () => {
    const meter = buildMeter();
    const pair = createMemApduPair({ client: 1, server: 1 });
    meter.server.attach(pair.server);
    const client = new DlmsClient(pair.client, { timeoutMs: 5000 });
    await client.associate({
      mechanism: 'high-gmac',
      security: { systemTitle: GB.clientSystemTitle, keys: { ek: GB.ek, ak: GB.ak }, sc: 0x30 },
    });
    const s: ServerSession = meter.server.session(pair.server, pair.client.address)!;
    const assoc = s.state;
    expect(assoc.phase).toBe('associated');
    const before = snapshot(meter);
    // Ciphered GETs under fresh ICs (GETs only: an unmutated valid SET would rightly change the meter).
    let ic = 1000;
    const gets = VALID_BYTES.filter((b) => b[0] === 0xc0);
    const pool = gets.flatMap((p) =>
      [0x30, 0x10, 0x20].map((sc) =>
        cipherApdu(p, { security: sc, ic: ic++, systemTitle: GB.clientSystemTitle, ek: GB.ek, ak: GB.ak }),
      ),
    );
    pool.push(
      cipherApdu(gets[0]!, {
        security: 0x30,
        ic: ic++,
        systemTitle: GB.clientSystemTitle,
        ek: GB.ek,
        ak: GB.ak,
        form: 'general-glo',
      }),
    );
    const counters = new MemoryInvocationCounters();
    await fc.assert(
      fc.asyncProperty(
        fc.array(
          apduArb(pool, [0xc8, 0xc9, 0xcb, 0xdb, 0xd0, 0xdc]).filter((b) => !isAcseRequest(b)),
          { minLength: 10, maxLength: 10 },
        ),
        async (inputs) => {
          for (const input of inputs) {
            const out = await s.handle(input);
            check(out !== undefined, 'silence', input);
            const tag = out![0]!;
            if (tag === 0xd8) check(decodeApdu(out!).type === 'exception-response', 'bad exception', input);
            else if (tag === 0x61) check(input[0] === 0x60, 'AARE to a non-AARQ', input);
            else {
              // A ciphered answer that the client's keys open to a response APDU.
              check([0xcc, 0xcd, 0xcf, 0xdb].includes(tag), `answer tag ${tag}`, input);
              check(decodeCipheredApdu(out!).security.suiteId === 0, 'suite', input);
              const plain = decipherApdu(out!, {
                peerSystemTitle: GB.serverSystemTitle,
                keys: { ek: GB.ek, ak: GB.ak },
                accept: () => true,
                counters,
              }).plaintext;
              check(RESPONSE_TYPES.has(decodeApdu(plain).type), 'not a response', input);
            }
            check(s.state === assoc, 'association changed', input);
          }
        },
      ),
      { numRuns: 1500 },
    );
    expect(snapshot(meter)).toEqual(before);
    await pair.client.close();
  });

  it('ACSE: 5,000 random and mutated AARQ / RLRQ get an AARE, an RLRE or an exception', async () => {
    const meter = buildMeter();
    const lls = fromHex(
      '6036A1090607608574050801018A0207808B0760857405080201AC0A80083132333435363738BE10040E01000000065F1F0400007E1F04B0',
    );
    const pool = [AARQ_LN, lls, fromHex('6203800100'), fromHex('6200')];
    await fc.assert(
      fc.asyncProperty(
        fc.array(apduArb(pool, [0x60, 0x62]), { minLength: 5, maxLength: 5 }),
        fc.constantFrom(16, 3, 1, 77),
        async (inputs, client) => {
          const s = meter.server.createSession({ client, server: 1 });
          for (const input of inputs) {
            const before = s.state;
            const out = await s.handle(input);
            if (out === undefined) {
              // Only an AARQ whose InitiateRequest says response-allowed FALSE goes unanswered.
              const a = decodeApdu(input);
              check(
                a.type === 'aarq' &&
                  a.userInformation?.type === 'initiate-request' &&
                  !a.userInformation.responseAllowed,
                'silence',
                input,
              );
              continue;
            }
            const a = decodeApdu(out);
            check(['aare', 'rlre', 'exception-response'].includes(a.type), `answer ${a.type}`, input);
            // Accepted: associated or HLS pending. Rejected: idle, or unchanged when the AARQ did not decode.
            if (a.type === 'aare')
              check(
                a.result === 0 ? s.state.phase !== 'idle' : s.state.phase === 'idle' || s.state === before,
                'AARE vs state',
                input,
              );
            if (a.type === 'rlre') check(s.state.phase === 'idle', 'RLRE vs state', input);
          }
        },
      ),
      { numRuns: 1000 },
    );
  });
});
