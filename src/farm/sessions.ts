/**
 * The gate between a meter's transport listener and its protocol server. It counts sessions,
 * keeps the set of open ones (so the farm can drop the link or power a meter off), refuses new
 * sessions while the meter is off or the farm is stopping, and otherwise passes connections on
 * untouched. The server sees an ordinary Listener.
 *
 * On a pty or serial line the single long-lived connection IS the device: closing it would
 * remove the tty a client has open. There the gate never closes the connection; power-off and
 * drop are left to the server (FaultControls: answer nothing / forget the session).
 */
import { EventEmitter } from 'node:events';
import type { SimError } from '../core/errors';
import { silentLogger, type Logger } from '../core/logger';
import type { Listener, ListenerEvents, Transport, TransportInfo } from '../transport/types';
import type { FaultControls } from './faults';
import type { FarmMetrics } from './metrics';

export class MeterGate extends EventEmitter<ListenerEvents> implements Listener {
  private readonly open = new Set<Transport>();
  private accepting = true;
  /** True for media whose one connection is the device itself (pty, serial). */
  readonly persistent: boolean;

  constructor(
    readonly inner: Listener,
    private readonly faults: FaultControls,
    private readonly metrics: FarmMetrics,
    private readonly logger: Logger = silentLogger,
  ) {
    super();
    this.persistent = inner.info.kind === 'pty' || inner.info.kind === 'serial';
    inner.on('connection', (t) => this.admit(t));
    inner.on('error', (e: SimError) => {
      metrics.onError('listener');
      if (this.listenerCount('error') > 0) this.emit('error', e);
      else logger.warn({ err: e, uri: inner.info.uri }, e.message);
    });
    inner.on('close', () => this.emit('close'));
  }

  get info(): TransportInfo {
    return this.inner.info;
  }

  get openSessions(): number {
    return this.open.size;
  }

  private admit(t: Transport): void {
    const refuse =
      !this.persistent &&
      (!this.accepting || !this.faults.isPoweredOn() || this.listenerCount('connection') === 0);
    if (refuse) {
      void t.close();
      return;
    }
    this.open.add(t);
    this.metrics.sessionOpened();
    t.once('close', () => {
      if (this.open.delete(t)) this.metrics.sessionClosed();
    });
    this.emit('connection', t);
  }

  /** Refuse new sessions from now on (graceful stop); open ones continue. */
  stopAccepting(): void {
    this.accepting = false;
  }

  /** Close every open session (link dropped, power off). No-op on pty/serial. */
  dropSessions(): void {
    if (this.persistent) return;
    for (const t of this.open) {
      t.close().catch((e: unknown) => this.logger.debug({ err: e }, 'closing a dropped session failed'));
    }
  }

  /** Stop listening and close every session. */
  close(): Promise<void> {
    this.accepting = false;
    return this.inner.close();
  }
}
