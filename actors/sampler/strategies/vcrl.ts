/**
 * VCRL (methods §8): the sampler selects uniformly; the learner keeps the high-variance groups and re-rolls
 * its memory bank's prompts in place of the others. No state of its own.
 */
import { planStrategy } from '../selection.ts';

export const vcrl = planStrategy();
