/**
 * AdaRFT (methods §7): each step, the B prompts whose difficulty is nearest the target T; after the step's
 * update T moves with the step's mean raw reward R̄ of the fresh rollouts. State: T and this step's reward sum.
 */
import { adarftSelect, adarftUpdateTarget } from '../adarft.ts';
import { stepFreshBudget } from '../../cadence.ts';
import type { SamplerStrategy } from '../strategy.ts';

export interface AdarftOwn {
  /** target difficulty T (failure rate) */
  target: number;
  /** this step's fresh rewards (R̄), reset at each BatchSelected */
  rewardSum: number;
  rewardRows: number;
}

export const adarft: SamplerStrategy<AdarftOwn> = {
  init: () => ({ target: 0, rewardSum: 0, rewardRows: 0 }),
  evolve(own, { event: e }) {
    switch (e.type) {
      case 'BatchSelected':
        return { ...own, rewardSum: 0, rewardRows: 0 };
      case 'RolloutCompleted': {
        if (e.data.purpose === 'reference') return own;
        let sum = 0;
        for (const r of e.data.reward) sum += r;
        return { ...own, rewardSum: own.rewardSum + sum, rewardRows: own.rewardRows + e.data.reward.length };
      }
      case 'UpdateRequested':
        return own.rewardRows > 0 ? { ...own, target: adarftUpdateTarget(own.target, own.rewardSum / own.rewardRows) } : own;
      default:
        return own;
    }
  },
  select(own, s, { step, epoch }, cfg) {
    const key = { seed: cfg.run.seed, step, purpose: 'select' };
    const difficulty = s.difficulty!;
    return { prompts: adarftSelect(difficulty, own.target, stepFreshBudget(epoch, cfg, difficulty.length), key), filled: 0, key };
  },
  summary: (own) => ({ adarftTarget: own.target }),
};
