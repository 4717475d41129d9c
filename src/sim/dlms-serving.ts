/**
 * The DLMS side of `simulate` (docs/simulate.md "DLMS meters"): the meter's COSEM binding behind
 * one DlmsServer on every connection the listener accepts (serveDlmsMeter; each connection is
 * its own link with its own associations). What the log shows comes from serveDlmsMeter: every
 * link served and closed, association accepted or refused (with the diagnostic), HLS proofs
 * refused, and every SET / ACTION that ran a device operation, with who ran it.
 *
 * Battery meters behind IEC 62056-21 mode E (the DLMS GSME) sleep in the sign-on machine until
 * the profile's run of NULs arrives (docs/dlms.md §1 "Battery wake-up"). That is their only wake
 * source (the profile's `timing.wake.wakeOn` lists optical activity alone), so pressButton()
 * only logs that the button does nothing; isAwake() reports the links' sign-on phase.
 */
import type { Clock } from '../core/clock';
import type { Logger } from '../core/logger';
import type { Meter } from '../device/meter';
import type { DlmsBinding } from '../profiles/dlms-binding';
import { serveDlmsMeter, type DlmsTraceEntry } from '../profiles/dlms-serve';
import type { FirmwareProfile } from '../profiles/schema';
import type { Listener } from '../transport/types';

export interface DlmsSimServing {
  pressButton(): void;
  isAwake(): boolean | null;
  close(): Promise<void>;
}

export function serveDlmsSim(
  l: Listener,
  profile: FirmwareProfile,
  meter: Meter,
  binding: DlmsBinding,
  o: { clock: Clock; logger: Logger; trace?: (entry: DlmsTraceEntry) => void },
): DlmsSimServing {
  const served = serveDlmsMeter(l, meter, profile, {
    clock: o.clock,
    logger: o.logger,
    binding,
    ...(o.trace ? { trace: o.trace } : {}),
  });
  const onConnection = (): void => o.logger.info(`connection on ${l.info.uri}`);
  l.on('connection', onConnection);
  return {
    pressButton: () => {
      if (served.awake === null) return;
      o.logger.info('push button: this DLMS meter wakes on NULs at the optical port only');
    },
    isAwake: () => served.awake,
    async close() {
      l.off('connection', onConnection);
      await served.close();
    },
  };
}
