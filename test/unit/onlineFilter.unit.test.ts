import { describe, expect, it } from 'vitest';
import { bandKeepMask, onlineFilterAccumulate } from '../../actors/learner/onlineFilter.ts';
import { accumulatorStatus, createAccumulator, finalizeAccumulator, groupsNeeded } from '../../actors/learner/groupAccumulator.ts';

const groups = (succ: number[], n: number | number[]) => ({
  group: Uint32Array.from(succ, (_, i) => i),
  successes: Uint32Array.from(succ),
  sizes: Uint32Array.from(succ, (_, i) => (typeof n === 'number' ? n : n[i])),
});

describe('balanced online difficulty filter: keep d = 1 − k/n in [0.2, 0.8]', () => {
  it('n = 8 keeps k = 2..6', () => {
    // d = (8−k)/8: k=1 → .875 out, k=2 → .75 in, k=6 → .25 in, k=7 → .125 out
    expect(Array.from(bandKeepMask(groups([0, 1, 2, 3, 4, 5, 6, 7, 8], 8)))).toEqual([0, 0, 1, 1, 1, 1, 1, 0, 0]);
  });

  it('band edges are inclusive, computed on counts (n = 5, k = 4 ⇒ d = 0.2 exactly)', () => {
    expect(1 - 4 / 5).toBeLessThan(0.2); // why the float comparison would be wrong
    expect(Array.from(bandKeepMask(groups([4, 1, 5, 0], 5)))).toEqual([1, 1, 0, 0]);
  });

  it('lower-bound-only variant: drop only too-hard groups', () => {
    expect(Array.from(bandKeepMask(groups([0, 1, 8], 8), { dLow: 0, dHigh: 0.8 }))).toEqual([0, 0, 1]);
  });
});

describe('refill accounting', () => {
  it('stacks kept groups until B, then truncates to exactly B', () => {
    let acc = createAccumulator(4, 10);
    acc = onlineFilterAccumulate(acc, groups([0, 4, 8, 3], 8)); // keeps groups 1, 3
    expect(accumulatorStatus(acc)).toBe('need-more');
    expect(groupsNeeded(acc)).toBe(2);
    expect([acc.rolled, acc.dropped, acc.attempts]).toEqual([4, 2, 1]);
    acc = onlineFilterAccumulate(acc, { group: Uint32Array.from([10, 11, 12]), successes: Uint32Array.from([2, 5, 6]), sizes: Uint32Array.from([8, 8, 8]) });
    expect(accumulatorStatus(acc)).toBe('full');
    const f = finalizeAccumulator(acc);
    expect(Array.from(f.groups)).toEqual([1, 3, 10, 11]);
    expect(f.partial).toBe(false);
    expect(f.surplus).toBe(1);
  });

  it('cap reached ⇒ partial batch', () => {
    let acc = createAccumulator(4, 2);
    acc = onlineFilterAccumulate(acc, groups([0, 4], 8));
    acc = onlineFilterAccumulate(acc, groups([8, 8], 8));
    expect(accumulatorStatus(acc)).toBe('capped');
    const f = finalizeAccumulator(acc);
    expect(Array.from(f.groups)).toEqual([1]);
    expect(f.partial).toBe(true);
  });

  it('rejects k > n', () => {
    expect(() => bandKeepMask(groups([9], 8))).toThrow(/9 successes out of 8/);
  });
});
