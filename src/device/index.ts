export * from './identifiers';
export * from './id-generator';
export * from './state';
export { parseMeterState, parseMeterEvent } from './state-schema';
export * from './behaviour';
export {
  REFUSAL_REASONS,
  REFUSAL_CODE,
  refusalError,
  type RefusalReason,
  type Refusal,
  type Outcome,
  type Transition,
  type OpContext,
} from './transition';
export * from './operations';
export type { ClearResult, MigrateInput, SetCardRecordInput } from './ops-registration';
export {
  UTRN_REJECTIONS,
  type UtrnRejection,
  type VendInput,
  type VendResult,
  type PrepaymentConfigInput,
} from './ops-prepayment';
export type { AuthenticateInput } from './ops-security';
export type { RecordCountersInput, TransferKeysInput } from './ops-keys';
export * from './invariants';
export * from './new-meter';
export * from './model-paths';
export * from './meter';
export * from './storage';
