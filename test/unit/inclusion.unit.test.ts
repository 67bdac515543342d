import { describe, expect, it } from 'vitest';
import { gumbelTopK } from '../../actors/shared/gumbelTopK.ts';

/**
 * Exact inclusion probabilities of successive sampling without replacement (draw ∝ remaining weight),
 * by enumerating every ordered draw. For k = 2: P(i then j) = w_i/W · w_j/(W − w_i).
 */
function exactInclusion(w: number[], k: number): { incl: number[]; first: number[] } {
  const n = w.length;
  const incl = new Array(n).fill(0);
  const first = new Array(n).fill(0);
  const rec = (chosen: number[], prob: number) => {
    if (chosen.length === k) {
      for (const i of chosen) incl[i] += prob;
      first[chosen[0]] += prob;
      return;
    }
    const rest = w.reduce((s, wi, i) => (chosen.includes(i) ? s : s + wi), 0);
    for (let i = 0; i < n; i++) if (!chosen.includes(i)) rec([...chosen, i], (prob * w[i]) / rest);
  };
  rec([], 1);
  return { incl, first };
}

const TRIALS = 40_000;

describe('Gumbel-top-k inclusion frequencies match exact successive-sampling probabilities', () => {
  it('5 items, weights 1..5, k = 2, 40 000 independent keys (PRNG step varied), 5σ binomial tolerance', () => {
    const w = [1, 2, 3, 4, 5];
    const logits = Float64Array.from(w, Math.log);
    const { incl, first } = exactInclusion(w, 2);
    // hand check of one value: π_0 = Σ_j [1/15·w_j/14 + w_j/15·1/(15 − w_j)]
    //   = 1/15 + (1/15)(2/13 + 3/12 + 4/11 + 5/10) = 0.0666667 + 0.0844988 = 0.1511655
    expect(incl[0]).toBeCloseTo(0.15116550116550118, 12);
    expect(incl.reduce((a, b) => a + b, 0)).toBeCloseTo(2, 12);
    const hits = new Array(5).fill(0);
    const firsts = new Array(5).fill(0);
    let filled = 0;
    for (let t = 0; t < TRIALS; t++) {
      const r = gumbelTopK(logits, 2, { seed: 2024, step: t, purpose: 'test/inclusion' });
      filled += r.filled;
      for (const i of r.indices) hits[i]++;
      firsts[r.indices[0]]++;
    }
    expect(filled).toBe(0);
    for (let i = 0; i < 5; i++) {
      const se = Math.sqrt((incl[i] * (1 - incl[i])) / TRIALS);
      expect(Math.abs(hits[i] / TRIALS - incl[i])).toBeLessThan(5 * se);
      // the first index is the first draw: P = w_i/W
      expect(first[i]).toBeCloseTo(w[i] / 15, 12);
      const sf = Math.sqrt((first[i] * (1 - first[i])) / TRIALS);
      expect(Math.abs(firsts[i] / TRIALS - first[i])).toBeLessThan(5 * sf);
    }
  });

  it('a very unequal case (weights 1, 1, 50, 0.1, 8; k = 3)', () => {
    const w = [1, 1, 50, 0.1, 8];
    const logits = Float64Array.from(w, Math.log);
    const { incl } = exactInclusion(w, 3);
    const hits = new Array(5).fill(0);
    for (let t = 0; t < TRIALS; t++) {
      for (const i of gumbelTopK(logits, 3, { seed: 77, step: t, purpose: 'test/inclusion-b' }).indices) hits[i]++;
    }
    for (let i = 0; i < 5; i++) {
      const se = Math.sqrt((incl[i] * (1 - incl[i])) / TRIALS);
      expect(Math.abs(hits[i] / TRIALS - incl[i])).toBeLessThan(5 * se + 1e-12);
    }
  });

  it('shortfall fill is uniform over the weight-0 items', () => {
    // 3 finite items, 2 at −∞, k = 4: all 3 finite are taken, 1 slot filled; each −∞ item w.p. 1/2
    const logits = Float64Array.from([0, -Infinity, 1, -Infinity, 2]);
    let got1 = 0;
    let wrong = 0;
    for (let t = 0; t < TRIALS; t++) {
      const r = gumbelTopK(logits, 4, { seed: 9, step: t, purpose: 'test/fill' });
      const head = Array.from(r.indices.slice(0, 3)).sort().join(',');
      if (r.filled !== 1 || head !== '0,2,4' || (r.indices[3] !== 1 && r.indices[3] !== 3)) wrong++;
      if (r.indices[3] === 1) got1++;
    }
    expect(wrong).toBe(0);
    const se = Math.sqrt(0.25 / TRIALS);
    expect(Math.abs(got1 / TRIALS - 0.5)).toBeLessThan(5 * se);
  });
});
