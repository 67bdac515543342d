/**
 * Entropy selector (methods §12, dare-reference §5 `entropy`, the practical stand-in for EDCO): each prompt
 * is scored by the mean full-distribution token entropy (nats) of one short sampled prefix; the optional
 * percentile clamp caps high scores; sampling logits are score / τ_e (softmax sampling, not top-N).
 * The score is NOT a failure rate: it feeds the sampler as logits directly (source = Entropy).
 */

import { LabelSource } from '../shared/labels.ts';

/**
 * Mean entropy per prompt from concatenated per-token entropies.
 * @param tokenEntropy per-token entropies H_t (nats), all prompts concatenated
 * @param offsets      prompt q owns tokens [offsets[q], offsets[q+1]); length = prompts + 1
 * @returns mean over the prompt's tokens; a prompt with no tokens scores 0 (REF clamps the count at 1
 *          over an all-zero mask, giving 0)
 */
export function meanTokenEntropy(tokenEntropy: Float32Array | Float64Array, offsets: Uint32Array): Float64Array {
  const P = offsets.length - 1;
  if (P < 0) throw new RangeError('meanTokenEntropy: offsets must have at least one entry');
  if (offsets[P] !== tokenEntropy.length) {
    throw new RangeError(`meanTokenEntropy: offsets end at ${offsets[P]} but there are ${tokenEntropy.length} tokens`);
  }
  const out = new Float64Array(P);
  for (let q = 0; q < P; q++) {
    const a = offsets[q];
    const b = offsets[q + 1];
    if (b < a) throw new RangeError(`meanTokenEntropy: offsets decrease at prompt ${q}`);
    let s = 0;
    for (let t = a; t < b; t++) s += tokenEntropy[t];
    out[q] = b > a ? s / (b - a) : 0;
  }
  return out;
}

/**
 * Quantile with linear interpolation between order statistics (numpy/torch default):
 * position (n−1)·p/100 in the sorted values.
 */
export function percentile(values: Float64Array, p: number): number {
  const n = values.length;
  if (n === 0) throw new RangeError('percentile: no values');
  if (!(p >= 0 && p <= 100)) throw new RangeError(`percentile: p must be in [0, 100], got ${p}`);
  const s = Float64Array.from(values).sort();
  const pos = ((n - 1) * p) / 100;
  const lo = Math.floor(pos);
  const hi = Math.min(lo + 1, n - 1);
  return s[lo] + (s[hi] - s[lo]) * (pos - lo);
}

export interface EntropyLogitOptions {
  /** τ_e (REF `entropy_tau`, default 1); REF divides by max(τ_e, 1e-8) */
  tau?: number;
  /** optional upper clamp at this percentile of the scores (REF `entropy_clip_percentile`, clipped to [0, 100]) */
  clipPercentile?: number | null;
}

/**
 * Sampling logits from entropy scores: z_q = min(score_q, P_p(scores)) / max(τ_e, 1e-8).
 * @param scores mean prefix entropy per prompt (nats), finite
 */
export function entropyLogits(
  scores: Float64Array,
  opts: EntropyLogitOptions = {},
): { logits: Float64Array; clipValue: number | null; source: Uint8Array } {
  const tau = opts.tau ?? 1;
  if (Number.isNaN(tau)) throw new RangeError('entropyLogits: tau is NaN');
  for (let q = 0; q < scores.length; q++) {
    if (!Number.isFinite(scores[q])) throw new RangeError(`entropyLogits: prompt ${q} has score ${scores[q]}`);
  }
  let clipValue: number | null = null;
  if (opts.clipPercentile !== undefined && opts.clipPercentile !== null && scores.length > 0) {
    const p = Math.min(100, Math.max(0, opts.clipPercentile));
    clipValue = percentile(scores, p);
  }
  const inv = 1 / Math.max(tau, 1e-8);
  const logits = new Float64Array(scores.length);
  for (let q = 0; q < scores.length; q++) {
    const s = clipValue !== null && scores[q] > clipValue ? clipValue : scores[q];
    logits[q] = s * inv;
  }
  return { logits, clipValue, source: new Uint8Array(scores.length).fill(LabelSource.Entropy) };
}
