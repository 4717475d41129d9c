export * from './fleet-spec';
export * from './seeded';
export * from './farm-profile';
export { credentialsFor, CredentialsError } from './credentials';
export * from './generator';
export * from './shard';
export * from './manifest';
export * from './faults';
export * from './metrics';
export { MeterGate } from './sessions';
export * from './state-dir';
export * from './runtime';
export { meterEntry, meterSummary, matchesFilter } from './meter-view';
export * from './control-api';
export { probeServerFactory, PROBE_MAX_LINE, PROBE_ACTOR } from './probe-server';
export {
  dlmsServerFactory,
  stackServerFactory,
  farmDlmsLink,
  farmDlmsProfile,
  corruptDlmsFrame,
} from './dlms-serving';
export * from './farm-command';
export {
  readCloneTemplate,
  cloneState,
  newFarmMeterState,
  TemplateError,
  type CloneTemplate,
  type CloneOverlay,
  type TemplateRef,
} from './clone-template';
