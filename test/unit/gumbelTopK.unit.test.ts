import { describe, expect, it } from 'vitest';
import { Prng, floatAt, keyWords, u32At } from '../../events/prng.ts';
import { gumbelTopK, gumbelTopKWords } from '../../actors/shared/gumbelTopK.ts';
import { epochBudget, selectEpoch, shuffleIntoBatches } from '../../actors/sampler/epochPlan.ts';
import { betaLogWeights } from '../../actors/sampler/betaSampler.ts';

const KEY = { seed: 1, step: 3, purpose: 'select' };

describe('gumbelTopK', () => {
  it('returns k distinct indices, deterministic for a key, different for another step', () => {
    const prng = new Prng({ seed: 5, step: 0, purpose: 'test/logits' });
    const logits = Float64Array.from({ length: 5000 }, () => 3 * prng.nextNormal());
    const a = gumbelTopK(logits, 100, KEY);
    const b = gumbelTopK(logits, 100, KEY);
    const c = gumbelTopK(logits, 100, { ...KEY, step: 4 });
    expect(new Set(a.indices).size).toBe(100);
    expect(Buffer.from(a.indices.buffer)).toEqual(Buffer.from(b.indices.buffer));
    expect(Buffer.from(a.indices.buffer)).not.toEqual(Buffer.from(c.indices.buffer));
    expect(a.filled).toBe(0);
  });

  it('equals the plain (unpruned) Gumbel-top-k with keys z_i − ln(−ln floatAt(i))', () => {
    // the heap bounds skip items; the result must be exactly the brute-force ranking
    const prng = new Prng({ seed: 6, step: 0, purpose: 'test/logits' });
    for (const scale of [0.1, 5, 200]) {
      const logits = Float64Array.from({ length: 3000 }, () => scale * prng.nextNormal());
      const [k0, k1] = keyWords(KEY);
      const keys = Array.from(logits, (z, i) => {
        const u = floatAt(k0, k1, i);
        return z - Math.log(-Math.log(u === 0 ? 2 ** -54 : u));
      });
      const brute = keys.map((_, i) => i).sort((a, b) => keys[b] - keys[a] || a - b).slice(0, 64);
      expect(Array.from(gumbelTopK(logits, 64, KEY).indices)).toEqual(brute);
    }
  });

  it("pins floatAt's layout the pruning relies on (high 27 bits from output 2i, low 26 from 2i+1)", () => {
    const [k0, k1] = keyWords(KEY);
    for (const i of [0, 1, 2, 999, 123456, 2 ** 31 - 1]) {
      const hi = u32At(k0, k1, 2 * i) >>> 5;
      const lo = u32At(k0, k1, 2 * i + 1) >>> 6;
      expect((hi * 67108864 + lo) * 2 ** -53).toBe(floatAt(k0, k1, i));
    }
  });

  it('a −∞ logit is never drawn while enough finite items exist; −921 (Beta edge) still counts as weight', () => {
    const d = Float64Array.from([0, 1, 0.5, 0.4]); // Beta κ=100 ref: (−∞, −921.03, −69.3, −70.1)
    const z = betaLogWeights(d, { kappa: 100 });
    for (let t = 0; t < 50; t++) {
      const r = gumbelTopK(z, 3, { ...KEY, step: t });
      expect(r.filled).toBe(0);
      expect(Array.from(r.indices).sort()).toEqual([1, 2, 3]);
      expect(r.indices[2]).toBe(1); // e^-852 relative weight: always drawn last
    }
  });

  it('defined shortfall: takes every finite item, fills the rest uniformly, reports the count', () => {
    const z = Float64Array.from([-Infinity, 0, -Infinity, -Infinity, 5, -Infinity]);
    const r = gumbelTopK(z, 4, KEY);
    expect(r.finite).toBe(2);
    expect(r.filled).toBe(2);
    expect(Array.from(r.indices.slice(0, 2)).sort()).toEqual([1, 4]);
    expect(new Set(r.indices).size).toBe(4);
    for (const i of r.indices.slice(2)) expect(z[i]).toBe(-Infinity);
    // all weight 0: a uniform random subset
    const all = gumbelTopK(new Float64Array(6).fill(-Infinity), 6, KEY);
    expect(all.filled).toBe(6);
    expect(Array.from(all.indices).sort()).toEqual([0, 1, 2, 3, 4, 5]);
  });

  it('k = 0, k = n, and errors', () => {
    expect(gumbelTopK(Float64Array.from([1, 2]), 0, KEY).indices.length).toBe(0);
    expect(Array.from(gumbelTopK(Float64Array.from([1, 2]), 2, KEY).indices).sort()).toEqual([0, 1]);
    expect(() => gumbelTopK(Float64Array.from([1, 2]), 3, KEY)).toThrow(/cannot draw 3/);
    expect(() => gumbelTopK(Float64Array.from([1, NaN]), 1, KEY)).toThrow(/item 1 has logit NaN/);
    expect(() => gumbelTopK(Float64Array.from([Infinity]), 1, KEY)).toThrow(/item 0/);
    expect(() => gumbelTopKWords(Float64Array.from([0]), 1.5, 1, 2)).toThrow(/k must be/);
  });
});

describe('epoch plan (dare-reference §6, §11)', () => {
  it('budget: mu·B in epoch 0, ⌊mu·B·σ⌋ later', () => {
    expect(epochBudget(0, 2, 512, 0.5)).toBe(1024); // 2·512
    expect(epochBudget(1, 2, 512, 0.5)).toBe(512); // ⌊2·512·0.5⌋
    expect(epochBudget(3, 3, 7, 0.5)).toBe(10); // ⌊10.5⌋
    expect(epochBudget(1, 4, 256, 0.7)).toBe(716); // ⌊716.8⌋
    expect(() => epochBudget(1, 2, 8, 1.5)).toThrow(/sigma/);
  });

  it('shuffle keeps the selected set and cuts it into mu equal batches; deterministic per stream', () => {
    const sel = Uint32Array.from([10, 11, 12, 13, 14, 15]);
    const b1 = shuffleIntoBatches(sel, 3, new Prng({ ...KEY, purpose: 'select/shuffle' }));
    const b2 = shuffleIntoBatches(sel, 3, new Prng({ ...KEY, purpose: 'select/shuffle' }));
    expect(b1.map((b) => b.length)).toEqual([2, 2, 2]);
    expect(b1.flatMap((b) => Array.from(b)).sort()).toEqual([10, 11, 12, 13, 14, 15]);
    expect(b1.map((b) => Array.from(b))).toEqual(b2.map((b) => Array.from(b)));
    expect(Array.from(sel)).toEqual([10, 11, 12, 13, 14, 15]); // input untouched
    expect(() => shuffleIntoBatches(sel, 4, new Prng(KEY))).toThrow(/4 equal batches/);
  });

  it('selectEpoch: draws the budget, splits into mu batches, byte-identical for the same key', () => {
    const z = betaLogWeights(Float64Array.from({ length: 1000 }, (_, i) => i / 999), { kappa: 20 });
    const plan = { epoch: 1, mu: 4, batchSize: 32, sigma: 0.5 };
    const a = selectEpoch(z, plan, KEY);
    const b = selectEpoch(z, plan, KEY);
    expect(a.budget).toBe(64);
    expect(a.batches.length).toBe(4);
    expect(new Set(a.batches.flatMap((x) => Array.from(x))).size).toBe(64);
    for (let i = 0; i < 4; i++) expect(Buffer.from(a.batches[i].buffer)).toEqual(Buffer.from(b.batches[i].buffer));
    expect(() => selectEpoch(z.subarray(0, 10), plan, KEY)).toThrow(/budget 64/);
  });
});
