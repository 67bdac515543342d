/**
 * Staged difficulty curricula (spec methods.md §3, "generic StageSchedule").
 *
 * A schedule is an ordered list of stages; each selects the prompts whose FAILURE rate d lies in its range
 * (with inclusive/exclusive ends), sets the response cap, whether truncated rows are masked from the loss,
 * and the entropy coefficient, and says when to move on:
 * - `{kind:"steps", n}`: after n training steps in the stage;
 * - `{kind:"plateau", metric, window W, minDelta δ, patience P}`: ⚠ the paper gives no formula; we use the
 *   early-stopping rule on the moving average of the metric over the last W evaluations: the first full
 *   window sets the best average; each later evaluation whose average does not beat the best by more than
 *   δ (in the metric's direction) counts as a stall, an improvement resets the count; P consecutive
 *   stalls advance. Defaults W = 5, δ = 0.005, P = 3.
 * An empty filtered pool advances immediately (reason "empty-pool"). When the last stage's transition
 * fires, the schedule is `finished` and stays on its last stage.
 *
 * `advance(stages, state, observation)` is a pure reducer; the state is a plain serialisable object.
 * (Offline per-model predicates and keepFraction of the paper's level filters are not modelled here: they
 * belong to the estimator that produces d.)
 */

export interface StageDifficultyFilter {
  /** lower failure-rate bound */
  dMin: number;
  /** upper failure-rate bound */
  dMax: number;
  includeMin: boolean;
  includeMax: boolean;
}

export type StageTransition =
  | { kind: 'steps'; n: number }
  | {
      kind: 'plateau';
      /** name of the metric observation that drives the transition (e.g. "eval/accuracy") */
      metric: string;
      /** moving-average window W (evaluations, default 5) */
      window?: number;
      /** minimum improvement δ of the moving average (metric units, default 0.005) */
      minDelta?: number;
      /** consecutive non-improving evaluations P before advancing (default 3) */
      patience?: number;
      /** whether larger ("max", default) or smaller ("min") metric values are better */
      direction?: 'max' | 'min';
    };

export interface Stage {
  name: string;
  filter: StageDifficultyFilter;
  /** response cap for rollouts in this stage, tokens */
  maxResponseTokens: number;
  /** exclude truncated (no-EOS) rows from the loss */
  maskTruncated: boolean;
  /** entropy-bonus coefficient in this stage */
  entropyCoeff: number;
  transition: StageTransition;
}

export interface StagedState {
  /** index of the current stage */
  stage: number;
  /** training steps observed in the current stage */
  stepsInStage: number;
  /** last ≤ W values of the plateau metric in the current stage */
  recent: number[];
  /** best moving average so far in the current stage (null until the first full window) */
  bestAverage: number | null;
  /** consecutive evaluations without sufficient improvement */
  stall: number;
  /** the last stage's transition fired */
  finished: boolean;
}

export type StageObservation =
  | { kind: 'step' }
  | { kind: 'metric'; metric: string; value: number }
  | { kind: 'pool'; size: number };

export type AdvanceReason = 'steps' | 'plateau' | 'empty-pool';

export interface AdvanceResult {
  state: StagedState;
  /** the stage index changed */
  advanced: boolean;
  /** why the transition fired (set also when it fired on the last stage and only `finished` changed) */
  reason?: AdvanceReason;
}

export function validateStages(stages: readonly Stage[]): void {
  if (stages.length === 0) throw new RangeError('staged: the schedule needs at least one stage');
  stages.forEach((s, i) => {
    const at = `staged.stages[${i}] (${s.name})`;
    const f = s.filter;
    if (!(f.dMin >= 0 && f.dMax <= 1 && f.dMin <= f.dMax)) throw new RangeError(`${at}: need 0 ≤ dMin ≤ dMax ≤ 1, got [${f.dMin}, ${f.dMax}]`);
    if (!(Number.isInteger(s.maxResponseTokens) && s.maxResponseTokens >= 1)) throw new RangeError(`${at}: maxResponseTokens must be an integer ≥ 1`);
    if (!(Number.isFinite(s.entropyCoeff) && s.entropyCoeff >= 0)) throw new RangeError(`${at}: entropyCoeff must be finite and ≥ 0`);
    const t = s.transition;
    if (t.kind === 'steps') {
      if (!(Number.isInteger(t.n) && t.n >= 1)) throw new RangeError(`${at}: transition.n must be an integer ≥ 1`);
    } else if (t.kind === 'plateau') {
      const { window: W = 5, minDelta = 0.005, patience = 3 } = t;
      if (!(Number.isInteger(W) && W >= 1)) throw new RangeError(`${at}: transition.window must be an integer ≥ 1`);
      if (!(Number.isInteger(patience) && patience >= 1)) throw new RangeError(`${at}: transition.patience must be an integer ≥ 1`);
      if (!(Number.isFinite(minDelta) && minDelta >= 0)) throw new RangeError(`${at}: transition.minDelta must be finite and ≥ 0`);
      if (!t.metric) throw new RangeError(`${at}: transition.metric must be named`);
    } else {
      throw new RangeError(`${at}: unknown transition kind ${String((t as { kind: unknown }).kind)}`);
    }
  });
}

export function initStaged(stages: readonly Stage[]): StagedState {
  validateStages(stages);
  return { stage: 0, stepsInStage: 0, recent: [], bestAverage: null, stall: 0, finished: false };
}

/** Does failure rate d pass a stage filter? */
export function inStage(f: StageDifficultyFilter, d: number): boolean {
  const aboveMin = f.includeMin ? d >= f.dMin : d > f.dMin;
  const belowMax = f.includeMax ? d <= f.dMax : d < f.dMax;
  return aboveMin && belowMax;
}

/** The current stage's difficulty predicate. */
export function stageFilter(stages: readonly Stage[], state: StagedState): (d: number) => boolean {
  const f = stages[state.stage].filter;
  return (d: number) => inStage(f, d);
}

/** Positions of the prompts (failure rates d) in the current stage's pool. */
export function stagePool(stages: readonly Stage[], state: StagedState, d: Float64Array): Uint32Array {
  const f = stages[state.stage].filter;
  const out: number[] = [];
  for (let i = 0; i < d.length; i++) if (inStage(f, d[i])) out.push(i);
  return Uint32Array.from(out);
}

function fire(stages: readonly Stage[], state: StagedState, reason: AdvanceReason): AdvanceResult {
  if (state.stage + 1 >= stages.length) return { state: { ...state, recent: state.recent.slice(), finished: true }, advanced: false, reason };
  return {
    state: { stage: state.stage + 1, stepsInStage: 0, recent: [], bestAverage: null, stall: 0, finished: false },
    advanced: true,
    reason,
  };
}

/** Pure reducer: fold one observation into the schedule state. */
export function advance(stages: readonly Stage[], state: StagedState, obs: StageObservation): AdvanceResult {
  if (state.finished) return { state, advanced: false };
  const stage = stages[state.stage];
  if (!stage) throw new RangeError(`staged: state.stage ${state.stage} outside the ${stages.length}-stage schedule`);
  const t = stage.transition;
  switch (obs.kind) {
    case 'pool':
      if (obs.size === 0) return fire(stages, state, 'empty-pool');
      return { state, advanced: false };
    case 'step': {
      const next = { ...state, recent: state.recent.slice(), stepsInStage: state.stepsInStage + 1 };
      if (t.kind === 'steps' && next.stepsInStage >= t.n) return fire(stages, next, 'steps');
      return { state: next, advanced: false };
    }
    case 'metric': {
      if (t.kind !== 'plateau' || obs.metric !== t.metric) return { state, advanced: false };
      if (!Number.isFinite(obs.value)) throw new RangeError(`staged: metric ${obs.metric} value is not finite (${obs.value})`);
      const W = t.window ?? 5;
      const delta = t.minDelta ?? 0.005;
      const P = t.patience ?? 3;
      const sign = (t.direction ?? 'max') === 'max' ? 1 : -1;
      const recent = state.recent.concat(obs.value).slice(-W);
      const next: StagedState = { ...state, recent };
      if (recent.length < W) return { state: next, advanced: false };
      let sum = 0;
      for (const x of recent) sum += x;
      const avg = sum / W;
      if (state.bestAverage === null) {
        next.bestAverage = avg;
        next.stall = 0;
      } else if (sign * (avg - state.bestAverage) > delta) {
        next.bestAverage = avg;
        next.stall = 0;
      } else {
        next.stall = state.stall + 1;
      }
      if (next.stall >= P) return fire(stages, next, 'plateau');
      return { state: next, advanced: false };
    }
    default:
      throw new RangeError(`staged: unknown observation kind ${String((obs as { kind: unknown }).kind)}`);
  }
}

/**
 * Advance past every stage whose pool (over failure rates d) is empty, as the schedule requires
 * ("empty pool ⇒ advance immediately"). Returns the final state and one entry per transition taken.
 */
export function skipEmptyStages(
  stages: readonly Stage[],
  state: StagedState,
  d: Float64Array,
): { state: StagedState; transitions: { from: number; to: number; reason: AdvanceReason }[] } {
  const transitions: { from: number; to: number; reason: AdvanceReason }[] = [];
  let s = state;
  while (!s.finished) {
    const size = stagePool(stages, s, d).length;
    const r = advance(stages, s, { kind: 'pool', size });
    if (!r.reason) break;
    transitions.push({ from: s.stage, to: r.state.stage, reason: r.reason });
    s = r.state;
  }
  return { state: s, transitions };
}
