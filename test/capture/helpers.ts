/**
 * Shared set-up of the capture tests: the simulators and secret variables a test starts and
 * sets (closed and unset after each test), the captured files written the way `smets1-sim
 * capture` writes them, and the interrogation document without its times.
 */
import { join } from 'node:path';
import type { CaptureOutcome } from '../../src/capture/c1218-capture';
import { writeProfileFile, writeStateFile } from '../../src/capture/capture-files';
import { secretVariable } from '../../src/capture/profile-doc';
import { secretBytes } from '../../src/profiles/device-binding';
import { validateProfileFile } from '../../src/profiles/loader';
import type { FirmwareProfile } from '../../src/profiles/schema';
import type { Simulator } from '../../src/sim/simulator';
import { removeTempDirs, tempDir } from '../e2e/helpers';

export interface CaptureFixture {
  /** Simulators to close after the test. */
  sims: Simulator[];
  /** Export each access level's secret of `base` in the variable the captured profile names. */
  supplySecrets(base: FirmwareProfile, capturedId: string): void;
  /**
   * Write a capture's profile (`<id>.yaml`) and state (`<id>.db`) into a fresh temp dir, supply
   * the secrets of `base`, and return the written profile, validated, with the state's path.
   */
  writeCapture(
    outcome: CaptureOutcome,
    base: FirmwareProfile,
    id: string,
  ): { profile: FirmwareProfile; state: string };
}

/** Register the clean-up hooks of a capture test file; call once, at its top level. */
export function captureFixture(): CaptureFixture {
  const sims: Simulator[] = [];
  const vars: string[] = [];
  afterEach(async () => {
    for (const s of sims.splice(0)) await s.close();
    for (const v of vars.splice(0)) delete process.env[v];
  });
  afterAll(removeTempDirs);

  const supplySecrets = (base: FirmwareProfile, capturedId: string): void => {
    for (const l of base.accessLevels) {
      const v = secretVariable(capturedId, l.name);
      process.env[v] = `hex:${secretBytes(l).toString('hex')}`;
      vars.push(v);
    }
  };

  const writeCapture: CaptureFixture['writeCapture'] = (outcome, base, id) => {
    const dir = tempDir();
    const file = join(dir, `${id}.yaml`);
    const state = join(dir, `${id}.db`);
    writeProfileFile(file, outcome.profile);
    writeStateFile(state, outcome.state, outcome.events, outcome.profile.device.eventLogBound);
    supplySecrets(base, id);
    const v = validateProfileFile(file);
    if (!v.ok || !v.profile) throw new Error('invalid');
    return { profile: v.profile, state };
  };

  return { sims, supplySecrets, writeCapture };
}

/** The interrogation document without what differs between two runs: times. */
export function timeless(doc: object): unknown {
  const d = structuredClone(doc) as Record<string, unknown> & {
    evidence: { field: string }[];
    events: { at?: string }[] | null;
  };
  delete d['interrogatedAt'];
  delete d['clock'];
  d.evidence = d.evidence.filter((e) => e.field !== 'clock');
  for (const e of d.events ?? []) delete e.at;
  return d;
}
