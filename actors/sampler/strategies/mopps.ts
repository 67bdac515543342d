/**
 * MoPPS (methods §4): each step, a uniform candidate pool of 16·B, one Thompson sample from every candidate's
 * Beta posterior, and the B nearest d* = 0.5. State: the posteriors, updated after every fresh group as the
 * estimator folds them (the same reducer, shared/mopps.ts).
 */
import { stepFreshBudget } from '../../cadence.ts';
import { createPosteriors, withGroups, type BetaPosteriors } from '../../shared/mopps.ts';
import { moppsSelect } from '../moppsSelect.ts';
import { planSelect } from '../selection.ts';
import type { SamplerStrategy } from '../strategy.ts';
import { betaLogits } from './beta.ts';

export interface MoppsOwn {
  /** the Beta posteriors (from PromptsRegistered on) */
  posteriors: BetaPosteriors | null;
  decay: number;
  prior: number;
}

export const mopps: SamplerStrategy<MoppsOwn> = {
  init: (cfg) => ({ posteriors: null, decay: cfg.estimator.moppsDecay, prior: cfg.estimator.moppsPrior }),
  evolve(own, { event: e }) {
    return e.type === 'PromptsRegistered' ? { ...own, posteriors: createPosteriors(e.data.count, own.prior, own.prior) } : own;
  },
  fresh: 'counts',
  // the posterior update after every fresh group (methods §4), as the estimator folds it
  settle: (own, groups) => (own.posteriors ? { ...own, posteriors: withGroups(own.posteriors, groups, own.decay) } : own),
  // before any posterior exists: the Beta selector's plan
  logits: betaLogits,
  select(own, s, { step, epoch }, cfg) {
    if (!own.posteriors) return planSelect(s.difficulty!, betaLogits, step, epoch, cfg);
    const key = { seed: cfg.run.seed, step, purpose: 'select' };
    const B = stepFreshBudget(epoch, cfg, s.numPrompts);
    return { prompts: moppsSelect(own.posteriors.alpha, own.posteriors.beta, { batchSize: B, poolRatio: 16, rule: 'topk' }, key).prompts, filled: 0, key };
  },
};
