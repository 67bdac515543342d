import { describe, expect, it } from 'vitest';
import {
  constantColdStart,
  featureCounts,
  fitIdf,
  olsFit,
  tfidfColdStart,
  tfidfCorpus,
  tfidfVector,
  wordTokens,
} from '../../actors/estimator/coldStart.ts';
import { LabelSource } from '../../actors/shared/labels.ts';

// Word unigrams only, many buckets: small enough to compute by hand.
const UNIGRAMS = { buckets: 1 << 20, wordNgrams: [1, 1] as const, charNgrams: null };
const TEXTS = ['x y', 'x z', 'y z', 'w'];

describe('constant cold start', () => {
  it('labels every prompt with the constant failure rate', () => {
    const c = constantColdStart(3, 0.5);
    expect(Array.from(c.difficulty)).toEqual([0.5, 0.5, 0.5]);
    expect(Array.from(c.source)).toEqual([LabelSource.ColdConstant, LabelSource.ColdConstant, LabelSource.ColdConstant]);
  });
});

describe('hashed TF-IDF features', () => {
  it('the four tiny texts hash to four distinct buckets (no collision in this test)', () => {
    const buckets = new Set<number>();
    for (const t of ['x', 'y', 'z', 'w']) for (const b of featureCounts(t, UNIGRAMS).keys()) buckets.add(b);
    expect(buckets.size).toBe(4);
  });

  it('smooth idf = ln((1+N)/(1+df)) + 1', () => {
    const table = fitIdf(TEXTS, UNIGRAMS);
    const bx = [...featureCounts('x', UNIGRAMS).keys()][0];
    const bw = [...featureCounts('w', UNIGRAMS).keys()][0];
    // x occurs in 2 of 4 texts: ln(5/3) + 1 = 1.5108256; w in 1: ln(5/2) + 1 = 1.9162907
    expect(table.idf[bx]).toBeCloseTo(1.5108256237659907, 14);
    expect(table.idf[bw]).toBeCloseTo(1.916290731874155, 14);
  });

  it('vectors are L2-normalised; "x y" has two equal components 1/√2; cos("x y","x z") = 1/2', () => {
    const table = fitIdf(TEXTS, UNIGRAMS);
    const a = tfidfVector('x y', table);
    const b = tfidfVector('x z', table);
    expect(a.value.length).toBe(2);
    for (const v of a.value) expect(v).toBeCloseTo(Math.SQRT1_2, 14); // equal idf (df 2 each), tf 1
    let dot = 0;
    for (let i = 0; i < a.index.length; i++) {
      const j = b.index.indexOf(a.index[i]);
      if (j >= 0) dot += a.value[i] * b.value[j];
    }
    expect(dot).toBeCloseTo(0.5, 14); // shared x: (1/√2)·(1/√2)
  });

  it('sublinear tf: a repeated word weighs 1 + ln(tf)', () => {
    const table = fitIdf(['x x x y', 'y'], UNIGRAMS);
    const v = tfidfVector('x x x y', table);
    const bx = [...featureCounts('x', UNIGRAMS).keys()][0];
    const by = [...featureCounts('y', UNIGRAMS).keys()][0];
    // idf(x) = ln(3/2)+1 = 1.4054651, idf(y) = ln(3/3)+1 = 1; raw weights (1+ln 3)·1.4054651 = 2.9495..., 1
    const wx = (1 + Math.log(3)) * (Math.log(1.5) + 1);
    const norm = Math.hypot(wx, 1);
    expect(v.value[v.index.indexOf(bx)]).toBeCloseTo(wx / norm, 14);
    expect(v.value[v.index.indexOf(by)]).toBeCloseTo(1 / norm, 14);
  });

  it('numbers become <numK> by digit count; symbols are tokens', () => {
    expect(wordTokens('Compute 12 + 3.5, then 1200')).toEqual(['compute', '<num2>', '+', '<num2>', ',', 'then', '<num4>']);
  });

  it('empty text is the zero vector', () => {
    const table = fitIdf(['a b', ''], {});
    const v = tfidfVector('', table);
    expect(v.index.length).toBe(0);
  });
});

describe('TF-IDF kernel cold start on 4 tiny texts (τ = 0.5, references 0, 1, 3)', () => {
  // Cosines (from the vectors above): texts 0,1,2 share one word pairwise ⇒ 1/2; text 3 ("w") shares none ⇒ 0.
  // Reference difficulties y = (0.2, 0.6, 1.0) for prompts (0, 1, 3). Weights softmax(cos/0.5):
  //  q0: cos (1, .5, 0) → e^(2,1,0)/11.1073379 = (.6652410, .2447285, .0900306) → b = .1330482 + .1468371 + .0900306 = 0.3699158
  //  q1: cos (.5, 1, 0) → (.2447285, .6652410, .0900306) → b = .0489457 + .3991446 + .0900306 = 0.5381208
  //  q2: cos (.5, .5, 0) → e^(1,1,0)/6.4365637 = (.4223188, .4223188, .1553624) → b = .0844638 + .2533913 + .1553624 = 0.4932174
  //  q3: cos (0, 0, 1) → e^(0,0,2)/9.3890561 = (.1065069, .1065069, .7869861) → b = .0213014 + .0639042 + .7869861 = 0.8721916
  // OLS on the references: x = (.3699158, .5381208, .8721916), y = (.2, .6, 1.0):
  //  x̄ = .5934094, ȳ = .6; Sxy = (−.2234936)(−.4) + 0 + (.2787822)(.4) = .2009103
  //  Sxx = .0499494 + .0030570 + .0777195 = .1307259; α = 1.5368843, γ = .6 − α·x̄ = −0.3120017
  //  d = α·b + γ = (0.2565162, 0.5150278, 0.4460165, 1.0284560)  — q3 leaves [0, 1]: not clipped, as REF.
  const ref = { prompt: Uint32Array.from([0, 1, 3]), difficulty: Float64Array.from([0.2, 0.6, 1.0]) };

  it('base estimates, OLS fit and recalibrated labels match the hand computation', () => {
    const r = tfidfColdStart(TEXTS, ref, { ...UNIGRAMS, tau: 0.5 });
    const base = [0.36991584695822344, 0.5381208408462331, 0.49321744209817814, 0.8721916252969591];
    base.forEach((b, q) => expect(r.base[q]).toBeCloseTo(b, 12));
    expect(r.fit.alpha).toBeCloseTo(1.5368843101917125, 10);
    expect(r.fit.gamma).toBeCloseTo(-0.3120016543215416, 10);
    [0.2565162069598307, 0.5150278229622057, 0.4460164939520378, 1.028455970077964].forEach((d, q) =>
      expect(r.difficulty[q]).toBeCloseTo(d, 10),
    );
    expect(Array.from(r.source)).toEqual(new Array(4).fill(LabelSource.ColdTfidf));
  });

  it('top-k = 1 uses only the most similar reference', () => {
    const r = tfidfColdStart(TEXTS, ref, { ...UNIGRAMS, tau: 0.5, topK: 1 });
    // q0 → ref 0 (0.2); q1 → ref 1 (0.6); q2: tie cos .5 between refs 0 and 1 → lower position (0.2); q3 → 1.0
    expect(Array.from(r.base)).toEqual([0.2, 0.6, 0.2, 1.0]);
  });

  it('is deterministic with the default features (byte-identical)', () => {
    const texts = ['Find x if 2x + 3 = 7.', 'Solve for y: y^2 = 16.', 'What is 12 * 12?', 'Compute the integral of x dx.'];
    const r1 = tfidfColdStart(texts, ref, {});
    const r2 = tfidfColdStart(texts, ref, {});
    expect(Buffer.from(r1.difficulty.buffer)).toEqual(Buffer.from(r2.difficulty.buffer));
    expect(Buffer.from(r1.base.buffer)).toEqual(Buffer.from(r2.base.buffer));
  });

  it('rejects an empty or out-of-range reference set', () => {
    expect(() => tfidfColdStart(TEXTS, { prompt: new Uint32Array(0), difficulty: new Float64Array(0) })).toThrow(/empty/);
    expect(() => tfidfColdStart(TEXTS, { prompt: Uint32Array.from([7]), difficulty: Float64Array.from([0.5]) })).toThrow(/prompt 7/);
  });
});

describe('TF-IDF kernel with repeated texts (identical vectors computed once)', () => {
  // Texts 4–7 repeat texts 0–3 (every df doubles, so x, y, z keep one idf and the cosines stay as above).
  // References (0, 1, 3, 4, 7) with y (0.2, 0.6, 1.0, 0.4, 0.0), τ = 0.5.
  // Cosines: 'x y' (A) · 'x z' (B) = .5, 'y z' (C) with A and B .5, 'w' (W) 0 with the others.
  // q ∈ A: cos to refs (1, .5, 0, 1, 0) → weights e^(2, 1, 0, 2, 0) = (7.389056, 2.718282, 1, 7.389056, 1):
  //   b = (7.389056·.2 + 2.718282·.6 + 1·1 + 7.389056·.4 + 0) / 19.496394 = 7.064403 / 19.496394 = 0.3623441
  // q = B: e^(1, 2, 0, 1, 0): b = (2.718282·.6 + 7.389056·.6 + 1) / (2·2.718282 + 7.389056 + 2) = 7.064403 / 14.825620 = 0.4764997
  // q = C: e^(1, 1, 0, 1, 0): b = (2.718282·1.2 + 1) / (3·2.718282 + 2) = 4.261938 / 10.154845 = 0.4196950
  // q ∈ W: e^(0, 0, 2, 0, 2): b = (.2 + .6 + 7.389056 + .4) / (3 + 2·7.389056) = 8.589056 / 17.778112 = 0.4831253
  const texts = [...TEXTS, ...TEXTS];
  const ref = { prompt: Uint32Array.from([0, 1, 3, 4, 7]), difficulty: Float64Array.from([0.2, 0.6, 1.0, 0.4, 0.0]) };

  it('groups texts with identical features', () => {
    const c = tfidfCorpus(texts, UNIGRAMS);
    expect(Array.from(c.groupOf)).toEqual([0, 1, 2, 3, 0, 1, 2, 3]);
    expect(c.vectors).toHaveLength(4);
    // the sim's questions are indices: every number of one digit count has the same features
    expect(new Set(tfidfCorpus(Array.from({ length: 10000 }, (_, q) => String(q))).groupOf).size).toBe(4);
  });

  it('base estimates match the per-reference hand computation', () => {
    const r = tfidfColdStart(texts, ref, { ...UNIGRAMS, tau: 0.5 });
    const byText = [0.3623440697237036, 0.4764996588858887, 0.4196950313313972, 0.48312531743184245];
    for (let q = 0; q < 8; q++) expect(r.base[q]).toBeCloseTo(byText[q % 4], 12);
  });

  it('top-k still counts repeated references one by one', () => {
    // k = 2: q ∈ A takes refs 0 and 3 (cos 1, lower positions first) → (.2 + .4) / 2 = .3
    const r = tfidfColdStart(texts, ref, { ...UNIGRAMS, tau: 0.5, topK: 2 });
    expect(r.base[0]).toBeCloseTo(0.3, 12);
    expect(r.base[4]).toBeCloseTo(0.3, 12);
    // q ∈ W: refs 2 and 4 (prompts 3 and 7, y 1.0 and 0.0) → .5
    expect(r.base[3]).toBeCloseTo(0.5, 12);
  });

  it('a second array with other texts is not answered from the first one\'s cache', () => {
    const a = tfidfColdStart(texts, ref, { ...UNIGRAMS, tau: 0.5 });
    const other = [...texts];
    other[6] = 'w'; // prompt 6 (no reference) now reads as W
    const b = tfidfColdStart(other, ref, { ...UNIGRAMS, tau: 0.5 });
    expect(a.base[6]).toBeCloseTo(0.4196950313313972, 12);
    expect(b.base[6]).toBe(b.base[3]);
    expect(b.base[6]).not.toBeCloseTo(a.base[6], 2);
  });
});

describe('OLS recalibration', () => {
  it('exact line through points; degenerate x gives the mean', () => {
    // y = 2x + 1 at x = 0, 1, 2
    expect(olsFit(Float64Array.from([0, 1, 2]), Float64Array.from([1, 3, 5]))).toEqual({ alpha: 2, gamma: 1 });
    // all x equal: no slope identifiable ⇒ α = 0, γ = ȳ = (0.2 + 0.4)/2 = 0.3
    const f = olsFit(Float64Array.from([0.5, 0.5]), Float64Array.from([0.2, 0.4]));
    expect(f.alpha).toBe(0);
    expect(f.gamma).toBeCloseTo(0.3, 15);
  });
});
