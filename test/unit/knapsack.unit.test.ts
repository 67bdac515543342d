import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { knapsackAllocate, knapsackEstimate, knapsackMarginalGain, knapsackValue } from '../../actors/sampler/knapsack.ts';

describe('Knapsack value V(N, p) = (1 − p^N − (1−p)^N)·p(1−p)²', () => {
  it('hand values and the marginal gain identity', () => {
    // V(2, 0.5) = (1 − 0.25 − 0.25)·0.5·0.25 = 0.0625
    expect(knapsackValue(2, 0.5)).toBe(0.0625);
    // V(4, 0.3) = (1 − 0.0081 − 0.2401)·0.3·0.49 = 0.7518·0.147 = 0.1105146
    expect(knapsackValue(4, 0.3)).toBeCloseTo(0.1105146, 14);
    // ΔV(2, 0.3) = (0.09·0.7 + 0.49·0.3)·0.147 = 0.21·0.147 = 0.03087
    expect(knapsackMarginalGain(2, 0.3)).toBeCloseTo(0.03087, 14);
    for (const [N, p] of [[2, 0.3], [5, 0.9], [1, 0.5]]) {
      expect(knapsackMarginalGain(N, p)).toBeCloseTo(knapsackValue(N + 1, p) - knapsackValue(N, p), 15);
    }
    expect(knapsackValue(10, 0)).toBe(0);
    expect(knapsackValue(10, 1)).toBe(0);
  });

  it('success estimate from history: latest group if ≥ 16 rows, else the latest 16 rewards; valid at ≥ 8', () => {
    // 4 + 8 = 12 rewards < 16: all of them, 6 hits ⇒ 0.5
    expect(knapsackEstimate([[1, 0, 1, 0], [1, 1, 1, 1, 0, 0, 0, 0]])).toEqual({ p: 0.5, valid: true, observed: 12 });
    // latest 16 across groups: [0,0,0,0 | 1 ×12] ⇒ 12/16
    expect(knapsackEstimate([[1, 1, 1, 1, 0, 0, 0, 0], new Array(12).fill(1)]).p).toBe(0.75);
    // latest group of 16: only it counts
    expect(knapsackEstimate([new Array(8).fill(1), [...new Array(4).fill(1), ...new Array(12).fill(0)]]).p).toBe(0.25);
    expect(knapsackEstimate([[1, 0, 1]]).valid).toBe(false);
  });
});

describe('Knapsack allocation', () => {
  it('small case by hand: W = 11, n = 4; invalid A, B (p = 0.5), C (p = 0.3)', () => {
    // minimums 4 + 2 + 2 = 8 ⇒ R = 3. Fallback need = ln .1/ln .5 + ln .1/ln .7 = 3.32 + 6.46 = 9.78 ≥ 3 ⇒ none.
    // gains: B@2 = (.25·.5 + .25·.5)·.125 = .03125; C@2 = .03087 ⇒ B→3 (B@3 = .015625)
    //        C@2 = .03087 ⇒ C→3 (C@3 = (.027·.7 + .343·.3)·.147 = .0179046) ⇒ C→4. Result (4, 3, 4).
    const a = knapsackAllocate(Float64Array.from([0, 0.5, 0.3]), Uint8Array.from([0, 1, 1]), { budget: 11, n: 4 });
    expect(Array.from(a.rollouts)).toEqual([4, 3, 4]);
    expect([a.fallback, a.greedy, a.remainder]).toEqual([0, 3, 0]);
  });

  it('fallback surplus goes to the valid p = 0 prompts first', () => {
    // Z (p = 0) 2, E (p = 0.5) 2 ⇒ R = 16; need = min(8, 3.32) = 3.32 < 16 ⇒ surplus ⌊12.68⌋ = 12 to Z ⇒ Z = 14
    // R = 4 ⇒ greedy E 2 → 6 (N_max 8). Total 14 + 6 = 20.
    const a = knapsackAllocate(Float64Array.from([0, 0.5]), Uint8Array.from([1, 1]), { budget: 20, n: 4, nMax: 8 });
    expect(Array.from(a.rollouts)).toEqual([14, 6]);
    expect(a.fallback).toBe(12);
  });

  it('capped effective prompts: the remainder is spread evenly over them', () => {
    // one effective prompt, N_max 4, W = 10: greedy 2 → 4, remainder 6 ⇒ 10
    const a = knapsackAllocate(Float64Array.from([0.5]), Uint8Array.from([1]), { budget: 10, n: 8, nMax: 4 });
    expect(Array.from(a.rollouts)).toEqual([10]);
    expect(a.remainder).toBe(6);
  });

  it('a budget below the minimums is an error', () => {
    expect(() => knapsackAllocate(Float64Array.from([0.5, 0.5]), Uint8Array.from([0, 0]), { budget: 10, n: 8 })).toThrow(/needs 16 rollouts, budget is 10/);
  });

  it('property: the allocation always sums to W and respects the minimums', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.oneof(fc.constant(0), fc.constant(1), fc.double({ min: 0.01, max: 0.99, noNaN: true })), fc.boolean()), { minLength: 1, maxLength: 30 }),
        fc.nat(400),
        fc.integer({ min: 2, max: 16 }),
        fc.integer({ min: 2, max: 64 }),
        (items, extra, n, nMax) => {
          const p = Float64Array.from(items, (x) => x[0]);
          const valid = Uint8Array.from(items, (x) => (x[1] ? 1 : 0));
          const min = items.reduce((s, [, v]) => s + (v ? 2 : n), 0);
          const W = min + extra;
          const a = knapsackAllocate(p, valid, { budget: W, n, nMax });
          expect(a.rollouts.reduce((s, x) => s + x, 0)).toBe(W);
          items.forEach(([, v], i) => expect(a.rollouts[i]).toBeGreaterThanOrEqual(v ? 2 : n));
        },
      ),
      { numRuns: 300, seed: 7 },
    );
  });

  it('property: greedy maximises Σ V over effective prompts (brute force, no fallback)', () => {
    fc.assert(
      fc.property(fc.array(fc.double({ min: 0.05, max: 0.95, noNaN: true }), { minLength: 1, maxLength: 3 }), fc.nat(6), (ps, extra) => {
        // nMax = 8 and a budget small enough that the fallback (need ≥ 1.3 per prompt) never triggers
        const m = ps.length;
        const W = 2 * m + Math.min(extra, m);
        const a = knapsackAllocate(Float64Array.from(ps), new Uint8Array(m).fill(1), { budget: W, n: 8, nMax: 8 });
        const got = ps.reduce((s, p, i) => s + knapsackValue(a.rollouts[i], p), 0);
        let best = -Infinity;
        const rec = (i: number, left: number, acc: number) => {
          if (i === m) {
            if (left === 0) best = Math.max(best, acc);
            return;
          }
          for (let N = 2; N <= Math.min(8, left); N++) rec(i + 1, left - N, acc + knapsackValue(N, ps[i]));
        };
        rec(0, W, 0);
        expect(got).toBeCloseTo(best, 14);
      }),
      { numRuns: 200, seed: 8 },
    );
  });
});
