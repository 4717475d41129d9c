/**
 * The demo's fleet: `fleets/demo.yaml` (1,000 meters of the shipped Secure profiles, 10% of
 * the MOC Secure meters holding another supplier's card: a DEMO CHOICE explained in that
 * file), or, where the file is not shipped (an installed package has no fleets/), the same
 * fleet embedded here. A test keeps the two equal.
 *
 * `--meters N` scales the groups proportionally (largest remainder, the farm's apportion), so a
 * small demo keeps the mix; `--seed S` replaces the seed.
 */
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { ErrorCode, SimError } from '../core/errors';
import { loadFleetFile, validateFleetSpec, type FleetSpec } from '../farm/fleet-spec';
import { apportion } from '../farm/seeded';

const tcp = { kind: 'tcp-listen', host: '127.0.0.1', portStart: 0 } as const;
const threeSuppliers = [
  { id: 'SUPA', weight: 5 },
  { id: 'SUPB', weight: 3 },
  { id: 'SUPC', weight: 2 },
];

/** fleets/demo.yaml as data (see that file for the reasoning behind each number). */
export const EMBEDDED_DEMO_FLEET = {
  fleet: 'demo',
  seed: 'demo-2021-10-12',
  groups: [
    {
      name: 'moc-esme-g04',
      profile: 'secure-liberty100-esme-p4x2g04',
      count: 450,
      deviceType: 'ESME',
      transport: tcp,
      cohort: 'MOC Secure',
      suppliers: threeSuppliers,
      foreignCardShare: 0.1,
      noCardShare: 0.05,
    },
    {
      name: 'moc-esme-g05',
      profile: 'secure-liberty100-esme-p4x2g05',
      count: 100,
      deviceType: 'ESME',
      transport: tcp,
      cohort: 'MOC Secure',
      suppliers: [{ id: 'SUPA' }, { id: 'SUPB' }],
      foreignCardShare: 0.1,
      noCardShare: 0.05,
    },
    {
      name: 'moc-gsme',
      profile: 'secure-liberty110-gsme-g1x2g01',
      count: 350,
      deviceType: 'GSME',
      transport: tcp,
      cohort: 'MOC Secure',
      suppliers: threeSuppliers,
      foreignCardShare: 0.1,
      noCardShare: 0.05,
    },
    {
      name: 'ioc-esme',
      profile: 'secure-liberty100-esme-p4x2g04',
      count: 100,
      deviceType: 'ESME',
      transport: tcp,
      cohort: 'IOC',
      suppliers: [{ id: 'SUPA' }, { id: 'SUPB' }],
      foreignCardShare: 0.1,
    },
  ],
};

/** fleets/demo.yaml found by walking up from this module (sources and builds alike). */
export function demoFleetFile(): string | undefined {
  let dir = __dirname;
  for (let i = 0; i < 6; i++) {
    const candidate = join(dir, 'fleets', 'demo.yaml');
    if (existsSync(candidate)) return candidate;
    const up = dirname(dir);
    if (up === dir) break;
    dir = up;
  }
  return undefined;
}

export function loadDemoFleet(): { spec: FleetSpec; source: string } {
  const file = demoFleetFile();
  if (file) return { spec: loadFleetFile(file), source: file };
  return { spec: validateFleetSpec(EMBEDDED_DEMO_FLEET, '<embedded demo fleet>'), source: 'embedded' };
}

export function fleetSize(spec: FleetSpec): number {
  return spec.groups.reduce((n, g) => n + g.count, 0) + spec.devices.length;
}

/**
 * The fleet with `meters` meters in the same group proportions (groups that round to zero are
 * left out; hand-written devices are kept and count towards the total).
 */
export function scaleFleet(spec: FleetSpec, meters: number): FleetSpec {
  const groupMeters = meters - spec.devices.length;
  if (!Number.isInteger(meters) || groupMeters < 1)
    throw new SimError(
      ErrorCode.UsageError,
      `--meters must be an integer of at least ${spec.devices.length + 1} (got ${meters})`,
      { meters },
    );
  const parts = apportion(
    groupMeters,
    spec.groups.map((g) => g.count),
  );
  return {
    ...spec,
    groups: spec.groups.map((g, i) => ({ ...g, count: parts[i]! })).filter((g) => g.count > 0),
  };
}
