/**
 * A Meter: the current state of one device, its firmware behaviour, a time source and the
 * store it commits to. Protocols read through the `read*` accessors and change the meter only
 * through the named operations. Every operation is committed to the store BEFORE its promise
 * resolves, so a protocol that acknowledges after `await` never acknowledges a lost write.
 */
import { systemClock, type Clock } from '../core/clock';
import { ErrorCode, SimError } from '../core/errors';
import { TypedEmitter } from '../core/events';
import { DEFAULT_BEHAVIOUR, type DeviceBehaviour } from './behaviour';
import { applyOperation, type OperationInput, type OperationName, type OperationResult } from './operations';
import type { ClearResult, MigrateInput, SetCardRecordInput } from './ops-registration';
import type { PrepaymentConfigInput, UtrnRejection, VendInput, VendResult } from './ops-prepayment';
import type { AuthenticateInput } from './ops-security';
import type {
  CardRecord,
  MeterEvent,
  MeterIdentity,
  MeterState,
  MigrationState,
  PaymentMode,
  Prepayment,
  Registration,
  VendSource,
} from './state';
import type { EventQuery, MeterStore } from './storage/types';
import { refusalError, type OpContext } from './transition';

export interface MeterOptions {
  store: MeterStore;
  clock?: Clock;
  behaviour?: DeviceBehaviour;
}

export type MeterEvents = {
  /** An event appended to the log (after it was committed). */
  event: [MeterEvent];
  /** The state after a committed operation. */
  change: [MeterState];
};

export class Meter extends TypedEmitter<MeterEvents> {
  private s: MeterState;
  readonly store: MeterStore;
  readonly clock: Clock;
  readonly behaviour: DeviceBehaviour;

  private constructor(state: MeterState, options: MeterOptions) {
    super();
    this.s = state;
    this.store = options.store;
    this.clock = options.clock ?? systemClock;
    this.behaviour = options.behaviour ?? DEFAULT_BEHAVIOUR;
  }

  /** Store a new meter (with its 'meter-created' event) and return it. */
  static create(initial: MeterState, options: MeterOptions): Meter {
    const behaviour = options.behaviour ?? DEFAULT_BEHAVIOUR;
    const clock = options.clock ?? systemClock;
    const at = clock.now() + initial.clock.offsetMs;
    const event: MeterEvent = {
      seq: initial.eventSeq + 1,
      at,
      type: 'meter-created',
      actor: null,
      data: { profileId: initial.profileId, deviceType: initial.identity.deviceType },
    };
    const state: MeterState = { ...initial, eventSeq: event.seq };
    options.store.create(state, [event], behaviour.eventLogBound);
    return new Meter(state, options);
  }

  /** Open a stored meter. */
  static load(id: string, options: MeterOptions): Meter {
    const state = options.store.get(id);
    if (!state) throw new SimError(ErrorCode.DeviceNotFound, `meter ${id} not found`, { meterId: id });
    return new Meter(state, options);
  }

  /** Open every stored meter; `behaviourOf` picks the firmware behaviour per profile id. */
  static loadAll(
    options: Omit<MeterOptions, 'behaviour'> & { behaviourOf?: (profileId: string) => DeviceBehaviour },
  ): Meter[] {
    return options.store
      .loadAll()
      .map(
        (s) =>
          new Meter(s, { ...options, behaviour: options.behaviourOf?.(s.profileId) ?? DEFAULT_BEHAVIOUR }),
      );
  }

  get id(): string {
    return this.s.id;
  }

  /** The committed state. Treat as read-only: operations replace it, never mutate it. */
  get state(): MeterState {
    return this.s;
  }

  /** Device time: the time source plus the meter's clock offset. */
  now(): number {
    return this.clock.now() + this.s.clock.offsetMs;
  }

  readIdentity(): MeterIdentity {
    return this.s.identity;
  }

  readRegistration(): Registration {
    return this.s.registration;
  }

  /** The payment card record, or null when none is held (or it was cleared). */
  readCardRecord(): CardRecord | null {
    return this.s.card;
  }

  readPrepayment(): Prepayment {
    return this.s.prepayment;
  }

  readMigration(): MigrationState {
    return this.s.migration;
  }

  isLockedOut(): boolean {
    const until = this.s.security.lockedUntil;
    return until !== null && this.clock.now() < until;
  }

  /** The retained event log, oldest first. */
  events(query?: EventQuery): MeterEvent[] {
    return this.store.events(this.s.id, query);
  }

  /**
   * Run one named operation: validate, compute the transition, commit state and events in one
   * store transaction, then resolve with the result — or reject with the refusal (after
   * committing any state the refusal itself changed, e.g. a rejected-UTRN counter).
   */
  async apply<K extends OperationName>(kind: K, input: OperationInput<K>): Promise<OperationResult<K>> {
    return this.applySync(kind, input);
  }

  /** The same as apply(), for callers that cannot await (benchmarks, synchronous set-up). */
  applySync<K extends OperationName>(kind: K, input: OperationInput<K>): OperationResult<K> {
    const sourceNow = this.clock.now();
    const ctx: OpContext = { now: sourceNow + this.s.clock.offsetMs, sourceNow, behaviour: this.behaviour };
    const t = applyOperation(this.s, kind, input, ctx);
    if (t.state !== this.s) {
      this.store.commit({
        id: this.s.id,
        expectedRev: this.s.rev,
        state: t.state,
        events: t.events,
        eventBound: this.behaviour.eventLogBound,
      });
      this.s = t.state;
      for (const e of t.events) this.emit('event', e);
      this.emit('change', t.state);
    }
    if (!t.outcome.ok) throw refusalError(this.s.id, kind, t.outcome.refusal);
    return t.outcome.value;
  }

  clearPaymentCardData(actor: string): Promise<ClearResult> {
    return this.apply('clearPaymentCardData', { actor });
  }

  clearPaymentCardId(actor: string): Promise<ClearResult> {
    return this.apply('clearPaymentCardId', { actor });
  }

  clearSiteId(actor: string): Promise<ClearResult> {
    return this.apply('clearSiteId', { actor });
  }

  setCardRecord(input: SetCardRecordInput): Promise<CardRecord> {
    return this.apply('setCardRecord', input);
  }

  setSiteId(actor: string, siteId: string): Promise<void> {
    return this.apply('setSiteId', { actor, siteId });
  }

  changeSupplier(actor: string, supplierId: string): Promise<{ previous: string }> {
    return this.apply('changeSupplier', { actor, supplierId });
  }

  migrate(input: MigrateInput): Promise<{ alreadyMigrated: boolean }> {
    return this.apply('migrate', input);
  }

  applyVend(input: VendInput): Promise<VendResult> {
    return this.apply('applyVend', input);
  }

  recordUtrnRejection(input: {
    actor: string;
    reason: UtrnRejection;
    utrnRef: string;
    source: VendSource;
  }): Promise<{ rejected: number }> {
    return this.apply('recordUtrnRejection', input);
  }

  activateEmergencyCredit(actor: string): Promise<{ available: number }> {
    return this.apply('activateEmergencyCredit', { actor });
  }

  setPaymentMode(actor: string, mode: PaymentMode): Promise<void> {
    return this.apply('setPaymentMode', { actor, mode });
  }

  configurePrepayment(input: PrepaymentConfigInput): Promise<void> {
    return this.apply('configurePrepayment', input);
  }

  authenticate(input: AuthenticateInput): Promise<{ level: string }> {
    return this.apply('authenticate', input);
  }

  recordFailedLogon(
    actor: string,
    level?: string,
  ): Promise<{ consecutive: number; lockedUntil: number | null }> {
    return this.apply('recordFailedLogon', level === undefined ? { actor } : { actor, level });
  }

  resetFailures(actor: string): Promise<void> {
    return this.apply('resetFailures', { actor });
  }

  bumpInvocationCounter(name: string): Promise<{ value: number }> {
    return this.apply('bumpInvocationCounter', { name });
  }

  setClock(actor: string, to: number): Promise<{ offsetMs: number }> {
    return this.apply('setClock', { actor, to });
  }
}
