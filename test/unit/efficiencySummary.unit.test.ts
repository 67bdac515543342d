/**
 * The efficiency study's arithmetic (bench/efficiency/summary.ts) against values worked out by hand:
 * where a curve crosses a target, the accuracy at a budget, quantiles, and the median/spread across seeds
 * when some seeds never reached the target.
 */
import { describe, expect, it } from 'vitest';
import { accuracyAtBudget, median, medianCurve, quantile, rolloutsToTarget, spread } from '../../bench/efficiency/summary.ts';

const curve = [
  { rollouts: 0, accuracy: 0.5 },
  { rollouts: 100, accuracy: 0.6 },
  { rollouts: 300, accuracy: 0.8 },
];

describe('rolloutsToTarget', () => {
  it('interpolates linearly between the last point below and the first at or above the target', () => {
    // 0.7 lies halfway from 0.6 (100 rollouts) to 0.8 (300 rollouts): 100 + 0.5·200 = 200
    expect(rolloutsToTarget(curve, 0.7)).toBeCloseTo(200, 9);
    // 0.65: a quarter of the way: 100 + 0.25·200 = 150
    expect(rolloutsToTarget(curve, 0.65)).toBeCloseTo(150, 9);
  });
  it('takes a point that equals the target as is, and the first point when the curve starts above it', () => {
    expect(rolloutsToTarget(curve, 0.6)).toBe(100);
    expect(rolloutsToTarget(curve, 0.4)).toBe(0);
  });
  it('is null when the target is never reached', () => {
    expect(rolloutsToTarget(curve, 0.81)).toBeNull();
    expect(rolloutsToTarget([], 0.5)).toBeNull();
  });
  it('uses the first crossing when the curve dips back below the target', () => {
    const wobbly = [{ rollouts: 0, accuracy: 0.5 }, { rollouts: 10, accuracy: 0.9 }, { rollouts: 20, accuracy: 0.6 }, { rollouts: 30, accuracy: 0.95 }];
    // 0.5 → 0.9 over 10 rollouts crosses 0.7 at 5
    expect(rolloutsToTarget(wobbly, 0.7)).toBeCloseTo(5, 9);
  });
  it('refuses a curve whose rollouts decrease, naming the point', () => {
    expect(() => rolloutsToTarget([{ rollouts: 5, accuracy: 0.1 }, { rollouts: 4, accuracy: 0.2 }], 0.15)).toThrow(/point 1: 4 after 5/);
  });
});

describe('accuracyAtBudget', () => {
  it('interpolates between the points around the budget', () => {
    expect(accuracyAtBudget(curve, 50)).toBeCloseTo(0.55, 12);
    // 250: 0.6 + (150/200)·0.2 = 0.75
    expect(accuracyAtBudget(curve, 250)).toBeCloseTo(0.75, 12);
    expect(accuracyAtBudget(curve, 300)).toBeCloseTo(0.8, 12);
  });
  it('gives the first accuracy before the first point and null beyond the last', () => {
    expect(accuracyAtBudget(curve, 0)).toBe(0.5);
    expect(accuracyAtBudget(curve, 301)).toBeNull();
    expect(accuracyAtBudget([], 10)).toBeNull();
  });
});

describe('quantile, median', () => {
  it('follows the linear rule between order statistics', () => {
    expect(median([4, 1, 3, 2])).toBe(2.5);
    expect(median([5, 1, 3])).toBe(3);
    // [1,2,3,4] at q = 0.25: position 0.75 → 1 + 0.75·1
    expect(quantile([1, 2, 3, 4], 0.25)).toBeCloseTo(1.75, 12);
    expect(quantile([7], 0.9)).toBe(7);
    expect(Number.isNaN(median([]))).toBe(true);
  });
});

describe('spread across seeds', () => {
  it('gives median, min and max of complete seeds', () => {
    expect(spread([300, 100, 200, 500, 400])).toEqual({ median: 300, min: 100, max: 500, reached: 5, seeds: 5 });
    expect(spread([10, 20])).toEqual({ median: 15, min: 10, max: 20, reached: 2, seeds: 2 });
  });
  it('ranks a seed that never reached the target above every value', () => {
    // sorted [1, 2, 3, 5, missing]: the median is the 3rd of 5 = 3; the max is unknown
    expect(spread([3, 1, 2, null, 5])).toEqual({ median: 3, min: 1, max: null, reached: 4, seeds: 5 });
    // [1, missing, missing]: the median is a missing seed
    expect(spread([null, null, 1])).toEqual({ median: null, min: 1, max: null, reached: 1, seeds: 3 });
    // [2, 4, missing, missing]: median between the 2nd and 3rd = between 4 and a missing seed → unknown
    expect(spread([2, null, 4, null]).median).toBeNull();
    expect(spread([null, null])).toEqual({ median: null, min: null, max: null, reached: 0, seeds: 2 });
  });
});

describe('medianCurve', () => {
  it('is the per-point median of the seeds on a common grid, leaving out points most seeds did not reach', () => {
    const a = [{ rollouts: 0, accuracy: 0.5 }, { rollouts: 100, accuracy: 0.7 }];
    const b = [{ rollouts: 0, accuracy: 0.5 }, { rollouts: 200, accuracy: 0.9 }];
    const c = [{ rollouts: 0, accuracy: 0.4 }, { rollouts: 200, accuracy: 0.6 }];
    // at 100: a 0.7, b 0.7, c 0.5 → 0.7; at 200: only b and c have it (2 of 3 > half) → median 0.75
    expect(medianCurve([a, b, c], [0, 100, 200])).toEqual([
      { rollouts: 0, accuracy: 0.5 },
      { rollouts: 100, accuracy: 0.7 },
      { rollouts: 200, accuracy: 0.75 },
    ]);
    // at 200 with only 1 of 2 curves there: left out
    expect(medianCurve([a, b], [200])).toEqual([]);
  });
});
