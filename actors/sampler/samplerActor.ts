/**
 * The sampler actor: which prompts a step trains on, in which tier, with how many rollouts.
 * The selection itself is the configured method's strategy (strategies/, one file per sampler.method, see
 * strategy.ts): most draw from the epoch plan or per step (selection.ts), some keep state of their own.
 * It decides at StepStarted (per-epoch cadence) or after each DifficultyEstimated (per-step cadence).
 * Tiers: paper mode (d_easy, d_hard) → G = (4, 8, 16) with hints on hard prompts; reference mode
 * G = 2·round_half_even(n·d) (G = 0 drops the prompt); none: n rollouts for every prompt; a method may
 * replace the rollouts per prompt (knapsack).
 */
import { eventId, makeEvent, TIER_CODES, type DareEvent, type Logged } from '../../events/catalogue.ts';
import type { RunConfig } from '../../events/config.ts';
import type { ActorDef, DecideContext } from '../actor.ts';
import { GrowOnlyList } from '../shared/growOnly.ts';
import { paperAllocation, referenceAllocation } from '../shared/tiers.ts';
import { uniformLogits } from './selection.ts';
import { SAMPLER_STRATEGIES } from './strategies/index.ts';
import type { FreshGroup, SamplerMethod, SamplerState, SamplerStrategy } from './strategy.ts';

export type { SamplerState } from './strategy.ts';

/** Selection methods this actor carries out: every method with a strategy. */
// dapo / online-filter / vcrl / greso: the learner drops uninformative groups and refills (dynamic sampling)
export const WIRED_SAMPLERS: ReadonlySet<string> = new Set(Object.keys(SAMPLER_STRATEGIES));

type SamplerPhase = 'waiting' | 'selected';

const NO_ROWS = new Float32Array(0);

function strategyOf(method: SamplerMethod): SamplerStrategy {
  const st = SAMPLER_STRATEGIES[method];
  if (!st) throw new Error(`sampler: no strategy for sampler.method "${method}"`);
  return st;
}

/** The state with its fresh groups handed to the method (the same structures as folding them one event at a time). */
function settle(s: SamplerState): SamplerState {
  if (!s.fresh) return s;
  const st = strategyOf(s.method);
  const own = s.fresh.size && st.settle ? st.settle(s.own, s.fresh.toArray()) : s.own;
  return { ...s, own, fresh: null };
}

function initialState(cfg: RunConfig): SamplerState {
  const method = cfg.sampler.method;
  return {
    method, numPrompts: 0, categoryOf: new Uint16Array(0), categories: 0, difficulty: null, source: null, estimateStep: 0, lastSelection: null,
    fresh: null, own: strategyOf(method).init(cfg),
  };
}

/** The common part of the fold: the prompt set, the estimate, the last selection, the step's fresh groups. */
function evolveCommon(s: SamplerState, st: SamplerStrategy, logged: Logged): SamplerState {
  const e = logged.event;
  switch (e.type) {
    case 'PromptsRegistered':
      return { ...s, numPrompts: e.data.count, categoryOf: e.data.categoryOf.slice(0, e.data.count), categories: e.data.categories.length };
    case 'DifficultyEstimated':
      return { ...s, difficulty: Float64Array.from(e.data.difficulty), source: e.data.source, estimateStep: e.data.step };
    case 'BatchSelected':
      return { ...s, lastSelection: { step: e.data.step, prompts: e.data.prompts.length, filled: e.data.filled } };
    case 'RolloutCompleted': {
      if (e.data.purpose === 'reference' || !st.fresh) return s;
      let ok = 0;
      for (const r of e.data.reward) if (r > 0) ok++;
      const correct = st.fresh === 'rows' ? Float32Array.from(e.data.reward, (r) => (r > 0 ? 1 : 0)) : NO_ROWS;
      const fresh = (s.fresh ?? GrowOnlyList.empty<FreshGroup>()).push({ q: e.data.promptIndex, ok, n: e.data.reward.length, correct });
      return { ...s, fresh };
    }
    default:
      return s;
  }
}

function evolve(s0: SamplerState, logged: Logged): SamplerState {
  const st = strategyOf(s0.method);
  const s = evolveCommon(s0.fresh && logged.event.type !== 'RolloutCompleted' ? settle(s0) : s0, st, logged);
  const own = st.evolve(s.own, logged, s);
  return own === s.own ? s : { ...s, own };
}

/** Selection log-weights over all prompts for the configured method (uniform for the methods that draw otherwise). */
export function selectionLogits(difficulty: Float64Array, cfg: RunConfig): Float64Array {
  return (strategyOf(cfg.sampler.method).logits ?? uniformLogits)(difficulty, cfg);
}

/** Tier, rollouts and hint rollouts of each selected prompt (drops G = 0 prompts in reference mode). */
export interface Allocation {
  prompts: Uint32Array;
  d: Float64Array;
  tier: Uint8Array;
  rollouts: Uint16Array;
  hints: Uint16Array;
}

export function allocate(prompts: Uint32Array, d: Float64Array, cfg: RunConfig): Allocation {
  const sc = cfg.sampler;
  if (sc.tiers === 'paper') {
    const a = paperAllocation(d, {
      dEasy: sc.dEasy, dHard: sc.dHard, groupSizes: { easy: sc.gEasy, medium: sc.gMedium, hard: sc.gHard }, hintFraction: sc.hintFraction,
    });
    return { prompts, d, tier: a.tier, rollouts: Uint16Array.from(a.groupSize), hints: Uint16Array.from(a.hintRollouts) };
  }
  if (sc.tiers === 'reference') {
    const a = referenceAllocation(d, sc.gMedium);
    const keep = a.kept;
    const tier = new Uint8Array(keep.length).fill(TIER_CODES.none);
    return {
      prompts: Uint32Array.from(keep, (i) => prompts[i]),
      d: Float64Array.from(keep, (i) => d[i]),
      tier,
      rollouts: Uint16Array.from(keep, (i) => a.groupSize[i]),
      hints: new Uint16Array(keep.length),
    };
  }
  return {
    prompts, d, tier: new Uint8Array(prompts.length).fill(TIER_CODES.none),
    rollouts: new Uint16Array(prompts.length).fill(sc.gMedium), hints: new Uint16Array(prompts.length),
  };
}

function decide(s: SamplerState, { event: e }: Logged, ctx: DecideContext): DareEvent[] {
  const cfg = ctx.config;
  let step: number;
  let epoch: number;
  if (cfg.run.estimation === 'epoch' && e.type === 'StepStarted') {
    step = e.data.step;
    epoch = e.data.epoch;
  } else if (cfg.run.estimation === 'step' && e.type === 'DifficultyEstimated') {
    step = e.data.step;
    epoch = e.data.epoch;
  } else return [];
  if (!s.difficulty) throw new Error(`sampler: step ${step} started before any DifficultyEstimated`);
  const st = strategyOf(s.method);
  const sel = st.select(s.own, s, { step, epoch }, cfg);
  const d = Float64Array.from(sel.prompts, (q) => s.difficulty![q]);
  const a = allocate(sel.prompts, d, cfg);
  if (st.rollouts) a.rollouts = st.rollouts(s.own, a.prompts, cfg);
  return [
    makeEvent(
      'BatchSelected',
      {
        step, epoch, key: sel.key, strategy: cfg.sampler.method,
        prompts: a.prompts, difficulty: Float32Array.from(a.d), tier: a.tier, rollouts: a.rollouts, hints: a.hints, filled: sel.filled,
      },
      { run: ctx.run, id: eventId('BatchSelected', step), cause: e.id },
    ),
  ];
}

export const samplerActor: ActorDef<SamplerState, SamplerPhase> = {
  name: 'sampler',
  description: 'prompt selection (symmetric Beta without replacement, Laplace, uniform, AdaRFT, MoPPS, SEC, knapsack, GRESO, staged, entropy) and tiers',
  phases: ['waiting', 'selected'],
  initialPhase: 'waiting',
  edges: { waiting: { BatchSelected: 'selected' }, selected: { UpdateRequested: 'waiting' } },
  initialState,
  evolve,
  decide,
  summary: (s) => ({
    prompts: s.numPrompts,
    estimateStep: s.estimateStep,
    lastSelection: s.lastSelection,
    ...strategyOf(s.method).summary?.(s.own),
  }),
  snapshot: (s) => settle(s),
  // a snapshot is settled
  restore: (snap) => ({ ...(snap as SamplerState), fresh: null }),
  // 3: the estimate's sources in `source` (2: the method's state in `own`; 1 held every method's fields side by side)
  snapshotVersion: 3,
};
