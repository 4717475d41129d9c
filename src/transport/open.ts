import { systemClock, type Clock } from '../core/clock';
import { ErrorCode, SimError } from '../core/errors';
import { silentLogger, type Logger } from '../core/logger';
import { SingleConnectionListener } from './base';
import { LineListener, withLine } from './line';
import { withEchoCancel } from './line-echo';
import { isEmulationActive, type LineEmulation } from './line-options';
import { resolveLinePreset, type PresetResolver } from './line-preset';
import { connectMem, listenMem } from './mem';
import { createPty } from './pty';
import { openSerial } from './serial';
import { connectTcp, listenTcp } from './tcp';
import type { Listener, Transport } from './types';
import { parseTransportUri, type TransportDescriptor } from './uri';

/**
 * The two entry points every other layer uses: `connect(uri)` for the client side and
 * `listen(uri)` for the server side (a simulated meter). Line emulation from the URI's params
 * (or `options.emulation`) wraps the transport, or each accepted connection, when active.
 */

export interface TransportOptions {
  /** Time source for timeouts, pacing and pty baud polling (default: the system clock). */
  clock?: Clock;
  logger?: Logger;
  /** Overrides for the URI's line emulation params. */
  emulation?: Partial<LineEmulation>;
  /**
   * Looks up `?preset=NAME` (serial:, and the client end of pty:). The transport cannot read
   * hardware presets itself (it sits below src/hardware); `presetResolver(protocol)` from
   * src/hardware is the usual one. Without it a URI naming a preset is refused.
   */
  preset?: PresetResolver;
}

function describe(uri: string | TransportDescriptor): TransportDescriptor {
  return typeof uri === 'string' ? parseTransportUri(uri) : uri;
}

function emulationOf(d: TransportDescriptor, options: TransportOptions): LineEmulation {
  return { ...d.emulation, ...options.emulation };
}

function wrongSide(d: TransportDescriptor, hint: string): SimError {
  return new SimError(ErrorCode.TransportUriInvalid, `${JSON.stringify(d.uri)}: ${hint}`, { uri: d.uri });
}

async function openClient(d: TransportDescriptor, options: TransportOptions): Promise<Transport> {
  const logger = options.logger ?? silentLogger;
  switch (d.scheme) {
    case 'mem': {
      if (d.chunk !== undefined) {
        throw wrongSide(
          d,
          'chunk is a property of the pair and is set by the listener (listen mem:NAME?chunk=N)',
        );
      }
      const t = connectMem(d.name);
      await t.setLineSettings(d.settings);
      return t;
    }
    case 'tcp':
      return connectTcp(d.host, d.port, {
        uri: d.uri,
        timeoutMs: d.timeoutMs,
        clock: options.clock ?? systemClock,
        logger,
        line: d.settings,
      });
    case 'tcp-listen':
      throw wrongSide(d, 'tcp-listen:// is a server URI: use listen(), or tcp://HOST:PORT to connect');
    case 'serial':
      return openSerial(d.path, {
        uri: d.uri,
        settings: d.settings,
        control: d.control,
        lock: d.lock,
        logger,
      });
    case 'pty':
      // The client side of a pty is an ordinary tty open of the link (docs/stack.md §2b).
      return openSerial(d.path, { uri: d.uri, settings: d.settings, kind: 'pty', logger });
  }
}

function withEmulation(t: Transport, d: TransportDescriptor, options: TransportOptions): Transport {
  const emulation = emulationOf(d, options);
  return isEmulationActive(emulation) ? withLine(t, emulation, options.clock, options.logger) : t;
}

/** Open the client side of a transport URI. Rejects with a SimError naming the URI. */
export async function connect(
  uri: string | TransportDescriptor,
  options: TransportOptions = {},
): Promise<Transport> {
  const d = resolveLinePreset(describe(uri), options.preset);
  const t = withEmulation(await openClient(d, options), d, options);
  // Outermost: the canceller must see our writes as we make them and what the line (real or
  // emulated, `echo=local`) gives back.
  if (!d.echoCancel) return t;
  return withEchoCancel(t, {
    ...(d.echoWaitMs !== undefined ? { waitMs: d.echoWaitMs } : {}),
    ...(options.clock ? { clock: options.clock } : {}),
    ...(options.logger ? { logger: options.logger } : {}),
  });
}

async function openServer(d: TransportDescriptor, options: TransportOptions): Promise<Listener> {
  const logger = options.logger ?? silentLogger;
  switch (d.scheme) {
    case 'mem':
      return listenMem(d.name, { line: d.settings, ...(d.chunk === undefined ? {} : { maxChunk: d.chunk }) });
    case 'tcp':
      throw wrongSide(d, 'tcp:// is a client URI: use connect(), or tcp-listen://HOST:PORT to listen');
    case 'tcp-listen':
      return listenTcp(d.host, d.port, { uri: d.uri, logger, line: d.settings });
    case 'serial': {
      const t = await openSerial(d.path, {
        uri: d.uri,
        settings: d.settings,
        control: d.control,
        lock: d.lock,
        logger,
      });
      return new SingleConnectionListener(t, logger);
    }
    case 'pty':
      return createPty(d.path, {
        uri: d.uri,
        settings: d.settings,
        baudPollMs: d.baudPollMs,
        clock: options.clock ?? systemClock,
        logger,
      });
  }
}

/**
 * Open the server side: tcp-listen accepts many connections; mem accepts one per connectMem;
 * serial and pty emit exactly one long-lived connection.
 */
export async function listen(
  uri: string | TransportDescriptor,
  options: TransportOptions = {},
): Promise<Listener> {
  const asked = describe(uri);
  if (asked.scheme === 'pty' && asked.preset)
    throw wrongSide(
      asked,
      'preset= applies to the side that opens the pty link (connect), not to pty: listen',
    );
  // A meter hears no echo of its own answers (a probe reflects the client's light only), so a
  // preset's echo is ignored here and an explicit echocancel=1 is a mistake.
  if (asked.echoCancel) throw wrongSide(asked, 'echocancel=1 is for the client side (connect), not listen');
  const d = resolveLinePreset(asked, options.preset);
  const l = await openServer(d, options);
  const emulation = emulationOf(d, options);
  return isEmulationActive(emulation) ? new LineListener(l, emulation, options.clock, options.logger) : l;
}
