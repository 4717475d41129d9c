/**
 * The farm manifest (docs/farm.md "Manifest"): every meter's endpoint, profile, identities and
 * credentials, plus the registration data (MPAN core/MPRN -> Responsible Supplier, cohort) as
 * rows in the migration layer's registration JSON format (docs/migration.md §5), so a sweep
 * can hand `manifest.registration` straight to `parseRegistrationJson`.
 *
 * Determinism: everything except `generatedAt` is a function of the fleet file (and, once the
 * farm runs, of the bound ports and the meters' state). `manifestDigest` hashes that part.
 * Each shard writes its own part; `mergeManifests` joins the parts of one fleet.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { z } from 'zod';
import { ErrorCode, SimError } from '../core/errors';
import { DEVICE_TYPES } from '../device/state';
import { COHORTS, type Cohort } from '../migration/cohorts';
import type { FleetPlan, MeterSpec } from './generator';
import { selectShard, WHOLE_FLEET, type Shard } from './shard';

export const MANIFEST_SCHEMA = 'smets1-sim/farm-manifest' as const;
export const MANIFEST_VERSION = 1 as const;

/** One row of registration JSON (docs/migration.md §5 keys). */
export interface RegistrationRow {
  mpxn: string;
  supplierId: string;
  cohort: Cohort;
}

export interface Manifest {
  schema: typeof MANIFEST_SCHEMA;
  version: typeof MANIFEST_VERSION;
  fleet: string;
  seed: string;
  shard: Shard;
  /** Meters in the whole fleet (this part holds `meters.length` of them). */
  fleetMeters: number;
  issuerPrefixes: Record<string, string>;
  meters: MeterSpec[];
  registration: RegistrationRow[];
  /** When this file was written; not part of the deterministic content. */
  generatedAt?: string;
}

/** Rebuild a meter entry in the canonical key order (the digest depends on it). */
export function canonicalMeter(m: MeterSpec): MeterSpec {
  return {
    index: m.index,
    id: m.id,
    group: m.group,
    profile: m.profile,
    deviceType: m.deviceType,
    cohort: m.cohort,
    endpoint: { listen: m.endpoint.listen, connect: m.endpoint.connect },
    identity: {
      manufacturer: m.identity.manufacturer,
      model: m.identity.model,
      deviceType: m.identity.deviceType,
      serial: m.identity.serial,
      applicationFirmwareId: m.identity.applicationFirmwareId,
      metrologyFirmwareId: m.identity.metrologyFirmwareId,
      deviceId: m.identity.deviceId,
    },
    registration: {
      mpxn: m.registration.mpxn,
      mpanCore: m.registration.mpanCore,
      mprn: m.registration.mprn,
      supplierId: m.registration.supplierId,
      siteId: m.registration.siteId,
    },
    card: m.card
      ? {
          paymentCardId: m.card.paymentCardId,
          issuerSupplierId: m.card.issuerSupplierId,
          foreign: m.card.foreign,
        }
      : null,
    credentials: m.credentials.map((c) => ({ level: c.level, userId: c.userId, secretHex: c.secretHex })),
    ...(m.link !== undefined ? { link: m.link } : {}),
    ...(m.template !== undefined ? { template: { file: m.template.file, sha256: m.template.sha256 } } : {}),
  };
}

export function registrationRow(m: MeterSpec): RegistrationRow {
  return { mpxn: m.registration.mpxn, supplierId: m.registration.supplierId, cohort: m.cohort };
}

export interface ManifestMeta {
  fleet: string;
  seed: string;
  shard: Shard;
  fleetMeters: number;
  issuerPrefixes: Record<string, string>;
}

export function buildManifest(
  meta: ManifestMeta,
  meters: readonly MeterSpec[],
  generatedAt?: string,
): Manifest {
  const sorted = [...meters].sort((a, b) => a.index - b.index).map(canonicalMeter);
  const prefixes: Record<string, string> = {};
  for (const k of Object.keys(meta.issuerPrefixes).sort()) prefixes[k] = meta.issuerPrefixes[k]!;
  return {
    schema: MANIFEST_SCHEMA,
    version: MANIFEST_VERSION,
    fleet: meta.fleet,
    seed: meta.seed,
    shard: { index: meta.shard.index, count: meta.shard.count },
    fleetMeters: meta.fleetMeters,
    issuerPrefixes: prefixes,
    meters: sorted,
    registration: sorted.map(registrationRow),
    ...(generatedAt === undefined ? {} : { generatedAt }),
  };
}

/** The manifest of a plan before anything runs (endpoints as declared, ports 0 unbound). */
export function manifestFromPlan(plan: FleetPlan, shard: Shard = WHOLE_FLEET): Manifest {
  return buildManifest(
    {
      fleet: plan.fleet,
      seed: plan.seed,
      shard,
      fleetMeters: plan.meters.length,
      issuerPrefixes: plan.issuerPrefixes,
    },
    selectShard(plan, shard),
  );
}

export function serializeManifest(m: Manifest): string {
  return `${JSON.stringify(m, null, 2)}\n`;
}

/** SHA-256 of the deterministic part (everything but generatedAt). */
export function manifestDigest(m: Manifest): string {
  const { generatedAt: _omit, ...rest } = m;
  return createHash('sha256').update(JSON.stringify(rest)).digest('hex');
}

/** The registration rows as a registration JSON file (input of parseRegistrationJson). */
export function registrationJson(m: Manifest): string {
  return `${JSON.stringify(m.registration, null, 2)}\n`;
}

/** Write atomically (temp file + rename): a reader never sees half a manifest. */
export function writeManifestFile(path: string, m: Manifest): void {
  try {
    mkdirSync(dirname(path), { recursive: true });
    const tmp = `${path}.${process.pid}.tmp`;
    writeFileSync(tmp, serializeManifest(m));
    renameSync(tmp, path);
  } catch (e) {
    throw new SimError(
      ErrorCode.IoError,
      `${path}: cannot write manifest: ${(e as Error).message}`,
      { path },
      { cause: e },
    );
  }
}

const hexSecret = z.string().regex(/^(?:[0-9a-f]{2}){1,64}$/);
const supplier = z.string().regex(/^[A-Z0-9]{4}$/);

const meterSchema = z.strictObject({
  index: z.number().int().nonnegative(),
  id: z.string().min(1),
  group: z.string().nullable(),
  profile: z.string().min(1),
  deviceType: z.enum(DEVICE_TYPES),
  cohort: z.enum(COHORTS),
  endpoint: z.strictObject({ listen: z.string().min(1), connect: z.string().min(1) }),
  identity: z.strictObject({
    manufacturer: z.string(),
    model: z.string(),
    deviceType: z.enum(DEVICE_TYPES),
    serial: z.string(),
    applicationFirmwareId: z.string(),
    metrologyFirmwareId: z.string(),
    deviceId: z.string(),
  }),
  registration: z.strictObject({
    mpxn: z.string(),
    mpanCore: z.string().nullable(),
    mprn: z.string().nullable(),
    supplierId: supplier,
    siteId: z.string().nullable(),
  }),
  card: z
    .strictObject({ paymentCardId: z.string(), issuerSupplierId: supplier, foreign: z.boolean() })
    .nullable(),
  credentials: z.array(
    z.strictObject({ level: z.string(), userId: z.number().int().nonnegative(), secretHex: hexSecret }),
  ),
  link: z.enum(['hdlc', 'wrapper', 'mode-e']).optional(),
  template: z
    .strictObject({ file: z.string().min(1), sha256: z.string().regex(/^[0-9a-f]{64}$/) })
    .optional(),
});

const shardSchema = z.strictObject({
  index: z.number().int().nonnegative(),
  count: z.number().int().positive(),
});

const manifestSchema = z.strictObject({
  schema: z.literal(MANIFEST_SCHEMA),
  version: z.literal(MANIFEST_VERSION),
  fleet: z.string().min(1),
  seed: z.string().min(1),
  shard: shardSchema,
  fleetMeters: z.number().int().nonnegative(),
  issuerPrefixes: z.record(supplier, z.string().regex(/^\d{1,17}$/)),
  meters: z.array(meterSchema),
  registration: z.array(z.strictObject({ mpxn: z.string(), supplierId: supplier, cohort: z.enum(COHORTS) })),
  generatedAt: z.string().optional(),
});

function manifestError(source: string, reason: string): SimError {
  return new SimError(ErrorCode.FarmManifestInvalid, `${source}: ${reason}`, { source, reason });
}

/** Read a manifest (a sweep's input). Throws FarmManifestInvalid naming the source and path. */
export function parseManifest(text: string, source = 'manifest.json'): Manifest {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw manifestError(source, `not valid JSON: ${(e as Error).message}`);
  }
  const r = manifestSchema.safeParse(raw);
  if (!r.success) {
    const i = r.error.issues[0]!;
    throw manifestError(source, `${i.path.map(String).join('.') || '<root>'}: ${i.message}`);
  }
  const m = r.data as Manifest;
  if (m.shard.index >= m.shard.count)
    throw manifestError(source, `shard ${m.shard.index}/${m.shard.count} is out of range`);
  if (m.registration.length !== m.meters.length)
    throw manifestError(source, `${m.meters.length} meters but ${m.registration.length} registration rows`);
  return m;
}

/**
 * Join the manifest parts of one fleet: same fleet, seed and shard count, every shard exactly
 * once, no meter in two parts. The result is the whole-fleet manifest (shard 0/1), byte-equal
 * to the one a single unsharded farm with the same state would write.
 */
export function mergeManifests(parts: readonly Manifest[]): Manifest {
  const first = parts[0];
  if (!first) throw manifestError('merge', 'no manifest parts given');
  const count = first.shard.count;
  const seenShard = new Map<number, number>();
  const meters = new Map<string, number>();
  const all: MeterSpec[] = [];
  parts.forEach((p, i) => {
    const tag = `part ${i} (shard ${p.shard.index}/${p.shard.count})`;
    if (p.fleet !== first.fleet || p.seed !== first.seed)
      throw manifestError(
        'merge',
        `${tag} is fleet ${p.fleet} seed ${p.seed}, part 0 is fleet ${first.fleet} seed ${first.seed}`,
      );
    if (p.shard.count !== count)
      throw manifestError('merge', `${tag} has ${p.shard.count} shards, part 0 has ${count}`);
    if (p.fleetMeters !== first.fleetMeters)
      throw manifestError(
        'merge',
        `${tag} counts ${p.fleetMeters} fleet meters, part 0 counts ${first.fleetMeters}`,
      );
    const prior = seenShard.get(p.shard.index);
    if (prior !== undefined) throw manifestError('merge', `${tag} repeats the shard of part ${prior}`);
    seenShard.set(p.shard.index, i);
    for (const m of p.meters) {
      const where = meters.get(m.id);
      if (where !== undefined) throw manifestError('merge', `meter ${m.id} is in part ${where} and ${tag}`);
      meters.set(m.id, i);
      all.push(m);
    }
  });
  const missing = Array.from({ length: count }, (_, i) => i).filter((i) => !seenShard.has(i));
  if (missing.length)
    throw manifestError('merge', `missing shard(s) ${missing.map((i) => `${i}/${count}`).join(', ')}`);
  if (all.length !== first.fleetMeters)
    throw manifestError('merge', `parts hold ${all.length} meters, the fleet has ${first.fleetMeters}`);
  const prefixes: Record<string, string> = {};
  for (const p of parts) Object.assign(prefixes, p.issuerPrefixes);
  return buildManifest(
    {
      fleet: first.fleet,
      seed: first.seed,
      shard: WHOLE_FLEET,
      fleetMeters: first.fleetMeters,
      issuerPrefixes: prefixes,
    },
    all,
  );
}
