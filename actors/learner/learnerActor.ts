/**
 * The learner actor: turns a selected batch into rollout requests, and the step's rollouts plus replayed
 * groups into one update request whose composition is logged in full (rows, raw and shaped rewards,
 * advantages, clip bounds, weights, DARO buckets). After the update it requests a checkpoint and an
 * evaluation when they are due (actors/cadence.ts); the baseline evaluation follows PromptsRegistered.
 * On a stop both are due for the step in flight (or the last one, if it has been updated), so the weights a
 * stopped run leaves are saved and evaluated; RunExtended moves the last step (when both are always due).
 */
import { eventId, makeEvent, TIER_CODES, type DareEvent, type EventOf, type Logged } from '../../events/catalogue.ts';
import type { RunConfig } from '../../events/config.ts';
import { seedOf } from '../../events/prng.ts';
import type { ActorDef, DecideContext } from '../actor.ts';
import { checkpointDue, evalDue } from '../cadence.ts';
import { foldBuffer, groupOf, initBufferFold, prunedForStep, type BufferFold } from '../shared/bufferFold.ts';
import { bufferFromJSON, bufferToJSON, type BufferEntry, type BufferJSON, type RolloutGroup } from '../shared/replayBuffer.ts';
import { classifyTier } from '../shared/tiers.ts';
import { groupAdvantages } from './advantages.ts';
import { clipBounds, type ClipConfig } from './clipBounds.ts';
import { daroBin, daroRowWeights, daroStep, initDaro, type DaroState } from './daro.ts';
import { chooseHintSource } from './hints.ts';
import { overlongPenalties } from './overlong.ts';
import { replayMix } from './replayMix.ts';
import { dapoKeepMask } from './dapoSampling.ts';
import { bandKeepMask } from './onlineFilter.ts';
import { gumbelTopK } from '../shared/gumbelTopK.ts';
import { effectiveStage, foldStage, initStageFold, stagesOf } from '../shared/stageFold.ts';
import type { Stage, StagedState } from '../shared/staged.ts';
import { createMemoryBank, observeMemoryBank, refillFromMemoryBank, vcrlFilter, vcrlKappa, type MemoryBank } from './vcrl.ts';
import { shapeRewards, shapingParams } from './shaping.ts';
import { Prng } from '../../events/prng.ts';
import { GrowOnlyList, GrowOnlyMap } from '../shared/growOnly.ts';

interface StepInFlight {
  step: number;
  epoch: number;
  batch: EventOf<'BatchSelected'>['data'];
  requestId: string | null;
  /** every prompt rolled out for this step, in request order: the batch, then refill rounds */
  requested: number[];
  /** refill rounds requested so far (dynamic sampling) */
  rounds: number;
  /** fresh groups received so far, by prompt index (grow-only: O(1) per RolloutCompleted) */
  fresh: GrowOnlyMap<number, RolloutGroup & { truncated: Uint8Array }>;
  /**
   * the RolloutCompleted that completed the prompts requested so far (pipelined mode: the update's cause
   * whether it is requested then or at the previous update's completion, so the log's content is one)
   */
  completedBy?: string;
}

/** Dynamic sampling: methods that drop uninformative groups and roll out more prompts until B are kept. */
const FILTERING = new Set(['dapo', 'online-filter', 'greso', 'vcrl']);

export interface LearnerState {
  daroOn: boolean;
  count: number;
  evalCount: number;
  buffer: BufferFold;
  /** latest estimate per prompt (failure rate), for the tier of replayed rows */
  difficulty: Float32Array | null;
  current: StepInFlight | null;
  /** step and policy version of the last completed update */
  lastUpdate: { step: number; policyVersion: number } | null;
  daro: DaroState | null;
  /** VCRL's memory bank of high-variance prompts, re-rolled in place of filtered groups */
  vcrlBank: MemoryBank | null;
  /** staged curriculum (only for sampler.method staged): response cap, truncation mask and entropy per stage */
  stage: StagedState | null;
  stages: Stage[];
  lifecycle: Lifecycle;
  /** pipelined mode: the policy version the latest StepStarted generates with (absent: sync mode) */
  stepVersion?: number;
}

/** What the learner folds of the run's lifecycle for its checkpoint and evaluation requests. */
interface Lifecycle {
  /** the run's step total (run.steps, then RunExtended) */
  steps: number;
  /** a stop is pending (ControlApplied stop; dropped by RunResumed) … */
  stopRequested: boolean;
  /** … since the event with this seq (the one at which it reacts) */
  stopSeq: number;
  /** the last policy version it requested a checkpoint of, and the last one saved */
  checkpointRequested: number;
  checkpointSaved: number;
  /** the last step it requested an evaluation of */
  evalRequested: number;
}

type LearnerPhase = 'idle' | 'rollingOut' | 'updating' | 'checkpointing' | 'evaluating';

const DARO_K = 8;

/** learner.replayPriority mixed: groups whose generation-time failure rate is strictly inside (0, 1) replay first */
const MIXED_GROUPS = { dMin: 1e-9, dMax: 1 - 1e-9 };

function initialState(cfg: RunConfig): LearnerState {
  return {
    daroOn: cfg.learner.daro, count: 0, evalCount: 0, buffer: initBufferFold(cfg), difficulty: null, current: null, lastUpdate: null,
    daro: cfg.learner.daro ? initDaro(DARO_K) : null,
    vcrlBank: cfg.sampler.method === 'vcrl' ? createMemoryBank(cfg.run.batchSize) : null,
    stage: initStageFold(cfg),
    stages: stagesOf(cfg),
    lifecycle: { steps: cfg.run.steps, stopRequested: false, stopSeq: 0, checkpointRequested: 0, checkpointSaved: 0, evalRequested: -1 },
  };
}

function foldLifecycle(l: Lifecycle, { seq, event: e }: Logged): Lifecycle {
  switch (e.type) {
    case 'ControlApplied':
      return e.data.command === 'stop' && !l.stopRequested ? { ...l, stopRequested: true, stopSeq: seq } : l;
    case 'RunResumed':
      return l.stopRequested ? { ...l, stopRequested: false } : l;
    case 'RunExtended':
      return { ...l, steps: e.data.steps };
    case 'CheckpointRequested':
      return { ...l, checkpointRequested: Math.max(l.checkpointRequested, e.data.policyVersion) };
    case 'CheckpointSaved':
      return { ...l, checkpointSaved: Math.max(l.checkpointSaved, e.data.policyVersion) };
    case 'EvalRequested':
      return { ...l, evalRequested: Math.max(l.evalRequested, e.data.step) };
    default:
      return l;
  }
}

/** The configuration with the run's current step total (the cadence's "last step"). */
function withSteps(cfg: RunConfig, steps: number): RunConfig {
  return steps === cfg.run.steps ? cfg : { ...cfg, run: { ...cfg.run, steps } };
}

function evolve(s0: LearnerState, e: Logged): LearnerState {
  const ev = e.event;
  const stage = foldStage(s0.stage, e, s0.stages);
  const lifecycle = foldLifecycle(s0.lifecycle, e);
  const s = stage === s0.stage && lifecycle === s0.lifecycle ? s0 : { ...s0, stage, lifecycle };
  let next = s;
  const buffer = foldBuffer(s.buffer, e);
  if (buffer !== s.buffer) next = { ...next, buffer };
  switch (ev.type) {
    case 'PromptsRegistered':
      return { ...next, count: ev.data.count, evalCount: ev.data.evalCount };
    case 'DifficultyEstimated':
      return { ...next, difficulty: ev.data.difficulty };
    case 'StepStarted':
      return ev.data.policyVersion === undefined ? next : { ...next, stepVersion: ev.data.policyVersion };
    case 'BatchSelected':
      return {
        ...next,
        current: { step: ev.data.step, epoch: ev.data.epoch, batch: ev.data, requestId: null, requested: Array.from(ev.data.prompts), rounds: 0, fresh: GrowOnlyMap.empty() },
      };
    case 'RolloutRequested':
      if (!next.current || ev.data.step !== next.current.step) return next;
      if (ev.data.purpose === 'train') return { ...next, current: { ...next.current, requestId: ev.id } };
      if (ev.data.purpose === 'refill') {
        let vcrlBank = next.vcrlBank;
        if (vcrlBank) {
          // the re-rolled bank entries spend a replay (the same picks the decision made)
          const picked = new Set(ev.data.prompts);
          const replays = vcrlBank.replays.slice();
          vcrlBank.prompt.forEach((q, j) => {
            if (picked.has(q)) replays[j] = Math.min(255, replays[j] + 1);
          });
          vcrlBank = { ...vcrlBank, replays };
        }
        return { ...next, vcrlBank, current: { ...next.current, requested: [...next.current.requested, ...ev.data.prompts], rounds: next.current.rounds + 1 } };
      }
      return next;
    case 'RolloutCompleted': {
      const g = groupOf(e);
      if (!g || !next.current || ev.data.step !== next.current.step) return next;
      const fresh = next.current.fresh.set(ev.data.promptIndex, { ...g, truncated: ev.data.truncated });
      const completedBy = fresh.size === next.current.requested.length ? ev.id : next.current.completedBy;
      return { ...next, current: { ...next.current, fresh, ...(completedBy === undefined ? {} : { completedBy }) } };
    }
    case 'UpdateRequested': {
      if (!next.vcrlBank || !s.current) return next;
      const sc = scoredGroups(s.current);
      const f = vcrlFilter(sc, vcrlKappa(s.current.step));
      return { ...next, vcrlBank: observeMemoryBank(next.vcrlBank, sc.group, f.p, f.keep) };
    }
    case 'UpdateCompleted': {
      const daro = next.daro ? daroStep(next.daro, ev.data.binLosses) : null;
      // (pipelined mode: the next step may be in flight already; it stays)
      const current = next.current && next.current.step > ev.data.step ? next.current : null;
      return { ...next, current, lastUpdate: { step: ev.data.step, policyVersion: ev.data.policyVersion }, daro };
    }
    default:
      return next;
  }
}

function clipConfig(cfg: RunConfig): ClipConfig {
  const l = cfg.learner;
  if (l.clipMode === 'dapo') return { mode: 'dapo', epsLow: l.clipRatio, epsHigh: 0.28 };
  if (l.clipMode === 'paper') return { mode: 'paper', eps: l.clipRatio, epsHighEasy: l.easyClipHigh };
  return { mode: 'reference', eps: l.clipRatio, lowerBound: l.clipLower || null, upperBound: l.clipUpper || null };
}

/** A request's `policyVersion` field in pipelined mode (the step's StepStarted version), else nothing. */
function versionOf(s: LearnerState): { policyVersion?: number } {
  return s.stepVersion === undefined ? {} : { policyVersion: s.stepVersion };
}

/**
 * Pipelined mode: the update of `step` is requested only once the previous step's update is complete (its
 * version and DARO weights are then in the state, whatever order the log interleaved them in). Sync mode:
 * always so already.
 */
function previousUpdated(s: LearnerState, step: number): boolean {
  return (s.lastUpdate?.step ?? 0) >= step - 1;
}

/** uint32 seed of a rollout request: a pure function of (run seed, step, purpose). */
export function rolloutSeed(seed: number, step: number, purpose: string): number {
  return seedOf({ seed, step, purpose });
}

function evalRequest(step: number, policyVersion: number, s: LearnerState, ctx: DecideContext, cause: string): DareEvent {
  const n = Math.min(s.evalCount, ctx.config.run.evalSize);
  const prompts = new Uint32Array(n);
  for (let i = 0; i < n; i++) prompts[i] = s.count + i;
  return makeEvent('EvalRequested', { step, policyVersion, prompts }, { run: ctx.run, id: eventId('EvalRequested', step), cause });
}

/** The stage in force (the sampler picked this step's prompts under the same one), or null. */
function currentStage(s: LearnerState): Stage | null {
  if (!s.stage) return null;
  const d = s.difficulty ? Float64Array.from(s.difficulty) : new Float64Array(s.count).fill(0.5);
  return s.stages[effectiveStage(s.stage, s.stages, d).stage] ?? null;
}

function rolloutRequest(s: LearnerState, ev: EventOf<'BatchSelected'>, ctx: DecideContext): DareEvent {
  const cfg = ctx.config;
  const stage = currentStage(s);
  const b = ev.data;
  const hints = Uint16Array.from(b.hints);
  const hintSources: string[] = [];
  for (let i = 0; i < b.prompts.length; i++) {
    let src = '';
    if (hints[i] > 0) {
      // a hint is built from a correct buffered response of the same prompt; none: plain rollouts only
      const groups = s.buffer.buffer.groups.filter((g) => g.promptIndex === b.prompts[i]);
      const prng = new Prng({ seed: cfg.run.seed, step: b.step, purpose: 'hint' }).fork(String(b.prompts[i]));
      for (let k = groups.length - 1; k >= 0 && !src; k--) {
        const row = chooseHintSource(groups[k].rewards, prng);
        if (row >= 0) src = `${groups[k].groupId}#${row}`;
      }
      if (!src) hints[i] = 0;
    }
    hintSources.push(src);
  }
  return makeEvent(
    'RolloutRequested',
    {
      step: b.step, purpose: 'train', prompts: b.prompts, rollouts: b.rollouts, hints, hintSources,
      temperature: cfg.task.temperature, maxTokens: stage?.maxResponseTokens ?? cfg.task.maxResponseTokens, seed: rolloutSeed(cfg.run.seed, b.step, 'rollout'),
      ...versionOf(s),
    },
    { run: ctx.run, id: eventId('RolloutRequested', b.step), cause: ev.id },
  );
}

/** The update batch of the step: fresh groups (batch order) then replayed ones, every row's numbers. */
export function updateRequest(s: LearnerState, ctx: DecideContext, cause: string): DareEvent {
  const cfg = ctx.config;
  const stage = currentStage(s);
  const cur = s.current!;
  const fresh: Array<RolloutGroup & { truncated?: Uint8Array }> = [];
  const freshTier: number[] = [];
  const kept = keptGroups(s, cfg);
  // each prompt's first position in the batch (indexOf per kept group was O(B²) per step)
  const posInBatch = new Map<number, number>();
  cur.batch.prompts.forEach((q, i) => {
    if (!posInBatch.has(q)) posInBatch.set(q, i);
  });
  for (const q of kept) {
    const g = cur.fresh.get(q)!;
    const i = posInBatch.get(q) ?? -1;
    fresh.push(g);
    freshTier.push(i >= 0 ? cur.batch.tier[i] : TIER_CODES.none);
  }
  const pool = prunedForStep(s.buffer, cur.step);
  const mix = replayMix({
    seed: cfg.run.seed, step: cur.step, epoch: cur.epoch, batchSize: cfg.run.batchSize, sigma: cfg.learner.sigma,
    candidates: pool.groups.map((g) => ({ groupId: g.groupId, step: g.step, realizedSuccess: g.realizedSuccess })),
    ...(cfg.learner.replayPriority === 'mixed' ? { priorityRange: MIXED_GROUPS } : {}),
  });
  const byId = new Map<string, BufferEntry>(pool.groups.map((g) => [g.groupId, g]));
  const replay = mix.chosen.map((id) => byId.get(id)!);
  const groups = [...fresh, ...replay];
  const tierOf = (g: RolloutGroup, gi: number): number => {
    if (gi < fresh.length) return freshTier[gi];
    const d = s.difficulty?.[g.promptIndex];
    return d === undefined || Number.isNaN(d) ? TIER_CODES.medium : classifyTier(d, cfg.sampler.dEasy, cfg.sampler.dHard);
  };
  let rows = 0;
  for (const g of groups) rows += g.rewards.length;
  const rowGroup = new Uint32Array(rows);
  const rowIndex = new Uint16Array(rows);
  const raw = new Float64Array(rows);
  const length = new Uint32Array(rows);
  const groupSuccess = new Float64Array(rows);
  const tier = new Uint8Array(rows);
  const mixed = new Uint8Array(rows);
  const bin = new Int32Array(rows).fill(-1);
  let r = 0;
  groups.forEach((g, gi) => {
    let ok = 0;
    for (const x of g.rewards) if (x > 0) ok++;
    const t = tierOf(g, gi);
    for (let k = 0; k < g.rewards.length; k++, r++) {
      rowGroup[r] = gi;
      rowIndex[r] = k;
      raw[r] = g.rewards[k];
      length[r] = g.lengths[k];
      groupSuccess[r] = g.realizedSuccess;
      mixed[r] = ok > 0 && ok < g.rewards.length ? 1 : 0;
      tier[r] = t === TIER_CODES.none ? TIER_CODES.medium : t;
      if (s.daroOn) bin[r] = daroBin(ok, g.rewards.length, DARO_K);
    }
  });
  const lMax = cfg.task.maxResponseTokens;
  const shaped = shapeRewards(
    { reward: raw, length, groupSuccess, tier, mixed },
    shapingParams({
      mode: cfg.learner.shaping, dEasy: cfg.sampler.dEasy, dHard: cfg.sampler.dHard, lambdaEasy: cfg.learner.lambdaEasy, lambdaHard: cfg.learner.lambdaHard,
      groups: cfg.learner.shapingGroups,
    }),
    lMax,
  ).shaped;
  if (cfg.learner.overlongCache > 0) {
    const pen = overlongPenalties(length, { maxLength: lMax, cacheLength: Math.min(cfg.learner.overlongCache, lMax) });
    for (let i = 0; i < rows; i++) shaped[i] += pen[i];
  }
  const advantage = groupAdvantages(shaped, rowGroup, cfg.learner.advantage);
  const bounds = clipBounds(clipConfig(cfg), rows, tier);
  const weight = s.daroOn && s.daro ? daroRowWeights(s.daro, bin, length) : new Float64Array(rows).fill(1);
  return makeEvent(
    'UpdateRequested',
    {
      step: cur.step,
      policyVersion: s.lastUpdate?.policyVersion ?? 0,
      key: mix.key,
      groups: groups.map((g) => g.groupId),
      freshGroups: fresh.length,
      rowGroup, rowIndex,
      rawReward: Float32Array.from(raw),
      shapedReward: Float32Array.from(shaped),
      advantage: Float32Array.from(advantage),
      clipLo: Float32Array.from(bounds.lo),
      clipHi: Float32Array.from(bounds.hi),
      weight: Float32Array.from(weight),
      bin,
      aggregation: cfg.learner.aggregation,
      lConst: cfg.learner.lConst || lMax,
      entropyCoeff: stage ? stage.entropyCoeff : cfg.learner.entropyCoeff,
      klCoeff: cfg.learner.klCoeff,
      maskTruncated: stage?.maskTruncated ?? false,
    },
    { run: ctx.run, id: eventId('UpdateRequested', cur.step), cause },
  );
}

/** Groups of the step's fresh rollouts that go into the update, in request order (at most B when filtering). */
/** The step's fresh groups, scored (prompt, correct rollouts, rollouts), in request order. */
function scoredGroups(cur: StepInFlight) {
  const groups = cur.requested.map((q) => cur.fresh.get(q)!);
  return {
    group: Uint32Array.from(cur.requested),
    successes: Uint32Array.from(groups, (g) => g.rewards.reduce((k, r) => k + (r > 0 ? 1 : 0), 0)),
    sizes: Uint32Array.from(groups, (g) => g.rewards.length),
  };
}

function keptGroups(s: LearnerState, cfg: RunConfig): number[] {
  const cur = s.current!;
  if (!FILTERING.has(cfg.sampler.method)) return cur.requested.filter((q) => cur.fresh.has(q));
  const scored = scoredGroups(cur);
  const method = cfg.sampler.method;
  const keep = method === 'online-filter'
    ? bandKeepMask(scored, { dLow: 1 - cfg.sampler.filterHigh, dHigh: 1 - cfg.sampler.filterLow })
    : method === 'vcrl'
      ? vcrlFilter(scored, vcrlKappa(cur.step)).keep
      : dapoKeepMask(scored);
  const out: number[] = [];
  for (let i = 0; i < keep.length && out.length < cfg.run.batchSize; i++) if (keep[i]) out.push(cur.requested[i]);
  return out;
}

/**
 * Dynamic sampling (DAPO, online filtering): fewer than B groups kept and rounds left ⇒ roll out more
 * prompts, drawn uniformly without replacement from those not yet rolled out this step (PRNG key
 * (seed, step, "refill/<round>")); as many as the kept fraction so far says are needed, within [B−kept, 3B].
 */
function refillRequest(s: LearnerState, ctx: DecideContext, cause: string): DareEvent | null {
  const cfg = ctx.config;
  const cur = s.current!;
  if (!FILTERING.has(cfg.sampler.method)) return null;
  const kept = keptGroups(s, cfg).length;
  const B = cfg.run.batchSize;
  if (kept >= B || cur.rounds + 1 >= cfg.sampler.maxGenBatches) return null;
  const used = new Set(cur.requested);
  const logits = new Float64Array(s.count);
  for (const q of used) logits[q] = -Infinity;
  const free = s.count - used.size;
  const want = Math.ceil((B - kept) * cur.requested.length / Math.max(1, kept));
  const m = Math.min(free, Math.max(B - kept, Math.min(3 * B, want)));
  if (m <= 0) return null;
  const round = cur.rounds + 1;
  const key = { seed: cfg.run.seed, step: cur.step, purpose: `refill/${round}` };
  // VCRL re-rolls the highest-priority banked prompts first (≤ 2 replays each), then draws uniformly
  const banked = s.vcrlBank ? Array.from(refillFromMemoryBank(s.vcrlBank, m, used).prompts) : [];
  for (const q of banked) logits[q] = -Infinity;
  const prompts = Uint32Array.from([...banked, ...gumbelTopK(logits, m - banked.length, key).indices.slice(0, m - banked.length)]);
  return makeEvent(
    'RolloutRequested',
    {
      step: cur.step, purpose: 'refill', prompts, rollouts: new Uint16Array(m).fill(cfg.sampler.gMedium), hints: new Uint16Array(m),
      hintSources: new Array(m).fill(''), temperature: cfg.task.temperature, maxTokens: cfg.task.maxResponseTokens,
      seed: rolloutSeed(cfg.run.seed, cur.step, `refill/${round}`),
      ...versionOf(s),
    },
    { run: ctx.run, id: eventId('RolloutRequested', cur.step, `refill${round}`), cause },
  );
}

function checkpointRequest(policyVersion: number, ctx: DecideContext, cause: string): DareEvent {
  return makeEvent('CheckpointRequested', { policyVersion, path: `checkpoints/v${policyVersion}.ckpt` }, { run: ctx.run, id: eventId('CheckpointRequested', policyVersion), cause });
}

function decide(s: LearnerState, e: Logged, ctx: DecideContext): DareEvent[] {
  const l = s.lifecycle;
  const cfg = withSteps(ctx.config, l.steps);
  const stop = l.stopRequested;
  const ev = e.event;
  switch (ev.type) {
    case 'PromptsRegistered':
      return [evalRequest(0, 0, s, ctx, ev.id)];
    case 'BatchSelected':
      return [rolloutRequest(s, ev, ctx)];
    case 'RolloutCompleted': {
      const cur = s.current;
      if (!cur || ev.data.step !== cur.step || ev.data.purpose === 'reference') return [];
      // every prompt requested for the step is in (exactly once: only the completing event triggers this):
      // more prompts when dynamic sampling kept too few, else the update
      if (cur.fresh.size !== cur.requested.length || !cur.fresh.has(ev.data.promptIndex)) return [];
      const refill = refillRequest(s, ctx, ev.id);
      if (refill) return [refill];
      return !cfg.run.offPolicySteps || previousUpdated(s, cur.step) ? [updateRequest(s, ctx, ev.id)] : [];
    }
    case 'UpdateCompleted': {
      const { step, policyVersion } = ev.data;
      const cur = s.current;
      if (cur && cur.step > step) {
        // pipelined mode: the next step is in flight (nothing was due at this boundary, see session.startsEarly);
        // its update waited for this one when its rollouts were in first
        const ready = cur.step === step + 1 && cur.fresh.size === cur.requested.length && cur.completedBy !== undefined;
        const out = ready && !refillRequest(s, ctx, cur.completedBy!) ? [updateRequest(s, ctx, cur.completedBy!)] : [];
        // an evaluation due after this update runs beside the next step, at this update's version
        if (evalDue(step, cfg)) out.push(evalRequest(step, policyVersion, s, ctx, ev.id));
        return out;
      }
      if (checkpointDue(policyVersion, step, cfg) || stop) return [checkpointRequest(policyVersion, ctx, ev.id)];
      return evalDue(step, cfg) || stop ? [evalRequest(step, policyVersion, s, ctx, ev.id)] : [];
    }
    case 'CheckpointSaved': {
      const last = s.lastUpdate;
      if (!last || ev.data.policyVersion !== last.policyVersion || l.evalRequested >= last.step) return [];
      return evalDue(last.step, cfg) || stop ? [evalRequest(last.step, last.policyVersion, s, ctx, ev.id)] : [];
    }
    case 'ControlApplied': {
      // the stop arrived after the last update: what that update did not request yet, it requests now (a
      // stop during a step is served by the step's own UpdateCompleted and CheckpointSaved above)
      const last = s.lastUpdate;
      if (l.stopSeq !== e.seq || s.current || !last) return [];
      if (l.checkpointRequested < last.policyVersion) return [checkpointRequest(last.policyVersion, ctx, ev.id)];
      if (l.checkpointSaved >= last.policyVersion && l.evalRequested < last.step) return [evalRequest(last.step, last.policyVersion, s, ctx, ev.id)];
      return [];
    }
    default:
      return [];
  }
}

export const learnerActor: ActorDef<LearnerState, LearnerPhase> = {
  name: 'learner',
  description: 'the update batch: fresh + σ-replay groups, reward shaping, advantages, clip bounds, DARO weights; checkpoint and eval cadence',
  phases: ['idle', 'rollingOut', 'updating', 'checkpointing', 'evaluating'],
  initialPhase: 'idle',
  edges: {
    idle: { RolloutRequested: 'rollingOut', EvalRequested: 'evaluating' },
    rollingOut: { UpdateRequested: 'updating' },
    updating: { CheckpointRequested: 'checkpointing', EvalRequested: 'evaluating', UpdateCompleted: 'idle' },
    checkpointing: { EvalRequested: 'evaluating', CheckpointSaved: 'idle' },
    evaluating: { EvalCompleted: 'idle' },
  },
  initialState,
  evolve,
  decide,
  // 2: lifecycle (2026-12-07)
  snapshotVersion: 2,
  summary: (s) => ({
    step: s.current?.step ?? s.lastUpdate?.step ?? 0,
    policyVersion: s.lastUpdate?.policyVersion ?? 0,
    rolloutsIn: s.current ? `${s.current.fresh.size}/${s.current.requested.length}` : null,
    refillRounds: s.current?.rounds ?? 0,
    bufferGroups: s.buffer.buffer.groups.length,
    daroWeights: s.daro ? Array.from(s.daro.s, (x) => Number(Math.exp(x).toFixed(3))) : null,
  }),
  snapshot: (s) => ({
    ...s,
    buffer: { buffer: bufferToJSON(s.buffer.buffer), pending: s.buffer.pending.toArray() },
    current: s.current ? { ...s.current, fresh: [...s.current.fresh.entries()] } : null,
  }),
  restore: (snap) => {
    const x = snap as LearnerState & { buffer: { buffer: BufferJSON; pending: BufferFold['pending'] }; current: (StepInFlight & { fresh: unknown }) | null };
    return {
      ...x,
      buffer: { buffer: bufferFromJSON(x.buffer.buffer), pending: GrowOnlyList.from(x.buffer.pending as unknown as RolloutGroup[]), lastEvictions: [] },
      current: x.current ? { ...x.current, fresh: GrowOnlyMap.from(x.current.fresh as unknown as Array<[number, RolloutGroup & { truncated: Uint8Array }]>) } : null,
    };
  },
};
