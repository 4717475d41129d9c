/**
 * Loading and validating firmware profile files (docs/profiles.md). Functions return data or
 * throw a SimError carrying structured issues; nothing here prints. Every issue names the
 * FILE (the one to edit, even when the value came through `extends:`), the PATH inside the
 * merged profile (e.g. `c1219.tables[2].fields[0].type`), the REASON and, where known, the line.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { LineCounter, parseDocument, type Document } from 'yaml';
import type { z } from 'zod';
import { ErrorCode, SimError, type ErrorCodeValue } from '../core/errors';
import { firstLayer, mergeLayer, originKey, pathString, type Origins, type PathKey } from './merge';
import { profileSchema, type FirmwareProfile } from './schema';
import { semanticIssues } from './semantic';

export const PROFILE_EXTENSION = '.yaml';

export interface ProfileIssue {
  file: string;
  path: string;
  reason: string;
  line?: number;
  column?: number;
}

export interface ResolvedProfile {
  profile: FirmwareProfile;
  file: string;
  /** Files of the extends chain, root template first, this file last. */
  chain: string[];
}

export type ProfileValidation =
  | { ok: true; file: string; chain: string[]; template: boolean; profile: FirmwareProfile | null }
  | { ok: false; file: string; code: ErrorCodeValue; issues: ProfileIssue[] };

export interface ProfileSummary {
  id: string;
  file: string;
  name: string | null;
  template: boolean;
  extends: string | null;
  deviceType: string | null;
  stack: string | null;
  valid: boolean;
  issues: ProfileIssue[];
}

export interface ProfileDirOptions {
  /** Directory holding *.yaml profiles; default: defaultProfilesDir(). */
  dir?: string;
}

/** SMETS1_PROFILES_DIR, else the nearest `firmware-profiles/` above this module (src or dist). */
export function defaultProfilesDir(): string {
  const env = process.env['SMETS1_PROFILES_DIR'];
  if (env) return resolve(env);
  for (let d = __dirname; ; d = dirname(d)) {
    const candidate = join(d, 'firmware-profiles');
    if (existsSync(candidate) && statSync(candidate).isDirectory()) return candidate;
    if (dirname(d) === d) return join(process.cwd(), 'firmware-profiles');
  }
}

interface ParsedFile {
  raw: Record<string, unknown>;
  doc: Document;
  lines: LineCounter;
}

class Session {
  private readonly files = new Map<string, ParsedFile | ProfileIssue[]>();

  read(file: string): ParsedFile | ProfileIssue[] {
    const cached = this.files.get(file);
    if (cached) return cached;
    const result = this.parse(file);
    this.files.set(file, result);
    return result;
  }

  private parse(file: string): ParsedFile | ProfileIssue[] {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (e) {
      return [{ file, path: '<root>', reason: `cannot read: ${(e as Error).message}` }];
    }
    const lines = new LineCounter();
    const doc = parseDocument(text, { lineCounter: lines, uniqueKeys: true, prettyErrors: true });
    if (doc.errors.length)
      return doc.errors.map((e) => ({
        file,
        path: '<root>',
        reason: `YAML: ${e.message.split('\n')[0]}`,
        ...(e.linePos ? { line: e.linePos[0].line, column: e.linePos[0].col } : {}),
      }));
    let raw: unknown;
    try {
      raw = doc.toJS({ maxAliasCount: 100 });
    } catch (e) {
      // e.g. an alias to an anchor that does not exist, or an alias bomb.
      return [{ file, path: '<root>', reason: `YAML: ${(e as Error).message.split('\n')[0]}` }];
    }
    if (typeof raw !== 'object' || raw === null || Array.isArray(raw))
      return [{ file, path: '<root>', reason: 'a profile must be a YAML mapping' }];
    return { raw: raw as Record<string, unknown>, doc, lines };
  }

  /** Line and column of `src` (or its deepest existing prefix) inside `file`. */
  position(file: string, src: PathKey[]): { line?: number; column?: number } {
    const parsed = this.files.get(file);
    if (!parsed || Array.isArray(parsed)) return {};
    for (let n = src.length; n >= 0; n--) {
      const node = parsed.doc.getIn(src.slice(0, n), true) as
        { range?: [number, number, number] } | undefined;
      if (node?.range) {
        const pos = parsed.lines.linePos(node.range[0]);
        return { line: pos.line, column: pos.col };
      }
    }
    return {};
  }
}

function issueAt(
  session: Session,
  leaf: string,
  origins: Origins,
  path: PathKey[],
  reason: string,
): ProfileIssue {
  for (let n = path.length; n >= 0; n--) {
    const origin = origins.get(originKey(path.slice(0, n)));
    if (origin) {
      const src = [...origin.src, ...path.slice(n)];
      return { file: origin.file, path: pathString(path), reason, ...session.position(origin.file, src) };
    }
  }
  return { file: leaf, path: pathString(path), reason };
}

function valueAt(root: unknown, path: readonly PathKey[]): unknown {
  let node = root;
  for (const k of path) {
    if (typeof node !== 'object' || node === null) return undefined;
    node = (node as Record<PathKey, unknown>)[k];
  }
  return node;
}

function zodIssuePath(i: z.core.$ZodIssue): { path: PathKey[]; reason: string } {
  const path = i.path.map((k) => (typeof k === 'symbol' ? String(k) : k));
  if (i.code === 'unrecognized_keys') return { path: [...path, i.keys[0] ?? ''], reason: 'unknown key' };
  return { path, reason: i.message };
}

function fail(
  file: string,
  issues: ProfileIssue[],
  code: ErrorCodeValue = ErrorCode.ProfileInvalid,
): ProfileValidation {
  return { ok: false, file, code, issues };
}

/** Validate one profile file, following its extends chain. Never throws for bad content. */
export function validateProfileFile(path: string): ProfileValidation {
  return validateWith(new Session(), resolve(path));
}

function validateWith(session: Session, file: string): ProfileValidation {
  const dir = dirname(file);
  const leafId = basename(file, PROFILE_EXTENSION);
  const layers: { file: string; raw: Record<string, unknown> }[] = [];
  const seen: string[] = [];
  for (let cur = file; ;) {
    const parsed = session.read(cur);
    if (Array.isArray(parsed)) return fail(file, parsed);
    seen.push(cur);
    layers.unshift({ file: cur, raw: parsed.raw });
    const ext = parsed.raw['extends'];
    if (ext === undefined) break;
    if (typeof ext !== 'string' || !/^_?[a-z0-9][a-z0-9.-]*$/.test(ext))
      return fail(file, [
        { file: cur, path: 'extends', reason: 'must be a profile id', ...session.position(cur, ['extends']) },
      ]);
    const parent = join(dir, ext + PROFILE_EXTENSION);
    if (seen.includes(parent)) {
      const chain = [...seen, parent].map((f) => basename(f, PROFILE_EXTENSION)).join(' -> ');
      return fail(
        file,
        [
          {
            file: cur,
            path: 'extends',
            reason: `extends cycle: ${chain}`,
            ...session.position(cur, ['extends']),
          },
        ],
        ErrorCode.ProfileCycle,
      );
    }
    if (!existsSync(parent))
      return fail(file, [
        {
          file: cur,
          path: 'extends',
          reason: `unknown profile "${ext}" (no ${parent})`,
          ...session.position(cur, ['extends']),
        },
      ]);
    cur = parent;
  }

  // Only the leaf says whether it is a template; ancestors' flags and ids do not inherit.
  const strip = (raw: Record<string, unknown>): Record<string, unknown> => {
    const { template: _t, ...rest } = raw;
    return rest;
  };
  let merged = firstLayer(layers.length === 1 ? layers[0]!.raw : strip(layers[0]!.raw), layers[0]!.file);
  for (let i = 1; i < layers.length; i++) {
    const l = layers[i]!;
    merged = mergeLayer(merged, i === layers.length - 1 ? l.raw : strip(l.raw), l.file);
  }
  const chain = layers.map((l) => l.file);
  const leafRaw = layers[layers.length - 1]!.raw;
  const template = leafRaw['template'] === true;
  const issues: ProfileIssue[] = [];
  if (leafRaw['id'] !== leafId)
    issues.push({
      file,
      path: 'id',
      reason: `must equal the file name "${leafId}"`,
      ...session.position(file, ['id']),
    });

  const parsed = profileSchema.safeParse(merged.value);
  if (!parsed.success) {
    for (const zi of parsed.error.issues) {
      const { path, reason } = zodIssuePath(zi);
      // A template may leave whole values to the profiles that extend it.
      if (template && valueAt(merged.value, path) === undefined) continue;
      issues.push(issueAt(session, file, merged.origins, path, reason));
    }
    if (issues.length) return fail(file, issues);
    return { ok: true, file, chain, template, profile: null };
  }
  for (const si of semanticIssues(parsed.data))
    issues.push(issueAt(session, file, merged.origins, si.path, si.reason));
  if (issues.length) return fail(file, issues);
  return { ok: true, file, chain, template, profile: parsed.data };
}

function profileFiles(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((f) => f.endsWith(PROFILE_EXTENSION))
    .sort()
    .map((f) => join(dir, f));
}

/** Every profile and template in the directory, each with its validation result. */
export function listProfiles(options: ProfileDirOptions = {}): ProfileSummary[] {
  const dir = resolve(options.dir ?? defaultProfilesDir());
  const session = new Session();
  return profileFiles(dir).map((file) => {
    const v = validateWith(session, file);
    const parsed = session.read(file);
    const raw = Array.isArray(parsed) ? {} : parsed.raw;
    const str = (x: unknown): string | null => (typeof x === 'string' ? x : null);
    const identity = (raw['identity'] ?? {}) as Record<string, unknown>;
    const protocol = (raw['protocol'] ?? {}) as Record<string, unknown>;
    return {
      id: basename(file, PROFILE_EXTENSION),
      file,
      name: v.ok && v.profile ? v.profile.name : str(raw['name']),
      template: raw['template'] === true,
      extends: str(raw['extends']),
      deviceType: v.ok && v.profile ? v.profile.identity.deviceType : str(identity['deviceType']),
      stack: v.ok && v.profile ? v.profile.protocol.stack : str(protocol['stack']),
      valid: v.ok,
      issues: v.ok ? [] : v.issues,
    };
  });
}

export function formatProfileIssue(i: ProfileIssue): string {
  const where =
    i.line === undefined ? i.file : `${i.file}:${i.line}${i.column === undefined ? '' : `:${i.column}`}`;
  return `${where}: ${i.path}: ${i.reason}`;
}

/** The SimError for a failed validation (ProfileInvalid, or ProfileCycle for extends cycles). */
export function profileError(v: Extract<ProfileValidation, { ok: false }>): SimError {
  return new SimError(v.code, `invalid profile ${v.file}:\n${v.issues.map(formatProfileIssue).join('\n')}`, {
    file: v.file,
    issues: v.issues,
  });
}

/** Load a concrete (non-template) profile by id; throws ProfileNotFound/ProfileInvalid/ProfileCycle. */
export function loadProfile(id: string, options: ProfileDirOptions = {}): ResolvedProfile {
  const dir = resolve(options.dir ?? defaultProfilesDir());
  const file = join(dir, id + PROFILE_EXTENSION);
  if (!/^_?[a-z0-9][a-z0-9.-]*$/.test(id) || !existsSync(file)) {
    const available = profileFiles(dir).map((f) => basename(f, PROFILE_EXTENSION));
    throw new SimError(ErrorCode.ProfileNotFound, `no firmware profile "${id}" in ${dir}`, {
      id,
      dir,
      available,
    });
  }
  const v = validateProfileFile(file);
  if (!v.ok) throw profileError(v);
  if (v.template || !v.profile)
    throw new SimError(ErrorCode.ProfileInvalid, `${id} is a template: extend it, do not load it`, {
      id,
      file,
    });
  return { profile: v.profile, file: v.file, chain: v.chain };
}
