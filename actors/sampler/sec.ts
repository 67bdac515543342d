/**
 * SEC — Self-Evolving Curriculum (methods §9): a non-stationary bandit over problem categories.
 *   policy:  π(c) = softmax(Q(c)/τ) over categories that still have problems (others get 0, renormalised)
 *   reward:  r(c) = mean over the category's groups this step of the group's mean |Â_i| (GRPO advantages)
 *   update:  Q(c) ← α·r(c) + (1−α)·Q(c) for categories seen this step (TD(0)/EMA, α = 0.5), Q init 0 ⚠.
 * Temperatures: 1.0 (Countdown), 0.4 (Math), 0.2 (puzzles). For 0/1 rewards with unbiased-std GRPO,
 * mean|Â| = 2·sqrt(â(1−â))·sqrt((n−1)/n), peaking at â = 0.5 and 0 for zero-variance groups.
 * Without given categories, the estimator's difficulties are binned (⚠ ours: equal-width bins of d).
 * Selection (⚠ ours where the paper is silent): each of the B slots draws a category from π (a category
 * is removed once all its problems are used this step), then each category's slots take that many of its
 * problems uniformly without replacement.
 */

import { Prng, floatAt, keyWords } from '../../events/prng.ts';
import type { PrngKey } from '../../events/prng.ts';

/** Equal-width bins of the failure rate: category = min(⌊d·bins⌋, bins−1), d clamped to [0, 1]. */
export function binDifficulty(difficulty: Float64Array, bins = 5): Uint32Array {
  if (!Number.isInteger(bins) || bins < 1) throw new RangeError(`binDifficulty: bins must be an integer ≥ 1, got ${bins}`);
  const out = new Uint32Array(difficulty.length);
  for (let q = 0; q < out.length; q++) {
    const d = difficulty[q];
    if (Number.isNaN(d)) throw new RangeError(`binDifficulty: prompt ${q} has NaN difficulty`);
    const c = Math.floor((d < 0 ? 0 : d > 1 ? 1 : d) * bins);
    out[q] = c >= bins ? bins - 1 : c;
  }
  return out;
}

/** π(c) = softmax(Q/τ) restricted to `available` categories (1 = has problems left). */
export function secPolicy(Q: Float64Array, tau: number, available?: Uint8Array): Float64Array {
  if (!(tau > 0)) throw new RangeError(`secPolicy: tau must be > 0, got ${tau}`);
  const C = Q.length;
  let mx = -Infinity;
  for (let c = 0; c < C; c++) if ((!available || available[c]) && Q[c] / tau > mx) mx = Q[c] / tau;
  const p = new Float64Array(C);
  if (mx === -Infinity) return p;
  let s = 0;
  for (let c = 0; c < C; c++) {
    if (available && !available[c]) continue;
    p[c] = Math.exp(Q[c] / tau - mx);
    s += p[c];
  }
  for (let c = 0; c < C; c++) p[c] /= s;
  return p;
}

/** Mean |Â| over each group's rows. offsets: group g owns rows [offsets[g], offsets[g+1]). */
export function groupMeanAbsAdvantage(advantages: Float64Array | Float32Array, offsets: Uint32Array): Float64Array {
  const G = offsets.length - 1;
  if (G < 0 || offsets[G] !== advantages.length) throw new RangeError('groupMeanAbsAdvantage: offsets do not cover the advantages');
  const out = new Float64Array(G);
  for (let g = 0; g < G; g++) {
    let s = 0;
    for (let i = offsets[g]; i < offsets[g + 1]; i++) s += Math.abs(advantages[i]);
    out[g] = offsets[g + 1] > offsets[g] ? s / (offsets[g + 1] - offsets[g]) : 0;
  }
  return out;
}

/** Closed form of mean|Â| for a group of n 0/1 rewards with k successes (unbiased std, ε ignored). */
export function expectedMeanAbsAdvantage(k: number, n: number): number {
  if (n < 2 || k <= 0 || k >= n) return 0;
  const a = k / n;
  return 2 * Math.sqrt(a * (1 - a)) * Math.sqrt((n - 1) / n);
}

/**
 * Per-category reward of a step: r(c) = mean of the group mean-|Â| over the step's groups in category c.
 * @returns r per category and seen[c] = 1 when category c had a group this step
 */
export function secRewards(category: Uint32Array, groupMeanAbsAdv: Float64Array, numCategories: number): { r: Float64Array; seen: Uint8Array } {
  if (category.length !== groupMeanAbsAdv.length) throw new RangeError(`secRewards: ${category.length} categories, ${groupMeanAbsAdv.length} rewards`);
  const sum = new Float64Array(numCategories);
  const cnt = new Uint32Array(numCategories);
  for (let g = 0; g < category.length; g++) {
    const c = category[g];
    if (c >= numCategories) throw new RangeError(`secRewards: group ${g} has category ${c} ≥ ${numCategories}`);
    sum[c] += groupMeanAbsAdv[g];
    cnt[c]++;
  }
  const r = new Float64Array(numCategories);
  const seen = new Uint8Array(numCategories);
  for (let c = 0; c < numCategories; c++) {
    if (cnt[c] > 0) {
      r[c] = sum[c] / cnt[c];
      seen[c] = 1;
    }
  }
  return { r, seen };
}

/** TD(0) update Q(c) ← α·r(c) + (1−α)·Q(c) for seen categories; returns a new Q. */
export function secUpdate(Q: Float64Array, r: Float64Array, seen: Uint8Array, alpha = 0.5): Float64Array {
  if (!(alpha >= 0 && alpha <= 1)) throw new RangeError(`secUpdate: alpha must be in [0, 1], got ${alpha}`);
  const out = Float64Array.from(Q);
  for (let c = 0; c < out.length; c++) if (seen[c]) out[c] = alpha * r[c] + (1 - alpha) * out[c];
  return out;
}

/**
 * Select a batch: B slots, each draws a category from the (renormalised) policy; then each category's
 * slot count is filled with that many of its prompts uniformly without replacement.
 * Streams: `${purpose}/category` (sequential) for the slots, `key` by random access for the within-category
 * draw (prompt q's uniform = floatAt(q)).
 * @param category category per prompt
 */
export function secSelect(
  Q: Float64Array,
  tau: number,
  category: Uint32Array,
  batchSize: number,
  key: PrngKey,
): { prompts: Uint32Array; slotsPerCategory: Uint32Array } {
  const C = Q.length;
  const size = new Uint32Array(C);
  for (let q = 0; q < category.length; q++) {
    if (category[q] >= C) throw new RangeError(`secSelect: prompt ${q} has category ${category[q]} ≥ ${C}`);
    size[category[q]]++;
  }
  const B = Math.min(batchSize, category.length);
  const slots = new Uint32Array(C);
  const prng = new Prng({ ...key, purpose: `${key.purpose}/category` });
  const available = new Uint8Array(C);
  for (let c = 0; c < C; c++) available[c] = size[c] > 0 ? 1 : 0;
  for (let s = 0; s < B; s++) {
    const p = secPolicy(Q, tau, available);
    let u = prng.nextFloat();
    let chosen = -1;
    for (let c = 0; c < C; c++) {
      if (p[c] <= 0) continue;
      chosen = c;
      if (u < p[c]) break;
      u -= p[c];
    }
    slots[chosen]++;
    if (slots[chosen] === size[chosen]) available[chosen] = 0;
  }
  // Within each category: the slots[c] prompts with the largest uniforms (a uniform random subset).
  const [k0, k1] = keyWords(key);
  const members: number[][] = Array.from({ length: C }, () => []);
  for (let q = 0; q < category.length; q++) if (slots[category[q]] > 0) members[category[q]].push(q);
  const out: number[] = [];
  for (let c = 0; c < C; c++) {
    if (slots[c] === 0) continue;
    const m = members[c];
    const u = new Map(m.map((q) => [q, floatAt(k0, k1, q)]));
    m.sort((a, b) => u.get(b)! - u.get(a)! || a - b);
    for (let t = 0; t < slots[c]; t++) out.push(m[t]);
  }
  return { prompts: Uint32Array.from(out), slotsPerCategory: slots };
}
