import { describe, expect, it } from 'vitest';
import { judgeLabels, parseJudge } from '../../actors/estimator/judge.ts';
import { entropyLogits, meanTokenEntropy, percentile } from '../../actors/sampler/entropy.ts';
import { LabelSource } from '../../actors/shared/labels.ts';

describe('LLM-judge parse: first number (\\d+\\.?\\d*) in [0, 1], else 0.5; difficulty = 1 − parsed', () => {
  const cases: [string, number, boolean][] = [
    ['0.7', 0.7, true],
    ['I would say 70% so 0.7', 0.7, true], // "70" is out of range, the next number is 0.7
    ['-0.3', 0.3, true], // the sign is not part of the REF pattern
    ['probability: 1.', 1, true],
    ['1.0', 1, true],
    ['0', 0, true],
    ['between 2 and 0.25', 0.25, true],
    ['.5', 0.5, false], // matches "5" only: out of range ⇒ default
    ['no idea', 0.5, false],
    ['', 0.5, false],
  ];
  for (const [text, success, parsed] of cases) {
    it(JSON.stringify(text), () => {
      const p = parseJudge(text);
      expect(p.success).toBe(success);
      expect(p.difficulty).toBe(1 - success);
      expect(p.parsed).toBe(parsed);
    });
  }

  it('a round of replies: difficulties, source and unparsed count', () => {
    const r = judgeLabels(['0.25', 'hmm']);
    expect(Array.from(r.difficulty)).toEqual([0.75, 0.5]);
    expect(Array.from(r.source)).toEqual([LabelSource.Judge, LabelSource.Judge]);
    expect(r.unparsed).toBe(1);
  });
});

describe('entropy selector logits', () => {
  it('mean token entropy per prompt from offsets', () => {
    // prompt 0: tokens (1, 2, 3) ⇒ 2; prompt 1: none ⇒ 0; prompt 2: (0.5) ⇒ 0.5
    const m = meanTokenEntropy(Float32Array.from([1, 2, 3, 0.5]), Uint32Array.from([0, 3, 3, 4]));
    expect(Array.from(m)).toEqual([2, 0, 0.5]);
  });

  it('linear-interpolated percentile (numpy default)', () => {
    const v = Float64Array.from([10, 1, 4, 3, 2]);
    expect(percentile(v, 50)).toBe(3); // sorted 1,2,3,4,10: position 2
    expect(percentile(v, 90)).toBeCloseTo(7.6, 14); // position 3.6: 4 + 0.6·(10 − 4)
    expect(percentile(v, 100)).toBe(10);
  });

  it('z = min(score, P90)/τ', () => {
    const r = entropyLogits(Float64Array.from([1, 2, 3, 4, 10]), { tau: 2, clipPercentile: 90 });
    // clip at 7.6 ⇒ scores (1, 2, 3, 4, 7.6), divided by τ = 2
    expect(r.clipValue).toBeCloseTo(7.6, 14);
    expect(Array.from(r.logits).map((x) => Number(x.toFixed(12)))).toEqual([0.5, 1, 1.5, 2, 3.8]);
    expect(r.source[0]).toBe(LabelSource.Entropy);
    // no clamp, τ = 1 (REF default)
    expect(Array.from(entropyLogits(Float64Array.from([0.3, 1.7])).logits)).toEqual([0.3, 1.7]);
  });

  it('rejects non-finite scores', () => {
    expect(() => entropyLogits(Float64Array.from([1, NaN]))).toThrow(/prompt 1/);
  });
});
