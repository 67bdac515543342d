/**
 * Online difficulty filtering (methods §6): the sampler selects uniformly; the learner keeps the groups whose
 * success lies in the band and refills (dynamic sampling). No state of its own.
 */
import { planStrategy } from '../selection.ts';

export const onlineFilter = planStrategy();
