import { ErrorCode, SimError } from '../../../core/errors';
import type { HdlcAddress } from './address';
import type { HdlcControl } from './control';
import { hdlcFrame, type HdlcFrame } from './frame';
import type { HdlcDisconnectReason, HdlcEffect, HdlcStep, HdlcTimer, OutgoingApdu } from './link-types';
import { HDLC_DEFAULT_PARAMETERS, type HdlcParameters } from './parameters';

/**
 * Configuration, state and shared helpers of the HDLC client link state machine
 * (client-link.ts: connection control; client-transfer.ts: data transfer in NRM).
 */
export interface HdlcClientConfig {
  readonly client: HdlcAddress;
  readonly server: HdlcAddress;
  /** Client view: what we send and can receive. */
  readonly proposed: HdlcParameters;
  readonly omitDefaultParameters: boolean;
  readonly responseTimeoutMs: number;
  readonly maxRetries: number;
  readonly pollIntervalMs: number;
  readonly maxPolls: number;
  readonly maxApduLength: number;
}

export const DEFAULT_HDLC_CLIENT_TIMING = Object.freeze({
  responseTimeoutMs: 5_000,
  maxRetries: 3,
  pollIntervalMs: 100,
  maxPolls: 50,
  maxApduLength: 0xffff,
});

export function hdlcClientConfig(
  client: HdlcAddress,
  server: HdlcAddress,
  overrides: Partial<Omit<HdlcClientConfig, 'client' | 'server'>> = {},
): HdlcClientConfig {
  return {
    client,
    server,
    proposed: HDLC_DEFAULT_PARAMETERS,
    omitDefaultParameters: true,
    ...DEFAULT_HDLC_CLIENT_TIMING,
    ...overrides,
  };
}

export interface QueuedApdu {
  readonly id: number;
  readonly apdu: Buffer;
}

/** What the client is waiting for in NRM. */
export type HdlcClientWaiting =
  /** Nothing outstanding. */
  | 'idle'
  /** An I frame went out; its acknowledgement (RR, or the reply I frame) is due. */
  | 'ack'
  /** An RR poll went out; the server's next segment or an RR is due. */
  | 'data'
  /** The server had nothing; the poll timer is running. */
  | 'pollDelay';

export type HdlcClientState =
  | { readonly mode: 'NDM' }
  | {
      readonly mode: 'connecting';
      readonly snrm: HdlcFrame;
      readonly retries: number;
      readonly queue: readonly QueuedApdu[];
    }
  | {
      readonly mode: 'NRM';
      /** Negotiated, client view. */
      readonly params: HdlcParameters;
      readonly vs: number;
      readonly vr: number;
      /** Outgoing APDUs; `next` counts transmitted segments, so a head with next = length is awaiting its ack. */
      readonly tx: readonly OutgoingApdu[];
      readonly rx: readonly Buffer[];
      readonly rxLength: number;
      readonly waiting: HdlcClientWaiting;
      /** The command frame a retry repeats. */
      readonly last: HdlcFrame | undefined;
      readonly retries: number;
      readonly polls: number;
    }
  | { readonly mode: 'disconnecting'; readonly disc: HdlcFrame; readonly retries: number };

export type HdlcClientNrm = Extract<HdlcClientState, { mode: 'NRM' }>;

/**
 * `s` with `c` applied, written out field by field in one fixed order (the UA step builds the
 * first NRM state in the same order): a `{...s, ...c}` of these states cost about a microsecond
 * per step in V8, this a few tens of nanoseconds (server-state.ts `connected` is the twin).
 */
export function nrmState(s: HdlcClientNrm, c: Partial<Omit<HdlcClientNrm, 'mode'>>): HdlcClientNrm {
  return {
    mode: 'NRM',
    params: s.params,
    vs: c.vs ?? s.vs,
    vr: c.vr ?? s.vr,
    tx: c.tx ?? s.tx,
    rx: c.rx ?? s.rx,
    rxLength: c.rxLength ?? s.rxLength,
    waiting: c.waiting ?? s.waiting,
    last: 'last' in c ? c.last : s.last,
    retries: c.retries ?? s.retries,
    polls: c.polls ?? s.polls,
  };
}

export type HdlcClientInput =
  | { readonly kind: 'connect' }
  | { readonly kind: 'frame'; readonly frame: HdlcFrame }
  | { readonly kind: 'send'; readonly id: number; readonly apdu: Buffer }
  | { readonly kind: 'timeout'; readonly timer: HdlcTimer }
  | { readonly kind: 'disconnect' }
  /** Local abort: no DISC, pending sends fail. */
  | { readonly kind: 'close' };

export const HDLC_CLIENT_NDM: HdlcClientState = Object.freeze({ mode: 'NDM' });

export type ClientStep = HdlcStep<HdlcClientState>;

export const transmit = (frame: HdlcFrame): HdlcEffect => ({ kind: 'transmit', frame });
export const stop = (timer: HdlcTimer): HdlcEffect => ({ kind: 'stopTimer', timer });

export function command(
  cfg: HdlcClientConfig,
  control: HdlcControl,
  info?: Buffer,
  segmented = false,
): HdlcFrame {
  return hdlcFrame(cfg.server, cfg.client, control, info, segmented);
}

export function responseTimer(cfg: HdlcClientConfig): HdlcEffect {
  return { kind: 'startTimer', timer: 'response', ms: cfg.responseTimeoutMs };
}

export function failIds(ids: readonly number[], code: SimError['code'], message: string): HdlcEffect[] {
  return ids.map((id) => ({ kind: 'failed', id, error: new SimError(code, message, { id }) }));
}

export function pendingIds(s: HdlcClientState): number[] {
  if (s.mode === 'connecting') return s.queue.map((q) => q.id);
  if (s.mode === 'NRM') return s.tx.map((o) => o.id);
  return [];
}

/** Give the link up: tell everyone waiting, optionally send DISC so the server resets too. */
export function giveUp(
  cfg: HdlcClientConfig,
  s: HdlcClientState,
  reason: HdlcDisconnectReason,
  error: SimError | undefined,
  sendDisc: boolean,
): ClientStep {
  const code = error?.code ?? ErrorCode.LinkDisconnected;
  return {
    state: HDLC_CLIENT_NDM,
    effects: [
      stop('response'),
      stop('poll'),
      ...(error && reason !== 'local' ? [{ kind: 'protocolError', error } as const] : []),
      ...(sendDisc ? [transmit(command(cfg, { type: 'DISC', pf: true }))] : []),
      ...failIds(pendingIds(s), code, error?.message ?? 'HDLC link closed'),
      { kind: 'disconnected', reason, ...(error ? { error } : {}) },
    ],
  };
}

export function startDisconnect(cfg: HdlcClientConfig, s: HdlcClientState): ClientStep {
  const disc = command(cfg, { type: 'DISC', pf: true });
  return {
    state: { mode: 'disconnecting', disc, retries: 0 },
    effects: [
      stop('poll'),
      ...failIds(pendingIds(s), ErrorCode.LinkDisconnected, 'HDLC link disconnected locally'),
      transmit(disc),
      responseTimer(cfg),
    ],
  };
}
