/**
 * DARE's selector (dare-reference §6): a symmetric Beta over the failure rate, drawn without replacement
 * from the epoch plan (or per step). No state of its own.
 *
 * With `sampler.coldMass = balanced` the prompts whose estimate is a cold start (never estimated from
 * rollouts: the constant, or the TF-IDF / embedding kernel) get the reference's teacher mass balancing
 * (dare-reference §6 step 4, logitAdjust.ts teacherMassBalance): their logits are shifted together so that
 * they hold the share 1/(1 + ρ²) of the probability mass, ρ = |estimated prompts| / draw budget. So the
 * estimator, not the cold start, steers the draw once it has estimated a budget's worth of prompts (ρ = 1:
 * half the mass; ρ = 4: 6 %), and the cold start still gets a share to explore with.
 */
import { stepFreshBudget, epochBudget } from '../../cadence.ts';
import { COLD_SOURCES } from '../../shared/labels.ts';
import { betaLogWeights } from '../betaSampler.ts';
import { teacherMassBalance } from '../logitAdjust.ts';
import { planSelect, planStrategy } from '../selection.ts';
import type { Logits, SamplerStrategy } from '../strategy.ts';

/** the README's peak is a failure-rate mode; betaLogWeights takes the success-space mode */
export const betaLogits: Logits = (difficulty, cfg) =>
  betaLogWeights(difficulty, { kappa: cfg.sampler.kappa, peakSuccess: 1 - cfg.sampler.peak, edge: cfg.sampler.betaEdge });

/** 1 where the source is a cold start (constant, TF-IDF or embedding kernel). */
export function coldFlags(source: Uint8Array): Uint8Array {
  const out = new Uint8Array(source.length);
  for (let q = 0; q < source.length; q++) out[q] = COLD_SOURCES.has(source[q]) ? 1 : 0;
  return out;
}

/** The Beta logits with the cold-start prompts' mass balanced against the estimated ones' (budget: the draw's size). */
export function balancedBetaLogits(difficulty: Float64Array, source: Uint8Array, budget: number, cfg: Parameters<Logits>[1]): Float64Array {
  return teacherMassBalance(betaLogits(difficulty, cfg), coldFlags(source), budget).logits;
}

const free = planStrategy(betaLogits);

export const beta: SamplerStrategy<null> = {
  ...free,
  select(own, s, at, cfg) {
    if (cfg.sampler.coldMass !== 'balanced' || !s.source) return free.select(own, s, at, cfg);
    const source = s.source;
    const budget = cfg.run.estimation === 'step' ? stepFreshBudget(at.epoch, cfg, s.numPrompts) : epochBudget(at.epoch, cfg);
    return planSelect(s.difficulty!, (d, c) => balancedBetaLogits(d, source, budget, c), at.step, at.epoch, cfg);
  },
};
