/**
 * Difficulty tiers and rollout budgets.
 *
 * Units: every input difficulty `d` is a FAILURE rate in [0, 1] (d = 1 − success). Group sizes and hint
 * counts are numbers of rollouts (rows) per prompt.
 *
 * Two modes (spec dare-reference.md §7.1, §8; README):
 * - paper:     three discrete tiers on the predicted difficulty, (G_easy, G, G_hard) = (4, 8, 16) rollouts,
 *              hint rollouts for a configurable fraction of a hard prompt's group.
 * - reference: no tiers; `G = 2·round_half_even(n·d)` (a linear rule, max 2n), G = 0 ⇒ prompt dropped; hint
 *              prompts chosen by a batch-relative quantile of the predicted labels, with a hint channel of
 *              `n_mem = round_half_even(n·mix)` rows (budget-neutral: the group stays at n rows).
 */
import { roundHalfEven } from './bankersRound.ts';

export const TIER_EASY = 0;
export const TIER_MEDIUM = 1;
export const TIER_HARD = 2;
export type Tier = typeof TIER_EASY | typeof TIER_MEDIUM | typeof TIER_HARD;
export const TIER_NAMES = ['easy', 'medium', 'hard'] as const;

export interface PaperTierConfig {
  /** failure-rate threshold below which a prompt is easy (README EASY_THRESHOLD, 0.3) */
  dEasy: number;
  /** failure-rate threshold above which a prompt is hard (README HARD_LENGTH_THRESHOLD, 0.8) */
  dHard: number;
  /** rollouts per prompt for the easy / medium / hard tier (README 4 / 8 / 16) */
  groupSizes: { easy: number; medium: number; hard: number };
  /** fraction of a hard prompt's rollouts that use the hint prompt, in [0, 1]; 0 = no hints */
  hintFraction: number;
}

export const PAPER_TIER_DEFAULTS: PaperTierConfig = {
  dEasy: 0.3,
  dHard: 0.8,
  groupSizes: { easy: 4, medium: 8, hard: 16 },
  hintFraction: 0.5,
};

function checkDifficulty(d: number, row: number, field = 'difficulty'): void {
  if (!Number.isFinite(d)) throw new RangeError(`${field}[${row}] must be a finite failure rate, got ${d}`);
}

function checkPaperConfig(cfg: PaperTierConfig): void {
  if (!(cfg.dEasy >= 0 && cfg.dEasy <= 1)) throw new RangeError(`tiers.dEasy must be in [0,1], got ${cfg.dEasy}`);
  if (!(cfg.dHard >= 0 && cfg.dHard <= 1)) throw new RangeError(`tiers.dHard must be in [0,1], got ${cfg.dHard}`);
  if (!(cfg.dEasy <= cfg.dHard)) throw new RangeError(`tiers.dEasy (${cfg.dEasy}) must be ≤ tiers.dHard (${cfg.dHard})`);
  for (const k of ['easy', 'medium', 'hard'] as const) {
    const g = cfg.groupSizes[k];
    if (!(Number.isInteger(g) && g >= 1)) throw new RangeError(`tiers.groupSizes.${k} must be an integer ≥ 1, got ${g}`);
  }
  if (!(cfg.hintFraction >= 0 && cfg.hintFraction <= 1)) {
    throw new RangeError(`tiers.hintFraction must be in [0,1], got ${cfg.hintFraction}`);
  }
}

/**
 * Paper tier of one prompt from its failure rate d. Boundary convention (strict on both sides, as the
 * README states the rules "d < d_easy" and "d > d_hard"): d = d_easy and d = d_hard are MEDIUM.
 */
export function classifyTier(d: number, dEasy: number, dHard: number): Tier {
  if (d < dEasy) return TIER_EASY;
  if (d > dHard) return TIER_HARD;
  return TIER_MEDIUM;
}

/**
 * Size of the hint channel inside a group of `n` rollouts (spec §8 step 1, REF `n_mem`):
 * `round_half_even(n·mix)`, mix clipped to [0,1]; at least 1 hint row if mix > 0 and n > 1; at most n − 1
 * if mix < 1 and n > 1 (so both channels exist whenever both are asked for). Returns rows per channel.
 */
export function hintChannelSize(n: number, mix: number): { nHint: number; nPlain: number } {
  if (!(Number.isInteger(n) && n >= 0)) throw new RangeError(`hint channel: group size n must be an integer ≥ 0, got ${n}`);
  if (Number.isNaN(mix)) throw new RangeError('hint channel: mix ratio is NaN');
  const m = Math.min(1, Math.max(0, mix));
  let nHint = roundHalfEven(n * m);
  if (n > 1 && m > 0 && nHint === 0) nHint = 1;
  if (n > 1 && m < 1 && nHint === n) nHint = n - 1;
  return { nHint, nPlain: n - nHint };
}

export interface PaperAllocation {
  /** tier per prompt (TIER_EASY / TIER_MEDIUM / TIER_HARD) */
  tier: Uint8Array;
  /** rollouts per prompt, including hint rollouts */
  groupSize: Uint32Array;
  /** of groupSize, how many use the hint prompt (0 outside the hard tier); the caller falls back to plain
   *  rollouts when the prompt has no successful buffered solution to build a hint from */
  hintRollouts: Uint32Array;
}

/** Paper mode: tier, group size and hint rollouts for each prompt of the batch, from failure rates d. */
export function paperAllocation(d: Float64Array, cfg: PaperTierConfig = PAPER_TIER_DEFAULTS): PaperAllocation {
  checkPaperConfig(cfg);
  const n = d.length;
  const tier = new Uint8Array(n);
  const groupSize = new Uint32Array(n);
  const hintRollouts = new Uint32Array(n);
  const sizes = [cfg.groupSizes.easy, cfg.groupSizes.medium, cfg.groupSizes.hard];
  const hardHints = cfg.hintFraction > 0 ? hintChannelSize(cfg.groupSizes.hard, cfg.hintFraction).nHint : 0;
  for (let i = 0; i < n; i++) {
    checkDifficulty(d[i], i);
    const t = classifyTier(d[i], cfg.dEasy, cfg.dHard);
    tier[i] = t;
    groupSize[i] = sizes[t];
    hintRollouts[i] = t === TIER_HARD ? hardHints : 0;
  }
  return { tier, groupSize, hintRollouts };
}

/**
 * Reference-mode group size of one prompt: `2·round_half_even(n·d)` rollouts (spec §7.1; REF computes
 * `n·(1 − a)` with a the success label; pass d = 1 − a computed in float64 to reproduce it bit for bit).
 * d is clamped to [0, 1] first (⚠ our choice: REF labels can leave [0,1] after the teacher's OLS
 * recalibration, which would give negative or > 2n budgets there).
 */
export function referenceGroupSize(n: number, d: number): number {
  if (!(Number.isInteger(n) && n >= 1)) throw new RangeError(`reference allocation: n must be an integer ≥ 1, got ${n}`);
  if (Number.isNaN(d)) throw new RangeError('reference allocation: difficulty is NaN');
  const dc = Math.min(1, Math.max(0, d));
  return 2 * roundHalfEven(n * dc);
}

export interface ReferenceAllocation {
  /** rollouts per prompt (0 ⇒ dropped) */
  groupSize: Uint32Array;
  /** positions (into the input) of the prompts that are rolled out (G > 0), in input order */
  kept: Uint32Array;
  /** positions of the prompts dropped because G = 0 (for n = 8: d ≤ 0.0625) */
  dropped: Uint32Array;
}

/** Reference mode: `G = 2·round_half_even(n·d)` for each prompt of the batch; G = 0 drops the prompt. */
export function referenceAllocation(d: Float64Array, n: number): ReferenceAllocation {
  const groupSize = new Uint32Array(d.length);
  const kept: number[] = [];
  const dropped: number[] = [];
  for (let i = 0; i < d.length; i++) {
    checkDifficulty(d[i], i);
    const g = referenceGroupSize(n, d[i]);
    groupSize[i] = g;
    (g > 0 ? kept : dropped).push(i);
  }
  return { groupSize, kept: Uint32Array.from(kept), dropped: Uint32Array.from(dropped) };
}

/**
 * Linear-interpolated quantile (numpy's default method "linear", including its two-sided lerp that is
 * exact at both ends): virtual index `(n−1)·q` over the sorted values. q in [0, 1].
 */
export function linearQuantile(values: ArrayLike<number>, q: number): number {
  const n = values.length;
  if (n === 0) throw new RangeError('quantile of an empty batch');
  if (!(q >= 0 && q <= 1)) throw new RangeError(`quantile level must be in [0,1], got ${q}`);
  const s = Float64Array.from(values).sort();
  const v = (n - 1) * q;
  const lo = Math.floor(v);
  const hi = Math.min(lo + 1, n - 1);
  const t = v - lo;
  const a = s[lo];
  const b = s[hi];
  const diff = b - a;
  // numpy evaluates a + diff·t, but b − diff·(1−t) where t ≥ 0.5 (so q = 1 gives exactly the max)
  return t >= 0.5 ? b - diff * (1 - t) : a + diff * t;
}

/**
 * Reference-mode "hard" prompts of one batch for hint rollouts (spec §8 step 2): a prompt is hard when its
 * predicted SUCCESS label a = 1 − d is ≤ the `threshold`-quantile of the labels in this batch (batch
 * relative, not README's absolute d_hard). If that selects nothing while threshold > 0 and the batch has
 * more than one prompt, the single lowest label (first on ties) is hard. With finite labels the quantile
 * is ≥ the minimum, so that fallback is REF parity only.
 * Returns 1 for hard, 0 otherwise, per batch position.
 */
export function batchHardMask(d: Float64Array, threshold: number): Uint8Array {
  const n = d.length;
  const mask = new Uint8Array(n);
  if (n === 0) return mask;
  // REF compares success labels; compute a = 1 − d in float64 as the estimator's conversion would.
  const a = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    checkDifficulty(d[i], i);
    a[i] = 1 - d[i];
  }
  const qv = linearQuantile(a, threshold);
  let count = 0;
  for (let i = 0; i < n; i++) {
    if (a[i] <= qv) {
      mask[i] = 1;
      count++;
    }
  }
  if (count === 0 && threshold > 0 && n > 1) {
    let best = 0;
    for (let i = 1; i < n; i++) if (a[i] < a[best]) best = i;
    mask[best] = 1;
  }
  return mask;
}
