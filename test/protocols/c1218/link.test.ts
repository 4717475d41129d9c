import {
  initialLinkState,
  linkStep,
  type LinkConfig,
  type LinkEffect,
  type LinkInput,
  type LinkState,
} from '../../../src/protocols/c1218/link';
import { encodePacket, type C1218Packet } from '../../../src/protocols/c1218/packet';
import { IDENT_PACKET, bytes } from './vectors';

/** The link as a transition table (CONVENTIONS): rows of (state, input) -> (effects, state). */

const pkt = (ctrl: number, seq: number, data: number[] | Buffer): C1218Packet => {
  const d = Buffer.isBuffer(data) ? data : Buffer.from(data);
  const raw = encodePacket(ctrl, seq, d);
  return { identity: 0, ctrl, seq, data: d, crc: raw[raw.length - 2]! | (raw[raw.length - 1]! << 8) };
};

function show(e: LinkEffect): string {
  switch (e.type) {
    case 'write':
      return e.what === 'ack' || e.what === 'nak' ? e.what : `${e.what} ${e.bytes.toString('hex')}`;
    case 'armAckTimer':
      return `arm ${e.ms}`;
    case 'stopAckTimer':
      return 'stop';
    case 'deliver':
      return `deliver ${e.message.toString('hex')}${e.warnings.length ? ` warn:${e.warnings.join(',')}` : ''}`;
    case 'sent':
      return `sent ${e.id}${e.implicit ? ' implicit' : ''}`;
    case 'sendFailed':
      return `failed ${e.id} ${e.reason}`;
    case 'rxError':
      return `rxError ${e.reason} ${e.packets}`;
    case 'duplicate':
      return 'duplicate';
  }
}

function run(state: LinkState, inputs: LinkInput[]): { state: LinkState; out: string[] } {
  const out: string[] = [];
  let s = state;
  for (const i of inputs) {
    const step = linkStep(s, i);
    s = step.state;
    out.push(...step.effects.map(show));
  }
  return { state: s, out };
}

const fresh = (cfg: Partial<LinkConfig> = {}): LinkState => initialLinkState(cfg);
const IDENT = bytes(IDENT_PACKET).toString('hex'); // ee0000000001201310
const send = (hex: string): LinkInput => ({ type: 'send', message: Buffer.from(hex, 'hex') });
const rx = (p: C1218Packet): LinkInput => ({ type: 'packet', packet: p });

describe('C12.18 link: sending (docs/c1218.md §1.4-§1.6)', () => {
  it.each<[string, LinkState, LinkInput[], string[]]>([
    [
      'send: writes the packet with toggle 0 and arms the ACK timer',
      fresh(),
      [send('20')],
      [`packet ${IDENT}`, 'arm 2000'],
    ],
    [
      'ACK: message sent',
      fresh(),
      [send('20'), { type: 'ack' }],
      [`packet ${IDENT}`, 'arm 2000', 'stop', 'sent 1'],
    ],
    [
      'NAK: the same bytes again (toggle unchanged)',
      fresh(),
      [send('20'), { type: 'nak' }],
      [`packet ${IDENT}`, 'arm 2000', `retransmit ${IDENT}`, 'arm 2000'],
    ],
    [
      'timeout x3: three transmissions in all, then failure (T: 0, 1.1, 2.2 s)',
      fresh(),
      [send('20'), { type: 'ackTimeout' }, { type: 'ackTimeout' }, { type: 'ackTimeout' }],
      [
        `packet ${IDENT}`,
        'arm 2000',
        `retransmit ${IDENT}`,
        'arm 2000',
        `retransmit ${IDENT}`,
        'arm 2000',
        'stop',
        'failed 1 retries',
      ],
    ],
    [
      'stray ACK / NAK / timeout with nothing outstanding: nothing',
      fresh(),
      [{ type: 'ack' }, { type: 'nak' }, { type: 'ackTimeout' }],
      [],
    ],
    ['empty message: refused', fresh(), [send('')], ['failed 1 empty']],
    [
      'message larger than packet size x count: refused',
      fresh({ packetSize: 64, maxPackets: 2 }),
      [send('00'.repeat(113))],
      ['failed 1 tooLarge'],
    ],
    [
      'a new send supersedes an unacknowledged one',
      fresh(),
      [send('20'), send('21')],
      [
        `packet ${IDENT}`,
        'arm 2000',
        'stop',
        'failed 1 interrupted',
        'packet ee0000000001219a01',
        'arm 2000',
      ],
    ],
  ])('%s', (_name, state, inputs, expected) => {
    expect(run(state, inputs).out).toEqual(expected);
  });

  it('toggle flips per acknowledged packet, never on resend (§1.5)', () => {
    let { state } = run(fresh(), [send('20'), { type: 'nak' }]);
    expect(state.txToggle).toBe(0);
    ({ state } = run(state, [{ type: 'ack' }]));
    expect(state.txToggle).toBe(1);
    const next = run(state, [send('21')]);
    expect(next.out[0]).toBe(`packet ${encodePacket(0x20, 0, Buffer.of(0x21)).toString('hex')}`);
  });

  it('multi-packet send: C0|t seq n-1, then 80|t counting down, one ACK each (§1.6)', () => {
    const message = Buffer.alloc(130, 0xab); // 56 data bytes per 64-byte packet -> 3 packets
    const { out, state } = run(fresh({ packetSize: 64, maxPackets: 3 }), [
      { type: 'send', message },
      { type: 'ack' },
      { type: 'ack' },
      { type: 'ack' },
    ]);
    expect(out).toEqual([
      `packet ${encodePacket(0xc0, 2, message.subarray(0, 56)).toString('hex')}`,
      'arm 2000',
      'stop',
      `packet ${encodePacket(0xa0, 1, message.subarray(56, 112)).toString('hex')}`,
      'arm 2000',
      'stop',
      `packet ${encodePacket(0x80, 0, message.subarray(112)).toString('hex')}`,
      'arm 2000',
      'stop',
      'sent 1',
    ]);
    expect(state.txToggle).toBe(1);
  });

  it('a packet from the peer while waiting for the last ACK implies it; mid-message it interrupts', () => {
    const reply = pkt(0x00, 0, [0x00]);
    expect(run(fresh(), [send('20'), rx(reply)]).out).toEqual([
      `packet ${IDENT}`,
      'arm 2000',
      'stop',
      'sent 1 implicit',
      'ack',
      'deliver 00',
    ]);
    const multi = run(fresh({ packetSize: 16, maxPackets: 4 }), [send('00'.repeat(20)), rx(reply)]);
    expect(multi.out.slice(2)).toEqual(['stop', 'failed 1 interrupted', 'ack', 'deliver 00']);
  });

  it('reset: outstanding send fails, toggles back to 0', () => {
    const { state, out } = run(fresh(), [send('20'), { type: 'ack' }, send('21'), { type: 'reset' }]);
    expect(out.slice(-2)).toEqual(['stop', 'failed 2 reset']);
    expect(state.txToggle).toBe(0);
    expect(state.tx).toBeUndefined();
  });
});

describe('C12.18 link: receiving', () => {
  const ident = pkt(0x00, 0, [0x20]);

  it.each<[string, Partial<LinkConfig>, LinkInput[], string[]]>([
    ['a good packet is ACKed and delivered', {}, [rx(ident)], ['ack', 'deliver 20']],
    ['a bad CRC is NAKed', {}, [{ type: 'corrupt' }], ['nak']],
    [
      'same toggle and CRC again: duplicate, ACKed and dropped (§1.5)',
      {},
      [rx(ident), rx(ident)],
      ['ack', 'deliver 20', 'ack', 'duplicate'],
    ],
    [
      'same data with the other toggle is new',
      {},
      [rx(ident), rx(pkt(0x20, 0, [0x20]))],
      ['ack', 'deliver 20', 'ack', 'deliver 20'],
    ],
    [
      'same toggle, other CRC: accepted when the toggle is not checked (meter, T)',
      {},
      [rx(ident), rx(pkt(0x00, 0, [0x21]))],
      ['ack', 'deliver 20', 'ack', 'deliver 21'],
    ],
    [
      'same toggle, other CRC: out of sequence when checked (M CheckIncomingToggleBit)',
      { checkRxToggle: true },
      [rx(ident), rx(pkt(0x00, 0, [0x21]))],
      ['ack', 'deliver 20', 'ack', 'rxError toggle 1'],
    ],
    [
      'multi-packet: C0 seq 2, A0 seq 1, 80 seq 0 -> one message (§1.6)',
      { maxPackets: 3 },
      [rx(pkt(0xc0, 2, [1, 2])), rx(pkt(0xa0, 1, [3])), rx(pkt(0x80, 0, [4]))],
      ['ack', 'ack', 'ack', 'deliver 01020304'],
    ],
    [
      'multi-packet with a gap in seq: every packet ACKed, message dropped (M retries the request)',
      { maxPackets: 3 },
      [rx(pkt(0xc0, 2, [1])), rx(pkt(0xa0, 0, [3]))],
      ['ack', 'ack', 'rxError sequence 2'],
    ],
    ['a later packet with no first one: orphan', {}, [rx(pkt(0x80, 0, [9]))], ['ack', 'rxError orphan 1']],
    [
      'a new message abandons an unfinished one',
      { maxPackets: 3 },
      [rx(pkt(0xc0, 2, [1])), rx(pkt(0x20, 0, [0x20]))],
      ['ack', 'ack', 'rxError abandoned 1', 'deliver 20'],
    ],
    [
      'a sender ignoring the negotiated limits is still understood, with warnings',
      { packetSize: 16, maxPackets: 1 },
      [rx(pkt(0xc0, 1, Buffer.alloc(9, 1))), rx(pkt(0xa0, 0, [2]))],
      ['ack', 'ack', `deliver ${'01'.repeat(9)}02 warn:packetSize,maxPackets`],
    ],
    [
      'strict limits refuse such a message',
      { packetSize: 16, maxPackets: 1, strictRxLimits: true },
      [rx(pkt(0xc0, 1, Buffer.alloc(9, 1))), rx(pkt(0xa0, 0, [2]))],
      ['ack', 'ack', 'rxError limits 2'],
    ],
    [
      'a message beyond the hard cap is dropped',
      { maxMessage: 4, maxPackets: 3 },
      [rx(pkt(0xc0, 1, [1, 2, 3])), rx(pkt(0xa0, 0, [4, 5]))],
      ['ack', 'ack', 'rxError tooLarge 2'],
    ],
  ])('%s', (_name, cfg, inputs, expected) => {
    expect(run(fresh(cfg), inputs).out).toEqual(expected);
  });

  it('reset and forgetRx drop the duplicate memory; forgetRx keeps the send toggle', () => {
    const { state } = run(fresh(), [send('20'), { type: 'ack' }, rx(ident)]);
    expect(state.lastRx).toEqual({ toggle: 0, crc: ident.crc });
    const forgot = run(state, [{ type: 'forgetRx' }, rx(ident)]);
    expect(forgot.out).toEqual(['ack', 'deliver 20']);
    expect(forgot.state.txToggle).toBe(1);
    const reset = run(state, [{ type: 'reset' }, rx(ident)]);
    expect(reset.out).toEqual(['ack', 'deliver 20']);
    expect(reset.state.txToggle).toBe(0);
  });

  it('a duplicate while waiting for our ACK leaves the transfer outstanding', () => {
    const { state } = run(fresh(), [rx(ident), send('00')]);
    const dup = run(state, [rx(ident)]);
    expect(dup.out).toEqual(['ack', 'duplicate']);
    expect(dup.state.tx).toBeDefined();
  });

  it('configure changes the limits used for the next message', () => {
    const { state } = run(fresh(), [{ type: 'configure', packetSize: 512, maxPackets: 2 }]);
    expect([state.config.packetSize, state.config.maxPackets]).toEqual([512, 2]);
    expect(run(state, [send('00'.repeat(1008))]).out[0]).toMatch(/^packet ee00c001/);
    expect(run(state, [send('00'.repeat(1009))]).out).toEqual(['failed 1 tooLarge']);
  });

  it('steps are pure: the input state is never changed', () => {
    const s0 = fresh({ maxPackets: 3 });
    const frozen = JSON.stringify(s0);
    linkStep(s0, { type: 'send', message: Buffer.alloc(10) });
    linkStep(s0, rx(pkt(0xc0, 2, [1])));
    expect(JSON.stringify(s0)).toBe(frozen);
  });
});
