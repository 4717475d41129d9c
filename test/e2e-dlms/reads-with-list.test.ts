/**
 * The interrogator's reads travel as GET-Request-With-List when the association negotiated
 * `multiple-references` (src/profiles/dlms-binding-access.ts, docs/dlms-implementation.md
 * "Performance"): the same values and the same evidence as one GET per attribute, in fewer round
 * trips; without the conformance bit (a meter that does not offer it) one GET each. A refused
 * attribute in a list fails the read as a single GET would. The profile's COSEM map is built once
 * per profile and shared.
 */
import { ErrorCode } from '../../src/core/errors';
import { openDlmsSession, type DlmsMeterSession } from '../../src/migration/sessions/dlms-session';
import { dlmsMap } from '../../src/profiles/dlms-binding-map';
import { serveDlmsMeter, withDlmsLink, type DlmsTraceEntry } from '../../src/profiles/dlms-serve';
import type { FirmwareProfile } from '../../src/profiles/schema';
import { listen } from '../../src/transport/open';
import { DLMS_ESME, DLMS_GSME, defaultCredentials, makeMeter, profile, withLink } from './helpers';

const esme = withLink(profile(DLMS_ESME), 'wrapper');

/** The ESME as a meter that does not offer multiple-references (both sides drop the bit). */
function withoutLists(p: FirmwareProfile): FirmwareProfile {
  if (p.protocol.stack !== 'dlms') throw new Error('not DLMS');
  const dlms = p.protocol.dlms;
  return {
    ...p,
    protocol: {
      stack: 'dlms',
      dlms: { ...dlms, conformance: dlms.conformance.filter((c) => c !== 'multiple-references') },
    },
  };
}

let n = 0;

/** Serve one meter of `p` and open a session as `association`, tracing the client's APDUs. */
async function session(
  p: FirmwareProfile,
  association: string,
): Promise<{ s: DlmsMeterSession; trace: DlmsTraceEntry[]; close: () => Promise<void> }> {
  const { meter } = makeMeter(p, { card: 'SUPB' });
  const name = `dlms-with-list-${++n}`;
  const listener = await listen(`mem:${name}`);
  const served = serveDlmsMeter(listener, meter, p);
  const trace: DlmsTraceEntry[] = [];
  const s = await openDlmsSession({
    connect: `mem:${name}`,
    profile: p,
    credentials: defaultCredentials(p, association),
    timeoutMs: 5_000,
    trace: (e) => trace.push(e),
  });
  return {
    s,
    trace,
    close: async () => {
      await s.close();
      await served.close();
      await listener.close();
    },
  };
}

/** The service of each request sent (first two octets of the plain APDU: C0 01 GET, C0 03 list). */
const requests = (trace: DlmsTraceEntry[]): string[] =>
  trace.filter((t) => t.dir === 'tx').map((t) => t.apdu.slice(0, 4).toLowerCase());

describe('DLMS reads as GET-Request-With-List', () => {
  it('reads identity, registration and card in one list each, with per-attribute evidence', async () => {
    const list = await session(esme, 'reader');
    const single = await session(withoutLists(esme), 'reader');
    try {
      for (const r of [list, single]) r.trace.length = 0;
      const a = [await list.s.readIdentity(), await list.s.readRegistration(), await list.s.readCardRecord()];
      const b = [
        await single.s.readIdentity(),
        await single.s.readRegistration(),
        await single.s.readCardRecord(),
      ];
      // Same meter data (both meters were generated alike), same evidence, item for item.
      expect(a.map((x) => x.value)).toEqual(b.map((x) => x.value));
      expect(a.map((x) => x.evidence)).toEqual(b.map((x) => x.evidence));
      expect(a[2]!.value).toMatchObject({ issuerSupplierId: 'SUPB' });
      const attributes = a.reduce((k, x) => k + x.evidence.length, 0);
      expect(attributes).toBeGreaterThan(6);
      // One request per read with lists; one per attribute without.
      expect(requests(list.trace)).toEqual(a.map((x) => (x.evidence.length > 1 ? 'c003' : 'c001')));
      expect(requests(single.trace)).toEqual(Array.from({ length: attributes }, () => 'c001'));
    } finally {
      await list.close();
      await single.close();
    }
  });

  it('the GSME profile offers no multiple-references: its session reads one GET per attribute', async () => {
    const gsme = withDlmsLink(profile(DLMS_GSME), 'wrapper');
    const r = await session(gsme, 'reader');
    try {
      r.trace.length = 0;
      const id = await r.s.readIdentity();
      expect(id.evidence.length).toBeGreaterThan(1);
      expect(requests(r.trace)).toEqual(id.evidence.map(() => 'c001'));
    } finally {
      await r.close();
    }
  });

  it('an attribute the association may not read fails the list as a single GET fails', async () => {
    // The registration object is hidden from the public association (read-write-denied).
    const list = await session(esme, 'public');
    const single = await session(withoutLists(esme), 'public');
    try {
      list.trace.length = 0;
      const e1 = await list.s.readRegistration().then(
        () => undefined,
        (e: unknown) => e,
      );
      const e2 = await single.s.readRegistration().then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(e1).toMatchObject({ code: ErrorCode.ServiceAccessDenied });
      expect(e2).toMatchObject({ code: (e1 as { code: number }).code, message: (e1 as Error).message });
      expect(requests(list.trace)).toEqual(['c003']);
    } finally {
      await list.close();
      await single.close();
    }
  });
});

describe('dlmsMap', () => {
  it('is built once per profile COSEM section, shared across links, and frozen', () => {
    const p = profile(DLMS_ESME);
    const m = dlmsMap(p);
    expect(dlmsMap(p)).toBe(m);
    expect(dlmsMap(withDlmsLink(p, 'wrapper'))).toBe(m);
    expect(Object.isFrozen(m)).toBe(true);
    // A different COSEM section is a different map.
    expect(dlmsMap(profile(DLMS_GSME))).not.toBe(m);
    expect(m.sources.get('identity.serial')?.length).toBeGreaterThan(0);
  });
});
