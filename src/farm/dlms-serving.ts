/**
 * The farm's DLMS protocol slot (docs/farm.md "DLMS meters"): every connection a DLMS meter's
 * listener accepts is served by serveDlmsMeter over the meter's COSEM binding — over the link
 * the fleet file chose (`link` on a group or device), by default the TCP wrapper on tcp-listen
 * (IEC 62056-47, what a meter on an IP network speaks) and the profile's own link on pty and mem
 * (HDLC, or IEC 62056-21 mode E then HDLC for the battery GSME, which sleeps per link until the
 * client's wake-up NULs).
 *
 * The fault contract of faults.ts, as DLMS has it (modelled):
 * - power off: incoming bytes are discarded and nothing is sent (the farm also closes TCP/mem
 *   sessions and refuses new ones);
 * - busy: the next N GET / SET / ACTION requests are answered `temporary-failure` (2) instead of
 *   being served; association, release and block continuation are session services, unaffected;
 * - delay: each GET / SET / ACTION waits this long first;
 * - corrupt: the next N frames the meter sends leave damaged — an HDLC frame with its FCS inverted
 *   (the byte before the closing flag, so the client's framer sees a bad FCS and drops it), a
 *   wrapper PDU with its last byte inverted (the wrapper has no check sequence);
 * - drop: the farm closes TCP/mem sessions; on a pty the link state is forgotten (a new HDLC
 *   server link on the same line, which stays open).
 * Every GET / SET / ACTION is in-flight work for a graceful stop (handle.track) and a request
 * in the metrics (`get`, `set`, `action` with `ok`, `bsy` or the result name).
 */
import { ErrorCode, SimError } from '../core/errors';
import { ActionResult, DataAccessResult } from '../protocols/dlms/apdu/result-codes';
import type { CosemRegistry } from '../protocols/dlms/cosem/object-registry';
import { bindDlms, type DlmsBinding } from '../profiles/dlms-binding';
import type { DlmsLinkKind } from '../profiles/dlms-binding-schema';
import { serveDlmsMeter, withDlmsLink, type ServedDlmsMeter } from '../profiles/dlms-serve';
import type { FirmwareProfile } from '../profiles/schema';
import type { Listener, Transport } from '../transport/types';
import { corruptFrame, FaultyTransport } from './faults';
import type { MeterSpec } from './generator';
import type { MeterHandle, MeterServer, MeterServerFactory } from './runtime-types';

/** The link a farm meter serves: the fleet file's, else wrapper on TCP, else the profile's. */
export function farmDlmsLink(spec: Pick<MeterSpec, 'link' | 'endpoint'>, p: FirmwareProfile): DlmsLinkKind {
  if (spec.link !== undefined) return spec.link;
  if (spec.endpoint.connect.startsWith('tcp://')) return 'wrapper';
  if (p.protocol.stack !== 'dlms')
    throw new SimError(ErrorCode.ProfileIncompatible, `profile ${p.id} is not a DLMS profile`, {
      profile: p.id,
    });
  return p.protocol.dlms.link;
}

const linked = new WeakMap<FirmwareProfile, Map<DlmsLinkKind, FirmwareProfile>>();

/**
 * The profile a farm meter is served (and swept) with: its link as farmDlmsLink says. One object
 * per profile and link, shared by every meter (and by caches keyed on the profile object).
 */
export function farmDlmsProfile(
  spec: Pick<MeterSpec, 'link' | 'endpoint'>,
  p: FirmwareProfile,
): FirmwareProfile {
  const link = farmDlmsLink(spec, p);
  let byLink = linked.get(p);
  if (!byLink) linked.set(p, (byLink = new Map()));
  let out = byLink.get(link);
  if (!out) byLink.set(link, (out = withDlmsLink(p, link)));
  return out;
}

/** A frame damaged so that its check fails: HDLC FCS (before the closing flag), else the last byte. */
export function corruptDlmsFrame(frame: Uint8Array): Buffer {
  const hdlc = frame.length >= 4 && frame[0] === 0x7e && frame[frame.length - 1] === 0x7e;
  if (!hdlc) return corruptFrame(frame);
  const out = Buffer.from(frame);
  out[out.length - 2] = out[out.length - 2]! ^ 0xff;
  return out;
}

const DAR_NAME: Record<number, string> = Object.fromEntries(
  Object.entries(DataAccessResult).map(([name, code]) => [code, name]),
);

/**
 * Busy, delay, in-flight tracking and metrics around the registry's GET / SET / ACTION. The
 * registry is this meter's own (one binding per farm meter), so replacing the three entry
 * points on the instance changes nothing else.
 */
function applyRequestFaults(registry: CosemRegistry, handle: MeterHandle): void {
  const { faults, clock, metrics } = handle;
  const get = registry.get.bind(registry);
  const set = registry.set.bind(registry);
  const action = registry.action.bind(registry);
  const TEMPORARY = DataAccessResult['temporary-failure'];
  const served = async <T>(
    service: string,
    busy: T,
    work: () => Promise<T>,
    result: (r: T) => number,
  ): Promise<T> =>
    handle.track(async () => {
      const started = clock.monotonic();
      if (faults.takeBusy()) {
        metrics.onRequest(service, 'bsy', (clock.monotonic() - started) / 1000);
        return busy;
      }
      const delay = faults.responseDelayMs();
      if (delay > 0) await clock.sleep(delay);
      const r = await work();
      const code = result(r);
      metrics.onRequest(
        service,
        code === 0 ? 'ok' : (DAR_NAME[code] ?? 'err'),
        (clock.monotonic() - started) / 1000,
      );
      return r;
    });
  registry.get = (desc, access, ctx) =>
    served(
      'get',
      { kind: 'dar', dar: TEMPORARY },
      () => get(desc, access, ctx),
      (r) => (r.kind === 'dar' ? r.dar : 0),
    );
  registry.set = (desc, access, value, ctx) =>
    served(
      'set',
      TEMPORARY,
      () => set(desc, access, value, ctx),
      (r) => r,
    );
  registry.action = (desc, params, ctx) =>
    served(
      'action',
      { result: ActionResult['temporary-failure'] },
      () => action(desc, params, ctx),
      (r) => r.result,
    );
}

/**
 * The farm's DLMS protocol slot. The profile comes from the farm profile (`firmware`, set by
 * firmwareProfileResolver); a C12.18 profile or one built in code without it is refused.
 */
export const dlmsServerFactory: MeterServerFactory = (spec, handle, listener: Listener): MeterServer => {
  const firmware = handle.profile.firmware;
  if (!firmware || firmware.protocol.stack !== 'dlms')
    throw new SimError(
      ErrorCode.ProfileIncompatible,
      `meter ${spec.id}: profile ${spec.profile} ${firmware ? `speaks ${firmware.protocol.stack}` : 'carries no firmware profile'}; this slot serves DLMS`,
      { meterId: spec.id, profile: spec.profile },
    );
  const profile = farmDlmsProfile(spec, firmware);
  const { faults, metrics, clock, meter } = handle;
  // Bound on the first connection and kept (the peers' invocation counters live in it): an idle
  // meter of a large farm holds no COSEM registry (measured ~80 KiB each when bound at start).
  let binding: DlmsBinding | undefined;
  const bound = (): DlmsBinding => {
    if (!binding) {
      binding = bindDlms(profile, meter);
      applyRequestFaults(binding.registry, handle);
    }
    return binding;
  };
  const lines = new Map<FaultyTransport, ServedDlmsMeter>();

  const serve = (line: FaultyTransport): void => {
    const served = serveDlmsMeter(line, meter, profile, { clock, binding: bound() });
    served.server.on('fault', () => metrics.onError('link'));
    lines.set(line, served);
  };
  const onConnection = (raw: Transport): void => {
    const line = new FaultyTransport(raw, faults, corruptDlmsFrame);
    serve(line);
    raw.once('close', () => {
      const served = lines.get(line);
      lines.delete(line);
      void served?.close();
    });
  };
  // A pty stays open through a drop: forget the link state by serving the line afresh.
  const onDrop = (): void => {
    for (const [line, served] of lines) {
      if (!line.isOpen) continue;
      void served.close().then(() => {
        if (line.isOpen && lines.get(line) === served) serve(line);
      });
    }
  };
  listener.on('connection', onConnection);
  faults.on('drop', onDrop);
  return {
    faults,
    async close() {
      listener.off('connection', onConnection);
      faults.off('drop', onDrop);
      const all = [...lines];
      lines.clear();
      await Promise.all(
        all.map(async ([line, served]) => {
          await served.close();
          await line.close();
        }),
      );
    },
  };
};

/**
 * A protocol slot that serves each meter with the stack its profile speaks: DLMS profiles with
 * `dlms`, everything else with `c1218` (src/testing/farm.ts c1218ServerFactory).
 */
export function stackServerFactory(
  c1218: MeterServerFactory,
  dlms: MeterServerFactory = dlmsServerFactory,
): MeterServerFactory {
  return (spec, handle, listener) =>
    handle.profile.firmware?.protocol.stack === 'dlms'
      ? dlms(spec, handle, listener)
      : c1218(spec, handle, listener);
}
