import type { SimError } from '../../../core/errors';
import type { HdlcAddress } from './address';
import type { HdlcFrame } from './frame';
import type { HdlcParameters } from './parameters';

/**
 * Shared vocabulary of the HDLC link state machines (server-link.ts, client-link.ts). Both are
 * pure functions `(config, state, input) -> {state, effects}`; the adapter in ../link/ runs the
 * effects: it encodes and writes frames, owns the timers on the injectable Clock and resolves
 * the promises named by `id`.
 */
export type HdlcTimer =
  /** Server: HDLC setup inactivity_time_out (attribute 8); expiry returns the link to NDM. */
  | 'inactivity'
  /** Server: how long a poll may wait for the application's reply before it is answered RR. */
  | 'reply'
  /** Client: no response to the last command frame. */
  | 'response'
  /** Client: pause before polling again after the server answered RR/RNR with nothing. */
  | 'poll';

export type HdlcDisconnectReason =
  'disc' | 'inactivity' | 'dm' | 'frmr' | 'timeout' | 'protocol' | 'rejected' | 'reset' | 'local';

export type HdlcEffect =
  | { readonly kind: 'transmit'; readonly frame: HdlcFrame }
  /** `from`: the sending station, when it is not the connected peer (UI frames in NDM). */
  | { readonly kind: 'deliver'; readonly apdu: Buffer; readonly from?: HdlcAddress }
  | { readonly kind: 'connected'; readonly params: HdlcParameters }
  | { readonly kind: 'disconnected'; readonly reason: HdlcDisconnectReason; readonly error?: SimError }
  /** The APDU queued under `id` went out completely. */
  | { readonly kind: 'sent'; readonly id: number }
  | { readonly kind: 'failed'; readonly id: number; readonly error: SimError }
  | { readonly kind: 'startTimer'; readonly timer: HdlcTimer; readonly ms: number }
  | { readonly kind: 'stopTimer'; readonly timer: HdlcTimer }
  /** Something the peer did wrong that the link absorbed (for logs and counters). */
  | { readonly kind: 'protocolError'; readonly error: SimError };

export interface HdlcStep<S> {
  readonly state: S;
  readonly effects: readonly HdlcEffect[];
}

/** One APDU on its way out: its segments and how many have been transmitted. */
export interface OutgoingApdu {
  readonly id: number;
  readonly segments: readonly Buffer[];
  readonly next: number;
}

export const inc8 = (n: number): number => (n + 1) & 7;
export const dec8 = (n: number): number => (n + 7) & 7;

/** Concatenate segment views into one APDU buffer. */
export function joinSegments(parts: readonly Buffer[], total: number): Buffer {
  return parts.length === 1 ? Buffer.from(parts[0]!) : Buffer.concat(parts as Buffer[], total);
}
