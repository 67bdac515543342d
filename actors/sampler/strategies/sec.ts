/**
 * SEC (methods §9): a softmax over the category values Q(c) picks each slot's category, then a prompt of it;
 * after the update Q moves by TD(0) (α = 0.5) toward the mean |Â| of the category's fresh groups. Without
 * given categories the difficulty estimate is binned into SEC_BINS categories (methods §9 ⚠ ours).
 * State: Q.
 */
import type { DareEvent } from '../../../events/catalogue.ts';
import { stepFreshBudget } from '../../cadence.ts';
import { binDifficulty, groupMeanAbsAdvantage, secRewards, secSelect, secUpdate } from '../sec.ts';
import type { SamplerState, SamplerStrategy } from '../strategy.ts';

/** SEC without given categories bins the difficulty estimate into this many categories. */
const SEC_BINS = 5;

export interface SecOwn {
  /** value Q(c) per category (or per difficulty bin when the dataset has one category), from PromptsRegistered on */
  q: Float64Array | null;
}

/** Category of each training prompt: the dataset's own, or a bin of the estimated difficulty. */
function secCategories(s: SamplerState): Uint32Array {
  if (s.categories > 1) return Uint32Array.from(s.categoryOf);
  return s.difficulty ? binDifficulty(s.difficulty, SEC_BINS) : new Uint32Array(s.numPrompts);
}

/** TD(0) update from the step's fresh groups: reward of a category = mean |Â| of its groups. */
function secObserve(q: Float64Array, s: SamplerState, e: Extract<DareEvent, { type: 'UpdateRequested' }>): Float64Array {
  const d = e.data;
  const fresh = d.freshGroups;
  const offsets = new Uint32Array(fresh + 1);
  let r = 0;
  for (let g = 0; g < fresh; g++) {
    while (r < d.rowGroup.length && d.rowGroup[r] === g) r++;
    offsets[g + 1] = r;
  }
  const meanAbs = groupMeanAbsAdvantage(d.advantage.subarray(0, r), offsets);
  const cats = secCategories(s);
  const category = new Uint32Array(fresh);
  for (let g = 0; g < fresh; g++) category[g] = cats[Number(d.groups[g].split('/')[2])];
  const { r: reward, seen } = secRewards(category, meanAbs, q.length);
  return secUpdate(q, reward, seen, 0.5);
}

export const sec: SamplerStrategy<SecOwn> = {
  init: () => ({ q: null }),
  evolve(own, { event: e }, s) {
    if (e.type === 'PromptsRegistered') {
      const categories = e.data.categories.length;
      return { q: new Float64Array(categories > 1 ? categories : SEC_BINS) };
    }
    if (e.type === 'UpdateRequested' && own.q) return { q: secObserve(own.q, s, e) };
    return own;
  },
  select(own, s, { step, epoch }, cfg) {
    const key = { seed: cfg.run.seed, step, purpose: 'select' };
    const B = stepFreshBudget(epoch, cfg, s.numPrompts);
    return { prompts: secSelect(own.q!, cfg.sampler.secTau, secCategories(s), B, key).prompts, filled: 0, key };
  },
  summary: (own) => ({ secQ: own.q ? Array.from(own.q, (x) => Number(x.toFixed(3))) : null }),
};
