/**
 * Staged curriculum (methods §3): B prompts uniformly from the current stage's difficulty range; the stage
 * advances with the updates and evaluations (the fold the learner keeps too, shared/stageFold.ts).
 * State: the stage.
 */
import { effectiveStage, foldStage, initStageFold, stagesOf } from '../../shared/stageFold.ts';
import { stagePool, type Stage, type StagedState } from '../../shared/staged.ts';
import { gumbelTopK } from '../../shared/gumbelTopK.ts';
import type { SamplerStrategy } from '../strategy.ts';

export interface StagedOwn {
  stage: StagedState | null;
  stages: Stage[];
}

export const staged: SamplerStrategy<StagedOwn> = {
  init: (cfg) => ({ stage: initStageFold(cfg), stages: stagesOf(cfg) }),
  evolve(own, e) {
    const stage = foldStage(own.stage, e, own.stages);
    return stage === own.stage ? own : { ...own, stage };
  },
  select(own, s, { step }, cfg) {
    const difficulty = s.difficulty!;
    const key = { seed: cfg.run.seed, step, purpose: 'select' };
    const st = effectiveStage(own.stage!, own.stages, difficulty);
    const pool = stagePool(own.stages, st, difficulty);
    const logits = new Float64Array(difficulty.length).fill(-Infinity);
    for (const q of pool) logits[q] = 0;
    // a stage's range that holds fewer than B prompts (the last stage cannot advance) is topped up uniformly
    // from the other prompts, counted in BatchSelected.filled: a step never selects an empty batch
    const B = Math.min(cfg.run.batchSize, difficulty.length);
    const draw = gumbelTopK(logits, B, key);
    return { prompts: draw.indices, filled: draw.filled, key };
  },
  summary: (own) => ({ stage: own.stage ? own.stages[own.stage.stage]?.name ?? null : null }),
};
