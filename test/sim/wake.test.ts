/**
 * Battery wake-up (src/sim/wake.ts): the pure state machine as a transition table, then a
 * simulated GSME (shipped profile: awake 30 s, woken by optical activity, the button or 0x55)
 * over an in-memory link on a ManualClock.
 */
import { ManualClock } from '../../src/core/clock';
import { ErrorCode, SimError } from '../../src/core/errors';
import { C1218Client } from '../../src/protocols/c1218/client';
import { startSimulator } from '../../src/sim/simulator';
import {
  ASLEEP,
  wakeStep,
  type WakeConfig,
  type WakeInput,
  type WakeState,
  type WakeStep,
} from '../../src/sim/wake';
import { connect } from '../../src/transport/open';
import { GSME, START, drive } from './helpers';

const GAS: WakeConfig = {
  awakeMs: 30_000,
  sleepMs: 3_600_000,
  wakeOn: ['optical-activity', 'button', 'wake-byte'],
  wakeByte: 0x55,
};
const BYTE_ONLY: WakeConfig = { ...GAS, wakeOn: ['wake-byte'] };
const SCHEDULED: WakeConfig = { awakeMs: 1000, sleepMs: 10_000, wakeOn: ['schedule'] };
const AWAKE_UNTIL_1000: WakeState = { awake: true, deadline: 1000 };
const IDENT = Buffer.from([0xee, 0x00, 0x00, 0x00, 0x00, 0x01, 0x20, 0x13, 0x10]); // docs/c1218.md §1.3

const table: [string, WakeConfig, WakeState, WakeInput, WakeStep][] = [
  [
    'start, no schedule: asleep, no timer',
    GAS,
    ASLEEP,
    { type: 'start', now: 0 },
    { state: ASLEEP, effects: [] },
  ],
  [
    'start, scheduled: asleep until the next wake-up',
    SCHEDULED,
    ASLEEP,
    { type: 'start', now: 0 },
    { state: { awake: false, deadline: 10_000 }, effects: [{ type: 'arm', ms: 10_000 }] },
  ],
  [
    'asleep, any byte (optical activity): wakes, the bytes are lost',
    GAS,
    ASLEEP,
    { type: 'bytes', data: IDENT, now: 5 },
    {
      state: { awake: true, deadline: 30_005 },
      effects: [
        { type: 'drop', bytes: 9 },
        { type: 'woke', by: 'optical-activity' },
        { type: 'arm', ms: 30_000 },
      ],
    },
  ],
  [
    'asleep, 0x55 then a packet in one chunk: wakes, the packet is received',
    GAS,
    ASLEEP,
    { type: 'bytes', data: Buffer.concat([Buffer.of(0x55), IDENT]), now: 0 },
    {
      state: { awake: true, deadline: 30_000 },
      effects: [
        { type: 'woke', by: 'wake-byte' },
        { type: 'arm', ms: 30_000 },
        { type: 'deliver', data: IDENT },
      ],
    },
  ],
  [
    'asleep, wake-byte only, other bytes: ignored, still asleep',
    BYTE_ONLY,
    ASLEEP,
    { type: 'bytes', data: IDENT, now: 0 },
    { state: ASLEEP, effects: [{ type: 'drop', bytes: 9 }] },
  ],
  [
    'awake, bytes: received, awake window extended',
    GAS,
    AWAKE_UNTIL_1000,
    { type: 'bytes', data: IDENT, now: 500 },
    { state: { awake: true, deadline: 30_500 }, effects: [{ type: 'deliver', data: IDENT }] },
  ],
  [
    'awake, timer before the deadline: re-armed for the rest',
    GAS,
    { awake: true, deadline: 30_500 },
    { type: 'timer', now: 30_000 },
    { state: { awake: true, deadline: 30_500 }, effects: [{ type: 'arm', ms: 500 }] },
  ],
  [
    'awake, timer at the deadline: asleep',
    GAS,
    AWAKE_UNTIL_1000,
    { type: 'timer', now: 1000 },
    { state: ASLEEP, effects: [{ type: 'slept' }] },
  ],
  [
    'awake, scheduled, deadline: asleep until the next scheduled wake-up',
    SCHEDULED,
    AWAKE_UNTIL_1000,
    { type: 'timer', now: 1000 },
    { state: { awake: false, deadline: 11_000 }, effects: [{ type: 'slept' }, { type: 'arm', ms: 10_000 }] },
  ],
  [
    'asleep, scheduled wake-up due: awake',
    SCHEDULED,
    { awake: false, deadline: 10_000 },
    { type: 'timer', now: 10_000 },
    {
      state: { awake: true, deadline: 11_000 },
      effects: [
        { type: 'woke', by: 'schedule' },
        { type: 'arm', ms: 1000 },
      ],
    },
  ],
  [
    'asleep, button: awake',
    GAS,
    ASLEEP,
    { type: 'button', now: 7 },
    {
      state: { awake: true, deadline: 30_007 },
      effects: [
        { type: 'woke', by: 'button' },
        { type: 'arm', ms: 30_000 },
      ],
    },
  ],
  [
    'asleep, button not a wake source: nothing',
    SCHEDULED,
    ASLEEP,
    { type: 'button', now: 7 },
    { state: ASLEEP, effects: [] },
  ],
  [
    'awake, the meter sends: the window runs from the send',
    GAS,
    AWAKE_UNTIL_1000,
    { type: 'sent', now: 900 },
    { state: { awake: true, deadline: 30_900 }, effects: [] },
  ],
  ['asleep, a send changes nothing', GAS, ASLEEP, { type: 'sent', now: 900 }, { state: ASLEEP, effects: [] }],
];

describe('wakeStep transition table', () => {
  it.each(table)('%s', (_name, config, state, input, expected) => {
    expect(wakeStep(config, state, input)).toEqual(expected);
  });
});

describe('a simulated battery GSME over mem:', () => {
  it('ignores the first Ident while asleep, answers the link retry; sleeps again after 30 s idle', async () => {
    const clock = new ManualClock(START);
    const sim = await startSimulator({ profileId: GSME, listen: 'mem:wake-gsme-1', clock });
    try {
      const t = await connect('mem:wake-gsme-1', { clock });
      const client = new C1218Client(t, { clock, timers: { ackTimeoutMs: 2000 } });
      const trace: string[] = [];
      client.link.on('wire', (ev) => trace.push(`${ev.dir} ${ev.kind}`));
      const ident = await drive(clock, client.ident());
      expect(ident).toEqual({ std: 0, version: 1, revision: 0, features: [] });
      // Sent twice: the first woke the meter and was lost, the link resent it after 2 s.
      expect(trace.filter((x) => x === 'tx packet' || x === 'tx retransmit')).toEqual([
        'tx packet',
        'tx retransmit',
      ]);
      await drive(clock, client.terminate());
      // The ACK of the Terminate response is the last byte of the session (it may be held to
      // the end of the event-loop turn, LinkDriverOptions.coalesceAcks).
      await client.link.flush();

      expect(sim.isAwake()).toBe(true);
      await clock.advanceAsync(31_000, 1000);
      expect(sim.isAwake()).toBe(false);
      const c2 = new C1218Client(t, { clock, wakeUp: true, maxTries: 1 });
      client.close();
      await drive(clock, c2.connect());
      // With the 0x55 wake-up first (MeteringSDK), the first Ident is answered.
      expect((await drive(clock, c2.ident())).std).toBe(0);
      c2.close();
      await t.close();
    } finally {
      await sim.close();
    }
  });

  it('without a wake-up the sleeping meter does not answer a single try', async () => {
    const clock = new ManualClock(START);
    const sim = await startSimulator({ profileId: GSME, listen: 'mem:wake-gsme-2', clock });
    try {
      const t = await connect('mem:wake-gsme-2', { clock });
      const client = new C1218Client(t, { clock, maxTries: 1, responseTimeoutMs: 3000 });
      const e = await drive(clock, client.ident()).catch((x: unknown) => x);
      expect(e).toBeInstanceOf(SimError);
      expect([ErrorCode.LinkRetriesExhausted, ErrorCode.LinkTimeout]).toContain((e as SimError).code);
      // The button wakes it: now a single try is answered.
      sim.pressButton();
      expect((await drive(clock, client.ident())).std).toBe(0);
      client.close();
      await t.close();
    } finally {
      await sim.close();
    }
  });
});
