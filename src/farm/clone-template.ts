/**
 * Clone templates (docs/farm.md "Clones of a captured meter", docs/capture.md "A fleet of
 * clones"): a fleet group's `template:` names a state file written by `smets1-sim capture
 * --state-out`, and every generated meter of the group starts from that meter's state — its
 * prepayment, clock offset, migration state — with its own identity, registration, card and
 * credentials laid over it, and a fresh event log.
 *
 * The file is read once per group, as bytes: their SHA-256 goes into every clone's manifest
 * entry (a changed template is visible), and the database is opened from those bytes in memory,
 * so the template is never written to (it may sit on a read-only volume) and what is hashed is
 * exactly what is used.
 */
import { createHash } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import Database from 'better-sqlite3';
import { newMeterState } from '../device/new-meter';
import type { DeviceBehaviour } from '../device/behaviour';
import type { MeterState } from '../device/state';
import { parseMeterState } from '../device/state-schema';
import { schemaVersion, SQLITE_SCHEMA_VERSION } from '../device/storage';
import type { FarmProfile } from './farm-profile';
import type { FleetPlan, MeterSpec } from './generator';

/** A template as the manifest records it: the path as the fleet file gives it, and the hash. */
export interface TemplateRef {
  file: string;
  sha256: string;
}

export interface CloneTemplate extends TemplateRef {
  /** The captured meter's state (validated as storage validates every record). */
  state: MeterState;
}

/** Why a template cannot be used; the generator reports it at the group's `template` key. */
export class TemplateError extends Error {}

const SQLITE_MAGIC = Buffer.from('SQLite format 3\0', 'latin1');

function openBytes(bytes: Buffer, path: string): Database.Database {
  if (bytes.length < 100 || !bytes.subarray(0, 16).equals(SQLITE_MAGIC))
    throw new TemplateError(`${path} is not a SQLite state file (write one with capture --state-out)`);
  // A WAL-mode header (bytes 18/19 = 2) cannot be opened from memory; the content is the same.
  const copy = Buffer.from(bytes);
  copy[18] = 1;
  copy[19] = 1;
  try {
    return new Database(copy, { readonly: true });
  } catch (e) {
    throw new TemplateError(`${path}: cannot open: ${(e as Error).message}`);
  }
}

/** The one meter of a state file's bytes. */
function templateState(db: Database.Database, path: string): MeterState {
  let rows: { id: string; state: string }[];
  try {
    const version = schemaVersion(db);
    if (version === 0 || version > SQLITE_SCHEMA_VERSION)
      throw new TemplateError(
        `${path} is not a meter state file this version reads (schema ${version}, expected 1–${SQLITE_SCHEMA_VERSION})`,
      );
    rows = db.prepare('SELECT id, state FROM meters ORDER BY id LIMIT 2').all() as typeof rows;
  } catch (e) {
    if (e instanceof TemplateError) throw e;
    throw new TemplateError(`${path} is not a meter state file: ${(e as Error).message}`);
  }
  if (rows.length !== 1)
    throw new TemplateError(
      `${path} holds ${rows.length === 0 ? 'no meter' : 'more than one meter'}: a template is the state file of one captured meter`,
    );
  try {
    return parseMeterState(JSON.parse(rows[0]!.state), `${path}:${rows[0]!.id}`);
  } catch (e) {
    throw new TemplateError((e as Error).message);
  }
}

/**
 * Read a template. `file` is the path as written in the fleet file (kept for the manifest),
 * `path` where it is on disk. Throws TemplateError with a reason naming the file.
 */
export function readCloneTemplate(file: string, path: string): CloneTemplate {
  let bytes: Buffer;
  try {
    bytes = readFileSync(path);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new TemplateError(
      code === 'ENOENT' ? `${path}: no such file` : `${path}: cannot read: ${(e as Error).message}`,
    );
  }
  // Committed pages still in the write-ahead log are not in the bytes read: a process has the
  // file open (a simulator serving it), or it was not closed.
  let wal = 0;
  try {
    wal = statSync(`${path}-wal`).size;
  } catch {
    wal = 0;
  }
  if (wal > 0)
    throw new TemplateError(
      `${path} has an unmerged write-ahead log (${path}-wal): stop the process using it, or copy a closed file`,
    );
  const db = openBytes(bytes, path);
  try {
    return { file, sha256: createHash('sha256').update(bytes).digest('hex'), state: templateState(db, path) };
  } finally {
    db.close();
  }
}

/** What a clone gets from its own generation rather than from the template. */
export interface CloneOverlay {
  id: string;
  profileId: string;
  identity: MeterState['identity'];
  registration: { mpanCore: string | null; mprn: string | null; supplierId: string; siteId: string | null };
  card: { paymentCardId: string; issuerSupplierId: string } | null;
  /** Secret per access level, hex. */
  secrets: Record<string, string>;
  /** Time source now (the card's registeredAt). */
  now: number;
}

/**
 * A clone's first state: the template's prepayment (balance, emergency credit, debts,
 * thresholds, vends, UTRN counters), clock offset and migration state; the overlay's identity,
 * registration, card and secrets; security counters and the event log fresh. Validated as any
 * new meter is (identifiers, invariants).
 */
export function cloneState(
  template: MeterState,
  o: CloneOverlay,
  behaviour: Pick<DeviceBehaviour, 'paymentCard'>,
): MeterState {
  const t = structuredClone(template);
  return newMeterState(
    {
      id: o.id,
      profileId: o.profileId,
      identity: o.identity,
      registration: o.registration,
      prepayment: t.prepayment,
      card: o.card,
      migration: t.migration,
      secrets: o.secrets,
      clockOffsetMs: t.clock.offsetMs,
      now: o.now,
    },
    behaviour,
  );
}

/**
 * The first state of a farm meter that has none stored: a clone of its group's template when
 * the plan has one, else a fresh meter with the profile's starting prepayment values.
 */
export function newFarmMeterState(
  spec: MeterSpec,
  profile: FarmProfile,
  templates: FleetPlan['templates'],
  now: number,
): MeterState {
  const overlay: CloneOverlay = {
    id: spec.id,
    profileId: spec.profile,
    identity: spec.identity,
    registration: {
      mpanCore: spec.registration.mpanCore,
      mprn: spec.registration.mprn,
      supplierId: spec.registration.supplierId,
      siteId: spec.registration.siteId,
    },
    card: spec.card
      ? { paymentCardId: spec.card.paymentCardId, issuerSupplierId: spec.card.issuerSupplierId }
      : null,
    secrets: Object.fromEntries(spec.credentials.map((c) => [c.level, c.secretHex])),
    now,
  };
  const template = spec.group !== null ? templates?.[spec.group] : undefined;
  if (template) return cloneState(template.state, overlay, profile.behaviour);
  return newMeterState(
    { ...overlay, ...(profile.prepayment ? { prepayment: profile.prepayment } : {}) },
    profile.behaviour,
  );
}
