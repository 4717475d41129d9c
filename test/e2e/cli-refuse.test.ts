/**
 * A meter that refuses to clear in its current state: a test firmware variant (written here,
 * not shipped) whose profile sets `device.clearing.requireMigrated`. `clear` before migration is
 * refused by the device (ST8 result 3, reason `not-migrated`): exit 1 with that reason, nothing
 * changed. `migrate` hands over first, so its clear step succeeds and the flow verifies.
 */
import { copyFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { defaultProfilesDir } from '../../src/profiles/loader';
import { startSimulator, type Simulator } from '../../src/sim/simulator';
import { ESME, cli, login, registrationFile, removeTempDirs, tempDir } from './helpers';

const VARIANT = 'secure-liberty100-esme-p4x2g09';
const dir = tempDir();
let sim: Simulator;

beforeAll(async () => {
  for (const f of ['_secure-liberty-base.yaml', `${ESME}.yaml`])
    copyFileSync(join(defaultProfilesDir(), f), join(dir, f));
  writeFileSync(
    join(dir, `${VARIANT}.yaml`),
    [
      `id: ${VARIANT}`,
      'name: Test variant that clears card data only after migration',
      `extends: ${ESME}`,
      'identity: { applicationFirmwareId: P4X2G09 }',
      'c1219: { identification: { fwVersion: 9 } }',
      'device:',
      '  clearing: { mode: card-and-site, requireMigrated: true }',
      'modelled:',
      '  - { path: device.clearing, reason: test variant }',
      'facts:',
      '  - { path: device.clearing, remove: true }',
      '',
    ].join('\n'),
  );
  writeFileSync(
    join(dir, 'products.yaml'),
    'id: refuse-test\nproducts:\n  - { model: Liberty 100, firmware: P4X2G09 }\n',
  );
  sim = await startSimulator({
    profileId: VARIANT,
    profilesDir: dir,
    listen: 'tcp-listen://127.0.0.1:0',
    card: 'SUPB',
  });
});
afterAll(async () => {
  await sim?.close();
  removeTempDirs();
});

describe('a meter that clears only after migration', () => {
  it('clear alone is refused with the device reason (exit 1); migrate then clears and verifies (exit 0)', async () => {
    const valid = await cli('profiles', 'validate', join(dir, `${VARIANT}.yaml`));
    expect(valid.code).toBe(0);

    const c = await cli(
      'clear',
      '--connect',
      sim.endpoint.connect!,
      '--profiles-dir',
      dir,
      ...login(ESME, 'privileged'),
    );
    expect(c.code).toBe(1);
    expect(c.err).toBe(
      'smets1-sim clear: MP1 CLEAR_PAYMENT_CARD_DATA refused: setupConflict (not-migrated) [ServiceProcedureFailed 409]',
    );
    expect(sim.meter.readCardRecord()).not.toBeNull();

    const m = await cli(
      'migrate',
      '--connect',
      sim.endpoint.connect!,
      '--profiles-dir',
      dir,
      ...login(ESME, 'privileged'),
      '--ruleset',
      'mehrs-5.1',
      '--registration',
      registrationFile(dir, sim, 'SUPA', 'MOC Secure'),
      '--products',
      join(dir, 'products.yaml'),
      '--new-credentials',
      join(dir, 'new.yaml'),
      '--json',
    );
    expect(m.code).toBe(0);
    expect(m.json<{ outcome: string }>().outcome).toBe('verified');
    expect(sim.meter.events().map((e) => e.type)).toEqual(['meter-created', 'migrated', 'card-cleared']);
  });
});
