/** Laplace / DOTS selector (methods §5, dare-reference §5 `laplace`): softmax of −|d − α|/τ, no state of its own. */
import { laplaceLogWeights } from '../laplace.ts';
import { planStrategy } from '../selection.ts';

// our laplaceAlpha is a failure-rate target; the helper takes REF's success-space alpha
export const laplace = planStrategy((difficulty, cfg) => laplaceLogWeights(difficulty, { successTarget: 1 - cfg.sampler.laplaceAlpha, tau: cfg.sampler.laplaceTau }));
