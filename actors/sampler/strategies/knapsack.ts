/**
 * Knapsack RL (methods §10): the prompts are drawn uniformly (epoch plan or per step); the step's budget
 * W = B·n rollouts is then spread over them by the value of a mixed group, from each prompt's recent success
 * rate (success space, as the paper writes it). State: each prompt's latest reward groups, oldest first.
 */
import { knapsackAllocate, knapsackEstimate } from '../knapsack.ts';
import { planSelect, uniformLogits } from '../selection.ts';
import type { SamplerStrategy } from '../strategy.ts';

/** Each prompt keeps its latest groups, up to this many rewards (the estimate uses the latest 16). */
const KNAPSACK_HISTORY = 16;

export interface KnapsackOwn {
  /** 0/1 rewards of each prompt's latest groups, oldest first */
  history: Map<number, Float32Array[]>;
}

export const knapsack: SamplerStrategy<KnapsackOwn> = {
  init: () => ({ history: new Map() }),
  evolve: (own) => own,
  fresh: 'rows',
  settle(own, groups) {
    const history = new Map(own.history);
    for (const g of groups) {
      // keep the newest groups within the window
      const list = [...(history.get(g.q) ?? []), g.correct];
      let n = list.reduce((k, x) => k + x.length, 0);
      while (list.length > 1 && n - list[0].length >= KNAPSACK_HISTORY) n -= list.shift()!.length;
      history.set(g.q, list);
    }
    return { history };
  },
  select: (_own, s, { step, epoch }, cfg) => planSelect(s.difficulty!, uniformLogits, step, epoch, cfg),
  rollouts(own, prompts, cfg) {
    const p = new Float64Array(prompts.length);
    const valid = new Uint8Array(prompts.length);
    prompts.forEach((q, i) => {
      const est = knapsackEstimate(own.history.get(q) ?? []);
      p[i] = est.p;
      valid[i] = est.valid ? 1 : 0;
    });
    const alloc = knapsackAllocate(p, valid, { budget: prompts.length * cfg.sampler.gMedium, n: cfg.sampler.gMedium });
    return Uint16Array.from(alloc.rollouts);
  },
};
