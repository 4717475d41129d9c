/**
 * The body of the hardware-in-the-loop suite (`npm run test:hardware`, test-hardware/): a
 * simulated meter on side A, the interrogator on side B with `?preset=NAME`, over both stacks at
 * the real line speeds —
 *   C12.18 at 9600 8N1 (Ident, Negotiate, Logon, Security, table reads, a card clear),
 *   DLMS behind IEC 62056-21 mode E (a battery meter woken by NULs, sign-on at 300 Bd 7E1, then
 *   HDLC at the rate the identification announced),
 *   DLMS over HDLC directly at 9600 8N1.
 * Each scenario reads the identity and the card record and checks them against the simulated
 * meter's own state. The body takes the two ends as URIs, so test/hardware/probe-rig.test.ts
 * runs it over an in-process pty pair (with a peer echo standing in for an optical head), and
 * test-hardware/ over two cross-wired adapters.
 */
import { openC1218Session } from '../../src/migration/sessions/c1218-session';
import { dlmsCredentialsFor, openDlmsSession } from '../../src/migration/sessions/dlms-session';
import type { MeterSession } from '../../src/migration/session';
import { secretBytes } from '../../src/profiles/device-binding';
import { loadProfile } from '../../src/profiles/loader';
import { startSimulator } from '../../src/sim/simulator';

export interface RigEnds {
  /** Side A, where the simulated meter listens: `serial:/dev/ttyUSB0`, `pty:/tmp/x?echo=peer`. */
  meter: string;
  /** Side B, the interrogator's URI for a preset: `serial:/dev/ttyUSB1?preset=NAME`. */
  client: (preset: string) => string;
}

export interface RigScenario {
  name: string;
  profileId: string;
  stack: 'c1218' | 'dlms';
  /** C12.18 access level or DLMS association to log on as. */
  as: string;
  /** Also clear the card (a write and a procedure on the wire). */
  clear: boolean;
}

export const RIG_SCENARIOS: readonly RigScenario[] = [
  {
    name: 'C12.18 at 9600 8N1',
    profileId: 'secure-liberty100-esme-p4x2g04',
    stack: 'c1218',
    as: 'privileged',
    clear: true,
  },
  {
    name: 'DLMS via IEC 62056-21 mode E (300 Bd 7E1, then the announced rate)',
    profileId: 'generic-dlms-gsme-v1',
    stack: 'dlms',
    as: 'reader',
    clear: false,
  },
  {
    name: 'DLMS over direct HDLC at 9600 8N1',
    profileId: 'generic-dlms-esme-v1',
    stack: 'dlms',
    as: 'reader',
    clear: false,
  },
];

export interface RigOutcome {
  scenario: string;
  serial: string;
  paymentCardId: string | null;
  cleared: boolean;
  ms: number;
}

function openSession(s: RigScenario, connect: string, timeoutMs: number): Promise<MeterSession> {
  const profile = loadProfile(s.profileId).profile;
  const secretOf = (name: string): Buffer => {
    const level = profile.accessLevels.find((l) => l.name === name);
    if (!level) throw new Error(`${s.profileId} has no access level ${name}`);
    return secretBytes(level);
  };
  if (s.stack === 'c1218') {
    return openC1218Session({
      connect,
      profile,
      credentials: { level: s.as, secret: secretOf(s.as) },
      client: { responseTimeoutMs: timeoutMs },
    });
  }
  return openDlmsSession({
    connect,
    profile,
    credentials: dlmsCredentialsFor(profile, s.as, secretOf),
    timeoutMs,
  });
}

/**
 * Run one scenario: start the simulator on `ends.meter`, interrogate over `ends.client(preset)`,
 * compare with the meter's state, stop. Throws on any difference.
 */
export async function runRigScenario(
  ends: RigEnds,
  s: RigScenario,
  preset: string,
  timeoutMs = 20_000,
): Promise<RigOutcome> {
  const started = Date.now();
  const sim = await startSimulator({ profileId: s.profileId, listen: ends.meter, card: 'SUPB' });
  try {
    const want = sim.meter.readCardRecord();
    if (!want) throw new Error('the simulated meter holds no card record');
    const session = await openSession(s, ends.client(preset), timeoutMs);
    let serial: string;
    let paymentCardId: string | null;
    let cleared = false;
    try {
      serial = (await session.readIdentity()).value.serial;
      paymentCardId = (await session.readCardRecord()).value?.paymentCardId ?? null;
      if (s.clear) cleared = (await session.clearCardData()).value.cleared;
    } finally {
      await session.close();
    }
    const identity = sim.meter.readIdentity();
    if (serial !== identity.serial)
      throw new Error(`${s.name}: read serial ${serial}, the meter holds ${identity.serial}`);
    if (paymentCardId !== want.paymentCardId)
      throw new Error(`${s.name}: read card ${paymentCardId}, the meter holds ${want.paymentCardId}`);
    if (s.clear && (!cleared || sim.meter.readCardRecord() !== null))
      throw new Error(`${s.name}: the clear did not reach the meter`);
    return { scenario: s.name, serial, paymentCardId, cleared, ms: Date.now() - started };
  } finally {
    await sim.close();
  }
}

/** The two cross-wired ports named by the environment, or why the suite cannot run. */
export function rigPortsFromEnv(
  env: NodeJS.ProcessEnv = process.env,
): { a: string; b: string } | { skip: string } {
  const a = env['SMETS1_TEST_PORT_A'];
  const b = env['SMETS1_TEST_PORT_B'];
  if (!a || !b)
    return {
      skip:
        'SMETS1_TEST_PORT_A / SMETS1_TEST_PORT_B not set: the hardware suite needs two cross-wired ' +
        'serial ports (hardware/null-modem-bench.md)',
    };
  if (a === b)
    return { skip: `SMETS1_TEST_PORT_A and SMETS1_TEST_PORT_B are both ${a}: two ports are needed` };
  return { a, b };
}

/** A device path as a URI path: every segment percent-encoded, the slashes kept. */
function uriPath(p: string): string {
  return p.split('/').map(encodeURIComponent).join('/');
}

/** Side A and side B of a bench of two cross-wired adapters. */
export function serialRig(a: string, b: string): RigEnds {
  return {
    meter: `serial:${uriPath(a)}`,
    client: (preset) => `serial:${uriPath(b)}?preset=${preset}`,
  };
}
