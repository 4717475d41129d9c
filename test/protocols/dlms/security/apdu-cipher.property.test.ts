import fc from 'fast-check';
import { ErrorCode, SimError } from '../../../../src/core/errors';
import {
  CIPHERED_SERVICE_TABLE,
  cipherApdu,
  decipherApdu,
  decodeCipheredApdu,
  encodeCipheredApdu,
  MemoryInvocationCounters,
  policyAccepts,
  SecurityPolicyV0,
  type CipheredForm,
} from '../../../../src/protocols/dlms/security';

const key = fc.uint8Array({ minLength: 16, maxLength: 16 }).map((k) => Buffer.from(k));
const systemTitle = fc.uint8Array({ minLength: 8, maxLength: 8 }).map((k) => Buffer.from(k));
const plainTags = CIPHERED_SERVICE_TABLE.map((r) => r.plain);

/** A valid ciphering job: form, SC, keys, IC, and a plaintext whose tag fits the form. */
const job = fc
  .record({
    form: fc.constantFrom<CipheredForm>('glo', 'ded', 'general-glo', 'general-ded'),
    protection: fc.constantFrom(0x10, 0x20, 0x30),
    broadcast: fc.boolean(),
    ek: key,
    ak: key,
    dedicatedKey: key,
    broadcastEk: key,
    systemTitle,
    ic: fc.integer({ min: 1, max: 0xffffffff }),
    tag: fc.constantFrom(...plainTags),
    body: fc.uint8Array({ maxLength: 200 }),
    anyFirst: fc.integer({ min: 0, max: 255 }),
  })
  .map((j) => {
    const dedicated = j.form === 'ded' || j.form === 'general-ded';
    const broadcast = j.broadcast && !dedicated;
    const general = j.form === 'general-glo' || j.form === 'general-ded';
    const plaintext = Buffer.concat([Buffer.of(general ? j.anyFirst : j.tag), j.body]);
    const cipherKey = dedicated ? j.dedicatedKey : broadcast ? j.broadcastEk : j.ek;
    return { ...j, sc: j.protection | (broadcast ? 0x40 : 0), plaintext, cipherKey };
  });

type Job = typeof job extends fc.Arbitrary<infer T> ? T : never;

function cipher(j: Job): Buffer {
  return cipherApdu(j.plaintext, {
    security: j.sc,
    ic: j.ic,
    systemTitle: j.systemTitle,
    ek: j.cipherKey,
    ak: j.ak,
    form: j.form,
  });
}

const ALLOWED = new Set<number>([
  ErrorCode.DecodeTruncated,
  ErrorCode.DecodeInvalid,
  ErrorCode.DecodeTrailingBytes,
  ErrorCode.SessionCipherFailed,
  ErrorCode.SessionReplay,
  ErrorCode.SessionKeyMissing,
]);

function expectCodedFailure(e: unknown): void {
  expect(e).toBeInstanceOf(SimError);
  expect(ALLOWED.has((e as SimError).code)).toBe(true);
}

/** Mutations of a ciphered APDU: bit flips, truncation, extension, tag / SC / IC / auth-tag changes, splices. */
const mutation = fc.record({
  kind: fc.integer({ min: 0, max: 7 }),
  pos: fc.nat(),
  value: fc.integer({ min: 0, max: 255 }),
  delta: fc.integer({ min: -5, max: 5 }),
  extra: fc.uint8Array({ minLength: 1, maxLength: 16 }),
});

function mutate(apdu: Buffer, m: typeof mutation extends fc.Arbitrary<infer T> ? T : never): Buffer {
  const out = Buffer.from(apdu);
  const at = m.pos % out.length;
  const headerAt = decodeCipheredApdu(apdu).systemTitle ? 11 : 2; // where SC sits (short length form)
  switch (m.kind) {
    case 0: // flip one bit anywhere
      out[at] = out[at]! ^ (1 << (m.value % 8));
      return out;
    case 1: // truncate
      return out.subarray(0, at);
    case 2: // append bytes
      return Buffer.concat([out, m.extra]);
    case 3: // another tag
      out[0] = m.value;
      return out;
    case 4: // another SC byte
      if (headerAt < out.length) out[headerAt] = m.value;
      return out;
    case 5: {
      // another IC (still > 0 mostly: replay is checked before the tag)
      if (headerAt + 5 <= out.length) {
        const ic = out.readUInt32BE(headerAt + 1);
        out.writeUInt32BE((ic + m.delta + 0x100000000) % 0x100000000, headerAt + 1);
      }
      return out;
    }
    case 6: // overwrite the tail (auth tag) with random bytes
      out.set(
        m.extra.subarray(0, Math.min(m.extra.length, out.length)),
        out.length - Math.min(m.extra.length, out.length),
      );
      return out;
    default: // splice random bytes in
      return Buffer.concat([out.subarray(0, at), m.extra, out.subarray(at)]);
  }
}

describe('suite 0 ciphering properties', () => {
  it('random plaintexts round trip for every SC and form', () => {
    fc.assert(
      fc.property(job, (j) => {
        const apdu = cipher(j);
        const counters = new MemoryInvocationCounters();
        const out = decipherApdu(apdu, {
          peerSystemTitle: j.systemTitle,
          keys: j,
          accept: () => true,
          counters,
        });
        expect(out.plaintext).toEqual(j.plaintext);
        expect(out.ic).toBe(j.ic);
        expect(out.form).toBe(j.form);
        expect(out.security.broadcastKey).toBe((j.sc & 0x40) !== 0);
        expect(counters.entries().map(([, ic]) => ic)).toEqual([j.ic]);
        // The structure codec is symmetric on what cipherApdu produced.
        expect(encodeCipheredApdu(decodeCipheredApdu(apdu))).toEqual(apdu);
      }),
      { numRuns: 1000 },
    );
  });

  it('10,000 mutated APDUs never crash and, when authenticated, never yield altered plaintext', () => {
    const authenticatedJob = job.filter((j) => (j.sc & 0x10) !== 0);
    fc.assert(
      fc.property(authenticatedJob, mutation, (j, m) => {
        const apdu = cipher(j);
        const mutated = mutate(apdu, m);
        const counters = new MemoryInvocationCounters();
        let result: ReturnType<typeof decipherApdu>;
        try {
          result = decipherApdu(mutated, {
            peerSystemTitle: j.systemTitle,
            keys: j,
            accept: policyAccepts(SecurityPolicyV0.AllAuthenticated),
            counters,
          });
        } catch (e) {
          expectCodedFailure(e);
          expect(counters.entries()).toEqual([]);
          return;
        }
        // Accepted: only possible when the protected parts are intact.
        expect(result.plaintext).toEqual(j.plaintext);
        expect(result.ic).toBe(j.ic);
      }),
      { numRuns: 10_000 },
    );
  });

  it('never deciphers with a wrong key, mutated or not', () => {
    const wrong = fc.record({ which: fc.constantFrom('cipher', 'ak'), flip: fc.nat({ max: 127 }) });
    fc.assert(
      fc.property(job, wrong, fc.option(mutation, { nil: undefined }), (j, w, m) => {
        const apdu = cipher(j);
        const input = m ? mutate(apdu, m) : apdu;
        const bad = (k: Buffer): Buffer => {
          const c = Buffer.from(k);
          c[w.flip >> 3] = c[w.flip >> 3]! ^ (1 << (w.flip & 7));
          return c;
        };
        const authenticated = (j.sc & 0x10) !== 0;
        // AK only matters when the APDU is authenticated.
        const which = authenticated ? w.which : 'cipher';
        const keys = {
          ek: which === 'cipher' ? bad(j.ek) : j.ek,
          broadcastEk: which === 'cipher' ? bad(j.broadcastEk) : j.broadcastEk,
          dedicatedKey: which === 'cipher' ? bad(j.dedicatedKey) : j.dedicatedKey,
          ak: which === 'ak' ? bad(j.ak) : j.ak,
        };
        const counters = new MemoryInvocationCounters();
        let plaintext: Buffer | undefined;
        try {
          plaintext = decipherApdu(input, {
            peerSystemTitle: j.systemTitle,
            keys,
            accept: policyAccepts(SecurityPolicyV0.AllAuthenticated),
            counters,
          }).plaintext;
        } catch (e) {
          expectCodedFailure(e);
          expect(counters.entries()).toEqual([]);
        }
        // Authenticated APDUs fail the tag; SC 20 ones (no tag, no integrity) are refused by the
        // policy before any key is used. Either way no plaintext comes out.
        expect(plaintext).toBeUndefined();
      }),
      { numRuns: 3000 },
    );
  });

  it('the structure decoder yields a value or a coded SimError on any bytes', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.uint8Array({ maxLength: 64 }),
          fc
            .tuple(fc.constantFrom(0xc8, 0xcc, 0xd0, 0xdb, 0xdc, 0x21), fc.uint8Array({ maxLength: 64 }))
            .map(([t, rest]) => Uint8Array.from([t, ...rest])),
        ),
        (bytes) => {
          const copy = Buffer.from(bytes);
          try {
            const d = decodeCipheredApdu(bytes);
            expect(encodeCipheredApdu(d).length).toBeGreaterThan(0);
          } catch (e) {
            expect(e).toBeInstanceOf(SimError);
            expect([
              ErrorCode.DecodeTruncated,
              ErrorCode.DecodeInvalid,
              ErrorCode.DecodeTrailingBytes,
            ]).toContain((e as SimError).code);
          }
          expect(Buffer.from(bytes)).toEqual(copy); // never mutates its input
        },
      ),
      { numRuns: 3000 },
    );
  });
});
