/**
 * startSimulator with the DLMS profiles (issue 7 item 1): the stack is chosen by the profile's
 * protocol.stack. The ESME is served on TCP loopback over its own link (HDLC over TCP) and over
 * the wrapper (`link`), with a SQLite state file that a restart resumes; the battery GSME is
 * served on an in-memory listener behind IEC 62056-21 mode E and sleeps until the DLMS session
 * wakes it with NULs. A C12.18-only option (`link` on a C12.18 profile) is a usage error.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ManualClock } from '../../src/core/clock';
import { ErrorCode } from '../../src/core/errors';
import { openDlmsSession } from '../../src/migration/sessions/dlms-session';
import type { DlmsTraceEntry } from '../../src/profiles/dlms-serve';
import { startSimulator } from '../../src/sim/simulator';
import {
  DLMS_ESME,
  DLMS_GSME,
  START,
  defaultCredentials,
  drive,
  profile,
  rejection,
} from '../e2e-dlms/helpers';

const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

describe('startSimulator with a DLMS profile', () => {
  it.each([
    ['its own link (HDLC over TCP)', undefined, 'hdlc'],
    ['the wrapper', 'wrapper', 'wrapper'],
  ] as const)(
    'ESME on TCP over %s: reads, clears as management, resumes from the state file',
    async (_l, link, served) => {
      const dir = mkdtempSync(join(tmpdir(), 'smets1-dlms-sim-'));
      dirs.push(dir);
      const statePath = join(dir, 'state.db');
      const trace: DlmsTraceEntry[] = [];
      const p = profile(DLMS_ESME);
      let sim = await startSimulator({
        profileId: DLMS_ESME,
        listen: 'tcp-listen://127.0.0.1:0',
        statePath,
        card: 'SUPB',
        ...(link ? { link } : {}),
        dlmsTrace: (e) => trace.push(e),
      });
      try {
        expect(sim.profile.protocol).toMatchObject({ stack: 'dlms', dlms: { link: served } });
        expect(sim.isAwake()).toBeNull();
        const card = sim.meter.readCardRecord()!;
        expect(card.issuerSupplierId).toBe('SUPB');
        const open = (association: 'reader' | 'management') =>
          openDlmsSession({
            connect: sim.endpoint.connect!,
            profile: sim.profile,
            credentials: defaultCredentials(p, association),
            timeoutMs: 10_000,
          });
        const reader = await open('reader');
        expect((await reader.readCardRecord()).value).toMatchObject({ paymentCardId: card.paymentCardId });
        await reader.close();
        const mgmt = await open('management');
        const cleared = await mgmt.clearCardData();
        expect(cleared.value).toEqual({ cleared: true });
        await mgmt.close();
        expect(sim.meter.readCardRecord()).toBeNull();
        expect(trace.every((t) => t.link === served)).toBe(true);
        expect(trace.filter((t) => t.dir === 'rx').map((t) => t.client)).toEqual(
          expect.arrayContaining([32, 16, 1]),
        );
      } finally {
        await sim.close();
      }
      sim = await startSimulator({ profileId: DLMS_ESME, listen: 'tcp-listen://127.0.0.1:0', statePath });
      try {
        expect(sim.resumed).toBe(true);
        expect(sim.meter.readCardRecord()).toBeNull();
        expect(
          sim.meter.events().some((e) => e.type === 'card-cleared' && e.actor === 'dlms/management'),
        ).toBe(true);
      } finally {
        await sim.close();
      }
    },
  );

  it('GSME behind mode E sleeps until the session wakes it with NULs', async () => {
    const clock = new ManualClock(START);
    const p = profile(DLMS_GSME);
    const sim = await startSimulator({
      profileId: DLMS_GSME,
      listen: 'mem:dlms-sim-gsme',
      clock,
      card: 'SUPB',
    });
    try {
      // No connection yet: nothing is awake.
      expect(sim.isAwake()).toBe(false);
      const s = await drive(
        clock,
        openDlmsSession({
          connect: 'mem:dlms-sim-gsme',
          profile: p,
          credentials: defaultCredentials(p, 'reader'),
          clock,
        }),
      );
      expect(sim.isAwake()).toBe(true);
      const card = await drive(clock, s.readCardRecord());
      expect(card.value?.issuerSupplierId).toBe('SUPB');
      sim.pressButton(); // not a wake source of this profile: no effect, no throw
      await drive(clock, s.close());
    } finally {
      await drive(clock, sim.close());
    }
  });

  it('refuses a DLMS link for a C12.18 profile, and a link the profile cannot describe', async () => {
    const c1218 = await rejection(
      startSimulator({ profileId: 'secure-liberty100-esme-p4x2g04', listen: 'mem:x-1', link: 'wrapper' }),
    );
    expect(c1218.code).toBe(ErrorCode.UsageError);
    expect(c1218.message).toBe(
      '--link wrapper: profile secure-liberty100-esme-p4x2g04 speaks c1218, the link applies to DLMS profiles',
    );
    const modeE = await rejection(
      startSimulator({ profileId: DLMS_ESME, listen: 'mem:x-2', link: 'mode-e' }),
    );
    expect(modeE.code).toBe(ErrorCode.ConfigInvalid);
    expect(modeE.message).toBe(`profile ${DLMS_ESME} cannot run over mode-e: it has no modeE parameters`);
  });
});
