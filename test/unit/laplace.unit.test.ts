import { describe, expect, it } from 'vitest';
import { laplaceLogWeights } from '../../actors/sampler/laplace.ts';
import { uniformLogWeights } from '../../actors/sampler/uniform.ts';

describe('Laplace / DOTS logits z = −|a − α|/τ, a = 1 − d', () => {
  it('DOTS defaults α = 0.5, τ = 1e-3', () => {
    const z = laplaceLogWeights(Float64Array.from([0.5, 0.49, 0.6]), { tau: 1e-3 });
    expect(z[0]).toBeCloseTo(0, 12); // a = 0.5
    expect(z[1]).toBeCloseTo(-10, 9); // a = 0.51: −0.01/0.001
    expect(z[2]).toBeCloseTo(-100, 9); // a = 0.4: −0.1/0.001
  });

  it('α in success space; labels outside [0, 1] are not clamped', () => {
    const z = laplaceLogWeights(Float64Array.from([0.5, 1.2, 0.3]), { successTarget: 0.7, tau: 0.1 });
    expect(z[0]).toBeCloseTo(-2, 12); // a = 0.5: −0.2/0.1
    expect(z[1]).toBeCloseTo(-9, 12); // a = −0.2: −0.9/0.1
    expect(z[2]).toBeCloseTo(0, 12); // a = 0.7
  });

  it('rejects τ ≤ 0 and non-finite labels', () => {
    expect(() => laplaceLogWeights(Float64Array.from([0.5]), { tau: 0 })).toThrow(/tau/);
    expect(() => laplaceLogWeights(Float64Array.from([NaN]), { tau: 1 })).toThrow(/prompt 0/);
  });
});

describe('uniform logits', () => {
  it('all zero', () => {
    expect(Array.from(uniformLogWeights(3))).toEqual([0, 0, 0]);
  });
});
