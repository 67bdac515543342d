import { describe, expect, it } from 'vitest';
import { keyWords, u32At } from '../../events/prng.ts';
import { adarftSelect, adarftUpdateTarget } from '../../actors/sampler/adarft.ts';

describe('AdaRFT target update T ← clip(T + η·tanh(α(R̄ − β)), d_min, d_max)', () => {
  it('hand values with η = 0.5, α = 2, β = 0.5 on [0, 1]', () => {
    // T = 0, R̄ = 0.75: 0.5·tanh(0.5) = 0.5·0.46211716 = 0.23105858
    expect(adarftUpdateTarget(0, 0.75)).toBeCloseTo(0.2310585786300049, 14);
    // T = 0.4, R̄ = 0.5: tanh(0) = 0 ⇒ unchanged
    expect(adarftUpdateTarget(0.4, 0.5)).toBe(0.4);
    // T = 0.6, R̄ = 0.25: 0.6 + 0.5·tanh(−0.5) = 0.6 − 0.23105858 = 0.36894142
    expect(adarftUpdateTarget(0.6, 0.25)).toBeCloseTo(0.3689414213699951, 14);
    // clipping: 0.2 + 0.5·tanh(−1) = 0.2 − 0.38079708 < 0 ⇒ 0; 0.9 + 0.38079708 > 1 ⇒ 1
    expect(adarftUpdateTarget(0.2, 0)).toBe(0);
    expect(adarftUpdateTarget(0.9, 1)).toBe(1);
    // paper scale (0–100, η = 50): 0 + 50·tanh(0.5) = 23.105858
    expect(adarftUpdateTarget(0, 0.75, { eta: 50, dMax: 100 })).toBeCloseTo(23.10585786300049, 12);
  });
});

describe('AdaRFT selection: the B nearest |d − T|, ties by PRNG', () => {
  const d = Float64Array.from([0.1, 0.5, 0.3, 0.7, 0.3]);
  it('hand case T = 0.35, B = 3: distances (.25, .15, .05, .35, .05) ⇒ {2, 4} tie, then 1', () => {
    const key = { seed: 1, step: 0, purpose: 'select' };
    const s = adarftSelect(d, 0.35, 3, key);
    expect(Array.from(s.slice(0, 2)).sort()).toEqual([2, 4]);
    expect(s[2]).toBe(1);
    // the tie order is the order of the keyed draws u32At(k0, k1, q)
    const [k0, k1] = keyWords(key);
    const first = u32At(k0, k1, 2) < u32At(k0, k1, 4) ? 2 : 4;
    expect(s[0]).toBe(first);
  });

  it('tie order varies with the key but is deterministic for one key', () => {
    const orders = new Set<string>();
    for (let step = 0; step < 40; step++) {
      const a = adarftSelect(d, 0.35, 2, { seed: 1, step, purpose: 'select' });
      const b = adarftSelect(d, 0.35, 2, { seed: 1, step, purpose: 'select' });
      expect(Array.from(a)).toEqual(Array.from(b));
      orders.add(Array.from(a).join(','));
    }
    expect(orders).toEqual(new Set(['2,4', '4,2']));
  });

  it('B larger than the dataset takes everything; NaN is rejected', () => {
    expect(adarftSelect(d, 0, 10, { seed: 1, step: 0, purpose: 's' }).length).toBe(5);
    expect(Array.from(adarftSelect(d, 0, 10, { seed: 1, step: 0, purpose: 's' })).slice(0, 1)).toEqual([0]);
    expect(() => adarftSelect(Float64Array.from([0.1, NaN]), 0, 1, { seed: 1, step: 0, purpose: 's' })).toThrow(/prompt 1/);
  });
});
