/* eslint-disable @typescript-eslint/no-require-imports -- native modules are loaded lazily, on
   purpose: importing the transport layer must work on a platform without the prebuilt binaries
   (TCP and memory transports need none), and a missing binary must become a SimError. */
import { ErrorCode, SimError } from '../core/errors';

type SerialPortModule = typeof import('serialport');
type BindingsModule = typeof import('@serialport/bindings-cpp');

/** The openpty() entry point of node-pty's native addon (docs/stack.md §2b). */
export interface PtyNative {
  open(cols: number, rows: number): { master: number; slave: number; pty: string };
}

function unavailable(uri: string, what: string, e: unknown): SimError {
  const reason = e instanceof Error ? e.message.split('\n')[0] : String(e);
  return new SimError(
    ErrorCode.TransportOpenFailed,
    `${uri}: ${what} is not available on ${process.platform}-${process.arch}: ${reason}`,
    { uri, platform: `${process.platform}-${process.arch}` },
    { cause: e },
  );
}

let serialport: SerialPortModule | undefined;
let bindings: BindingsModule | undefined;
let ptyNative: PtyNative | undefined;

export function loadSerialPort(uri: string): SerialPortModule {
  try {
    serialport ??= require('serialport') as SerialPortModule;
    return serialport;
  } catch (e) {
    throw unavailable(uri, 'the serialport native binding', e);
  }
}

/** serialport's own binding package (13.0.0, the copy serialport 13 depends on; stack.md §1). */
export function loadBindings(uri: string): BindingsModule {
  try {
    bindings ??= require('@serialport/bindings-cpp') as BindingsModule;
    return bindings;
  } catch (e) {
    throw unavailable(uri, 'the @serialport/bindings-cpp native binding', e);
  }
}

export function loadPtyNative(uri: string): PtyNative {
  if (process.platform === 'win32') {
    throw new SimError(ErrorCode.TransportUnsupportedScheme, `${uri}: pty: needs a Unix pseudo-terminal`, {
      uri,
    });
  }
  try {
    ptyNative ??= require(`@lydell/node-pty-${process.platform}-${process.arch}/pty.node`) as PtyNative;
    return ptyNative;
  } catch (e) {
    throw unavailable(uri, 'the @lydell/node-pty prebuilt addon', e);
  }
}
