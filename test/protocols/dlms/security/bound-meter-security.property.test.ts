/**
 * Ciphered APDUs against a profile-bound meter (generic DLMS ESME, management association,
 * security policy 3) whose accepted invocation counters are durable device state: right-key,
 * wrong-key (EK or AK one bit off) and replayed glo-GET requests, mutated (bad tags, truncated
 * authentication tags, other counters, bit flips, splices). The session never throws and always
 * answers; a request under a wrong key is never answered ciphered and never moves the durable
 * counter; the counter only ever rises, and only with an answer that opens under the right keys;
 * nothing but the counters changes on the meter.
 */
import fc from 'fast-check';
import { decodeApdu, encodeApdu } from '../../../../src/protocols/dlms/apdu/apdu';
import { parseObis } from '../../../../src/protocols/dlms/apdu/obis';
import { createMemApduPair } from '../../../../src/protocols/dlms/server/apdu-channel';
import { cipherApdu, decipherApdu, MemoryInvocationCounters } from '../../../../src/protocols/dlms/security';
import { DlmsClient } from '../../../../src/protocols/dlms/client';
import { bindDlms } from '../../../../src/profiles/dlms-binding';
import { DEFAULT_CLIENT_SYSTEM_TITLE } from '../../../../src/profiles/dlms-binding-client';
import { peerCounterName, serverSystemTitle } from '../../../../src/profiles/dlms-binding-security';
import {
  DLMS_ESME,
  associateAs,
  defaultCredentials,
  makeMeter,
  persistentCounter,
  profile,
  sapOf,
} from '../../../e2e-dlms/helpers';

const p = profile(DLMS_ESME);
const SETUP = '0-0:43.0.0.255';

function getRequest(obis: string, attr: number, classId: number, invoke: number): Buffer {
  return encodeApdu({
    type: 'get-request-normal',
    invoke: { invokeId: invoke & 0x0f, confirmed: true, highPriority: true },
    attribute: { classId, obis: parseObis(obis), attributeId: attr },
  });
}

const flip = (k: Buffer, bit: number): Buffer => {
  const c = Buffer.from(k);
  c[bit >> 3] = c[bit >> 3]! ^ (1 << (bit & 7));
  return c;
};

describe('ciphered APDUs against a bound meter with durable counters (fast-check)', () => {
  it('6,000 right-key, wrong-key, replayed and mutated glo-GETs', async () => {
    const { meter } = makeMeter(p);
    const server = bindDlms(p, meter).createServer();
    const pair = createMemApduPair({ client: sapOf(p, 'management'), server: 1 });
    server.attach(pair.server);
    const client = new DlmsClient(pair.client, { timeoutMs: 5_000 });
    const counter = persistentCounter();
    await client.associate(associateAs(p, 'management', counter));
    const session = server.session(pair.server, pair.client.address)!;
    const keys = defaultCredentials(p, 'management').keys!;
    const ek = Buffer.from(keys.ek);
    const ak = Buffer.from(keys.ak);
    const name = peerCounterName(SETUP, { systemTitle: DEFAULT_CLIENT_SYSTEM_TITLE, key: 'global-unicast' });
    const serverTitle = serverSystemTitle(meter.readIdentity().deviceId);
    const stable = (): unknown => {
      const { rev: _rev, security, ...rest } = meter.state;
      const { invocationCounters: _ic, ...sec } = security;
      return { ...rest, sec };
    };
    const before = stable();
    const plains = [
      getRequest('0-0:1.0.0.255', 2, 8, 1),
      getRequest('0-0:42.0.0.255', 2, 1, 2),
      getRequest('0-128:96.50.0.255', 2, 1, 3),
    ];
    let nextIc = (counter.last ?? 0) + 1;
    const responseCounters = new MemoryInvocationCounters();

    const request = fc.record({
      plain: fc.constantFrom(...plains),
      sc: fc.constantFrom(0x30, 0x10, 0x20),
      key: fc.constantFrom('right', 'right', 'wrong-ek', 'wrong-ak'),
      bit: fc.nat({ max: 127 }),
      icStep: fc.integer({ min: -3, max: 3 }),
      mutation: fc.option(
        fc.record({
          kind: fc.constantFrom('tag', 'truncate', 'flip', 'splice', 'ic'),
          pos: fc.nat(),
          value: fc.integer({ min: 0, max: 255 }),
        }),
        { freq: 2, nil: undefined },
      ),
    });

    await fc.assert(
      fc.asyncProperty(request, async (r) => {
        // Counters near the current one: fresh ones, equal ones (replays) and stale ones.
        const ic = Math.max(1, nextIc + r.icStep);
        nextIc = Math.max(nextIc, ic + 1);
        const wrong = r.key !== 'right' && !(r.key === 'wrong-ak' && (r.sc & 0x10) === 0);
        let bytes = cipherApdu(r.plain, {
          security: r.sc,
          ic,
          systemTitle: DEFAULT_CLIENT_SYSTEM_TITLE,
          ek: r.key === 'wrong-ek' ? flip(ek, r.bit) : ek,
          ak: r.key === 'wrong-ak' ? flip(ak, r.bit) : ak,
        });
        const m = r.mutation;
        if (m) {
          const at = m.pos % bytes.length;
          bytes = Buffer.from(bytes);
          // Any tag but the ACSE ones, which start a new association (tested in session.property).
          if (m.kind === 'tag') bytes[0] = m.value >= 0x60 && m.value <= 0x63 ? m.value ^ 0x80 : m.value;
          else if (m.kind === 'truncate') bytes = bytes.subarray(0, bytes.length - 1 - (m.pos % 12));
          else if (m.kind === 'flip') bytes[at] = bytes[at]! ^ (1 << (m.value % 8));
          else if (m.kind === 'splice')
            bytes = Buffer.concat([bytes.subarray(0, at), Buffer.of(m.value), bytes.subarray(at)]);
          else if (bytes.length > 7) bytes.writeUInt32BE((ic + m.value) % 0x100000000, 3);
        }
        const last = meter.state.security.invocationCounters[name] ?? 0;
        const out = await session.handle(bytes);
        const now = meter.state.security.invocationCounters[name] ?? 0;
        expect(out).toBeDefined();
        expect(now).toBeGreaterThanOrEqual(last);
        const tag = out![0]!;
        if (tag === 0xd8) {
          expect(decodeApdu(out!).type).toBe('exception-response');
          expect(now).toBe(last);
          return;
        }
        // A ciphered answer: the request was accepted, so it was under the right keys and fresh.
        expect(tag).toBe(0xcc);
        expect(wrong).toBe(false);
        expect(now).toBeGreaterThan(last);
        const plain = decipherApdu(out!, {
          peerSystemTitle: serverTitle,
          keys: { ek, ak },
          accept: () => true,
          counters: responseCounters,
        }).plaintext;
        expect(decodeApdu(plain).type).toBe('get-response-normal');
      }),
      { numRuns: 6_000 },
    );
    expect(stable()).toEqual(before);
    await pair.client.close();
  });
});
