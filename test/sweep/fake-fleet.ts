/**
 * A fleet of in-memory fake meters behind a farm manifest, for sweep engine tests: the
 * manifest comes from the farm's real generator (profiles built in code), each meter is the
 * migration tests' FakeMeter (test/migration/fake-session.ts), and the session factory checks
 * the logon secret like a meter would, counts open sessions and yields to the event loop on
 * every operation so that concurrent flows really interleave.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ManualClock } from '../../src/core/clock';
import { ErrorCode, SimError } from '../../src/core/errors';
import { DEFAULT_BEHAVIOUR } from '../../src/device/behaviour';
import { staticProfileResolver, type FarmProfile } from '../../src/farm/farm-profile';
import { validateFleetSpec } from '../../src/farm/fleet-spec';
import { generateFleet, type MeterSpec } from '../../src/farm/generator';
import { manifestFromPlan, type Manifest } from '../../src/farm/manifest';
import { parseEligibleProducts } from '../../src/migration/eligible-products';
import type { MeterSession } from '../../src/migration/session';
import type { LogonCredential, SweepSessionFactory } from '../../src/sweep/session-source';
import { FakeMeter } from '../migration/fake-session';

export const ESME: FarmProfile = {
  id: 'sweep-esme',
  deviceType: 'ESME',
  identity: {
    manufacturer: 'Secure',
    model: 'Liberty 100',
    applicationFirmwareId: 'P4X2G04',
    metrologyFirmwareId: 'B2-00',
    serialPrefix: 'SL',
  },
  accessLevels: [
    { name: 'reader', userId: 0, secretHex: '00'.repeat(20) },
    // "SMSO-PRIVILEGED-0001": printable, as the shipped profiles' privileged password.
    { name: 'privileged', userId: 1, secretHex: Buffer.from('SMSO-PRIVILEGED-0001').toString('hex') },
    { name: 'engineering', userId: 2, secretHex: '303030303030' },
  ],
  issuerPrefixes: { SUPA: '9826176001', SUPB: '9826176066' },
  behaviour: DEFAULT_BEHAVIOUR,
};

export const GSME: FarmProfile = {
  ...ESME,
  id: 'sweep-gsme',
  deviceType: 'GSME',
  identity: { ...ESME.identity, model: 'Liberty 110', applicationFirmwareId: 'G1X2G01', serialPrefix: 'SG' },
};

/** MA110 list holding both fake products: MA110 passes, so MA516/MA517 are seen alone. */
export const PRODUCTS = parseEligibleProducts(
  [
    'id: sweep-test',
    'products:',
    '  - { manufacturer: Secure, model: Liberty 100, firmware: P4X2G04, deviceType: ESME }',
    '  - { manufacturer: Secure, model: Liberty 110, firmware: G1X2G01, deviceType: GSME }',
  ].join('\n'),
  'sweep-test-products.yaml',
);

/**
 * 60 meters: 30 MOC Secure ESMEs (20% foreign cards), 20 MOC Secure GSMEs (30% foreign),
 * 10 IOC ESMEs (50% foreign: never checked by MA516, which is scoped to MOC Secure).
 */
export function testManifest(seed = 'sweep-seed-1', counts = { moce: 30, mocg: 20, ioc: 10 }): Manifest {
  const spec = validateFleetSpec({
    fleet: 'sweep-test',
    seed,
    groups: [
      {
        name: 'moc-esme',
        profile: 'sweep-esme',
        count: counts.moce,
        transport: { kind: 'mem', namePattern: 'sweep-{id}' },
        cohort: 'MOC Secure',
        suppliers: [{ id: 'SUPA', weight: 2 }, { id: 'SUPB' }],
        foreignCardShare: 0.2,
        noCardShare: 0.1,
      },
      {
        name: 'moc-gsme',
        profile: 'sweep-gsme',
        count: counts.mocg,
        transport: { kind: 'mem', namePattern: 'sweep-{id}' },
        cohort: 'MOC Secure',
        suppliers: [{ id: 'SUPA' }, { id: 'SUPB' }],
        foreignCardShare: 0.3,
      },
      {
        name: 'ioc-esme',
        profile: 'sweep-esme',
        count: counts.ioc,
        transport: { kind: 'mem', namePattern: 'sweep-{id}' },
        cohort: 'IOC',
        suppliers: [{ id: 'SUPA' }, { id: 'SUPB' }],
        foreignCardShare: 0.5,
      },
    ],
  });
  return manifestFromPlan(generateFleet(spec, staticProfileResolver([ESME, GSME])));
}

/** What the seed implies: meters MA516 / MA517 must block under mehrs-5.0. */
export function expectedBlocked(m: Manifest): { MA516: string[]; MA517: string[] } {
  const foreignMoc = (t: string): string[] =>
    m.meters
      .filter((x) => x.deviceType === t && x.cohort === 'MOC Secure' && x.card?.foreign === true)
      .map((x) => x.id);
  return { MA516: foreignMoc('ESME'), MA517: foreignMoc('GSME') };
}

const tick = (): Promise<void> => new Promise((r) => setImmediate(r));

export class FakeFleet {
  readonly meters = new Map<string, FakeMeter>();
  /** Meters that refuse every connection (a dead line). */
  readonly unreachable = new Set<string>();
  open = 0;
  maxOpen = 0;
  logons = 0;
  failedLogons = 0;
  /** Every logon attempt: meter id and the secret's hex. */
  readonly attempts: { meterId: string; level: string; secretHex: string }[] = [];

  constructor(
    manifest: Manifest,
    readonly clock = new ManualClock(Date.UTC(2026, 2, 1)),
  ) {
    for (const spec of manifest.meters) this.meters.set(spec.id, this.meterFor(spec));
  }

  private meterFor(spec: MeterSpec): FakeMeter {
    return new FakeMeter(
      {
        identity: { ...spec.identity, metrologyFirmwareId: spec.identity.metrologyFirmwareId || null },
        registration: {
          mpxn: spec.registration.mpxn,
          supplierId: spec.registration.supplierId,
          siteId: spec.registration.siteId,
        },
        card: spec.card
          ? {
              paymentCardId: spec.card.paymentCardId,
              issuerSupplierId: spec.card.issuerSupplierId,
              registeredAt: null,
            }
          : null,
        prepayment: {
          paymentMode: 'prepayment',
          balancePence: 1000,
          emergencyCreditPence: 0,
          emergencyCreditActive: false,
          debtPence: 0,
          lastVendAt: null,
        },
        migration: { state: 'smso-managed' },
        secrets: Object.fromEntries(spec.credentials.map((c) => [c.level, c.secretHex])),
        clockOffsetMs: 0,
        events: [],
      },
      this.clock,
    );
  }

  meter(id: string): FakeMeter {
    const m = this.meters.get(id);
    if (!m) throw new Error(`no fake meter ${id}`);
    return m;
  }

  readonly factory: SweepSessionFactory = async (spec: MeterSpec, logon: LogonCredential) => {
    await tick();
    const secretHex = Buffer.from(logon.secret).toString('hex');
    this.attempts.push({ meterId: spec.id, level: logon.level, secretHex });
    if (this.unreachable.has(spec.id))
      throw new SimError(ErrorCode.TransportConnectionRefused, `connect ${spec.endpoint.connect}: refused`);
    const meter = this.meter(spec.id);
    if (meter.state.secrets[logon.level] !== secretHex) {
      this.failedLogons++;
      throw new SimError(ErrorCode.SessionAuthFailed, `${spec.id}: wrong password for ${logon.level}`);
    }
    this.logons++;
    this.open++;
    this.maxOpen = Math.max(this.maxOpen, this.open);
    const s = meter.session();
    let closed = false;
    const slow =
      <A extends unknown[], R>(f: (...a: A) => Promise<R>) =>
      async (...a: A): Promise<R> => {
        await tick();
        return f(...a);
      };
    const session: MeterSession = {
      identify: slow(() => s.identify()),
      readIdentity: slow(() => s.readIdentity()),
      readRegistration: slow(() => s.readRegistration()),
      readCardRecord: slow(() => s.readCardRecord()),
      clearCardData: slow(() => s.clearCardData()),
      readPrepaymentSummary: slow(() => s.readPrepaymentSummary()),
      readMigrationState: slow(() => s.readMigrationState()),
      readClock: slow(() => s.readClock()),
      migrate: slow((r) => s.migrate(r)),
      readEventLog: slow((n: number) => s.readEventLog(n)),
      close: async () => {
        if (!closed) {
          closed = true;
          this.open--;
        }
        await s.close();
      },
    };
    return session;
  };
}

export function tempDir(prefix: string): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/**
 * A ManualClock whose sleeps move time forward by themselves (one event-loop turn later):
 * retry back-off runs instantly and deterministically, with no real time and no fake timers.
 */
export class SteppingClock extends ManualClock {
  override sleep(ms: number): Promise<void> {
    const p = super.sleep(ms);
    setImmediate(() => this.advance(ms));
    return p;
  }
}
