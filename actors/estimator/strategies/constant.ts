/** Constant cold start (methods §12): every prompt at estimator.coldStartDifficulty, the reference set's measured prompts excepted. */
import { coldEstimate } from '../round.ts';
import type { EstimatorStrategy } from '../strategy.ts';

export const constant: EstimatorStrategy<null> = {
  init: () => null,
  estimate: (s, ctx, cause) => coldEstimate(s, ctx, cause),
};
