/**
 * An in-memory meter and a MeterSession over it, for migration tests. The meter counts every
 * operation and takes scripted faults per operation:
 *   { before: SimError }  the request fails before the meter acts (timeout, bsy, refused);
 *   { after: SimError }   the meter acts, then the answer is lost (the classic double-effect trap);
 *   { crash: true }       the meter acts, then the client process "dies" (a plain Error).
 * Evidence mimics a C12.19 manufacturer-table view (MTn = 2048 + n; docs/c1218.md §5, modelled).
 */

import { ErrorCode, SimError } from '../../src/core/errors';
import type { Clock } from '../../src/core/clock';
import type {
  CardRecord,
  ClearResult,
  DeviceIdentity,
  Evidence,
  MeterEvent,
  MeterRegistration,
  MeterSession,
  MigrateRequest,
  MigrationState,
  PrepaymentSummary,
  Reading,
  SessionIdentification,
} from '../../src/migration/session';

export type Op =
  | 'identify'
  | 'readIdentity'
  | 'readRegistration'
  | 'readCardRecord'
  | 'clearCardData'
  | 'readPrepaymentSummary'
  | 'readMigrationState'
  | 'readClock'
  | 'migrate'
  | 'readEventLog';

export type Fault = { before: SimError } | { after: SimError } | { crash: true };

export class SimulatedCrash extends Error {
  constructor(where: string) {
    super(`simulated crash ${where}`);
  }
}

export interface FakeMeterState {
  identity: DeviceIdentity;
  registration: MeterRegistration;
  card: CardRecord | null;
  prepayment: PrepaymentSummary;
  migration: MigrationState;
  /** Access level -> secret hex. */
  secrets: Record<string, string>;
  clockOffsetMs: number;
  events: MeterEvent[];
}

const hex = (s: string): string => Buffer.from(s, 'utf8').toString('hex');

export class FakeMeter {
  readonly calls: Record<Op, number> = {
    identify: 0,
    readIdentity: 0,
    readRegistration: 0,
    readCardRecord: 0,
    clearCardData: 0,
    readPrepaymentSummary: 0,
    readMigrationState: 0,
    readClock: 0,
    migrate: 0,
    readEventLog: 0,
  };
  /** Effective state changes (a migrate or clear that changed something). */
  readonly effects: string[] = [];
  private readonly faults = new Map<Op, Fault[]>();
  /** Operations that always fail with this data fault (e.g. access denied). */
  readonly refuse = new Map<Op, SimError>();
  sessionsOpened = 0;

  constructor(
    public state: FakeMeterState,
    private readonly clock: Clock,
  ) {}

  inject(op: Op, ...faults: Fault[]): this {
    this.faults.set(op, [...(this.faults.get(op) ?? []), ...faults]);
    return this;
  }

  private nextFault(op: Op): Fault | undefined {
    return this.faults.get(op)?.shift();
  }

  private event(type: string, actor: string | null, data: MeterEvent['data'] = {}): void {
    const seq = this.state.events.length + 1;
    this.state.events.push({ seq, at: new Date(this.meterNow()).toISOString(), type, actor, data });
  }

  meterNow(): number {
    return this.clock.now() + this.state.clockOffsetMs;
  }

  /** Run one operation with its scripted fault. */
  async op<T>(op: Op, act: () => Reading<T>): Promise<Reading<T>> {
    this.calls[op]++;
    const refused = this.refuse.get(op);
    if (refused) throw refused;
    const fault = this.nextFault(op);
    if (fault && 'before' in fault) throw fault.before;
    const r = act();
    if (fault && 'after' in fault) throw fault.after;
    if (fault && 'crash' in fault) throw new SimulatedCrash(`after ${op}`);
    return Promise.resolve(r);
  }

  migrateNow(req: MigrateRequest): MigrationState {
    if (this.state.migration.state === 'migrated') {
      throw new SimError(ErrorCode.DeviceStateConflict, 'already migrated');
    }
    this.state.migration = { state: 'migrated', at: new Date(req.at).toISOString(), by: req.migratedBy };
    this.state.secrets = Object.fromEntries(
      req.credentials.map((c) => [c.level, Buffer.from(c.secret).toString('hex')]),
    );
    this.effects.push('migrate');
    this.event('migrated', req.migratedBy);
    return this.state.migration;
  }

  clearNow(): boolean {
    const had = this.state.card !== null || this.state.registration.siteId !== null;
    this.state.card = null;
    this.state.registration = { ...this.state.registration, siteId: null };
    if (had) {
      this.effects.push('clear');
      this.event('card-cleared', null);
    }
    return had;
  }

  session(): FakeSession {
    this.sessionsOpened++;
    return new FakeSession(this);
  }
}

/** Field evidence as a manufacturer-table read: MT1 identity, MT2 registration, MT3 card (modelled). */
const table = (n: number, text: string): Evidence[] => [
  { kind: 'c1219-table', op: 'read', tableId: 2048 + n, bytes: hex(text) },
];

export class FakeSession implements MeterSession {
  closed = false;

  constructor(private readonly meter: FakeMeter) {}

  private check(): void {
    if (this.closed) throw new SimError(ErrorCode.SessionClosed, 'session closed');
  }

  identify(): Promise<Reading<SessionIdentification>> {
    this.check();
    return this.meter.op('identify', () => ({
      value: { stack: 'fake', protocol: 'in-memory test meter', details: { maxPacket: 64 } },
      evidence: [{ kind: 'raw', label: 'ident', bytes: '00' }],
    }));
  }

  readIdentity(): Promise<Reading<DeviceIdentity>> {
    this.check();
    return this.meter.op('readIdentity', () => ({
      value: { ...this.meter.state.identity },
      evidence: table(1, this.meter.state.identity.serial),
    }));
  }

  readRegistration(): Promise<Reading<MeterRegistration>> {
    this.check();
    return this.meter.op('readRegistration', () => ({
      value: { ...this.meter.state.registration },
      evidence: table(
        2,
        `${this.meter.state.registration.mpxn ?? ''}|${this.meter.state.registration.siteId ?? ''}`,
      ),
    }));
  }

  readCardRecord(): Promise<Reading<CardRecord | null>> {
    this.check();
    return this.meter.op('readCardRecord', () => {
      const card = this.meter.state.card;
      return { value: card ? { ...card } : null, evidence: table(3, card?.paymentCardId ?? '') };
    });
  }

  clearCardData(): Promise<Reading<ClearResult>> {
    this.check();
    return this.meter.op('clearCardData', () => ({
      value: { cleared: this.meter.clearNow() },
      // Manufacturer procedure MP5 (modelled), result in ST8.
      evidence: [{ kind: 'c1219-procedure', procedureId: 2048 + 5, request: '', response: '00' }],
    }));
  }

  readPrepaymentSummary(): Promise<Reading<PrepaymentSummary>> {
    this.check();
    return this.meter.op('readPrepaymentSummary', () => ({
      value: { ...this.meter.state.prepayment },
      evidence: [],
    }));
  }

  readMigrationState(): Promise<Reading<MigrationState>> {
    this.check();
    return this.meter.op('readMigrationState', () => ({
      value: { ...this.meter.state.migration },
      evidence: table(4, this.meter.state.migration.state),
    }));
  }

  readClock(): Promise<Reading<number>> {
    this.check();
    return this.meter.op('readClock', () => ({ value: this.meter.meterNow(), evidence: [] }));
  }

  migrate(request: MigrateRequest): Promise<Reading<MigrationState>> {
    this.check();
    return this.meter.op('migrate', () => ({
      value: this.meter.migrateNow(request),
      // A stack that writes the new secret in the clear (the flow must redact it).
      evidence: [
        {
          kind: 'c1219-table',
          op: 'write',
          tableId: 42,
          bytes: Buffer.from(request.credentials[0]!.secret).toString('hex'),
        },
        { kind: 'c1219-procedure', procedureId: 2048 + 6, request: '01', response: '00' },
      ],
    }));
  }

  readEventLog(maxEntries: number): Promise<Reading<MeterEvent[]>> {
    this.check();
    return this.meter.op('readEventLog', () => ({
      value: this.meter.state.events.slice(-maxEntries),
      evidence: [],
    }));
  }

  close(): Promise<void> {
    this.closed = true;
    return Promise.resolve();
  }
}

// ---- fixtures --------------------------------------------------------------------------

/** Valid MPAN cores: 12 digits + check digit, weights 3,5,7,13,... (docs/domain.md §7). */
export const MPAN_A = '1400000000010'; // 140000000001 -> check 0
export const MPAN_B = '1400000000020'; // 140000000002 -> check 0
export const MPAN_C = '2300000000073'; // 230000000007 -> check 3
/** Valid MPRNs: body + two check digits, Σ(d × weight n..1) mod 11 (docs/domain.md §7, modelled). */
export const MPRN_A = '3938424403'; // the wiki's own example, "03"
export const MPRN_B = '1234567810'; // 12345678 -> "10"
/** Payment Card IDs: 19 digits, prefix 9826176001 (docs/domain.md §4), Luhn check (modelled). */
export const CARD_OWN = '9826176001000000013';
export const CARD_FOREIGN = '9826176066000000024';

export const OWN = 'ABCD';
export const FOREIGN = 'WXYZ';

export function esmeState(overrides: Partial<FakeMeterState> = {}): FakeMeterState {
  return {
    identity: {
      manufacturer: 'Secure',
      model: 'Liberty 100',
      deviceType: 'ESME',
      serial: 'E17UP000001',
      deviceId: '90-B3-D5-1F-30-01-00-01',
      applicationFirmwareId: 'P4X2G04',
      metrologyFirmwareId: 'B2-00',
    },
    registration: { mpxn: MPAN_A, supplierId: OWN, siteId: 'SITE-0001' },
    card: {
      paymentCardId: CARD_FOREIGN,
      issuerSupplierId: FOREIGN,
      registeredAt: '2019-05-01T10:00:00.000Z',
    },
    prepayment: {
      paymentMode: 'prepayment',
      balancePence: 1250,
      emergencyCreditPence: 500,
      emergencyCreditActive: false,
      debtPence: 0,
      lastVendAt: '2025-12-30T09:15:00.000Z',
    },
    migration: { state: 'smso-managed' },
    secrets: { reader: '0102', supplier: '0304' },
    clockOffsetMs: 1500,
    events: [],
    ...overrides,
  };
}

export function gsmeState(overrides: Partial<FakeMeterState> = {}): FakeMeterState {
  const base = esmeState();
  return {
    ...base,
    identity: {
      ...base.identity,
      model: 'Liberty 110',
      deviceType: 'GSME',
      serial: 'G17UP000001',
      deviceId: '90-B3-D5-1F-30-01-00-02',
      metrologyFirmwareId: null,
    },
    registration: { mpxn: MPRN_A, supplierId: OWN, siteId: 'SITE-0002' },
    ...overrides,
  };
}
