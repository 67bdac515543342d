import { describe, expect, it } from 'vitest';
import {
  createGresoState,
  gresoAdaptExploration,
  gresoNextBatchSize,
  gresoObserve,
  gresoPresample,
  gresoSkipProbability,
} from '../../actors/sampler/greso.ts';

describe('GRESO', () => {
  it('skip probability 1 − max(p^z, 0.01)', () => {
    expect(gresoSkipProbability(3, 0.5)).toBe(0.875); // 1 − 0.125
    expect(gresoSkipProbability(10, 0.5)).toBeCloseTo(0.99, 15); // 0.5^10 = 0.000977 < 0.01
    expect(gresoSkipProbability(0, 0.5)).toBe(0);
    expect(gresoSkipProbability(1, 0.95)).toBeCloseTo(0.05, 15);
  });

  it('streaks: consecutive all-correct / all-wrong observations, reset by a mixed one', () => {
    let s = createGresoState(3);
    s = gresoObserve(s, Uint32Array.from([0, 1, 0, 1, 2]), [1, 0, 1, 0, 0.5]);
    expect(Array.from(s.easyStreak)).toEqual([2, 0, 0]);
    expect(Array.from(s.hardStreak)).toEqual([0, 2, 0]);
    s = gresoObserve(s, Uint32Array.from([0]), [0.25]);
    expect(s.easyStreak[0]).toBe(0);
    expect(Array.from(s.seen)).toEqual([1, 1, 1]);
  });

  it('presampling: unseen never skipped; skip frequency matches the probability (5σ)', () => {
    const N = 20000;
    let s = createGresoState(N + 1);
    const ids = Uint32Array.from({ length: N }, (_, i) => i);
    s = gresoObserve(s, ids, new Float64Array(N).fill(1)); // easy streak 1 ⇒ skip w.p. 1 − 0.5 = 0.5
    const cand = Uint32Array.from({ length: N + 1 }, (_, i) => i);
    const r = gresoPresample(s, cand, { seed: 4, step: 2, purpose: 'presample' });
    expect(r.keep[N]).toBe(1); // unseen prompt N
    // expected 10000 skips, sd = sqrt(20000·0.25) = 70.7 ⇒ 5σ = 354
    expect(Math.abs(r.skipped - 10000)).toBeLessThan(354);
    // decisions depend on the prompt, not on its position among the candidates
    const rev = gresoPresample(s, cand.slice().reverse(), { seed: 4, step: 2, purpose: 'presample' });
    expect(rev.keep[0]).toBe(r.keep[N]);
    expect(rev.keep[N]).toBe(r.keep[0]);
  });

  it('exploration adaptation: t = 0.25 ⇒ t_easy = 1/12, t_hard = 1/6; ±0.01 clamped to [0.05, 0.95]', () => {
    // easy ratio 0.1 ≥ 0.0833 ⇒ p_easy 0.5 − 0.01; hard ratio 0.1 < 0.1667 ⇒ p_hard 0.5 + 0.01
    const p = gresoAdaptExploration({ pEasy: 0.5, pHard: 0.5 }, 0.1, 0.1);
    expect(p.pEasy).toBeCloseTo(0.49, 15);
    expect(p.pHard).toBeCloseTo(0.51, 15);
    const c = gresoAdaptExploration({ pEasy: 0.05, pHard: 0.95 }, 0.5, 0);
    expect(c).toEqual({ pEasy: 0.05, pHard: 0.95 });
  });

  it('next generation batch ⌊1.25·rows/((1 − zv)·n)⌋ in [64, 384]', () => {
    expect(gresoNextBatchSize(1024, 0.5, 8)).toBe(320); // 1280/4
    expect(gresoNextBatchSize(80, 0.5, 8)).toBe(64); // 25 → 64
    expect(gresoNextBatchSize(4096, 0.2, 8)).toBe(384); // 800 → 384
    expect(gresoNextBatchSize(100, 1, 8)).toBe(384); // all zero-variance: as many as allowed
  });
});
