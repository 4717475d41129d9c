/**
 * The farm's HTTP control API (fastify; docs/farm.md "Control API"): inspect meters, change
 * their state, inject faults, read the manifest, scrape metrics.
 *
 * Security: bound to 127.0.0.1 by default. Bound to any other address it refuses to start
 * without a bearer token, and then every route but /health needs `Authorization: Bearer
 * <token>` (compared in constant time). /health stays open so that orchestrator probes work
 * without the secret; it reveals only counts.
 *
 * Errors are always `{error, reason}` JSON: 400 for a malformed body or query (the reason
 * names the field), 401 without a valid token, 404 for an unknown meter or route, 409 when the
 * meter refuses the change in its current state.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { isIP } from 'node:net';
import Fastify, { type FastifyInstance, type FastifyReply } from 'fastify';
import { z } from 'zod';
import { ErrorCode, SimError } from '../core/errors';
import { DEVICE_TYPES } from '../device/state';
import { COHORTS, parseCohort } from '../migration/cohorts';
import type { Farm, MeterFilter } from './runtime';

export const DEFAULT_API_HOST = '127.0.0.1';
export const DEFAULT_API_PORT = 8080;
/** Shortest token accepted off-loopback: 16 characters (128 bits as hex would be 32). Modelled policy. */
export const MIN_TOKEN_LENGTH = 16;
/** Routes reachable without a token. */
export const OPEN_ROUTES: readonly string[] = ['/health'];

export interface ControlApiOptions {
  farm: Farm;
  /** Address to bind (default 127.0.0.1). Anything but loopback requires `token`. */
  host?: string;
  /** Bearer token; when set, required on every route but /health, on any address. */
  token?: string;
}

/** 127.0.0.0/8, ::1 (also IPv4-mapped) and `localhost`. */
export function isLoopbackHost(host: string): boolean {
  const h = host
    .trim()
    .toLowerCase()
    .replace(/^\[(.*)\]$/, '$1');
  if (h === 'localhost' || h === '::1' || h === '0:0:0:0:0:0:0:1') return true;
  const v4 = h.startsWith('::ffff:') ? h.slice(7) : h;
  return isIP(v4) === 4 && v4.split('.')[0] === '127';
}

function digest(s: string): Buffer {
  return createHash('sha256').update(s, 'utf8').digest();
}

/** Constant-time comparison (hashing first makes the lengths equal). */
export function tokenMatches(given: string, expected: string): boolean {
  return timingSafeEqual(digest(given), digest(expected));
}

function badRequest(reason: string): SimError {
  return new SimError(ErrorCode.FarmApiBadRequest, reason, { reason });
}

function zodReason(where: string, error: z.ZodError): string {
  return error.issues
    .map((i) => {
      const path = [where, ...i.path.map(String)].join('.');
      if (i.code === 'unrecognized_keys') return i.keys.map((k) => `${path}.${k}: unknown field`).join('; ');
      return `${path}: ${i.message}`;
    })
    .join('; ');
}

function parse<T extends z.ZodType>(schema: T, value: unknown, where: string): z.output<T> {
  const r = schema.safeParse(value);
  if (!r.success) throw badRequest(zodReason(where, r.error));
  return r.data;
}

const supplierId = z.string().regex(/^[A-Z0-9]{4}$/, 'must be 4 upper-case letters or digits (MPID)');
const boolText = z.enum(['true', 'false']).transform((v) => v === 'true');

const listQuery = z.strictObject({
  deviceType: z.enum(DEVICE_TYPES).optional(),
  cohort: z
    .string()
    .transform((s, ctx) => {
      const c = parseCohort(s);
      if (!c)
        ctx.addIssue({ code: 'custom', message: `unknown cohort (expected one of ${COHORTS.join(', ')})` });
      return c ?? z.NEVER;
    })
    .optional(),
  group: z.string().min(1).optional(),
  profile: z.string().min(1).optional(),
  supplierId: supplierId.optional(),
  hasCard: boolText.optional(),
  hasForeignCard: boolText.optional(),
  migrated: boolText.optional(),
  limit: z.coerce.number().int().min(1).max(100_000).default(1000),
  offset: z.coerce.number().int().min(0).default(0),
});

const detailQuery = z.strictObject({ events: z.coerce.number().int().min(0).max(10_000).default(50) });

const cardBody = z.strictObject({
  issuerSupplierId: supplierId,
  paymentCardId: z
    .string()
    .regex(/^\d{19}$/, 'must be exactly 19 digits')
    .optional(),
  siteId: z.string().min(1).max(20).optional(),
});

const supplierBody = z.strictObject({ supplierId });

const faultBody = z
  .strictObject({
    dropLink: z.boolean().optional(),
    delayMs: z.number().int().min(0).max(600_000).optional(),
    busy: z.number().int().min(0).max(1_000_000).optional(),
    corruptFrames: z.number().int().min(0).max(1_000_000).optional(),
    power: z.enum(['on', 'off']).optional(),
  })
  .refine((b) => Object.keys(b).length > 0, {
    message: 'give at least one of dropLink, delayMs, busy, corruptFrames, power',
    // Only when the fields themselves were fine: an unknown field is reason enough.
    when: (payload) => payload.issues.length === 0,
  });

const idParams = z.strictObject({ id: z.string().min(1).max(64) });

function statusOf(e: SimError): number {
  switch (e.code) {
    case ErrorCode.FarmApiBadRequest:
    case ErrorCode.DeviceInvalidIdentifier:
    case ErrorCode.DeviceInvalidOperation:
      return 400;
    case ErrorCode.FarmApiUnauthorised:
      return 401;
    case ErrorCode.FarmMeterNotFound:
      return 404;
    case ErrorCode.DeviceStateConflict:
      return 409;
    default:
      return 500;
  }
}

const ERROR_NAMES: Record<number, string> = {
  400: 'bad-request',
  401: 'unauthorised',
  404: 'not-found',
  409: 'conflict',
  413: 'payload-too-large',
  415: 'unsupported-media-type',
  500: 'internal',
  503: 'unavailable',
};

function sendError(reply: FastifyReply, status: number, reason: string): FastifyReply {
  return reply.code(status).send({ error: ERROR_NAMES[status] ?? 'error', reason });
}

/** Build the app (not yet listening). Throws FarmApiUnauthorised for an unsafe configuration. */
export function createControlApi(options: ControlApiOptions): FastifyInstance {
  const host = options.host ?? DEFAULT_API_HOST;
  const token = options.token;
  if (!isLoopbackHost(host) && token === undefined)
    throw new SimError(
      ErrorCode.FarmApiUnauthorised,
      `control API on ${host} (not loopback) needs a bearer token (SMETS1_FARM_TOKEN)`,
      { host },
    );
  if (token !== undefined && token.length < MIN_TOKEN_LENGTH)
    throw new SimError(
      ErrorCode.FarmApiUnauthorised,
      `control API token must be at least ${MIN_TOKEN_LENGTH} characters`,
      {
        host,
      },
    );
  const farm = options.farm;
  const app = Fastify({ logger: false, bodyLimit: 64 * 1024, forceCloseConnections: 'idle' });

  if (token !== undefined) {
    app.addHook('onRequest', async (req, reply) => {
      if (OPEN_ROUTES.includes(req.url.split('?')[0]!)) return;
      const header = req.headers.authorization ?? '';
      const m = /^Bearer (\S+)$/.exec(header);
      if (!m || !tokenMatches(m[1]!, token)) {
        void reply.header('www-authenticate', 'Bearer');
        // Returning the reply ends the request here: no route handler runs.
        return sendError(
          reply,
          401,
          m ? 'wrong bearer token' : 'missing bearer token (Authorization: Bearer <token>)',
        );
      }
      return undefined;
    });
  }

  app.setErrorHandler(async (err: unknown, _req, reply) => {
    if (err instanceof SimError) return sendError(reply, statusOf(err), err.message);
    const e = err as { statusCode?: number; message?: string };
    // fastify's own faults: unparsable JSON (400), wrong content type (415), too large (413).
    const status =
      typeof e.statusCode === 'number' && e.statusCode >= 400 && e.statusCode < 500 ? e.statusCode : 500;
    return sendError(reply, status, status === 500 ? 'internal error' : `body: ${e.message ?? 'malformed'}`);
  });
  app.setNotFoundHandler(async (req, reply) =>
    sendError(reply, 404, `no route ${req.method} ${req.url.split('?')[0]}`),
  );

  app.get('/health', async (_req, reply) => {
    const h = farm.health();
    return reply.code(h.status === 'running' ? 200 : 503).send(h);
  });

  app.get('/metrics', async (_req, reply) => {
    const text = await farm.metrics.text();
    return reply.header('content-type', farm.metrics.contentType).send(text);
  });

  app.get('/manifest', async () => farm.manifest(new Date().toISOString()));

  app.get('/meters', async (req) => {
    const q = parse(listQuery, req.query, 'query');
    const filter: MeterFilter = {};
    if (q.deviceType !== undefined) filter.deviceType = q.deviceType;
    if (q.cohort !== undefined) filter.cohort = q.cohort;
    if (q.group !== undefined) filter.group = q.group;
    if (q.profile !== undefined) filter.profile = q.profile;
    if (q.supplierId !== undefined) filter.supplierId = q.supplierId;
    if (q.hasCard !== undefined) filter.hasCard = q.hasCard;
    if (q.hasForeignCard !== undefined) filter.hasForeignCard = q.hasForeignCard;
    if (q.migrated !== undefined) filter.migrated = q.migrated;
    const all = farm.list(filter);
    return {
      total: all.length,
      offset: q.offset,
      limit: q.limit,
      meters: all.slice(q.offset, q.offset + q.limit),
    };
  });

  app.get('/meters/:id', async (req) => {
    const { id } = parse(idParams, req.params, 'params');
    const q = parse(detailQuery, req.query, 'query');
    return farm.detail(id, q.events);
  });

  app.post('/meters/:id/card', async (req) => {
    const { id } = parse(idParams, req.params, 'params');
    if (!farm.has(id)) throw notFound(id);
    const body = parse(cardBody, req.body, 'body');
    const card = await farm.giveCard(id, {
      issuerSupplierId: body.issuerSupplierId,
      ...(body.paymentCardId === undefined ? {} : { paymentCardId: body.paymentCardId }),
      ...(body.siteId === undefined ? {} : { siteId: body.siteId }),
    });
    return { card, meter: farm.detail(id, 0).summary };
  });

  app.delete('/meters/:id/card', async (req) => {
    const { id } = parse(idParams, req.params, 'params');
    const result = await farm.removeCard(id);
    return { result, meter: farm.detail(id, 0).summary };
  });

  app.post('/meters/:id/supplier', async (req) => {
    const { id } = parse(idParams, req.params, 'params');
    if (!farm.has(id)) throw notFound(id);
    const body = parse(supplierBody, req.body, 'body');
    const r = await farm.changeSupplier(id, body.supplierId);
    return { previous: r.previous, supplierId: body.supplierId, meter: farm.detail(id, 0).summary };
  });

  app.post('/meters/:id/faults', async (req) => {
    const { id } = parse(idParams, req.params, 'params');
    if (!farm.has(id)) throw notFound(id);
    const body = parse(faultBody, req.body, 'body');
    const patch = Object.fromEntries(Object.entries(body).filter(([, v]) => v !== undefined));
    return { faults: farm.setFaults(id, patch) };
  });

  app.delete('/meters/:id/faults', async (req) => {
    const { id } = parse(idParams, req.params, 'params');
    return { faults: farm.resetFaults(id) };
  });

  return app;
}

function notFound(id: string): SimError {
  return new SimError(ErrorCode.FarmMeterNotFound, `no meter ${id} in this farm shard`, { meterId: id });
}

export interface RunningApi {
  app: FastifyInstance;
  /** `http://HOST:PORT` actually bound. */
  url: string;
  port: number;
  close(): Promise<void>;
}

/** Create and listen (port 0 = any free port). */
export async function startControlApi(options: ControlApiOptions & { port?: number }): Promise<RunningApi> {
  const app = createControlApi(options);
  const host = options.host ?? DEFAULT_API_HOST;
  try {
    await app.listen({ host, port: options.port ?? DEFAULT_API_PORT });
  } catch (e) {
    await app.close();
    throw new SimError(
      ErrorCode.FarmStartFailed,
      `control API cannot listen on ${host}:${options.port ?? DEFAULT_API_PORT}: ${(e as Error).message}`,
      { host },
      { cause: e },
    );
  }
  const a = app.server.address();
  const port = typeof a === 'object' && a ? a.port : (options.port ?? DEFAULT_API_PORT);
  const h = host.includes(':') ? `[${host}]` : host;
  return { app, url: `http://${h}:${port}`, port, close: () => app.close() };
}
