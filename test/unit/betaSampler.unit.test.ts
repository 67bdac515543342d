import { describe, expect, it } from 'vitest';
import { betaLogWeights } from '../../actors/sampler/betaSampler.ts';
import { selectionLogits } from '../../actors/sampler/samplerActor.ts';
import { resolveConfig } from '../../events/config.ts';

const LN_EPS = Math.log(1e-8); // −18.420680743952367

describe('Beta log-weights (dare-reference §6): z = (A−1)·ln a + (B−1)·ln(1−a), a = 1 − d', () => {
  it('κ = 100, peak 0.5 (A = B = 51) at d = 0.5, 0.25, 7/8', () => {
    const z = betaLogWeights(Float64Array.from([0.5, 0.25, 7 / 8]), { kappa: 100 });
    // d = 0.5: 50·ln 0.5 + 50·ln 0.5 = 100·(−0.6931472) = −69.314718
    expect(z[0]).toBeCloseTo(100 * Math.log(0.5), 10);
    expect(z[0]).toBeCloseTo(-69.31471805599453, 10);
    // d = 0.25 (a = 0.75): 50·(ln 0.75 + ln 0.25) = 50·(−0.28768207 − 1.38629436) = 50·(−1.67397643) = −83.6988217
    expect(z[1]).toBeCloseTo(-83.6988217, 6);
    // a = 1/8 vs a = 0.5: Δz = 50·ln((1/8)(7/8)/(1/4)) = 50·ln 0.4375 = −41.33393 ⇒ ratio ≈ 1.1e-18 (spec: ~1e-18)
    expect(z[2] - z[0]).toBeCloseTo(50 * Math.log(0.4375), 10);
    expect(Math.exp(z[2] - z[0])).toBeLessThan(2e-18);
  });

  it("edge 'ref' (default): d = 0 ⇒ −∞ (weight 0); d = 1 ⇒ (A−1)·ln 1e-8 = −921.034", () => {
    const z = betaLogWeights(Float64Array.from([0, 1, -0.2, 1.3]), { kappa: 100 });
    expect(z[0]).toBe(-Infinity); // a = 1: ln(1 − 1) = −∞ (REF float32: 1 − 1e-8 rounds to 1)
    expect(z[1]).toBe(50 * LN_EPS); // a = 0: x = 1e-8, ln(1 − x) rounds to 0 in REF ⇒ 50·(−18.4206807) = −921.03404
    expect(z[1]).toBeCloseTo(-921.0340371976183, 9);
    expect(z[2]).toBe(-Infinity); // d < 0 (a > 1, e.g. an unclipped TF-IDF label) is clamped like a = 1
    expect(z[3]).toBe(50 * LN_EPS); // d > 1 clamps like a = 0
  });

  it("edge 'symmetric': both ends finite and equal for peak 0.5", () => {
    const z = betaLogWeights(Float64Array.from([0, 1]), { kappa: 100, edge: 'symmetric' });
    // (κ/2)·(ln 1e-8 + ln(1 − 1e-8)) = 50·(−18.4206807 − 1e-8) = −921.0340377
    expect(z[0]).toBeCloseTo(50 * (LN_EPS + Math.log1p(-1e-8)), 6);
    expect(z[1]).toBeCloseTo(z[0], 6);
    expect(Number.isFinite(z[0])).toBe(true);
  });

  it('κ = 0: every logit is 0 (uniform), including d = 0 and d = 1 (REF would give NaN at a = 1)', () => {
    const z = betaLogWeights(Float64Array.from([0, 0.3, 1]), { kappa: 0 });
    expect(Array.from(z)).toEqual([0, 0, 0]);
  });

  it('asymmetric peak: mode at peakSuccess in success space (κ = 4, peak 0.75 ⇒ A − 1 = 3, B − 1 = 1)', () => {
    const z = betaLogWeights(Float64Array.from([0.25, 0.5, 0]), { kappa: 4, peakSuccess: 0.75 });
    // d = 0.25 (a = 0.75): 3·ln 0.75 + ln 0.25 = −0.86304622 − 1.38629436 = −2.24934058 (the maximum)
    expect(z[0]).toBeCloseTo(3 * Math.log(0.75) + Math.log(0.25), 12);
    expect(z[0]).toBeCloseTo(-2.2493405785, 9);
    // d = 0.5: 3·ln 0.5 + ln 0.5 = 4·(−0.6931472) = −2.7725887
    expect(z[1]).toBeCloseTo(-2.772588722239781, 12);
    expect(z[0]).toBeGreaterThan(z[1]);
    expect(z[2]).toBe(-Infinity);
    // peak 1 ⇒ B − 1 = 0: a = 1 drops the (B−1) term instead of 0·(−∞) ⇒ 0
    expect(betaLogWeights(Float64Array.from([0]), { kappa: 4, peakSuccess: 1 })[0]).toBe(0);
  });

  it('peak 0.5 is symmetric in d ↔ 1 − d away from the edges', () => {
    const d = Float64Array.from([0.1, 0.9, 0.3, 0.7]);
    const z = betaLogWeights(d, { kappa: 20 });
    expect(z[0]).toBeCloseTo(z[1], 10);
    expect(z[2]).toBeCloseTo(z[3], 10);
  });

  it('rejects NaN labels and bad options', () => {
    expect(() => betaLogWeights(Float64Array.from([0.2, NaN]), { kappa: 10 })).toThrow(/prompt 1 has NaN/);
    expect(() => betaLogWeights(Float64Array.from([0.2]), { kappa: -1 })).toThrow(/kappa/);
    expect(() => betaLogWeights(Float64Array.from([0.2]), { kappa: 1, peakSuccess: 2 })).toThrow(/peakSuccess/);
  });

  it('the sampler takes the edge mode from sampler.betaEdge (default ref, as dare-reference; the dare preset symmetric)', () => {
    const d = new Float64Array([0, 1, 0.5]);
    expect(resolveConfig({}).sampler.betaEdge).toBe('symmetric');
    const ref = selectionLogits(d, resolveConfig({ method: 'dare-reference' }));
    expect(ref[0]).toBe(-Infinity);
    expect(ref[1]).toBeCloseTo(50 * Math.log(1e-8), 9);
    expect(ref[2]).toBeCloseTo(100 * Math.log(0.5), 9);
    const sym = selectionLogits(d, resolveConfig({ sampler: { betaEdge: 'symmetric' } }));
    expect(sym[0]).toBeCloseTo(sym[1], 6); // equal up to the float rounding of 1 − (1 − 1e-8)
    // d = 0: success clamped to x = 1 − 1e-8, z = 50·(ln x + ln(1 − x))
    expect(sym[0]).toBeCloseTo(50 * (Math.log(1 - 1e-8) + Math.log1p(-(1 - 1e-8))), 9);
    expect(sym[2]).toBe(ref[2]);
  });
});
