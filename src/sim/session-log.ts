/**
 * What a simulated meter logs (docs/simulate.md "What the log shows"): each session's start (the
 * C12.18 server itself logs a session's end with its reason, refused passwords and link
 * faults), who logged on, every table read/write and procedure with its answer, and
 * every event the device committed (card cleared, migrated, bad password, ...). One logger line
 * per fact; the logger carries the line's peer so concurrent TCP sessions can be told apart.
 */
import type { Logger } from '../core/logger';
import type { Meter, MeterEvents } from '../device/meter';
import { procedureResultName } from '../protocols/c1218/procedure-messages';
import { psemCodeName } from '../protocols/c1218/psem-codes';
import type { C1218Server, C1218ServerEvents } from '../protocols/c1218/server';
import type { WireEvent } from '../protocols/c1218/link-driver';
import { traceEntry, type C1218TraceEntry } from '../protocols/c1218/trace';
import type { C1219Binding, C1219BindingEvents, ProcedureActivity } from '../profiles/c1219-binding';

type Listener<M, K extends keyof M> = M[K] extends unknown[] ? (...args: M[K]) => void : never;

/** Log one connection's sessions; returns the function that stops logging. */
export function logSessions(
  server: C1218Server,
  binding: C1219Binding,
  log: Logger,
  trace?: (entry: C1218TraceEntry) => void,
): () => void {
  const onStart: Listener<C1218ServerEvents, 'sessionStart'> = () => log.info('session start');
  const onLogon: Listener<C1219BindingEvents, 'logon'> = ({ level, userId, user }) =>
    log.info({ accessLevel: level, userId, user }, `logged on as ${level} (user ${userId} "${user}")`);
  const onTable =
    (kind: 'read' | 'write'): Listener<C1219BindingEvents, 'read'> =>
    ({ label, name, code, access }) =>
      log.info(
        { op: kind, table: label, name, code: psemCodeName(code), accessLevel: binding.levelOf(access) },
        `${kind} ${label}${name ? ` ${name}` : ''}: ${psemCodeName(code)}`,
      );
  const onRead = onTable('read');
  const onWrite = onTable('write');
  const onProcedure = (a: ProcedureActivity): void => {
    const answer =
      a.code !== 0
        ? psemCodeName(a.code)
        : a.result === null
          ? 'no result posted'
          : procedureResultName(a.result);
    log.info(
      {
        procedure: a.label,
        name: a.name,
        code: psemCodeName(a.code),
        result: a.result,
        reason: a.reason,
        actor: a.actor,
      },
      `procedure ${a.label}${a.name ? ` ${a.name}` : ''} by ${a.actor}: ${answer}${a.reason ? ` (${a.reason})` : ''}`,
    );
  };
  const onWire = (ev: WireEvent): void => trace?.(traceEntry(ev, 'server'));

  server.on('sessionStart', onStart);
  binding.on('logon', onLogon);
  binding.on('read', onRead);
  binding.on('write', onWrite);
  binding.on('procedure', onProcedure);
  if (trace) server.link.on('wire', onWire);
  return () => {
    server.off('sessionStart', onStart);
    binding.off('logon', onLogon);
    binding.off('read', onRead);
    binding.off('write', onWrite);
    binding.off('procedure', onProcedure);
    server.link.off('wire', onWire);
  };
}

/** Log every event the meter commits; returns the function that stops logging. */
export function logMeterEvents(meter: Meter, log: Logger): () => void {
  const fn: Listener<MeterEvents, 'event'> = (e) =>
    log.info(
      { seq: e.seq, event: e.type, actor: e.actor, data: e.data },
      `meter event ${e.seq} ${e.type}${e.actor ? ` by ${e.actor}` : ''}`,
    );
  meter.on('event', fn);
  return () => meter.off('event', fn);
}
