import { describe, expect, it } from 'vitest';
import { Prng } from '../../events/prng.ts';
import {
  createPosteriors,
  explorationLogits,
  fillUncovered,
  thompsonSample,
  updateCounts,
  updateRates,
  warmStart,
} from '../../actors/shared/mopps.ts';
import { LabelSource, NO_LABEL } from '../../actors/shared/labels.ts';

describe('Beta posteriors with decay (dare-reference §4, MoPPS)', () => {
  it('two DARE-ref updates by hand (α0 = β0 = 1, λ = 0.5)', () => {
    const p0 = createPosteriors(3);
    // step 1, new prompt 1 with s = 3, f = 5: α = α0 + s = 4, β = β0 + f = 6
    const p1 = updateCounts(p0, Uint32Array.from([1]), [3], [5], 0.5);
    expect([p1.alpha[1], p1.beta[1], p1.seen[1]]).toEqual([4, 6, 1]);
    // step 2, s = 6, f = 2: α = 0.5·4 + 0.5·1 + 6 = 8.5, β = 0.5·6 + 0.5·1 + 2 = 5.5
    const p2 = updateCounts(p1, Uint32Array.from([1]), [6], [2], 0.5);
    expect([p2.alpha[1], p2.beta[1]]).toEqual([8.5, 5.5]);
    // untouched prompts keep the prior and stay unseen; the input state is not mutated
    expect([p2.alpha[0], p2.beta[0], p2.seen[0]]).toEqual([1, 1, 0]);
    expect([p1.alpha[1], p1.beta[1]]).toEqual([4, 6]);
  });

  it('MoPPS rate form n·ŝ equals the count form; λ = 1 keeps every observation', () => {
    const p0 = createPosteriors(2);
    // ŝ = 3/8, then 6/8 with n = 8 ⇒ the same counts as above
    const r = updateRates(updateRates(p0, Uint32Array.from([1]), [0.375], 8, 0.5), Uint32Array.from([1]), [0.75], 8, 0.5);
    expect([r.alpha[1], r.beta[1]]).toEqual([8.5, 5.5]);
    // λ = 1: α = 1 + 3 + 6 = 10, β = 1 + 5 + 2 = 8
    const k = updateRates(updateRates(p0, Uint32Array.from([1]), [0.375], 8, 1), Uint32Array.from([1]), [0.75], 8, 1);
    expect([k.alpha[1], k.beta[1]]).toEqual([10, 8]);
    // λ = 0: only the latest group plus the prior: α = 1 + 6 = 7, β = 1 + 2 = 3
    const z = updateCounts(updateCounts(p0, Uint32Array.from([0]), [3], [5], 0), Uint32Array.from([0]), [6], [2], 0);
    expect([z.alpha[0], z.beta[0]]).toEqual([7, 3]);
  });

  it('warm start α = 1 + 3·successes, β = 1 + 3·failures', () => {
    const w = warmStart(createPosteriors(2), Uint32Array.from([0]), [2], [1]);
    expect([w.alpha[0], w.beta[0], w.seen[0]]).toEqual([7, 4, 1]);
  });

  it('rejects bad updates', () => {
    const p = createPosteriors(2);
    expect(() => updateCounts(p, Uint32Array.from([5]), [1], [1], 0.5)).toThrow(/prompt 5/);
    expect(() => updateCounts(p, Uint32Array.from([0]), [1], [1], 1.5)).toThrow(/decay/);
    expect(() => updateRates(p, Uint32Array.from([0]), [1.2], 8, 0.5)).toThrow(/success rate 1.2/);
  });
});

describe('Thompson sampling', () => {
  it('samples failure = 1 − Beta(α, β): mean near β/(α+β); unseen prompts get NaN', () => {
    const N = 20000;
    let p = createPosteriors(N + 1);
    const ids = Uint32Array.from({ length: N }, (_, i) => i);
    p = updateCounts(p, ids, new Float64Array(N).fill(3), new Float64Array(N).fill(5), 0.5);
    p = updateCounts(p, ids, new Float64Array(N).fill(6), new Float64Array(N).fill(2), 0.5); // Beta(8.5, 5.5)
    const t = thompsonSample(p, new Prng({ seed: 11, step: 2, purpose: 'estimate/thompson' }));
    let s = 0;
    for (let q = 0; q < N; q++) s += t.difficulty[q];
    // E[d] = β/(α+β) = 5.5/14 = 0.392857; Var = αβ/((α+β)²(α+β+1)) = 46.75/(196·15) = 0.0159014
    // 5 standard errors: 5·sqrt(0.0159014/20000) = 0.00446
    expect(Math.abs(s / N - 5.5 / 14)).toBeLessThan(0.00446);
    expect(t.source[0]).toBe(LabelSource.Posterior);
    expect(Number.isNaN(t.difficulty[N])).toBe(true);
    expect(t.source[N]).toBe(NO_LABEL);
  });

  it('same posterior and key ⇒ byte-identical draws; another step ⇒ different draws', () => {
    const p = updateCounts(createPosteriors(50), Uint32Array.from({ length: 50 }, (_, i) => i), new Float64Array(50).fill(2), new Float64Array(50).fill(3), 0.5);
    const key = { seed: 5, step: 1, purpose: 'estimate/thompson' };
    const a = thompsonSample(p, new Prng(key));
    const b = thompsonSample(p, new Prng(key));
    const c = thompsonSample(p, new Prng({ ...key, step: 2 }));
    expect(Buffer.from(a.difficulty.buffer)).toEqual(Buffer.from(b.difficulty.buffer));
    expect(Buffer.from(a.difficulty.buffer)).not.toEqual(Buffer.from(c.difficulty.buffer));
  });
});

describe('exploration mass for uncovered prompts', () => {
  it('uncovered total mass = ratio × covered mass', () => {
    // covered logits 0 and ln 3: LSE = ln 4; two uncovered, ratio 0.3 ⇒ z_u = ln(0.3/2) + ln 4 = ln 0.6
    // masses: covered 1 + 3 = 4, uncovered 2·0.6 = 1.2 = 0.3·4; share 1.2/5.2 = 23.1 %
    const z = explorationLogits(Float64Array.from([0, 99, Math.log(3), -5]), Uint8Array.from([1, 0, 1, 0]), 0.3);
    expect(z[0]).toBe(0);
    expect(z[2]).toBe(Math.log(3));
    expect(z[1]).toBeCloseTo(Math.log(0.6), 14);
    expect(z[3]).toBeCloseTo(Math.log(0.6), 14);
  });

  it('nothing covered ⇒ unchanged; ratio 0 ⇒ REF floor ln(1e-30) + LSE', () => {
    const same = explorationLogits(Float64Array.from([1, 2]), Uint8Array.from([0, 0]));
    expect(Array.from(same)).toEqual([1, 2]);
    const z = explorationLogits(Float64Array.from([0, 0]), Uint8Array.from([1, 0]), 0);
    expect(z[1]).toBeCloseTo(Math.log(1e-30), 12);
  });

  it('fillUncovered replaces NaN by the default label and marks coverage', () => {
    const f = fillUncovered(Float64Array.from([0.1, NaN, 0.9]));
    expect(Array.from(f.difficulty)).toEqual([0.1, 0.5, 0.9]);
    expect(Array.from(f.covered)).toEqual([1, 0, 1]);
  });
});
