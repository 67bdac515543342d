/**
 * DOTS / DARE `laplace` sampling logits (dare-reference §6, methods §5):
 *   z_q = −|a_q − α| / τ,   a_q = 1 − d_q (success), α = REF `data.alpha` (success space), τ = `data.tau`.
 * With α = 0.5 this equals −|d_q − 0.5|/τ. Labels are NOT clamped (REF: TF-IDF/teacher labels may leave
 * [0, 1] and are used as they are). DOTS defaults α = 0.5, τ = 1e-3 (near-deterministic).
 */

export interface LaplaceLogitOptions {
  /** target success rate α (REF `data.alpha`); default 0.5 */
  successTarget?: number;
  /** temperature τ > 0 (REF `data.tau`) */
  tau: number;
}

/**
 * @param difficulty failure rate per prompt (finite)
 * @returns natural-log weights
 */
export function laplaceLogWeights(difficulty: Float64Array, opts: LaplaceLogitOptions, out?: Float64Array): Float64Array {
  const alpha = opts.successTarget ?? 0.5;
  const { tau } = opts;
  if (!(tau > 0) || !Number.isFinite(tau)) throw new RangeError(`laplaceLogWeights: tau must be finite and > 0, got ${tau}`);
  if (!Number.isFinite(alpha)) throw new RangeError(`laplaceLogWeights: successTarget must be finite, got ${alpha}`);
  const n = difficulty.length;
  const z = out ?? new Float64Array(n);
  if (z.length !== n) throw new RangeError(`laplaceLogWeights: out has length ${z.length}, expected ${n}`);
  for (let q = 0; q < n; q++) {
    const d = difficulty[q];
    if (!Number.isFinite(d)) throw new RangeError(`laplaceLogWeights: prompt ${q} has difficulty ${d}`);
    z[q] = -Math.abs(1 - d - alpha) / tau;
  }
  return z;
}
