import { ErrorCode, SimError } from '../../../core/errors';
import { sameHdlcAddress } from './address';
import {
  command,
  failIds,
  giveUp,
  HDLC_CLIENT_NDM,
  responseTimer,
  startDisconnect,
  stop,
  transmit,
  type ClientStep,
  type HdlcClientConfig,
  type HdlcClientInput,
  type HdlcClientNrm,
  type HdlcClientState,
} from './client-state';
import { nrm, transmitNext } from './client-transfer';
import type { HdlcEffect } from './link-types';
import { addLlc, segmentInfo } from './llc';
import {
  decodeHdlcParameters,
  encodeHdlcParameters,
  negotiateAsClient,
  type HdlcParameters,
} from './parameters';

export {
  DEFAULT_HDLC_CLIENT_TIMING,
  HDLC_CLIENT_NDM,
  hdlcClientConfig,
  type HdlcClientConfig,
  type HdlcClientInput,
  type HdlcClientNrm,
  type HdlcClientState,
  type HdlcClientWaiting,
  type QueuedApdu,
} from './client-state';

/**
 * The client (primary station) side of an HDLC data link connection, as a pure state machine
 * (docs/dlms.md §2). Window 1 throughout: every frame we send polls (P=1) and waits for the
 * answer before the next.
 *
 *   connect      SNRM (parameters left out at their defaults, Gurux style) -> UA -> NRM
 *   send         LLC E6 E6 00 + APDU, cut into max-info-TX segments; each segment but the
 *                last has S=1 and must be acknowledged by RR before the next goes out
 *   receive      each server segment with S=1 is answered RR (N(R)=V(R)); the last one
 *                completes the APDU, whose E6 E7 00 header is removed
 *   RR/RNR with nothing after our last segment: the reply is not ready; poll again with RR
 *                after `pollIntervalMs`, at most `maxPolls` times (then stay idle: the
 *                application's own timeout decides)
 *   no answer    repeat the same frame up to `maxRetries` times, then give the link up
 *   DM           the server dropped the link (e.g. its inactivity timeout)
 *   FRMR / sequence errors: give up, send DISC so the server leaves the FRMR condition
 *   disconnect   DISC -> UA (or DM) -> NDM
 * Frames not addressed from our server to us are ignored, which also drops the echo of our own
 * frames on an optical head (u9n#62).
 * MODELLED: the timing defaults (Gurux's reader waits up to 5 s and retries 3 times; poll
 * interval and count are ours).
 */
export function clientStep(
  cfg: HdlcClientConfig,
  state: HdlcClientState,
  input: HdlcClientInput,
): ClientStep {
  if (input.kind === 'frame') {
    const f = input.frame;
    // Only frames from our server to us; everything else (incl. our own echo) is not ours.
    if (!sameHdlcAddress(f.dest, cfg.client) || !sameHdlcAddress(f.src, cfg.server))
      return { state, effects: [] };
  }
  switch (state.mode) {
    case 'NDM':
      return ndm(cfg, state, input);
    case 'connecting':
      return connecting(cfg, state, input);
    case 'NRM':
      return nrm(cfg, state, input);
    case 'disconnecting':
      return disconnecting(cfg, state, input);
  }
}

function ndm(cfg: HdlcClientConfig, s: HdlcClientState, input: HdlcClientInput): ClientStep {
  switch (input.kind) {
    case 'connect': {
      const snrm = command(
        cfg,
        { type: 'SNRM', pf: true },
        encodeHdlcParameters(cfg.proposed, { omitDefaults: cfg.omitDefaultParameters }),
      );
      return {
        state: { mode: 'connecting', snrm, retries: 0, queue: [] },
        effects: [transmit(snrm), responseTimer(cfg)],
      };
    }
    case 'send':
      return {
        state: s,
        effects: failIds([input.id], ErrorCode.LinkDisconnected, 'HDLC link is not connected'),
      };
    default:
      return { state: s, effects: [] };
  }
}

function connecting(
  cfg: HdlcClientConfig,
  s: Extract<HdlcClientState, { mode: 'connecting' }>,
  input: HdlcClientInput,
): ClientStep {
  switch (input.kind) {
    case 'frame': {
      const c = input.frame.control;
      if (c.type === 'UA') {
        let params: HdlcParameters;
        try {
          params = negotiateAsClient(cfg.proposed, decodeHdlcParameters(input.frame.info));
        } catch (e) {
          const error = e instanceof SimError ? e : new SimError(ErrorCode.LinkProtocol, String(e));
          return giveUp(cfg, s, 'protocol', error, true);
        }
        const tx = s.queue.map((q) => ({
          id: q.id,
          segments: segmentInfo(addLlc(q.apdu, 'request'), params.maxInfoTx),
          next: 0,
        }));
        const st: HdlcClientNrm = {
          mode: 'NRM',
          params,
          vs: 0,
          vr: 0,
          tx,
          rx: [],
          rxLength: 0,
          waiting: 'idle',
          last: undefined,
          retries: 0,
          polls: 0,
        };
        const base: HdlcEffect[] = [stop('response'), { kind: 'connected', params }];
        return tx.length > 0 ? transmitNext(cfg, st, base) : { state: st, effects: base };
      }
      if (c.type === 'DM' || c.type === 'FRMR') {
        return giveUp(
          cfg,
          s,
          'rejected',
          new SimError(ErrorCode.LinkRejected, `HDLC SNRM answered ${c.type}`),
          false,
        );
      }
      return { state: s, effects: [] };
    }
    case 'send':
      return { state: { ...s, queue: [...s.queue, { id: input.id, apdu: input.apdu }] }, effects: [] };
    case 'timeout':
      if (input.timer !== 'response') return { state: s, effects: [] };
      if (s.retries < cfg.maxRetries) {
        return { state: { ...s, retries: s.retries + 1 }, effects: [transmit(s.snrm), responseTimer(cfg)] };
      }
      return giveUp(cfg, s, 'timeout', new SimError(ErrorCode.LinkTimeout, 'no answer to HDLC SNRM'), false);
    case 'disconnect':
      return startDisconnect(cfg, s);
    case 'close':
      return giveUp(cfg, s, 'local', undefined, false);
    case 'connect':
      return { state: s, effects: [] };
  }
}

function disconnecting(
  cfg: HdlcClientConfig,
  s: Extract<HdlcClientState, { mode: 'disconnecting' }>,
  input: HdlcClientInput,
): ClientStep {
  switch (input.kind) {
    case 'frame': {
      const t = input.frame.control.type;
      if (t === 'UA' || t === 'DM') {
        return {
          state: HDLC_CLIENT_NDM,
          effects: [stop('response'), { kind: 'disconnected', reason: 'disc' }],
        };
      }
      return { state: s, effects: [] };
    }
    case 'timeout':
      if (input.timer !== 'response') return { state: s, effects: [] };
      if (s.retries < cfg.maxRetries) {
        return { state: { ...s, retries: s.retries + 1 }, effects: [transmit(s.disc), responseTimer(cfg)] };
      }
      return giveUp(cfg, s, 'timeout', new SimError(ErrorCode.LinkTimeout, 'no answer to HDLC DISC'), false);
    case 'send':
      return {
        state: s,
        effects: failIds([input.id], ErrorCode.LinkDisconnected, 'HDLC link is disconnecting'),
      };
    case 'close':
      return giveUp(cfg, s, 'local', undefined, false);
    default:
      return { state: s, effects: [] };
  }
}
