/**
 * A set for the one or two entries a connection has in flight (pending writes, sends waiting for
 * their ACK), kept in an array. A Map or Set that goes 0 → 1 → 0 entries on every request
 * reallocates its hash table on each delete (V8 shrinks it); thousands of connections doing
 * that per request show in the GC profile of a sweep. Membership is by identity (===).
 */
export class SmallSet<T> {
  private items: T[] = [];

  get size(): number {
    return this.items.length;
  }

  add(item: T): void {
    this.items.push(item);
  }

  /** Remove `item`; false when it was not there. */
  delete(item: T): boolean {
    const i = this.items.indexOf(item);
    if (i < 0) return false;
    if (i === this.items.length - 1) this.items.pop();
    else this.items.splice(i, 1);
    return true;
  }

  /** Every item, oldest first, and empty the set. */
  drain(): T[] {
    const all = this.items;
    this.items = [];
    return all;
  }
}

/** A map from small keys to values with the same array representation (see SmallSet). */
export class SmallMap<K, V> {
  private keys: K[] = [];
  private values: V[] = [];

  get size(): number {
    return this.keys.length;
  }

  set(key: K, value: V): void {
    const i = this.keys.indexOf(key);
    if (i >= 0) this.values[i] = value;
    else {
      this.keys.push(key);
      this.values.push(value);
    }
  }

  /** The value of `key`, removed; undefined when there is none. */
  take(key: K): V | undefined {
    const i = this.keys.indexOf(key);
    if (i < 0) return undefined;
    const value = this.values[i];
    this.keys.splice(i, 1);
    this.values.splice(i, 1);
    return value;
  }

  /** Every value, oldest first, and empty the map. */
  drain(): V[] {
    const all = this.values;
    this.keys = [];
    this.values = [];
    return all;
  }
}
