/**
 * The draw most selection methods share: per-epoch cadence (paper) draws the epoch's whole budget without
 * replacement from the selection distribution over the latest estimates, shuffles it and cuts it into mu
 * step batches (PRNG key (seed, first step of the epoch, "select")), and every step takes its batch;
 * per-step cadence draws the step's budget afresh after each DifficultyEstimated (key (seed, step, "select")).
 */
import type { RunConfig } from '../../events/config.ts';
import { Prng, type PrngKey } from '../../events/prng.ts';
import { epochBudget, epochFirstStep, stepFreshBudget, stepSlice } from '../cadence.ts';
import { gumbelTopK } from '../shared/gumbelTopK.ts';
import type { Logits, SamplerStrategy, Selection } from './strategy.ts';

/** Every prompt weighs the same (the methods that select uniformly and act elsewhere). */
export const uniformLogits: Logits = (difficulty) => new Float64Array(difficulty.length);

const planCache = new WeakMap<Float64Array, Map<string, { batches: Uint32Array[]; filled: number }>>();

/** The epoch's selection, cut into mu batches; a pure function of the estimate and the key (memoised). */
function epochPlan(difficulty: Float64Array, logits: Logits, cfg: RunConfig, epoch: number, key: PrngKey): { batches: Uint32Array[]; filled: number } {
  const memoKey = `${key.seed}/${key.step}/${key.purpose}/${epoch}`;
  let m = planCache.get(difficulty);
  const hit = m?.get(memoKey);
  if (hit) return hit;
  const budget = Math.min(epochBudget(epoch, cfg), difficulty.length);
  const draw = gumbelTopK(logits(difficulty, cfg), budget, key);
  const mu = cfg.run.stepsPerEpoch;
  // cut into mu consecutive batches (the last takes the remainder when budget is not a multiple of mu)
  const order = new Prng({ ...key, purpose: `${key.purpose}/shuffle` }).shuffle(Uint32Array.from(draw.indices)) as Uint32Array;
  const batches: Uint32Array[] = [];
  for (let k = 1; k <= mu; k++) {
    const [a, b] = stepSlice(k, budget, cfg);
    batches.push(order.slice(a, b));
  }
  const plan = { batches, filled: draw.filled };
  if (!m) planCache.set(difficulty, (m = new Map()));
  m.set(memoKey, plan);
  return plan;
}

/** This step's batch of the epoch plan (`filled` counts on the epoch's first step only). */
export function epochBatch(difficulty: Float64Array, logits: Logits, step: number, epoch: number, cfg: RunConfig): Selection {
  const first = epochFirstStep(epoch, cfg);
  const key = { seed: cfg.run.seed, step: first, purpose: 'select' };
  const plan = epochPlan(difficulty, logits, cfg, epoch, key);
  return { prompts: plan.batches[step - first], filled: step === first ? plan.filled : 0, key };
}

/** A fresh draw of the step's budget (B in epoch 0, ⌊σB⌋ later). */
export function stepDraw(difficulty: Float64Array, logits: Logits, step: number, epoch: number, cfg: RunConfig): Selection {
  const key = { seed: cfg.run.seed, step, purpose: 'select' };
  const draw = gumbelTopK(logits(difficulty, cfg), stepFreshBudget(epoch, cfg, difficulty.length), key);
  return { prompts: draw.indices, filled: draw.filled, key };
}

/** The step's batch for the configured cadence: a fresh draw per step, or the epoch plan's batch. */
export function planSelect(difficulty: Float64Array, logits: Logits, step: number, epoch: number, cfg: RunConfig): Selection {
  return cfg.run.estimation === 'step' ? stepDraw(difficulty, logits, step, epoch, cfg) : epochBatch(difficulty, logits, step, epoch, cfg);
}

/** A method without state of its own that selects by `planSelect` over these log-weights. */
export function planStrategy(logits: Logits = uniformLogits): SamplerStrategy<null> {
  return {
    init: () => null,
    evolve: (own) => own,
    logits,
    select: (_own, s, { step, epoch }, cfg) => planSelect(s.difficulty!, logits, step, epoch, cfg),
  };
}
