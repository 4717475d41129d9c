/**
 * The control API through fastify's inject() (no network), plus one real listen on
 * 127.0.0.1:0: routes, 400 with a reason naming the field, 401 without or with a wrong token,
 * 404, 409, and the refusal to bind off-loopback without a token.
 */
import type { FastifyInstance } from 'fastify';
import { validateFleetSpec } from '../../src/farm/fleet-spec';
import { generateFleet, type FleetPlan } from '../../src/farm/generator';
import { createControlApi, isLoopbackHost, startControlApi, tokenMatches } from '../../src/farm/control-api';
import { probeServerFactory } from '../../src/farm/probe-server';
import { Farm } from '../../src/farm/runtime';
import { fleetDoc, profiles, thrown } from './fixtures';
import { httpGet } from './line-client';

// fastify's inject() (light-my-request) requires `cookie` 2.x, which is ESM-only and cannot be
// loaded by jest's CommonJS module system. light-my-request uses it only to encode request
// cookies, which these tests never send, so a stand-in that refuses to be used is enough.
jest.mock('cookie', () => ({
  stringifySetCookie: () => {
    throw new Error('control API tests send no cookies');
  },
}));

const TOKEN = 'test-token-0123456789abcdef';

function plan(): FleetPlan {
  const doc = fleetDoc();
  const [esme, gsme] = doc.groups as Record<string, unknown>[];
  return generateFleet(
    validateFleetSpec({
      ...doc,
      groups: [
        { ...esme, count: 8, transport: { kind: 'mem', namePattern: 'api-esme-{n}' } },
        { ...gsme, count: 4, transport: { kind: 'mem', namePattern: 'api-gsme-{n}' } },
      ],
    }),
    profiles,
  );
}

let farm: Farm;
let app: FastifyInstance;
let fleet: FleetPlan;
beforeAll(async () => {
  fleet = plan();
  farm = await Farm.start({ plan: fleet, profiles, factory: probeServerFactory });
  app = createControlApi({ farm });
});
afterAll(async () => {
  await app.close();
  await farm.stop();
});

type Json = Record<string, unknown>;
async function call(
  method: 'GET' | 'POST' | 'DELETE',
  url: string,
  body?: unknown,
  headers: Record<string, string> = {},
) {
  const r = await app.inject({
    method,
    url,
    headers,
    ...(body === undefined
      ? {}
      : typeof body === 'string'
        ? { payload: body, headers: { 'content-type': 'application/json', ...headers } }
        : { payload: body as Json }),
  });
  return {
    status: r.statusCode,
    body: r.headers['content-type']?.toString().startsWith('application/json') ? (r.json() as Json) : r.body,
    headers: r.headers,
  };
}

describe('reading', () => {
  it('GET /health', async () => {
    const r = await call('GET', '/health');
    expect(r).toMatchObject({
      status: 200,
      body: { status: 'running', fleet: 'test', shard: '0/1', meters: 12, sessionsOpen: 0, inFlight: 0 },
    });
  });

  it('GET /meters lists with filters and paging', async () => {
    const all = await call('GET', '/meters');
    expect(all.body).toMatchObject({ total: 12, offset: 0, limit: 1000 });
    const gsme = await call('GET', '/meters?deviceType=GSME');
    expect((gsme.body as { meters: Json[] }).meters.map((m) => m['id'])).toEqual([
      'gsme-0',
      'gsme-1',
      'gsme-2',
      'gsme-3',
    ]);
    const foreign = await call('GET', '/meters?hasForeignCard=true&cohort=MOC%20(Secure)');
    const expected = fleet.meters.filter((m) => m.card?.foreign).map((m) => m.id);
    expect((foreign.body as { total: number }).total).toBe(expected.length);
    expect((foreign.body as { meters: Json[] }).meters.map((m) => m['id'])).toEqual(expected);
    const page = await call('GET', '/meters?group=esme&limit=3&offset=6');
    expect((page.body as { meters: Json[] }).meters.map((m) => m['id'])).toEqual(['esme-6', 'esme-7']);
  });

  it('GET /meters/:id returns the full state', async () => {
    const spec = fleet.meters[0]!;
    const r = await call('GET', `/meters/${spec.id}?events=5`);
    expect(r.status).toBe(200);
    const body = r.body as { state: Json; manifest: Json; faults: Json; events: Json[]; summary: Json };
    expect(body.state['identity']).toEqual(spec.identity);
    expect(body.manifest['endpoint']).toEqual(spec.endpoint);
    expect(body.faults).toEqual({ power: 'on', delayMs: 0, busy: 0, corruptFrames: 0, linkDrops: 0 });
    expect(body.events.map((e) => e['type'])).toEqual(['meter-created']);
    expect(body.summary['mpxn']).toBe(spec.registration.mpxn);
  });

  it('GET /manifest and /metrics', async () => {
    const m = await call('GET', '/manifest');
    expect((m.body as { meters: Json[] }).meters).toHaveLength(12);
    const metrics = await call('GET', '/metrics');
    expect(metrics.status).toBe(200);
    expect(String(metrics.headers['content-type'])).toMatch(/^text\/plain/);
    for (const name of [
      'smets1_sessions_total',
      'smets1_requests_total',
      'smets1_errors_total',
      'smets1_clears_total',
      'smets1_meters 12',
      'smets1_response_seconds',
    ])
      expect(metrics.body).toContain(name);
  });
});

describe('changing state', () => {
  it('POST and DELETE /meters/:id/card', async () => {
    const id = 'esme-1';
    const given = await call('POST', `/meters/${id}/card`, { issuerSupplierId: 'SUPZ' });
    expect(given.status).toBe(200);
    const card = (given.body as { card: Json }).card;
    expect(card['issuerSupplierId']).toBe('SUPZ');
    expect((given.body as { meter: Json }).meter['card']).toMatchObject({
      issuerSupplierId: 'SUPZ',
      foreign: true,
    });
    const removed = await call('DELETE', `/meters/${id}/card`);
    expect(removed.status).toBe(200);
    expect((removed.body as { result: Json }).result).toMatchObject({
      alreadyClear: false,
      cleared: { paymentCardId: card['paymentCardId'] },
    });
    expect((removed.body as { meter: Json }).meter['card']).toBeNull();
  });

  it('POST /meters/:id/supplier, then 409 for the same supplier again', async () => {
    const r = await call('POST', '/meters/esme-2/supplier', { supplierId: 'SUPY' });
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ supplierId: 'SUPY', meter: { supplierId: 'SUPY' } });
    const again = await call('POST', '/meters/esme-2/supplier', { supplierId: 'SUPY' });
    expect(again).toMatchObject({
      status: 409,
      body: { error: 'conflict', reason: 'esme-2: changeSupplier: already registered to SUPY' },
    });
  });

  it('POST and DELETE /meters/:id/faults', async () => {
    const r = await call('POST', '/meters/esme-3/faults', { busy: 2, delayMs: 10, power: 'off' });
    expect(r).toMatchObject({
      status: 200,
      body: { faults: { busy: 2, delayMs: 10, power: 'off', corruptFrames: 0 } },
    });
    const reset = await call('DELETE', '/meters/esme-3/faults');
    expect(reset).toMatchObject({ status: 200, body: { faults: { busy: 0, delayMs: 0, power: 'on' } } });
  });
});

describe('errors', () => {
  it.each([
    ['unknown field', 'POST', '/meters/esme-0/faults', { explode: true }, 'body.explode: unknown field'],
    [
      'wrong type',
      'POST',
      '/meters/esme-0/faults',
      { delayMs: 'slow' },
      'body.delayMs: Invalid input: expected number, received string',
    ],
    [
      'out of range',
      'POST',
      '/meters/esme-0/faults',
      { busy: -1 },
      'body.busy: Too small: expected number to be >=0',
    ],
    [
      'empty faults',
      'POST',
      '/meters/esme-0/faults',
      {},
      'body: give at least one of dropLink, delayMs, busy, corruptFrames, power',
    ],
    [
      'bad power',
      'POST',
      '/meters/esme-0/faults',
      { power: 'maybe' },
      'body.power: Invalid option: expected one of "on"|"off"',
    ],
    [
      'bad supplier id',
      'POST',
      '/meters/esme-0/supplier',
      { supplierId: 'abc' },
      'body.supplierId: must be 4 upper-case letters or digits (MPID)',
    ],
    [
      'missing issuer',
      'POST',
      '/meters/esme-0/card',
      { paymentCardId: '1234' },
      'body.issuerSupplierId: Invalid input: expected string, received undefined; body.paymentCardId: must be exactly 19 digits',
    ],
    ['malformed JSON', 'POST', '/meters/esme-0/faults', '{"busy": ', undefined],
    [
      'bad query',
      'GET',
      '/meters?hasForeignCard=yes',
      undefined,
      'query.hasForeignCard: Invalid option: expected one of "true"|"false"',
    ],
    ['unknown query parameter', 'GET', '/meters?colour=red', undefined, 'query.colour: unknown field'],
  ] as const)('400 for %s', async (_name, method, url, body, reason) => {
    const r = await call(method, url, body);
    expect(r.status).toBe(400);
    expect((r.body as Json)['error']).toBe('bad-request');
    if (reason !== undefined) expect((r.body as Json)['reason']).toBe(reason);
    else expect(String((r.body as Json)['reason'])).toMatch(/^body: .*JSON/i);
  });

  it('400 for a Payment Card ID that fails the Luhn check, naming the field', async () => {
    const r = await call('POST', '/meters/esme-0/card', {
      issuerSupplierId: 'SUPA',
      paymentCardId: '9826176001000000001',
    });
    expect(r.status).toBe(400);
    expect((r.body as Json)['reason']).toMatch(/^paymentCardId: Luhn check digit is 1, expected \d$/);
  });

  it.each([
    ['GET', '/meters/nope'],
    ['POST', '/meters/nope/faults'],
    ['DELETE', '/meters/nope/card'],
    ['POST', '/meters/nope/supplier'],
  ] as const)('404 for %s %s', async (method, url) => {
    const r = await call(method, url, method === 'POST' ? { supplierId: 'SUPA', busy: 1 } : undefined);
    expect(r).toMatchObject({
      status: 404,
      body: { error: 'not-found', reason: 'no meter nope in this farm shard' },
    });
  });

  it('404 for an unknown route', async () => {
    expect(await call('GET', '/nothing')).toMatchObject({
      status: 404,
      body: { error: 'not-found', reason: 'no route GET /nothing' },
    });
  });
});

describe('bearer token', () => {
  it('refuses to build off-loopback without a token, or with a short one', () => {
    expect(thrown(() => createControlApi({ farm, host: '0.0.0.0' }))).toMatchObject({
      code: 'FarmApiUnauthorised',
      message: 'control API on 0.0.0.0 (not loopback) needs a bearer token (SMETS1_FARM_TOKEN)',
    });
    expect(thrown(() => createControlApi({ farm, host: '10.0.0.5', token: 'short' })).code).toBe(
      'FarmApiUnauthorised',
    );
  });

  it('off-loopback: 401 without or with a wrong token, 200 with it; /health stays open', async () => {
    const secured = createControlApi({ farm, host: '0.0.0.0', token: TOKEN });
    try {
      const missing = await secured.inject({ method: 'GET', url: '/meters' });
      expect(missing.statusCode).toBe(401);
      expect(missing.json()).toEqual({
        error: 'unauthorised',
        reason: 'missing bearer token (Authorization: Bearer <token>)',
      });
      expect(missing.headers['www-authenticate']).toBe('Bearer');
      const wrong = await secured.inject({
        method: 'GET',
        url: '/meters',
        headers: { authorization: `Bearer ${TOKEN}x` },
      });
      expect(wrong.statusCode).toBe(401);
      expect(wrong.json()).toEqual({ error: 'unauthorised', reason: 'wrong bearer token' });
      const basic = await secured.inject({
        method: 'GET',
        url: '/metrics',
        headers: { authorization: `Basic ${TOKEN}` },
      });
      expect(basic.statusCode).toBe(401);
      const post = await secured.inject({
        method: 'POST',
        url: '/meters/esme-0/faults',
        payload: { busy: 1 },
      });
      expect(post.statusCode).toBe(401);
      expect(farm.detail('esme-0').faults.busy).toBe(0);
      const ok = await secured.inject({
        method: 'GET',
        url: '/meters?limit=1',
        headers: { authorization: `Bearer ${TOKEN}` },
      });
      expect(ok.statusCode).toBe(200);
      expect((await secured.inject({ method: 'GET', url: '/health' })).statusCode).toBe(200);
    } finally {
      await secured.close();
    }
  });

  it.each([
    ['127.0.0.1', true],
    ['127.8.9.10', true],
    ['localhost', true],
    ['::1', true],
    ['[::1]', true],
    ['::ffff:127.0.0.1', true],
    ['0.0.0.0', false],
    ['::', false],
    ['10.1.2.3', false],
    ['128.0.0.1', false],
    ['127.0.0.256', false],
    ['example.com', false],
  ])('isLoopbackHost(%s) = %s', (host, loopback) => {
    expect(isLoopbackHost(host)).toBe(loopback);
  });

  it('tokenMatches compares whole tokens', () => {
    expect(tokenMatches(TOKEN, TOKEN)).toBe(true);
    expect(tokenMatches(TOKEN.slice(0, -1), TOKEN)).toBe(false);
    expect(tokenMatches('', TOKEN)).toBe(false);
  });
});

describe('a real listener', () => {
  it('serves on 127.0.0.1:0', async () => {
    const api = await startControlApi({ farm, host: '127.0.0.1', port: 0, token: TOKEN });
    try {
      expect(api.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      const health = await httpGet(`${api.url}/health`);
      expect(health.status).toBe(200);
      const denied = await httpGet(`${api.url}/meters`);
      expect(denied.status).toBe(401);
      const list = await httpGet(`${api.url}/meters?deviceType=ESME&limit=2`, {
        authorization: `Bearer ${TOKEN}`,
      });
      expect(list.status).toBe(200);
      expect((JSON.parse(list.body) as { meters: Json[] }).meters.map((m) => m['id'])).toEqual([
        'esme-0',
        'esme-1',
      ]);
    } finally {
      await api.close();
    }
  });
});
