import { describe, expect, it } from 'vitest';
import { moppsSelect } from '../../actors/sampler/moppsSelect.ts';

// Very concentrated posteriors (α + β = 1e5) so Thompson draws sit within ~0.002 of the mean success.
const success = [0.1, 0.45, 0.9, 0.55, 0.25, 0.52];
const alpha = Float64Array.from(success, (a) => 1e5 * a);
const beta = Float64Array.from(success, (a) => 1e5 * (1 - a));
const key = { seed: 8, step: 5, purpose: 'select' };

describe('MoPPS selection', () => {
  it("'topk': the B candidates nearest d* = 0.5", () => {
    // d ≈ (0.9, 0.55, 0.1, 0.45, 0.75, 0.48): distances (.4, .05, .4, .05, .25, .02) ⇒ 5, then {1, 3}
    const s = moppsSelect(alpha, beta, { batchSize: 3, poolRatio: 2 }, key);
    expect(s.pool.length).toBe(6);
    expect(s.prompts[0]).toBe(5);
    expect(Array.from(s.prompts.slice(1)).sort()).toEqual([1, 3]);
    s.prompts.forEach((q, j) => expect(Math.abs(s.sampledDifficulty[j] - (1 - success[q]))).toBeLessThan(0.01));
  });

  it("'threshold': B random in-band candidates when enough, else nearest to the band", () => {
    // band [0.3, 0.7] in failure space: in band 1 (.55), 3 (.45), 5 (.48)
    const two = moppsSelect(alpha, beta, { batchSize: 2, poolRatio: 3, rule: 'threshold' }, key);
    expect(two.inBand).toBe(true);
    for (const q of two.prompts) expect([1, 3, 5]).toContain(q);
    // the in-band choice is random: over several keys more than one pair appears
    const pairs = new Set<string>();
    for (let step = 0; step < 30; step++) {
      const r = moppsSelect(alpha, beta, { batchSize: 2, poolRatio: 3, rule: 'threshold' }, { ...key, step });
      pairs.add(Array.from(r.prompts).sort().join(','));
    }
    expect(pairs.size).toBeGreaterThan(1);
    // B = 4 > 3 in band ⇒ rank by distance to the band: the three (0) then prompt 4 (0.75 − 0.7 = 0.05)
    const four = moppsSelect(alpha, beta, { batchSize: 4, poolRatio: 2, rule: 'threshold' }, key);
    expect(four.inBand).toBe(false);
    expect(Array.from(four.prompts.slice(0, 3)).sort()).toEqual([1, 3, 5]);
    expect(four.prompts[3]).toBe(4);
  });

  it('pool of ratio·B distinct prompts; pool smaller than B ⇒ all of it; deterministic', () => {
    const N = 1000;
    const a = new Float64Array(N).fill(1);
    const b = new Float64Array(N).fill(1);
    const s1 = moppsSelect(a, b, { batchSize: 8, poolRatio: 16 }, key);
    const s2 = moppsSelect(a, b, { batchSize: 8, poolRatio: 16 }, key);
    expect(s1.pool.length).toBe(128);
    expect(new Set(s1.pool).size).toBe(128);
    expect(Buffer.from(s1.prompts.buffer)).toEqual(Buffer.from(s2.prompts.buffer));
    expect(Buffer.from(s1.sampledDifficulty.buffer)).toEqual(Buffer.from(s2.sampledDifficulty.buffer));
    expect(moppsSelect(alpha, beta, { batchSize: 10, poolRatio: 1 }, key).prompts.length).toBe(6);
  });
});
