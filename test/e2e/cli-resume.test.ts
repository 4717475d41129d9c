/**
 * `migrate --journal`: a run stopped after the hand-over resumes with the SMSO password (the
 * new secret from the journal's credentials file takes over), and a finished run answers from
 * its journal without talking to the meter.
 */
import { join } from 'node:path';
import type { Simulator } from '../../src/sim/simulator';
import {
  ESME,
  cli,
  login,
  productsFile,
  registrationFile,
  removeTempDirs,
  simulator,
  tempDir,
} from './helpers';

let sim: Simulator;
afterAll(async () => {
  await sim?.close();
  removeTempDirs();
});

describe('migrate --journal', () => {
  it('resumes after --stop-after migrate with the new secret; a finished journal does not touch the meter', async () => {
    const dir = tempDir();
    sim = await simulator('tcp', dir, ESME, { card: 'SUPB', supplierId: 'SUPA' });
    const journal = join(dir, 'flow.jsonl');
    const args = [
      'migrate',
      '--connect',
      sim.endpoint.connect!,
      ...login(ESME, 'privileged'),
      '--ruleset',
      'mehrs-5.1',
      '--registration',
      registrationFile(dir, sim, 'SUPA', 'MOC Secure'),
      '--products',
      productsFile(dir),
      '--journal',
      journal,
      '--json',
    ];
    const first = await cli(...args, '--stop-after', 'migrate');
    expect(first.code).toBe(0);
    expect(first.json<{ outcome: string }>().outcome).toBe('migrated');
    expect(first.err).toBe(
      `smets1-sim migrate: new secrets for reader, privileged generated and saved to ${journal}.new-credentials.yaml`,
    );
    expect(sim.meter.readCardRecord()).not.toBeNull();

    // The SMSO password no longer works; the run switches to the journal's new secret.
    const second = await cli(...args);
    expect(second.code).toBe(0);
    const r = second.json<{ outcome: string; runs: number; steps: { step: string; status: string }[] }>();
    expect(r.outcome).toBe('verified');
    expect(r.runs).toBe(2);
    expect(sim.meter.readCardRecord()).toBeNull();
    const types = sim.meter.events().map((e) => e.type);
    expect(types).toEqual(['meter-created', 'migrated', 'bad-password', 'failures-reset', 'card-cleared']);

    const seq = sim.meter.state.eventSeq;
    const third = await cli(...args);
    expect(third.code).toBe(0);
    expect(third.json<{ outcome: string; runs: number }>()).toMatchObject({ outcome: 'verified', runs: 2 });
    expect(sim.meter.state.eventSeq).toBe(seq);
  });
});
