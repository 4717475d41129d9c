/**
 * Typed events come straight from node:events generics (@types/node 20):
 *   class Framer extends TypedEmitter<{ frame: [Frame]; error: [SimError] }> {}
 * node:events over eventemitter3: an `error` event with no listener throws instead of being
 * dropped silently, and emit is measured faster on Node 20 (docs/stack.md §6).
 */
import { EventEmitter } from 'node:events';

export type EventMap = Record<string, unknown[]>;

export class TypedEmitter<T extends EventMap> extends EventEmitter<T> {}

/** Resolve with the first payload of `event`, or reject on `error` or when `signal` aborts. */
export { once } from 'node:events';
