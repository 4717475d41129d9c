/**
 * Checks every store applies to a commit before writing, so the memory and SQLite stores
 * accept and refuse exactly the same requests (the parity test relies on it).
 */
import { ErrorCode, SimError } from '../../core/errors';
import type { MeterEvent } from '../state';
import type { CommitRequest } from './types';

export function checkEventBound(bound: number): void {
  if (!Number.isSafeInteger(bound) || bound < 1)
    throw new SimError(
      ErrorCode.DeviceStorageFailed,
      `event bound must be a positive integer, got ${bound}`,
      {
        bound,
      },
    );
}

/** Events must continue the stored sequence without gaps and end at state.eventSeq. */
export function checkEventSeqs(
  id: string,
  storedSeq: number,
  events: readonly MeterEvent[],
  newSeq: number,
): void {
  let expected = storedSeq + 1;
  for (const e of events) {
    if (e.seq !== expected)
      throw new SimError(ErrorCode.DeviceStorageFailed, `${id}: event seq ${e.seq}, expected ${expected}`, {
        meterId: id,
        seq: e.seq,
        expected,
      });
    expected++;
  }
  if (newSeq !== expected - 1)
    throw new SimError(
      ErrorCode.DeviceStorageFailed,
      `${id}: state.eventSeq ${newSeq}, events end at ${expected - 1}`,
      {
        meterId: id,
      },
    );
}

export function notFound(id: string): SimError {
  return new SimError(ErrorCode.DeviceNotFound, `meter ${id} not found`, { meterId: id });
}

export function staleRev(id: string, storedRev: number, expectedRev: number): SimError {
  return new SimError(
    ErrorCode.DeviceStateConflict,
    `${id}: stored rev ${storedRev}, operation started from rev ${expectedRev} (another writer?)`,
    { meterId: id, reason: 'stale-rev', storedRev, expectedRev },
  );
}

/** Checks that need only the request itself. */
export function checkRequest(req: CommitRequest): void {
  checkEventBound(req.eventBound);
  if (req.state.id !== req.id)
    throw new SimError(
      ErrorCode.DeviceStorageFailed,
      `commit for ${req.id} carries state of ${req.state.id}`,
      {
        meterId: req.id,
      },
    );
  if (req.state.rev !== req.expectedRev + 1)
    throw new SimError(
      ErrorCode.DeviceStorageFailed,
      `${req.id}: new rev ${req.state.rev} must be expectedRev + 1 (${req.expectedRev + 1})`,
      { meterId: req.id },
    );
}
