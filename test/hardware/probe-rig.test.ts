/**
 * Probe handling in both clients, and the hardware suite's body (rig.ts), over an in-process
 * pty pair: the simulated meter listens on `pty:LINK?echo=peer` — its line sends every byte the
 * client writes straight back, as an optical head does — and the interrogator connects to
 * `pty:LINK?preset=optical-probe-rts-powered`, a preset whose probe echoes. Without echo
 * cancellation the C12.18 client would take its own echoed packets for answers.
 *
 * Every write of the client end is recorded with the line settings in force, so the phases are
 * checked byte by byte: C12.18 starts at 9600 8N1; mode E sends NULs, the request and the
 * option select at 300 Bd 7E1 and HDLC at 9600 8N1 (the rate the identification announced);
 * direct HDLC is 9600 8N1 throughout. A pty ignores the baud, so pacing is emulated (the pty
 * default) and the scenarios take their real line time.
 *
 * The same body then runs over `serial:` URIs on a virtual null-modem (two relayed ptys), the
 * path `npm run test:hardware` takes on two real adapters, and the CLI takes `?preset=`.
 */
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startSimulator } from '../../src/sim/simulator';
import { EchoCancelTransport } from '../../src/transport/line-echo';
import { listen } from '../../src/transport/open';
import { SerialTransport } from '../../src/transport/serial';
import type { LineSettings } from '../../src/transport/types';
import { cli, login } from '../e2e/helpers';
import { nextConnection } from '../transport/helpers';
import { RIG_SCENARIOS, rigPortsFromEnv, runRigScenario, serialRig, type RigEnds } from './rig';

const PRESET = 'optical-probe-rts-powered';

interface Sent {
  bytes: Buffer;
  line: string;
}

const fmt = (s: LineSettings): string =>
  `${s.baudRate} ${s.dataBits}${s.parity[0]!.toUpperCase()}${s.stopBits}`;

function recordClientWrites(): { sent: Sent[]; cancellers: Set<EchoCancelTransport>; restore: () => void } {
  const sent: Sent[] = [];
  const cancellers = new Set<EchoCancelTransport>();
  const original = SerialTransport.prototype.write;
  const spy = jest.spyOn(SerialTransport.prototype, 'write').mockImplementation(function (
    this: SerialTransport,
    data: Uint8Array,
  ) {
    sent.push({ bytes: Buffer.from(data), line: fmt(this.getLineSettings()) });
    return original.call(this, data);
  });
  const echoWrite = EchoCancelTransport.prototype.write;
  const echoSpy = jest.spyOn(EchoCancelTransport.prototype, 'write').mockImplementation(function (
    this: EchoCancelTransport,
    data: Uint8Array,
  ) {
    cancellers.add(this);
    return echoWrite.call(this, data);
  });
  return {
    sent,
    cancellers,
    restore: () => {
      spy.mockRestore();
      echoSpy.mockRestore();
    },
  };
}

/** Every byte the client sent came back and was stripped; none was missed. */
function expectEchoCancelled(rec: ReturnType<typeof recordClientWrites>): void {
  const total = rec.sent.reduce((n, s) => n + s.bytes.length, 0);
  const stats = [...rec.cancellers].map((c) => c.stats);
  expect(stats.length).toBeGreaterThan(0);
  expect(stats.reduce((n, s) => n + s.stripped, 0)).toBe(total);
  expect(stats.reduce((n, s) => n + s.missed, 0)).toBe(0);
}

/** The lines the bytes went out at, in order, with runs merged. */
function phases(sent: readonly Sent[]): string[] {
  const out: string[] = [];
  for (const s of sent) if (out[out.length - 1] !== s.line) out.push(s.line);
  return out;
}

function ptyRig(name: string): RigEnds {
  const link = join(tmpdir(), `smets1-rig-${process.pid}-${name}`);
  // The echo here is made by this process (the simulator's line), so under CI load it comes back
  // later than a probe's: allow it 2 s rather than the default 500 ms.
  return {
    meter: `pty:${link}?echo=peer`,
    client: (preset) => `pty:${link}?preset=${preset}&echowait=2000`,
  };
}

describe('the hardware suite body over a pty pair with an echoing line', () => {
  let rec: ReturnType<typeof recordClientWrites>;
  beforeEach(() => {
    rec = recordClientWrites();
  });
  afterEach(() => rec.restore());

  it('C12.18: starts at 9600 8N1, cancels the echo, reads and clears', async () => {
    const r = await runRigScenario(ptyRig('c1218'), RIG_SCENARIOS[0]!, PRESET);
    expect(r).toMatchObject({ cleared: true });
    expect(r.paymentCardId).toMatch(/^\d{19}$/);
    expect(rec.sent[0]!.bytes[0]).toBe(0xee);
    expect(phases(rec.sent)).toEqual(['9600 8N1']);
    expectEchoCancelled(rec);
  }, 60_000);

  it('C12.18 with echocancel=0 overriding the preset: its own echoed Ident is taken for the answer', async () => {
    const rig = ptyRig('c1218-no-cancel');
    const ends: RigEnds = { meter: rig.meter, client: (p) => `${rig.client(p)}&echocancel=0` };
    await expect(runRigScenario(ends, RIG_SCENARIOS[0]!, PRESET, 5_000)).rejects.toThrow(
      /ident: device answered/,
    );
    expect(rec.cancellers.size).toBe(0);
  }, 60_000);

  it('C12.18 holds the control lines of a DTR-powered probe (the client default RTS=1 DTR=0 would darken it)', async () => {
    const calls: { rts?: boolean; dtr?: boolean }[] = [];
    const set = SerialTransport.prototype.setControlLines;
    const spy = jest.spyOn(SerialTransport.prototype, 'setControlLines').mockImplementation(function (
      this: SerialTransport,
      lines,
    ) {
      calls.push({ ...lines });
      return set.call(this, lines);
    });
    try {
      await runRigScenario(ptyRig('c1218-dtr'), RIG_SCENARIOS[0]!, 'optical-probe-dtr-powered');
    } finally {
      spy.mockRestore();
    }
    // On serial: the transport sets them on open; on a pty (no rts/dtr params) only the client's
    // connect() does, and it sets what the preset says.
    expect(calls).toEqual([{ rts: false, dtr: true }]);
    expectEchoCancelled(rec);
  }, 60_000);

  it('DLMS mode E: wakes and signs on at 300 7E1, then HDLC at the announced 9600 8N1', async () => {
    const r = await runRigScenario(ptyRig('mode-e'), RIG_SCENARIOS[1]!, PRESET);
    expect(r.paymentCardId).toMatch(/^\d{19}$/);
    expect(phases(rec.sent)).toEqual(['300 7E1', '9600 8N1']);
    const signOn = Buffer.concat(rec.sent.filter((s) => s.line === '300 7E1').map((s) => s.bytes));
    // NULs to wake the battery meter, the request, the option select for mode E at '5' (9600).
    const text = signOn.toString('latin1').replace(/\0+/, '<NUL>');
    expect(text).toBe('<NUL>/?!\r\n\x06252\r\n');
    const hdlc = rec.sent.filter((s) => s.line === '9600 8N1');
    expect(hdlc[0]!.bytes[0]).toBe(0x7e);
    expectEchoCancelled(rec);
  }, 90_000);

  it('DLMS direct HDLC: 9600 8N1 throughout', async () => {
    const r = await runRigScenario(ptyRig('hdlc'), RIG_SCENARIOS[2]!, PRESET);
    expect(r.paymentCardId).toMatch(/^\d{19}$/);
    expect(phases(rec.sent)).toEqual(['9600 8N1']);
    expect(rec.sent[0]!.bytes[0]).toBe(0x7e);
    expectEchoCancelled(rec);
  }, 60_000);
});

/**
 * A virtual null-modem: two in-process ptys whose masters hand each other what their clients
 * write, paced at each client's baud. Their links stand in for two cross-wired adapters, so the
 * hardware suite's own path runs: the simulator on `serial:A`, the client on `serial:B?preset=`.
 * It checks the logic only; the UARTs, parity and modem lines are not there.
 */
async function nullModem(a: string, b: string): Promise<() => Promise<void>> {
  const la = await listen(`pty:${a}`);
  const lb = await listen(`pty:${b}`);
  const [ta, tb] = await Promise.all([nextConnection(la), nextConnection(lb)]);
  ta.on('data', (d) => void tb.write(d).catch(() => undefined));
  tb.on('data', (d) => void ta.write(d).catch(() => undefined));
  return async () => {
    await la.close();
    await lb.close();
  };
}

describe('the hardware suite body over serial: URIs on a virtual null-modem', () => {
  it.each(RIG_SCENARIOS.map((s, i) => [s.name, i] as const))(
    '%s',
    async (_name, i) => {
      const a = join(tmpdir(), `smets1-nm-a-${process.pid}-${i}`);
      const b = join(tmpdir(), `smets1-nm-b-${process.pid}-${i}`);
      const stop = await nullModem(a, b);
      try {
        const r = await runRigScenario(serialRig(a, b), RIG_SCENARIOS[i]!, 'ftdi');
        expect(r.paymentCardId).toMatch(/^\d{19}$/);
        expect(r.cleared).toBe(RIG_SCENARIOS[i]!.clear);
      } finally {
        await stop();
      }
    },
    90_000,
  );
});

describe('the simulator with ?preset= on its own port', () => {
  it.each(RIG_SCENARIOS.map((s, i) => [s.name, i] as const))(
    '%s: the meter side takes the preset phase of its stack',
    async (_name, i) => {
      const a = join(tmpdir(), `smets1-nmp-a-${process.pid}-${i}`);
      const b = join(tmpdir(), `smets1-nmp-b-${process.pid}-${i}`);
      const stop = await nullModem(a, b);
      try {
        const plain = serialRig(a, b);
        const ends = { ...plain, meter: `${plain.meter}?preset=ftdi` };
        const r = await runRigScenario(ends, RIG_SCENARIOS[i]!, 'ftdi');
        expect(r.paymentCardId).toMatch(/^\d{19}$/);
      } finally {
        await stop();
      }
    },
    90_000,
  );

  it('a wrapper profile on a serial port with a preset is refused, naming the missing resolver', async () => {
    await expect(
      startSimulator({
        profileId: 'generic-dlms-esme-v1',
        link: 'wrapper',
        listen: 'serial:/dev/null?preset=ftdi',
      }),
    ).rejects.toThrow(/preset/);
  });
});

describe('rigPortsFromEnv / serialRig', () => {
  it('says why the hardware suite skips', () => {
    expect(rigPortsFromEnv({})).toEqual({
      skip: expect.stringContaining('SMETS1_TEST_PORT_A / SMETS1_TEST_PORT_B not set'),
    });
    expect(rigPortsFromEnv({ SMETS1_TEST_PORT_A: '/dev/x', SMETS1_TEST_PORT_B: '/dev/x' })).toEqual({
      skip: expect.stringContaining('two ports are needed'),
    });
    expect(rigPortsFromEnv({ SMETS1_TEST_PORT_A: '/dev/a', SMETS1_TEST_PORT_B: '/dev/b' })).toEqual({
      a: '/dev/a',
      b: '/dev/b',
    });
  });

  it('names side A for the meter and side B with the preset for the client', () => {
    const r = serialRig('/dev/smets1-a', '/dev/serial/by-id/usb-FTDI_FT232R_A1#2');
    expect(r.meter).toBe('serial:/dev/smets1-a');
    expect(r.client('ftdi')).toBe('serial:/dev/serial/by-id/usb-FTDI_FT232R_A1%232?preset=ftdi');
  });
});

describe('the CLI with ?preset=', () => {
  let rec: ReturnType<typeof recordClientWrites>;
  beforeEach(() => {
    rec = recordClientWrites();
  });
  afterEach(() => rec.restore());

  it('interrogate over an echoing line with an echoing probe preset and --timeout', async () => {
    const rig = ptyRig('cli');
    const sim = await startSimulator({
      profileId: RIG_SCENARIOS[0]!.profileId,
      listen: rig.meter,
      card: 'SUPB',
    });
    try {
      const r = await cli(
        'interrogate',
        '--connect',
        rig.client(PRESET),
        ...login(RIG_SCENARIOS[0]!.profileId, 'privileged'),
        '--timeout',
        '8000',
        '--json',
      );
      expect(r.err).toBe('');
      expect(r.code).toBe(0);
      const doc = r.json<{ identity: { serial: string }; cardRecord: { paymentCardId: string } }>();
      expect(doc.identity.serial).toBe(sim.meter.readIdentity().serial);
      expect(doc.cardRecord.paymentCardId).toBe(sim.meter.readCardRecord()!.paymentCardId);
    } finally {
      await sim.close();
    }
  }, 60_000);

  it('interrogate a DLMS battery meter through an IEC head: mode E sign-on, echo cancelled', async () => {
    const rig = ptyRig('cli-dlms');
    const profileId = RIG_SCENARIOS[1]!.profileId;
    const sim = await startSimulator({ profileId, listen: rig.meter, card: 'SUPB' });
    try {
      const r = await cli(
        'interrogate',
        '--connect',
        rig.client('iec-optical-probe'),
        '--profile',
        profileId,
        '--association',
        'reader',
        '--profile-secrets',
        '--timeout',
        '10000',
        '--json',
      );
      expect(r.code).toBe(0);
      const doc = r.json<{ session: { protocol: string }; identity: { serial: string } }>();
      expect(doc.session.protocol).toBe('DLMS/COSEM LN, IEC 62056-21 mode E + HDLC');
      expect(doc.identity.serial).toBe(sim.meter.readIdentity().serial);
      expect(phases(rec.sent)).toEqual(['300 7E1', '9600 8N1']);
      expectEchoCancelled(rec);
    } finally {
      await sim.close();
    }
  }, 60_000);

  it('an unknown preset is a usage error (exit 2) listing the known presets', async () => {
    const r = await cli(
      'interrogate',
      '--connect',
      'serial:/dev/ttyUSB9?preset=no-such-probe',
      ...login(RIG_SCENARIOS[0]!.profileId, 'reader'),
    );
    expect(r.code).toBe(2);
    expect(r.err).toContain(
      'unknown hardware preset "no-such-probe"; known presets: ansi-c12-optical-probe, ch340,',
    );
  });
});
