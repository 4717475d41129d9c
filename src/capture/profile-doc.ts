/**
 * The captured firmware profile as a document (docs/capture.md "Profile"): the base profile the
 * meter's data was decoded with, merged and stand-alone (no `extends:`), renamed, with every
 * secret replaced by the environment variable that supplies it at run time, provenance
 * `captured` on what was read, and the `capture:` section (when, as whom, unreadable items,
 * items not reproduced, secrets omitted). Stack-specific parts (tables, objects) are filled in
 * by the stack's capture before this runs.
 */
import { resolveProfilePath } from '../profiles/semantic';
import type { FirmwareProfile } from '../profiles/schema';

export interface CaptureIssue {
  item: string;
  error: string;
}

export interface NotReproduced {
  item: string;
  reason: string;
}

export interface CaptureMeta {
  id: string;
  at: string;
  stack: 'c1218' | 'dlms';
  base: string | null;
  as: string;
  unreadable: CaptureIssue[];
  notReproduced: NotReproduced[];
  /** Profile paths whose values were read from the meter. */
  capturedPaths: string[];
}

/** Environment variable that supplies an access level's secret to a captured profile. */
export function secretVariable(profileId: string, level: string): string {
  const norm = (s: string): string => s.toUpperCase().replace(/[^A-Z0-9]+/g, '_');
  return `SMETS1_SECRET_${norm(profileId)}_${norm(level)}`;
}

/** A profile id from an output file name: `clone-1.yaml` -> `clone-1`. */
export function profileIdFromFile(file: string): string {
  const base = file.replace(/^.*[\\/]/, '').replace(/\.ya?ml$/i, '');
  return base;
}

/**
 * The captured profile from `profile` (already carrying the captured tables or objects). The
 * base's own `modelled:` and `facts:` entries stay where their paths still name something: a
 * layout the base assumed is still an assumption.
 */
export function capturedProfile(profile: FirmwareProfile, meta: CaptureMeta): FirmwareProfile {
  const p: FirmwareProfile = structuredClone(profile);
  delete p.extends;
  p.template = false;
  p.id = meta.id;
  p.name = `${profile.name} — captured ${meta.at}`.slice(0, 200);
  p.description = `Captured by smets1-sim capture at ${meta.at} as ${meta.as}${meta.base ? `, decoded with profile ${meta.base}` : ''}. Secrets are not in this file: see capture.secretsOmitted.`;
  const omitted = p.accessLevels.map((l, i) => {
    const variable = secretVariable(meta.id, l.name);
    p.accessLevels[i] = { ...l, secret: { env: variable } };
    return { path: `accessLevels[${l.name}].secret`, supplyWith: variable };
  });
  const source = `read from the meter by smets1-sim capture at ${meta.at} as ${meta.as}`;
  const captured = meta.capturedPaths.map((path) => ({ path, source }));
  p.captured = captured;
  const resolves = (path: string): boolean => resolveProfilePath(p, path) !== undefined;
  const capturedSet = new Set(meta.capturedPaths);
  p.modelled = p.modelled.filter((m) => resolves(m.path) && !capturedSet.has(m.path));
  p.facts = p.facts.filter((f) => resolves(f.path) && !capturedSet.has(f.path));
  p.captured = captured.filter((c) => resolves(c.path));
  p.capture = {
    at: meta.at,
    stack: meta.stack,
    base: meta.base,
    as: meta.as,
    unreadable: meta.unreadable,
    notReproduced: meta.notReproduced,
    secretsOmitted: omitted,
  };
  return p;
}
