import { describe, expect, it } from 'vitest';
import {
  binDifficulty,
  expectedMeanAbsAdvantage,
  groupMeanAbsAdvantage,
  secPolicy,
  secRewards,
  secSelect,
  secUpdate,
} from '../../actors/sampler/sec.ts';

describe('SEC bandit', () => {
  it('policy softmax(Q/τ): Q = (0, 0.4, 0.8), τ = 0.4 ⇒ softmax(0, 1, 2)', () => {
    const p = secPolicy(Float64Array.from([0, 0.4, 0.8]), 0.4);
    // e^(0,1,2)/(1 + e + e²) = (1, 2.7182818, 7.3890561)/11.1073379
    expect(p[0]).toBeCloseTo(0.09003057317038046, 14);
    expect(p[1]).toBeCloseTo(0.24472847105479767, 14);
    expect(p[2]).toBeCloseTo(0.6652409557748219, 14);
    // category 2 exhausted ⇒ renormalise over (0, 1): (1, e)/(1 + e) = (0.2689414, 0.7310586)
    const q = secPolicy(Float64Array.from([0, 0.4, 0.8]), 0.4, Uint8Array.from([1, 1, 0]));
    expect(Array.from(q).map((x) => Number(x.toFixed(7)))).toEqual([0.2689414, 0.7310586, 0]);
  });

  it('TD(0) update Q ← α·r + (1−α)·Q for seen categories only', () => {
    // c0: 0.5·0.6 + 0.5·0.2 = 0.4; c1 unseen stays 0.3
    const Q = secUpdate(Float64Array.from([0.2, 0.3]), Float64Array.from([0.6, 0.9]), Uint8Array.from([1, 0]), 0.5);
    expect(Q[0]).toBeCloseTo(0.4, 15);
    expect(Q[1]).toBe(0.3);
  });

  it('reward = mean over the category of the groups’ mean |Â|', () => {
    // group rewards [1,0,0,0]: mean .25, unbiased std .5 ⇒ Â = (1.5, −.5, −.5, −.5), mean |Â| = 0.75
    const m = groupMeanAbsAdvantage(Float64Array.from([1.5, -0.5, -0.5, -0.5, 0, 0]), Uint32Array.from([0, 4, 6]));
    expect(Array.from(m)).toEqual([0.75, 0]);
    // closed form 2·sqrt(â(1−â))·sqrt((n−1)/n) = 2·sqrt(.1875)·sqrt(.75) = 0.75
    expect(expectedMeanAbsAdvantage(1, 4)).toBeCloseTo(0.75, 15);
    expect(expectedMeanAbsAdvantage(0, 4)).toBe(0);
    // categories: c0 has groups with 0.75 and 0 ⇒ 0.375; c1 none
    const r = secRewards(Uint32Array.from([0, 0]), m, 2);
    expect(Array.from(r.r)).toEqual([0.375, 0]);
    expect(Array.from(r.seen)).toEqual([1, 0]);
  });

  it('bins difficulty into equal-width categories', () => {
    expect(Array.from(binDifficulty(Float64Array.from([0, 0.19, 0.2, 0.5, 0.99, 1, 1.2, -0.1]), 5))).toEqual([0, 0, 1, 2, 4, 4, 4, 0]);
  });

  it('select: B distinct prompts, per-category counts within sizes, deterministic', () => {
    const category = binDifficulty(Float64Array.from({ length: 50 }, (_, i) => i / 49), 5);
    const Q = Float64Array.from([0, 0, 1, 0, 0]);
    const key = { seed: 3, step: 1, purpose: 'select' };
    const a = secSelect(Q, 0.4, category, 20, key);
    const b = secSelect(Q, 0.4, category, 20, key);
    expect(Array.from(a.prompts)).toEqual(Array.from(b.prompts));
    expect(new Set(a.prompts).size).toBe(20);
    expect(a.slotsPerCategory.reduce((s, x) => s + x, 0)).toBe(20);
    for (const q of a.prompts) expect(a.slotsPerCategory[category[q]]).toBeGreaterThan(0);
    // category 2 has only 10 prompts: it can be exhausted but never over-drawn
    expect(a.slotsPerCategory[2]).toBeLessThanOrEqual(10);
    expect(a.slotsPerCategory[2]).toBeGreaterThan(a.slotsPerCategory[0]);
  });
});
