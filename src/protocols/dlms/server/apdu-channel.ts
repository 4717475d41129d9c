import { EventEmitter } from 'node:events';
import { ErrorCode, SimError } from '../../../core/errors';
import type { ApduLinkEvents, LinkAddress } from '../link/types';

/**
 * What the application layer needs from a link: whole APDUs in and out, addressed by client
 * SAP and server logical device. The link layers' ApduLink (../link/types.ts: HDLC, wrapper)
 * satisfies it as is; `createMemApduPair` gives an in-process pair for tests and benchmarks.
 */
export interface ApduChannel extends EventEmitter<ApduLinkEvents> {
  readonly kind: string;
  send(apdu: Uint8Array, addr: LinkAddress): Promise<void>;
  close(): Promise<void>;
}

/** The client end also knows the one address it talks to. */
export interface ApduClientChannel extends ApduChannel {
  readonly address: LinkAddress;
}

class MemApduEnd extends EventEmitter<ApduLinkEvents> implements ApduClientChannel {
  readonly kind = 'mem';
  peer: MemApduEnd | undefined;
  private open = true;
  /** Delivery queue; one setImmediate drains it, keeping order across sends. */
  private readonly inbox: Array<[Buffer, LinkAddress]> = [];
  private scheduled = false;

  constructor(readonly address: LinkAddress) {
    super();
  }

  get isOpen(): boolean {
    return this.open;
  }

  send(apdu: Uint8Array, addr: LinkAddress): Promise<void> {
    if (!this.open || !this.peer?.open) {
      return Promise.reject(new SimError(ErrorCode.LinkDisconnected, 'mem APDU channel is closed'));
    }
    this.peer.deliver(Buffer.from(apdu), addr);
    return Promise.resolve();
  }

  private deliver(apdu: Buffer, addr: LinkAddress): void {
    this.inbox.push([apdu, addr]);
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      for (const [a, ad] of this.inbox.splice(0)) if (this.open) this.emit('apdu', a, ad);
    });
  }

  close(): Promise<void> {
    if (this.open) {
      this.open = false;
      this.emit('close', undefined);
      const p = this.peer;
      if (p?.open) {
        p.open = false;
        p.emit('close', new SimError(ErrorCode.LinkDisconnected, 'mem APDU channel: peer closed'));
      }
    }
    return Promise.resolve();
  }
}

/**
 * Two connected in-memory APDU channels. Deliveries happen in a later macrotask (like a real
 * link) and in order. `client.address` is the address the client uses in every send.
 */
export function createMemApduPair(address: LinkAddress = { client: 16, server: 1 }): {
  client: ApduClientChannel;
  server: ApduChannel;
} {
  const client = new MemApduEnd(address);
  const server = new MemApduEnd(address);
  client.peer = server;
  server.peer = client;
  return { client, server };
}
