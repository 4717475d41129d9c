import type { SimError } from '../../../core/errors';
import type { HdlcAddress } from './address';
import type { HdlcFrame } from './frame';
import type { HdlcEffect, HdlcTimer, OutgoingApdu } from './link-types';
import { HDLC_DEFAULT_PARAMETERS, type HdlcParameters } from './parameters';

/**
 * Configuration, states and inputs of the HDLC server state machine (server-link.ts), and the
 * one way it makes a new connected state. Split from the machine as client-state.ts is from
 * client-link.ts.
 */
export interface HdlcServerConfig {
  /** The server's own limits, server view (what it can send and receive). */
  readonly limits: HdlcParameters;
  /** HDLC setup inactivity_time_out in ms; 0 disables the timer. */
  readonly inactivityTimeoutMs: number;
  /** How long a poll waits for the application's reply before it is answered RR (modelled). */
  readonly replyTimeoutMs: number;
  /** UA parameters: all four (U9N UA vector) or only non-default ones (Gurux style). */
  readonly uaParameters: 'all' | 'non-default';
  /** Largest APDU accepted through reassembly; more -> FRMR Y (modelled bound). */
  readonly maxApduLength: number;
}

export const DEFAULT_HDLC_SERVER_CONFIG: HdlcServerConfig = Object.freeze({
  limits: HDLC_DEFAULT_PARAMETERS,
  // Gurux GXDLMSHdlcSetup default inactivity 120 s (docs/dlms.md §2 "HDLC setup object").
  inactivityTimeoutMs: 120_000,
  replyTimeoutMs: 1_000,
  uaParameters: 'all',
  maxApduLength: 0xffff,
});

export interface HdlcServerIdle {
  readonly mode: 'NDM';
}

export interface HdlcServerConnected {
  readonly mode: 'NRM';
  readonly client: HdlcAddress;
  /** Our address in the form the client wrote it; answers use the same form. */
  readonly local: HdlcAddress;
  /** Negotiated, server view. */
  readonly params: HdlcParameters;
  /** Next N(S) to send, next N(S) expected. */
  readonly vs: number;
  readonly vr: number;
  /** Segments of an incoming APDU not yet complete. */
  readonly rx: readonly Buffer[];
  readonly rxLength: number;
  /** Replies waiting for polls; the head may be part-sent. */
  readonly tx: readonly OutgoingApdu[];
  /** Our last I frame until the client acknowledges it (window 1). */
  readonly unacked: HdlcFrame | undefined;
  /** Our last answer, repeated when the client repeats its frame. */
  readonly lastResponse: HdlcFrame | undefined;
  /** A poll is outstanding and the application has not replied yet. */
  readonly awaitingReply: boolean;
  /** FRMR condition: the info field we keep answering with. */
  readonly frmr: Buffer | undefined;
}

export type HdlcServerState = HdlcServerIdle | HdlcServerConnected;

export type HdlcServerInput =
  | { readonly kind: 'frame'; readonly frame: HdlcFrame }
  /** A frame with valid FCS and readable addresses that we cannot accept (bad control, HCS). */
  | {
      readonly kind: 'invalid';
      readonly dest: HdlcAddress;
      readonly src: HdlcAddress;
      readonly controlByte: number | undefined;
      readonly reasons: number;
      readonly error: SimError;
    }
  | { readonly kind: 'send'; readonly id: number; readonly apdu: Buffer }
  | { readonly kind: 'timeout'; readonly timer: HdlcTimer }
  | { readonly kind: 'close' };

export const HDLC_NDM: HdlcServerIdle = Object.freeze({ mode: 'NDM' });

/** Shared immutable parts of states and effects (a step never mutates them). */
export const STOP_REPLY: HdlcEffect = Object.freeze({ kind: 'stopTimer', timer: 'reply' });
export const NO_SEGMENTS: readonly Buffer[] = Object.freeze([]);
export const NO_TX: readonly OutgoingApdu[] = Object.freeze([]);
export const NO_EFFECTS: readonly HdlcEffect[] = Object.freeze([]);

/**
 * `s` with `c` applied. Written out field by field in one fixed order (connect() builds the
 * first state in the same order) rather than as `{...s, ...c}`: V8 then gives every connected
 * state one shape, and a step costs tens of nanoseconds instead of about a microsecond per
 * copy (measured on the GET path, two steps per request; docs/dlms-implementation.md).
 */
export function connected(
  s: HdlcServerConnected,
  c: Partial<Omit<HdlcServerConnected, 'mode'>>,
): HdlcServerConnected {
  return {
    mode: 'NRM',
    client: s.client,
    local: s.local,
    params: s.params,
    vs: c.vs ?? s.vs,
    vr: c.vr ?? s.vr,
    rx: c.rx ?? s.rx,
    rxLength: c.rxLength ?? s.rxLength,
    tx: c.tx ?? s.tx,
    unacked: 'unacked' in c ? c.unacked : s.unacked,
    lastResponse: 'lastResponse' in c ? c.lastResponse : s.lastResponse,
    awaitingReply: c.awaitingReply ?? s.awaitingReply,
    frmr: 'frmr' in c ? c.frmr : s.frmr,
  };
}
