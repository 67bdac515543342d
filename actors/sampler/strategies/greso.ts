/**
 * GRESO (methods §11): before the rollouts, skip the epoch plan's candidates predicted to give a zero-variance
 * group (trailing all-correct / all-wrong streaks); the learner refills (dynamic sampling). After each update
 * the streaks take the step's fresh groups and the exploration probabilities move toward the target
 * zero-variance rate. State: the streaks and probabilities, and this step's fresh groups.
 */
import { gresoAdaptExploration, gresoObserve, gresoPresample, createGresoState, type GresoState } from '../greso.ts';
import { planSelect, uniformLogits } from '../selection.ts';
import type { SamplerStrategy } from '../strategy.ts';

export interface GresoOwn {
  /** streaks per prompt and exploration probabilities (from PromptsRegistered on) */
  greso: GresoState | null;
  /** this step's fresh groups: prompt and realized success rate (observed at the update) */
  stepGroups: Array<[number, number]>;
}

/** After a training step: record each fresh group's success, then adapt the exploration probabilities. */
function gresoStep(g: GresoState, groups: Array<[number, number]>, step: number): GresoState {
  const next = gresoObserve(g, Uint32Array.from(groups, ([q]) => q), Float64Array.from(groups, ([, a]) => a));
  if (step <= 1) return next;
  const easy = groups.filter(([, a]) => a >= 1).length / groups.length;
  const hard = groups.filter(([, a]) => a <= 0).length / groups.length;
  return { ...next, ...gresoAdaptExploration(next, easy, hard) };
}

export const greso: SamplerStrategy<GresoOwn> = {
  init: () => ({ greso: null, stepGroups: [] }),
  evolve(own, { event: e }) {
    if (e.type === 'PromptsRegistered') return { ...own, greso: createGresoState(e.data.count) };
    if (e.type === 'UpdateRequested' && own.greso && own.stepGroups.length) return { greso: gresoStep(own.greso, own.stepGroups, e.data.step), stepGroups: [] };
    return own;
  },
  fresh: 'counts',
  settle: (own, groups) => (own.greso ? { ...own, stepGroups: [...own.stepGroups, ...groups.map((g) => [g.q, g.n ? g.ok / g.n : 0] as [number, number])] } : own),
  select(own, s, { step, epoch }, cfg) {
    const sel = planSelect(s.difficulty!, uniformLogits, step, epoch, cfg);
    // the skip applies to the epoch plan's batches (a per-step draw is taken as it is)
    if (cfg.run.estimation === 'step' || !own.greso) return sel;
    const { keep } = gresoPresample(own.greso, sel.prompts, { seed: cfg.run.seed, step, purpose: 'greso-skip' });
    const kept = sel.prompts.filter((_, i) => keep[i] === 1);
    // never an empty batch: the step's rollouts are what moves the learner on (refills top it up to B)
    return { ...sel, prompts: kept.length > 0 ? kept : sel.prompts.slice(0, 1) };
  },
};
