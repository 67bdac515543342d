/**
 * Cold-start difficulty (epoch 0, and every prompt the buffer has not seen yet), dare-reference §3.
 *
 * Two modes:
 * 1. constant: every prompt gets the same difficulty (REF `is_default_label`, success 0.5 ⇒ d = 0.5).
 * 2. hashed TF-IDF kernel regression (dare-reference §3 option 2, no embedding model, ⚠ ours): each question
 *    becomes an L2-normalised vector of hashed word and character n-gram TF-IDF weights; a prompt's base
 *    estimate is the softmax(cos/τ)-weighted mean of the measured reference difficulties,
 *        b_q = Σ_j softmax_j(cos(e_q, e_j)/τ) · y_j,
 *    followed by REF's ordinary-least-squares recalibration fitted on the reference prompts themselves
 *    (their own b_j — which include their own cos = 1 term — against their measured y_j):
 *        d_q = α·b_q + γ.
 *    Like REF, the result is NOT clipped: it may leave [0, 1] (the Beta sampler clamps, Laplace does not).
 *
 * Everything here is in FAILURE space. The weighted mean and the OLS fit are affine, so fitting on
 * failure rates gives exactly 1 − (the same pipeline run on success rates).
 *
 * Deterministic: FNV-1a feature hashing, fixed iteration orders, no randomness.
 * methods.md §5 lists further refinements (top-k, shrinkage toward the mean, leave-one-out calibration,
 * clamping); of those only top-k is offered here, off by default, to stay with dare-reference §3.
 */

import { LabelSource } from '../shared/labels.ts';
import type { LabelLayer } from '../shared/labels.ts';

/** Constant cold start: every prompt gets `difficulty` (failure rate, default 0.5 = REF label 0.5). */
export function constantColdStart(numPrompts: number, difficulty = 0.5): LabelLayer {
  if (!Number.isFinite(difficulty)) throw new RangeError(`constantColdStart: difficulty must be finite, got ${difficulty}`);
  return {
    difficulty: new Float64Array(numPrompts).fill(difficulty),
    source: new Uint8Array(numPrompts).fill(LabelSource.ColdConstant),
  };
}

// ---------------------------------------------------------------------------------------------------------
// Text features

export interface TfidfOptions {
  /** number of hash buckets (power of two); default 2^18 */
  buckets?: number;
  /** inclusive range of word n-gram orders, or null for none; default [1, 2] */
  wordNgrams?: readonly [number, number] | null;
  /** inclusive range of character n-gram orders, or null for none; default [3, 5] */
  charNgrams?: readonly [number, number] | null;
}

interface ResolvedTfidfOptions {
  buckets: number;
  wordNgrams: readonly [number, number] | null;
  charNgrams: readonly [number, number] | null;
}

function resolve(opts: TfidfOptions = {}): ResolvedTfidfOptions {
  const buckets = opts.buckets ?? 1 << 18;
  if (!Number.isInteger(buckets) || buckets < 1 || buckets > 2 ** 30 || (buckets & (buckets - 1)) !== 0) {
    throw new RangeError(`tfidf: buckets must be a power of two in [1, 2^30], got ${buckets}`);
  }
  const wordNgrams = opts.wordNgrams === undefined ? ([1, 2] as const) : opts.wordNgrams;
  const charNgrams = opts.charNgrams === undefined ? ([3, 5] as const) : opts.charNgrams;
  for (const [name, r] of [
    ['wordNgrams', wordNgrams],
    ['charNgrams', charNgrams],
  ] as const) {
    if (r && !(Number.isInteger(r[0]) && Number.isInteger(r[1]) && r[0] >= 1 && r[1] >= r[0])) {
      throw new RangeError(`tfidf: ${name} must be [lo, hi] with 1 ≤ lo ≤ hi, got [${r[0]}, ${r[1]}]`);
    }
  }
  if (!wordNgrams && !charNgrams) throw new RangeError('tfidf: need word or character n-grams');
  return { buckets, wordNgrams, charNgrams };
}

/** FNV-1a over UTF-16 code units, seeded with a feature-kind tag so "w1:ab" and "c2:ab" differ. */
function fnv1a(s: string, tag: number): number {
  let h = (0x811c9dc5 ^ tag) >>> 0;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  // final avalanche so low bits (used by the bucket mask) depend on every character
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  return h >>> 0;
}

const TOKEN_RE = /\p{L}+|\p{N}+(?:\.\p{N}+)?|[^\s\p{L}\p{N}]/gu;

/**
 * Word tokens: lower-cased letter runs, numbers, and single symbols (math operators matter here).
 * A number becomes `<numK>` with K its digit count, so "12" and "47" share a token but "12" and "1200"
 * do not (methods §5).
 */
export function wordTokens(text: string): string[] {
  const out: string[] = [];
  for (const m of text.toLowerCase().matchAll(TOKEN_RE)) {
    const t = m[0];
    if (/^\p{N}/u.test(t)) {
      let digits = 0;
      for (const ch of t) if (/\p{N}/u.test(ch)) digits++;
      out.push(`<num${digits}>`);
    } else out.push(t);
  }
  return out;
}

/** Text for character n-grams: lower case, digits → '0', whitespace collapsed, one space at each end. */
function charText(text: string): string {
  return ` ${text.toLowerCase().replace(/\p{Nd}/gu, '0').replace(/\s+/g, ' ').trim()} `;
}

/** Raw term counts per hash bucket of one text (Map bucket → count), in first-seen order. */
export function featureCounts(text: string, opts?: TfidfOptions): Map<number, number> {
  const o = resolve(opts);
  const mask = o.buckets - 1;
  const counts = new Map<number, number>();
  const add = (f: string, tag: number) => {
    const b = fnv1a(f, tag) & mask;
    counts.set(b, (counts.get(b) ?? 0) + 1);
  };
  if (o.wordNgrams) {
    const toks = wordTokens(text);
    for (let n = o.wordNgrams[0]; n <= o.wordNgrams[1]; n++) {
      for (let i = 0; i + n <= toks.length; i++) add(toks.slice(i, i + n).join(' '), 0x100 + n);
    }
  }
  if (o.charNgrams) {
    const s = charText(text);
    // the padded empty text " " has no n-grams of order ≥ 2; a 1-gram of the padding is skipped too
    if (s.trim().length > 0) {
      for (let n = o.charNgrams[0]; n <= o.charNgrams[1]; n++) {
        for (let i = 0; i + n <= s.length; i++) add(s.slice(i, i + n), 0x200 + n);
      }
    }
  }
  return counts;
}

/** Inverse document frequencies per bucket, fitted on a corpus (the training questions). */
export interface IdfTable {
  /** idf per bucket: ln((1 + N) / (1 + df)) + 1 (smooth idf, as scikit-learn) */
  idf: Float64Array;
  /** number of documents N */
  documents: number;
  options: ResolvedTfidfOptions;
}

export function fitIdf(texts: readonly string[], opts?: TfidfOptions): IdfTable {
  const o = resolve(opts);
  const df = new Uint32Array(o.buckets);
  for (const t of texts) for (const b of featureCounts(t, o).keys()) df[b]++;
  return idfTable(df, texts.length, o);
}

/** Smooth idf ln((1 + N) / (1 + df)) + 1 from the document frequencies of N documents. */
function idfTable(df: Uint32Array, N: number, options: ResolvedTfidfOptions): IdfTable {
  const idf = new Float64Array(options.buckets);
  for (let b = 0; b < options.buckets; b++) idf[b] = Math.log((1 + N) / (1 + df[b])) + 1;
  return { idf, documents: N, options };
}

/** Sparse vector, indices strictly increasing. */
export interface SparseVector {
  index: Uint32Array;
  value: Float64Array;
}

/**
 * TF-IDF vector of one text: weight (1 + ln tf)·idf per bucket (sublinear tf), L2-normalised.
 * An empty text (no features) gives the zero vector, whose cosine with anything is 0.
 */
export function tfidfVector(text: string, table: IdfTable): SparseVector {
  const counts = featureCounts(text, table.options);
  const index = Uint32Array.from(counts.keys()).sort();
  return weighted(index, Uint32Array.from(index, (b) => counts.get(b)!), table.idf);
}

/** (1 + ln tf)·idf per bucket of sorted `index` with counts `count`, L2-normalised (zero stays zero). */
function weighted(index: Uint32Array, count: Uint32Array, idf: Float64Array): SparseVector {
  const value = new Float64Array(index.length);
  let norm2 = 0;
  for (let k = 0; k < index.length; k++) {
    const v = (1 + Math.log(count[k])) * idf[index[k]];
    value[k] = v;
    norm2 += v * v;
  }
  if (norm2 > 0) {
    const inv = 1 / Math.sqrt(norm2);
    for (let k = 0; k < value.length; k++) value[k] *= inv;
  }
  return { index, value };
}

// ---------------------------------------------------------------------------------------------------------
// Kernel regression over the reference set

/**
 * Inverted index of the reference vectors, compressed rows by bucket: the postings of bucket b (reference
 * position, weight) are ref/value[offset[b] .. offset[b + 1]). Flat typed arrays, because the cosines' inner
 * loop runs over every (query feature, reference) pair: on DeepScaleR's questions a Map of postings made it 14 s a round.
 */
interface ReferenceIndex {
  size: number;
  offset: Uint32Array;
  ref: Uint32Array;
  value: Float64Array;
}

function buildReferenceIndex(refs: readonly SparseVector[], buckets: number): ReferenceIndex {
  const offset = new Uint32Array(buckets + 1);
  for (const v of refs) for (let k = 0; k < v.index.length; k++) offset[v.index[k] + 1]++;
  for (let b = 0; b < buckets; b++) offset[b + 1] += offset[b];
  const fill = offset.slice(0, buckets);
  const ref = new Uint32Array(offset[buckets]);
  const value = new Float64Array(offset[buckets]);
  refs.forEach((v, j) => {
    for (let k = 0; k < v.index.length; k++) {
      const at = fill[v.index[k]]++;
      ref[at] = j;
      value[at] = v.value[k];
    }
  });
  return { size: refs.length, offset, ref, value };
}

/** Cosines of one query with every reference (vectors are unit or zero, so cos = dot). */
function cosines(q: SparseVector, idx: ReferenceIndex, out: Float64Array): void {
  out.fill(0);
  const { offset, ref, value } = idx;
  for (let k = 0; k < q.index.length; k++) {
    const b = q.index[k];
    const v = q.value[k];
    const end = offset[b + 1];
    for (let t = offset[b]; t < end; t++) out[ref[t]] += v * value[t];
  }
}

/**
 * Softmax(cos/τ)-weighted mean of the reference difficulties, optionally over the top-k most similar
 * references only (ties at the k-th cosine: lower reference position first).
 */
function kernelMean(cos: Float64Array, y: Float64Array, tau: number, topK: number, order: Uint32Array): number {
  const m = cos.length;
  let use = m;
  if (topK > 0 && topK < m) {
    for (let j = 0; j < m; j++) order[j] = j;
    order.sort((a, b) => cos[b] - cos[a] || a - b);
    use = topK;
  }
  let mx = -Infinity;
  for (let t = 0; t < use; t++) {
    const j = use === m ? t : order[t];
    if (cos[j] > mx) mx = cos[j];
  }
  let sw = 0;
  let swy = 0;
  for (let t = 0; t < use; t++) {
    const j = use === m ? t : order[t];
    const w = Math.exp((cos[j] - mx) / tau);
    sw += w;
    swy += w * y[j];
  }
  return swy / sw;
}

export interface OlsFit {
  /** slope */
  alpha: number;
  /** intercept */
  gamma: number;
}

/**
 * Ordinary least squares y ≈ α·x + γ. With fewer than two points, or all x equal (no slope is
 * identifiable), returns α = 0, γ = mean(y) (⚠ our choice: every prompt then gets the reference mean).
 */
export function olsFit(x: Float64Array, y: Float64Array): OlsFit {
  const m = x.length;
  if (y.length !== m) throw new RangeError(`olsFit: x has ${m} points, y has ${y.length}`);
  if (m === 0) throw new RangeError('olsFit: no points');
  let mx = 0;
  let my = 0;
  for (let j = 0; j < m; j++) {
    mx += x[j];
    my += y[j];
  }
  mx /= m;
  my /= m;
  let sxx = 0;
  let sxy = 0;
  for (let j = 0; j < m; j++) {
    const dx = x[j] - mx;
    sxx += dx * dx;
    sxy += dx * (y[j] - my);
  }
  if (m < 2 || !(sxx > 1e-300)) return { alpha: 0, gamma: my };
  const alpha = sxy / sxx;
  return { alpha, gamma: my - alpha * mx };
}

export interface TfidfColdStartOptions extends TfidfOptions {
  /** softmax temperature over cosines (τ_a); default 0.05 (methods §5; REF's learned towers used τ = 1) */
  tau?: number;
  /** use only the k most similar references per prompt; 0 = all (default, as dare-reference §3) */
  topK?: number;
  /** most distinct references whose cosines are kept between calls (default: columnLimit; the same numbers either way) */
  keptColumns?: number;
}

export interface TfidfColdStartResult extends LabelLayer {
  /** kernel estimate b_q before recalibration (failure rate) */
  base: Float64Array;
  /** OLS recalibration d = α·b + γ, fitted on the reference prompts */
  fit: OlsFit;
}

/**
 * A corpus vectorised once: the idf fitted on every text and each text's TF-IDF vector, texts whose vectors are
 * identical sharing one (the sim's questions are their indices, so every 4-digit index has the same features).
 * The kernel is then computed once per distinct vector, with the same bits as per text (groupedBase).
 */
export interface TfidfCorpus {
  table: IdfTable;
  /** the distinct vectors, in the order their first text comes */
  vectors: SparseVector[];
  /** index into `vectors` of every text */
  groupOf: Uint32Array;
}

export function tfidfCorpus(texts: readonly string[], opts?: TfidfOptions): TfidfCorpus {
  const o = resolve(opts);
  // one pass over the texts: each one's bucket counts, sorted by bucket, then the df; a text whose counts equal an
  // earlier one's gets its vector (equal counts, equal vector): FNV over the counts, compared in full on a match
  const groupOf = new Uint32Array(texts.length);
  const counted: Array<{ index: Uint32Array; count: Uint32Array }> = [];
  const byHash = new Map<number, number[]>();
  const df = new Uint32Array(o.buckets);
  for (let q = 0; q < texts.length; q++) {
    const c = featureCounts(texts[q], o);
    const index = new Uint32Array(c.size);
    let n = 0;
    for (const b of c.keys()) index[n++] = b;
    index.sort();
    const count = new Uint32Array(n);
    for (let k = 0; k < n; k++) {
      count[k] = c.get(index[k])!;
      df[index[k]]++;
    }
    let h = 0x811c9dc5;
    for (let k = 0; k < index.length; k++) h = Math.imul(Math.imul(h ^ index[k], 0x01000193) ^ count[k], 0x01000193);
    const same = byHash.get(h);
    const g = same?.find((g) => equalCounts(counted[g], index, count));
    if (g !== undefined) groupOf[q] = g;
    else {
      groupOf[q] = counted.length;
      if (same) same.push(counted.length);
      else byHash.set(h, [counted.length]);
      counted.push({ index, count });
    }
  }
  const table = idfTable(df, texts.length, o);
  const vectors = counted.map(({ index, count }) => weighted(index, count, table.idf));
  return { table, vectors, groupOf };
}

function equalCounts(a: { index: Uint32Array; count: Uint32Array }, index: Uint32Array, count: Uint32Array): boolean {
  if (a.index.length !== index.length) return false;
  for (let k = 0; k < index.length; k++) if (a.index[k] !== index[k] || a.count[k] !== count[k]) return false;
  return true;
}

/**
 * Corpora of the texts arrays seen, by options: a run's estimator asks for the same prompts' cold start at every
 * round, and refitting the idf and re-vectorising 10k questions each time was most of a sim step (BENCHMARKS,
 * issue 17). Keyed by the array's identity, so a caller must not change an array it passed.
 */
const corpora = new WeakMap<readonly string[], Map<string, TfidfCorpus>>();

function corpusOf(texts: readonly string[], opts: TfidfOptions): TfidfCorpus {
  const o = resolve(opts);
  const key = JSON.stringify([o.buckets, o.wordNgrams, o.charNgrams]);
  let byOpts = corpora.get(texts);
  if (!byOpts) corpora.set(texts, (byOpts = new Map()));
  let c = byOpts.get(key);
  if (!c) byOpts.set(key, (c = tfidfCorpus(texts, o)));
  return c;
}

/**
 * Hashed TF-IDF cold start for every prompt.
 *
 * @param texts     question text of every prompt (index = prompt id); the idf is fitted on all of them. The
 *                  vectors are cached per array: pass the same array again for the same prompts, never a changed one.
 * @param reference measured reference set: prompt ids and their measured FAILURE rates
 * @returns difficulty per prompt (may leave [0, 1]), source = ColdTfidf, plus b_q and the fit
 */
export function tfidfColdStart(
  texts: readonly string[],
  reference: { prompt: Uint32Array; difficulty: Float64Array },
  opts: TfidfColdStartOptions = {},
): TfidfColdStartResult {
  const tau = opts.tau ?? 0.05;
  const topK = opts.topK ?? 0;
  if (!(tau > 0) || !Number.isFinite(tau)) throw new RangeError(`tfidfColdStart: tau must be finite and > 0, got ${tau}`);
  if (!Number.isInteger(topK) || topK < 0) throw new RangeError(`tfidfColdStart: topK must be an integer ≥ 0, got ${topK}`);
  const m = reference.prompt.length;
  if (m === 0) throw new RangeError('tfidfColdStart: the reference set is empty');
  if (reference.difficulty.length !== m) {
    throw new RangeError(`tfidfColdStart: reference has ${m} prompts but ${reference.difficulty.length} difficulties`);
  }
  const N = texts.length;
  for (let j = 0; j < m; j++) {
    if (reference.prompt[j] >= N) throw new RangeError(`tfidfColdStart: reference row ${j} names prompt ${reference.prompt[j]} ≥ ${N}`);
    if (!Number.isFinite(reference.difficulty[j])) {
      throw new RangeError(`tfidfColdStart: reference row ${j} (prompt ${reference.prompt[j]}) has difficulty ${reference.difficulty[j]}`);
    }
  }

  const corpus = corpusOf(texts, opts);
  const base = topK > 0 && topK < m ? topKBase(corpus, reference, tau, topK) : groupedBase(corpus, reference, tau, opts.keptColumns);

  const xRef = Float64Array.from(reference.prompt, (q) => base[q]);
  const fit = olsFit(xRef, reference.difficulty);
  const difficulty = new Float64Array(N);
  for (let q = 0; q < N; q++) difficulty[q] = fit.alpha * base[q] + fit.gamma;
  return { difficulty, source: new Uint8Array(N).fill(LabelSource.ColdTfidf), base, fit };
}

/**
 * b_q over all references, computed once per distinct query vector and with one cosine per distinct reference
 * vector. The sums still run over the references one by one, in their order, with the same cosines (both
 * ways of computing a cosine add the shared buckets' products in increasing bucket order), so b_q is
 * bit-identical to the per-prompt, per-reference loop: a log written before this grouping replays exactly.
 */
function groupedBase(corpus: TfidfCorpus, reference: { prompt: Uint32Array; difficulty: Float64Array }, tau: number, keptColumns?: number): Float64Array {
  const { vectors, groupOf } = corpus;
  const m = reference.prompt.length;
  // each reference's distinct vector, numbered in the order its first reference comes
  const refGroup = new Map<number, number>();
  const groups: number[] = [];
  const groupOfRef = new Uint32Array(m);
  for (let j = 0; j < m; j++) {
    const g = groupOf[reference.prompt[j]];
    let r = refGroup.get(g);
    if (r === undefined) {
      refGroup.set(g, (r = groups.length));
      groups.push(g);
    }
    groupOfRef[j] = r;
  }
  const y = reference.difficulty;
  const byGroup = new Float64Array(vectors.length);
  const w = new Float64Array(groups.length);
  const weigh = (g: number, cosOf: (r: number) => number) => {
    let mx = -Infinity;
    for (let r = 0; r < groups.length; r++) {
      const c = cosOf(r);
      if (c > mx) mx = c;
    }
    for (let r = 0; r < groups.length; r++) w[r] = Math.exp((cosOf(r) - mx) / tau);
    let sw = 0;
    let swy = 0;
    for (let j = 0; j < m; j++) {
      const wj = w[groupOfRef[j]];
      sw += wj;
      swy += wj * y[j];
    }
    byGroup[g] = swy / sw;
  };
  if (groups.length <= (keptColumns ?? columnLimit(vectors.length))) {
    const cols = referenceColumns(corpus, groups);
    for (let g = 0; g < vectors.length; g++) weigh(g, (r) => cols[r][g]);
  } else {
    const idx = buildReferenceIndex(groups.map((g) => vectors[g]), corpus.table.options.buckets);
    const cos = new Float64Array(groups.length);
    for (let g = 0; g < vectors.length; g++) {
      cosines(vectors[g], idx, cos);
      weigh(g, (r) => cos[r]);
    }
  }
  return Float64Array.from(groupOf, (g) => byGroup[g]);
}

/**
 * Up to this many distinct reference vectors, their cosines with every vector of the corpus are kept between
 * calls (one Float64Array per reference, 8 bytes × distinct vectors each): a capped reference set
 * (estimator.coldStartReferenceMax) changes little from one round to the next, so a round computes only the
 * columns of references new to it. At most 2^23 numbers (64 MB) unless that is under 256 columns (the dare
 * preset's cap); beyond it every round computes its cosines afresh and keeps none. Both ways give the same bits.
 */
function columnLimit(distinctVectors: number): number {
  return Math.max(COLUMN_LIMIT, Math.floor(2 ** 23 / Math.max(1, distinctVectors)));
}

const COLUMN_LIMIT = 256;

interface ColumnCache {
  /** the corpus's distinct vectors as an inverted index (a reference's column is its cosines with them) */
  index: ReferenceIndex;
  columns: Map<number, Float64Array>;
}

const columnCaches = new WeakMap<TfidfCorpus, ColumnCache>();

/** cos(every distinct vector, vector g) for each g of `groups`; the cache keeps only these afterwards. */
function referenceColumns(corpus: TfidfCorpus, groups: readonly number[]): Float64Array[] {
  let cache = columnCaches.get(corpus);
  if (!cache) columnCaches.set(corpus, (cache = { index: buildReferenceIndex(corpus.vectors, corpus.table.options.buckets), columns: new Map() }));
  const kept = new Map<number, Float64Array>();
  const cols = groups.map((g) => {
    let c = cache.columns.get(g);
    if (!c) cosines(corpus.vectors[g], cache.index, (c = new Float64Array(corpus.vectors.length)));
    kept.set(g, c);
    return c;
  });
  cache.columns = kept;
  return cols;
}

/** b_q over each prompt's k most similar references (ties at the k-th cosine: lower reference position first). */
function topKBase(
  corpus: TfidfCorpus,
  reference: { prompt: Uint32Array; difficulty: Float64Array },
  tau: number,
  topK: number,
): Float64Array {
  const { vectors, groupOf } = corpus;
  const m = reference.prompt.length;
  const refIdx = buildReferenceIndex(Array.from(reference.prompt, (q) => vectors[groupOf[q]]), corpus.table.options.buckets);
  const cos = new Float64Array(m);
  const order = new Uint32Array(m);
  const byGroup = new Float64Array(vectors.length);
  for (let g = 0; g < vectors.length; g++) {
    cosines(vectors[g], refIdx, cos);
    byGroup[g] = kernelMean(cos, reference.difficulty, tau, topK, order);
  }
  return Float64Array.from(groupOf, (g) => byGroup[g]);
}

// ---------------------------------------------------------------------------------------------------------
// Kernel regression over dense sentence embeddings (the reference's teacher uses a model's embeddings, §3)

/** Dense embeddings of every prompt: row q = vectors[q·dim .. (q+1)·dim), L2-normalised (a zero row: none). */
export interface PromptVectors {
  dim: number;
  vectors: Float32Array;
}

/** The embedding kernel's kept reference columns, by the run's embeddings (see referenceColumns). */
const embeddingColumns = new WeakMap<PromptVectors, Map<number, Float64Array>>();

export interface EmbeddingColdStartOptions {
  /** softmax temperature over cosines; default 0.05 (as the TF-IDF kernel's) */
  tau?: number;
}

/**
 * The embedding cold start: the same kernel as the TF-IDF one over dense unit vectors,
 *   b_q = Σ_j softmax_j(cos(e_q, e_j)/τ) · y_j,   d_q = α·b_q + γ  (OLS on the reference prompts),
 * FAILURE space, not clipped (as tfidfColdStart). Source ColdEmbedding.
 */
export function embeddingColdStart(
  emb: PromptVectors,
  reference: { prompt: Uint32Array; difficulty: Float64Array },
  opts: EmbeddingColdStartOptions = {},
): TfidfColdStartResult {
  const tau = opts.tau ?? 0.05;
  if (!(tau > 0) || !Number.isFinite(tau)) throw new RangeError(`embeddingColdStart: tau must be finite and > 0, got ${tau}`);
  const { dim, vectors } = emb;
  if (!(Number.isInteger(dim) && dim > 0) || vectors.length % dim !== 0) {
    throw new RangeError(`embeddingColdStart: ${vectors.length} values are not rows of dimension ${dim}`);
  }
  const N = vectors.length / dim;
  const m = reference.prompt.length;
  if (m === 0) throw new RangeError('embeddingColdStart: the reference set is empty');
  if (reference.difficulty.length !== m) throw new RangeError(`embeddingColdStart: reference has ${m} prompts but ${reference.difficulty.length} difficulties`);
  for (let j = 0; j < m; j++) {
    if (reference.prompt[j] >= N) throw new RangeError(`embeddingColdStart: reference row ${j} names prompt ${reference.prompt[j]} ≥ ${N}`);
    if (!Number.isFinite(reference.difficulty[j])) throw new RangeError(`embeddingColdStart: reference row ${j} has difficulty ${reference.difficulty[j]}`);
  }
  // each reference's cosines with every prompt, kept for the next round (a capped reference set changes little);
  // the dot products add in the same order as a per-prompt loop would, so the numbers are the same
  const cached = embeddingColumns.get(emb) ?? new Map<number, Float64Array>();
  const kept = new Map<number, Float64Array>();
  const cols = Array.from(reference.prompt, (p) => {
    let c = kept.get(p) ?? cached.get(p);
    if (!c) {
      c = new Float64Array(N);
      const oj = p * dim;
      for (let q = 0; q < N; q++) {
        const oq = q * dim;
        let dot = 0;
        for (let k = 0; k < dim; k++) dot += vectors[oq + k] * vectors[oj + k];
        c[q] = dot;
      }
    }
    kept.set(p, c);
    return c;
  });
  // only a capped set is worth keeping: an uncapped one would hold N × m numbers
  if (kept.size <= columnLimit(N)) embeddingColumns.set(emb, kept);
  else embeddingColumns.delete(emb);
  const cos = new Float64Array(m);
  const order = new Uint32Array(m);
  const base = new Float64Array(N);
  for (let q = 0; q < N; q++) {
    for (let j = 0; j < m; j++) cos[j] = cols[j][q];
    base[q] = kernelMean(cos, reference.difficulty, tau, 0, order);
  }
  const fit = olsFit(Float64Array.from(reference.prompt, (q) => base[q]), reference.difficulty);
  const difficulty = new Float64Array(N);
  for (let q = 0; q < N; q++) difficulty[q] = fit.alpha * base[q] + fit.gamma;
  return { difficulty, source: new Uint8Array(N).fill(LabelSource.ColdEmbedding), base, fit };
}
