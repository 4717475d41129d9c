/**
 * The fleet file (docs/farm.md "Fleet file"): groups of generated meters plus hand-written
 * devices. A zod schema checks the shape; `fleetIssues` then checks what shape alone cannot
 * (unique names, port ranges that do not overlap, duplicate identities between hand-written
 * devices). Every problem is reported with the FILE, the PATH inside it, the REASON and, when
 * the text is at hand, the line.
 */
import { readFileSync } from 'node:fs';
import { LineCounter, parseDocument, type Document } from 'yaml';
import { z } from 'zod';
import { ErrorCode, SimError, type ErrorCodeValue } from '../core/errors';
import {
  normalizeEui64,
  validateMeterId,
  validateMpanCore,
  validateMprn,
  validateSiteId,
} from '../device/identifiers';
import { DEVICE_TYPES } from '../device/state';
import { COHORTS, parseCohort, type Cohort } from '../migration/cohorts';

/**
 * Default share of meters holding another supplier's card: ~75,000 blocked installations
 * (docs/domain.md §1, seed figure) out of the >4 million meters under the Secure SMSO agreement
 * (§2). Both figures are approximate, so the ratio is modelled, not a measured rate.
 */
export const DEFAULT_FOREIGN_CARD_SHARE = 75_000 / 4_000_000;

export const FLEET_FILE_VERSION = 1 as const;

/** Group names become meter id prefixes (`<group>-<n>`), so they keep to the meter id alphabet. */
const groupName = z
  .string()
  .regex(/^[a-z0-9][a-z0-9-]{0,39}$/, 'lower-case letters, digits and "-", at most 40 characters');
const fleetName = groupName;
const profileRef = z.string().regex(/^[a-z0-9][a-z0-9.-]*$/, 'a firmware profile id');
const supplierId = z.string().regex(/^[A-Z0-9]{4}$/, 'a supplier id: 4 upper-case letters or digits (MPID)');
const share = z.number().min(0, 'must be between 0 and 1').max(1, 'must be between 0 and 1');
const port = z.number().int().min(0).max(65535);
const host = z.string().min(1).max(253);

const cohort = z.string().transform((s, ctx): Cohort => {
  const c = parseCohort(s);
  if (c) return c;
  ctx.addIssue({ code: 'custom', message: `unknown cohort "${s}" (expected one of ${COHORTS.join(', ')})` });
  return z.NEVER;
});

const secret = z.union([
  z.strictObject({ hex: z.string().regex(/^(?:[0-9a-fA-F]{2}){1,64}$/, '1–64 bytes of hex') }),
  z.strictObject({ ascii: z.string().regex(/^[\x20-\x7e]{1,64}$/, 'printable ASCII, 1–64 characters') }),
]);

/**
 * Credentials: 'profile' = the profile's default secrets (every meter alike, like a factory
 * default); 'per-meter' = a distinct secret per meter derived from the seed; or explicit
 * secrets per access level name.
 */
const credentials = z.union([
  z.literal('profile'),
  z.literal('per-meter'),
  z.record(z.string().regex(/^[a-z][a-z0-9-]*$/, 'an access level name'), secret),
]);
export type CredentialsSpec = z.infer<typeof credentials>;

/** A DLMS meter's link (src/farm/dlms-serving.ts); C12.18 profiles refuse it. */
const dlmsLink = z.enum(['hdlc', 'wrapper', 'mode-e']);

const groupTransport = z.discriminatedUnion('kind', [
  z.strictObject({
    kind: z.literal('tcp-listen'),
    host: host.default('127.0.0.1'),
    /** Meter n listens on portStart + n; 0 = every meter on its own OS-assigned port. */
    portStart: port,
    /** Host clients use to reach the meters (manifest `connect` URIs); default: `host`. */
    advertiseHost: host.optional(),
  }),
  z.strictObject({
    kind: z.literal('pty'),
    /** `{n}` = index in the group, `{id}` = meter id, e.g. /tmp/meters/esme-{n}. */
    pathPattern: z.string().min(1),
  }),
  z.strictObject({ kind: z.literal('mem'), namePattern: z.string().min(1) }),
]);
export type GroupTransport = z.infer<typeof groupTransport>;

const deviceTransport = z.discriminatedUnion('kind', [
  z.strictObject({
    kind: z.literal('tcp-listen'),
    host: host.default('127.0.0.1'),
    port,
    advertiseHost: host.optional(),
  }),
  z.strictObject({ kind: z.literal('pty'), path: z.string().min(1) }),
  z.strictObject({ kind: z.literal('mem'), name: z.string().min(1) }),
]);
export type DeviceTransport = z.infer<typeof deviceTransport>;

const groupSchema = z.strictObject({
  name: groupName,
  profile: profileRef,
  count: z.number().int().min(1).max(1_000_000),
  /** Optional assertion: must match the profile's device type. */
  deviceType: z.enum(DEVICE_TYPES).optional(),
  transport: groupTransport,
  cohort,
  /** Responsible Supplier mix: each meter is registered to one of these, by weight. */
  suppliers: z.array(z.strictObject({ id: supplierId, weight: z.number().positive().default(1) })).min(1),
  foreignCardShare: share.default(DEFAULT_FOREIGN_CARD_SHARE),
  noCardShare: share.default(0),
  /** Who issues the foreign cards; default: the other suppliers of the mix. */
  foreignIssuers: z.array(supplierId).min(1).optional(),
  credentials: credentials.default('profile'),
  /** DLMS profiles: the link served (default: wrapper on tcp-listen, the profile's own elsewhere). */
  link: dlmsLink.optional(),
  /**
   * A state file written by `capture --state-out` (relative to the fleet file's directory):
   * every meter of the group starts from that meter's state (src/farm/clone-template.ts).
   */
  template: z.string().min(1).optional(),
});
export type GroupSpec = z.infer<typeof groupSchema>;

const deviceSchema = z.strictObject({
  id: z.string(),
  profile: profileRef,
  cohort,
  transport: deviceTransport,
  mpanCore: z.string().optional(),
  mprn: z.string().optional(),
  supplierId,
  deviceId: z.string().optional(),
  serial: z
    .string()
    .regex(/^[A-Za-z0-9-]{1,32}$/, 'letters, digits and "-", at most 32')
    .optional(),
  siteId: z.string().optional(),
  card: z
    .strictObject({
      paymentCardId: z.string().regex(/^\d{19}$/, 'exactly 19 digits'),
      issuerSupplierId: supplierId,
    })
    .nullable()
    .default(null),
  credentials: credentials.default('profile'),
  link: dlmsLink.optional(),
});
export type DeviceSpec = z.infer<typeof deviceSchema>;

const fleetSchema = z.strictObject({
  version: z.literal(FLEET_FILE_VERSION).default(FLEET_FILE_VERSION),
  fleet: fleetName,
  seed: z.union([z.string().min(1).max(200), z.number().int()]).transform(String),
  /** Payment Card ID prefix per issuing supplier (modelled: the real ranges are not public). */
  issuerPrefixes: z.record(supplierId, z.string().regex(/^\d{1,17}$/, '1–17 digits')).default({}),
  groups: z.array(groupSchema).default([]),
  devices: z.array(deviceSchema).default([]),
});
export type FleetSpec = z.infer<typeof fleetSchema>;

export type PathKey = string | number;

export interface FleetIssue {
  path: string;
  reason: string;
  /** Duplicates are reported with their own error code (FarmDuplicate). */
  duplicate?: boolean;
}

export interface FleetIssueAt extends FleetIssue {
  file: string;
  line?: number;
}

export function pathString(path: readonly PathKey[]): string {
  let out = '';
  for (const k of path) out += typeof k === 'number' ? `[${k}]` : out === '' ? k : `.${k}`;
  return out === '' ? '<root>' : out;
}

/** `{n}`/`{id}` substitution for pty paths and mem names. */
export function expandPattern(pattern: string, n: number, id: string): string {
  return pattern.replaceAll('{n}', String(n)).replaceAll('{id}', id);
}

function accepts(fn: () => unknown): string | undefined {
  try {
    fn();
    return undefined;
  } catch (e) {
    return e instanceof SimError ? e.message : String(e);
  }
}

interface PortRange {
  owner: string;
  host: string;
  from: number;
  to: number;
}

interface Seen {
  owner: string;
  label: string;
}

/** Checks across entries that zod cannot express. Pure; `spec` has passed the schema. */
export function fleetIssues(spec: FleetSpec): FleetIssue[] {
  const issues: FleetIssue[] = [];
  const dup = (path: string, reason: string): void => void issues.push({ path, reason, duplicate: true });
  if (spec.groups.length === 0 && spec.devices.length === 0)
    issues.push({ path: 'groups', reason: 'the fleet has no meters: give groups or devices' });

  const names = new Map<string, number>();
  const ranges: PortRange[] = [];
  spec.groups.forEach((g, i) => {
    const at = `groups[${i}]`;
    const first = names.get(g.name);
    if (first !== undefined) dup(`${at}.name`, `group name "${g.name}" is also used by groups[${first}]`);
    else names.set(g.name, i);
    if (g.foreignCardShare + g.noCardShare > 1)
      issues.push({
        path: `${at}.noCardShare`,
        reason: `foreignCardShare + noCardShare = ${g.foreignCardShare + g.noCardShare} exceeds 1`,
      });
    const ids = new Map<string, number>();
    g.suppliers.forEach((s, j) => {
      const k = ids.get(s.id);
      if (k !== undefined)
        dup(`${at}.suppliers[${j}].id`, `supplier ${s.id} is also listed at ${at}.suppliers[${k}]`);
      else ids.set(s.id, j);
    });
    const t = g.transport;
    if (t.kind === 'tcp-listen' && t.portStart > 0) {
      const to = t.portStart + g.count - 1;
      if (to > 65535)
        issues.push({
          path: `${at}.transport.portStart`,
          reason: `${g.count} meters from port ${t.portStart} run past 65535`,
        });
      ranges.push({ owner: at, host: t.host, from: t.portStart, to });
    }
    if (t.kind !== 'tcp-listen' && g.count > 1) {
      const pattern = t.kind === 'pty' ? t.pathPattern : t.namePattern;
      if (!pattern.includes('{n}') && !pattern.includes('{id}'))
        issues.push({
          path: `${at}.transport.${t.kind === 'pty' ? 'pathPattern' : 'namePattern'}`,
          reason: `must contain {n} or {id}: ${g.count} meters cannot share "${pattern}"`,
        });
    }
  });

  // Hand-written devices: every identity and endpoint must be unique, and a duplicate names
  // both entries so the user can fix whichever is wrong.
  const seen = new Map<string, Seen>();
  const claim = (key: string, owner: string, path: string, label: string): void => {
    const prior = seen.get(key);
    if (prior) dup(path, `${label} duplicates ${prior.owner} (${prior.label})`);
    else seen.set(key, { owner, label });
  };
  spec.devices.forEach((d, i) => {
    const at = `devices[${i}]`;
    const owner = `${at} (id ${d.id})`;
    const idErr = accepts(() => validateMeterId(d.id));
    if (idErr) issues.push({ path: `${at}.id`, reason: idErr.replace(/^id: /, '') });
    claim(`id:${d.id}`, owner, `${at}.id`, `meter id ${d.id}`);
    if ((d.mpanCore === undefined) === (d.mprn === undefined)) {
      issues.push({ path: at, reason: 'give exactly one of mpanCore (ESME) or mprn (GSME)' });
    } else if (d.mpanCore !== undefined) {
      const e = accepts(() => validateMpanCore(d.mpanCore, 'mpanCore'));
      if (e) issues.push({ path: `${at}.mpanCore`, reason: e.replace(/^mpanCore: /, '') });
      else claim(`mpxn:${d.mpanCore}`, owner, `${at}.mpanCore`, `MPAN core ${d.mpanCore}`);
    } else {
      const e = accepts(() => validateMprn(d.mprn, 'mprn'));
      if (e) issues.push({ path: `${at}.mprn`, reason: e.replace(/^mprn: /, '') });
      else claim(`mpxn:${d.mprn}`, owner, `${at}.mprn`, `MPRN ${d.mprn}`);
    }
    if (d.deviceId !== undefined) {
      let eui: string | undefined;
      const e = accepts(() => (eui = normalizeEui64(d.deviceId, 'deviceId')));
      if (e || eui === undefined)
        issues.push({ path: `${at}.deviceId`, reason: (e ?? '').replace(/^deviceId: /, '') });
      else claim(`eui:${eui}`, owner, `${at}.deviceId`, `device id ${eui}`);
    }
    if (d.serial !== undefined) claim(`serial:${d.serial}`, owner, `${at}.serial`, `serial ${d.serial}`);
    if (d.siteId !== undefined) {
      const e = accepts(() => validateSiteId(d.siteId));
      if (e) issues.push({ path: `${at}.siteId`, reason: e.replace(/^siteId: /, '') });
    }
    if (d.card) {
      claim(
        `card:${d.card.paymentCardId}`,
        owner,
        `${at}.card.paymentCardId`,
        `Payment Card ID ${d.card.paymentCardId}`,
      );
    }
    const t = d.transport;
    if (t.kind === 'tcp-listen') {
      if (t.port > 0) ranges.push({ owner: `${at}.transport`, host: t.host, from: t.port, to: t.port });
    } else {
      const where = t.kind === 'pty' ? t.path : t.name;
      claim(`${t.kind}:${where}`, owner, `${at}.transport`, `endpoint ${t.kind}:${where}`);
    }
  });

  // Port ranges are compared regardless of host: a fleet that listens on two addresses of one
  // machine is rare, and a clash found at bind time is far harder to read than this.
  const sorted = [...ranges].sort((a, b) => a.from - b.from || a.to - b.to);
  for (let i = 0; i < sorted.length; i++) {
    for (let j = i + 1; j < sorted.length && sorted[j]!.from <= sorted[i]!.to; j++) {
      const a = sorted[i]!;
      const b = sorted[j]!;
      dup(
        b.owner.startsWith('groups') ? `${b.owner}.transport.portStart` : `${b.owner}.port`,
        `ports ${b.from}–${b.to} of ${b.owner} overlap ports ${a.from}–${a.to} of ${a.owner}`,
      );
    }
  }
  return issues;
}

function codeOf(issues: readonly FleetIssue[]): ErrorCodeValue {
  return issues.every((i) => i.duplicate) ? ErrorCode.FarmDuplicate : ErrorCode.FarmFleetInvalid;
}

export function formatFleetIssue(i: FleetIssueAt): string {
  return `${i.file}${i.line === undefined ? '' : `:${i.line}`}: ${i.path}: ${i.reason}`;
}

/** The SimError for a list of issues: FarmDuplicate if all are duplicates, else FarmFleetInvalid. */
export function fleetError(file: string, issues: readonly FleetIssueAt[]): SimError {
  return new SimError(codeOf(issues), `invalid fleet ${file}:\n${issues.map(formatFleetIssue).join('\n')}`, {
    file,
    issues,
  });
}

function zodIssues(error: z.ZodError): FleetIssue[] {
  return error.issues.map((i) => {
    const path = i.path.map((k) => (typeof k === 'symbol' ? String(k) : k));
    if (i.code === 'unrecognized_keys')
      return { path: pathString([...path, i.keys[0] ?? '']), reason: 'unknown key' };
    return { path: pathString(path), reason: i.message };
  });
}

function parsePath(path: string): PathKey[] {
  if (path === '<root>') return [];
  const out: PathKey[] = [];
  for (const m of path.matchAll(/([^.[\]]+)|\[(\d+)\]/g)) out.push(m[2] !== undefined ? Number(m[2]) : m[1]!);
  return out;
}

function lineOf(doc: Document, lines: LineCounter, path: string): number | undefined {
  const keys = parsePath(path);
  for (let n = keys.length; n >= 0; n--) {
    const node = doc.getIn(keys.slice(0, n), true) as { range?: [number, number, number] } | undefined;
    if (node?.range) return lines.linePos(node.range[0]).line;
  }
  return undefined;
}

/** Validate an already-parsed fleet object (built in code, or read from JSON). */
export function validateFleetSpec(raw: unknown, file = '<fleet>'): FleetSpec {
  const parsed = fleetSchema.safeParse(raw);
  if (!parsed.success)
    throw fleetError(
      file,
      zodIssues(parsed.error).map((i) => ({ ...i, file })),
    );
  const issues = fleetIssues(parsed.data);
  if (issues.length)
    throw fleetError(
      file,
      issues.map((i) => ({ ...i, file })),
    );
  return parsed.data;
}

/** Parse fleet YAML text; every issue carries its line. */
export function parseFleetText(text: string, file = '<fleet>'): FleetSpec {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, uniqueKeys: true, prettyErrors: true });
  if (doc.errors.length)
    throw fleetError(
      file,
      doc.errors.map((e) => ({
        file,
        path: '<root>',
        reason: `YAML: ${e.message.split('\n')[0]}`,
        ...(e.linePos ? { line: e.linePos[0].line } : {}),
      })),
    );
  let raw: unknown;
  try {
    // toJS throws on what the parser lets through: an alias to an unknown anchor, alias bombs.
    raw = doc.toJS({ maxAliasCount: 100 });
  } catch (e) {
    throw fleetError(file, [
      { file, path: '<root>', reason: `YAML: ${e instanceof Error ? e.message : String(e)}` },
    ]);
  }
  const withLines = (list: FleetIssue[]): FleetIssueAt[] =>
    list.map((i) => {
      const line = lineOf(doc, lines, i.path);
      return { ...i, file, ...(line === undefined ? {} : { line }) };
    });
  const parsed = fleetSchema.safeParse(raw);
  if (!parsed.success) throw fleetError(file, withLines(zodIssues(parsed.error)));
  const issues = fleetIssues(parsed.data);
  if (issues.length) throw fleetError(file, withLines(issues));
  return parsed.data;
}

/**
 * The line of a path in a fleet file on disk, for issues found after parsing (the generator's):
 * read again only when there is an issue to place. Undefined if the file cannot be read.
 */
export function fleetFileLines(path: string): (issuePath: string) => number | undefined {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    return () => undefined;
  }
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines });
  return (issuePath) => lineOf(doc, lines, issuePath);
}

export function loadFleetFile(path: string): FleetSpec {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new SimError(ErrorCode.FarmFleetInvalid, `${path}: cannot read: ${(e as Error).message}`, {
      file: path,
      issues: [{ file: path, path: '<root>', reason: 'cannot read' }],
    });
  }
  return parseFleetText(text, path);
}
