/**
 * The farm runtime with the probe protocol: start/stop over mem and tcp, the manifest it
 * writes, fault injection as a server sees it, state changes, graceful stop waiting for
 * in-flight requests (on a ManualClock), resume from a state directory, and start failures.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ManualClock } from '../../src/core/clock';
import { validateFleetSpec } from '../../src/farm/fleet-spec';
import { generateFleet, type FleetPlan } from '../../src/farm/generator';
import { manifestDigest, manifestFromPlan, parseManifest } from '../../src/farm/manifest';
import { probeServerFactory } from '../../src/farm/probe-server';
import { Farm, type MeterServerFactory } from '../../src/farm/runtime';
import { connect } from '../../src/transport/open';
import { listenMem } from '../../src/transport/mem';
import { fleetDoc, profiles, tempDir } from './fixtures';
import { LineClient, settle } from './line-client';

let seq = 0;
/** A small mem fleet with names unique in this process. */
function memPlan(count = 4, extra: Record<string, unknown> = {}): FleetPlan {
  const tag = `rt${seq++}`;
  const group = (fleetDoc().groups as Record<string, unknown>[])[0]!;
  return generateFleet(
    validateFleetSpec({
      fleet: 'rt',
      seed: 'rt-seed',
      groups: [
        {
          ...group,
          name: 'esme',
          count,
          transport: { kind: 'mem', namePattern: `${tag}-esme-{n}` },
          foreignCardShare: 0.5,
          noCardShare: 0,
          ...extra,
        },
      ],
    }),
    profiles,
  );
}

async function client(uri: string): Promise<LineClient> {
  return new LineClient(await connect(uri));
}

const farms: Farm[] = [];
async function start(options: Parameters<typeof Farm.start>[0]): Promise<Farm> {
  const f = await Farm.start(options);
  farms.push(f);
  return f;
}
afterEach(async () => {
  await Promise.all(farms.splice(0).map((f) => f.stop()));
});

describe('a mem farm with the probe protocol', () => {
  it('serves every meter with its generated identity and card', async () => {
    const plan = memPlan(4);
    const farm = await start({ plan, profiles, factory: probeServerFactory });
    expect(farm.size).toBe(4);
    expect(farm.resumed).toBe(false);
    for (const spec of plan.meters) {
      const c = await client(spec.endpoint.connect);
      expect(await c.request('IDENT')).toBe(
        `IDENT ${spec.id} ESME ${spec.registration.mpxn} ${spec.identity.deviceId}`,
      );
      expect(await c.request('CARD')).toBe(`CARD ${spec.card!.paymentCardId} ${spec.card!.issuerSupplierId}`);
      expect(await c.request('SUPPLIER')).toBe(`SUPPLIER ${spec.registration.supplierId}`);
      expect(await c.request('NOPE')).toBe('ERR unknown-command');
      await c.close();
    }
    const text = await farm.metrics.text();
    expect(text).toContain('smets1_sessions_total 4');
    expect(text).toContain('smets1_requests_total{service="ident",result="ok"} 4');
    expect(text).toContain('smets1_requests_total{service="unknown",result="err"} 4');
    expect(text).toContain('smets1_meters 4');
  });

  it('the probe protocol discards over-long lines and stays in step', async () => {
    const plan = memPlan(1);
    const farm = await start({ plan, profiles, factory: probeServerFactory });
    const c = await client(plan.meters[0]!.endpoint.connect);
    // 200 bytes, then 200 more and the LF: one 400-byte line, over the 256-byte limit.
    await c.transport.write(Buffer.alloc(200, 0x41));
    await c.transport.write(Buffer.concat([Buffer.alloc(200, 0x42), Buffer.from('\n')]));
    expect(await c.request('PING')).toBe('PONG');
    expect(await farm.metrics.text()).toContain('smets1_errors_total{kind="framing"} 1');
  });

  it('writes a manifest equal to the plan manifest (same digest) and clears count', async () => {
    const { dir, cleanup } = tempDir('farm-rt-');
    try {
      const plan = memPlan(4);
      const manifestPath = join(dir, 'manifest.json');
      const farm = await start({ plan, profiles, factory: probeServerFactory, manifestPath });
      const written = parseManifest(readFileSync(manifestPath, 'utf8'), manifestPath);
      expect(written.generatedAt).toMatch(/^\d{4}-\d\d-\d\dT/);
      expect(manifestDigest(written)).toBe(manifestDigest(manifestFromPlan(plan)));

      const foreign = plan.meters.find((m) => m.card?.foreign)!;
      const c = await client(foreign.endpoint.connect);
      expect(await c.request('CLEAR')).toBe('CLEARED');
      expect(await c.request('CLEAR')).toBe('CLEARED ALREADY');
      expect(await c.request('CARD')).toBe('CARD NONE');
      expect(await farm.metrics.text()).toContain('smets1_clears_total 1');
      expect(farm.manifest().meters.find((m) => m.id === foreign.id)!.card).toBeNull();
      // Stop writes the final manifest: the state the meters stopped in.
      await farm.stop();
      const last = parseManifest(readFileSync(manifestPath, 'utf8'), manifestPath);
      expect(last.meters.find((m) => m.id === foreign.id)!.card).toBeNull();
      expect(manifestDigest(last)).not.toBe(manifestDigest(written));
    } finally {
      cleanup();
    }
  });

  it('lists and filters meters as they are now', async () => {
    const plan = memPlan(4);
    const farm = await start({ plan, profiles, factory: probeServerFactory });
    const foreign = farm.list({ hasForeignCard: true });
    expect(foreign.map((m) => m.id)).toEqual(plan.meters.filter((m) => m.card?.foreign).map((m) => m.id));
    expect(foreign).toHaveLength(2);
    expect(farm.list({ deviceType: 'GSME' })).toEqual([]);
    expect(farm.list({ cohort: 'MOC Secure', group: 'esme' })).toHaveLength(4);

    const own = farm.list({ hasForeignCard: false })[0]!;
    const other = own.supplierId === 'SUPA' ? 'SUPB' : 'SUPA';
    await farm.changeSupplier(own.id, other);
    expect(farm.list({ hasForeignCard: true })).toHaveLength(3);
    await farm.removeCard(own.id);
    expect(farm.list({ hasCard: false }).map((m) => m.id)).toEqual([own.id]);
    const card = await farm.giveCard(own.id, { issuerSupplierId: 'SUPC' });
    expect(card.paymentCardId).toMatch(/^9826\d{15}$/);
    expect(farm.detail(own.id).summary.card).toEqual({
      paymentCardId: card.paymentCardId,
      issuerSupplierId: 'SUPC',
      foreign: true,
    });
    expect(farm.manifest().issuerPrefixes['SUPC']).toBe(card.paymentCardId.slice(0, 10));
    expect(farm.detail(own.id).events.map((e) => e.type)).toEqual([
      'meter-created',
      'supplier-changed',
      'card-cleared',
      'card-registered',
    ]);
  });
});

describe('manifest rewrites', () => {
  it('control API changes rewrite the manifest once, after the coalescing delay', async () => {
    const { dir, cleanup } = tempDir('farm-rt-');
    try {
      const clock = new ManualClock();
      const plan = memPlan(3);
      const manifestPath = join(dir, 'm.json');
      const farm = await Farm.start({
        plan,
        profiles,
        factory: probeServerFactory,
        clock,
        manifestPath,
        manifestDelayMs: 250,
      });
      const supplierOf = (id: string): string =>
        parseManifest(readFileSync(manifestPath, 'utf8')).meters.find((m) => m.id === id)!.registration
          .supplierId;
      const [a, b] = plan.meters;
      const flip = (s: string): string => (s === 'SUPA' ? 'SUPB' : 'SUPA');
      await farm.changeSupplier(a!.id, flip(a!.registration.supplierId));
      await farm.changeSupplier(b!.id, flip(b!.registration.supplierId));
      clock.advance(249);
      expect(supplierOf(a!.id)).toBe(a!.registration.supplierId);
      clock.advance(1);
      expect(supplierOf(a!.id)).toBe(flip(a!.registration.supplierId));
      expect(supplierOf(b!.id)).toBe(flip(b!.registration.supplierId));
      const registration = parseManifest(readFileSync(manifestPath, 'utf8')).registration;
      expect(registration.find((r) => r.mpxn === a!.registration.mpxn)!.supplierId).toBe(
        flip(a!.registration.supplierId),
      );
      await farm.stop();
    } finally {
      cleanup();
    }
  });
});

describe('faults as the server sees them', () => {
  it('busy answers BSY N times, corrupt damages N responses, then all is well', async () => {
    const plan = memPlan(1);
    const farm = await start({ plan, profiles, factory: probeServerFactory });
    const id = plan.meters[0]!.id;
    const c = await client(plan.meters[0]!.endpoint.connect);
    farm.setFaults(id, { busy: 2, corruptFrames: 1 });
    // Corruption applies to the next outgoing frame whatever it is: here the first BSY, whose
    // last byte 'Y' (0x59) goes out inverted (0xA6).
    expect(await c.request('PING')).toBe('BS\xa6');
    expect(await c.request('PING')).toBe('BSY');
    expect(await c.request('PING')).toBe('PONG');
    expect(farm.detail(id).faults).toMatchObject({ busy: 0, corruptFrames: 0 });
    expect(await farm.metrics.text()).toContain('smets1_requests_total{service="ping",result="bsy"} 2');
  });

  it('delayMs holds each response until the clock has moved', async () => {
    const clock = new ManualClock();
    const plan = memPlan(1);
    const farm = await start({ plan, profiles, factory: probeServerFactory, clock });
    farm.setFaults(plan.meters[0]!.id, { delayMs: 500 });
    const c = await client(plan.meters[0]!.endpoint.connect);
    const answer = c.request('PING');
    await settle();
    expect(c.pending).toBe(0);
    clock.advance(499);
    await settle();
    expect(c.pending).toBe(0);
    clock.advance(1);
    expect(await answer).toBe('PONG');
  });

  it('dropLink closes open sessions; the meter accepts a new one', async () => {
    const plan = memPlan(1);
    const farm = await start({ plan, profiles, factory: probeServerFactory });
    const id = plan.meters[0]!.id;
    const c = await client(plan.meters[0]!.endpoint.connect);
    expect(await c.request('PING')).toBe('PONG');
    expect(farm.detail(id).summary.sessions).toBe(1);
    farm.setFaults(id, { dropLink: true });
    await c.closed;
    expect(farm.detail(id).summary.sessions).toBe(0);
    expect(farm.detail(id).faults.linkDrops).toBe(1);
    const again = await client(plan.meters[0]!.endpoint.connect);
    expect(await again.request('PING')).toBe('PONG');
  });

  it('power off closes sessions and refuses new ones until power on', async () => {
    const plan = memPlan(1);
    const farm = await start({ plan, profiles, factory: probeServerFactory });
    const id = plan.meters[0]!.id;
    const c = await client(plan.meters[0]!.endpoint.connect);
    farm.setFaults(id, { power: 'off' });
    await c.closed;
    const refused = await client(plan.meters[0]!.endpoint.connect);
    await refused.closed;
    expect(await farm.metrics.text()).toContain('smets1_meters_powered_off 1');
    expect(farm.list({})[0]!.power).toBe('off');
    farm.resetFaults(id);
    const back = await client(plan.meters[0]!.endpoint.connect);
    expect(await back.request('PING')).toBe('PONG');
    expect(await farm.metrics.text()).toContain('smets1_meters_powered_off 0');
  });
});

describe('graceful stop', () => {
  it('refuses new sessions, waits for the in-flight request, then closes', async () => {
    const clock = new ManualClock();
    const plan = memPlan(1);
    const farm = await Farm.start({ plan, profiles, factory: probeServerFactory, clock });
    farm.setFaults(plan.meters[0]!.id, { delayMs: 1000 });
    const c = await client(plan.meters[0]!.endpoint.connect);
    const answer = c.request('CARD');
    await settle();
    expect(farm.inFlightRequests).toBe(1);
    let stopped = false;
    const stopping = farm.stop().then(() => (stopped = true));
    await settle();
    expect(farm.state).toBe('stopping');
    expect(stopped).toBe(false);
    const late = await client(plan.meters[0]!.endpoint.connect);
    await late.closed;
    clock.advance(1000);
    expect(await answer).toMatch(/^CARD /);
    await stopping;
    expect(farm.state).toBe('stopped');
    await c.closed;
    // Every listener is released: the names can be registered again.
    const l = listenMem(plan.meters[0]!.endpoint.listen.slice(4));
    await l.close();
  });

  it('gives up waiting after stopTimeoutMs', async () => {
    const clock = new ManualClock();
    const plan = memPlan(1);
    const farm = await Farm.start({
      plan,
      profiles,
      factory: probeServerFactory,
      clock,
      stopTimeoutMs: 2000,
    });
    farm.setFaults(plan.meters[0]!.id, { delayMs: 60_000 });
    const c = await client(plan.meters[0]!.endpoint.connect);
    void c.send('PING');
    await settle();
    const stopping = farm.stop();
    await settle();
    clock.advance(2000);
    await stopping;
    expect(farm.state).toBe('stopped');
  });
});

describe('tcp', () => {
  it('port 0: each meter gets its own port, and the manifest says which', async () => {
    const group = (fleetDoc().groups as Record<string, unknown>[])[0]!;
    const plan = generateFleet(
      validateFleetSpec({
        fleet: 'tcp',
        seed: 1,
        groups: [{ ...group, count: 3, transport: { kind: 'tcp-listen', host: '127.0.0.1', portStart: 0 } }],
      }),
      profiles,
    );
    const farm = await start({ plan, profiles, factory: probeServerFactory });
    const m = farm.manifest();
    const ports = m.meters.map((x) => Number(/:(\d+)$/.exec(x.endpoint.connect)![1]));
    expect(new Set(ports).size).toBe(3);
    expect(ports.every((p) => p > 0)).toBe(true);
    for (const [i, meter] of m.meters.entries()) {
      expect(meter.endpoint.listen).toBe(`tcp-listen://127.0.0.1:${ports[i]}`);
      const c = await client(meter.endpoint.connect);
      expect(await c.request('IDENT')).toContain(` ${meter.registration.mpxn} `);
      await c.close();
    }
  });

  it('an advertised host replaces the connect host', async () => {
    const group = (fleetDoc().groups as Record<string, unknown>[])[0]!;
    const plan = generateFleet(
      validateFleetSpec({
        fleet: 'tcp',
        seed: 1,
        groups: [{ ...group, count: 1, transport: { kind: 'tcp-listen', host: '127.0.0.1', portStart: 0 } }],
      }),
      profiles,
    );
    const farm = await start({
      plan,
      profiles,
      factory: probeServerFactory,
      advertiseHost: 'farm-0.smets1-farm',
    });
    expect(farm.manifest().meters[0]!.endpoint.connect).toMatch(/^tcp:\/\/farm-0\.smets1-farm:\d+$/);
  });
});

describe('state directory', () => {
  it('a restart resumes the same meters with their changed state', async () => {
    const { dir, cleanup } = tempDir('farm-state-');
    try {
      const plan = memPlan(4);
      const first = await Farm.start({ plan, profiles, factory: probeServerFactory, stateDir: dir });
      const target = plan.meters.find((m) => m.card?.foreign)!;
      const c = await client(target.endpoint.connect);
      expect(await c.request('CLEAR')).toBe('CLEARED');
      await first.stop();
      expect(existsSync(join(dir, 'farm.sqlite'))).toBe(true);
      expect(JSON.parse(readFileSync(join(dir, 'farm.json'), 'utf8'))).toEqual({
        schema: 'smets1-sim/farm-state',
        version: 1,
        fleet: 'rt',
        seed: 'rt-seed',
        shard: { index: 0, count: 1 },
      });

      const second = await start({ plan, profiles, factory: probeServerFactory, stateDir: dir });
      expect(second.resumed).toBe(true);
      expect(second.size).toBe(4);
      const again = await client(target.endpoint.connect);
      expect(await again.request('CARD')).toBe('CARD NONE');
      expect(second.detail(target.id).events.map((e) => [e.type, e.actor])).toEqual([
        ['meter-created', null],
        ['card-cleared', 'probe'],
      ]);
      const untouched = plan.meters.find((m) => m.id !== target.id)!;
      expect(second.detail(untouched.id).state.card?.paymentCardId).toBe(untouched.card!.paymentCardId);
    } finally {
      cleanup();
    }
  });

  it('refuses a state directory of another fleet, seed or shard', async () => {
    const { dir, cleanup } = tempDir('farm-state-');
    try {
      const plan = memPlan(2);
      const first = await Farm.start({ plan, profiles, factory: probeServerFactory, stateDir: dir });
      await first.stop();
      const other = { ...plan, seed: 'another' };
      await expect(
        Farm.start({ plan: other, profiles, factory: probeServerFactory, stateDir: dir }),
      ).rejects.toMatchObject({
        codeName: 'FarmStartFailed',
        message: `${dir} holds fleet rt seed rt-seed shard 0/1, not fleet rt seed another shard 0/1: use another --state directory`,
      });
      // A shard has its own files, so shard 1/2 may share the directory.
      const sharded = await start({
        plan,
        profiles,
        factory: probeServerFactory,
        stateDir: dir,
        shard: { index: 1, count: 2 },
      });
      expect(sharded.size).toBe(1);
      expect(existsSync(join(dir, 'farm-1-of-2.sqlite'))).toBe(true);
    } finally {
      cleanup();
    }
  });
});

describe('start failures', () => {
  it('a listen failure names the meter and releases what was opened', async () => {
    const plan = memPlan(3);
    const clash = listenMem(plan.meters[2]!.endpoint.listen.slice(4));
    try {
      await expect(
        Farm.start({ plan, profiles, factory: probeServerFactory, listenConcurrency: 1 }),
      ).rejects.toMatchObject({
        codeName: 'FarmStartFailed',
        message: expect.stringContaining(`meter esme-2: cannot listen on ${plan.meters[2]!.endpoint.listen}`),
      });
      const again = listenMem(plan.meters[0]!.endpoint.listen.slice(4));
      await again.close();
    } finally {
      await clash.close();
    }
  });

  it('a failing server factory fails the start and closes the listeners', async () => {
    const plan = memPlan(2);
    let calls = 0;
    const failing: MeterServerFactory = (spec, handle, listener) => {
      if (++calls === 2) throw new Error('no server for you');
      return probeServerFactory(spec, handle, listener);
    };
    await expect(
      Farm.start({ plan, profiles, factory: failing, listenConcurrency: 1 }),
    ).rejects.toMatchObject({
      codeName: 'FarmStartFailed',
      message: 'farm rt shard 0/1: no server for you',
    });
    for (const m of plan.meters) await listenMem(m.endpoint.listen.slice(4)).close();
  });
});
