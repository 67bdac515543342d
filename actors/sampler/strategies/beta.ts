/**
 * DARE's selector (dare-reference §6): a symmetric Beta over the failure rate, drawn without replacement
 * from the epoch plan (or per step). No state of its own.
 */
import { betaLogWeights } from '../betaSampler.ts';
import { planStrategy } from '../selection.ts';
import type { Logits } from '../strategy.ts';

/** the README's peak is a failure-rate mode; betaLogWeights takes the success-space mode */
export const betaLogits: Logits = (difficulty, cfg) =>
  betaLogWeights(difficulty, { kappa: cfg.sampler.kappa, peakSuccess: 1 - cfg.sampler.peak, edge: cfg.sampler.betaEdge });

export const beta = planStrategy(betaLogits);
