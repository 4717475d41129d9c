/**
 * The example of docs/testing-with-startFarm.md, run as it is printed there (only the import
 * path differs: an integrator writes `from 'smets1-sim/testing'`). If this file changes, the
 * document changes with it.
 */
import { loadProfile } from '../../src/profiles/loader';
import {
  c1218ServerFactory,
  dlmsCredentialsFor,
  farmDlmsProfile,
  openC1218Session,
  openDlmsSession,
  startFarm,
  type StartedFarm,
} from '../../src/testing';

// --- example begins ---------------------------------------------------------------------
const fleet = {
  fleet: 'my-ci',
  seed: 'ci-1',
  groups: [
    {
      name: 'esme',
      profile: 'secure-liberty100-esme-p4x2g04',
      count: 20,
      cohort: 'MOC Secure',
      suppliers: [{ id: 'SUPA' }, { id: 'SUPB' }],
      foreignCardShare: 0.25, // exactly round(20 x 0.25) = 5 meters hold the other supplier's card
    },
  ],
};

let farm: StartedFarm;
beforeAll(async () => {
  farm = await startFarm({ fleet }); // 20 meters, each on its own 127.0.0.1 port
});
afterAll(() => farm.stop());

/** Log on as the SMSO would (the manifest holds each meter's endpoint and secrets). */
function logOn(meter: StartedFarm['meters'][number]) {
  const privileged = meter.credentials.find((c) => c.level === 'privileged')!;
  return openC1218Session({
    connect: farm.endpoints[meter.id]!,
    profile: meter.profile,
    credentials: { level: 'privileged', secret: Buffer.from(privileged.secretHex, 'hex') },
  });
}

test('the client reads the card issuer of every meter holding a foreign card', async () => {
  const foreign = farm.meters.filter((m) => m.card?.foreign);
  expect(foreign).toHaveLength(5);
  for (const meter of foreign) {
    const session = await logOn(meter);
    try {
      const card = (await session.readCardRecord()).value;
      expect(card?.issuerSupplierId).toBe(meter.card!.issuerSupplierId);
      expect(card?.issuerSupplierId).not.toBe(meter.registration.supplierId);
    } finally {
      await session.close();
    }
  }
});

test('clearing over the wire shows in the meter state', async () => {
  const meter = farm.meters.find((m) => m.card !== null)!;
  const session = await logOn(meter);
  try {
    expect((await session.clearCardData()).value.cleared).toBe(true);
  } finally {
    await session.close();
  }
  const state = farm.farm.detail(meter.id).state;
  expect(state.card).toBeNull();
  expect(state.registration.siteId).toBeNull();
});

test('a powered-off meter cannot be reached', async () => {
  const meter = farm.meters[0]!;
  farm.farm.setFaults(meter.id, { power: 'off' });
  try {
    await expect(logOn(meter)).rejects.toMatchObject({
      codeName: expect.stringMatching(/^(Transport|Link)/),
    });
  } finally {
    farm.farm.resetFaults(meter.id);
  }
});
// --- example ends -----------------------------------------------------------------------

test('startFarm options: in-process mem transport, a temporary state dir removed at stop', async () => {
  const mem = await startFarm({ fleet, transport: 'mem', stateDir: 'temp', seed: 'ci-2' });
  try {
    expect(mem.meters).toHaveLength(20);
    expect(Object.values(mem.endpoints).every((u) => u.startsWith('mem:startfarm-'))).toBe(true);
    expect(mem.stateDir).toMatch(/smets1-farm-/);
    expect(mem.manifest.seed).toBe('ci-2');
    // Another seed, another fleet: the identities differ from the TCP farm above.
    expect(mem.meters[0]!.registration.mpxn).not.toBe(farm.meters[0]!.registration.mpxn);
    const meter = mem.meters[1]!;
    const privileged = meter.credentials.find((c) => c.level === 'privileged')!;
    const session = await openC1218Session({
      connect: mem.endpoints[meter.id]!,
      profile: meter.profile,
      credentials: { level: 'privileged', secret: Buffer.from(privileged.secretHex, 'hex') },
    });
    try {
      expect((await session.readIdentity()).value.deviceId).toBe(meter.identity.deviceId);
    } finally {
      await session.close();
    }
  } finally {
    await mem.stop();
  }
  const { existsSync } = await import('node:fs');
  expect(existsSync(mem.stateDir!)).toBe(false);
  // stop() is idempotent.
  await mem.stop();
});

const dlmsFleet = {
  fleet: 'dlms',
  seed: 1,
  groups: [
    {
      name: 'd',
      profile: 'generic-dlms-esme-v1',
      count: 2,
      cohort: 'IOC',
      suppliers: [{ id: 'SUPA' }],
    },
  ],
};

test('a DLMS fleet is served by default: the reference DLMS client reads a meter over the wrapper', async () => {
  const dlms = await startFarm({ fleet: dlmsFleet });
  try {
    const spec = dlms.meters[0]!;
    expect(spec.endpoint.connect).toMatch(/^tcp:\/\/127\.0\.0\.1:\d+$/);
    const profile = farmDlmsProfile(spec, loadProfile('generic-dlms-esme-v1').profile);
    const secrets = new Map(spec.credentials.map((c) => [c.level, Buffer.from(c.secretHex, 'hex')]));
    const session = await openDlmsSession({
      connect: spec.endpoint.connect,
      profile,
      credentials: dlmsCredentialsFor(profile, 'reader', (level) => secrets.get(level)),
    });
    try {
      expect((await session.readIdentity()).value.serial).toBe(spec.identity.serial);
    } finally {
      await session.close();
    }
  } finally {
    await dlms.stop();
  }
});

test('the C12.18-only slot refuses a DLMS profile at start, naming the meter', async () => {
  await expect(startFarm({ fleet: dlmsFleet, factory: c1218ServerFactory })).rejects.toMatchObject({
    codeName: 'FarmStartFailed',
    message: expect.stringMatching(/meter d-\d: .*dlms/),
  });
});
