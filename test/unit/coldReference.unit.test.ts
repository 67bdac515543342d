import { describe, expect, it } from 'vitest';
import { embeddingColdStart, fitIdf, tfidfColdStart, tfidfVector, type SparseVector } from '../../actors/estimator/coldStart.ts';
import { capReference } from '../../actors/estimator/round.ts';

/** cos of two unit sparse vectors, by merging their sorted indices (independent of coldStart's inverted index). */
function dot(a: SparseVector, b: SparseVector): number {
  let s = 0;
  for (let i = 0, j = 0; i < a.index.length && j < b.index.length; ) {
    if (a.index[i] === b.index[j]) s += a.value[i++] * b.value[j++];
    else if (a.index[i] < b.index[j]) i++;
    else j++;
  }
  return s;
}

/** b_q = Σ_j softmax_j(cos_qj/τ)·y_j, one reference at a time: the spec's formula as written. */
function directBase(texts: string[], prompt: Uint32Array, y: Float64Array, tau: number, opts: object): Float64Array {
  const table = fitIdf(texts, opts);
  const vec = texts.map((t) => tfidfVector(t, table));
  return Float64Array.from(texts, (_, q) => {
    const cos = Array.from(prompt, (p) => dot(vec[q], vec[p]));
    return softmaxMean(cos, y, tau);
  });
}

/** Σ_j softmax_j(c_j/τ)·y_j, the references in order (max-shifted, as the kernel does). */
function softmaxMean(cos: number[], y: Float64Array, tau: number): number {
  const mx = Math.max(...cos);
  let sw = 0;
  let swy = 0;
  cos.forEach((c, j) => {
    const w = Math.exp((c - mx) / tau);
    sw += w;
    swy += w * y[j];
  });
  return swy / sw;
}

describe('kernel cold start on many distinct texts', () => {
  // 1,200 texts of 4 words from a 40-word vocabulary and an id, then the first 100 again: overlapping features,
  // 1,200 distinct vectors
  const words = Array.from({ length: 40 }, (_, i) => `w${String.fromCharCode(97 + (i % 26))}${String.fromCharCode(97 + Math.floor(i / 26))}`);
  const distinct = Array.from({ length: 1200 }, (_, q) => `${words[q % 40]} ${words[(q * 7 + 3) % 40]} ${words[(q * 13 + 5) % 37]} t${q}`);
  const texts = [...distinct, ...distinct.slice(0, 100)];
  const opts = { buckets: 1 << 20, wordNgrams: [1, 1] as const, charNgrams: null };

  for (const [m, kept] of [[300, undefined], [1100, 1000]] as const) {
    // 300 references: the cosines kept per reference between calls; 1,100 (1,050 distinct, over 1,000): afresh
    it(`with ${m} references${kept ? ` (at most ${kept} kept)` : ''} equals the per-reference formula`, () => {
      // the last references repeat earlier ones' texts (prompts 1,200 onwards)
      const prompt = Uint32Array.from({ length: m }, (_, j) => (j < m - 50 ? j : 1200 + j - (m - 50)));
      const y = Float64Array.from({ length: m }, (_, j) => (j * 0.37) % 1);
      const r = tfidfColdStart(texts, { prompt, difficulty: y }, { ...opts, tau: 0.1, keptColumns: kept });
      const want = directBase(texts, prompt, y, 0.1, opts);
      for (let q = 0; q < texts.length; q += 7) expect(r.base[q]).toBe(want[q]); // bit-identical: old logs replay
      // the second call reads the kept cosines: the same numbers
      const again = tfidfColdStart(texts, { prompt, difficulty: y }, { ...opts, tau: 0.1, keptColumns: kept });
      expect(Buffer.from(again.base.buffer)).toEqual(Buffer.from(r.base.buffer));
    });
  }

  it('a changed reference set after a call uses the new references', () => {
    const y = (m: number) => Float64Array.from({ length: m }, (_, j) => (j * 0.61) % 1);
    tfidfColdStart(texts, { prompt: Uint32Array.from([1, 2, 3]), difficulty: y(3) }, opts);
    const prompt = Uint32Array.from([2, 3, 500, 900]);
    const r = tfidfColdStart(texts, { prompt, difficulty: y(4) }, { ...opts, tau: 0.05 });
    const want = directBase(texts, prompt, y(4), 0.05, opts);
    for (let q = 0; q < texts.length; q += 11) expect(r.base[q]).toBe(want[q]);
  });
});

describe('embedding kernel across rounds (reference columns kept)', () => {
  // 500 prompts, 8-dim unit vectors from a counter-based formula; rounds with overlapping reference sets
  const dim = 8;
  const vectors = new Float32Array(500 * dim);
  for (let q = 0; q < 500; q++) {
    let n = 0;
    for (let k = 0; k < dim; k++) n += (vectors[q * dim + k] = Math.sin(q * 0.7 + k * 1.3) + 0.1 * k) ** 2;
    for (let k = 0; k < dim; k++) vectors[q * dim + k] /= Math.sqrt(n);
  }
  const emb = { dim, vectors };
  const direct = (prompt: Uint32Array, y: Float64Array, tau: number) =>
    Float64Array.from({ length: 500 }, (_, q) => {
      const cos = Array.from(prompt, (p) => {
        let d = 0;
        for (let k = 0; k < dim; k++) d += vectors[q * dim + k] * vectors[p * dim + k];
        return d;
      });
      return softmaxMean(cos, y, tau);
    });

  it('each round equals the per-prompt formula, bit for bit', () => {
    for (const prompt of [Uint32Array.from([3, 40, 41, 200]), Uint32Array.from([3, 41, 77, 200, 499]), Uint32Array.from([0, 77])]) {
      const y = Float64Array.from(prompt, (p) => (p * 0.013) % 1);
      const r = embeddingColdStart(emb, { prompt, difficulty: y }, { tau: 0.2 });
      const want = direct(prompt, y, 0.2);
      for (let q = 0; q < 500; q += 3) expect(r.base[q]).toBe(want[q]);
    }
  });
});

describe('capReference (estimator.coldStartReferenceMax)', () => {
  const ref = (ids: number[]): Array<[number, number]> => ids.map((q) => [q, q / 1000]);
  const all = ref(Array.from({ length: 500 }, (_, q) => q * 3));

  it('keeps every reference when there are at most max, or max is 0', () => {
    expect(capReference(all, 0, 1)).toBe(all);
    expect(capReference(all, 500, 1)).toBe(all);
  });

  it('keeps max of them, in prompt order, each with its own difficulty', () => {
    const c = capReference(all, 64, 1);
    expect(c).toHaveLength(64);
    for (let i = 1; i < c.length; i++) expect(c[i][0]).toBeGreaterThan(c[i - 1][0]);
    for (const [q, d] of c) expect(d).toBe(q / 1000);
  });

  it('is a fixed rank: another estimate changes the set by at most one prompt, and values do not matter', () => {
    const c = capReference(all, 64, 1);
    const grown = capReference([...all, [1501, 0.9]], 64, 1);
    const before = new Set(c.map(([q]) => q));
    expect(grown.filter(([q]) => !before.has(q)).length).toBeLessThanOrEqual(1);
    const revalued = capReference(all.map(([q]): [number, number] => [q, 1 - q / 1000]), 64, 1);
    expect(revalued.map(([q]) => q)).toEqual(c.map(([q]) => q));
    // another run seed ranks the prompts otherwise
    const other = capReference(all, 64, 2).map(([q]) => q);
    expect(other).not.toEqual(c.map(([q]) => q));
  });

  it('draws about evenly across the prompt range', () => {
    const c = capReference(ref(Array.from({ length: 10000 }, (_, q) => q)), 256, 7);
    const low = c.filter(([q]) => q < 5000).length;
    expect(low).toBeGreaterThan(100);
    expect(low).toBeLessThan(156);
  });
});
