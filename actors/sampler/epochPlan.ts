/**
 * Epoch-level selection (dare-reference §6 steps 5–6, §11): the epoch's fresh-prompt budget, the
 * without-replacement draw, and the shuffled split into `mu` step batches.
 *
 * PRNG streams (both logged through the one key): the draw uses `key` by random access (gumbelTopK), the
 * shuffle uses the sequential stream whose purpose is `${key.purpose}/shuffle`.
 */

import { Prng } from '../../events/prng.ts';
import type { PrngKey } from '../../events/prng.ts';
import { gumbelTopK } from '../shared/gumbelTopK.ts';

/**
 * Fresh prompts for a whole epoch: `mu·B` in epoch 0, `⌊mu·B·σ⌋` afterwards (REF: int(mu·B·σ), evaluated
 * left to right in float64 exactly like Python).
 * @param epoch 0-based epoch
 * @param mu    steps per epoch
 * @param batchSize B, prompts per step
 * @param sigma σ ∈ [0, 1], fresh fraction from epoch 1 on
 */
export function epochBudget(epoch: number, mu: number, batchSize: number, sigma: number): number {
  if (!Number.isInteger(epoch) || epoch < 0) throw new RangeError(`epochBudget: epoch must be an integer ≥ 0, got ${epoch}`);
  if (!Number.isInteger(mu) || mu < 1) throw new RangeError(`epochBudget: mu must be an integer ≥ 1, got ${mu}`);
  if (!Number.isInteger(batchSize) || batchSize < 1) throw new RangeError(`epochBudget: batch size must be an integer ≥ 1, got ${batchSize}`);
  if (!(sigma >= 0 && sigma <= 1)) throw new RangeError(`epochBudget: sigma must be in [0, 1], got ${sigma}`);
  return epoch === 0 ? mu * batchSize : Math.floor(mu * batchSize * sigma);
}

/**
 * Shuffle the selected prompts (Fisher–Yates on a copy) and cut them into `mu` consecutive batches of
 * equal size. REF asserts exactly `mu` batches, so the count must be a multiple of `mu`.
 */
export function shuffleIntoBatches(selected: Uint32Array, mu: number, prng: Prng): Uint32Array[] {
  if (!Number.isInteger(mu) || mu < 1) throw new RangeError(`shuffleIntoBatches: mu must be an integer ≥ 1, got ${mu}`);
  if (selected.length % mu !== 0) {
    throw new RangeError(`shuffleIntoBatches: ${selected.length} selected prompts do not split into ${mu} equal batches`);
  }
  const order = prng.shuffle(Uint32Array.from(selected)) as Uint32Array;
  const size = selected.length / mu;
  const batches: Uint32Array[] = [];
  for (let b = 0; b < mu; b++) batches.push(order.slice(b * size, (b + 1) * size));
  return batches;
}

export interface EpochSelection {
  budget: number;
  /** `mu` batches of budget/mu prompt ids */
  batches: Uint32Array[];
  /** prompts taken by the uniform fill because fewer than `budget` had non-zero weight */
  filled: number;
}

/**
 * Select an epoch's fresh prompts: draw `budget` without replacement ∝ e^{logits}, shuffle, split.
 * @param logits natural-log sampling weights over all prompts
 */
export function selectEpoch(
  logits: Float64Array,
  plan: { epoch: number; mu: number; batchSize: number; sigma: number },
  key: PrngKey,
): EpochSelection {
  const budget = epochBudget(plan.epoch, plan.mu, plan.batchSize, plan.sigma);
  if (budget > logits.length) {
    throw new RangeError(`selectEpoch: budget ${budget} exceeds the ${logits.length} prompts in the dataset`);
  }
  const draw = gumbelTopK(logits, budget, key);
  const batches = shuffleIntoBatches(draw.indices, plan.mu, new Prng({ ...key, purpose: `${key.purpose}/shuffle` }));
  return { budget, batches, filled: draw.filled };
}
