// Test helpers for integrators' own suites (in-memory transports, farms) are exported here.
export { ManualClock } from '../core/clock';
