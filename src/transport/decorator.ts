import { EventEmitter } from 'node:events';
import type { ControlLines, LineSettings, Transport, TransportEvents, TransportInfo } from './types';

/**
 * A transport that wraps another and changes part of its behaviour (echo cancelling, a sleeping
 * meter's wake-up, injected faults): everything not overridden goes straight to `inner`. The
 * subclass subscribes to the inner transport's events itself, because which ones it passes on
 * unchanged is exactly what differs between decorators; `forward()` passes the plain ones on.
 */
export abstract class TransportDecorator extends EventEmitter<TransportEvents> implements Transport {
  protected constructor(readonly inner: Transport) {
    super();
  }

  /** Re-emit the inner transport's events named here unchanged. */
  protected forward(...events: (keyof TransportEvents)[]): void {
    for (const name of events)
      this.inner.on(name, (...args: unknown[]) =>
        (this.emit as (n: string, ...a: unknown[]) => boolean)(name, ...args),
      );
  }

  get info(): TransportInfo {
    return this.inner.info;
  }

  get isOpen(): boolean {
    return this.inner.isOpen;
  }

  write(data: Uint8Array): Promise<void> {
    return this.inner.write(data);
  }

  close(): Promise<void> {
    return this.inner.close();
  }

  getLineSettings(): LineSettings {
    return this.inner.getLineSettings();
  }

  setLineSettings(settings: Partial<LineSettings>): Promise<void> {
    return this.inner.setLineSettings(settings);
  }

  setControlLines(lines: ControlLines): Promise<void> {
    return this.inner.setControlLines(lines);
  }
}
