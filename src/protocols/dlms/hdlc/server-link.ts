import { ErrorCode, SimError } from '../../../core/errors';
import { sameHdlcAddress } from './address';
import { encodeHdlcControl, isHdlcCommand, type HdlcControl } from './control';
import { hdlcFrame, type HdlcFrame } from './frame';
import { encodeFrmrInfo, FrmrReason, frmrReasonNames } from './frmr';
import {
  dec8,
  inc8,
  joinSegments,
  type HdlcEffect,
  type HdlcStep,
  type HdlcTimer,
  type OutgoingApdu,
} from './link-types';
import { addLlc, segmentInfo, stripLlc } from './llc';
import {
  decodeHdlcParameters,
  encodeHdlcParameters,
  negotiateAsServer,
  type HdlcParameters,
} from './parameters';
import {
  connected,
  HDLC_NDM,
  NO_EFFECTS,
  NO_SEGMENTS,
  NO_TX,
  STOP_REPLY,
  type HdlcServerConfig,
  type HdlcServerConnected,
  type HdlcServerInput,
  type HdlcServerState,
} from './server-state';

export {
  DEFAULT_HDLC_SERVER_CONFIG,
  HDLC_NDM,
  type HdlcServerConfig,
  type HdlcServerConnected,
  type HdlcServerIdle,
  type HdlcServerInput,
  type HdlcServerState,
} from './server-state';

type Step = HdlcStep<HdlcServerState>;

const transmit = (frame: HdlcFrame): HdlcEffect => ({ kind: 'transmit', frame });

function reply(to: HdlcFrame, control: HdlcControl, info?: Buffer): HdlcFrame {
  return hdlcFrame(to.src, to.dest, control, info);
}

function answer(s: HdlcServerConnected, control: HdlcControl, info?: Buffer, segmented = false): HdlcFrame {
  return hdlcFrame(s.client, s.local, control, info, segmented);
}

function failAll(tx: readonly OutgoingApdu[], code: SimError['code'], message: string): HdlcEffect[] {
  return tx.map((o) => ({ kind: 'failed', id: o.id, error: new SimError(code, message, { id: o.id }) }));
}

const inactivityEffects = new WeakMap<HdlcServerConfig, readonly HdlcEffect[]>();

/** The inactivity restart every frame carries; built once per config (effects are immutable). */
function inactivity(cfg: HdlcServerConfig): readonly HdlcEffect[] {
  let e = inactivityEffects.get(cfg);
  if (!e) {
    e = Object.freeze(
      cfg.inactivityTimeoutMs > 0
        ? [{ kind: 'startTimer', timer: 'inactivity', ms: cfg.inactivityTimeoutMs } as const]
        : [],
    );
    inactivityEffects.set(cfg, e);
  }
  return e;
}

const stopAll: HdlcEffect[] = [
  { kind: 'stopTimer', timer: 'inactivity' },
  { kind: 'stopTimer', timer: 'reply' },
];

/**
 * The server (secondary station) side of one HDLC data link connection, as a pure state
 * machine. One machine serves one server address; the adapter (../link/hdlc-server.ts)
 * dispatches frames to it by destination address. Behaviour (docs/dlms.md §2):
 *
 * NDM  SNRM -> UA with negotiated parameters, enter NRM. DISC -> DM. UI -> deliver.
 *      Any other command with P=1, or a malformed frame -> DM ("DM when not connected").
 * NRM  Normal response mode with window 1: the server speaks only when polled (P=1).
 *      I(N(S)=V(R)) -> accept; a segment (S=1) is answered RR, the last segment completes the
 *      APDU, which is delivered, and the poll is answered with the application's reply
 *      (segmented A8.. frames, one per poll) or, after `replyTimeoutMs`, with RR.
 *      I(N(S)=V(R)-1) -> a repeat of a frame whose answer was lost: answer again, deliver
 *      nothing. Any other N(S) -> FRMR reason V (as the u9n#95 meter did).
 *      N(R) must acknowledge what we sent (V(S)), or V(S)-1 when our last I frame was lost,
 *      which makes us send it again; anything else -> FRMR reason Z.
 *      Info longer than the negotiated max-info-RX -> FRMR Y; info on RR/RNR -> FRMR X;
 *      unknown control octets and responses sent by the primary -> FRMR W.
 *      After FRMR the station stays in the FRMR condition (every poll is answered with the
 *      same FRMR) until SNRM or DISC, as ISO/IEC 13239 prescribes.
 *      DISC -> UA, back to NDM. SNRM -> renegotiate (the old connection is reset).
 *      inactivity_time_out (HDLC setup attribute 8, default 120 s) -> NDM silently.
 * MODELLED (not confirmed by a DLMS source, docs/dlms.md §10): RNR from the client is
 * answered RR without I frames; SNRM from a second client while connected gets DM (busy)
 * and its other frames are ignored; UI frames are delivered in both modes and never answered;
 * the reply timer.
 */
export function serverStep(cfg: HdlcServerConfig, state: HdlcServerState, input: HdlcServerInput): Step {
  switch (input.kind) {
    case 'frame':
      return state.mode === 'NDM' ? ndmFrame(cfg, input.frame) : nrmFrame(cfg, state, input.frame);
    case 'invalid':
      return state.mode === 'NDM' ? ndmInvalid(input) : nrmInvalid(cfg, state, input);
    case 'send':
      return state.mode === 'NDM'
        ? {
            state,
            effects: [
              {
                kind: 'failed',
                id: input.id,
                error: new SimError(ErrorCode.LinkDisconnected, 'HDLC link is not connected (NDM)'),
              },
            ],
          }
        : queueSend(state, input.id, input.apdu);
    case 'timeout':
      return state.mode === 'NDM' ? { state, effects: [] } : onTimeout(state, input.timer);
    case 'close':
      if (state.mode === 'NDM') return { state, effects: [] };
      return {
        state: HDLC_NDM,
        effects: [
          ...stopAll,
          ...failAll(state.tx, ErrorCode.LinkDisconnected, 'HDLC link closed locally'),
          { kind: 'disconnected', reason: 'local' },
        ],
      };
  }
}

function ndmFrame(cfg: HdlcServerConfig, f: HdlcFrame): Step {
  const c = f.control;
  switch (c.type) {
    case 'SNRM':
      return connect(cfg, f, []);
    case 'DISC':
      return { state: HDLC_NDM, effects: [transmit(reply(f, { type: 'DM', pf: c.pf }))] };
    case 'UI':
      return {
        state: HDLC_NDM,
        effects:
          f.info.length > 0 ? [{ kind: 'deliver', apdu: stripLlc(f.info, 'request'), from: f.src }] : [],
      };
    case 'I':
    case 'RR':
    case 'RNR':
      return { state: HDLC_NDM, effects: c.pf ? [transmit(reply(f, { type: 'DM', pf: true }))] : [] };
    default:
      // UA/DM/FRMR are responses; a primary does not send them and there is nothing to answer.
      return { state: HDLC_NDM, effects: [] };
  }
}

function ndmInvalid(input: Extract<HdlcServerInput, { kind: 'invalid' }>): Step {
  return {
    state: HDLC_NDM,
    effects: [
      { kind: 'protocolError', error: input.error },
      transmit(hdlcFrame(input.src, input.dest, { type: 'DM', pf: true })),
    ],
  };
}

function connect(cfg: HdlcServerConfig, f: HdlcFrame, prefix: HdlcEffect[]): Step {
  const pf = f.control.pf;
  let params: HdlcParameters;
  try {
    params = negotiateAsServer(cfg.limits, decodeHdlcParameters(f.info));
  } catch (e) {
    const error = e instanceof SimError ? e : new SimError(ErrorCode.LinkRejected, String(e));
    return {
      state: HDLC_NDM,
      effects: [...prefix, { kind: 'protocolError', error }, transmit(reply(f, { type: 'DM', pf }))],
    };
  }
  const ua = reply(
    f,
    { type: 'UA', pf },
    encodeHdlcParameters(params, { omitDefaults: cfg.uaParameters === 'non-default' }),
  );
  const state: HdlcServerConnected = {
    mode: 'NRM',
    client: f.src,
    local: f.dest,
    params,
    vs: 0,
    vr: 0,
    rx: [],
    rxLength: 0,
    tx: [],
    unacked: undefined,
    lastResponse: undefined,
    awaitingReply: false,
    frmr: undefined,
  };
  return { state, effects: [...prefix, transmit(ua), { kind: 'connected', params }, ...inactivity(cfg)] };
}

function nrmFrame(cfg: HdlcServerConfig, s: HdlcServerConnected, f: HdlcFrame): Step {
  const c = f.control;
  if (!sameHdlcAddress(f.src, s.client)) {
    // Another client while this one holds the link (modelled): refuse its SNRM, ignore the rest.
    return { state: s, effects: c.type === 'SNRM' ? [transmit(reply(f, { type: 'DM', pf: c.pf }))] : [] };
  }
  const alive = inactivity(cfg);
  if (c.type === 'SNRM') {
    return connect(cfg, f, [
      { kind: 'stopTimer', timer: 'reply' },
      ...failAll(s.tx, ErrorCode.LinkDisconnected, 'HDLC link reset by SNRM'),
      { kind: 'disconnected', reason: 'reset' },
    ]);
  }
  if (c.type === 'DISC') {
    return {
      state: HDLC_NDM,
      effects: [
        transmit(answer(s, { type: 'UA', pf: c.pf })),
        ...stopAll,
        ...failAll(s.tx, ErrorCode.LinkDisconnected, 'HDLC link disconnected by the client'),
        { kind: 'disconnected', reason: 'disc' },
      ],
    };
  }
  if (s.frmr) {
    const again = isHdlcCommand(c) && c.pf ? [transmit(answer(s, { type: 'FRMR', pf: true }, s.frmr))] : [];
    return { state: s, effects: [...alive, ...again] };
  }
  switch (c.type) {
    case 'UI':
      return {
        state: s,
        effects: [
          ...alive,
          ...(f.info.length > 0 ? [{ kind: 'deliver', apdu: stripLlc(f.info, 'request') } as const] : []),
        ],
      };
    case 'UA':
    case 'DM':
    case 'FRMR':
      return reject(s, encodeHdlcControl(c), FrmrReason.W, alive, `${c.type} is a response, not a command`);
    case 'RR':
    case 'RNR':
      if (f.info.length > 0)
        return reject(s, encodeHdlcControl(c), FrmrReason.X, alive, `${c.type} with info`);
      return supervisory(cfg, s, c, alive);
    case 'I':
      if (f.info.length > s.params.maxInfoRx) {
        return reject(
          s,
          encodeHdlcControl(c),
          FrmrReason.Y,
          alive,
          `info of ${f.info.length} octets exceeds max-info-RX ${s.params.maxInfoRx}`,
        );
      }
      return information(cfg, s, f, c, alive);
  }
}

function nrmInvalid(
  cfg: HdlcServerConfig,
  s: HdlcServerConnected,
  input: Extract<HdlcServerInput, { kind: 'invalid' }>,
): Step {
  if (!sameHdlcAddress(input.src, s.client)) return { state: s, effects: [] };
  return reject(s, input.controlByte ?? 0, input.reasons, inactivity(cfg), input.error.message);
}

/** Enter the FRMR condition (modelled reason bits, frmr.ts). */
function reject(
  s: HdlcServerConnected,
  rejectedControl: number,
  reasons: number,
  prefix: readonly HdlcEffect[],
  why: string,
): Step {
  const info = encodeFrmrInfo({ rejectedControl, vs: s.vs, vr: s.vr, response: false, reasons });
  const error = new SimError(
    ErrorCode.LinkProtocol,
    `HDLC FRMR [${frmrReasonNames(reasons).join(',')}]: ${why}`,
    {
      rejectedControl,
      reasons,
    },
  );
  return {
    state: connected(s, { frmr: info, awaitingReply: false, tx: NO_TX, rx: NO_SEGMENTS, rxLength: 0 }),
    effects: [
      ...prefix,
      { kind: 'stopTimer', timer: 'reply' },
      { kind: 'protocolError', error },
      ...failAll(s.tx, ErrorCode.LinkProtocol, 'HDLC link entered the FRMR condition'),
      transmit(answer(s, { type: 'FRMR', pf: true }, info)),
    ],
  };
}

type NrCheck = 'ack' | 'repeat' | 'bad';

function checkNr(s: HdlcServerConnected, nr: number): NrCheck {
  if (nr === s.vs) return 'ack';
  if (s.unacked && nr === dec8(s.vs)) return 'repeat';
  return 'bad';
}

function supervisory(
  cfg: HdlcServerConfig,
  s: HdlcServerConnected,
  c: Extract<HdlcControl, { type: 'RR' | 'RNR' }>,
  prefix: readonly HdlcEffect[],
): Step {
  const nr = checkNr(s, c.nr);
  if (nr === 'bad')
    return reject(s, encodeHdlcControl(c), FrmrReason.Z, prefix, `N(R)=${c.nr} with V(S)=${s.vs}`);
  if (nr === 'repeat') {
    // The client never saw our last I frame: send it again, same N(S).
    if (!c.pf) return { state: s, effects: prefix };
    return { state: connected(s, { lastResponse: s.unacked }), effects: [...prefix, transmit(s.unacked!)] };
  }
  const st = connected(s, { unacked: undefined });
  if (!c.pf) return { state: st, effects: prefix };
  if (c.type === 'RNR' || st.rx.length > 0 || st.tx.length === 0) return receiverReady(st, prefix);
  return transmitNext(st, st.tx, prefix);
}

/** Answer a poll with RR: nothing to send (or, mid-reassembly, "send the next segment"). */
function receiverReady(s: HdlcServerConnected, prefix: readonly HdlcEffect[]): Step {
  const rr = answer(s, { type: 'RR', nr: s.vr, pf: true });
  return {
    state: connected(s, { lastResponse: rr, awaitingReply: false }),
    effects: [
      ...prefix,
      ...(s.awaitingReply ? [{ kind: 'stopTimer', timer: 'reply' } as const] : []),
      transmit(rr),
    ],
  };
}

/** Send the next segment of `tx` (the queue after any change the caller made) as the answer. */
function transmitNext(
  s: HdlcServerConnected,
  tx: readonly OutgoingApdu[],
  prefix: readonly HdlcEffect[],
): Step {
  const head = tx[0]!;
  const last = head.next === head.segments.length - 1;
  const frame = answer(s, { type: 'I', ns: s.vs, nr: s.vr, pf: true }, head.segments[head.next], !last);
  const rest = last
    ? tx.length === 1
      ? NO_TX
      : tx.slice(1)
    : [{ ...head, next: head.next + 1 }, ...tx.slice(1)];
  const effects: HdlcEffect[] = [...prefix];
  if (s.awaitingReply) effects.push(STOP_REPLY);
  effects.push(transmit(frame));
  if (last) effects.push({ kind: 'sent', id: head.id });
  return {
    state: connected(s, {
      vs: inc8(s.vs),
      tx: rest,
      unacked: frame,
      lastResponse: frame,
      awaitingReply: false,
    }),
    effects,
  };
}

function information(
  cfg: HdlcServerConfig,
  s: HdlcServerConnected,
  f: HdlcFrame,
  c: Extract<HdlcControl, { type: 'I' }>,
  prefix: readonly HdlcEffect[],
): Step {
  const nr = checkNr(s, c.nr);
  if (c.ns === s.vr) {
    // With window 1 a new frame must acknowledge everything we sent.
    if (nr !== 'ack')
      return reject(s, encodeHdlcControl(c), FrmrReason.Z, prefix, `N(R)=${c.nr} with V(S)=${s.vs}`);
    const rxLength = s.rxLength + f.info.length;
    if (rxLength > cfg.maxApduLength) {
      return reject(
        s,
        encodeHdlcControl(c),
        FrmrReason.Y,
        prefix,
        `APDU exceeds ${cfg.maxApduLength} octets`,
      );
    }
    // A new frame while we still owe the answer to the previous poll supersedes that poll
    // (the client moved on); the late reply then waits for the next poll.
    const effects: HdlcEffect[] = [...prefix];
    if (s.awaitingReply) effects.push(STOP_REPLY);
    const vr = inc8(s.vr);
    if (f.segmented) {
      const st = connected(s, {
        vr,
        unacked: undefined,
        rx: [...s.rx, f.info],
        rxLength,
        awaitingReply: false,
      });
      if (!c.pf) return { state: st, effects };
      return receiverReady(st, effects);
    }
    // The whole APDU: a single frame's info is a view of the frame the framer copied out, so
    // it is delivered as is; segments are joined into one buffer.
    const whole = s.rx.length === 0 ? f.info : joinSegments([...s.rx, f.info], rxLength);
    effects.push({ kind: 'deliver', apdu: stripLlc(whole, 'request') });
    const waiting = c.pf && s.tx.length === 0;
    const done = connected(s, {
      vr,
      unacked: undefined,
      rx: NO_SEGMENTS,
      rxLength: 0,
      awaitingReply: waiting,
    });
    if (!c.pf) return { state: done, effects };
    if (!waiting) return transmitNext(done, done.tx, effects);
    effects.push({ kind: 'startTimer', timer: 'reply', ms: cfg.replyTimeoutMs });
    return { state: done, effects };
  }
  if (c.ns === dec8(s.vr) && (s.lastResponse || s.awaitingReply) && nr !== 'bad') {
    // A repeat: our answer was lost. Answer again; the application already has the data.
    if (!c.pf || s.awaitingReply || !s.lastResponse) return { state: s, effects: prefix };
    return { state: s, effects: [...prefix, transmit(s.lastResponse)] };
  }
  return reject(s, encodeHdlcControl(c), FrmrReason.V, prefix, `N(S)=${c.ns} with V(R)=${s.vr}`);
}

function queueSend(s: HdlcServerConnected, id: number, apdu: Buffer): Step {
  if (s.frmr) {
    return {
      state: s,
      effects: [
        {
          kind: 'failed',
          id,
          error: new SimError(ErrorCode.LinkProtocol, 'HDLC link is in the FRMR condition'),
        },
      ],
    };
  }
  const segments = segmentInfo(addLlc(apdu, 'response'), s.params.maxInfoTx);
  const tx = [...s.tx, { id, segments, next: 0 }];
  // Only a reply the client is polling for goes out now; the rest waits for the next poll.
  return s.awaitingReply
    ? transmitNext(s, tx, NO_EFFECTS)
    : { state: connected(s, { tx }), effects: NO_EFFECTS };
}

function onTimeout(s: HdlcServerConnected, timer: HdlcTimer): Step {
  if (timer === 'inactivity') {
    return {
      state: HDLC_NDM,
      effects: [
        { kind: 'stopTimer', timer: 'reply' },
        ...failAll(s.tx, ErrorCode.LinkTimeout, 'HDLC inactivity timeout'),
        { kind: 'disconnected', reason: 'inactivity' },
      ],
    };
  }
  if (timer === 'reply' && s.awaitingReply) {
    const rr = answer(s, { type: 'RR', nr: s.vr, pf: true });
    return { state: connected(s, { awaitingReply: false, lastResponse: rr }), effects: [transmit(rr)] };
  }
  return { state: s, effects: [] };
}
