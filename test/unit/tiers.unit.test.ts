import { describe, expect, it } from 'vitest';
import {
  TIER_EASY,
  TIER_HARD,
  TIER_MEDIUM,
  batchHardMask,
  classifyTier,
  hintChannelSize,
  linearQuantile,
  paperAllocation,
  PAPER_TIER_DEFAULTS,
  referenceAllocation,
  referenceGroupSize,
} from '../../actors/shared/tiers.ts';

describe('paper tiers (failure space, d_easy = 0.3, d_hard = 0.8)', () => {
  it('classifies with strict inequalities: the thresholds themselves are medium', () => {
    expect(classifyTier(0.29, 0.3, 0.8)).toBe(TIER_EASY); // 0.29 < 0.3
    expect(classifyTier(0.3, 0.3, 0.8)).toBe(TIER_MEDIUM); // not < 0.3
    expect(classifyTier(0.5, 0.3, 0.8)).toBe(TIER_MEDIUM);
    expect(classifyTier(0.8, 0.3, 0.8)).toBe(TIER_MEDIUM); // not > 0.8
    expect(classifyTier(0.81, 0.3, 0.8)).toBe(TIER_HARD); // 0.81 > 0.8
    expect(classifyTier(0, 0.3, 0.8)).toBe(TIER_EASY);
    expect(classifyTier(1, 0.3, 0.8)).toBe(TIER_HARD);
  });

  it('allocates (4, 8, 16) rollouts and hint rows = round_half_even(16 · 0.5) = 8 for hard prompts', () => {
    const a = paperAllocation(Float64Array.from([0.1, 0.3, 0.6, 0.8, 0.95]));
    expect(Array.from(a.tier)).toEqual([TIER_EASY, TIER_MEDIUM, TIER_MEDIUM, TIER_MEDIUM, TIER_HARD]);
    expect(Array.from(a.groupSize)).toEqual([4, 8, 8, 8, 16]);
    expect(Array.from(a.hintRollouts)).toEqual([0, 0, 0, 0, 8]); // 16 · 0.5 = 8
  });

  it('hint fraction follows the n_mem rule with its forced bounds', () => {
    const d = Float64Array.from([0.9]);
    const hints = (f: number) => paperAllocation(d, { ...PAPER_TIER_DEFAULTS, hintFraction: f }).hintRollouts[0];
    expect(hints(0)).toBe(0); // off
    expect(hints(0.03)).toBe(1); // 16 · 0.03 = 0.48 → 0, forced up to 1 because mix > 0
    expect(hints(0.25)).toBe(4); // 16 · 0.25 = 4
    expect(hints(0.99)).toBe(15); // 16 · 0.99 = 15.84 → 16, forced down to 15 because mix < 1
    expect(hints(1)).toBe(16); // mix = 1: all hint rows allowed
  });

  it('rejects bad config and NaN difficulty with the field named', () => {
    expect(() => paperAllocation(Float64Array.from([0.5]), { ...PAPER_TIER_DEFAULTS, dEasy: 0.9 })).toThrow(/dEasy/);
    expect(() => paperAllocation(Float64Array.from([0.5]), { ...PAPER_TIER_DEFAULTS, groupSizes: { easy: 0, medium: 8, hard: 16 } })).toThrow(/groupSizes.easy/);
    expect(() => paperAllocation(Float64Array.from([0.5, Number.NaN]))).toThrow(/difficulty\[1\]/);
  });
});

describe('hintChannelSize (REF n_mem)', () => {
  it('n = 8, mix = 0.5 → 4 hint / 4 plain', () => {
    expect(hintChannelSize(8, 0.5)).toEqual({ nHint: 4, nPlain: 4 });
  });
  it('uses banker’s rounding: 8 · 0.3125 = 2.5 → 2 (Math.round would give 3)', () => {
    expect(hintChannelSize(8, 0.3125)).toEqual({ nHint: 2, nPlain: 6 });
  });
  it('clips mix to [0,1] and does not force bounds for n = 1', () => {
    expect(hintChannelSize(8, 1.7)).toEqual({ nHint: 8, nPlain: 0 }); // clipped to 1 → 8
    expect(hintChannelSize(8, -0.2)).toEqual({ nHint: 0, nPlain: 8 }); // clipped to 0
    expect(hintChannelSize(1, 0.5)).toEqual({ nHint: 0, nPlain: 1 }); // round(0.5) = 0, n = 1 ⇒ no forcing
  });
});

describe('reference allocation G = 2·round_half_even(n·d)', () => {
  it('n = 8 table from the spec', () => {
    // d = 0.0625: 8·0.0625 = 0.5 → round 0 → G = 0 (dropped)
    expect(referenceGroupSize(8, 0.0625)).toBe(0);
    // d = 0.1875: 8·0.1875 = 1.5 → round 2 → G = 4
    expect(referenceGroupSize(8, 0.1875)).toBe(4);
    // d = 0.25: 8·0.25 = 2 → G = 4
    expect(referenceGroupSize(8, 0.25)).toBe(4);
    // d = 0.3125: 8·0.3125 = 2.5 → round 2 (even) → G = 4 (Math.round would give 6)
    expect(referenceGroupSize(8, 0.3125)).toBe(4);
    // d = 0.5: 4 → G = 8
    expect(referenceGroupSize(8, 0.5)).toBe(8);
    // d = 1: 8 → G = 16
    expect(referenceGroupSize(8, 1)).toBe(16);
    // d = 0: 0 → G = 0
    expect(referenceGroupSize(8, 0)).toBe(0);
  });

  it('float ties: n = 9, d = 0.5 → 4.5 → 4 → G = 8; n = 5, d = 0.5 → 2.5 → 2 → G = 4', () => {
    expect(referenceGroupSize(9, 0.5)).toBe(8);
    expect(referenceGroupSize(5, 0.5)).toBe(4);
    // d = 1 − 0.7 = 0.30000000000000004: 5·d = 1.5000000000000002 (not a tie) → 2 → G = 4
    expect(referenceGroupSize(5, 1 - 0.7)).toBe(4);
  });

  it('clamps d outside [0,1] (our choice) and rejects NaN', () => {
    expect(referenceGroupSize(8, 1.2)).toBe(16); // clamped to 1
    expect(referenceGroupSize(8, -0.1)).toBe(0); // clamped to 0
    expect(() => referenceGroupSize(8, Number.NaN)).toThrow(/NaN/);
    expect(() => referenceGroupSize(0, 0.5)).toThrow(/n must be/);
  });

  it('batch allocation drops G = 0 prompts and keeps input order', () => {
    const a = referenceAllocation(Float64Array.from([0.5, 0.0625, 1, 0.25, 0]), 8);
    expect(Array.from(a.groupSize)).toEqual([8, 0, 16, 4, 0]);
    expect(Array.from(a.kept)).toEqual([0, 2, 3]);
    expect(Array.from(a.dropped)).toEqual([1, 4]);
  });
});

describe('batch-quantile hard rule (§8 step 2)', () => {
  it('linear quantile matches numpy', () => {
    const v = [0.1, 0.4, 0.2, 0.9, 0.6]; // sorted 0.1 0.2 0.4 0.6 0.9
    // q = 0.2: index 4·0.2 = 0.8 → between 0.1 and 0.2 at t = 0.8 → 0.1 + 0.8·0.1 = 0.18
    expect(linearQuantile(v, 0.2)).toBeCloseTo(0.18, 15);
    // q = 0.5: index 2 → 0.4
    expect(linearQuantile(v, 0.5)).toBe(0.4);
    // q = 0.7: index 2.8 → 0.4 + 0.8·(0.6 − 0.4) = 0.56
    expect(linearQuantile(v, 0.7)).toBeCloseTo(0.56, 15);
    expect(linearQuantile(v, 0)).toBe(0.1);
    expect(linearQuantile(v, 1)).toBe(0.9);
    expect(() => linearQuantile([], 0.5)).toThrow(/empty/);
    expect(() => linearQuantile(v, 1.5)).toThrow(/quantile level/);
  });

  it('hard = success label a = 1 − d ≤ the batch quantile of labels', () => {
    // labels a = [0.1, 0.4, 0.2, 0.9, 0.6] given as d = 1 − a
    const d = Float64Array.from([0.9, 0.6, 0.8, 0.1, 0.4]);
    // 20 % quantile ≈ 0.18 → only a = 0.1 is ≤ it
    expect(Array.from(batchHardMask(d, 0.2))).toEqual([1, 0, 0, 0, 0]);
    // 50 % quantile = 0.4 → a ∈ {0.1, 0.4, 0.2}
    expect(Array.from(batchHardMask(d, 0.5))).toEqual([1, 1, 1, 0, 0]);
  });

  it('identical labels: the quantile equals them, so every prompt is hard', () => {
    expect(Array.from(batchHardMask(Float64Array.from([0.7, 0.7, 0.7]), 0.2))).toEqual([1, 1, 1]);
  });

  it('threshold 0 marks the lowest label(s); empty batch gives an empty mask', () => {
    expect(Array.from(batchHardMask(Float64Array.from([0.2, 0.9, 0.5]), 0))).toEqual([0, 1, 0]);
    expect(batchHardMask(new Float64Array(0), 0.2).length).toBe(0);
  });
});
