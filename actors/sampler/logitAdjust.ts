/**
 * Adjustments REF applies to the base sampling logits before the draw (dare-reference §6 steps 3–4).
 * (Step 2, the Bayesian exploration mass, lives with the posterior: actors/estimator/mopps.ts.)
 * All logits are natural-log weights.
 */

/**
 * Attenuation (REF `sample_attenuation = [lo, hi]`, `attenuation_decay_factor`): a prompt whose realised
 * accuracy fell outside the band `count` times is down-weighted by decay^count:
 *   z_q += count_q · ln(decay).
 */
export function attenuateLogits(logits: Float64Array, counts: Uint32Array, decay = 0.5): Float64Array {
  if (counts.length !== logits.length) throw new RangeError(`attenuateLogits: ${logits.length} logits, ${counts.length} counts`);
  if (!(decay > 0 && decay <= 1)) throw new RangeError(`attenuateLogits: decay must be in (0, 1], got ${decay}`);
  const lnD = Math.log(decay);
  const out = Float64Array.from(logits);
  for (let q = 0; q < out.length; q++) if (counts[q] > 0) out[q] += counts[q] * lnD;
  return out;
}

/**
 * Attenuation counter update after a group (reference or training rollout) is scored: the counter
 * increments when the realised FAILURE rate lies outside `difficultyBand` (inclusive bounds).
 * REF's band is in success space, [lo, hi]; the equivalent failure band is [1 − hi, 1 − lo].
 * Returns a new counter array.
 */
export function updateAttenuation(
  counts: Uint32Array,
  prompt: Uint32Array,
  realisedDifficulty: ArrayLike<number>,
  difficultyBand: readonly [number, number],
): Uint32Array {
  const [lo, hi] = difficultyBand;
  if (!(lo <= hi)) throw new RangeError(`updateAttenuation: band [${lo}, ${hi}] is empty`);
  if (realisedDifficulty.length !== prompt.length) {
    throw new RangeError(`updateAttenuation: ${prompt.length} prompts, ${realisedDifficulty.length} difficulties`);
  }
  const out = counts.slice();
  for (let i = 0; i < prompt.length; i++) {
    const q = prompt[i];
    if (q >= out.length) throw new RangeError(`updateAttenuation: row ${i} names prompt ${q} ≥ ${out.length}`);
    const d = realisedDifficulty[i];
    if (Number.isNaN(d)) throw new RangeError(`updateAttenuation: row ${i} (prompt ${q}) has NaN difficulty`);
    if (d < lo || d > hi) out[q]++;
  }
  return out;
}

function logSumExpMasked(z: Float64Array, mask: Uint8Array, want: number): number {
  let mx = -Infinity;
  for (let q = 0; q < z.length; q++) if (mask[q] === want && z[q] > mx) mx = z[q];
  if (mx === -Infinity) return -Infinity;
  let s = 0;
  for (let q = 0; q < z.length; q++) if (mask[q] === want) s += Math.exp(z[q] - mx);
  return mx + Math.log(s);
}

export interface TeacherBalanceResult {
  logits: Float64Array;
  /** shift added to every teacher-labelled logit (0 when skipped) */
  shift: number;
  /** teacher share of the probability mass before / after, and the target */
  shareBefore: number;
  shareAfter: number;
  target: number;
  skipped: boolean;
}

/**
 * IS + teacher mass balancing (dare-reference §6 step 4; only when a cold-start regressor labels the
 * prompts SNIS has not reached). T = teacher-labelled prompts, N = the others (SNIS or reference).
 *   ρ = |N| / max(budget, 1),  s* = clip(1 / (1 + ρ^p), 1e-4, 1 − 1e-4),
 *   shift = clip(logit(s*) − (LSE(z_T) − LSE(z_N)), −maxShift, +maxShift), added to every z_T.
 * Skipped (logits unchanged) when either set is empty.
 *
 * @param teacher 1 = label came from the cold-start regressor
 * @param budget  prompts to draw this epoch
 */
export function teacherMassBalance(
  logits: Float64Array,
  teacher: Uint8Array,
  budget: number,
  opts: { power?: number; maxShift?: number } = {},
): TeacherBalanceResult {
  const power = opts.power ?? 2;
  const maxShift = opts.maxShift ?? 12;
  if (teacher.length !== logits.length) throw new RangeError(`teacherMassBalance: ${logits.length} logits, ${teacher.length} flags`);
  let nT = 0;
  for (let q = 0; q < teacher.length; q++) if (teacher[q]) nT++;
  const nN = teacher.length - nT;
  const out = Float64Array.from(logits);
  if (nT === 0 || nN === 0) {
    const share = nT > 0 ? 1 : 0;
    return { logits: out, shift: 0, shareBefore: share, shareAfter: share, target: share, skipped: true };
  }
  for (let q = 0; q < teacher.length; q++) if (teacher[q] > 1) throw new RangeError(`teacherMassBalance: flag ${teacher[q]} at ${q}`);
  const rho = nN / Math.max(Math.floor(budget), 1);
  const target = Math.min(1 - 1e-4, Math.max(1e-4, 1 / (1 + rho ** power)));
  const lT = logSumExpMasked(out, teacher, 1);
  const lN = logSumExpMasked(out, teacher, 0);
  const current = lT - lN;
  const share = (l: number) => 1 / (1 + Math.exp(-l));
  let shift = Math.log(target) - Math.log(1 - target) - current;
  if (shift > maxShift) shift = maxShift;
  else if (shift < -maxShift) shift = -maxShift;
  if (!Number.isFinite(shift)) shift = 0; // one side has no drawable prompt: nothing to balance
  for (let q = 0; q < out.length; q++) if (teacher[q]) out[q] += shift;
  return { logits: out, shift, shareBefore: share(current), shareAfter: share(current + shift), target, skipped: false };
}
