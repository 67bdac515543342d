/** Grow-only list and map: appends in O(1), and an older handle never sees what a newer one added. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { GrowOnlyList, GrowOnlyMap } from '../../actors/shared/growOnly.ts';

describe('GrowOnlyList', () => {
  it('old handles keep their entries; pushing to an old handle branches', () => {
    const a = GrowOnlyList.empty<number>().push(1).push(2);
    const b = a.push(3);
    const c = a.push(4); // a is no longer the newest: copies
    expect([a.toArray(), b.toArray(), c.toArray()]).toEqual([[1, 2], [1, 2, 3], [1, 2, 4]]);
    expect(b.push(5).toArray()).toEqual([1, 2, 3, 5]);
    expect(GrowOnlyList.from([7, 8]).push(9).toArray()).toEqual([7, 8, 9]);
  });
});

describe('GrowOnlyMap', () => {
  it('property: every handle behaves as the Map built by the same sets', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.nat(20), fc.integer(), fc.nat(8)), { maxLength: 40 }), (ops) => {
        // each op sets a key on one of the handles made so far (branching when it is not the newest)
        const handles: Array<{ m: GrowOnlyMap<number, number>; ref: Map<number, number> }> = [{ m: GrowOnlyMap.empty(), ref: new Map() }];
        for (const [k, v, pick] of ops) {
          const h = handles[pick % handles.length];
          const ref = new Map(h.ref).set(k, v);
          handles.push({ m: h.m.set(k, v), ref });
        }
        for (const { m, ref } of handles) {
          expect([...m.entries()]).toEqual([...ref.entries()]);
          expect(m.size).toBe(ref.size);
          for (let k = 0; k <= 21; k++) {
            expect(m.has(k)).toBe(ref.has(k));
            expect(m.get(k)).toBe(ref.get(k));
          }
        }
      }),
    );
  });
});
