/**
 * Serve a Meter as a DLMS/COSEM meter over its profile's link (docs/dlms-profiles.md "Serving"):
 *
 *   hdlc     HDLC (IEC 62056-46) directly on the transport: optical port, serial, HDLC over TCP
 *   wrapper  the TCP wrapper (IEC 62056-47): one wrapper session per connection
 *   mode-e   IEC 62056-21 sign-on at 300 Bd 7E1, then HDLC at the acknowledged speed; a battery
 *            meter (timing.wake) sleeps until `modeE.wakeUpNuls` NULs arrive
 *
 * One DlmsServer per meter serves every connection (each connection is its own link with its own
 * sessions). Given a Listener, every accepted connection is served and closed by close(); given
 * a Transport, that one line is served and left open (its owner closes it).
 */
import { EventEmitter } from 'node:events';
import { systemClock, type Clock } from '../core/clock';
import { toHex } from '../core/bytes';
import { ErrorCode, SimError } from '../core/errors';
import { silentLogger, type Logger } from '../core/logger';
import type { Meter } from '../device/meter';
import { HdlcServerLink } from '../protocols/dlms/link/hdlc-server';
import { ModeEServerLink } from '../protocols/dlms/link/mode-e-server';
import type { ApduLink, ApduLinkEvents, LinkAddress } from '../protocols/dlms/link/types';
import { WrapperServerLink } from '../protocols/dlms/link/wrapper-links';
import type { ApduChannel } from '../protocols/dlms/server/apdu-channel';
import type { DlmsServer } from '../protocols/dlms/server/dlms-server';
import type { RandomBytes } from '../protocols/dlms/security/hls-gmac';
import type { Listener, Transport } from '../transport/types';
import { bindDlms, dlmsParts, type DlmsBinding } from './dlms-binding';
import type { DlmsLinkKind, DlmsParams } from './dlms-binding-schema';
import type { FirmwareProfile } from './schema';

/** One APDU as it crossed the link (hex as on the wire: ciphered APDUs stay ciphered). */
export interface DlmsTraceEntry {
  dir: 'rx' | 'tx';
  link: 'hdlc' | 'wrapper';
  client: number;
  server: number;
  apdu: string;
}

export interface ServeDlmsOptions {
  clock?: Clock;
  logger?: Logger;
  /** Called with every APDU received and sent. */
  trace?: (entry: DlmsTraceEntry) => void;
  /** An existing binding of this meter (default: a new one). */
  binding?: DlmsBinding;
  /** HLS challenge source (tests inject fixed challenges). */
  rng?: RandomBytes;
}

export interface ServedDlmsMeter {
  readonly binding: DlmsBinding;
  readonly server: DlmsServer;
  /** Links currently served. */
  readonly links: number;
  /**
   * Battery meters behind mode E: whether the optical port of any connection is awake (signed
   * on or listening for a sign-on); null when the profile's meter does not sleep.
   */
  readonly awake: boolean | null;
  /** Stop serving: detach and close every link (and accepted connections). Idempotent. */
  close(): Promise<void>;
}

/**
 * The profile with its meter on another link (`simulate --link`, a farm group's `link`, the
 * client's `--link`): the same objects and associations, served over HDLC, the wrapper or mode E.
 * HDLC and mode E need the profile's `hdlc` parameters, mode E its `modeE` sign-on too; a link
 * the profile cannot describe is ConfigInvalid. Non-DLMS profiles are ProfileIncompatible.
 */
export function withDlmsLink(profile: FirmwareProfile, link: DlmsLinkKind): FirmwareProfile {
  const { dlms } = dlmsParts(profile);
  if (dlms.link === link) return profile;
  const missing = link === 'hdlc' ? !dlms.hdlc : link === 'mode-e' ? !dlms.hdlc || !dlms.modeE : false;
  if (missing)
    throw new SimError(
      ErrorCode.ConfigInvalid,
      `profile ${profile.id} cannot run over ${link}: it has no ${link === 'mode-e' && dlms.hdlc ? 'modeE' : 'hdlc'} parameters`,
      { profile: profile.id, link },
    );
  return { ...profile, protocol: { stack: 'dlms', dlms: { ...dlms, link } } };
}

/** A server link for one transport, as the profile describes it. */
export function dlmsServerLink(
  dlms: DlmsParams,
  profile: FirmwareProfile,
  transport: Transport,
  o: { clock: Clock; logger: Logger; closeTransport: boolean },
): ApduLink {
  const common = { clock: o.clock, logger: o.logger, closeTransport: o.closeTransport };
  if (dlms.link === 'wrapper')
    return new WrapperServerLink(transport, { ...common, serverAddresses: [dlms.logicalDevice] });
  const h = dlms.hdlc!;
  const hdlc = {
    addresses: [
      { logical: dlms.logicalDevice, ...(h.physical !== undefined ? { physical: h.physical } : {}) },
    ],
    limits: { maxInfoTx: h.maxInfo, maxInfoRx: h.maxInfo, windowTx: h.window, windowRx: h.window },
    inactivityTimeoutMs: h.inactivityS * 1000,
  };
  if (dlms.link === 'hdlc') return new HdlcServerLink(transport, { ...common, ...hdlc });
  const m = dlms.modeE!;
  const wake = profile.timing.wake;
  return new ModeEServerLink(transport, {
    ...common,
    hdlc,
    signOn: {
      manufacturer: m.manufacturerId,
      ident: m.ident,
      baudChar: m.baudChar,
      offerHdlc: true,
      ...(wake && m.wakeUpNuls !== undefined
        ? { wakeUp: { minNuls: m.wakeUpNuls, awakeMs: wake.awakeMs } }
        : {}),
    },
  });
}

/** The link as the DlmsServer sees it, reporting every APDU in and out to `trace`. */
export class TracedChannel extends EventEmitter<ApduLinkEvents> implements ApduChannel {
  readonly kind: string;

  constructor(
    private readonly inner: ApduLink,
    private readonly trace: (entry: DlmsTraceEntry) => void,
  ) {
    super();
    this.kind = inner.kind;
    inner.on('apdu', (apdu, addr) => {
      this.report('rx', apdu, addr);
      this.emit('apdu', apdu, addr);
    });
    inner.on('up', (addr) => this.emit('up', addr));
    inner.on('down', (addr, e) => this.emit('down', addr, e));
    inner.on('close', (e) => this.emit('close', e));
  }

  private report(dir: 'rx' | 'tx', apdu: Uint8Array, addr: LinkAddress): void {
    this.trace({ dir, link: this.inner.kind, client: addr.client, server: addr.server, apdu: toHex(apdu) });
  }

  send(apdu: Uint8Array, addr: LinkAddress): Promise<void> {
    this.report('tx', apdu, addr);
    return this.inner.send(apdu, addr);
  }

  close(): Promise<void> {
    return this.inner.close();
  }
}

/** Serve `meter` per `profile` on a listener (every connection) or on one transport. */
export function serveDlmsMeter(
  source: Listener | Transport,
  meter: Meter,
  profile: FirmwareProfile,
  options: ServeDlmsOptions = {},
): ServedDlmsMeter {
  const { dlms } = dlmsParts(profile);
  const clock = options.clock ?? systemClock;
  const log = options.logger ?? silentLogger;
  const binding = options.binding ?? bindDlms(profile, meter, { logger: log });
  const server = binding.createServer(options.rng ? { rng: options.rng } : {});
  const links = new Set<{ link: ApduLink; detach: () => void }>();
  let closed = false;

  server.on('associated', (e) =>
    log.info(
      { client: e.address.client, association: e.association, mechanism: e.mechanism },
      `associated as ${e.association}`,
    ),
  );
  server.on('rejected', (e) =>
    log.warn({ client: e.address.client, diagnostic: e.diagnostic }, `association refused: ${e.reason}`),
  );
  server.on('hlsFailed', (e) =>
    log.warn({ association: e.association }, `HLS proof refused: ${e.error.message}`),
  );
  server.on('fault', (e) =>
    log.warn({ code: e.error.codeName, where: e.where }, `dlms fault: ${e.error.message}`),
  );
  binding.on('operation', (a) =>
    (a.ok ? log.info.bind(log) : log.warn.bind(log))(
      { object: a.object, via: a.via, index: a.index, action: a.action, actor: a.actor, reason: a.reason },
      `${a.action} via ${a.via} ${a.obis}/${a.index} by ${a.actor}: ${a.ok ? 'done' : `refused (${a.reason})`}`,
    ),
  );

  const serve = (transport: Transport, closeTransport: boolean): void => {
    const clog = log.child({ peer: transport.info.peer ?? transport.info.path });
    const link = dlmsServerLink(dlms, profile, transport, { clock, logger: clog, closeTransport });
    const channel = options.trace ? new TracedChannel(link, options.trace) : link;
    const entry = { link, detach: server.attach(channel) };
    links.add(entry);
    link.once('close', () => {
      entry.detach();
      links.delete(entry);
      clog.info('link closed');
    });
    clog.info(`serving DLMS (${dlms.link}) on ${transport.info.uri}`);
  };

  const isListener = !('write' in source);
  const onConnection = (t: Transport): void => {
    if (closed) void t.close();
    else serve(t, true);
  };
  if (isListener) (source as Listener).on('connection', onConnection);
  else serve(source as Transport, false);

  return {
    binding,
    server,
    get links() {
      return links.size;
    },
    get awake() {
      if (dlms.link !== 'mode-e' || !profile.timing.wake || dlms.modeE?.wakeUpNuls === undefined) return null;
      return [...links].some((l) => l.link instanceof ModeEServerLink && l.link.phase !== 'asleep');
    },
    async close(): Promise<void> {
      if (closed) return;
      closed = true;
      if (isListener) (source as Listener).off('connection', onConnection);
      const all = [...links];
      links.clear();
      for (const l of all) {
        l.detach();
        await l.link.close();
      }
    },
  };
}
