/**
 * Procedures on a bound meter: ST7 parameters -> operation arguments (profile param layout,
 * PROCEDURE_ACTIONS) -> the device operation, awaited so it is durable before the ST7 write is
 * answered (DESIGN.md "durable before the protocol acknowledges it").
 *
 * ST8 result codes (docs/c1218.md §3) for device answers (modelled mapping):
 *   0 completed                - the operation ran (including "nothing to do", e.g. already clear)
 *   2 invalid parameter        - parameters do not decode, or the device refuses the request
 *                                itself (DeviceInvalidOperation / DeviceInvalidIdentifier:
 *                                bad card number, unknown level, ...)
 *   3 conflicts with setup     - the device refuses in its current state (DeviceStateConflict:
 *                                not migrated, card still present, already migrated by another)
 * RESP_DATA (modelled): after a clear, one byte 01 = something was cleared, 00 = it was already
 * clear; after migrate, 01 = migrated now, 00 = the same hand-over was already recorded; after a
 * refusal, the device's refusal reason in ISO 646 (`not-migrated`, `card-present`, ...), so a
 * client can give a one-line reason.
 */
import { ErrorCode, SimError } from '../core/errors';
import type { Meter } from '../device/meter';
import type { OperationName } from '../device/operations';
import type { ProcedureOutcome } from '../protocols/c1219/engine-types';
import { ProcResult } from '../protocols/c1219/procedure-codec';
import type { BoundProcedure } from './c1219-binding-layouts';
import { decodeProcedureParams, operationInput } from './c1219-binding-records';
import type { ValueContext } from './c1219-binding-values';

const CLEAR_ACTIONS: ReadonlySet<string> = new Set([
  'clearPaymentCardData',
  'clearPaymentCardId',
  'clearSiteId',
]);

/** Longest RESP_DATA a bound procedure posts (the longest refusal reason fits). */
export const MAX_PROCEDURE_RESPONSE = 32;

export interface BoundProcedureResult {
  outcome: ProcedureOutcome;
  /** Why it did not complete (refusal reason or decode fault), for logs. */
  reason?: string;
}

function refused(result: 2 | 3, reason: string): BoundProcedureResult {
  return {
    outcome: { result, response: Buffer.from(reason.slice(0, MAX_PROCEDURE_RESPONSE), 'latin1') },
    reason,
  };
}

/** The ST8 result for a device refusal, or undefined when the error is not one. */
export function procedureRefusal(e: unknown): { result: 2 | 3; reason: string } | undefined {
  if (!(e instanceof SimError)) return undefined;
  const reason = typeof e.context['reason'] === 'string' ? e.context['reason'] : e.codeName;
  if (e.code === ErrorCode.DeviceStateConflict) return { result: ProcResult.setupConflict, reason };
  if (e.code === ErrorCode.DeviceInvalidOperation || e.code === ErrorCode.DeviceInvalidIdentifier)
    return { result: ProcResult.invalidParameter, reason };
  return undefined;
}

function responseFor(action: string, value: unknown): Buffer {
  const v = (value ?? {}) as { alreadyClear?: boolean; alreadyMigrated?: boolean };
  if (CLEAR_ACTIONS.has(action)) return Buffer.of(v.alreadyClear ? 0 : 1);
  if (action === 'migrate') return Buffer.of(v.alreadyMigrated ? 0 : 1);
  return Buffer.alloc(0);
}

/**
 * Run a profile procedure on the meter. `actor` is recorded with the operation (migrate
 * records its `by` argument instead). Throws only for faults that are not device refusals
 * (storage failure, a bug); the engine answers those with `err`.
 */
export async function runBoundProcedure(
  meter: Meter,
  proc: BoundProcedure,
  params: Buffer,
  actor: string,
  vc: ValueContext,
): Promise<BoundProcedureResult> {
  let input: Record<string, unknown>;
  try {
    input = operationInput(proc, decodeProcedureParams(proc, params, vc));
  } catch (e) {
    if (e instanceof SimError) return refused(ProcResult.invalidParameter, 'invalid-argument');
    throw e;
  }
  if (proc.action !== 'migrate') input['actor'] = actor;
  try {
    const value: unknown = await meter.apply(proc.action as OperationName, input as never);
    return { outcome: { result: ProcResult.completed, response: responseFor(proc.action, value) } };
  } catch (e) {
    const r = procedureRefusal(e);
    if (!r) throw e;
    return refused(r.result, r.reason);
  }
}

/** Client side: did a clear procedure clear anything (RESP_DATA byte, see the header)? */
export function clearedFromResponse(data: Uint8Array): boolean {
  return data.length === 0 || data[0] !== 0;
}
