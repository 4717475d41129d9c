import { ErrorCode, SimError } from '../../../core/errors';
import type { HdlcControl } from './control';
import type { HdlcFrame } from './frame';
import { decodeFrmrInfo, frmrReasonNames } from './frmr';
import { dec8, inc8, joinSegments, type HdlcEffect, type HdlcTimer } from './link-types';
import { addLlc, segmentInfo, stripLlc } from './llc';
import {
  command,
  giveUp,
  nrmState,
  responseTimer,
  startDisconnect,
  stop,
  transmit,
  type ClientStep,
  type HdlcClientConfig,
  type HdlcClientInput,
  type HdlcClientNrm,
} from './client-state';

/**
 * Data transfer of the HDLC client in NRM (client-link.ts has the overview): segmented I
 * frames out, RR-polled segments in, repeats on timeout, polling while the reply is not
 * ready, and the sequence checks that end the link when the server goes astray.
 */
export function nrm(cfg: HdlcClientConfig, s: HdlcClientNrm, input: HdlcClientInput): ClientStep {
  switch (input.kind) {
    case 'connect':
      return { state: s, effects: [] };
    case 'send': {
      const segments = segmentInfo(addLlc(input.apdu, 'request'), s.params.maxInfoTx);
      const st = nrmState(s, { tx: [...s.tx, { id: input.id, segments, next: 0 }] });
      if (s.waiting === 'idle' || s.waiting === 'pollDelay') return transmitNext(cfg, st, []);
      return { state: st, effects: [] };
    }
    case 'disconnect':
      return startDisconnect(cfg, s);
    case 'close':
      return giveUp(cfg, s, 'local', undefined, false);
    case 'timeout':
      return nrmTimeout(cfg, s, input.timer);
    case 'frame':
      return nrmFrame(cfg, s, input.frame);
  }
}

function nrmTimeout(cfg: HdlcClientConfig, s: HdlcClientNrm, timer: HdlcTimer): ClientStep {
  if (timer === 'poll' && s.waiting === 'pollDelay')
    return poll(cfg, nrmState(s, { polls: s.polls + 1 }), []);
  if (timer === 'response' && (s.waiting === 'ack' || s.waiting === 'data') && s.last) {
    if (s.retries < cfg.maxRetries) {
      return {
        state: nrmState(s, { retries: s.retries + 1 }),
        effects: [transmit(s.last), responseTimer(cfg)],
      };
    }
    return giveUp(
      cfg,
      s,
      'timeout',
      new SimError(ErrorCode.LinkRetriesExhausted, 'HDLC server stopped answering'),
      true,
    );
  }
  return { state: s, effects: [] };
}

/** Send the next segment of the head APDU (the head always has one left when this is called). */
export function transmitNext(cfg: HdlcClientConfig, s: HdlcClientNrm, prefix: HdlcEffect[]): ClientStep {
  const head = s.tx[0]!;
  const more = head.next < head.segments.length - 1;
  const frame = command(cfg, { type: 'I', ns: s.vs, nr: s.vr, pf: true }, head.segments[head.next], more);
  return {
    state: nrmState(s, {
      vs: inc8(s.vs),
      tx: [{ ...head, next: head.next + 1 }, ...s.tx.slice(1)],
      waiting: 'ack',
      last: frame,
      retries: 0,
    }),
    effects: [
      ...prefix,
      ...(s.waiting === 'pollDelay' ? [stop('poll')] : []),
      transmit(frame),
      responseTimer(cfg),
    ],
  };
}

function poll(cfg: HdlcClientConfig, s: HdlcClientNrm, prefix: HdlcEffect[]): ClientStep {
  const rr = command(cfg, { type: 'RR', nr: s.vr, pf: true });
  return {
    state: nrmState(s, { waiting: 'data', last: rr, retries: 0 }),
    effects: [...prefix, transmit(rr), responseTimer(cfg)],
  };
}

/** The head APDU's last segment was acknowledged: report it and move on. */
function headDone(s: HdlcClientNrm): { st: HdlcClientNrm; effects: HdlcEffect[] } {
  const head = s.tx[0];
  if (!head || head.next < head.segments.length) return { st: s, effects: [] };
  return { st: nrmState(s, { tx: s.tx.slice(1) }), effects: [{ kind: 'sent', id: head.id }] };
}

/** Nothing came back yet: poll again later, or stop polling after `maxPolls`. */
function waitAndPoll(cfg: HdlcClientConfig, s: HdlcClientNrm, prefix: HdlcEffect[]): ClientStep {
  if (s.polls >= cfg.maxPolls) {
    return {
      state: nrmState(s, { waiting: 'idle', last: undefined }),
      effects: [...prefix, stop('response')],
    };
  }
  return {
    state: nrmState(s, { waiting: 'pollDelay', last: undefined }),
    effects: [...prefix, stop('response'), { kind: 'startTimer', timer: 'poll', ms: cfg.pollIntervalMs }],
  };
}

function sequenceError(cfg: HdlcClientConfig, s: HdlcClientNrm, what: string): ClientStep {
  return giveUp(
    cfg,
    s,
    'protocol',
    new SimError(ErrorCode.LinkSequence, `HDLC ${what}`, { vs: s.vs, vr: s.vr }),
    true,
  );
}

function nrmFrame(cfg: HdlcClientConfig, s: HdlcClientNrm, f: HdlcFrame): ClientStep {
  const c = f.control;
  switch (c.type) {
    case 'DM':
      return giveUp(
        cfg,
        s,
        'dm',
        new SimError(ErrorCode.LinkDisconnected, 'HDLC server answered DM (not connected)'),
        false,
      );
    case 'FRMR': {
      let detail = '';
      try {
        const i = decodeFrmrInfo(f.info);
        detail = ` rejecting 0x${i.rejectedControl.toString(16)} [${frmrReasonNames(i.reasons).join(',')}]`;
      } catch {
        detail = ` info ${f.info.toString('hex')}`;
      }
      return giveUp(
        cfg,
        s,
        'frmr',
        new SimError(ErrorCode.LinkProtocol, `HDLC server sent FRMR${detail}`),
        true,
      );
    }
    case 'RR':
    case 'RNR':
      return supervisory(cfg, s, c);
    case 'I':
      return information(cfg, s, f, c);
    default:
      return { state: s, effects: [] };
  }
}

function supervisory(
  cfg: HdlcClientConfig,
  s: HdlcClientNrm,
  c: Extract<HdlcControl, { type: 'RR' | 'RNR' }>,
): ClientStep {
  if (s.waiting === 'ack' && c.nr === dec8(s.vs)) {
    // The server did not take our last I frame: repeat it (counts as a retry).
    if (s.retries >= cfg.maxRetries) {
      return giveUp(
        cfg,
        s,
        'timeout',
        new SimError(ErrorCode.LinkRetriesExhausted, 'HDLC I frame refused repeatedly'),
        true,
      );
    }
    return {
      state: nrmState(s, { retries: s.retries + 1 }),
      effects: [transmit(s.last!), responseTimer(cfg)],
    };
  }
  if (s.waiting !== 'ack' && s.waiting !== 'data') {
    return {
      state: s,
      effects: [
        { kind: 'protocolError', error: new SimError(ErrorCode.LinkProtocol, `unsolicited HDLC ${c.type}`) },
      ],
    };
  }
  if (c.nr !== s.vs) return sequenceError(cfg, s, `${c.type} N(R)=${c.nr} with V(S)=${s.vs}`);
  const { st, effects } = headDone(s);
  const head = st.tx[0];
  if (c.type === 'RR' && head && head.next < head.segments.length) return transmitNext(cfg, st, effects);
  return waitAndPoll(cfg, st, effects);
}

function information(
  cfg: HdlcClientConfig,
  s: HdlcClientNrm,
  f: HdlcFrame,
  c: Extract<HdlcControl, { type: 'I' }>,
): ClientStep {
  if (s.waiting !== 'ack' && s.waiting !== 'data') {
    return {
      state: s,
      effects: [
        { kind: 'protocolError', error: new SimError(ErrorCode.LinkProtocol, 'unsolicited HDLC I frame') },
      ],
    };
  }
  if (f.info.length > s.params.maxInfoRx) {
    // Too long for what we negotiated: drop it; the retry timer asks again (a primary cannot FRMR).
    return {
      state: s,
      effects: [
        {
          kind: 'protocolError',
          error: new SimError(
            ErrorCode.FrameLength,
            `HDLC I frame info ${f.info.length} > max-info-RX ${s.params.maxInfoRx}`,
          ),
        },
      ],
    };
  }
  if (c.nr !== s.vs) return sequenceError(cfg, s, `I N(R)=${c.nr} with V(S)=${s.vs}`);
  const head = s.tx[0];
  if (s.waiting === 'ack' && head && head.next < head.segments.length) {
    return sequenceError(cfg, s, 'reply arrived before the request was complete');
  }
  if (c.ns === dec8(s.vr)) {
    // A repeat of the segment we already have: our RR was lost. Ask again for the next one.
    if (s.retries >= cfg.maxRetries) {
      return giveUp(
        cfg,
        s,
        'timeout',
        new SimError(ErrorCode.LinkRetriesExhausted, 'HDLC server keeps repeating'),
        true,
      );
    }
    const rr = command(cfg, { type: 'RR', nr: s.vr, pf: true });
    return {
      state: nrmState(s, { waiting: 'data', last: rr, retries: s.retries + 1 }),
      effects: [transmit(rr), responseTimer(cfg)],
    };
  }
  if (c.ns !== s.vr) return sequenceError(cfg, s, `I N(S)=${c.ns} with V(R)=${s.vr}`);
  const { st, effects } = headDone(s);
  const rxLength = st.rxLength + f.info.length;
  if (rxLength > cfg.maxApduLength) {
    return giveUp(
      cfg,
      st,
      'protocol',
      new SimError(ErrorCode.DecodeTooLarge, `HDLC reply exceeds ${cfg.maxApduLength} octets`),
      true,
    );
  }
  const rx = [...st.rx, f.info];
  const got = nrmState(st, { vr: inc8(st.vr), rx, rxLength, polls: 0 });
  if (f.segmented) return poll(cfg, got, effects);
  const apdu = stripLlc(joinSegments(rx, rxLength), 'response');
  const done = nrmState(got, { rx: [], rxLength: 0, waiting: 'idle', last: undefined, retries: 0 });
  const delivered: HdlcEffect[] = [...effects, stop('response'), { kind: 'deliver', apdu }];
  return done.tx.length > 0 ? transmitNext(cfg, done, delivered) : { state: done, effects: delivered };
}
