import { readdirSync, readFileSync } from 'node:fs';
import { basename, extname, join, resolve } from 'node:path';
import { isNode, LineCounter, parseDocument } from 'yaml';
import { ErrorCode, SimError } from '../core/errors';
import { presetFileSchema, type PresetFile, type UsbIdEntry } from './preset-schema';

/**
 * Loading hardware presets: one YAML file per preset in a directory, `<id>.yaml`. Loading is
 * synchronous on purpose: `?preset=NAME` is resolved through a synchronous resolver
 * (presetResolver in preset-connect.ts, called by the transport's connect()). Every fault
 * becomes one SimError (ConfigInvalid) naming the file, the line, the path inside the file and
 * the reason, e.g.
 *   `hardware/presets/ftdi.yaml:7: invalid hardware preset: usb.0.vendorId: expected 4 hex digits`.
 */

/** A validated preset with where it came from and every USB id that matches it. */
export interface HardwarePreset extends PresetFile {
  /** Absolute path of the file it was loaded from. */
  readonly source: string;
  /** Its own USB ids, then those of the chips it is built on (probes). */
  readonly matchUsb: readonly UsbIdEntry[];
}

export interface PresetSet {
  readonly dir: string;
  /** Sorted by id. */
  readonly presets: readonly HardwarePreset[];
  readonly byId: ReadonlyMap<string, HardwarePreset>;
}

/**
 * The presets shipped with the package. Resolved from this file: src/hardware/ under jest and
 * dist/hardware/ when built (tsconfig.build.json rootDir src), both two levels below the root.
 */
export function defaultPresetsDir(): string {
  return resolve(__dirname, '..', '..', 'hardware', 'presets');
}

function invalid(file: string, line: number | null, path: string, reason: string): SimError {
  const where = line !== null ? `${file}:${line}` : file;
  return new SimError(ErrorCode.ConfigInvalid, `${where}: invalid hardware preset: ${path}: ${reason}`, {
    file,
    line,
    path,
    reason,
  });
}

type LineOf = (path: ReadonlyArray<PropertyKey>) => number | null;

/** Parse and validate one preset file's text. `file` is only used in messages. */
export function parsePresetFile(text: string, file: string): PresetFile {
  return parseSourced(text, file).preset;
}

function parseSourced(text: string, file: string): { preset: PresetFile; lineOf: LineOf } {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
  if (doc.errors.length > 0) {
    const first = doc.errors[0]!;
    const line = lines.linePos(first.pos[0]).line;
    throw invalid(file, line, '(root)', `not valid YAML: ${first.message.split('\n')[0]}`);
  }
  const lineOf: LineOf = (path) => {
    // The deepest node that exists on the path: a missing key points at its parent mapping.
    for (let n = path.length; n >= 0; n--) {
      const node = n === 0 ? doc.contents : doc.getIn(path.slice(0, n) as unknown[], true);
      if (isNode(node) && node.range) return lines.linePos(node.range[0]).line;
    }
    return null;
  };
  let value: unknown;
  try {
    // toJS throws on what the parser lets through: aliases to unknown anchors, alias bombs.
    value = doc.toJS({ maxAliasCount: 100 });
  } catch (e) {
    throw invalid(file, null, '(root)', `not valid YAML: ${e instanceof Error ? e.message : String(e)}`);
  }
  const parsed = presetFileSchema.safeParse(value);
  if (parsed.success) return { preset: parsed.data, lineOf };
  const issue = parsed.error.issues[0]!;
  const path = issue.path.length > 0 ? issue.path.map(String).join('.') : '(root)';
  const more = parsed.error.issues.length > 1 ? ` (and ${parsed.error.issues.length - 1} more)` : '';
  throw invalid(file, lineOf(issue.path), path, `${issue.message}${more}`);
}

const PRESET_EXT = new Set(['.yaml', '.yml']);

/** Load and cross-check every preset in `dir` (default: the shipped hardware/presets). */
export function loadPresets(dir: string = defaultPresetsDir()): PresetSet {
  const abs = resolve(dir);
  let names: string[];
  try {
    names = readdirSync(abs)
      .filter((n) => PRESET_EXT.has(extname(n)))
      .sort();
  } catch (e) {
    throw new SimError(
      ErrorCode.IoError,
      `cannot read hardware preset directory ${abs}: ${e instanceof Error ? e.message : String(e)}`,
      { dir: abs },
      { cause: e },
    );
  }
  if (names.length === 0) {
    throw new SimError(ErrorCode.ConfigInvalid, `no hardware presets (*.yaml) in ${abs}`, { dir: abs });
  }
  const files: { file: string; preset: PresetFile; lineOf: LineOf }[] = [];
  for (const name of names) {
    const file = join(abs, name);
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (e) {
      throw new SimError(
        ErrorCode.IoError,
        `cannot read hardware preset ${file}: ${e instanceof Error ? e.message : String(e)}`,
        { file },
        { cause: e },
      );
    }
    const { preset, lineOf } = parseSourced(text, file);
    // The file name is the name users type in ?preset=NAME; it must agree with the id inside.
    const stem = basename(name, extname(name));
    if (preset.id !== stem) {
      throw invalid(file, lineOf(['id']), 'id', `id "${preset.id}" differs from the file name "${stem}"`);
    }
    files.push({ file, preset, lineOf });
  }
  const byFile = new Map<string, string>();
  for (const { file, preset, lineOf } of files) {
    const other = byFile.get(preset.id);
    if (other !== undefined) {
      throw invalid(file, lineOf(['id']), 'id', `duplicate preset id "${preset.id}" (also ${other})`);
    }
    byFile.set(preset.id, file);
  }
  const raw = new Map(files.map(({ preset }) => [preset.id, preset]));
  const byId = new Map<string, HardwarePreset>();
  for (const { file, preset, lineOf } of files) {
    const matchUsb: UsbIdEntry[] = [...preset.usb];
    preset.chips.forEach((chip, i) => {
      const target = raw.get(chip);
      if (!target) {
        throw invalid(
          file,
          lineOf(['chips', i]),
          `chips.${i}`,
          `unknown preset "${chip}"; known: ${[...raw.keys()].join(', ')}`,
        );
      }
      if (target.kind !== 'adapter') {
        throw invalid(
          file,
          lineOf(['chips', i]),
          `chips.${i}`,
          `"${chip}" is a ${target.kind}, not an adapter`,
        );
      }
      for (const u of target.usb) {
        if (!matchUsb.some((m) => m.vendorId === u.vendorId && m.productId === u.productId)) matchUsb.push(u);
      }
    });
    byId.set(preset.id, Object.freeze({ ...preset, source: file, matchUsb: Object.freeze(matchUsb) }));
  }
  const presets = [...byId.values()].sort((a, b) => a.id.localeCompare(b.id));
  return { dir: abs, presets, byId };
}

let shipped: PresetSet | undefined;

/** The shipped presets, loaded once per process. */
export function defaultPresets(): PresetSet {
  shipped ??= loadPresets();
  return shipped;
}

/**
 * The preset called `name` (what `serial:/dev/ttyUSB0?preset=NAME` names). An unknown name is
 * a UsageError that lists the known ones.
 */
export function resolvePreset(name: string, set: PresetSet = defaultPresets()): HardwarePreset {
  const hit = set.byId.get(name);
  if (hit) return hit;
  const known = set.presets.map((p) => p.id);
  throw new SimError(
    ErrorCode.UsageError,
    `unknown hardware preset ${JSON.stringify(name)}; known presets: ${known.join(', ')}`,
    { name, known },
  );
}
