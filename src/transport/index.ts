export * from './types';
export * from './uri';
export * from './open';
export * from './line-options';
export * from './line-pacer';
export { Prng, applyFaults, drawGaps, type FaultConfig, type FaultResult } from './line-faults';
export { LineTransport, LineListener, withLine, type LineStats } from './line';
export {
  DEFAULT_ECHO_WAIT_MS,
  ECHO_IDLE,
  LATE_TIMER_MS,
  EchoCancelTransport,
  echoMask,
  echoStep,
  nextEchoDeadline,
  withEchoCancel,
  type EchoCancelOptions,
  type EchoCancelStats,
  type EchoInput,
  type EchoOutcome,
  type EchoState,
} from './line-echo';
export {
  PRESET_KEYS,
  PRESET_NAME,
  applyLinePreset,
  pendingPreset,
  resolveLinePreset,
  type LinePreset,
  type PresetKey,
  type PresetResolver,
} from './line-preset';
export { BaseTransport, BaseListener, SingleConnectionListener } from './base';
export { mapTransportError } from './error-map';
export { createMemPair, listenMem, connectMem, MemTransport, MemListener, type MemOptions } from './mem';
export { connectTcp, listenTcp, TcpTransport, TcpListener, type TcpOptions } from './tcp';
export { openSerial, checkSerialSettings, SerialTransport, type SerialOpenOptions } from './serial';
export {
  listSerialPorts,
  type SerialPortEntry,
  type SerialPortListing,
  type ListOptions,
} from './serial-list';
export { createPty, PtyTransport, type PtyListener, type PtyOptions } from './pty';
