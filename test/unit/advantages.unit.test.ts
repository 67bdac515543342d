import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { GRPO_EPS, groupAdvantages, groupMoments } from '../../actors/learner/advantages.ts';
import { shapeRewards, shapingParams, SHAPING_DEFAULTS } from '../../actors/learner/shaping.ts';

describe('GRPO advantages (unbiased std + 1e-6)', () => {
  it('singleton group: mean 0, std 1 ⇒ A = S/(1 + 1e-6)', () => {
    const a = groupAdvantages(Float64Array.from([1, 0]), ['g1', 'g2']);
    expect(a[0]).toBeCloseTo(1 / 1.000001, 15); // = 0.999999000001
    expect(a[0]).toBeCloseTo(0.999999000001, 12);
    expect(a[1]).toBe(0); // 0/(1 + 1e-6)
  });

  it('zero-variance group ⇒ all 0, also for identical non-0/1 scores', () => {
    const a = groupAdvantages(Float64Array.from([1, 1, 1, 0.1, 0.1, 0.1]), [7, 7, 7, 8, 8, 8]);
    // 0.1 + 0.1 + 0.1 = 0.30000000000000004 in binary; the explicit zero-variance rule still gives exactly 0
    expect(Array.from(a)).toEqual([0, 0, 0, 0, 0, 0]);
  });

  it('mixed group [1,0,0,0]: mean 0.25, unbiased std 0.5', () => {
    // deviations 0.75, −0.25 ×3; Σdev² = 0.5625 + 3·0.0625 = 0.75; var = 0.75/3 = 0.25; std = 0.5
    // A = 0.75/(0.5 + 1e-6) = 1.499997000006; −0.25/0.500001 = −0.499999000002
    const a = groupAdvantages(Float64Array.from([1, 0, 0, 0]), [3, 3, 3, 3]);
    expect(a[0]).toBeCloseTo(1.499997000006, 12);
    for (const i of [1, 2, 3]) expect(a[i]).toBeCloseTo(-0.499999000002, 12);
  });

  it('groups need not be contiguous; ids may be strings or numbers', () => {
    // group x = rows 0, 2 → [1, 0]: mean 0.5, std = sqrt((0.25+0.25)/1) = 0.7071067811865476
    // A = ±0.5/(0.7071067811865476 + 1e-6) = ±0.7071057812...
    const a = groupAdvantages(Float64Array.from([1, 1, 0, 0]), ['x', 'y', 'x', 'y']);
    const expected = 0.5 / (Math.SQRT1_2 + 1e-6);
    expect(a[0]).toBeCloseTo(0.70710578, 8);
    expect(a[0]).toBeCloseTo(expected, 15);
    expect(a[2]).toBeCloseTo(-expected, 15);
    expect(a[1]).toBeCloseTo(expected, 15);
    expect(a[3]).toBeCloseTo(-expected, 15);
  });

  it('group moments report size, mean and unbiased std', () => {
    const m = groupMoments(Float64Array.from([1, 0, 0, 0, 5]), [1, 1, 1, 1, 2]);
    expect(Array.from(m.size)).toEqual([4, 1]);
    expect(m.mean[0]).toBe(0.25);
    expect(m.std[0]).toBe(0.5);
    expect(m.mean[1]).toBe(0); // singleton convention
    expect(m.std[1]).toBe(1);
  });

  it('validates inputs', () => {
    expect(() => groupAdvantages(Float64Array.from([1, 2]), [1])).toThrow(/groupId has 1 rows/);
    expect(() => groupAdvantages(Float64Array.from([1, Number.NaN]), [1, 1])).toThrow(/score\[1\]/);
    expect(() => groupAdvantages(Float64Array.from([1]), [1], 'ppo' as never)).toThrow(/unknown estimator/);
  });

  it('property: advantages of every non-singleton group sum to 0; shifting a group leaves them unchanged', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.integer({ min: 0, max: 4 }), fc.double({ min: -2, max: 2, noNaN: true })), { minLength: 1, maxLength: 40 }),
        fc.double({ min: -3, max: 3, noNaN: true }),
        (rows, shift) => {
          const ids = rows.map((r) => r[0]);
          const s = Float64Array.from(rows.map((r) => r[1]));
          const a = groupAdvantages(s, ids);
          const m = groupMoments(s, ids);
          const sums = new Float64Array(m.size.length);
          const absMax = new Float64Array(m.size.length);
          a.forEach((x, i) => {
            sums[m.groupOf[i]] += x;
            absMax[m.groupOf[i]] = Math.max(absMax[m.groupOf[i]], Math.abs(x));
          });
          for (let g = 0; g < sums.length; g++) {
            if (m.size[g] > 1) expect(Math.abs(sums[g])).toBeLessThanOrEqual(1e-9 * (1 + absMax[g]) * m.size[g]);
          }
          // shift invariance (only where the group is not degenerate at float resolution)
          const shifted = groupAdvantages(s.map((x) => x + shift), ids);
          a.forEach((x, i) => {
            const g = m.groupOf[i];
            if (m.size[g] > 1 && m.std[g] > 1e-3) expect(shifted[i]).toBeCloseTo(x, 6);
          });
        },
      ),
    );
  });
});

describe('Dr. GRPO advantages (no std)', () => {
  it('A = S − mean; singleton: A = S', () => {
    // group 1 = [1,0,0,0]: mean 0.25 → 0.75, −0.25 ×3; group 2 = [1] singleton → 1
    const a = groupAdvantages(Float64Array.from([1, 0, 0, 0, 1]), [1, 1, 1, 1, 2], 'dr-grpo');
    expect(Array.from(a)).toEqual([0.75, -0.25, -0.25, -0.25, 1]);
  });
  it('zero-variance group ⇒ 0', () => {
    expect(Array.from(groupAdvantages(Float64Array.from([1, 1]), [1, 1], 'dr-grpo'))).toEqual([0, 0]);
  });
});

describe('the λ = 1e-4 effect (§7.2)', () => {
  const p = shapingParams(SHAPING_DEFAULTS); // τ_e = 0.7, λ_easy = λ_hard = 1e-4
  it('all-correct group with length penalty gets ±O(1) advantages ranking by length', () => {
    // a_g = 1 ⇒ w_e = (1 − 0.7)/0.3 = 1. L_max = 1000, L = 100, 200, 300, 400:
    // S = 1 − 1e-4·L/1000 = 1 − 1e-5, 1 − 2e-5, 1 − 3e-5, 1 − 4e-5; mean = 1 − 2.5e-5
    // deviations +1.5e-5, +0.5e-5, −0.5e-5, −1.5e-5; Σdev² = (2.25 + 0.25 + 0.25 + 2.25)e-10 = 5e-10
    // std = sqrt(5e-10/3) = 1.2909944e-5; std + 1e-6 = 1.3909944e-5
    // A = 1.5e-5/1.3909944e-5 = 1.0783652, 0.5e-5/1.3909944e-5 = 0.3594551
    const shaped = shapeRewards(
      { reward: Float64Array.from([1, 1, 1, 1]), length: Uint32Array.from([100, 200, 300, 400]), groupSuccess: Float64Array.from([1, 1, 1, 1]) },
      p,
      1000,
    ).shaped;
    const a = groupAdvantages(shaped, [0, 0, 0, 0]);
    expect(a[0]).toBeCloseTo(1.0783652, 6);
    expect(a[1]).toBeCloseTo(0.3594551, 6);
    expect(a[2]).toBeCloseTo(-0.3594551, 6);
    expect(a[3]).toBeCloseTo(-1.0783652, 6);
    // without shaping the same group has no signal at all
    expect(Array.from(groupAdvantages(Float64Array.from([1, 1, 1, 1]), [0, 0, 0, 0]))).toEqual([0, 0, 0, 0]);
  });

  it('all-wrong hard group with the length bonus: longer wrong answers get positive advantages', () => {
    // a_g = 0 ⇒ w_h = 1. S = 1e-4·L/1000 = 1e-5, 2e-5, 3e-5, 4e-5 → same magnitudes, sign flipped
    const shaped = shapeRewards(
      { reward: new Float64Array(4), length: Uint32Array.from([100, 200, 300, 400]), groupSuccess: new Float64Array(4) },
      p,
      1000,
    ).shaped;
    const a = groupAdvantages(shaped, [0, 0, 0, 0]);
    expect(a[0]).toBeCloseTo(-1.0783652, 6);
    expect(a[3]).toBeCloseTo(1.0783652, 6);
  });

  it('in a mixed group the length term is negligible', () => {
    // [1,1,0,0] with a_g = 1 would be impossible; take a_g = 0.75 (w_e = 0.05/0.3 = 1/6):
    // penalties ≤ 1e-4 · (1/6) · 0.4 ≈ 6.7e-6, vs. std = sqrt(1/3) ≈ 0.577 ⇒ A ≈ ±0.5/0.577351 = ±0.866024
    const shaped = shapeRewards(
      { reward: Float64Array.from([1, 1, 0, 0]), length: Uint32Array.from([100, 400, 100, 400]), groupSuccess: Float64Array.from([0.75, 0.75, 0.75, 0.75]) },
      p,
      1000,
    ).shaped;
    const a = groupAdvantages(shaped, [0, 0, 0, 0]);
    expect(a[0]).toBeCloseTo(0.866024, 4);
    expect(a[1]).toBeCloseTo(0.866024, 4);
    expect(a[2]).toBeCloseTo(-0.866024, 4);
    expect(Math.abs(a[0] - a[1])).toBeLessThan(1e-4); // length barely matters here
  });

  it('uses the exact eps 1e-6', () => {
    expect(GRPO_EPS).toBe(1e-6);
  });
});
