// Test helpers for integrators' own suites (in-memory transports, farms) are exported here
// (`smets1-sim/testing`; docs/testing-with-startFarm.md).
export { ManualClock } from '../core/clock';
export {
  startFarm,
  c1218ServerFactory,
  type StartFarmOptions,
  type StartedFarm,
  type FarmTransport,
} from './farm';
// The default protocol slot: each meter served by its profile's stack (C12.18 or DLMS).
export { stackServerFactory, farmDlmsProfile } from '../farm/dlms-serving';
// A reference C12.18 client, to compare an integrator's own client against the farm.
export {
  openC1218Session,
  type C1218SessionOptions,
  type C1218Credentials,
} from '../migration/sessions/c1218-session';
// A reference DLMS client for the farm's DLMS meters (farmDlmsProfile gives the link it serves).
export {
  openDlmsSession,
  dlmsCredentialsFor,
  type DlmsSessionOptions,
  type DlmsCredentials,
} from '../migration/sessions/dlms-session';
