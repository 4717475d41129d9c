import { fromHex } from '../../../../src/core/bytes';
import {
  addLlc,
  clientInvariantViolations,
  clientStep,
  decodeHdlcFrame,
  encodeFrmrInfo,
  encodeHdlcFrame,
  encodeHdlcParameters,
  FrmrReason,
  HDLC_CLIENT_NDM,
  hdlcClient,
  hdlcClientConfig,
  hdlcFrame,
  hdlcServer,
  type HdlcClientConfig,
  type HdlcClientInput,
  type HdlcClientNrm,
  type HdlcClientState,
  type HdlcControl,
} from '../../../../src/protocols/dlms/hdlc';
import { texts, transmitted } from './effects';
import * as V from './vectors';

const CLIENT = hdlcClient(16);
const SERVER = hdlcServer(1, 17);
const cfg: HdlcClientConfig = hdlcClientConfig(CLIENT, SERVER);

function run(state: HdlcClientState, inputs: HdlcClientInput[], config = cfg) {
  let s = state;
  let effects: ReturnType<typeof clientStep>['effects'] = [];
  for (const input of inputs) {
    const step = clientStep(config, s, input);
    expect(clientInvariantViolations(step.state)).toEqual([]);
    s = step.state;
    effects = step.effects;
  }
  return { state: s, effects };
}

const fromServer = (
  control: HdlcControl,
  info?: Buffer,
  segmented = false,
  config = cfg,
): HdlcClientInput => ({
  kind: 'frame',
  frame: hdlcFrame(config.client, config.server, control, info, segmented),
});
const raw = (bytes: Buffer): HdlcClientInput => ({ kind: 'frame', frame: decodeHdlcFrame(bytes) });
const UA = (info?: Buffer, config = cfg) => fromServer({ type: 'UA', pf: true }, info, false, config);
const RR = (nr: number) => fromServer({ type: 'RR', nr, pf: true });
const Iframe = (ns: number, nr: number, info: Buffer, segmented = false) =>
  fromServer({ type: 'I', ns, nr, pf: true }, info, segmented);

function connected(uaInfo?: Buffer, config = cfg): HdlcClientNrm {
  const s = run(HDLC_CLIENT_NDM, [{ kind: 'connect' }, UA(uaInfo, config)], config).state;
  expect(s.mode).toBe('NRM');
  return s as HdlcClientNrm;
}

const APDU = fromHex('c001c1000100002b0100ff0200'); // dlms.md §8C
const REPLY = fromHex('c401c1000600001391');
const resp = (apdu = REPLY): Buffer => addLlc(apdu, 'response');

describe('HDLC client link: connect and disconnect', () => {
  it('sends exactly the SNRM vector and adopts the UA parameters', () => {
    const a = run(HDLC_CLIENT_NDM, [{ kind: 'connect' }]);
    expect(encodeHdlcFrame(transmitted(a.effects)[0]!)).toEqual(V.SNRM);
    expect(texts(a.effects)).toEqual(['tx SNRM F', 'start response']);
    const b = run(a.state, [raw(V.UA_WITH_PARAMS)]);
    expect(texts(b.effects)).toEqual(['stop response', 'connected 128/128']);
    expect(b.state).toMatchObject({ mode: 'NRM', vs: 0, vr: 0, waiting: 'idle' });
  });

  it('proposes its own parameters and takes the smaller of each side', () => {
    const big = hdlcClientConfig(CLIENT, SERVER, {
      proposed: { maxInfoTx: 512, maxInfoRx: 1024, windowTx: 1, windowRx: 1 },
    });
    const a = run(HDLC_CLIENT_NDM, [{ kind: 'connect' }], big);
    expect(transmitted(a.effects)[0]!.info.toString('hex')).toBe('81800805020200060204' + '00');
    const ua = encodeHdlcParameters({ maxInfoTx: 154, maxInfoRx: 154, windowTx: 1, windowRx: 1 });
    const b = run(a.state, [UA(ua, big)], big);
    expect((b.state as HdlcClientNrm).params).toEqual({
      maxInfoTx: 154,
      maxInfoRx: 154,
      windowTx: 1,
      windowRx: 1,
    });
  });

  it('sends exactly the DISC vector to server 1 and ends on UA', () => {
    const one = hdlcClientConfig(CLIENT, hdlcServer(1));
    const s = connected(undefined, one);
    const d = run(s, [{ kind: 'disconnect' }], one);
    expect(encodeHdlcFrame(transmitted(d.effects)[0]!)).toEqual(V.DISC);
    const e = run(d.state, [raw(V.UA_NO_PARAMS)], one);
    expect(texts(e.effects)).toEqual(['stop response', 'down disc']);
    expect(e.state).toBe(HDLC_CLIENT_NDM);
  });

  it.each<[string, HdlcClientInput[], string[]]>([
    [
      'DM answers SNRM',
      [{ kind: 'connect' }, fromServer({ type: 'DM', pf: true })],
      ['stop response', 'stop poll', 'error LinkRejected', 'down rejected LinkRejected'],
    ],
    [
      'SNRM unanswered after retries',
      [{ kind: 'connect' }, ...Array(4).fill({ kind: 'timeout', timer: 'response' })],
      ['stop response', 'stop poll', 'error LinkTimeout', 'down timeout LinkTimeout'],
    ],
    [
      'SNRM retried',
      [{ kind: 'connect' }, { kind: 'timeout', timer: 'response' }],
      ['tx SNRM F', 'start response'],
    ],
    [
      'unreadable UA parameters',
      [{ kind: 'connect' }, UA(fromHex('8181'))],
      ['stop response', 'stop poll', 'error DecodeInvalid', 'tx DISC F', 'down protocol DecodeInvalid'],
    ],
    ['send before connect', [{ kind: 'send', id: 1, apdu: APDU }], ['failed 1 LinkDisconnected']],
    [
      'DISC unanswered',
      [
        { kind: 'connect' },
        UA(),
        { kind: 'disconnect' },
        ...Array(4).fill({ kind: 'timeout', timer: 'response' }),
      ],
      ['stop response', 'stop poll', 'error LinkTimeout', 'down timeout LinkTimeout'],
    ],
    [
      'DM answers DISC',
      [{ kind: 'connect' }, UA(), { kind: 'disconnect' }, fromServer({ type: 'DM', pf: true })],
      ['stop response', 'down disc'],
    ],
  ])('%s', (_name, inputs, expected) => {
    expect(texts(run(HDLC_CLIENT_NDM, inputs).effects)).toEqual(expected);
  });

  it('queues APDUs sent while connecting and sends them after UA', () => {
    const a = run(HDLC_CLIENT_NDM, [{ kind: 'connect' }, { kind: 'send', id: 1, apdu: APDU }, UA()]);
    expect(texts(a.effects)).toEqual([
      'stop response',
      'connected 128/128',
      `tx I ns=0 nr=0 F [${APDU.length + 3}]`,
      'start response',
    ]);
  });

  it('ignores frames from other stations, including the echo of its own SNRM (u9n#62)', () => {
    const a = run(HDLC_CLIENT_NDM, [{ kind: 'connect' }]);
    expect(run(a.state, [raw(V.SNRM)]).effects).toEqual([]);
    expect(
      run(a.state, [{ kind: 'frame', frame: hdlcFrame(hdlcClient(1), SERVER, { type: 'UA', pf: true }) }])
        .effects,
    ).toEqual([]);
  });
});

describe('HDLC client link: data transfer', () => {
  it('reproduces the §8A AARQ frame and takes the AARE', () => {
    const s = connected();
    const a = run(s, [{ kind: 'send', id: 1, apdu: Buffer.from(V.AARQ_APDU) }]);
    expect(encodeHdlcFrame(transmitted(a.effects)[0]!)).toEqual(V.AARQ_FRAME);
    const b = run(a.state, [raw(V.AARE_FRAME)]);
    expect(texts(b.effects)).toEqual([
      'sent 1',
      'stop response',
      `deliver ${Buffer.from(V.AARE_APDU).toString('hex')}`,
    ]);
    expect(b.state).toMatchObject({ vs: 1, vr: 1, waiting: 'idle', tx: [] });
  });

  it('reproduces the §8B GET / GET-NEXT frames of the TOH trace', () => {
    const meter = hdlcClientConfig(CLIENT, hdlcServer(1, 43));
    const s: HdlcClientNrm = { ...connected(undefined, meter), vs: 1, vr: 1 };
    const get = run(s, [{ kind: 'send', id: 1, apdu: fromHex('c001c1000f0000280000ff0200') }], meter);
    expect(encodeHdlcFrame(transmitted(get.effects)[0]!)).toEqual(V.GET_OBJECT_LIST);
    const block = run(get.state, [raw(V.GET_BLOCK_1)], meter);
    expect(block.effects).toContainEqual({ kind: 'deliver', apdu: fromHex('c402c10000000001000201' + '50') });
    const next = run(block.state, [{ kind: 'send', id: 2, apdu: fromHex('c002c100000001') }], meter);
    expect(encodeHdlcFrame(transmitted(next.effects)[0]!)).toEqual(V.GET_NEXT_1);
  });

  it('acknowledges a reply segment with exactly the RR vector (N(R)=2, server 1)', () => {
    const one = hdlcClientConfig(CLIENT, hdlcServer(1));
    const s: HdlcClientNrm = {
      ...connected(undefined, one),
      vs: 2,
      vr: 1,
      waiting: 'data',
      last: hdlcFrame(hdlcServer(1), CLIENT, { type: 'RR', nr: 1, pf: true }),
    };
    const seg = run(
      s,
      [fromServer({ type: 'I', ns: 1, nr: 2, pf: true }, resp().subarray(0, 5), true, one)],
      one,
    );
    expect(encodeHdlcFrame(transmitted(seg.effects)[0]!)).toEqual(V.RR);
  });

  it('sends a long APDU in max-info-TX segments, each acknowledged by RR', () => {
    const small = hdlcClientConfig(CLIENT, SERVER);
    const s = connected(
      encodeHdlcParameters({ maxInfoTx: 128, maxInfoRx: 16, windowTx: 1, windowRx: 1 }),
      small,
    );
    expect(s.params.maxInfoTx).toBe(16);
    const a = run(s, [{ kind: 'send', id: 3, apdu: Buffer.alloc(37, 1) }], small);
    expect(texts(a.effects)).toEqual(['tx I ns=0 nr=0 F S [16]', 'start response']);
    const b = run(a.state, [RR(1)], small);
    expect(texts(b.effects)).toEqual(['tx I ns=1 nr=0 F S [16]', 'start response']);
    const c = run(b.state, [RR(2)], small);
    expect(texts(c.effects)).toEqual(['tx I ns=2 nr=0 F [8]', 'start response']);
    const d = run(c.state, [Iframe(0, 3, resp())], small);
    expect(texts(d.effects)).toEqual(['sent 3', 'stop response', `deliver ${REPLY.toString('hex')}`]);
  });

  it('reassembles a segmented reply, polling with RR after each segment', () => {
    const whole = resp(Buffer.alloc(200, 9));
    const a = run(connected(), [
      { kind: 'send', id: 1, apdu: APDU },
      Iframe(0, 1, whole.subarray(0, 128), true),
    ]);
    expect(texts(a.effects)).toEqual(['sent 1', 'tx RR nr=1 F', 'start response']);
    const b = run(a.state, [Iframe(1, 1, whole.subarray(128))]);
    expect(texts(b.effects)).toEqual(['stop response', `deliver ${Buffer.alloc(200, 9).toString('hex')}`]);
  });

  it('polls later when the server acknowledges with RR but has no reply yet', () => {
    const a = run(connected(), [{ kind: 'send', id: 1, apdu: APDU }, RR(1)]);
    expect(texts(a.effects)).toEqual(['sent 1', 'stop response', 'start poll']);
    const b = run(a.state, [{ kind: 'timeout', timer: 'poll' }]);
    expect(texts(b.effects)).toEqual(['tx RR nr=0 F', 'start response']);
    const c = run(b.state, [fromServer({ type: 'RNR', nr: 1, pf: true })]);
    expect(texts(c.effects)).toEqual(['stop response', 'start poll']);
    const d = run(c.state, [{ kind: 'timeout', timer: 'poll' }, Iframe(0, 1, resp())]);
    expect(texts(d.effects)).toEqual(['stop response', `deliver ${REPLY.toString('hex')}`]);
  });

  it('stops polling after maxPolls empty answers (the application times out on its own)', () => {
    const few = hdlcClientConfig(CLIENT, SERVER, { maxPolls: 2 });
    const inputs: HdlcClientInput[] = [{ kind: 'send', id: 1, apdu: APDU }, RR(1)];
    for (let k = 0; k < 2; k++) inputs.push({ kind: 'timeout', timer: 'poll' }, RR(1));
    const a = run(connected(undefined, few), inputs, few);
    expect(texts(a.effects)).toEqual(['stop response']);
    expect(a.state).toMatchObject({ waiting: 'idle' });
  });

  it('repeats an unanswered frame, then gives up with DISC', () => {
    const s = run(connected(), [{ kind: 'send', id: 1, apdu: APDU }]).state;
    const r = run(s, [{ kind: 'timeout', timer: 'response' }]);
    expect(texts(r.effects)).toEqual([`tx I ns=0 nr=0 F [${APDU.length + 3}]`, 'start response']);
    expect(r.state).toMatchObject({ vs: 1, retries: 1 });
    const t = run(r.state, Array(3).fill({ kind: 'timeout', timer: 'response' }));
    expect(texts(t.effects)).toEqual([
      'stop response',
      'stop poll',
      'error LinkRetriesExhausted',
      'tx DISC F',
      'failed 1 LinkRetriesExhausted',
      'down timeout LinkRetriesExhausted',
    ]);
  });

  it('repeats its I frame when the server answers RR with N(R) = V(S)-1', () => {
    const s = run(connected(), [{ kind: 'send', id: 1, apdu: APDU }]).state;
    expect(texts(run(s, [RR(0)]).effects)).toEqual([
      `tx I ns=0 nr=0 F [${APDU.length + 3}]`,
      'start response',
    ]);
  });

  it('answers a repeated reply segment with RR again instead of appending it', () => {
    const whole = resp(Buffer.alloc(200, 9));
    const a = run(connected(), [
      { kind: 'send', id: 1, apdu: APDU },
      Iframe(0, 1, whole.subarray(0, 128), true),
    ]);
    const dup = run(a.state, [Iframe(0, 1, whole.subarray(0, 128), true)]);
    expect(texts(dup.effects)).toEqual(['tx RR nr=1 F', 'start response']);
    expect(dup.state).toMatchObject({ rxLength: 128, vr: 1 });
  });

  it.each<[string, HdlcClientInput, string[]]>([
    [
      'DM (server dropped the link)',
      fromServer({ type: 'DM', pf: true }),
      [
        'stop response',
        'stop poll',
        'error LinkDisconnected',
        'failed 1 LinkDisconnected',
        'down dm LinkDisconnected',
      ],
    ],
    [
      'FRMR',
      fromServer(
        { type: 'FRMR', pf: true },
        encodeFrmrInfo({ rejectedControl: 0x10, vs: 0, vr: 0, response: false, reasons: FrmrReason.Y }),
      ),
      [
        'stop response',
        'stop poll',
        'error LinkProtocol',
        'tx DISC F',
        'failed 1 LinkProtocol',
        'down frmr LinkProtocol',
      ],
    ],
    [
      'an I frame with a bad N(R)',
      Iframe(0, 5, resp()),
      [
        'stop response',
        'stop poll',
        'error LinkSequence',
        'tx DISC F',
        'failed 1 LinkSequence',
        'down protocol LinkSequence',
      ],
    ],
    [
      'an I frame with a bad N(S)',
      Iframe(4, 1, resp()),
      [
        'stop response',
        'stop poll',
        'error LinkSequence',
        'tx DISC F',
        'failed 1 LinkSequence',
        'down protocol LinkSequence',
      ],
    ],
    ['an I frame longer than max-info-RX', Iframe(0, 1, Buffer.alloc(129)), ['error FrameLength']],
  ])('handles %s', (_name, input, expected) => {
    const s = run(connected(), [{ kind: 'send', id: 1, apdu: APDU }]).state;
    expect(texts(run(s, [input]).effects)).toEqual(expected);
  });

  it('ignores unsolicited frames when idle', () => {
    const s = connected();
    expect(texts(run(s, [RR(0)]).effects)).toEqual(['error LinkProtocol']);
    expect(texts(run(s, [Iframe(0, 0, resp())]).effects)).toEqual(['error LinkProtocol']);
  });

  it('sends a queued second APDU as soon as the first reply arrives', () => {
    const a = run(connected(), [
      { kind: 'send', id: 1, apdu: APDU },
      { kind: 'send', id: 2, apdu: APDU },
      Iframe(0, 1, resp()),
    ]);
    expect(texts(a.effects)).toEqual([
      'sent 1',
      'stop response',
      `deliver ${REPLY.toString('hex')}`,
      `tx I ns=1 nr=1 F [${APDU.length + 3}]`,
      'start response',
    ]);
  });

  it('fails everything pending on a local close', () => {
    const s = run(connected(), [
      { kind: 'send', id: 1, apdu: APDU },
      { kind: 'send', id: 2, apdu: APDU },
    ]).state;
    expect(texts(run(s, [{ kind: 'close' }]).effects)).toEqual([
      'stop response',
      'stop poll',
      'failed 1 LinkDisconnected',
      'failed 2 LinkDisconnected',
      'down local',
    ]);
  });
});
