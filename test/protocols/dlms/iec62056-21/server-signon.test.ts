import {
  encodeIec21Message,
  initialSignOnState,
  reactionTime,
  signOnStep,
  type Iec21Message,
  type Iec21ServerConfig,
  type Iec21ServerEffect,
  type Iec21ServerInput,
  type Iec21ServerState,
} from '../../../../src/protocols/dlms/iec62056-21';

const cfg: Iec21ServerConfig = {
  manufacturer: 'APA',
  ident: 'NORAX30',
  baudChar: '5',
  offerHdlc: true,
  ackTimeoutMs: 5000,
};

const msg = (message: Iec21Message): Iec21ServerInput => ({ kind: 'message', message });
const request = (address = ''): Iec21ServerInput => msg({ type: 'request', address });
const ack = (protocol: string, baudChar: string, mode: string): Iec21ServerInput =>
  msg({ type: 'ackOption', protocol, baudChar, mode });

function effectText(e: Iec21ServerEffect): string {
  switch (e.kind) {
    case 'send':
      return `send ${JSON.stringify(e.bytes.toString('latin1'))} after ${e.delayMs}`;
    case 'readout':
      return `readout at ${e.baudRate} after ${e.delayMs}`;
    case 'enterHdlc':
      return `hdlc at ${e.baudRate}`;
    case 'enterSignOn':
      return 'sign-on';
    case 'startTimer':
      return `start ${e.timer}`;
    case 'stopTimer':
      return `stop ${e.timer}`;
  }
}

function run(state: Iec21ServerState, inputs: Iec21ServerInput[], c = cfg) {
  let s = state;
  let effects: readonly Iec21ServerEffect[] = [];
  for (const i of inputs) ({ state: s, effects } = signOnStep(c, s, i));
  return { state: s, effects: effects.map(effectText) };
}

const IDENT = JSON.stringify('/APA5\\2NORAX30\r\n');

describe('IEC 62056-21 server sign-on (transition table)', () => {
  it.each<[string, Iec21ServerState, Iec21ServerInput[], Iec21ServerState['phase'], string[]]>([
    [
      'request -> identification with \\2 after 200 ms',
      { phase: 'idle' },
      [request()],
      'identified',
      [`send ${IDENT} after 200`, 'start ack'],
    ],
    [
      'matching address',
      { phase: 'idle' },
      [request('')],
      'identified',
      [`send ${IDENT} after 200`, 'start ack'],
    ],
    [
      'mode E ack (V=2, Y=2) -> HDLC at 9600',
      { phase: 'identified' },
      [ack('2', '5', '2')],
      'hdlc',
      ['stop ack', 'hdlc at 9600'],
    ],
    [
      'mode E ack asking 4800 -> HDLC at 4800',
      { phase: 'identified' },
      [ack('2', '4', '2')],
      'hdlc',
      ['stop ack', 'hdlc at 4800'],
    ],
    [
      'mode E ack asking more than offered -> offered rate',
      { phase: 'identified' },
      [ack('2', '6', '2')],
      'hdlc',
      ['stop ack', 'hdlc at 9600'],
    ],
    [
      'u9n#37: V=0, Y=2 -> normal readout, not HDLC',
      { phase: 'identified' },
      [ack('0', '5', '2')],
      'idle',
      ['stop ack', 'readout at 9600 after 200'],
    ],
    [
      'mode C readout (Y=0)',
      { phase: 'identified' },
      [ack('0', '5', '0')],
      'idle',
      ['stop ack', 'readout at 9600 after 200'],
    ],
    [
      'programming mode (Y=1) -> unsupported, silent',
      { phase: 'identified' },
      [ack('0', '5', '1')],
      'idle',
      ['stop ack'],
    ],
    ['ack timer -> idle', { phase: 'identified' }, [{ kind: 'timeout', timer: 'ack' }], 'idle', []],
    [
      'break -> idle',
      { phase: 'identified' },
      [msg({ type: 'command', command: 'B', commandType: '0' })],
      'idle',
      ['stop ack'],
    ],
    [
      'repeated request -> identify again',
      { phase: 'identified' },
      [request()],
      'identified',
      [`send ${IDENT} after 200`, 'start ack'],
    ],
    ['ack without a request -> ignored', { phase: 'idle' }, [ack('2', '5', '2')], 'idle', []],
    [
      'leading NULs are tolerated',
      { phase: 'idle' },
      [{ kind: 'wake', count: 3 }, request()],
      'identified',
      [`send ${IDENT} after 200`, 'start ack'],
    ],
    ['noise is ignored', { phase: 'identified' }, [{ kind: 'noise' }], 'identified', []],
    [
      'HDLC ends -> back to the sign-on',
      { phase: 'hdlc', baudRate: 9600 },
      [{ kind: 'hdlcEnded' }],
      'idle',
      ['sign-on'],
    ],
    ['sign-on messages during HDLC are not ours', { phase: 'hdlc', baudRate: 9600 }, [request()], 'hdlc', []],
  ])('%s', (_name, from, inputs, phase, effects) => {
    const r = run(from, inputs);
    expect(r.state.phase).toBe(phase);
    expect(r.effects).toEqual(effects);
  });

  it('answers only its own device address', () => {
    const addressed = { ...cfg, deviceAddress: '12345678' };
    expect(run({ phase: 'idle' }, [request('999')], addressed)).toEqual({
      state: { phase: 'idle' },
      effects: [],
    });
    expect(run({ phase: 'idle' }, [request('12345678')], addressed).state.phase).toBe('identified');
    expect(run({ phase: 'idle' }, [request('')], addressed).state.phase).toBe('identified');
  });

  it('offers no \\2 and never enters HDLC when the profile does not offer mode E', () => {
    const plain = { ...cfg, offerHdlc: false };
    expect(run({ phase: 'idle' }, [request()], plain).effects[0]).toBe(
      `send ${JSON.stringify('/APA5NORAX30\r\n')} after 200`,
    );
    expect(run({ phase: 'identified' }, [ack('2', '5', '2')], plain)).toEqual({
      state: { phase: 'idle' },
      effects: ['stop ack', 'readout at 9600 after 200'],
    });
  });

  it('uses 20 ms reaction time for a lower-case third manufacturer letter (P21)', () => {
    expect(reactionTime({ ...cfg, manufacturer: 'ISk' })).toBe(20);
    expect(reactionTime(cfg)).toBe(200);
    expect(reactionTime({ ...cfg, reactionTimeMs: 0 })).toBe(0);
  });

  it('sleeps until enough NULs arrive in a row (battery meter)', () => {
    const battery = { ...cfg, wakeUp: { minNuls: 63, awakeMs: 5000 } };
    const s0 = initialSignOnState(battery);
    expect(s0).toEqual({ phase: 'asleep', nuls: 0 });
    expect(run(s0, [request()], battery)).toEqual({ state: s0, effects: [] });
    expect(
      run(s0, [{ kind: 'wake', count: 40 }, { kind: 'noise' }, { kind: 'wake', count: 40 }], battery).state,
    ).toEqual({
      phase: 'asleep',
      nuls: 40,
    });
    const awake = run(
      s0,
      [
        { kind: 'wake', count: 40 },
        { kind: 'wake', count: 44 },
      ],
      battery,
    );
    expect(awake).toEqual({ state: { phase: 'idle' }, effects: ['start awake'] });
    expect(run(awake.state, [request()], battery).effects).toEqual([
      `send ${IDENT} after 200`,
      'start ack',
      'stop awake',
    ]);
    expect(run(awake.state, [{ kind: 'timeout', timer: 'awake' }], battery).state).toEqual({
      phase: 'asleep',
      nuls: 0,
    });
    expect(run({ phase: 'hdlc', baudRate: 9600 }, [{ kind: 'hdlcEnded' }], battery).state).toEqual({
      phase: 'asleep',
      nuls: 0,
    });
  });

  it('encodes the identification it sends', () => {
    const step = signOnStep(cfg, { phase: 'idle' }, request());
    const send = step.effects[0] as Extract<Iec21ServerEffect, { kind: 'send' }>;
    expect(send.bytes).toEqual(
      encodeIec21Message({
        type: 'identification',
        manufacturer: 'APA',
        baudChar: '5',
        enhanced: '2',
        ident: 'NORAX30',
      }),
    );
  });
});
