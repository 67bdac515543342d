/**
 * The sampler actor: which prompts a step trains on, in which tier, with how many rollouts.
 * Per-epoch cadence (paper): at an epoch's first step it draws the epoch's whole budget without
 * replacement from the selection distribution over the latest estimates, shuffles it and cuts it into mu
 * step batches (PRNG key (seed, first step of the epoch, "select")); every step then takes its batch.
 * Per-step cadence: a fresh draw of the step's budget after each DifficultyEstimated.
 * Tiers: paper mode (d_easy, d_hard) → G = (4, 8, 16) with hints on hard prompts; reference mode
 * G = 2·round_half_even(n·d) (G = 0 drops the prompt); none: n rollouts for every prompt.
 */
import { eventId, makeEvent, TIER_CODES, type DareEvent, type Logged } from '../../events/catalogue.ts';
import type { RunConfig } from '../../events/config.ts';
import type { PrngKey } from '../../events/prng.ts';
import type { ActorDef, DecideContext } from '../actor.ts';
import { epochBudget, epochFirstStep, stepFreshBudget, stepSlice } from '../cadence.ts';
import { paperAllocation, referenceAllocation } from '../shared/tiers.ts';
import { adarftSelect, adarftUpdateTarget } from './adarft.ts';
import { betaLogWeights } from './betaSampler.ts';
import { gumbelTopK } from '../shared/gumbelTopK.ts';
import { laplaceLogWeights } from './laplace.ts';
import { entropyLogits } from './entropy.ts';
import { createPosteriors, withGroups, type BetaPosteriors, type GroupCounts } from '../shared/mopps.ts';
import { GrowOnlyList } from '../shared/growOnly.ts';
import { moppsSelect } from './moppsSelect.ts';
import { knapsackAllocate, knapsackEstimate } from './knapsack.ts';
import { effectiveStage, foldStage, initStageFold, stagesOf } from '../shared/stageFold.ts';
import { stagePool, type Stage, type StagedState } from '../shared/staged.ts';
import { createGresoState, gresoAdaptExploration, gresoObserve, gresoPresample, type GresoState } from './greso.ts';
import { binDifficulty, groupMeanAbsAdvantage, secRewards, secSelect, secUpdate } from './sec.ts';
import { Prng } from '../../events/prng.ts';

/** Selection methods this actor carries out; the other strategies' formulas exist but are not wired yet. */
// dapo / online-filter select uniformly here; the learner drops uninformative groups and refills (dynamic sampling)
export const WIRED_SAMPLERS: ReadonlySet<string> = new Set(['beta', 'laplace', 'uniform', 'adarft', 'mopps', 'sec', 'dapo', 'online-filter', 'knapsack', 'greso', 'vcrl', 'staged', 'entropy']);

/** Knapsack RL keeps each prompt's latest groups, up to this many rewards (its estimate uses the latest 16). */
const KNAPSACK_HISTORY = 16;

/** SEC without given categories bins the difficulty estimate into this many categories (methods §9 ⚠ ours). */
const SEC_BINS = 5;

export interface SamplerState {
  method: RunConfig['sampler']['method'];
  numPrompts: number;
  /** category per training prompt (PromptsRegistered) and the number of categories */
  categoryOf: Uint16Array;
  categories: number;
  /** SEC: value Q(c) per category (or per difficulty bin when the dataset has one category) */
  secQ: Float64Array | null;
  /** Knapsack RL: each prompt's latest reward groups, oldest first (only for method knapsack) */
  history: Map<number, Float32Array[]> | null;
  /** GRESO: zero-variance streaks per prompt and the exploration probabilities (only for method greso) */
  greso: GresoState | null;
  /** this step's fresh groups: prompt and realized success rate (GRESO observes them at the update) */
  stepGroups: Array<[number, number]>;
  /** MoPPS: the Beta posteriors the step-level selection samples from (only for method mopps) */
  posteriors: BetaPosteriors | null;
  /**
   * Fresh groups not yet folded into `history`, `posteriors` and `stepGroups` (for the methods that keep them):
   * a step's RolloutCompleted events only add here, and the next other event folds them in, in order, with one
   * copy of each structure (see `settle`; decide and snapshot only ever see a settled state).
   */
  fresh: GrowOnlyList<FreshGroup> | null;
  moppsDecay: number;
  moppsPrior: number;
  /** staged curriculum (only for method staged) */
  stage: StagedState | null;
  stages: Stage[];
  /** latest estimate (failure rate per prompt) and the step it was made for */
  difficulty: Float64Array | null;
  estimateStep: number;
  /** AdaRFT target difficulty T (failure rate) */
  adarftTarget: number;
  /** this step's fresh rewards (AdaRFT's R̄), reset at each BatchSelected */
  stepRewardSum: number;
  stepRewardRows: number;
  lastSelection: { step: number; prompts: number; filled: number } | null;
}

type SamplerPhase = 'waiting' | 'selected';

const NO_ROWS = new Float32Array(0);

/** A fresh group as the per-prompt folds see it: 0/1 per row (knapsack), successes and rows (MoPPS, GRESO). */
interface FreshGroup extends GroupCounts {
  correct: Float32Array;
}

/** The state with its fresh groups folded in (the same structures as folding them one event at a time). */
function settle(s: SamplerState): SamplerState {
  if (!s.fresh || s.fresh.size === 0) return s.fresh ? { ...s, fresh: null } : s;
  const groups = s.fresh.toArray();
  let history = s.history;
  if (history) {
    history = new Map(history);
    for (const g of groups) {
      // keep the newest groups within the window
      const list = [...(history.get(g.q) ?? []), g.correct];
      let n = list.reduce((k, x) => k + x.length, 0);
      while (list.length > 1 && n - list[0].length >= KNAPSACK_HISTORY) n -= list.shift()!.length;
      history.set(g.q, list);
    }
  }
  // the posterior update after every fresh group (methods §4), as the estimator folds it
  const posteriors = s.posteriors ? withGroups(s.posteriors, groups, s.moppsDecay) : null;
  const stepGroups: Array<[number, number]> = s.greso ? [...s.stepGroups, ...groups.map((g) => [g.q, g.n ? g.ok / g.n : 0] as [number, number])] : s.stepGroups;
  return { ...s, history, posteriors, stepGroups, fresh: null };
}

function initialState(cfg: RunConfig): SamplerState {
  return { method: cfg.sampler.method, numPrompts: 0, categoryOf: new Uint16Array(0), categories: 0, secQ: null, history: cfg.sampler.method === 'knapsack' ? new Map() : null, greso: null, stepGroups: [], posteriors: null, fresh: null, moppsDecay: cfg.estimator.moppsDecay, moppsPrior: cfg.estimator.moppsPrior, stage: initStageFold(cfg), stages: stagesOf(cfg), difficulty: null, estimateStep: 0, adarftTarget: 0, stepRewardSum: 0, stepRewardRows: 0, lastSelection: null };
}

function evolve(s0: SamplerState, logged: Logged): SamplerState {
  const e = logged.event;
  const settled = s0.fresh && e.type !== 'RolloutCompleted' ? settle(s0) : s0;
  const stage = foldStage(settled.stage, logged, settled.stages);
  const s = stage === settled.stage ? settled : { ...settled, stage };
  switch (e.type) {
    case 'PromptsRegistered': {
      const categories = e.data.categories.length;
      const secQ = s.method === 'sec' ? new Float64Array(categories > 1 ? categories : SEC_BINS) : null;
      const greso = s.method === 'greso' ? createGresoState(e.data.count) : null;
      const posteriors = s.method === 'mopps' ? createPosteriors(e.data.count, s.moppsPrior, s.moppsPrior) : null;
      return { ...s, numPrompts: e.data.count, categoryOf: e.data.categoryOf.slice(0, e.data.count), categories, secQ, greso, posteriors };
    }
    case 'DifficultyEstimated':
      return { ...s, difficulty: Float64Array.from(e.data.difficulty), estimateStep: e.data.step };
    case 'BatchSelected':
      return { ...s, stepRewardSum: 0, stepRewardRows: 0, lastSelection: { step: e.data.step, prompts: e.data.prompts.length, filled: e.data.filled } };
    case 'RolloutCompleted': {
      if (e.data.purpose === 'reference') return s;
      let sum = 0;
      let ok = 0;
      for (const r of e.data.reward) {
        sum += r;
        if (r > 0) ok++;
      }
      let fresh = s.fresh;
      if (s.history || s.posteriors || s.greso) {
        const correct = s.history ? Float32Array.from(e.data.reward, (r) => (r > 0 ? 1 : 0)) : NO_ROWS;
        fresh = (fresh ?? GrowOnlyList.empty<FreshGroup>()).push({ q: e.data.promptIndex, ok, n: e.data.reward.length, correct });
      }
      return { ...s, fresh, stepRewardSum: s.stepRewardSum + sum, stepRewardRows: s.stepRewardRows + e.data.reward.length };
    }
    case 'UpdateRequested': {
      // AdaRFT moves its target with the step's mean raw reward (methods §7)
      let next = s.stepRewardRows > 0 ? { ...s, adarftTarget: adarftUpdateTarget(s.adarftTarget, s.stepRewardSum / s.stepRewardRows) } : s;
      if (s.secQ) next = { ...next, secQ: secObserve(s, e) };
      if (s.greso && s.stepGroups.length) next = { ...next, greso: gresoStep(s.greso, s.stepGroups, e.data.step), stepGroups: [] };
      return next;
    }
    default:
      return s;
  }
}

/** Category of each training prompt for SEC: the dataset's own, or a bin of the estimated difficulty. */
function secCategories(s: SamplerState): Uint32Array {
  if (s.categories > 1) return Uint32Array.from(s.categoryOf);
  return s.difficulty ? binDifficulty(s.difficulty, SEC_BINS) : new Uint32Array(s.numPrompts);
}

/** SEC's TD(0) update from the step's fresh groups: reward of a category = mean |Â| of its groups (methods §9). */
function secObserve(s: SamplerState, e: Extract<DareEvent, { type: 'UpdateRequested' }>): Float64Array {
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
  const { r: reward, seen } = secRewards(category, meanAbs, s.secQ!.length);
  return secUpdate(s.secQ!, reward, seen, 0.5);
}

/**
 * GRESO after a training step (methods §11): record each fresh group's success (streaks of all-correct /
 * all-wrong), then move the exploration probabilities toward the target zero-variance rate.
 */
function gresoStep(g: GresoState, groups: Array<[number, number]>, step: number): GresoState {
  const next = gresoObserve(g, Uint32Array.from(groups, ([q]) => q), Float64Array.from(groups, ([, a]) => a));
  if (step <= 1) return next;
  const easy = groups.filter(([, a]) => a >= 1).length / groups.length;
  const hard = groups.filter(([, a]) => a <= 0).length / groups.length;
  return { ...next, ...gresoAdaptExploration(next, easy, hard) };
}

/** Selection log-weights over all prompts for the configured method. */
export function selectionLogits(difficulty: Float64Array, cfg: RunConfig): Float64Array {
  switch (cfg.sampler.method) {
    case 'beta':
    case 'mopps':
      // the README's peak is a failure-rate mode; betaLogWeights takes the success-space mode
      return betaLogWeights(difficulty, { kappa: cfg.sampler.kappa, peakSuccess: 1 - cfg.sampler.peak, edge: cfg.sampler.betaEdge });
    case 'entropy':
      // EDCO / DARE's entropy selector: softmax over prefix-entropy scores (the estimate carries the scores)
      return entropyLogits(difficulty, { tau: 1 }).logits;
    case 'laplace':
      // our laplaceAlpha is a failure-rate target; the helper takes REF's success-space alpha
      return laplaceLogWeights(difficulty, { successTarget: 1 - cfg.sampler.laplaceAlpha, tau: cfg.sampler.laplaceTau });
    default:
      return new Float64Array(difficulty.length);
  }
}

const planCache = new WeakMap<Float64Array, Map<string, { batches: Uint32Array[]; filled: number }>>();

/** The epoch's selection, cut into mu batches; a pure function of the estimate and the key (memoised). */
function epochPlan(difficulty: Float64Array, cfg: RunConfig, epoch: number, key: PrngKey): { batches: Uint32Array[]; filled: number } {
  const memoKey = `${key.seed}/${key.step}/${key.purpose}/${epoch}`;
  let m = planCache.get(difficulty);
  const hit = m?.get(memoKey);
  if (hit) return hit;
  const budget = Math.min(epochBudget(epoch, cfg), difficulty.length);
  const draw = gumbelTopK(selectionLogits(difficulty, cfg), budget, key);
  const mu = cfg.run.stepsPerEpoch;
  // cut into mu consecutive batches (the last takes the remainder when budget is not a multiple of mu)
  const order = new Prng({ ...key, purpose: `${key.purpose}/shuffle` }).shuffle(Uint32Array.from(draw.indices)) as Uint32Array;
  const batches: Uint32Array[] = [];
  for (let k = 1; k <= mu; k++) {
    const [a, b] = stepSlice(k, budget, cfg);
    batches.push(order.slice(a, b));
  }
  const plan = { batches, filled: draw.filled };
  if (!m) planCache.set(difficulty, (m = new Map()));
  m.set(memoKey, plan);
  return plan;
}

function selectFor(s: SamplerState, step: number, epoch: number, cfg: RunConfig): { prompts: Uint32Array; filled: number; key: PrngKey } {
  const difficulty = s.difficulty!;
  if (cfg.sampler.method === 'sec') {
    const key = { seed: cfg.run.seed, step, purpose: 'select' };
    const B = stepFreshBudget(epoch, cfg, s.numPrompts);
    return { prompts: secSelect(s.secQ!, cfg.sampler.secTau, secCategories(s), B, key).prompts, filled: 0, key };
  }
  if (s.posteriors) {
    // MoPPS (methods §4): each step, a uniform candidate pool of 16·B, Thompson samples, the B nearest d* = 0.5
    const key = { seed: cfg.run.seed, step, purpose: 'select' };
    const B = stepFreshBudget(epoch, cfg, s.numPrompts);
    return { prompts: moppsSelect(s.posteriors.alpha, s.posteriors.beta, { batchSize: B, poolRatio: 16, rule: 'topk' }, key).prompts, filled: 0, key };
  }
  if (s.stage) {
    // staged curriculum: B prompts uniformly from the current stage's difficulty range
    const key = { seed: cfg.run.seed, step, purpose: 'select' };
    const st = effectiveStage(s.stage, s.stages, difficulty);
    const pool = stagePool(s.stages, st, difficulty);
    const logits = new Float64Array(difficulty.length).fill(-Infinity);
    for (const q of pool) logits[q] = 0;
    // a stage's range that holds fewer than B prompts (the last stage cannot advance) is topped up uniformly
    // from the other prompts, counted in BatchSelected.filled: a step never selects an empty batch
    const B = Math.min(cfg.run.batchSize, difficulty.length);
    const draw = gumbelTopK(logits, B, key);
    return { prompts: draw.indices, filled: draw.filled, key };
  }
  if (cfg.sampler.method === 'adarft') {
    const key = { seed: cfg.run.seed, step, purpose: 'select' };
    const B = stepFreshBudget(epoch, cfg, difficulty.length);
    return { prompts: adarftSelect(difficulty, s.adarftTarget, B, key), filled: 0, key };
  }
  if (cfg.run.estimation === 'step') {
    const key = { seed: cfg.run.seed, step, purpose: 'select' };
    const B = stepFreshBudget(epoch, cfg, difficulty.length);
    const draw = gumbelTopK(selectionLogits(difficulty, cfg), B, key);
    return { prompts: draw.indices, filled: draw.filled, key };
  }
  const first = epochFirstStep(epoch, cfg);
  const key = { seed: cfg.run.seed, step: first, purpose: 'select' };
  const plan = epochPlan(difficulty, cfg, epoch, key);
  let prompts = plan.batches[step - first];
  if (s.greso) {
    // GRESO skips candidates predicted to give a zero-variance group; the learner refills (dynamic sampling)
    const { keep } = gresoPresample(s.greso, prompts, { seed: cfg.run.seed, step, purpose: 'greso-skip' });
    const kept = prompts.filter((_, i) => keep[i] === 1);
    // never an empty batch: the step's rollouts are what moves the learner on (refills top it up to B)
    prompts = kept.length > 0 ? kept : prompts.slice(0, 1);
  }
  return { prompts, filled: step === first ? plan.filled : 0, key };
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

/**
 * Knapsack RL (methods §10): the step's budget W = B·n rollouts spread over the selected prompts by the value
 * of a mixed group, from each prompt's recent success rate (success space, as the paper writes it).
 */
function knapsackRollouts(s: SamplerState, prompts: Uint32Array, cfg: RunConfig): Uint16Array {
  const p = new Float64Array(prompts.length);
  const valid = new Uint8Array(prompts.length);
  prompts.forEach((q, i) => {
    const est = knapsackEstimate(s.history?.get(q) ?? []);
    p[i] = est.p;
    valid[i] = est.valid ? 1 : 0;
  });
  const alloc = knapsackAllocate(p, valid, { budget: prompts.length * cfg.sampler.gMedium, n: cfg.sampler.gMedium });
  return Uint16Array.from(alloc.rollouts);
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
  const sel = selectFor(s, step, epoch, cfg);
  const d = Float64Array.from(sel.prompts, (q) => s.difficulty![q]);
  const a = allocate(sel.prompts, d, cfg);
  if (cfg.sampler.method === 'knapsack') a.rollouts = knapsackRollouts(s, a.prompts, cfg);
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
  description: 'prompt selection (symmetric Beta without replacement, Laplace, uniform, AdaRFT) and tiers',
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
    adarftTarget: s.adarftTarget,
    secQ: s.secQ ? Array.from(s.secQ, (x) => Number(x.toFixed(3))) : null,
    stage: s.stage ? s.stages[s.stage.stage]?.name : null,
  }),
  snapshot: (s) => settle(s),
  // older snapshots have no `fresh`; a snapshot is settled
  restore: (snap) => ({ ...(snap as SamplerState), fresh: null }),
};

