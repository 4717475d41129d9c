import fc from 'fast-check';
import {
  clientInvariantViolations,
  clientStep,
  DEFAULT_HDLC_SERVER_CONFIG,
  encodeHdlcFrame,
  encodeHdlcParameters,
  HDLC_CLIENT_NDM,
  HDLC_NDM,
  hdlcClient,
  hdlcClientConfig,
  hdlcFrame,
  HdlcFramer,
  hdlcServer,
  parseHdlcFrame,
  sameHdlcAddress,
  serverInputFromRaw,
  serverInvariantViolations,
  serverStep,
  type HdlcClientInput,
  type HdlcClientState,
  type HdlcControl,
  type HdlcEffect,
  type HdlcServerState,
} from '../../../../src/protocols/dlms/hdlc';
import * as V from './vectors';

const CLIENT = hdlcClient(16);
const SERVER = hdlcServer(1, 17);

const seq = fc.integer({ min: 0, max: 7 });
const control: fc.Arbitrary<HdlcControl> = fc.oneof(
  {
    weight: 4,
    arbitrary: fc.record({ type: fc.constant('I' as const), ns: seq, nr: seq, pf: fc.boolean() }),
  },
  {
    weight: 3,
    arbitrary: fc.record({ type: fc.constantFrom('RR' as const, 'RNR' as const), nr: seq, pf: fc.boolean() }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      type: fc.constantFrom(
        'SNRM' as const,
        'DISC' as const,
        'UI' as const,
        'UA' as const,
        'DM' as const,
        'FRMR' as const,
      ),
      pf: fc.boolean(),
    }),
  },
);
const info = fc.oneof(
  fc.constant(Buffer.alloc(0)),
  fc.uint8Array({ maxLength: 160 }).map((b) => Buffer.from(b)),
  fc.constant(encodeHdlcParameters({ maxInfoTx: 64, maxInfoRx: 32, windowTx: 1, windowRx: 1 })),
);

/** A structurally valid frame between our two stations (or from another client). */
const wellFormed = fc
  .tuple(control, info, fc.boolean(), fc.constantFrom(CLIENT, CLIENT, CLIENT, hdlcClient(1)), fc.boolean())
  .map(([c, i, seg, src, toClient]) =>
    encodeHdlcFrame(toClient ? hdlcFrame(src, SERVER, c, i, seg) : hdlcFrame(SERVER, src, c, i, seg)),
  );

const mutate = (b: Buffer, at: number, byte: number, op: number): Buffer => {
  const a = [...b];
  const k = a.length ? at % a.length : 0;
  if (op === 0) a[k] = byte;
  else if (op === 1) a.splice(k, 0, byte);
  else if (op === 2) a.splice(k, 1);
  else a.length = k;
  return Buffer.from(a);
};
const mutated = fc
  .tuple(
    fc.oneof(wellFormed, fc.constantFrom(V.SNRM, V.AARQ_FRAME, V.DISC, V.RR)),
    fc.nat(),
    fc.integer({ min: 0, max: 255 }),
    fc.integer({ min: 0, max: 3 }),
  )
  .map(([b, at, byte, op]) => mutate(b, at, byte, op));

type Item =
  | { t: 'bytes'; b: Buffer }
  | { t: 'send'; n: number }
  | { t: 'timeout'; timer: 'inactivity' | 'reply' | 'response' | 'poll' }
  | { t: 'expire' }
  /** A frame that fits the current state (right N(S)/N(R)), built when it is consumed. */
  | { t: 'coherent'; what: 'I' | 'Iseg' | 'RR' | 'RNR'; n: number };

const item: fc.Arbitrary<Item> = fc.oneof(
  { weight: 6, arbitrary: wellFormed.map((b) => ({ t: 'bytes' as const, b })) },
  { weight: 4, arbitrary: mutated.map((b) => ({ t: 'bytes' as const, b })) },
  {
    weight: 1,
    arbitrary: fc.uint8Array({ maxLength: 40 }).map((b) => ({ t: 'bytes' as const, b: Buffer.from(b) })),
  },
  { weight: 1, arbitrary: fc.constant({ t: 'bytes' as const, b: V.SNRM }) },
  { weight: 2, arbitrary: fc.integer({ min: 0, max: 400 }).map((n) => ({ t: 'send' as const, n })) },
  {
    weight: 1,
    arbitrary: fc
      .constantFrom('inactivity' as const, 'reply' as const, 'response' as const, 'poll' as const)
      .map((timer) => ({ t: 'timeout' as const, timer })),
  },
  { weight: 1, arbitrary: fc.constant({ t: 'expire' as const }) },
  {
    weight: 6,
    arbitrary: fc
      .tuple(
        fc.constantFrom('I' as const, 'Iseg' as const, 'RR' as const, 'RNR' as const),
        fc.integer({ min: 0, max: 300 }),
      )
      .map(([what, n]) => ({ t: 'coherent' as const, what, n })),
  },
);

/** Build the coherent frame as the peer would send it in `state` (vs/vr seen from our side). */
function coherent(
  it: Extract<Item, { t: 'coherent' }>,
  vs: number,
  vr: number,
  dest: typeof CLIENT,
  src: typeof CLIENT,
): Buffer {
  const body = Buffer.alloc(Math.min(it.n, 120), 0x33);
  if (it.what === 'RR' || it.what === 'RNR')
    return encodeHdlcFrame(hdlcFrame(dest, src, { type: it.what, nr: vs, pf: true }));
  return encodeHdlcFrame(
    hdlcFrame(
      dest,
      src,
      { type: 'I', ns: vr, nr: vs, pf: true },
      body.length ? body : Buffer.from([1]),
      it.what === 'Iseg',
    ),
  );
}

function checkEffects(effects: readonly HdlcEffect[], maxInfo: number | undefined, to: typeof CLIENT): void {
  for (const e of effects) {
    if (e.kind !== 'transmit') continue;
    const raw = encodeHdlcFrame(e.frame); // must never throw
    if (parseHdlcFrame(raw).error) throw new Error('transmitted an undecodable frame');
    if (!sameHdlcAddress(e.frame.dest, to)) throw new Error('answered the wrong station');
    if (maxInfo !== undefined && e.frame.control.type === 'I' && e.frame.info.length > maxInfo) {
      throw new Error('I frame longer than max-info-TX');
    }
  }
}

// 5,000 runs x 20 items = 100,000 random / mutated / well-formed frames and events per property.
describe('HDLC links under random input (fast-check)', () => {
  it('the server link never throws and never leaves a consistent state', () => {
    fc.assert(
      fc.property(fc.array(item, { minLength: 20, maxLength: 20 }), (items) => {
        const framer = new HdlcFramer();
        let state: HdlcServerState = HDLC_NDM;
        let id = 0;
        const step = (input: Parameters<typeof serverStep>[2]): void => {
          const r = serverStep(DEFAULT_HDLC_SERVER_CONFIG, state, input);
          const bad = serverInvariantViolations(r.state);
          if (bad.length) throw new Error(bad.join('; '));
          // Answers go to the station that sent the frame; replies and timer RRs to the connected client.
          const to =
            input.kind === 'frame'
              ? input.frame.src
              : input.kind === 'invalid'
                ? input.src
                : state.mode === 'NRM'
                  ? state.client
                  : CLIENT;
          checkEffects(r.effects, r.state.mode === 'NRM' ? r.state.params.maxInfoTx : undefined, to);
          state = r.state;
        };
        const frames = (outs: ReturnType<HdlcFramer['push']>): void => {
          for (const o of outs) {
            if (o.kind !== 'frame') continue;
            const rx = serverInputFromRaw(o.bytes);
            if (rx && sameHdlcAddress(rx.dest, SERVER)) step(rx.input);
          }
        };
        for (const it of items) {
          if (it.t === 'bytes') frames(framer.push(it.b));
          else if (it.t === 'expire') frames(framer.expire());
          else if (it.t === 'coherent') {
            const cur = state as HdlcServerState;
            if (cur.mode === 'NRM') frames(framer.push(coherent(it, cur.vs, cur.vr, SERVER, CLIENT)));
            else frames(framer.push(V.SNRM));
          } else if (it.t === 'send') step({ kind: 'send', id: id++, apdu: Buffer.alloc(it.n, 0x5a) });
          else step({ kind: 'timeout', timer: it.timer });
        }
      }),
      { numRuns: 5_000 },
    );
  });

  it('the client link never throws and never leaves a consistent state', () => {
    const cfg = hdlcClientConfig(CLIENT, SERVER);
    fc.assert(
      fc.property(fc.array(item, { minLength: 20, maxLength: 20 }), fc.boolean(), (items, connectFirst) => {
        const framer = new HdlcFramer();
        let state: HdlcClientState = HDLC_CLIENT_NDM;
        let id = 0;
        const step = (input: HdlcClientInput): void => {
          const r = clientStep(cfg, state, input);
          const bad = clientInvariantViolations(r.state);
          if (bad.length) throw new Error(bad.join('; '));
          checkEffects(r.effects, r.state.mode === 'NRM' ? r.state.params.maxInfoTx : undefined, SERVER);
          state = r.state;
        };
        if (connectFirst) step({ kind: 'connect' });
        for (const it of items) {
          if (it.t === 'bytes') {
            for (const o of framer.push(it.b)) {
              if (o.kind !== 'frame') continue;
              const p = parseHdlcFrame(o.bytes);
              if (p.frame) step({ kind: 'frame', frame: p.frame });
            }
          } else if (it.t === 'coherent') {
            const cur = state as HdlcClientState;
            if (cur.mode === 'NRM')
              step({
                kind: 'frame',
                frame: parseHdlcFrame(coherent(it, cur.vs, cur.vr, CLIENT, SERVER)).frame!,
              });
            else if (cur.mode === 'connecting')
              step({ kind: 'frame', frame: hdlcFrame(CLIENT, SERVER, { type: 'UA', pf: true }) });
            else step({ kind: 'connect' });
          } else if (it.t === 'send') step({ kind: 'send', id: id++, apdu: Buffer.alloc(it.n, 0xa5) });
          else if (it.t === 'timeout') step({ kind: 'timeout', timer: it.timer });
          else step(id % 3 === 0 ? { kind: 'connect' } : { kind: 'disconnect' });
        }
      }),
      { numRuns: 5_000 },
    );
  });
});
