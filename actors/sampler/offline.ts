/**
 * The sampler alone (`dare select`, as `dare estimate` is the estimator alone): given a difficulty per prompt
 * (a failure rate) and a configuration, the prompts one draw selects — with the tiers and rollouts per
 * prompt the sampler actor would give them — or, over many draws, each prompt's inclusion frequency.
 *
 * Only the selection methods that draw from their log-weights over the estimates (beta, laplace, uniform,
 * entropy, and the dynamic-sampling methods whose first draw is uniform) can run without a run's history;
 * the others keep state that only a log provides (posteriors, Q values, streaks, stages).
 * Draw t uses the PRNG key (seed, t, "select"): the draw a run would make at step t with this estimate
 * (per-step cadence). With `coldMass = balanced` the cold-start prompts (source cold-*) get the reference's
 * teacher mass balancing, the budget being the draw's size.
 */
import type { RunConfig } from '../../events/config.ts';
import { gumbelTopK } from '../shared/gumbelTopK.ts';
import { allocate, selectionLogits, type Allocation } from './samplerActor.ts';
import { balancedBetaLogits } from './strategies/beta.ts';

/** sampler methods `dare select` can run: a draw from log-weights, no state of their own */
export const OFFLINE_SAMPLERS: ReadonlySet<string> = new Set(['beta', 'laplace', 'uniform', 'entropy', 'dapo', 'online-filter', 'vcrl', 'greso']);

export interface OfflineInput {
  difficulty: Float64Array;
  /** label source per prompt (cold-start prompts matter to coldMass = balanced); null: every prompt estimated */
  source: Uint8Array | null;
}

export class OfflineSelectError extends Error {
  override name = 'OfflineSelectError';
}

/** The log-weights of one draw of `budget` prompts. */
export function offlineLogits(input: OfflineInput, cfg: RunConfig, budget: number): Float64Array {
  const m = cfg.sampler.method;
  if (!OFFLINE_SAMPLERS.has(m)) {
    throw new OfflineSelectError(`sampler.method ${m} keeps state that only a run's log provides; dare select runs ${[...OFFLINE_SAMPLERS].join(', ')}`);
  }
  if (m === 'beta' && cfg.sampler.coldMass === 'balanced' && input.source) return balancedBetaLogits(input.difficulty, input.source, budget, cfg);
  return selectionLogits(input.difficulty, cfg);
}

/** One draw (key (seed, step, "select")): the picks in draw order, with their tiers and rollouts. */
export function offlineSelect(input: OfflineInput, cfg: RunConfig, budget: number, step = 1): Allocation & { filled: number } {
  const k = Math.min(budget, input.difficulty.length);
  const draw = gumbelTopK(offlineLogits(input, cfg, k), k, { seed: cfg.run.seed, step, purpose: 'select' });
  const d = Float64Array.from(draw.indices, (q) => input.difficulty[q]);
  return { ...allocate(Uint32Array.from(draw.indices), d, cfg), filled: draw.filled };
}

/**
 * Inclusion frequency of every prompt over `trials` draws (steps 1..trials) — selected at all, whatever its
 * rollouts (a prompt the reference tiers drop, G = 0, counts as not included).
 */
export function inclusionFrequency(input: OfflineInput, cfg: RunConfig, budget: number, trials: number): Float64Array {
  if (!(Number.isInteger(trials) && trials >= 1)) throw new OfflineSelectError(`trials must be an integer ≥ 1, got ${trials}`);
  const n = input.difficulty.length;
  const k = Math.min(budget, n);
  const logits = offlineLogits(input, cfg, k);
  const count = new Uint32Array(n);
  for (let t = 1; t <= trials; t++) {
    const draw = gumbelTopK(logits, k, { seed: cfg.run.seed, step: t, purpose: 'select' });
    const d = Float64Array.from(draw.indices, (q) => input.difficulty[q]);
    for (const q of allocate(Uint32Array.from(draw.indices), d, cfg).prompts) count[q]++;
  }
  return Float64Array.from(count, (c) => c / trials);
}
