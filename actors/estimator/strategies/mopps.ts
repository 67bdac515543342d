/**
 * MoPPS (methods §4): one Thompson sample per prompt from its Beta posterior, which takes every fresh group
 * (with decay λ) as it is folded; the cold start for prompts never rolled out. State: the posteriors.
 */
import { assembleLabels } from '../../shared/labels.ts';
import { createPosteriors, thompsonSample, withGroups, type BetaPosteriors } from '../../shared/mopps.ts';
import { coldEstimate, coldStart, estimated } from '../round.ts';
import type { EstimatorStrategy } from '../strategy.ts';

export interface MoppsOwn {
  /** the Beta posteriors (from PromptsRegistered on) */
  posteriors: BetaPosteriors | null;
  decay: number;
  prior: number;
}

function countSeen(p: BetaPosteriors): number {
  let n = 0;
  for (const x of p.seen) n += x;
  return n;
}

export const mopps: EstimatorStrategy<MoppsOwn> = {
  init: (cfg) => ({ posteriors: null, decay: cfg.estimator.moppsDecay, prior: cfg.estimator.moppsPrior }),
  evolve: (own, { event: e }) => (e.type === 'PromptsRegistered' ? { ...own, posteriors: createPosteriors(e.data.count, own.prior, own.prior) } : own),
  // the posteriors take every fresh group (methods §4)
  fresh: true,
  settle: (own, groups) => (own.posteriors ? { ...own, posteriors: withGroups(own.posteriors, groups, own.decay) } : own),
  estimate(s, ctx, cause) {
    const post = s.own.posteriors;
    if (!post) return coldEstimate(s, ctx, cause);
    const key = { seed: ctx.config.run.seed, step: s.round!.step, purpose: 'estimate' };
    const t = thompsonSample(post, ctx.prng(key.step, key.purpose));
    const a = assembleLabels(s.numPrompts, coldStart(s, ctx), { difficulty: t.difficulty, source: t.source });
    return [estimated(s, ctx, cause, a, { covered: countSeen(post) }, key)];
  },
};
