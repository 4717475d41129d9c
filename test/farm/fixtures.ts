/**
 * Shared builders for farm tests: two profiles built in code (the shipped YAML profiles are
 * covered by test/farm/fleets.test.ts) and small fleet documents.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEFAULT_BEHAVIOUR } from '../../src/device/behaviour';
import { staticProfileResolver, type FarmProfile } from '../../src/farm/farm-profile';

export const ESME_PROFILE: FarmProfile = {
  id: 'test-esme',
  deviceType: 'ESME',
  identity: {
    manufacturer: 'Secure',
    model: 'Liberty 100',
    applicationFirmwareId: 'P4X2G04',
    metrologyFirmwareId: 'B2-00',
    serialPrefix: 'SL',
  },
  accessLevels: [
    { name: 'reader', userId: 1, secretHex: '00'.repeat(20) },
    { name: 'privileged', userId: 2, secretHex: '11'.repeat(20) },
    // "123456": a typed (printable) engineering code, as on the Liberty diagnostic menu.
    { name: 'engineering', userId: 3, secretHex: '313233343536' },
  ],
  issuerPrefixes: { SUPA: '9826176001' },
  behaviour: DEFAULT_BEHAVIOUR,
};

export const GSME_PROFILE: FarmProfile = {
  ...ESME_PROFILE,
  id: 'test-gsme',
  deviceType: 'GSME',
  identity: { ...ESME_PROFILE.identity, model: 'Liberty 110', serialPrefix: 'SG' },
};

export const profiles = staticProfileResolver([ESME_PROFILE, GSME_PROFILE]);

/** A two-group fleet object (what parseFleetText yields before defaults). */
export function fleetDoc(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    fleet: 'test',
    seed: 'seed-1',
    groups: [
      {
        name: 'esme',
        profile: 'test-esme',
        count: 40,
        transport: { kind: 'mem', namePattern: 'farm-test-esme-{n}' },
        cohort: 'MOC Secure',
        suppliers: [
          { id: 'SUPA', weight: 3 },
          { id: 'SUPB', weight: 1 },
        ],
        foreignCardShare: 0.25,
        noCardShare: 0.1,
      },
      {
        name: 'gsme',
        profile: 'test-gsme',
        count: 20,
        transport: { kind: 'mem', namePattern: 'farm-test-gsme-{n}' },
        cohort: 'MOC Secure',
        suppliers: [{ id: 'SUPA' }, { id: 'SUPB' }],
        foreignCardShare: 0.5,
      },
    ],
    ...overrides,
  };
}

export function tempDir(prefix: string): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** Run `fn`, return the thrown SimError's code name and message (or 'ok'). */
export function thrown(fn: () => unknown): {
  code: string;
  message: string;
  context: Record<string, unknown>;
} {
  try {
    fn();
  } catch (e) {
    const err = e as { codeName?: string; message: string; context?: Record<string, unknown> };
    return { code: err.codeName ?? 'not-a-SimError', message: err.message, context: err.context ?? {} };
  }
  return { code: 'ok', message: '', context: {} };
}
