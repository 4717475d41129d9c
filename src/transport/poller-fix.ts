/**
 * Work around two defects of the fd poller in @serialport/bindings-cpp 13.0.0 (src/poller.cpp,
 * dist/poller.js) that together stalled a full-duplex transfer through a pty for good (reproduced:
 * 1 MiB each way at once stalled in about 1 run of 15, with the last 1 KiB unread):
 *
 *  1. `Poller::poll(events)` records the union of requested events but calls
 *     `uv_poll_start(handle, events)` with only the new ones, so a read waiting for READABLE
 *     cancels a write waiting for WRITABLE and vice versa until some other event re-arms it.
 *  2. The native callback calls into JS without `MakeCallback`, so the promise continuation of
 *     `await readable()` does not run until something else drains the microtask queue
 *     (serialport/bindings-cpp#239 describes the same stall).
 *
 * Fix: always poll for everything somebody is waiting on, and deliver poller events from a
 * setImmediate (Node drains microtasks after each immediate). Applied per binding instance, no
 * global patching. Bindings without a poller (Windows) are left alone.
 */

const UV_READABLE = 0b0001;
const UV_WRITABLE = 0b0010;

interface PollerLike {
  poll(flag?: number): void;
  emit(event: string | symbol, ...args: unknown[]): boolean;
  listenerCount(event: string): number;
}

const hardened = new WeakSet<object>();

function isPoller(p: unknown): p is PollerLike {
  if (typeof p !== 'object' || p === null) return false;
  const o = p as Record<string, unknown>;
  return (
    typeof o['poll'] === 'function' &&
    typeof o['emit'] === 'function' &&
    typeof o['listenerCount'] === 'function'
  );
}

/** Harden the poller of a bindings-cpp port binding (LinuxPortBinding / DarwinPortBinding). */
export function hardenPoller(binding: unknown): boolean {
  if (typeof binding !== 'object' || binding === null) return false;
  const poller = (binding as { poller?: unknown }).poller;
  if (!isPoller(poller) || hardened.has(poller)) return false;
  hardened.add(poller);
  const poll = poller.poll.bind(poller);
  poller.poll = (flag = 0): void => {
    const waiting =
      (poller.listenerCount('readable') > 0 ? UV_READABLE : 0) |
      (poller.listenerCount('writable') > 0 ? UV_WRITABLE : 0);
    poll(flag | waiting);
  };
  const emit = poller.emit.bind(poller);
  poller.emit = (event: string | symbol, ...args: unknown[]): boolean => {
    setImmediate(() => emit(event, ...args));
    return true;
  };
  return true;
}
