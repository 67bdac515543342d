import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { Prng } from '../../events/prng.ts';
import { expNeg, pooledRawEstimate, snisEstimate } from '../../actors/estimator/snis.ts';
import type { SnisRows } from '../../actors/estimator/snis.ts';
import { LabelSource, NO_LABEL, assembleLabels, labelSourceFromName, labelSourceName } from '../../actors/shared/labels.ts';

const E = Math.E;

/**
 * Hand example, 2 prompts × 3 rows (log-probs are per-row sums, nats):
 *  prompt 0: ℓ = π − μ = (−9 − −10, −12 − −12, −9 − −8) = (+1, 0, −1), rewards (1, 0, 1)
 *  prompt 1: ℓ = (−15 − −20, −10 − −5, −7 − −7) = (+5, −5, 0),    rewards (0, 1, 1)
 */
function handRows(): SnisRows {
  return {
    prompt: Uint32Array.from([0, 0, 0, 1, 1, 1]),
    behaviourLogProb: Float64Array.from([-10, -12, -8, -20, -5, -7]),
    currentLogProb: Float64Array.from([-9, -12, -9, -15, -10, -7]),
    reward: Float32Array.from([1, 0, 1, 0, 1, 1]),
  };
}

describe('SNIS (dare-reference §2)', () => {
  it('with clipping c = 2: hand-computed weights, ESS, labels and diagnostics', () => {
    const r = snisEstimate(handRows(), { numPrompts: 2, clip: 2, essThreshold: 1.2 });
    // prompt 0: no clip; max ℓ̂ = 1 ⇒ w̃ = (1, e^-1, e^-2) = (1, 0.36787944, 0.13533528)
    //   Σw̃ = 1.50321472, Σw̃² = 1 + e^-2 + e^-4 = 1.15365092, ESS = 1.50321472²/1.15365092 = 1.95869865
    //   a = (1 + e^-2)/Σw̃ = (e²+1)/(e²+e+1) = 8.3890561/11.1073379 = 0.75527153 ⇒ d = 0.24472847
    expect(r.ess[0]).toBeCloseTo(1.9586986534143886, 12);
    expect(r.success[0]).toBeCloseTo((E * E + 1) / (E * E + E + 1), 12);
    expect(r.difficulty[0]).toBeCloseTo(0.24472847105479767, 12);
    expect(r.source[0]).toBe(LabelSource.Snis);
    // prompt 1: ℓ = (5, −5, 0) clipped to (2, −2, 0); max 2 ⇒ w̃ = (1, e^-4, e^-2) = (1, 0.01831564, 0.13533528)
    //   Σw̃ = 1.15365092, Σw̃² = 1 + e^-8 + e^-4 = 1.01865110, ESS = 1.33090947/1.01865110 = 1.30654200 ≥ 1.2
    //   a = (e^-4 + e^-2)/Σw̃ = (1+e²)/(e⁴+e²+1) = 8.3890561/62.9872064 = 0.13318667 ⇒ d = 0.86681333
    expect(r.ess[1]).toBeCloseTo(1.3065420025945234, 12);
    expect(r.success[1]).toBeCloseTo((1 + E * E) / (E ** 4 + E * E + 1), 12);
    expect(r.difficulty[1]).toBeCloseTo(0.8668133321973349, 12);
    expect(r.source[1]).toBe(LabelSource.Snis);
    // raw failure rates: 1 − 2/3 for both prompts
    expect(r.rawDifficulty[0]).toBeCloseTo(1 / 3, 15);
    expect(r.rawDifficulty[1]).toBeCloseTo(1 / 3, 15);
    expect(Array.from(r.rowCount)).toEqual([3, 3]);
    // diagnostics: ℓ̂ = (1, 0, −1, 2, −2, 0): mean|ℓ̂| = 6/6 = 1, mean 0, unbiased std = sqrt(10/5) = √2
    const g = r.diagnostics;
    expect(g.clippedPos).toBe(1); // +5 > 2
    expect(g.clippedNeg).toBe(1); // −5 < −2
    expect(g.meanAbsLogRatio).toBeCloseTo(1, 14);
    expect(g.stdLogRatio).toBeCloseTo(Math.SQRT2, 14);
    expect(g.meanEss).toBeCloseTo((1.9586986534143886 + 1.3065420025945234) / 2, 12);
    expect(g).toMatchObject({ promptsInBuffer: 2, rows: 6, snisEstimated: 2, essFallback: 0, clip: 2, essThreshold: 1.2 });
  });

  it('without clipping (c = 10 and c = ∞): prompt 1 weights collapse onto the failed row', () => {
    for (const clip of [10, Infinity, 200]) {
      const r = snisEstimate(handRows(), { numPrompts: 2, clip, essThreshold: 1 });
      // prompt 1: ℓ̂ = (5, −5, 0), w̃ = (1, e^-10, e^-5) = (1, 4.539993e-5, 6.737947e-3)
      //   Σw̃ = 1.00678335, a = (e^-10 + e^-5)/Σw̃ = 0.00673764 ⇒ d = 0.99326236; ESS = 1.01356669
      expect(r.difficulty[1]).toBeCloseTo(0.9932623568421743, 12);
      expect(r.ess[1]).toBeCloseTo(1.0135666897076139, 12);
      // prompt 0 is unaffected by the clip (|ℓ| ≤ 1)
      expect(r.difficulty[0]).toBeCloseTo(0.24472847105479767, 12);
      expect(r.diagnostics.clippedPos + r.diagnostics.clippedNeg).toBe(0);
      // ℓ̂ = (1, 0, −1, 5, −5, 0): mean|ℓ̂| = 12/6 = 2, std = sqrt(52/5)
      expect(r.diagnostics.meanAbsLogRatio).toBeCloseTo(2, 14);
      expect(r.diagnostics.stdLogRatio).toBeCloseTo(Math.sqrt(52 / 5), 12);
    }
  });

  it('ESS below the threshold falls back to the raw rate (REF threshold 2)', () => {
    const r = snisEstimate(handRows(), { numPrompts: 2, clip: 2, essThreshold: 2 });
    // ESS 1.9587 < 2 and 1.3065 < 2 ⇒ both prompts take their raw failure rate 1 − 2/3
    expect(Array.from(r.source)).toEqual([LabelSource.FallbackRaw, LabelSource.FallbackRaw]);
    expect(r.difficulty[0]).toBeCloseTo(1 / 3, 15);
    expect(r.difficulty[1]).toBeCloseTo(1 / 3, 15);
    expect(r.diagnostics.essFallback).toBe(2);
    expect(r.diagnostics.snisEstimated).toBe(0);
  });

  it('ESS exactly at the threshold is kept (fallback only when ESS < threshold)', () => {
    // two rows with equal ℓ ⇒ w̃ = (1, 1), ESS = 4/2 = 2 ⇒ SNIS = raw mean 1/2
    const r = snisEstimate(
      {
        prompt: Uint32Array.from([0, 0]),
        behaviourLogProb: Float64Array.from([-3, -4]),
        currentLogProb: Float64Array.from([-2, -3]),
        reward: Uint8Array.from([1, 0]),
      },
      { numPrompts: 1, clip: 4, essThreshold: 2 },
    );
    expect(r.ess[0]).toBe(2);
    expect(r.source[0]).toBe(LabelSource.Snis);
    expect(r.difficulty[0]).toBe(0.5);
  });

  it('a single buffered row has ESS 1 and always falls back', () => {
    const r = snisEstimate(
      {
        prompt: Uint32Array.from([1]),
        behaviourLogProb: Float64Array.from([-5]),
        currentLogProb: Float64Array.from([-1]),
        reward: Uint8Array.from([1]),
      },
      { numPrompts: 3, clip: 4, essThreshold: 1.0000001 },
    );
    expect(r.ess[1]).toBe(1); // w̃ = 1 ⇒ 1²/1²
    expect(r.source[1]).toBe(LabelSource.FallbackRaw);
    expect(r.difficulty[1]).toBe(0); // one success ⇒ failure rate 0
    // prompts without rows: NaN labels, no source, ESS 0
    expect(Number.isNaN(r.difficulty[0])).toBe(true);
    expect(r.source[0]).toBe(NO_LABEL);
    expect(r.ess[2]).toBe(0);
    expect(r.diagnostics.promptsInBuffer).toBe(1);
  });

  it('reward > 0 counts as success (sum of token scores), ≤ 0 as failure', () => {
    const r = snisEstimate(
      {
        prompt: Uint32Array.from([0, 0, 0, 0]),
        behaviourLogProb: new Float64Array(4).fill(-1),
        currentLogProb: new Float64Array(4).fill(-1),
        reward: Float32Array.from([0.5, -0.2, 0, 1e-3]),
      },
      { numPrompts: 1, clip: 4, essThreshold: 2 },
    );
    expect(r.difficulty[0]).toBe(0.5); // successes: 0.5 and 1e-3 ⇒ 2 of 4
  });

  it('c = 0 equals the pooled raw mean (Previous-FR) exactly, for any rows', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.nat(6), fc.double({ min: -60, max: 0, noNaN: true }), fc.double({ min: -60, max: 0, noNaN: true }), fc.boolean()), {
          minLength: 1,
          maxLength: 40,
        }),
        (rows) => {
          const input: SnisRows = {
            prompt: Uint32Array.from(rows, (r) => r[0]),
            behaviourLogProb: Float64Array.from(rows, (r) => r[1]),
            currentLogProb: Float64Array.from(rows, (r) => r[2]),
            reward: Uint8Array.from(rows, (r) => (r[3] ? 1 : 0)),
          };
          const s = snisEstimate(input, { numPrompts: 7, clip: 0, essThreshold: 2 });
          const p = pooledRawEstimate(input, 7);
          expect(Buffer.from(s.difficulty.buffer)).toEqual(Buffer.from(p.difficulty.buffer));
          for (let q = 0; q < 7; q++) {
            expect(p.source[q]).toBe(p.rowCount[q] > 0 ? LabelSource.PreviousFr : NO_LABEL);
          }
        },
      ),
      { numRuns: 200, seed: 42 },
    );
  });

  it('rows of a prompt may be anywhere; both weight paths agree with a direct two-pass computation', () => {
    const prng = new Prng({ seed: 3, step: 0, purpose: 'test/snis' });
    const n = 400;
    const rows: SnisRows = {
      prompt: Uint32Array.from({ length: n }, () => prng.nextInt(50)),
      behaviourLogProb: Float64Array.from({ length: n }, () => -100 * prng.nextFloat()),
      currentLogProb: new Float64Array(n),
      reward: Uint8Array.from({ length: n }, () => (prng.nextFloat() < 0.5 ? 1 : 0)),
    };
    for (let i = 0; i < n; i++) rows.currentLogProb[i] = rows.behaviourLogProb[i] + 6 * prng.nextNormal();
    for (const clip of [3, 1000]) {
      // direct evaluation of the spec, per prompt, with Math.exp and the per-prompt max
      const r = snisEstimate(rows, { numPrompts: 50, clip, essThreshold: 1.5 });
      for (let q = 0; q < 50; q++) {
        const ls: number[] = [];
        const rs: number[] = [];
        for (let i = 0; i < n; i++) {
          if (rows.prompt[i] !== q) continue;
          ls.push(Math.max(-clip, Math.min(clip, rows.currentLogProb[i] - rows.behaviourLogProb[i])));
          rs.push(rows.reward[i]);
        }
        if (ls.length === 0) continue;
        const mx = Math.max(...ls);
        const w = ls.map((l) => Math.exp(l - mx));
        const sw = w.reduce((a, b) => a + b, 0);
        const ess = sw ** 2 / w.reduce((a, b) => a + b * b, 0);
        const raw = rs.reduce((a, b) => a + b, 0) / rs.length;
        const a = ess < 1.5 ? raw : w.reduce((acc, wi, j) => acc + wi * rs[j], 0) / sw;
        expect(r.ess[q]).toBeCloseTo(ess, 10);
        expect(r.difficulty[q]).toBeCloseTo(1 - a, 12);
      }
    }
  });

  it('a prompt whose rows straddle an internal chunk boundary (16384 rows) is pooled correctly', () => {
    const prng = new Prng({ seed: 4, step: 0, purpose: 'test/snis-chunks' });
    const n = 40_000;
    const per = 7; // 16384 = 7·2340 + 4: prompt 2340 owns rows 16380..16386 across the boundary
    const rows: SnisRows = {
      prompt: Uint32Array.from({ length: n }, (_, i) => Math.floor(i / per)),
      behaviourLogProb: Float64Array.from({ length: n }, () => -30 * prng.nextFloat()),
      currentLogProb: new Float64Array(n),
      reward: Uint8Array.from({ length: n }, () => (prng.nextFloat() < 0.3 ? 1 : 0)),
    };
    for (let i = 0; i < n; i++) rows.currentLogProb[i] = rows.behaviourLogProb[i] + 2 * prng.nextNormal();
    const numPrompts = Math.ceil(n / per);
    const r = snisEstimate(rows, { numPrompts, clip: 4, essThreshold: 1.5 });
    for (const q of [0, 2339, 2340, 2341, numPrompts - 1]) {
      const ls: number[] = [];
      const rs: number[] = [];
      for (let i = q * per; i < Math.min(n, (q + 1) * per); i++) {
        ls.push(Math.max(-4, Math.min(4, rows.currentLogProb[i] - rows.behaviourLogProb[i])));
        rs.push(rows.reward[i]);
      }
      const mx = Math.max(...ls);
      const w = ls.map((l) => Math.exp(l - mx));
      const sw = w.reduce((a, b) => a + b, 0);
      const ess = sw ** 2 / w.reduce((a, b) => a + b * b, 0);
      const raw = rs.reduce((a, b) => a + b, 0) / rs.length;
      const a = ess < 1.5 ? raw : w.reduce((acc, wi, j) => acc + wi * rs[j], 0) / sw;
      expect(r.rowCount[q]).toBe(rs.length);
      expect(r.ess[q]).toBeCloseTo(ess, 10);
      expect(r.difficulty[q]).toBeCloseTo(1 - a, 12);
    }
  });

  it('is deterministic: same rows ⇒ byte-identical outputs', () => {
    const a = snisEstimate(handRows(), { numPrompts: 2, clip: 2, essThreshold: 1.2 });
    const b = snisEstimate(handRows(), { numPrompts: 2, clip: 2, essThreshold: 1.2 });
    for (const k of ['difficulty', 'success', 'rawDifficulty', 'ess', 'rowCount', 'source'] as const) {
      expect(Buffer.from(a[k].buffer)).toEqual(Buffer.from(b[k].buffer));
    }
  });

  it('rejects bad rows with the row named', () => {
    const bad = handRows();
    bad.reward[4] = NaN;
    expect(() => snisEstimate(bad, { numPrompts: 2, clip: 2, essThreshold: 2 })).toThrow(/row 4 \(prompt 1\) has NaN reward/);
    const far = handRows();
    far.prompt[2] = 9;
    expect(() => snisEstimate(far, { numPrompts: 2, clip: 2, essThreshold: 2 })).toThrow(/row 2 has prompt 9/);
    const nanLp = handRows();
    nanLp.behaviourLogProb[3] = -Infinity;
    expect(() => snisEstimate(nanLp, { numPrompts: 2, clip: 2, essThreshold: 2 })).toThrow(/row 3 .*behaviourLogProb/);
    expect(() => snisEstimate(handRows(), { numPrompts: 2, clip: -1, essThreshold: 2 })).toThrow(/clip/);
  });

  it('current log-prob −∞ is clipped to −c (fast path) and gives no weight without a clip', () => {
    const rows: SnisRows = {
      prompt: Uint32Array.from([0, 0]),
      behaviourLogProb: Float64Array.from([-2, -2]),
      currentLogProb: Float64Array.from([-Infinity, -2]),
      reward: Uint8Array.from([1, 0]),
    };
    // c = 3: ℓ̂ = (−3, 0) ⇒ w̃ = (e^-3, 1), a = e^-3/(1 + e^-3) = 0.04742587
    const c3 = snisEstimate(rows, { numPrompts: 1, clip: 3, essThreshold: 1 });
    expect(c3.success[0]).toBeCloseTo(Math.exp(-3) / (1 + Math.exp(-3)), 14);
    // c = ∞: w̃ = (0, 1) ⇒ a = 0, ESS = 1
    const inf = snisEstimate(rows, { numPrompts: 1, clip: Infinity, essThreshold: 1 });
    expect(inf.success[0]).toBe(0);
    expect(inf.ess[0]).toBe(1);
  });

  it('expNeg matches Math.exp(−d) to a few ulp', () => {
    for (const d of [0, 1e-12, 0.5, 1, 2.25, 7.999, 31.3, 63.99, 64, 100, 745, Infinity]) {
      const want = Math.exp(-d);
      if (want === 0) expect(expNeg(d)).toBe(0);
      else expect(Math.abs(expNeg(d) / want - 1)).toBeLessThan(1e-15);
    }
    expect(expNeg(0)).toBe(1);
  });
});

describe('label assembly priority (reference > SNIS > cold start)', () => {
  it('overrides in priority order and counts sources', () => {
    const fallback = { difficulty: Float64Array.from([0.5, 0.5, 0.5, 0.5]), source: new Uint8Array(4).fill(LabelSource.ColdConstant) };
    const buffer = {
      difficulty: Float64Array.from([NaN, 0.25, 0.75, NaN]),
      source: Uint8Array.from([NO_LABEL, LabelSource.Snis, LabelSource.FallbackRaw, NO_LABEL]),
    };
    const reference = { prompt: Uint32Array.from([2, 3]), difficulty: Float64Array.from([0.125, 1]) };
    const a = assembleLabels(4, fallback, buffer, reference);
    expect(Array.from(a.difficulty)).toEqual([0.5, 0.25, 0.125, 1]);
    expect(Array.from(a.source)).toEqual([LabelSource.ColdConstant, LabelSource.Snis, LabelSource.Reference, LabelSource.Reference]);
    expect(a.counts[LabelSource.ColdConstant]).toBe(1);
    expect(a.counts[LabelSource.Snis]).toBe(1);
    expect(a.counts[LabelSource.Reference]).toBe(2);
    expect(a.counts[LabelSource.FallbackRaw]).toBe(0);
  });

  it('source codes are stable small integers with names', () => {
    expect(LabelSource).toEqual({
      ColdConstant: 0, ColdTfidf: 1, Snis: 2, FallbackRaw: 3, Reference: 4, Posterior: 5, Judge: 6, Entropy: 7, PreviousFr: 8, ColdEmbedding: 9,
    });
    expect(labelSourceName(LabelSource.FallbackRaw)).toBe('fallback-raw');
    expect(labelSourceFromName('previous-fr')).toBe(LabelSource.PreviousFr);
    expect(labelSourceName(LabelSource.ColdEmbedding)).toBe('cold-embedding');
    expect(labelSourceName(NO_LABEL)).toBe('none');
    expect(() => labelSourceFromName('teacher')).toThrow(/unknown label source/);
  });

  it('rejects an incomplete fallback layer', () => {
    const fallback = { difficulty: Float64Array.from([0.5, NaN]), source: new Uint8Array(2) };
    expect(() => assembleLabels(2, fallback)).toThrow(/prompt 1 unlabelled/);
  });
});
