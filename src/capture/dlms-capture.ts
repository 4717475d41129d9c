/**
 * Capture a DLMS/COSEM meter (docs/capture.md "DLMS"): associate, read the current Association
 * LN object_list (with this association's access rights), then GET every attribute the list
 * says this association may read. Methods are recorded as present, never invoked.
 *
 * - An object the base profile describes (same class and OBIS) keeps the base's spec; the values
 *   of its attributes are decoded with the base's value specs into the state, and each is
 *   checked by encoding it again from that state (a difference is listed as not reproduced).
 * - The event log (Profile generic over the device log) is decoded into the state's events.
 * - Association LN objects are built from protocol.dlms by the binding; their secret (attribute
 *   7, the LLS secret) is never read. Keys are never readable attributes (docs/dlms.md §6-§7).
 * - Objects the base does not describe, and attributes it does not serve, are listed as not
 *   reproduced. Base objects this association cannot see stay (another association may).
 */
import { systemClock, type Clock } from '../core/clock';
import { SimError, isTransient } from '../core/errors';
import { silentLogger, type Logger } from '../core/logger';
import { readModelPath, type ModelValue } from '../device/model-paths';
import type { MeterEvent } from '../device/state';
import { METER_EVENT_TYPES } from '../device/state';
import { formatObis, parseObis } from '../protocols/dlms/apdu/obis';
import { encodeData } from '../protocols/dlms/axdr/data-codec';
import type { Data } from '../protocols/dlms/axdr/types';
import { attributeAccessName, canRead } from '../protocols/dlms/cosem/access';
import { decodeObjectList, type ObjectListEntry } from '../protocols/dlms/cosem/object-list';
import type { DlmsCredentials } from '../profiles/dlms-binding-client';
import type { DlmsTraceEntry } from '../profiles/dlms-serve';
import { decodeEventBuffer } from '../profiles/dlms-binding-events';
import type {
  DlmsAttributeSpec,
  DlmsObjectSpec,
  DlmsValueSpec,
  DlmsValueType,
} from '../profiles/dlms-binding-schema';
import { semanticIssues } from '../profiles/semantic';
import { findInterfaceClass } from '../protocols/dlms/cosem/class-catalog';
import {
  attributeValue,
  decodeValue,
  encodeValue,
  kindOfPath,
  valueSources,
} from '../profiles/dlms-binding-values';
import { loadProfile } from '../profiles/loader';
import type { FirmwareProfile } from '../profiles/schema';
import { openDlmsSession } from '../migration/sessions/dlms-session';
import type { Transport } from '../transport/types';
import type { CaptureOutcome, CapturedItem } from './c1218-capture';
import { capturedProfile, type CaptureIssue, type NotReproduced } from './profile-doc';
import { capturedState, eventsFor } from './state-builder';
import { describeError } from './table-reads';

export interface DlmsCaptureOptions {
  connect: string | Transport;
  /** Base profile (required: DLMS has no ST1; it also names the link and associations). */
  profile: string | FirmwareProfile;
  profilesDir?: string;
  credentials: DlmsCredentials;
  id: string;
  clock?: Clock;
  logger?: Logger;
  timeoutMs?: number;
  /** Every APDU sent and received (hex as on the wire). */
  trace?: (entry: DlmsTraceEntry) => void;
}

const ASSOCIATION_LN = 15;
const CURRENT_ASSOCIATION = '0-0:40.0.0.255';

interface AttributeRead {
  entry: ObjectListEntry;
  obis: string;
  index: number;
  data: Data;
  hostAt: number;
}

const sameObis = (a: string, b: string): boolean => parseObis(a).equals(parseObis(b));

function usesClock(spec: DlmsValueSpec): boolean {
  return valueSources(spec).some((s) => s.path === 'clock.now');
}

const INTEGER_TYPES = new Set<Data['type']>([
  'integer',
  'long',
  'double-long',
  'unsigned',
  'long-unsigned',
  'double-long-unsigned',
  'enum',
]);

/**
 * A value read as a profile constant, so that an object the base profile does not describe is
 * served as it was read (docs/capture.md "DLMS"): scalars and non-empty structures of them.
 * Undefined for what a profile constant cannot carry (arrays, bit-strings, floats, dates, ...).
 */
export function constantSpec(d: Data): DlmsValueSpec | undefined {
  if (d.type === 'null') return { type: 'null' };
  if (d.type === 'boolean') return { type: 'boolean', value: d.value };
  if (INTEGER_TYPES.has(d.type))
    return { type: d.type as DlmsValueType, value: (d as { value: number }).value };
  if (d.type === 'long64' || d.type === 'long64-unsigned') {
    const n = Number(d.value);
    return Number.isSafeInteger(n) ? { type: d.type, value: n } : undefined;
  }
  if (d.type === 'octet-string') return { type: 'octet-string', value: d.value.toString('latin1') };
  if (d.type === 'visible-string' || d.type === 'utf8-string') return { type: d.type, value: d.value };
  if (d.type === 'structure' && d.items.length > 0) {
    const fields = d.items.map(constantSpec);
    return fields.every((f): f is DlmsValueSpec => f !== undefined)
      ? { type: 'structure', fields }
      : undefined;
  }
  return undefined;
}

/** An object the base does not describe, as constants read by `assoc` (null: nothing to serve). */
function opaqueObject(
  e: ObjectListEntry,
  reads: readonly AttributeRead[],
  assoc: string,
  notReproduced: NotReproduced[],
): DlmsObjectSpec | null {
  const obis = formatObis(e.obis);
  if (!findInterfaceClass(e.classId)) {
    notReproduced.push({ item: obis, reason: `class ${e.classId} is not in the COSEM class catalogue` });
    return null;
  }
  const attributes: DlmsAttributeSpec[] = [];
  for (const r of reads.filter((x) => x.entry === e)) {
    const spec = constantSpec(r.data);
    if (!spec) {
      notReproduced.push({
        item: `${obis}/${r.index}`,
        reason: `a ${r.data.type} value cannot be a profile constant`,
      });
      continue;
    }
    attributes.push({ index: r.index, ...spec } as DlmsAttributeSpec);
  }
  if (attributes.length === 0) {
    notReproduced.push({ item: obis, reason: 'no attribute of it could be reproduced' });
    return null;
  }
  return {
    name: `captured-${obis.replace(/[^0-9]+/g, '-')}`,
    description: `Captured as constants (class ${e.classId}); the base profile does not describe it.`,
    classId: e.classId,
    obis,
    attributes,
    methods: [],
    access: { [assoc]: 'read-only' },
  };
}

/** The opaque objects the profile checks accept; the others are listed with the first issue. */
function acceptedObjects(
  p: FirmwareProfile,
  opaque: DlmsObjectSpec[],
  notReproduced: NotReproduced[],
): DlmsObjectSpec[] {
  const start = p.cosem!.objects.length;
  const trial: FirmwareProfile = { ...p, cosem: { objects: [...p.cosem!.objects, ...opaque] } };
  const bad = new Map<number, string>();
  for (const i of semanticIssues(trial)) {
    const at = i.path[0] === 'cosem' && i.path[1] === 'objects' ? Number(i.path[2]) : NaN;
    if (at >= start && !bad.has(at - start)) bad.set(at - start, `${i.path.slice(3).join('.')}: ${i.reason}`);
  }
  return opaque.filter((o, j) => {
    const why = bad.get(j);
    if (why !== undefined)
      notReproduced.push({ item: o.obis, reason: `cannot be served as constants: ${why}` });
    return why === undefined;
  });
}

/** Capture the meter. Throws SimError when it cannot be reached or refuses the association. */
export async function captureDlms(o: DlmsCaptureOptions): Promise<CaptureOutcome> {
  const clock = o.clock ?? systemClock;
  const log = (o.logger ?? silentLogger).child({ component: 'capture' });
  const base =
    typeof o.profile === 'object'
      ? o.profile
      : loadProfile(o.profile, o.profilesDir ? { dir: o.profilesDir } : {}).profile;
  const session = await openDlmsSession({
    connect: o.connect,
    profile: base,
    credentials: o.credentials,
    clock,
    ...(o.logger ? { logger: o.logger } : {}),
    ...(o.timeoutMs !== undefined ? { timeoutMs: o.timeoutMs } : {}),
    ...(o.trace ? { trace: o.trace } : {}),
  });
  const at = new Date(clock.now()).toISOString();
  const assoc = session.association.name;
  const unreadable: CaptureIssue[] = [];
  const reads: AttributeRead[] = [];
  let list: ObjectListEntry[];
  try {
    const access = session.access;
    list = decodeObjectList(
      (await access.get({ classId: ASSOCIATION_LN, obis: CURRENT_ASSOCIATION }, 2)).data,
    );
    for (const entry of list) {
      if (entry.classId === ASSOCIATION_LN) continue;
      const obis = formatObis(entry.obis);
      // Not skipped silently: what the meter's own object_list says this association may not
      // read is listed, one line per object and access mode (write-only commands excepted).
      const denied = new Map<string, number[]>();
      for (const a of entry.attributes) {
        if (a.index === 1) continue;
        const mode = typeof a.access === 'number' ? attributeAccessName(a.access) : a.access;
        if (mode === undefined || !canRead(mode, access.protection)) {
          if (mode !== 'write-only' && mode !== 'authenticated-write-only') {
            const key = String(mode ?? a.access);
            denied.set(key, [...(denied.get(key) ?? []), a.index]);
          }
          continue;
        }
        try {
          const hostAt = clock.now();
          const r = await access.get({ classId: entry.classId, obis }, a.index);
          reads.push({
            entry,
            obis,
            index: a.index,
            data: r.data,
            hostAt: Math.round((hostAt + clock.now()) / 2),
          });
        } catch (e) {
          if (!(e instanceof SimError) || isTransient(e)) throw e;
          unreadable.push({ item: `${obis}/${a.index}`, error: describeError(e) });
          log.warn({ item: `${obis}/${a.index}` }, `unreadable: ${describeError(e)}`);
        }
      }
      for (const [mode, indices] of denied)
        unreadable.push({
          item: `${obis} attribute${indices.length > 1 ? 's' : ''} ${indices.join(',')}`,
          error: `object_list access ${mode} for ${assoc}`,
        });
    }
  } finally {
    await session.close();
  }
  return buildDlmsCapture(base, assoc, list, reads, unreadable, at, o.id, clock);
}

function buildDlmsCapture(
  base: FirmwareProfile,
  assoc: string,
  list: readonly ObjectListEntry[],
  reads: readonly AttributeRead[],
  unreadable: CaptureIssue[],
  at: string,
  id: string,
  clock: Clock,
): CaptureOutcome {
  const objects = base.cosem?.objects ?? [];
  const find = (e: ObjectListEntry): DlmsObjectSpec | undefined =>
    objects.find((x) => x.classId === e.classId && sameObis(x.obis, formatObis(e.obis)));
  const values = new Map<string, ModelValue>();
  const notReproduced: NotReproduced[] = [];
  const capturedPaths = new Set<string>(['identity']);
  const checks: { read: AttributeRead; spec: DlmsValueSpec; item: string }[] = [];
  let clockAt = clock.now();
  const events: MeterEvent[] = [];
  const opaque: DlmsObjectSpec[] = [];
  for (const e of list) {
    if (e.classId === ASSOCIATION_LN) continue;
    const spec = find(e);
    const obis = formatObis(e.obis);
    if (!spec) {
      const o = opaqueObject(e, reads, assoc, notReproduced);
      if (o) opaque.push(o);
      continue;
    }
    capturedPaths.add(`cosem.objects[${spec.name}]`);
    // Methods are recorded, never invoked: one this association may invoke that the base binds
    // to no operation is a behaviour the clone lacks.
    for (const m of e.methods)
      if (
        m.access !== 'no-access' &&
        m.access !== 0 &&
        !spec.methods.some((x) => x.index === m.index) &&
        spec.classId !== 9
      )
        notReproduced.push({
          item: `${obis} method ${m.index}`,
          reason: 'present on the meter (not invoked); the base profile binds no operation to it',
        });
  }
  for (const r of reads) {
    const spec = find(r.entry);
    if (!spec) continue;
    const item = `${r.obis}/${r.index}`;
    if (spec.eventLog) {
      if (r.index === 2)
        try {
          for (const row of decodeEventBuffer(r.data, `${spec.name}.buffer`))
            if ((METER_EVENT_TYPES as readonly string[]).includes(row.type))
              events.push({ ...row, type: row.type as MeterEvent['type'] });
        } catch (err) {
          notReproduced.push({ item, reason: `event log does not decode: ${describeError(err)}` });
        }
      continue;
    }
    // Served from the meter's own counters (docs/dlms-profiles.md): a clone restarts them.
    if (spec.invocationCounter) continue;
    const attr = spec.attributes.find((a) => a.index === r.index);
    const v = attr ? attributeValue(attr) : undefined;
    if (!v) {
      if (!(spec.classId === 9 && r.index === 2))
        notReproduced.push({ item, reason: `${spec.name}: the base profile serves no attribute ${r.index}` });
      continue;
    }
    try {
      const got = new Map<string, ModelValue>();
      decodeValue(v, r.data, kindOfPath, got, item);
      for (const [k, x] of got) if (!values.has(k)) values.set(k, x);
      if (got.has('clock.now')) clockAt = r.hostAt;
      checks.push({ read: r, spec: v, item });
    } catch (err) {
      notReproduced.push({ item, reason: `${spec.name}: ${describeError(err)}` });
    }
  }
  // Objects served as constants: checked like the decoded ones, below.
  const accepted = acceptedObjects(base, opaque, notReproduced);
  for (const o of accepted)
    for (const r of reads.filter((x) => x.obis === o.obis)) {
      const a = o.attributes.find((x) => x.index === r.index);
      const v = a ? attributeValue(a) : undefined;
      if (v) checks.push({ read: r, spec: v, item: `${r.obis}/${r.index}` });
    }
  if (events.length > 0 && !values.has('events.lastSeq'))
    values.set('events.lastSeq', Math.max(...events.map((e) => e.seq)));

  const state = capturedState(base, id, values, clockAt, clock.now());
  const storedEvents = eventsFor(state, events, clock.now() + state.clock.offsetMs);
  // Every decoded attribute, encoded again from the state, must give the bytes the meter sent.
  const now = clock.now() + state.clock.offsetMs;
  for (const c of checks) {
    if (usesClock(c.spec)) continue;
    let same = false;
    try {
      const ours = encodeValue(c.spec, (path) => readModelPath(state, path, now) ?? null, kindOfPath, c.item);
      same = encodeData(ours).equals(encodeData(c.read.data));
    } catch {
      same = false;
    }
    if (!same) notReproduced.push({ item: c.item, reason: 'the clone encodes this attribute differently' });
  }
  const p = structuredClone(base);
  p.cosem!.objects.push(...accepted);
  for (const o of accepted) capturedPaths.add(`cosem.objects[${o.name}]`);
  for (const k of ['manufacturer', 'model', 'applicationFirmwareId', 'metrologyFirmwareId'] as const) {
    const v = values.get(`identity.${k}`);
    if (typeof v === 'string' && v) p.identity[k] = v;
  }
  const profile = capturedProfile(p, {
    id,
    at,
    stack: 'dlms',
    base: base.id,
    as: assoc,
    unreadable,
    notReproduced,
    capturedPaths: [...capturedPaths],
  });
  const served = new Set(accepted.map((o) => o.obis));
  const items: CapturedItem[] = reads.map((r) => ({
    item: `${r.obis}/${r.index}`,
    name: find(r.entry)?.name ?? null,
    bytes: encodeData(r.data).length,
    how: find(r.entry) ? 'decoded' : served.has(r.obis) ? 'raw' : 'not-reproduced',
  }));
  return { profile, state, events: storedEvents, items };
}
