import { EventEmitter } from 'node:events';
import { hardenPoller } from '../../src/transport/poller-fix';

/** Stands in for bindings-cpp's Poller (dist/poller.js): once() polls for the event's flag. */
class FakePoller extends EventEmitter {
  readonly polled: number[] = [];
  poll(flag = 0): void {
    this.polled.push(flag);
  }
  override once(event: string, cb: (err: Error | null) => void): this {
    this.poll(event === 'readable' ? 1 : event === 'writable' ? 2 : 4);
    return super.once(event, cb);
  }
}

describe('hardenPoller (bindings-cpp 13.0.0 poller defects)', () => {
  it('polls for every event somebody waits on, not just the newest', () => {
    const poller = new FakePoller();
    expect(hardenPoller({ poller })).toBe(true);
    poller.once('readable', () => undefined);
    poller.once('writable', () => undefined);
    // UV_READABLE = 1, UV_WRITABLE = 2: the write wait keeps the pending read armed.
    expect(poller.polled).toEqual([1, 3]);
  });

  it('delivers events from an immediate, so awaiting code continues at once', async () => {
    const poller = new FakePoller();
    hardenPoller({ poller });
    const seen: string[] = [];
    poller.once('readable', () => seen.push('readable'));
    poller.emit('readable', null);
    expect(seen).toEqual([]);
    await new Promise((r) => setImmediate(r));
    expect(seen).toEqual(['readable']);
  });

  it('leaves bindings without a poller alone and patches a poller only once', () => {
    expect(hardenPoller({})).toBe(false);
    expect(hardenPoller(null)).toBe(false);
    const poller = new FakePoller();
    expect(hardenPoller({ poller })).toBe(true);
    expect(hardenPoller({ poller })).toBe(false);
  });
});
