/**
 * GRESO — pre-rollout skipping of prompts predicted to give zero-variance groups (methods §11).
 *
 * Per prompt the only history that matters is the trailing streak of all-correct (easy) or all-wrong
 * (hard) observations, kept as two Uint16Array counters. For a candidate prompt (unseen prompts are never
 * skipped):
 *   z_easy > 0:            skip with probability 1 − max(p_easy^{z_easy}, 0.01)
 *   else z_hard > 0:       skip with probability 1 − max(p_hard^{z_hard}, 0.01)
 * Exploration probabilities start at 0.5 and adapt after each completed training batch (from epoch 1 on):
 * with target zero-variance rate t = 0.25, t_easy = t/3, t_hard = 2t/3,
 *   p_x ← p_x − 0.01 if ratio_x ≥ t_x (skip more) else p_x + 0.01, clamped to [0.05, 0.95].
 * Next generation batch: ⌊1.25·remaining_rows / ((1 − zero_var_ratio)·n)⌋ prompts, clamped to [64, 384].
 * "All correct" / "all wrong" use success thresholds (default â ≥ 1 and â ≤ 0 for 0/1 rewards; REF uses
 * ≥ 0.98 and ≤ 0.11 because of its 0.1 format reward).
 */

import { keyWords, floatAt } from '../../events/prng.ts';
import type { PrngKey } from '../../events/prng.ts';

export interface GresoState {
  /** trailing all-correct streak per prompt */
  easyStreak: Uint16Array;
  /** trailing all-wrong streak per prompt */
  hardStreak: Uint16Array;
  /** 1 once observed */
  seen: Uint8Array;
  pEasy: number;
  pHard: number;
}

export function createGresoState(numPrompts: number, pEasy = 0.5, pHard = 0.5): GresoState {
  return {
    easyStreak: new Uint16Array(numPrompts),
    hardStreak: new Uint16Array(numPrompts),
    seen: new Uint8Array(numPrompts),
    pEasy,
    pHard,
  };
}

/** Skip probability for a streak z under exploration probability p: 1 − max(p^z, 0.01) (0 for z = 0). */
export function gresoSkipProbability(z: number, p: number, floor = 0.01): number {
  if (!Number.isInteger(z) || z < 0) throw new RangeError(`gresoSkipProbability: streak must be an integer ≥ 0, got ${z}`);
  if (!(p >= 0 && p <= 1)) throw new RangeError(`gresoSkipProbability: p must be in [0, 1], got ${p}`);
  return 1 - Math.max(p ** z, floor);
}

/**
 * Record observed group success rates (in the order given; a prompt listed twice is observed twice).
 * Returns a new state.
 */
export function gresoObserve(
  state: GresoState,
  prompt: Uint32Array,
  successRate: ArrayLike<number>,
  thresholds: { easyAt?: number; hardAt?: number } = {},
): GresoState {
  const easyAt = thresholds.easyAt ?? 1;
  const hardAt = thresholds.hardAt ?? 0;
  if (successRate.length !== prompt.length) throw new RangeError(`gresoObserve: ${prompt.length} prompts, ${successRate.length} rates`);
  const easy = state.easyStreak.slice();
  const hard = state.hardStreak.slice();
  const seen = state.seen.slice();
  for (let i = 0; i < prompt.length; i++) {
    const q = prompt[i];
    const a = successRate[i];
    if (q >= easy.length) throw new RangeError(`gresoObserve: row ${i} names prompt ${q} ≥ ${easy.length}`);
    if (Number.isNaN(a)) throw new RangeError(`gresoObserve: row ${i} (prompt ${q}) has NaN success rate`);
    seen[q] = 1;
    if (a >= easyAt) {
      easy[q] = Math.min(easy[q] + 1, 65535);
      hard[q] = 0;
    } else if (a <= hardAt) {
      hard[q] = Math.min(hard[q] + 1, 65535);
      easy[q] = 0;
    } else {
      easy[q] = 0;
      hard[q] = 0;
    }
  }
  return { ...state, easyStreak: easy, hardStreak: hard, seen };
}

/**
 * Pre-rollout decision for candidates: keep[i] = 0 means skip candidate i. Prompt q's uniform is
 * floatAt(key, q), so a decision does not depend on the candidate order; skip iff u < skip probability.
 */
export function gresoPresample(state: GresoState, candidates: Uint32Array, key: PrngKey): { keep: Uint8Array; skipped: number } {
  const [k0, k1] = keyWords(key);
  const keep = new Uint8Array(candidates.length);
  let skipped = 0;
  for (let i = 0; i < candidates.length; i++) {
    const q = candidates[i];
    if (q >= state.seen.length) throw new RangeError(`gresoPresample: candidate ${i} names prompt ${q} ≥ ${state.seen.length}`);
    let ps = 0;
    if (state.seen[q]) {
      if (state.easyStreak[q] > 0) ps = gresoSkipProbability(state.easyStreak[q], state.pEasy);
      else if (state.hardStreak[q] > 0) ps = gresoSkipProbability(state.hardStreak[q], state.pHard);
    }
    if (ps > 0 && floatAt(k0, k1, q) < ps) skipped++;
    else keep[i] = 1;
  }
  return { keep, skipped };
}

/** Exploration-probability adaptation from the all-correct / all-wrong fractions since the last adjustment. */
export function gresoAdaptExploration(
  state: Pick<GresoState, 'pEasy' | 'pHard'>,
  easyRatio: number,
  hardRatio: number,
  opts: { target?: number; step?: number; min?: number; max?: number } = {},
): { pEasy: number; pHard: number } {
  const t = opts.target ?? 0.25;
  const step = opts.step ?? 0.01;
  const lo = opts.min ?? 0.05;
  const hi = opts.max ?? 0.95;
  const adj = (p: number, ratio: number, tx: number) => Math.min(hi, Math.max(lo, ratio >= tx ? p - step : p + step));
  return { pEasy: adj(state.pEasy, easyRatio, t / 3), pHard: adj(state.pHard, hardRatio, (2 * t) / 3) };
}

/** Next generation batch size in prompts: ⌊1.25·remainingRows / ((1 − zeroVarRatio)·n)⌋ clamped to [64, 384]. */
export function gresoNextBatchSize(
  remainingRows: number,
  zeroVarRatio: number,
  groupSize: number,
  opts: { factor?: number; min?: number; max?: number } = {},
): number {
  const factor = opts.factor ?? 1.25;
  const lo = opts.min ?? 64;
  const hi = opts.max ?? 384;
  const denom = (1 - zeroVarRatio) * groupSize;
  const raw = denom > 0 ? Math.floor((factor * remainingRows) / denom) : hi;
  return Math.min(hi, Math.max(lo, raw));
}
