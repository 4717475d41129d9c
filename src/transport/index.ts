export * from './types';
export * from './uri';
export * from './open';
export * from './line-options';
export * from './line-pacer';
export { Prng, applyFaults, drawGaps, type FaultConfig, type FaultResult } from './line-faults';
export { LineTransport, LineListener, withLine, type LineStats } from './line';
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
