import { describe, expect, it } from 'vitest';
import { AGGREGATION_MODES, clipBounds, referenceClipPair } from '../../actors/learner/clipBounds.ts';
import { TIER_EASY, TIER_HARD, TIER_MEDIUM } from '../../actors/shared/tiers.ts';

describe('reference clip bounds: one global pair', () => {
  it('defaults to 1 ∓ ε with ε = 0.2', () => {
    const b = clipBounds({ mode: 'reference' }, 3);
    expect(Array.from(b.lo)).toEqual([0.8, 0.8, 0.8]); // 1 − 0.2
    expect(Array.from(b.hi)).toEqual([1.2, 1.2, 1.2]); // 1 + 0.2
  });
  it('absolute bounds override ε independently', () => {
    expect(referenceClipPair({ eps: 0.2, lowerBound: 0.7, upperBound: 1.28 })).toEqual({ lo: 0.7, hi: 1.28 });
    expect(referenceClipPair({ eps: 0.1, upperBound: 1.5 })).toEqual({ lo: 0.9, hi: 1.5 }); // lo = 1 − 0.1
    expect(referenceClipPair({ eps: 0.1, lowerBound: null, upperBound: null })).toEqual({ lo: 0.9, hi: 1.1 });
  });
  it('requires 0 < lo ≤ hi', () => {
    expect(() => clipBounds({ mode: 'reference', lowerBound: 1.3, upperBound: 1.2 }, 1)).toThrow(/0 < lo ≤ hi.*lo=1.3, hi=1.2/);
    expect(() => clipBounds({ mode: 'reference', eps: 1 }, 1)).toThrow(/0 < lo ≤ hi/); // lo = 1 − 1 = 0
    expect(() => clipBounds({ mode: 'reference', lowerBound: -0.5 }, 1)).toThrow(/0 < lo ≤ hi/);
    expect(referenceClipPair({ lowerBound: 1, upperBound: 1 })).toEqual({ lo: 1, hi: 1 }); // lo = hi allowed
  });
});

describe('paper clip bounds: relaxed ε⁺ for easy rows', () => {
  it('easy rows get hi = 1 + ε⁺, others 1 + ε; lo = 1 − ε everywhere', () => {
    const tier = Uint8Array.from([TIER_EASY, TIER_MEDIUM, TIER_HARD, TIER_EASY]);
    const b = clipBounds({ mode: 'paper', eps: 0.2, epsHighEasy: 0.3 }, 4, tier);
    expect(Array.from(b.lo)).toEqual([0.8, 0.8, 0.8, 0.8]);
    expect(Array.from(b.hi)).toEqual([1.3, 1.2, 1.2, 1.3]); // 1 + 0.3 for easy, 1 + 0.2 otherwise
  });
  it('default ε⁺ is 0.28', () => {
    const b = clipBounds({ mode: 'paper' }, 1, Uint8Array.from([TIER_EASY]));
    expect(b.hi[0]).toBeCloseTo(1.28, 15);
  });
  it('needs one tier per row', () => {
    expect(() => clipBounds({ mode: 'paper' }, 2, Uint8Array.from([TIER_EASY]))).toThrow(/tier must have 2 rows/);
  });
});

describe('DAPO clip-higher', () => {
  it('0.2 / 0.28 ⇒ lo = 0.8, hi = 1.28 on every row', () => {
    const b = clipBounds({ mode: 'dapo' }, 2);
    expect(Array.from(b.lo)).toEqual([0.8, 0.8]);
    expect(b.hi[0]).toBeCloseTo(1.28, 15);
    expect(b.hi[1]).toBeCloseTo(1.28, 15);
  });
  it('rejects ε_low ≥ 1', () => {
    expect(() => clipBounds({ mode: 'dapo', epsLow: 1.2 }, 1)).toThrow(/dapo/);
  });
});

describe('aggregation modes', () => {
  it('lists exactly the worker protocol’s modes', () => {
    expect([...AGGREGATION_MODES].sort()).toEqual(['seq-mean-token-mean', 'seq-mean-token-sum-norm', 'token-mean', 'weighted-token-sum']);
  });
  it('rejects an unknown clip mode', () => {
    expect(() => clipBounds({ mode: 'dual' } as never, 1)).toThrow(/unknown mode/);
  });
});
