/**
 * DOTS's attention-free predictor (methods §5, dare-reference §3 option 2): the hashed TF-IDF kernel over the
 * round's measured reference set, for every prompt, the reference prompts included (their own predictions).
 */
import { coldEstimate } from '../round.ts';
import type { EstimatorStrategy } from '../strategy.ts';

export const tfidf: EstimatorStrategy<null> = {
  init: () => null,
  estimate: (s, ctx, cause) => coldEstimate(s, ctx, cause, false),
};
