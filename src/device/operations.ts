/**
 * The named device operations as one table: operation name -> pure transition function.
 * `applyOperation(state, op, ctx)` is the single entry point; firmware profiles name these
 * operations as procedure actions, so the table is also the vocabulary profiles validate
 * against (OPERATION_NAMES).
 */
import {
  changeSupplier,
  clearPaymentCardData,
  clearPaymentCardId,
  clearSiteId,
  migrate,
  setCardRecord,
  setSiteId,
  type ClearResult,
  type MigrateInput,
  type SetCardRecordInput,
} from './ops-registration';
import {
  activateEmergencyCredit,
  applyVend,
  configurePrepayment,
  recordUtrnRejection,
  setPaymentMode,
  type PrepaymentConfigInput,
  type UtrnRejection,
  type VendInput,
  type VendResult,
} from './ops-prepayment';
import {
  authenticate,
  bumpInvocationCounter,
  recordFailedLogon,
  resetFailures,
  setClock,
  type AuthenticateInput,
} from './ops-security';
import {
  recordInvocationCounters,
  transferKeys,
  type RecordCountersInput,
  type TransferKeysInput,
} from './ops-keys';
import type { CardRecord, MeterState, PaymentMode, VendSource } from './state';
import type { OpContext, Transition } from './transition';

/** Input and result of every operation. */
export interface OperationSpecs {
  clearPaymentCardData: { input: { actor: string }; result: ClearResult };
  clearPaymentCardId: { input: { actor: string }; result: ClearResult };
  clearSiteId: { input: { actor: string }; result: ClearResult };
  setCardRecord: { input: SetCardRecordInput; result: CardRecord };
  setSiteId: { input: { actor: string; siteId: string }; result: void };
  changeSupplier: { input: { actor: string; supplierId: string }; result: { previous: string } };
  migrate: { input: MigrateInput; result: { alreadyMigrated: boolean } };
  applyVend: { input: VendInput; result: VendResult };
  recordUtrnRejection: {
    input: { actor: string; reason: UtrnRejection; utrnRef: string; source: VendSource };
    result: { rejected: number };
  };
  activateEmergencyCredit: { input: { actor: string }; result: { available: number } };
  setPaymentMode: { input: { actor: string; mode: PaymentMode }; result: void };
  configurePrepayment: { input: PrepaymentConfigInput; result: void };
  authenticate: { input: AuthenticateInput; result: { level: string } };
  recordFailedLogon: {
    input: { actor: string; level?: string };
    result: { consecutive: number; lockedUntil: number | null };
  };
  resetFailures: { input: { actor: string }; result: void };
  bumpInvocationCounter: { input: { name: string }; result: { value: number } };
  setClock: { input: { actor: string; to: number }; result: { offsetMs: number } };
  transferKeys: { input: TransferKeysInput; result: { changed: string[] } };
  recordInvocationCounters: { input: RecordCountersInput; result: { value: number | null } };
}

export type OperationName = keyof OperationSpecs;
export type OperationInput<K extends OperationName> = OperationSpecs[K]['input'];
export type OperationResult<K extends OperationName> = OperationSpecs[K]['result'];
export type MeterOp = { [K in OperationName]: { kind: K } & OperationInput<K> }[OperationName];

type Handlers = {
  [K in OperationName]: (
    s: MeterState,
    op: OperationInput<K>,
    ctx: OpContext,
  ) => Transition<OperationResult<K>>;
};

const handlers: Handlers = {
  clearPaymentCardData,
  clearPaymentCardId,
  clearSiteId,
  setCardRecord,
  setSiteId,
  changeSupplier,
  migrate,
  applyVend,
  recordUtrnRejection,
  activateEmergencyCredit,
  setPaymentMode,
  configurePrepayment,
  authenticate,
  recordFailedLogon,
  resetFailures,
  bumpInvocationCounter,
  setClock,
  transferKeys,
  recordInvocationCounters,
};

export const OPERATION_NAMES = Object.keys(handlers) as OperationName[];

export function isOperationName(name: string): name is OperationName {
  return Object.prototype.hasOwnProperty.call(handlers, name);
}

/** Apply one operation purely. Throws SimError only for malformed input. */
export function applyOperation<K extends OperationName>(
  state: MeterState,
  kind: K,
  input: OperationInput<K>,
  ctx: OpContext,
): Transition<OperationResult<K>> {
  const handler = handlers[kind] as (
    s: MeterState,
    op: OperationInput<K>,
    c: OpContext,
  ) => Transition<OperationResult<K>>;
  return handler(state, input, ctx);
}

/** Apply an operation given as a tagged object (e.g. from a journal or a farm API). */
export function applyMeterOp(state: MeterState, op: MeterOp, ctx: OpContext): Transition<unknown> {
  const { kind, ...input } = op;
  return applyOperation(state, kind, input as never, ctx);
}
