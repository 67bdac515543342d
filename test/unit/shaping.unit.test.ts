import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { easyRamp, hardRamp, shapeRewards, shapingParams, SHAPING_DEFAULTS } from '../../actors/learner/shaping.ts';
import { TIER_EASY, TIER_HARD, TIER_MEDIUM } from '../../actors/shared/tiers.ts';

describe('shaping thresholds: failure-space config → success-space τ', () => {
  it('README (0.3, 0.8) failure → τ_e = 0.7, τ_h = 0.2 success', () => {
    const p = shapingParams(SHAPING_DEFAULTS);
    expect(p.tauEasy).toBe(1 - 0.3); // = 0.7 in binary too
    expect(p.tauEasy).toBe(0.7);
    expect(p.tauHard).toBeCloseTo(0.2, 15); // 1 − 0.8 = 0.19999999999999996
    expect(p.lambdaEasy).toBe(1e-4);
    expect(p.lambdaHard).toBe(1e-4);
  });
  it('rejects thresholds outside [0,1], negative coefficients and unknown modes', () => {
    expect(() => shapingParams({ ...SHAPING_DEFAULTS, dEasy: 1.3 })).toThrow(/dEasy/);
    expect(() => shapingParams({ ...SHAPING_DEFAULTS, lambdaHard: -1 })).toThrow(/lambdaHard/);
    expect(() => shapingParams({ ...SHAPING_DEFAULTS, mode: 'tiers' as never })).toThrow(/mode/);
  });
});

describe('ramps', () => {
  it('easy ramp: (a − τ_e)/(1 − τ_e) clipped to [0,1]', () => {
    expect(easyRamp(0.85, 0.7)).toBeCloseTo(0.5, 12); // (0.85 − 0.7)/0.3 = 0.5
    expect(easyRamp(1, 0.7)).toBeCloseTo(1, 12); // (1 − 0.7)/0.3 = 1
    expect(easyRamp(0.5, 0.7)).toBe(0); // negative → 0
    expect(easyRamp(1, 1)).toBe(0); // (1 − 1)/max(0, 1e-8) = 0
  });
  it('hard ramp: (τ_h − a)/τ_h clipped to [0,1]', () => {
    expect(hardRamp(0.1, 0.2)).toBeCloseTo(0.5, 12); // (0.2 − 0.1)/0.2
    expect(hardRamp(0, 0.2)).toBe(1); // 0.2/0.2
    expect(hardRamp(0.5, 0.2)).toBe(0); // negative → 0
    expect(hardRamp(0, 0)).toBe(0); // (0 − 0)/1e-8 = 0
  });
});

describe('shapeRewards, reference mode (ramps on realized group success)', () => {
  // τ_e = 1 − 0.3 = 0.7, τ_h = 1 − 0.8 ≈ 0.2, λ = 0.1 (large so the numbers are readable), L_max = 1000.
  const p = shapingParams({ mode: 'reference', dEasy: 0.3, dHard: 0.8, lambdaEasy: 0.1, lambdaHard: 0.1 });
  const rows = {
    reward: Float64Array.from([1, 0, 0, 1]),
    length: Uint32Array.from([500, 500, 800, 800]),
    groupSuccess: Float64Array.from([0.85, 0.85, 0.1, 0.1]),
  };
  const out = shapeRewards(rows, p, 1000);

  it('row 0: correct, easy group → penalty 0.1 · 0.5 · 500/1000 = 0.025 → 0.975', () => {
    // w_e = (0.85 − 0.7)/0.3 = 0.5
    expect(out.penalty[0]).toBeCloseTo(0.025, 12);
    expect(out.shaped[0]).toBeCloseTo(0.975, 12);
    expect(out.bonus[0]).toBe(0);
  });
  it('row 1: wrong, but group success 0.85 > τ_h → no bonus; wrong rows are never penalised', () => {
    expect(out.shaped[1]).toBe(0);
    expect(out.penalty[1]).toBe(0);
    expect(out.bonus[1]).toBe(0);
  });
  it('row 2: wrong, hard group → bonus 0.1 · 0.5 · 800/1000 = 0.04', () => {
    // w_h = (0.2 − 0.1)/0.2 = 0.5
    expect(out.bonus[2]).toBeCloseTo(0.04, 12);
    expect(out.shaped[2]).toBeCloseTo(0.04, 12);
  });
  it('row 3: correct in a hard group → w_e = 0, unchanged (bonus only for wrong rows)', () => {
    expect(out.shaped[3]).toBe(1);
  });
  it('the bonus is bounded by λ_hard (at w_h = 1 and L = L_max)', () => {
    const o = shapeRewards(
      { reward: Float64Array.from([0]), length: Uint32Array.from([1000]), groupSuccess: Float64Array.from([0]) },
      p,
      1000,
    );
    expect(o.shaped[0]).toBeCloseTo(0.1, 15); // 0 + 0.1 · 1 · 1
  });
  it('coefficient 0 turns a mechanism off', () => {
    const off = shapingParams({ mode: 'reference', dEasy: 0.3, dHard: 0.8, lambdaEasy: 0, lambdaHard: 0 });
    expect(Array.from(shapeRewards(rows, off, 1000).shaped)).toEqual([1, 0, 0, 1]);
  });
  it('validates row counts, lengths and group success with the row named', () => {
    expect(() => shapeRewards({ ...rows, length: Uint32Array.from([1, 2]) }, p, 1000)).toThrow(/length has 2 rows/);
    expect(() => shapeRewards({ ...rows, length: Uint32Array.from([1, 2, 3, 2000]) }, p, 1000)).toThrow(/length\[3\]/);
    expect(() => shapeRewards({ ...rows, groupSuccess: Float64Array.from([0.1, 1.5, 0, 0]) }, p, 1000)).toThrow(/groupSuccess\[1\]/);
    expect(() => shapeRewards(rows, p, 0)).toThrow(/lMax/);
  });
  it('property: penalty ≤ λ_easy on correct rows only, bonus ≤ λ_hard on wrong rows only', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.constantFrom(0, 1), fc.integer({ min: 0, max: 1000 }), fc.double({ min: 0, max: 1, noNaN: true })), { minLength: 1, maxLength: 20 }),
        (xs) => {
          const o = shapeRewards(
            {
              reward: Float64Array.from(xs.map((x) => x[0])),
              length: Uint32Array.from(xs.map((x) => x[1])),
              groupSuccess: Float64Array.from(xs.map((x) => x[2])),
            },
            p,
            1000,
          );
          xs.forEach(([r], i) => {
            expect(o.penalty[i]).toBeGreaterThanOrEqual(0);
            expect(o.bonus[i]).toBeGreaterThanOrEqual(0);
            expect(o.penalty[i]).toBeLessThanOrEqual(0.1);
            expect(o.bonus[i]).toBeLessThanOrEqual(0.1);
            if (r > 0) expect(o.bonus[i]).toBe(0);
            else expect(o.penalty[i]).toBe(0);
          });
        },
      ),
    );
  });
});

describe('shapeRewards, paper mode (tier-based)', () => {
  const p = shapingParams({ mode: 'paper', dEasy: 0.3, dHard: 0.8, lambdaEasy: 0.1, lambdaHard: 0.1 });
  it('easy tier ⇒ full penalty on correct rows, hard tier ⇒ full bonus on wrong rows, medium untouched', () => {
    const o = shapeRewards(
      {
        reward: Float64Array.from([1, 0, 0, 1, 1]),
        length: Uint32Array.from([500, 500, 800, 800, 300]),
        groupSuccess: new Float64Array(5), // ignored in paper mode
        tier: Uint8Array.from([TIER_EASY, TIER_EASY, TIER_HARD, TIER_HARD, TIER_MEDIUM]),
      },
      p,
      1000,
    );
    // row 0: 1 − 0.1 · 500/1000 = 0.95; row 1: wrong easy → 0; row 2: 0 + 0.1 · 800/1000 = 0.08;
    // row 3: correct hard → 1; row 4: medium → 1
    expect(o.shaped[0]).toBeCloseTo(0.95, 15);
    expect(o.shaped[1]).toBe(0);
    expect(o.shaped[2]).toBeCloseTo(0.08, 15);
    expect(o.shaped[3]).toBe(1);
    expect(o.shaped[4]).toBe(1);
  });
  it('needs the tier column', () => {
    expect(() =>
      shapeRewards({ reward: Float64Array.from([1]), length: Uint32Array.from([1]), groupSuccess: Float64Array.from([1]) }, p, 10),
    ).toThrow(/tier/);
  });
});

describe('shapeRewards, mixed groups only (learner.shapingGroups = mixed)', () => {
  // paper mode, λ = 0.1, L_max = 1000. Rows 0–1: an all-wrong hard group; rows 2–3: a mixed hard group;
  // rows 4–5: an all-right easy group; rows 6–7: a mixed easy group.
  const p = shapingParams({ mode: 'paper', dEasy: 0.3, dHard: 0.8, lambdaEasy: 0.1, lambdaHard: 0.1, groups: 'mixed' });
  const rows = {
    reward: Float64Array.of(0, 0, 0, 1, 1, 1, 1, 0),
    length: Float64Array.of(200, 600, 500, 100, 300, 900, 400, 100),
    groupSuccess: Float64Array.of(0, 0, 0.5, 0.5, 1, 1, 0.5, 0.5),
    tier: Uint8Array.of(TIER_HARD, TIER_HARD, TIER_HARD, TIER_HARD, TIER_EASY, TIER_EASY, TIER_EASY, TIER_EASY),
    mixed: Uint8Array.of(0, 0, 1, 1, 0, 0, 1, 1),
  };
  it('leaves the all-wrong and all-right groups as they are and shapes the mixed ones by hand: bonus 0.1 · 0.5, penalty 0.1 · 0.4', () => {
    const r = shapeRewards(rows, p, 1000);
    expect([...r.bonus]).toEqual([0, 0, 0.1 * 0.5, 0, 0, 0, 0, 0]);
    expect(r.penalty[6]).toBeCloseTo(0.1 * 0.4, 15);
    expect([...r.penalty].filter((_, i) => i !== 6)).toEqual([0, 0, 0, 0, 0, 0, 0]);
    expect([...r.shaped]).toEqual([0, 0, 0.05, 1, 1, 1, 1 - r.penalty[6], 0]);
  });
  it('groups = all shapes the flat groups too (the reference), and mixed needs the per-row flags', () => {
    const all = shapeRewards(rows, shapingParams({ mode: 'paper', dEasy: 0.3, dHard: 0.8, lambdaEasy: 0.1, lambdaHard: 0.1 }), 1000);
    expect(all.bonus[0]).toBeCloseTo(0.02, 15);
    expect(all.bonus[1]).toBeCloseTo(0.06, 15);
    expect(all.penalty[5]).toBeCloseTo(0.09, 15);
    expect(() => shapeRewards({ ...rows, mixed: undefined }, p, 1000)).toThrow(/mixed must have 8 rows/);
    expect(() => shapingParams({ ...SHAPING_DEFAULTS, groups: 'some' as never })).toThrow(/groups/);
  });
});
