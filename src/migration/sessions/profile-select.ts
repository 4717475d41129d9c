/**
 * Which firmware profile describes a C12.18 meter: the one given, or the shipped profile whose
 * `c1219.identification` equals the meter's ST1 GENERAL_MFG_ID_TBL (MANUFACTURER, ED_MODEL,
 * hardware and firmware version/revision; docs/c1218.md §3). A given profile is checked against
 * ST1 the same way, so a wrong --profile is caught before anything is read or changed.
 */
import { readdirSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { ErrorCode, SimError } from '../../core/errors';
import type { CodecContext, TableLayout, TableRecord } from '../../protocols/c1219/field-types';
import { st1Layout } from '../../protocols/c1219/standard-layouts';
import { decodeTablePrefix } from '../../protocols/c1219/table-codec';
import {
  PROFILE_EXTENSION,
  defaultProfilesDir,
  validateProfileFile,
  type ProfileDirOptions,
} from '../../profiles/loader';
import type { FirmwareProfile } from '../../profiles/schema';

/** The first 16 bytes of ST1: the same for both ID_FORMs (only the serial after them differs). */
const ST1_HEAD: TableLayout = { ...st1Layout(0), fields: st1Layout(0).fields.slice(0, 6) };
const ST1_CTX: CodecContext = { dataOrder: 'little', charFormat: 2, tmFormat: 2, idForm: 0 };

export interface St1Identification {
  manufacturer: string;
  edModel: string;
  hwVersion: number;
  hwRevision: number;
  fwVersion: number;
  fwRevision: number;
}

/** Decode the identification part of ST1. Throws SimError (ServiceInvalidResponse) on short data. */
export function decodeSt1Identification(bytes: Uint8Array): St1Identification {
  let r: TableRecord;
  try {
    r = decodeTablePrefix(ST1_HEAD, bytes, ST1_CTX);
  } catch (e) {
    throw new SimError(
      ErrorCode.ServiceInvalidResponse,
      `ST1: ${e instanceof Error ? e.message : String(e)}`,
      { table: 1, hex: Buffer.from(bytes).toString('hex') },
      { cause: e },
    );
  }
  return {
    manufacturer: r['MANUFACTURER'] as string,
    edModel: r['ED_MODEL'] as string,
    hwVersion: r['HW_VERSION_NUMBER'] as number,
    hwRevision: r['HW_REVISION_NUMBER'] as number,
    fwVersion: r['FW_VERSION_NUMBER'] as number,
    fwRevision: r['FW_REVISION_NUMBER'] as number,
  };
}

export function describeSt1(id: St1Identification): string {
  return `${id.manufacturer} ${id.edModel} hw ${id.hwVersion}.${id.hwRevision} fw ${id.fwVersion}.${id.fwRevision}`;
}

/** True when the profile's identification is exactly what the meter reports. */
export function profileMatchesSt1(p: FirmwareProfile, id: St1Identification): boolean {
  const want = p.c1219?.identification;
  if (!want) return false;
  // STRING fields are space padded on the wire; the codec drops the padding.
  return (
    want.manufacturer.trimEnd() === id.manufacturer &&
    want.edModel.trimEnd() === id.edModel &&
    want.hwVersion === id.hwVersion &&
    want.hwRevision === id.hwRevision &&
    want.fwVersion === id.fwVersion &&
    want.fwRevision === id.fwRevision
  );
}

interface Cached {
  /** mtime of every file of the extends chain when validated. */
  stamps: { file: string; mtimeMs: number }[];
  profile: FirmwareProfile | null;
}

/**
 * Validated profiles by file, reused while no file of their extends chain changed: a session
 * factory opens many sessions per process (the flow, a sweep), and validating every profile
 * each time costs far more than the C12.18 exchange itself.
 */
const validated = new Map<string, Cached>();

function mtime(file: string): number {
  try {
    return statSync(file).mtimeMs;
  } catch {
    return -1;
  }
}

function concreteProfile(file: string): FirmwareProfile | null {
  const hit = validated.get(file);
  if (hit && hit.stamps.every((s) => mtime(s.file) === s.mtimeMs)) return hit.profile;
  const v = validateProfileFile(file);
  const chain = v.ok ? v.chain : [file];
  const profile = v.ok && !v.template && v.profile ? v.profile : null;
  validated.set(file, { stamps: chain.map((f) => ({ file: f, mtimeMs: mtime(f) })), profile });
  return profile;
}

/** The shipped (or `dir`) c1218 profile matching ST1. Throws ProfileNotFound on none or several. */
export function selectProfileBySt1(id: St1Identification, options: ProfileDirOptions = {}): FirmwareProfile {
  const dir = resolve(options.dir ?? defaultProfilesDir());
  let files: string[];
  try {
    files = readdirSync(dir)
      .filter((f) => f.endsWith(PROFILE_EXTENSION))
      .sort()
      .map((f) => join(dir, f));
  } catch {
    files = [];
  }
  const candidates = files
    .map(concreteProfile)
    .filter(
      (p): p is FirmwareProfile => p !== null && p.protocol.stack === 'c1218' && profileMatchesSt1(p, id),
    );
  if (candidates.length === 1) return candidates[0]!;
  const what = describeSt1(id);
  throw new SimError(
    ErrorCode.ProfileNotFound,
    candidates.length === 0
      ? `no firmware profile in ${dir} matches the meter's ST1 (${what}); pass --profile`
      : `several firmware profiles match the meter's ST1 (${what}): ${candidates.map((p) => p.id).join(', ')}; pass --profile`,
    { st1: id, dir, candidates: candidates.map((p) => p.id) },
  );
}
