/**
 * MoPPS step-level selection (methods §4): from the per-prompt Beta posteriors (kept by the estimator,
 * actors/estimator/mopps.ts, passed here as plain arrays):
 *   1. candidate pool: m = ratio·B prompts drawn uniformly without replacement (ratio 16 math, 8 others);
 *   2. Thompson-sample â_q ~ Beta(α_q, β_q) for each candidate; d̂_q = 1 − â_q (FAILURE rate);
 *   3. rule 'topk' (main): the B candidates with the smallest (d̂_q − d*)², d* = 0.5 (same as γ* = 0.5 in
 *      success space);
 *      rule 'threshold': if ≥ B candidates have d̂ in the band [0.3, 0.7], B of them at random; else the B
 *      nearest to the band (distance 0 inside).
 * Pool smaller than B ⇒ all of it. Ties in distance ⇒ a keyed PRNG draw per prompt, then prompt id.
 * Streams derived from `key`: `${purpose}/pool` (random access), `${purpose}/thompson` (sequential, pool
 * order), `${purpose}/tie` (random access, per prompt id).
 */

import { Prng, keyWords, u32At } from '../../events/prng.ts';
import type { PrngKey } from '../../events/prng.ts';
import { gumbelTopK } from '../shared/gumbelTopK.ts';

export interface MoppsSelectOptions {
  /** B, prompts per step */
  batchSize: number;
  /** pool size m = ratio·B (16 for math) */
  poolRatio?: number;
  rule?: 'topk' | 'threshold';
  /** target failure rate d* for 'topk' (0.5) */
  targetDifficulty?: number;
  /** failure-rate band for 'threshold' ([0.3, 0.7]) */
  band?: readonly [number, number];
}

export interface MoppsSelection {
  /** selected prompt ids, best first */
  prompts: Uint32Array;
  /** Thompson-sampled failure rate of each selected prompt */
  sampledDifficulty: Float64Array;
  /** the candidate pool, in draw order */
  pool: Uint32Array;
  /** whether 'threshold' found ≥ B candidates inside the band (false for 'topk') */
  inBand: boolean;
}

export function moppsSelect(alpha: Float64Array, beta: Float64Array, opts: MoppsSelectOptions, key: PrngKey): MoppsSelection {
  const N = alpha.length;
  if (beta.length !== N) throw new RangeError(`moppsSelect: ${N} α values, ${beta.length} β values`);
  const B = opts.batchSize;
  const ratio = opts.poolRatio ?? 16;
  const rule = opts.rule ?? 'topk';
  const dStar = opts.targetDifficulty ?? 0.5;
  const [lo, hi] = opts.band ?? [0.3, 0.7];
  if (!Number.isInteger(B) || B < 0) throw new RangeError(`moppsSelect: batch size must be an integer ≥ 0, got ${B}`);
  if (!(ratio >= 1)) throw new RangeError(`moppsSelect: pool ratio must be ≥ 1, got ${ratio}`);
  if (rule !== 'topk' && rule !== 'threshold') throw new RangeError(`moppsSelect: unknown rule ${String(rule)}`);
  if (!(lo <= hi)) throw new RangeError(`moppsSelect: empty band [${lo}, ${hi}]`);

  const m = Math.min(N, Math.floor(ratio * B));
  const pool = gumbelTopK(new Float64Array(N), m, { ...key, purpose: `${key.purpose}/pool` }).indices;
  const thompson = new Prng({ ...key, purpose: `${key.purpose}/thompson` });
  const d = new Float64Array(m);
  for (let j = 0; j < m; j++) {
    const q = pool[j];
    const a = alpha[q];
    const b = beta[q];
    if (!(a > 0) || !(b > 0) || !Number.isFinite(a) || !Number.isFinite(b)) {
      throw new RangeError(`moppsSelect: prompt ${q} has posterior Beta(${a}, ${b})`);
    }
    d[j] = 1 - thompson.nextBeta(a, b);
  }

  const [t0, t1] = keyWords({ ...key, purpose: `${key.purpose}/tie` });
  const tie = (j: number) => u32At(t0, t1, pool[j]);
  const order = Array.from({ length: m }, (_, j) => j);
  let inBand = false;
  let dist: (j: number) => number;
  if (rule === 'topk') dist = (j) => (d[j] - dStar) ** 2;
  else {
    let nIn = 0;
    for (let j = 0; j < m; j++) if (d[j] >= lo && d[j] <= hi) nIn++;
    inBand = nIn >= B;
    const toBand = (j: number) => (d[j] < lo ? lo - d[j] : d[j] > hi ? d[j] - hi : 0);
    // In-band with enough candidates: a uniform random B of them (all in-band distances are 0, the
    // random tie-break decides; out-of-band ones rank after).
    dist = inBand ? (j) => (toBand(j) === 0 ? 0 : 1) : toBand;
  }
  const dv = Float64Array.from(order, dist);
  order.sort((a, b) => dv[a] - dv[b] || tie(a) - tie(b) || pool[a] - pool[b]);
  const take = order.slice(0, Math.min(B, m));
  return {
    prompts: Uint32Array.from(take, (j) => pool[j]),
    sampledDifficulty: Float64Array.from(take, (j) => d[j]),
    pool,
    inBand,
  };
}
