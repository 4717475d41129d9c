/**
 * The probe protocol: a tiny line protocol for exercising a farm without a meter protocol
 * stack (tests, the farm bench, smoke-testing a deployment with `nc`). It is NOT a SMETS1
 * protocol; the C12.18 and DLMS servers plug into the same MeterServerFactory slot.
 *
 * Requests are ASCII lines ending in LF (at most 256 bytes; longer lines are discarded and
 * counted as `framing` errors). One response line per request, in order:
 *   PING      -> PONG
 *   IDENT     -> IDENT <meter id> <ESME|GSME> <mpxn> <device id>
 *   SUPPLIER  -> SUPPLIER <supplier id>
 *   CARD      -> CARD <payment card id> <issuer> | CARD NONE
 *   CLEAR     -> CLEARED | CLEARED ALREADY | ERR <refusal reason>
 *   other     -> ERR unknown-command
 * Faults apply exactly as the FaultControls contract says (faults.ts): no answer while powered
 * off, `BSY` while busy is pending, the delay before each response, a corrupted payload
 * (last byte inverted, LF kept so the stream stays in step).
 */
import { SimError } from '../core/errors';
import type { Transport } from '../transport/types';
import { corruptFrame } from './faults';
import type { MeterServerFactory } from './runtime';

export const PROBE_MAX_LINE = 256;
export const PROBE_ACTOR = 'probe';

function answer(
  command: string,
  run: () => Promise<string> | string,
): { service: string; run: () => Promise<string> | string } {
  return { service: command.toLowerCase(), run };
}

export const probeServerFactory: MeterServerFactory = (_spec, handle, listener) => {
  const { meter, faults, metrics, clock } = handle;
  const sessions = new Set<Transport>();

  const dispatch = (line: string): { service: string; run: () => Promise<string> | string } => {
    const s = meter.state;
    switch (line) {
      case 'PING':
        return answer(line, () => 'PONG');
      case 'IDENT':
        return answer(line, () => {
          const mpxn = s.registration.mpanCore ?? s.registration.mprn;
          return `IDENT ${s.id} ${s.identity.deviceType} ${mpxn} ${s.identity.deviceId}`;
        });
      case 'SUPPLIER':
        return answer(line, () => `SUPPLIER ${s.registration.supplierId}`);
      case 'CARD':
        return answer(line, () =>
          s.card ? `CARD ${s.card.paymentCardId} ${s.card.issuerSupplierId}` : 'CARD NONE',
        );
      case 'CLEAR':
        return answer(line, async () => {
          try {
            const r = await meter.clearPaymentCardData(PROBE_ACTOR);
            return r.alreadyClear ? 'CLEARED ALREADY' : 'CLEARED';
          } catch (e) {
            if (e instanceof SimError) return `ERR ${String(e.context['reason'] ?? e.codeName)}`;
            throw e;
          }
        });
      default:
        return { service: 'unknown', run: () => 'ERR unknown-command' };
    }
  };

  const serve = async (t: Transport, line: string): Promise<void> => {
    // A powered-off meter hears nothing: the request is lost, no metric, no answer.
    if (!faults.isPoweredOn()) return;
    const started = clock.monotonic();
    const { service, run } = dispatch(line);
    let result: string;
    let reply: string;
    if (faults.takeBusy()) {
      result = 'bsy';
      reply = 'BSY';
    } else {
      reply = await run();
      result = reply.startsWith('ERR') ? 'err' : 'ok';
    }
    const delay = faults.responseDelayMs();
    if (delay > 0) await clock.sleep(delay);
    if (!faults.isPoweredOn() || !t.isOpen) return;
    let payload: Buffer = Buffer.from(reply, 'latin1');
    if (faults.takeCorrupt()) payload = corruptFrame(payload);
    await t.write(Buffer.concat([payload, Buffer.from('\n')]));
    metrics.onRequest(service, result, (clock.monotonic() - started) / 1000);
  };

  const onConnection = (t: Transport): void => {
    sessions.add(t);
    let buffered = Buffer.alloc(0);
    let discarding = false;
    // One request at a time per session, answered in order.
    let queue: Promise<void> = Promise.resolve();
    t.on('data', (chunk) => {
      buffered = Buffer.concat([buffered, chunk]);
      for (let nl = buffered.indexOf(0x0a); nl >= 0; nl = buffered.indexOf(0x0a)) {
        const raw = buffered.subarray(0, nl);
        buffered = buffered.subarray(nl + 1);
        if (discarding || raw.length > PROBE_MAX_LINE) {
          discarding = false;
          metrics.onError('framing');
          continue;
        }
        const line = raw.toString('latin1').replace(/\r$/, '').trim();
        if (line === '') continue;
        queue = queue.then(() =>
          handle
            .track(() => serve(t, line))
            .catch((e: unknown) => {
              metrics.onError(e instanceof SimError ? e.codeName : 'internal');
            }),
        );
      }
      if (buffered.length > PROBE_MAX_LINE) {
        buffered = Buffer.alloc(0);
        discarding = true;
      }
    });
    t.once('close', () => sessions.delete(t));
  };

  listener.on('connection', onConnection);
  return {
    faults,
    async close() {
      listener.off('connection', onConnection);
      await Promise.all([...sessions].map((t) => t.close()));
    },
  };
};
