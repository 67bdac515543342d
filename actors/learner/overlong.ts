/**
 * DAPO overlong soft punishment (spec methods.md §1, DAPO change 4). Lengths in tokens.
 *
 *   R_len(L) = 0                                   if L ≤ L_max − L_cache
 *            = factor · ((L_max − L_cache) − L) / L_cache   if L_max − L_cache < L ≤ L_max
 *            = −factor                             if L > L_max
 * The ramp goes from 0 at L_max − L_cache to −factor at L_max. Added to the correctness reward (DAPO uses
 * ±1). Beyond L_max we follow the paper's formula (−1, times the factor); verl's reward manager would keep
 * extrapolating the ramp there, but with generation truncated at L_max that branch is unreachable.
 * Defaults (DAPO): L_max = 20480, L_cache = 4096, factor = 1.
 */
export interface OverlongConfig {
  /** maximum response length L_max, tokens */
  maxLength: number;
  /** soft-punishment interval L_cache, tokens (0 < L_cache ≤ L_max) */
  cacheLength: number;
  /** penalty factor (reward units at L = L_max); default 1 */
  factor?: number;
}

export function overlongPenalty(length: number, cfg: OverlongConfig): number {
  const { maxLength, cacheLength } = cfg;
  const factor = cfg.factor ?? 1;
  if (!(Number.isFinite(maxLength) && maxLength > 0)) throw new RangeError(`overlong.maxLength must be > 0, got ${maxLength}`);
  if (!(cacheLength > 0 && cacheLength <= maxLength)) {
    throw new RangeError(`overlong.cacheLength must be in (0, maxLength=${maxLength}], got ${cacheLength}`);
  }
  if (!(factor >= 0 && Number.isFinite(factor))) throw new RangeError(`overlong.factor must be finite and ≥ 0, got ${factor}`);
  if (!(length >= 0 && Number.isFinite(length))) throw new RangeError(`overlong: length must be finite and ≥ 0, got ${length}`);
  const start = maxLength - cacheLength;
  if (length <= start) return 0;
  if (length <= maxLength) return (factor * (start - length)) / cacheLength;
  return -factor;
}

/** Overlong penalty for each row; lengths in tokens. */
export function overlongPenalties(lengths: ArrayLike<number>, cfg: OverlongConfig): Float64Array {
  const out = new Float64Array(lengths.length);
  for (let i = 0; i < lengths.length; i++) {
    try {
      out[i] = overlongPenalty(lengths[i], cfg);
    } catch (e) {
      throw new RangeError(`overlong: row ${i}: ${(e as Error).message}`);
    }
  }
  return out;
}
