/**
 * The staged curriculum as a fold of the log (methods §3), shared by the sampler (which prompts) and the
 * learner (response cap, truncation mask, entropy): each update is a step observation, each evaluation an
 * "eval/accuracy" observation; a stage whose pool is empty under the current estimates is skipped.
 * Both actors fold the same events with the same reducer, so they always agree on the stage.
 */
import type { Logged } from '../../events/catalogue.ts';
import type { RunConfig } from '../../events/config.ts';
import { advance, initStaged, skipEmptyStages, type Stage, type StagedState } from './staged.ts';

export function stagesOf(cfg: RunConfig): Stage[] {
  return cfg.learner.stages.map((s) => ({ ...s, maxResponseTokens: s.maxResponseTokens || cfg.task.maxResponseTokens }));
}

export function initStageFold(cfg: RunConfig): StagedState | null {
  return cfg.sampler.method === 'staged' ? initStaged(stagesOf(cfg)) : null;
}

export function foldStage(state: StagedState | null, e: Logged, stages: readonly Stage[]): StagedState | null {
  if (!state) return state;
  const ev = e.event;
  if (ev.type === 'UpdateCompleted') return advance(stages, state, { kind: 'step' }).state;
  if (ev.type === 'EvalCompleted' && ev.data.step > 0) return advance(stages, state, { kind: 'metric', metric: 'eval/accuracy', value: ev.data.accuracy }).state;
  return state;
}

/** The stage in force for a selection from these estimates (empty pools skipped). */
export function effectiveStage(state: StagedState, stages: readonly Stage[], d: Float64Array): StagedState {
  return skipEmptyStages(stages, state, d).state;
}
