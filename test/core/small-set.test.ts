import fc from 'fast-check';
import { SmallMap, SmallSet } from '../../src/core/small-set';

describe('SmallSet', () => {
  it('adds, deletes by identity and drains oldest first', () => {
    const a = (): void => undefined;
    const b = (): void => undefined;
    const s = new SmallSet<() => void>();
    s.add(a);
    s.add(b);
    expect(s.size).toBe(2);
    expect(s.delete(a)).toBe(true);
    expect(s.delete(a)).toBe(false);
    s.add(a);
    expect(s.drain()).toEqual([b, a]);
    expect(s.size).toBe(0);
  });

  it('behaves as a Set of distinct items under any add/delete sequence', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.boolean(), fc.integer({ min: 0, max: 5 }))), (ops) => {
        const small = new SmallSet<number>();
        const ref = new Set<number>();
        for (const [add, v] of ops) {
          if (add && !ref.has(v)) {
            small.add(v);
            ref.add(v);
          } else if (!add) expect(small.delete(v)).toBe(ref.delete(v));
        }
        expect(small.drain()).toEqual([...ref]);
      }),
    );
  });
});

describe('SmallMap', () => {
  it('behaves as a Map under any set/take sequence, drain in insertion order', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.boolean(), fc.integer({ min: 0, max: 5 }), fc.string())), (ops) => {
        const small = new SmallMap<number, string>();
        const ref = new Map<number, string>();
        for (const [set, k, v] of ops) {
          if (set) {
            small.set(k, v);
            ref.set(k, v);
          } else {
            expect(small.take(k)).toBe(ref.get(k));
            ref.delete(k);
          }
          expect(small.size).toBe(ref.size);
        }
        expect(small.drain()).toEqual([...ref.values()]);
      }),
    );
  });
});
