/**
 * The meter's event log as a COSEM Profile generic (class 7; docs/dlms.md §6), one row per
 * retained event, oldest first. The capture objects are fixed by this binding, not by the
 * profile, because a row must carry everything the device event holds (docs/device.md "Event
 * log") and the interrogator must read it back the same way (MeterSession.readEventLog).
 *
 * Columns (modelled: no public SMETS1 event-log layout exists, docs/dlms.md §10 item 6):
 *   1  Clock 0-0:1.0.0.255 / 2        event time, date-time octets (UTC)
 *   2  Data 0-128:96.11.0.255 / 2     sequence number, double-long-unsigned
 *   3  Data 0-128:96.11.1.255 / 2     event type ('card-cleared', ...), visible-string
 *   4  Data 0-128:96.11.2.255 / 2     actor, utf8-string, or null-data
 *   5  Data 0-128:96.11.3.255 / 2     event data, utf8-string holding a JSON object
 * Columns 2-5 sit at manufacturer-specific OBIS codes (group B = 128, docs/dlms.md §6 "Vendor
 * objects"); the binding does not register Data objects behind them.
 */
import { ErrorCode, SimError } from '../core/errors';
import type { EventValue, MeterEvent } from '../device/state';
import { parseObis } from '../protocols/dlms/apdu/obis';
import type { CaptureObject } from '../protocols/dlms/apdu/selective-access';
import { axdr } from '../protocols/dlms/axdr/builders';
import type { Data } from '../protocols/dlms/axdr/types';
import type { ProfileRow } from '../protocols/dlms/cosem/profile-generic';
import { dateTimeOctets, msFromDateTime } from './dlms-binding-values';

const column = (classId: number, obis: string): CaptureObject => ({
  classId,
  obis: parseObis(obis),
  attributeId: 2,
  dataIndex: 0,
});

export const EVENT_LOG_COLUMNS: readonly CaptureObject[] = [
  column(8, '0-0:1.0.0.255'),
  column(1, '0-128:96.11.0.255'),
  column(1, '0-128:96.11.1.255'),
  column(1, '0-128:96.11.2.255'),
  column(1, '0-128:96.11.3.255'),
];

/** A device event as it reads back: times stay ms (the session formats them). */
export interface EventRow {
  seq: number;
  at: number;
  type: string;
  actor: string | null;
  data: Record<string, EventValue>;
}

export function eventRow(e: MeterEvent): ProfileRow {
  return [
    axdr.octets(dateTimeOctets(e.at)),
    axdr.u32(e.seq),
    axdr.visible(e.type),
    e.actor === null ? axdr.null() : axdr.utf8(e.actor),
    axdr.utf8(JSON.stringify(e.data)),
  ];
}

function bad(path: string, message: string): SimError {
  return new SimError(ErrorCode.ServiceInvalidResponse, `${path}: ${message}`, { path });
}

function isEventValue(v: unknown): v is EventValue {
  return v === null || ['string', 'number', 'boolean'].includes(typeof v);
}

/** One buffer row back into an event. SimError(ServiceInvalidResponse) naming the path. */
export function decodeEventRow(d: Data, path: string): EventRow {
  if (d.type !== 'structure' || d.items.length !== EVENT_LOG_COLUMNS.length)
    throw bad(path, `expected a structure of ${EVENT_LOG_COLUMNS.length} columns`);
  const [at, seq, type, actor, data] = d.items as [Data, Data, Data, Data, Data];
  if (at.type !== 'octet-string') throw bad(`${path}[0]`, `expected a date-time, got ${at.type}`);
  if (seq.type !== 'double-long-unsigned')
    throw bad(`${path}[1]`, `expected double-long-unsigned, got ${seq.type}`);
  if (type.type !== 'visible-string' || type.value.length === 0)
    throw bad(`${path}[2]`, 'expected the event type as a visible-string');
  if (actor.type !== 'null' && actor.type !== 'utf8-string')
    throw bad(`${path}[3]`, `expected utf8-string or null, got ${actor.type}`);
  if (data.type !== 'utf8-string') throw bad(`${path}[4]`, `expected utf8-string, got ${data.type}`);
  let parsed: unknown;
  try {
    parsed = JSON.parse(data.value);
  } catch {
    throw bad(`${path}[4]`, 'event data is not JSON');
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed))
    throw bad(`${path}[4]`, 'event data is not a JSON object');
  const record = parsed as Record<string, unknown>;
  for (const [k, v] of Object.entries(record))
    if (!isEventValue(v))
      throw bad(`${path}[4].${k}`, 'event data values are strings, numbers, booleans or null');
  return {
    seq: seq.value,
    at: msFromDateTime(at.value, `${path}[0]`),
    type: type.value,
    actor: actor.type === 'null' ? null : actor.value,
    data: record as Record<string, EventValue>,
  };
}

/** The buffer (array of rows) back into events. */
export function decodeEventBuffer(d: Data, path = 'buffer'): EventRow[] {
  if (d.type !== 'array') throw bad(path, `expected an array, got ${d.type}`);
  return d.items.map((row, i) => decodeEventRow(row, `${path}[${i}]`));
}
