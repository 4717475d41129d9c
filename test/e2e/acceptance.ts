/**
 * Issue 5 acceptance, run once per transport (migrate-pty.test.ts, migrate-tcp.test.ts): the CLI
 * against simulated meters.
 *  - An ESME whose card belongs to another supplier is blocked by MA516 under mehrs-5.0 and
 *    passes under mehrs-5.1; the same for a GSME and MA517.
 *  - A meter holding a card of the Responsible Supplier passes both.
 *  - A meter outside MOC Secure is never checked by MA516/MA517 (not-applicable).
 *  - After `migrate` under 5.1 the card record and Site ID read back empty, and the meter's
 *    event log shows the clear.
 */
import { join } from 'node:path';
import type { Simulator } from '../../src/sim/simulator';
import {
  ESME,
  GSME,
  cli,
  login,
  productsFile,
  registrationFile,
  removeTempDirs,
  simulator,
  tempDir,
  type Kind,
} from './helpers';

interface Report {
  outcome: string;
  blockingCodes: string[];
  checks: { code: string; outcome: string; reason: string }[];
  steps: { step: string; status: string }[];
}

const outcomes = (r: Report): Record<string, string> =>
  Object.fromEntries(r.checks.map((c) => [c.code, c.outcome]));

export function acceptance(kind: Kind): void {
  describe(`migrate over ${kind}`, () => {
    const dir = tempDir();
    const products = productsFile(dir);
    const sims: Simulator[] = [];
    afterAll(async () => {
      for (const s of sims) await s.close();
      removeTempDirs();
    });

    const migrate = (
      sim: Simulator,
      profileId: string,
      ruleset: string,
      registration: string,
      ...more: string[]
    ) =>
      cli(
        'migrate',
        '--connect',
        sim.endpoint.connect!,
        ...login(profileId, 'privileged'),
        '--ruleset',
        ruleset,
        '--registration',
        registration,
        '--products',
        products,
        '--json',
        // A pty paces bytes at the line speed: Negotiate the fastest rate the profile allows.
        ...(kind === 'pty' ? ['--baud', '38400'] : []),
        ...more,
      );

    it.each([
      ['ESME', 'MA516', ESME],
      ['GSME', 'MA517', GSME],
    ])(
      '%s with a card of another supplier: blocked by %s under mehrs-5.0, ignored outside MOC Secure, migrated, cleared and verified under mehrs-5.1',
      async (_type, code, profileId) => {
        const sim = await simulator(kind, dir, profileId, { card: 'SUPB', supplierId: 'SUPA' });
        sims.push(sim);
        const moc = registrationFile(dir, sim, 'SUPA', 'MOC Secure');

        const blocked = await migrate(sim, profileId, 'mehrs-5.0', moc);
        expect(blocked.code).toBe(3);
        const b = blocked.json<Report>();
        expect(b.outcome).toBe('blocked');
        expect(b.blockingCodes).toEqual([code]);
        expect(blocked.err).toContain(`blocked by ${code}: payment card`);
        expect(sim.meter.readCardRecord()).not.toBeNull();

        // The same meter point in another cohort: MA516/MA517 are out of scope, never run.
        const ioc = registrationFile(dir, sim, 'SUPA', 'IOC', 'ioc');
        const outside = await migrate(sim, profileId, 'mehrs-5.0', ioc, '--stop-after', 'evaluate');
        expect(outside.code).toBe(0);
        expect(outside.json<Report>().outcome).toBe('passed');
        expect(outcomes(outside.json<Report>())).toEqual({
          MA516: 'not-applicable',
          MA517: 'not-applicable',
          MA110: 'pass',
        });

        const journal = join(dir, `${sim.meter.readIdentity().serial}.jsonl`);
        const done = await migrate(sim, profileId, 'mehrs-5.1', moc, '--journal', journal);
        expect(done.err).toContain('generated and saved to');
        expect(done.code).toBe(0);
        const d = done.json<Report>();
        expect(d.outcome).toBe('verified');
        expect(outcomes(d)).toEqual({ MA110: 'pass' });
        expect(d.steps.map((s) => `${s.step}:${s.status}`)).toEqual([
          'interrogate:done',
          'evaluate:done',
          'migrate:done',
          'clear:done',
          'verify:done',
        ]);

        // Read back over the wire with the new privileged secret.
        const after = await cli(
          'interrogate',
          '--connect',
          sim.endpoint.connect!,
          '--credentials',
          `${journal}.new-credentials.yaml`,
          '--level',
          'privileged',
          '--json',
          ...(kind === 'pty' ? ['--baud', '38400'] : []),
        );
        expect(after.code).toBe(0);
        const a = after.json<{
          cardRecord: { present: boolean };
          registration: { siteId: string | null };
          migrationState: { state: string; by: string };
        }>();
        expect(a.cardRecord).toEqual({ present: false });
        expect(a.registration.siteId).toBeNull();
        expect(a.migrationState).toMatchObject({ state: 'migrated', by: 'smets1-sim' });
        const events = sim.meter.events().map((e) => `${e.type} ${e.actor}`);
        expect(events).toEqual([
          'meter-created null',
          'migrated smets1-sim',
          'card-cleared c1218/privileged',
        ]);
      },
    );

    it.each([
      ['ESME', ESME],
      ['GSME', GSME],
    ])(
      '%s with a card of the Responsible Supplier passes mehrs-5.0 and mehrs-5.1',
      async (_type, profileId) => {
        const sim = await simulator(kind, dir, profileId, { card: 'SUPA', supplierId: 'SUPA', seed: 8 });
        sims.push(sim);
        const moc = registrationFile(dir, sim, 'SUPA', 'MOC Secure');
        const v50 = await migrate(sim, profileId, 'mehrs-5.0', moc, '--stop-after', 'evaluate');
        expect(v50.code).toBe(0);
        expect(v50.json<Report>().outcome).toBe('passed');
        expect(outcomes(v50.json<Report>())[profileId === ESME ? 'MA516' : 'MA517']).toBe('pass');
        const v51 = await migrate(
          sim,
          profileId,
          'mehrs-5.1',
          moc,
          '--new-credentials',
          join(dir, `own-${profileId}.yaml`),
        );
        expect(v51.code).toBe(0);
        expect(v51.json<Report>().outcome).toBe('verified');
        expect(sim.meter.readCardRecord()).toBeNull();
      },
    );
  });
}
