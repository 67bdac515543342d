import { describe, expect, it } from 'vitest';
import { Prng } from '../../events/prng.ts';
import {
  binaryEntropy,
  dLogProbLengthDEta,
  expectedCappedLength,
  logProbCorrectness,
  logProbLength,
  lossAndGrad,
  rowEntropy,
  sampleResponse,
  sigmoid,
  type Aggregation,
  type LossOptions,
  type SimConstants,
  type SimRow,
} from '../../gpu-bridge/sim/simPolicy.ts';
import { newOptimState, optimStep, type OptimConfig } from '../../gpu-bridge/sim/optimizer.ts';

describe('length distribution (capped geometric)', () => {
  it('matches the hand-computed pmf', () => {
    // η = ln 3 → κ = σ(−ln 3) = 1/(1 + 3) = 1/4.  P(eos at 3) = κ(1 − κ)² = 0.25 · 0.5625 = 0.140625.
    expect(Math.exp(logProbLength(Math.log(3), 3, false))).toBeCloseTo(0.140625, 14);
    // η = ln 6 → κ = 1/7.  P(truncated at T = 4) = (1 − κ)^4 = (6/7)^4 = 1296/2401 = 0.5397750937...
    expect(Math.exp(logProbLength(Math.log(6), 4, true))).toBeCloseTo(1296 / 2401, 14);
  });

  it('sums to one over its support {eos at 1..T} ∪ {truncated at T}', () => {
    for (const eta of [-2, 0, 1.3, 4]) {
      const T = 40;
      let total = Math.exp(logProbLength(eta, T, true));
      for (let L = 1; L <= T; L++) total += Math.exp(logProbLength(eta, L, false));
      expect(total).toBeCloseTo(1, 12);
    }
  });

  it('its η-derivative is the analytic one (L·κ − 1 for eos, T·κ truncated) and matches finite differences', () => {
    // Hand: η = ln 3, κ = 1/4, L = 3: 3/4 − 1 = −0.25; truncated T = 4: 4/4 = 1.
    expect(dLogProbLengthDEta(Math.log(3), 3, false)).toBeCloseTo(-0.25, 14);
    expect(dLogProbLengthDEta(Math.log(3), 4, true)).toBeCloseTo(1, 14);
    const h = 1e-6;
    for (const [eta, L, tr] of [[0.7, 5, false], [2.1, 1, false], [-0.4, 9, true]] as [number, number, boolean][]) {
      const fd = (logProbLength(eta + h, L, tr) - logProbLength(eta - h, L, tr)) / (2 * h);
      expect(dLogProbLengthDEta(eta, L, tr)).toBeCloseTo(fd, 7);
    }
  });

  it('expected capped length is (1 − (1 − κ)^T)/κ', () => {
    // Hand: κ = 1/4, T = 4: (1 − 0.75^4)/0.25 = (1 − 0.31640625) · 4 = 2.734375.
    expect(expectedCappedLength(Math.log(3), 4)).toBeCloseTo(2.734375, 12);
    // and equals Σ_L L·P(L) over the support
    const eta = 1.7;
    const T = 25;
    let m = T * Math.exp(logProbLength(eta, T, true));
    for (let L = 1; L <= T; L++) m += L * Math.exp(logProbLength(eta, L, false));
    expect(expectedCappedLength(eta, T)).toBeCloseTo(m, 10);
  });
});

describe('sampling by inversion', () => {
  it('draws correct iff u1 < p and the length with P(R > r) = (1 − κ)^r', () => {
    // z = 0 → p = ½.  η = ln 3 → 1 − κ = 3/4.  u2 = 0.5: R = 1 + ⌊ln 0.5 / ln 0.75⌋ = 1 + ⌊2.409⌋ = 3.
    expect(sampleResponse(0, Math.log(3), 0, 100, 0.49, 0.5)).toEqual({ correct: true, length: 3, truncated: false });
    // u1 = 0.51 ≥ ½ → wrong, uses η0 = 0 → 1 − κ = ½: R = 1 + ⌊ln 0.5 / ln 0.5⌋ = 2.
    expect(sampleResponse(0, Math.log(3), 0, 100, 0.51, 0.5)).toEqual({ correct: false, length: 2, truncated: false });
    // cap T = 2 < 3 → truncated at 2.
    expect(sampleResponse(0, Math.log(3), 0, 2, 0.49, 0.5)).toEqual({ correct: true, length: 2, truncated: true });
  });

  it('empirical frequencies match the pmf', () => {
    const rng = new Prng({ seed: 7, step: 0, purpose: 'test/sample' });
    const eta = Math.log(4); // κ = 1/5
    const T = 6;
    const n = 40000;
    const counts = new Array(T + 2).fill(0);
    let correct = 0;
    for (let i = 0; i < n; i++) {
      const r = sampleResponse(0.8, eta, eta, T, rng.nextFloat(), rng.nextOpen());
      if (r.correct) correct++;
      counts[r.truncated ? T + 1 : r.length]++;
    }
    const p = sigmoid(0.8);
    expect(Math.abs(correct / n - p)).toBeLessThan(4 * Math.sqrt((p * (1 - p)) / n));
    for (let L = 1; L <= T + 1; L++) {
      const pl = Math.exp(L <= T ? logProbLength(eta, L, false) : logProbLength(eta, T, true));
      expect(Math.abs(counts[L] / n - pl)).toBeLessThan(4 * Math.sqrt((pl * (1 - pl)) / n) + 1e-9);
    }
  });
});

describe('entropy', () => {
  it('is H(p) + p·H(κ1) + (1 − p)·H(κ0)', () => {
    // Hand: z = 1 → p = σ(1) = 0.7310585786; H(p) = 0.5822031089.
    //       κ1 = 1/4 → H = 0.5623351446; κ0 = 1/7 → H = 0.4101163183.
    //       e = 0.5822031089 + 0.7310585786·0.5623351446 + 0.2689414214·0.4101163183 = 1.1036003060.
    expect(rowEntropy(1, Math.log(3), Math.log(6))).toBeCloseTo(1.103600305994456, 12);
    expect(binaryEntropy(0)).toBe(0);
    expect(binaryEntropy(0.5)).toBeCloseTo(Math.LN2, 15);
  });
});

// ---- the update objective --------------------------------------------------------------------------

const K: SimConstants = { numCategories: 3, slope: 1.5, wrongLengthDelta: 0.4 };
const difficulty = Float64Array.from([-1, 0.3, 1.2, 0.1, 2.0]);
const category = Uint16Array.from([0, 1, 2, 1, 0]);

function rowsFor(w: Float64Array, seed: number): SimRow[] {
  const rng = new Prng({ seed, step: 0, purpose: 'test/rows' });
  const rows: SimRow[] = [];
  for (let i = 0; i < 24; i++) {
    const q = rng.nextInt(difficulty.length);
    const z = (K.slope * (w[0] + w[1 + category[q]] - difficulty[q])) / 1;
    const r = sampleResponse(z, w[K.numCategories + 1], w[K.numCategories + 1] + K.wrongLengthDelta, 12, rng.nextFloat(), rng.nextOpen());
    const eta = w[K.numCategories + 1] + (r.correct ? 0 : K.wrongLengthDelta);
    const logPi = logProbCorrectness(z, r.correct) + logProbLength(eta, r.length, r.truncated);
    // behaviour log-prob: current ± up to 0.6 nats, so ratios spread over [0.55, 1.8]
    const old = logPi + (rng.nextFloat() - 0.5) * 1.2;
    rows.push({
      prompt: q,
      correct: r.correct,
      length: r.length,
      truncated: r.truncated,
      oldLogprob: old,
      advantage: rng.nextNormal(),
      clipLo: 0.8,
      clipHi: 1.28,
      weight: 0.5 + rng.nextFloat(),
      bin: rng.nextInt(3) - 1,
    });
  }
  return rows;
}

describe('lossAndGrad', () => {
  const w = Float64Array.from([0.2, -0.3, 0.5, 0.1, 2.2]);
  const ref = Float64Array.from([0.0, 0.0, 0.0, 0.0, 2.0]);
  const modes: Aggregation[] = ['token-mean', 'seq-mean-token-mean', 'seq-mean-token-sum-norm', 'weighted-token-sum'];

  for (const aggregation of modes) {
    it(`gradient equals central finite differences of the loss (${aggregation}, entropy and KL on)`, () => {
      const rows = rowsFor(w, 11);
      const opts: LossOptions = { aggregation, lConst: 16, entropyCoeff: 0.03, klCoeff: 0.07, temperature: 0.9, maskTruncated: aggregation === 'token-mean' };
      const res = lossAndGrad(w, ref, K, difficulty, category, rows, opts);
      const h = 1e-6;
      for (let i = 0; i < w.length; i++) {
        const wp = Float64Array.from(w);
        const wm = Float64Array.from(w);
        wp[i] += h;
        wm[i] -= h;
        const fd = (lossAndGrad(wp, ref, K, difficulty, category, rows, opts).loss - lossAndGrad(wm, ref, K, difficulty, category, rows, opts).loss) / (2 * h);
        expect(res.grad[i]).toBeCloseTo(fd, 6);
      }
      expect(Math.abs(res.grad[1]) + Math.abs(res.grad[4])).toBeGreaterThan(0);
      expect(res.clipFrac).toBeGreaterThan(0); // the fixture exercises both branches of the max
      expect(res.clipFrac).toBeLessThan(1);
    });
  }

  it('hand-computed single row: token-mean, ratio 1, A = 1', () => {
    // One correct eos row of length 3 on prompt 1 (b = 0.3, category 1), τ = 1:
    //   z = 1.5·(0.2 + 0.5 − 0.3) = 0.6, p = σ(0.6) = 0.6456563062
    //   ℓ = −A·ρ = −1, loss = (w·L/ΣL)·ℓ = −1
    //   ∂loss/∂θ0 = ∂loss/∂θ_1 = −A·ρ·(1 − p)·s = −(1 − 0.6456563062)·1.5 = −0.5315155407
    //   η = φ = 2.2, κ = σ(−2.2) = 0.0997504891; ∂loss/∂φ = −(L·κ − 1) = −(0.2992514674 − 1) = 0.7007485326
    const z = 1.5 * (0.2 + 0.5 - 0.3);
    const lp = logProbCorrectness(z, true) + logProbLength(2.2, 3, false);
    const row: SimRow = { prompt: 1, correct: true, length: 3, truncated: false, oldLogprob: lp, advantage: 1, clipLo: 0.8, clipHi: 1.28, weight: 1, bin: 2 };
    const r = lossAndGrad(w, ref, K, difficulty, category, [row], { aggregation: 'token-mean', entropyCoeff: 0, klCoeff: 0, temperature: 1 });
    expect(r.loss).toBeCloseTo(-1, 14);
    expect(r.grad[0]).toBeCloseTo(-0.5315155407, 9);
    expect(r.grad[2]).toBeCloseTo(-0.5315155407, 9);
    expect(r.grad[1]).toBe(0);
    expect(r.grad[3]).toBe(0);
    expect(r.grad[4]).toBeCloseTo(0.7007485326, 9);
    expect(r.tokens).toBe(3);
    expect(r.clipFrac).toBe(0);
    expect(r.kl).toBeCloseTo(0, 14);
    expect(r.binLosses).toEqual({ '2': -1 });
  });

  it('aggregation coefficients: two rows of lengths 2 and 6 with ℓ = −A', () => {
    // Rows at ratio 1 with A = 1 (ℓ = −1) and A = −2 (ℓ = 2), weights 1 and 0.5:
    //   token-mean               (1·2·(−1) + 0.5·6·2)/8 = (−2 + 6)/8 = 0.5
    //   seq-mean-token-mean      (1·(−1) + 0.5·2)/2 = 0
    //   seq-mean-token-sum-norm  (1·2·(−1) + 0.5·6·2)/(2·10) = 4/20 = 0.2
    //   weighted-token-sum       −2 + 6 = 4
    const mk = (length: number, advantage: number, weight: number): SimRow => {
      const z = 1.5 * (0.2 - 0.3 - -1);
      const lp = logProbCorrectness(z, false) + logProbLength(2.2 + 0.4, length, false);
      return { prompt: 0, correct: false, length, truncated: false, oldLogprob: lp, advantage, clipLo: 0.8, clipHi: 1.28, weight, bin: -1 };
    };
    const rows = [mk(2, 1, 1), mk(6, -2, 0.5)];
    const base = { entropyCoeff: 0, klCoeff: 0, temperature: 1, lConst: 10 };
    const L = (aggregation: Aggregation) => lossAndGrad(w, ref, K, difficulty, category, rows, { ...base, aggregation }).loss;
    expect(L('token-mean')).toBeCloseTo(0.5, 12);
    expect(L('seq-mean-token-mean')).toBeCloseTo(0, 12);
    expect(L('seq-mean-token-sum-norm')).toBeCloseTo(0.2, 12);
    expect(L('weighted-token-sum')).toBeCloseTo(4, 12);
    expect(() => lossAndGrad(w, ref, K, difficulty, category, rows, { ...base, lConst: undefined, aggregation: 'seq-mean-token-sum-norm' })).toThrow(/lConst/);
  });

  it('maskTruncated drops truncated rows from numerator and denominators', () => {
    const rows = rowsFor(w, 3);
    const opts: LossOptions = { aggregation: 'token-mean', entropyCoeff: 0, klCoeff: 0, temperature: 1, maskTruncated: true };
    const kept = rows.filter((r) => !r.truncated);
    expect(kept.length).toBeLessThan(rows.length); // the fixture has truncated rows
    const a = lossAndGrad(w, ref, K, difficulty, category, rows, opts);
    const b = lossAndGrad(w, ref, K, difficulty, category, kept, { ...opts, maskTruncated: false });
    expect(a.loss).toBe(b.loss);
    expect(a.tokens).toBe(b.tokens);
    expect(Array.from(a.grad)).toEqual(Array.from(b.grad));
  });
});

describe('optimiser', () => {
  it('first AdamW step moves each coordinate by lr·g/(|g| + eps) (bias-corrected)', () => {
    // t = 1: m̂ = g, v̂ = g², step = lr·g/(|g| + eps) ≈ lr·sign(g); decay first: w ← w − lr·wd·w.
    const cfg: OptimConfig = { kind: 'adam', lr: 0.1, weightDecay: 0.5, beta1: 0.9, beta2: 0.999, eps: 1e-8, gradClip: 0 };
    const w = Float64Array.from([1, -2]);
    const g = Float64Array.from([3, -0.5]);
    const st = newOptimState(2);
    const norm = optimStep(w, g, st, cfg);
    expect(norm).toBeCloseTo(Math.sqrt(9 + 0.25), 14);
    // 1 − 0.1·0.5·1 = 0.95, then − 0.1·3/(3 + 1e-8) = 0.85
    expect(w[0]).toBeCloseTo(0.85, 8);
    // −2 − 0.1·0.5·(−2) = −1.9, then + 0.1 = −1.8
    expect(w[1]).toBeCloseTo(-1.8, 8);
  });

  it('clips the gradient norm and does SGD', () => {
    const cfg: OptimConfig = { kind: 'sgd', lr: 1, weightDecay: 0, beta1: 0.9, beta2: 0.999, eps: 1e-8, gradClip: 1 };
    const w = Float64Array.from([0, 0]);
    const norm = optimStep(w, Float64Array.from([3, 4]), newOptimState(2), cfg);
    expect(norm).toBe(5);
    // scaled by 1/(5 + 1e-6): w = −(0.6, 0.8) up to 1e-7
    expect(w[0]).toBeCloseTo(-0.6, 6);
    expect(w[1]).toBeCloseTo(-0.8, 6);
  });
});
