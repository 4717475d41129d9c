import { fromHex } from '../../../../src/core/bytes';
import { ErrorCode, SimError } from '../../../../src/core/errors';
import {
  addLlc,
  decodeFrmrInfo,
  decodeHdlcFrame,
  DEFAULT_HDLC_SERVER_CONFIG,
  encodeHdlcFrame,
  encodeHdlcParameters,
  FrmrReason,
  HDLC_NDM,
  hdlcClient,
  hdlcFrame,
  hdlcServer,
  serverInvariantViolations,
  serverStep,
  type HdlcAddress,
  type HdlcControl,
  type HdlcServerConfig,
  type HdlcServerConnected,
  type HdlcServerInput,
  type HdlcServerState,
} from '../../../../src/protocols/dlms/hdlc';
import { texts, transmitted } from './effects';
import * as V from './vectors';

const CLIENT = hdlcClient(16);
const SERVER = hdlcServer(1, 17);
const cfg: HdlcServerConfig = DEFAULT_HDLC_SERVER_CONFIG;

const fromClient = (
  control: HdlcControl,
  info?: Buffer,
  segmented = false,
  src: HdlcAddress = CLIENT,
): HdlcServerInput => ({
  kind: 'frame',
  frame: hdlcFrame(SERVER, src, control, info, segmented),
});
const I = (ns: number, nr: number, info: Buffer, segmented = false, pf = true): HdlcServerInput =>
  fromClient({ type: 'I', ns, nr, pf }, info, segmented);
const RR = (nr: number, pf = true): HdlcServerInput => fromClient({ type: 'RR', nr, pf });

/** Run inputs in order; check the invariants after every step; return the last step. */
function run(state: HdlcServerState, inputs: HdlcServerInput[], config = cfg) {
  let s = state;
  let effects: ReturnType<typeof serverStep>['effects'] = [];
  for (const input of inputs) {
    const step = serverStep(config, s, input);
    expect(serverInvariantViolations(step.state)).toEqual([]);
    s = step.state;
    effects = step.effects;
  }
  return { state: s, effects };
}

/** NRM right after SNRM (client may propose its own parameters). */
function connected(snrmInfo?: Buffer, config = cfg): HdlcServerConnected {
  const s = run(HDLC_NDM, [fromClient({ type: 'SNRM', pf: true }, snrmInfo)], config).state;
  expect(s.mode).toBe('NRM');
  return s as HdlcServerConnected;
}

const APDU = fromHex('c001c1000100002b0100ff0200'); // dlms.md §8C
const REPLY = fromHex('c401c1000600001391'); // dlms.md §8C
const req = (apdu = APDU): Buffer => addLlc(apdu, 'request');

describe('HDLC server link: NDM transitions', () => {
  it.each<[string, HdlcServerInput, string[]]>([
    [
      'SNRM -> UA + connected',
      fromClient({ type: 'SNRM', pf: true }),
      ['tx UA F [21]', 'connected 128/128', 'start inactivity'],
    ],
    ['DISC -> DM', fromClient({ type: 'DISC', pf: true }), ['tx DM F']],
    ['I with P -> DM', I(0, 0, req()), ['tx DM F']],
    ['RR with P -> DM', RR(0), ['tx DM F']],
    ['RR without P -> nothing', RR(0, false), []],
    [
      'UI -> deliver, no answer',
      fromClient({ type: 'UI', pf: false }, req()),
      [`deliver ${APDU.toString('hex')}`],
    ],
    ['UA from a client -> ignored', fromClient({ type: 'UA', pf: true }), []],
    [
      'malformed -> DM',
      {
        kind: 'invalid',
        dest: SERVER,
        src: CLIENT,
        controlByte: 0x19,
        reasons: FrmrReason.W,
        error: new SimError(ErrorCode.DecodeInvalid, 'x'),
      },
      ['error DecodeInvalid', 'tx DM F'],
    ],
    ['send -> failed', { kind: 'send', id: 7, apdu: REPLY }, ['failed 7 LinkDisconnected']],
    [
      'SNRM with bad parameters -> DM',
      fromClient({ type: 'SNRM', pf: true }, fromHex('818003050100')),
      ['error LinkRejected', 'tx DM F'],
    ],
    [
      'SNRM with an unreadable info field -> DM',
      fromClient({ type: 'SNRM', pf: true }, fromHex('9999')),
      ['error DecodeInvalid', 'tx DM F'],
    ],
  ])('%s', (_name, input, expected) => {
    const step = serverStep(cfg, HDLC_NDM, input);
    expect(texts(step.effects)).toEqual(expected);
    expect(step.state.mode).toBe(expected[0] === 'tx UA F [21]' ? 'NRM' : 'NDM');
    for (const f of transmitted(step.effects)) {
      expect(f.dest).toEqual(CLIENT);
      expect(f.src).toEqual(SERVER);
    }
  });

  it('answers the U9N SNRM proposing 154 with exactly the U9N UA vector', () => {
    const proposal = encodeHdlcParameters(
      { maxInfoTx: 154, maxInfoRx: 154, windowTx: 1, windowRx: 1 },
      { omitDefaults: false },
    );
    const step = serverStep(
      { ...cfg, limits: { maxInfoTx: 154, maxInfoRx: 154, windowTx: 1, windowRx: 1 } },
      HDLC_NDM,
      fromClient({ type: 'SNRM', pf: true }, proposal),
    );
    expect(encodeHdlcFrame(transmitted(step.effects)[0]!)).toEqual(V.UA_WITH_PARAMS);
  });

  it('answers a default SNRM to server 1 with the parameter-less UA vector (Gurux style)', () => {
    const snrm = hdlcFrame(hdlcServer(1), CLIENT, { type: 'SNRM', pf: true });
    const step = serverStep({ ...cfg, uaParameters: 'non-default' }, HDLC_NDM, {
      kind: 'frame',
      frame: snrm,
    });
    expect(encodeHdlcFrame(transmitted(step.effects)[0]!)).toEqual(V.UA_NO_PARAMS);
  });

  it('answers the DISC vector with DM when not connected', () => {
    const step = serverStep(cfg, HDLC_NDM, { kind: 'frame', frame: decodeHdlcFrame(V.DISC) });
    const dm = encodeHdlcFrame(transmitted(step.effects)[0]!);
    expect(dm.subarray(0, 6).toString('hex')).toBe('7ea00721031f'); // length 7, client 16, server 1, DM|F
    expect(dm).toEqual(encodeHdlcFrame(hdlcFrame(CLIENT, hdlcServer(1), { type: 'DM', pf: true })));
  });
});

describe('HDLC server link: NRM transitions', () => {
  it('receives an APDU, defers the poll, and answers with the reply I frame', () => {
    const s0 = connected();
    const got = run(s0, [I(0, 0, req())]);
    expect(texts(got.effects)).toEqual([
      'start inactivity',
      `deliver ${APDU.toString('hex')}`,
      'start reply',
    ]);
    expect(got.state).toMatchObject({ vr: 1, vs: 0, awaitingReply: true });
    const sent = run(got.state, [{ kind: 'send', id: 1, apdu: REPLY }]);
    expect(texts(sent.effects)).toEqual(['stop reply', `tx I ns=0 nr=1 F [${REPLY.length + 3}]`, 'sent 1']);
    expect(transmitted(sent.effects)[0]!.info.subarray(0, 3).toString('hex')).toBe('e6e700');
    expect(sent.state).toMatchObject({ vs: 1, vr: 1, awaitingReply: false });
  });

  it('reproduces the §8A AARQ -> AARE exchange byte for byte', () => {
    const s0 = connected();
    const got = run(s0, [{ kind: 'frame', frame: decodeHdlcFrame(V.AARQ_FRAME) }]);
    expect(got.effects).toContainEqual({ kind: 'deliver', apdu: V.AARQ_APDU });
    const sent = run(got.state, [{ kind: 'send', id: 1, apdu: Buffer.from(V.AARE_APDU) }]);
    expect(encodeHdlcFrame(transmitted(sent.effects)[0]!)).toEqual(V.AARE_FRAME);
  });

  it('reproduces the §8B block-transfer frames of the TOH trace byte for byte', () => {
    // The trace is mid-session: V(S)=1, V(R)=1 on the meter 1/43.
    const meter = hdlcServer(1, 43);
    const base = connected();
    const s1: HdlcServerConnected = { ...base, local: meter, vs: 1, vr: 1 };
    const get = run(s1, [{ kind: 'frame', frame: decodeHdlcFrame(V.GET_OBJECT_LIST) }]);
    expect(get.effects).toContainEqual({ kind: 'deliver', apdu: fromHex('c001c1000f0000280000ff0200') });
    const block1 = run(get.state, [
      { kind: 'send', id: 1, apdu: fromHex('c402c10000000001000201 50'.replace(/ /g, '')) },
    ]);
    expect(encodeHdlcFrame(transmitted(block1.effects)[0]!)).toEqual(V.GET_BLOCK_1);
    const next = run(block1.state, [{ kind: 'frame', frame: decodeHdlcFrame(V.GET_NEXT_1) }]);
    expect(next.effects).toContainEqual({ kind: 'deliver', apdu: fromHex('c002c100000001') });
    expect(next.state).toMatchObject({ vs: 2, vr: 3 });
  });

  it('answers the poll with RR when the application is late (reply timer)', () => {
    const got = run(connected(), [I(0, 0, req()), { kind: 'timeout', timer: 'reply' }]);
    expect(texts(got.effects)).toEqual(['tx RR nr=1 F']);
    // The reply then waits for the next poll.
    const queued = run(got.state, [{ kind: 'send', id: 2, apdu: REPLY }]);
    expect(queued.effects).toEqual([]);
    const polled = run(queued.state, [RR(0)]);
    expect(texts(polled.effects)).toEqual([
      'start inactivity',
      `tx I ns=0 nr=1 F [${REPLY.length + 3}]`,
      'sent 2',
    ]);
  });

  it('reassembles a segmented APDU, answering RR to each segment (window 1)', () => {
    const whole = req(Buffer.alloc(300, 0x42));
    const segs = [whole.subarray(0, 128), whole.subarray(128, 256), whole.subarray(256)];
    const a = run(connected(), [I(0, 0, segs[0]!, true)]);
    expect(texts(a.effects)).toEqual(['start inactivity', 'tx RR nr=1 F']);
    const b = run(a.state, [I(1, 0, segs[1]!, true)]);
    expect(texts(b.effects)).toEqual(['start inactivity', 'tx RR nr=2 F']);
    expect(b.state).toMatchObject({ rxLength: 256 });
    const c = run(b.state, [I(2, 0, segs[2]!)]);
    expect(c.effects).toContainEqual({ kind: 'deliver', apdu: Buffer.alloc(300, 0x42) });
    expect(c.state).toMatchObject({ vr: 3, rxLength: 0, awaitingReply: true });
  });

  it('segments a long reply at max-info-TX, one segment per RR poll', () => {
    // The client can only receive 16 octets per frame.
    const s0 = connected(encodeHdlcParameters({ maxInfoTx: 128, maxInfoRx: 16, windowTx: 1, windowRx: 1 }));
    expect(s0.params.maxInfoTx).toBe(16);
    const reply = Buffer.alloc(37, 0x55); // + 3 LLC = 40 = 16 + 16 + 8
    const a = run(s0, [I(0, 0, req()), { kind: 'send', id: 9, apdu: reply }]);
    expect(texts(a.effects)).toEqual(['stop reply', 'tx I ns=0 nr=1 F S [16]']);
    const b = run(a.state, [RR(1)]);
    expect(texts(b.effects)).toEqual(['start inactivity', 'tx I ns=1 nr=1 F S [16]']);
    const c = run(b.state, [RR(2)]);
    expect(texts(c.effects)).toEqual(['start inactivity', 'tx I ns=2 nr=1 F [8]', 'sent 9']);
    const d = run(c.state, [RR(3)]);
    expect(texts(d.effects)).toEqual(['start inactivity', 'tx RR nr=1 F']);
  });

  it('repeats its last I frame when the client polls with N(R) = V(S)-1', () => {
    const a = run(connected(), [I(0, 0, req()), { kind: 'send', id: 1, apdu: REPLY }]);
    const again = run(a.state, [RR(0)]);
    expect(texts(again.effects)).toEqual(['start inactivity', `tx I ns=0 nr=1 F [${REPLY.length + 3}]`]);
    expect(again.state).toMatchObject({ vs: 1 });
  });

  it('answers a repeated I frame again without delivering it twice', () => {
    const a = run(connected(), [I(0, 0, req()), { kind: 'send', id: 1, apdu: REPLY }]);
    const dup = run(a.state, [I(0, 0, req())]);
    expect(texts(dup.effects)).toEqual(['start inactivity', `tx I ns=0 nr=1 F [${REPLY.length + 3}]`]);
    expect(dup.state).toMatchObject({ vr: 1, vs: 1 });
    // A repeat while the application is still working is absorbed.
    const w = run(connected(), [I(0, 0, req()), I(0, 0, req())]);
    expect(texts(w.effects)).toEqual(['start inactivity']);
  });

  it('enters the FRMR condition on a bad N(S) (as the u9n#95 meter) and stays there until DISC', () => {
    const a = run(connected(), [I(2, 0, req())]);
    const frmr = transmitted(a.effects)[0]!;
    expect(frmr.control).toEqual({ type: 'FRMR', pf: true });
    expect(frmr.info.toString('hex')).toBe('140010'); // control 0x14 (I ns=2 nr=0 P), V(S)=V(R)=0, reason V
    expect(a.effects.map((e) => e.kind)).toContain('protocolError');
    const b = run(a.state, [RR(0)]);
    expect(texts(b.effects)).toEqual(['start inactivity', 'tx FRMR F [3]']);
    const sendFails = run(b.state, [{ kind: 'send', id: 3, apdu: REPLY }]);
    expect(texts(sendFails.effects)).toEqual(['failed 3 LinkProtocol']);
    const c = run(b.state, [fromClient({ type: 'DISC', pf: true })]);
    expect(texts(c.effects)).toEqual(['tx UA F', 'stop inactivity', 'stop reply', 'down disc']);
    expect(c.state).toBe(HDLC_NDM);
  });

  it.each<[string, HdlcServerInput, number]>([
    ['invalid N(R)', I(0, 5, req()), FrmrReason.Z],
    ['RR with an invalid N(R)', RR(3), FrmrReason.Z],
    ['info longer than max-info-RX', I(0, 0, Buffer.alloc(129)), FrmrReason.Y],
    ['RR with an info field', fromClient({ type: 'RR', nr: 0, pf: true }, Buffer.from([1])), FrmrReason.X],
    ['a response (UA) from the primary', fromClient({ type: 'UA', pf: true }), FrmrReason.W],
    [
      'an unknown control octet',
      {
        kind: 'invalid',
        dest: SERVER,
        src: CLIENT,
        controlByte: 0x19,
        reasons: FrmrReason.W,
        error: new SimError(ErrorCode.DecodeInvalid, 'bad control'),
      },
      FrmrReason.W,
    ],
  ])('answers %s with FRMR', (_name, input, reason) => {
    const a = run(connected(), [input]);
    const frmr = transmitted(a.effects).find((f) => f.control.type === 'FRMR')!;
    expect(decodeFrmrInfo(frmr.info).reasons).toBe(reason);
    expect((a.state as HdlcServerConnected).frmr).toBeDefined();
  });

  it('answers RNR with RR and holds its I frames until an RR poll', () => {
    const a = run(connected(), [
      I(0, 0, req()),
      { kind: 'timeout', timer: 'reply' },
      { kind: 'send', id: 1, apdu: REPLY },
    ]);
    const rnr = run(a.state, [fromClient({ type: 'RNR', nr: 0, pf: true })]);
    expect(texts(rnr.effects)).toEqual(['start inactivity', 'tx RR nr=1 F']);
    const rr = run(rnr.state, [RR(0)]);
    expect(texts(rr.effects)).toContain('sent 1');
  });

  it('accepts an I frame without P silently, delivering it', () => {
    const a = run(connected(), [I(0, 0, req(), false, false)]);
    expect(texts(a.effects)).toEqual(['start inactivity', `deliver ${APDU.toString('hex')}`]);
    expect(a.state).toMatchObject({ vr: 1, awaitingReply: false });
  });

  it('drops to NDM on the inactivity timeout, failing queued replies', () => {
    const a = run(connected(), [
      I(0, 0, req()),
      { kind: 'timeout', timer: 'reply' },
      { kind: 'send', id: 4, apdu: REPLY },
    ]);
    const t = run(a.state, [{ kind: 'timeout', timer: 'inactivity' }]);
    expect(texts(t.effects)).toEqual(['stop reply', 'failed 4 LinkTimeout', 'down inactivity']);
    expect(t.state).toBe(HDLC_NDM);
    // ... and then answers DM
    expect(texts(run(t.state, [RR(0)]).effects)).toEqual(['tx DM F']);
  });

  it('resets on a second SNRM from its client', () => {
    const a = run(connected(), [I(0, 0, req())]);
    const b = run(a.state, [fromClient({ type: 'SNRM', pf: true })]);
    expect(texts(b.effects)).toEqual([
      'stop reply',
      'down reset',
      'tx UA F [21]',
      'connected 128/128',
      'start inactivity',
    ]);
    expect(b.state).toMatchObject({ vs: 0, vr: 0, awaitingReply: false });
  });

  it('refuses a second client with DM and ignores its other frames (modelled)', () => {
    const other = hdlcClient(1);
    const s0 = connected();
    const snrm = run(s0, [fromClient({ type: 'SNRM', pf: true }, undefined, false, other)]);
    expect(texts(snrm.effects)).toEqual(['tx DM F']);
    expect(transmitted(snrm.effects)[0]!.dest).toEqual(other);
    expect(snrm.state).toBe(s0);
    expect(run(s0, [fromClient({ type: 'I', ns: 0, nr: 0, pf: true }, req(), false, other)]).effects).toEqual(
      [],
    );
  });

  it('wraps N(S)/N(R) modulo 8 over ten exchanges', () => {
    let s: HdlcServerState = connected();
    for (let k = 0; k < 10; k++) {
      const vs = (s as HdlcServerConnected).vs;
      const vr = (s as HdlcServerConnected).vr;
      const r = run(s, [I(vr, vs, req()), { kind: 'send', id: k, apdu: REPLY }]);
      expect(transmitted(r.effects)[0]!.control).toEqual({ type: 'I', ns: k % 8, nr: (k + 1) % 8, pf: true });
      s = r.state;
    }
    expect(s).toMatchObject({ vs: 2, vr: 2 });
  });

  it('closes locally', () => {
    const a = run(connected(), [
      I(0, 0, req()),
      { kind: 'timeout', timer: 'reply' },
      { kind: 'send', id: 5, apdu: REPLY },
    ]);
    const c = run(a.state, [{ kind: 'close' }]);
    expect(texts(c.effects)).toEqual([
      'stop inactivity',
      'stop reply',
      'failed 5 LinkDisconnected',
      'down local',
    ]);
  });
});
