/** Running simulated meters: one meter on one transport (docs/simulate.md). */
export * from './simulator';
export * from './wake';
export { logMeterEvents, logSessions } from './session-log';
