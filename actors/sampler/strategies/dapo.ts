/**
 * DAPO (methods §1): the sampler selects uniformly; the learner drops the zero-variance groups and rolls out
 * more prompts until B are kept (dynamic sampling). No state of its own.
 */
import { planStrategy } from '../selection.ts';

export const dapo = planStrategy();
