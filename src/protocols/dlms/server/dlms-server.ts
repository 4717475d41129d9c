import { ErrorCode, SimError, toSimError } from '../../../core/errors';
import { TypedEmitter } from '../../../core/events';
import type { AxdrLimits } from '../axdr/limits';
import type { RandomBytes } from '../security/hls-gmac';
import type { LinkAddress } from '../link/types';
import type { ApduChannel } from './apdu-channel';
import { addBuiltinObjects } from './builtin-objects';
import type { LogicalDeviceConfig } from './config';
import {
  ServerSession,
  logicalDeviceRuntime,
  type LogicalDeviceRuntime,
  type SessionEvent,
} from './server-session';

/**
 * The meter's DLMS application layer over any number of APDU links (HDLC, wrapper, in-memory):
 * one ServerSession per client address and logical device, APDUs of one session handled one
 * at a time in arrival order, answers sent back on the link they came from. A link going down
 * or closing ends the associations on it.
 */
export interface DlmsServerOptions {
  readonly logicalDevices: readonly LogicalDeviceConfig[];
  /** Random source for HLS challenges (tests inject fixed challenges). */
  readonly rng?: RandomBytes;
  readonly challengeLength?: number;
  readonly limits?: Partial<AxdrLimits>;
}

export type DlmsServerEvents = {
  associated: [{ address: LinkAddress; association: string; mechanism: string }];
  rejected: [{ address: LinkAddress; reason: string; diagnostic: number }];
  released: [{ address: LinkAddress; association: string | undefined }];
  hlsFailed: [{ address: LinkAddress; association: string; error: SimError }];
  cipherFailed: [{ address: LinkAddress; error: SimError }];
  /** Something went wrong that the server absorbed: a callback threw, a send failed, no such device. */
  fault: [{ address: LinkAddress | undefined; error: SimError; where: string }];
};

interface Entry {
  readonly session: ServerSession;
  queue: Promise<void>;
}

function addressKey(a: LinkAddress): string {
  return `${a.client}/${a.server}/${a.physical ?? ''}`;
}

export class DlmsServer extends TypedEmitter<DlmsServerEvents> {
  private readonly devices = new Map<number, LogicalDeviceRuntime>();
  private readonly channels = new Map<ApduChannel, Map<string, Entry>>();
  private readonly detachers = new Map<ApduChannel, () => void>();

  constructor(private readonly options: DlmsServerOptions) {
    super();
    for (const ld of options.logicalDevices) {
      if (this.devices.has(ld.sap)) {
        throw new SimError(ErrorCode.ConfigInvalid, `logical device ${ld.sap} is configured twice`, {
          sap: ld.sap,
        });
      }
      addBuiltinObjects(ld);
      ld.registry.addFaultListener((error, where) =>
        this.emit('fault', { address: undefined, error, where }),
      );
      this.devices.set(ld.sap, logicalDeviceRuntime(ld));
    }
  }

  /** A session not bound to a link: for benchmarks and tools that move APDU bytes themselves. */
  createSession(address: LinkAddress): ServerSession {
    const device = this.devices.get(address.server);
    if (!device) {
      throw new SimError(ErrorCode.ConfigInvalid, `no logical device ${address.server}`, {
        server: address.server,
      });
    }
    return new ServerSession(device, address, {
      rng: this.options.rng,
      challengeLength: this.options.challengeLength,
      limits: this.options.limits,
      onEvent: (e) => this.forward(address, e),
    });
  }

  private forward(address: LinkAddress, e: SessionEvent): void {
    switch (e.kind) {
      case 'associated':
        this.emit('associated', { address, association: e.association, mechanism: e.mechanism });
        return;
      case 'rejected':
        this.emit('rejected', { address, reason: e.reason, diagnostic: e.diagnostic });
        return;
      case 'released':
        this.emit('released', { address, association: e.association });
        return;
      case 'hls-failed':
        this.emit('hlsFailed', { address, association: e.association, error: e.error });
        return;
      case 'cipher-failed':
        this.emit('cipherFailed', { address, error: e.error });
        return;
      case 'fault':
        this.emit('fault', { address, error: e.error, where: e.where });
        return;
    }
  }

  /** Serve a link; returns a function that detaches from it (ending its sessions). */
  attach(channel: ApduChannel): () => void {
    if (this.channels.has(channel)) return () => this.detach(channel);
    const sessions = new Map<string, Entry>();
    this.channels.set(channel, sessions);
    const onApdu = (apdu: Buffer, addr: LinkAddress): void => {
      const key = addressKey(addr);
      let entry = sessions.get(key);
      if (!entry) {
        if (!this.devices.has(addr.server)) {
          this.emit('fault', {
            address: addr,
            error: new SimError(ErrorCode.LinkProtocol, `APDU for unknown logical device ${addr.server}`),
            where: 'route',
          });
          return;
        }
        entry = { session: this.createSession(addr), queue: Promise.resolve() };
        sessions.set(key, entry);
      }
      const { session } = entry;
      entry.queue = entry.queue
        .then(() => session.handle(apdu))
        .then((out) => (out === undefined ? undefined : channel.send(out, addr)))
        .catch((e: unknown) => {
          this.emit('fault', {
            address: addr,
            error: toSimError(e, ErrorCode.LinkDisconnected),
            where: 'send',
          });
        });
    };
    const onDown = (addr: LinkAddress): void => {
      const key = addressKey(addr);
      sessions.get(key)?.session.linkDown();
      sessions.delete(key);
    };
    const onClose = (): void => this.detach(channel);
    // ApduLinkEvents carries an index signature, so listeners are registered as inline arrows
    // (typed from the event map) and kept for off().
    const apduListener = (apdu: Buffer, addr: LinkAddress): void => onApdu(apdu, addr);
    const downListener = (addr: LinkAddress): void => onDown(addr);
    channel.on('apdu', apduListener as (...args: unknown[]) => void);
    channel.on('down', downListener as (...args: unknown[]) => void);
    channel.on('close', onClose);
    this.detachers.set(channel, () => {
      channel.off('apdu', apduListener as (...args: unknown[]) => void);
      channel.off('down', downListener as (...args: unknown[]) => void);
      channel.off('close', onClose);
    });
    return () => this.detach(channel);
  }

  private detach(channel: ApduChannel): void {
    const sessions = this.channels.get(channel);
    if (!sessions) return;
    for (const e of sessions.values()) e.session.linkDown();
    this.channels.delete(channel);
    this.detachers.get(channel)?.();
    this.detachers.delete(channel);
  }

  /** The session serving an address on a link, if one exists (for inspection and tests). */
  session(channel: ApduChannel, address: LinkAddress): ServerSession | undefined {
    return this.channels.get(channel)?.get(addressKey(address))?.session;
  }

  /** Resolves once every APDU received so far on the link has been answered. */
  async idle(channel: ApduChannel): Promise<void> {
    await Promise.all([...(this.channels.get(channel)?.values() ?? [])].map((e) => e.queue));
  }
}
