import type { Logger } from '../../../core/logger';
import type { HdlcEffect, HdlcTimer } from '../hdlc/link-types';
import type { NamedTimers, Pending } from './timers';

/** The effects both HDLC sides run alike; transmit, deliver, connected and disconnected are each side's own. */
export type SharedHdlcEffect = Extract<
  HdlcEffect,
  { kind: 'sent' | 'failed' | 'startTimer' | 'stopTimer' | 'protocolError' }
>;

/**
 * Run an effect of the client or the server state machine that does not depend on the side: a
 * send() settles, a timer starts or stops, a protocol error the link absorbed is logged (as
 * `<side>: protocol error`).
 */
export function runSharedHdlcEffect(
  e: SharedHdlcEffect,
  pending: Pending,
  timers: NamedTimers<HdlcTimer>,
  log: Logger,
  side: string,
): void {
  switch (e.kind) {
    case 'sent':
    case 'failed':
      pending.settle(e);
      return;
    case 'startTimer':
    case 'stopTimer':
      timers.apply(e);
      return;
    case 'protocolError':
      log.debug({ err: e.error.message }, `${side}: protocol error`);
      return;
  }
}
