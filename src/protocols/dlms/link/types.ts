import type { EventEmitter } from 'node:events';
import type { SimError } from '../../../core/errors';

/**
 * The one interface both DLMS link stacks (HDLC, TCP wrapper) give the application layer:
 * whole APDUs in and out, addressed by client SAP and server logical device. Segmentation,
 * LLC headers, sequence numbers and wrapper headers stay below it.
 */
export interface LinkAddress {
  /** Client SAP (HDLC client address, wrapper source wPort of requests). */
  readonly client: number;
  /** Server logical device (HDLC upper address, wrapper destination wPort of requests). */
  readonly server: number;
  /** HDLC lower (physical) address, when the server address has one. */
  readonly physical?: number;
}

export interface ApduLinkEvents {
  /** A complete APDU arrived. */
  apdu: [Buffer, LinkAddress];
  /** A data link connection opened (HDLC SNRM/UA). The wrapper has none. */
  up: [LinkAddress];
  /** A data link connection ended (DISC, DM, inactivity, timeout): associations on it are gone. */
  down: [LinkAddress, SimError | undefined];
  /** The link is finished (transport closed or close() called); `error` unless local. */
  close: [SimError | undefined];
}

export interface ApduLink extends EventEmitter<ApduLinkEvents> {
  readonly kind: 'hdlc' | 'wrapper';
  /**
   * Resolves once the APDU went out: HDLC server, its last segment was written; HDLC client,
   * its last segment was acknowledged (RR or the reply); wrapper, the transport took the frame.
   * Rejects with a SimError (3xx link, 1xx transport).
   */
  send(apdu: Uint8Array, addr: LinkAddress): Promise<void>;
  /** Idempotent; pending sends reject. */
  close(): Promise<void>;
}

/** The client side additionally opens and closes its (single) data link connection. */
export interface ApduClientLink extends ApduLink {
  readonly address: LinkAddress;
  connect(): Promise<void>;
  disconnect(): Promise<void>;
}

export function sameLinkAddress(a: LinkAddress, b: LinkAddress): boolean {
  return a.client === b.client && a.server === b.server && a.physical === b.physical;
}
