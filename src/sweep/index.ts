/** The fleet sweep's public API (docs/sweep.md). */
export {
  runSweep,
  loadManifestFile,
  manifestRegistration,
  DEFAULT_SWEEP_CONCURRENCY,
  DEFAULT_LOGON_LEVEL,
  DEFAULT_MIGRATED_BY,
  type SweepOptions,
  type SweepResult,
  type SweepDeviceError,
} from './sweep';
export { runPool, type PoolStats } from './pool';
export {
  newCredentialsFor,
  deriveSecret,
  DEFAULT_REPLACED_LEVELS,
  type NewCredentialsPolicy,
} from './credentials';
export {
  SweepInterrupted,
  InterruptibleJournal,
  journalFileName,
  journalPath,
  readJournalSnapshot,
  JOURNALS_DIR,
  type JournalSync,
} from './journals';
export { ProgressTracker, type SweepProgress } from './progress';
export {
  reportFiles,
  SWEEP_META_SCHEMA,
  type SweepMeta,
  type SweepRunRecord,
  type SweepReportFiles,
} from './report-dir';
export {
  MeterSessionSource,
  phaseFromJournal,
  type CredentialPhase,
  type LogonCredential,
  type SweepSessionFactory,
} from './session-source';
export {
  summarise,
  deviceResult,
  renderSweepSummary,
  type SweepDeviceResult,
  type SweepSummary,
  type Verdict,
} from './summary';
export { c1218SessionFactory, type C1218SweepSessionOptions } from './c1218-sessions';
export {
  dlmsMeterSessions,
  dlmsHandoverLevels,
  type DlmsSweepSessionOptions,
  type MeterSessions,
  type MeterSessionsHook,
} from './dlms-sessions';
