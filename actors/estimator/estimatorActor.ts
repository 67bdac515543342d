/**
 * The estimator actor: per-prompt difficulty d_q (failure rate) with its source and ESS.
 * At each estimation round (EpochStarted, or StepStarted with per-step cadence) the configured method's
 * strategy (strategies/, one file per estimator.method, see strategy.ts) either asks the workers for what it
 * needs — current-policy log-probs of the buffered rows (SNIS), judge replies or prefix entropies — and
 * estimates when they arrive, or estimates at once (cold start, Previous-FR, MoPPS posteriors). With the
 * TF-IDF cold start a round first measures a reference set (round.ts).
 */
import type { DareEvent, Logged } from '../../events/catalogue.ts';
import type { RunConfig } from '../../events/config.ts';
import type { ActorDef, DecideContext } from '../actor.ts';
import { foldBuffer, initBufferFold } from '../shared/bufferFold.ts';
import { bufferFromJSON, bufferToJSON, type BufferJSON, type RolloutGroup } from '../shared/replayBuffer.ts';
import { GrowOnlyList } from '../shared/growOnly.ts';
import { labelSourceName } from '../shared/labels.ts';
import type { GroupCounts } from '../shared/mopps.ts';
import { embeddingRequest, needsEmbeddings, openRound } from './round.ts';
import { embeddingBlobKey } from '../../events/embeddingBlob.ts';
import { ESTIMATOR_STRATEGIES } from './strategies/index.ts';
import { constant } from './strategies/constant.ts';
import type { EstimatorMethod, EstimatorState, EstimatorStrategy } from './strategy.ts';

export type { EstimatorState } from './strategy.ts';
export { JUDGE_SYSTEM } from './signal.ts';

/** Estimators this actor carries out: every method with a strategy. */
export const WIRED_ESTIMATORS: ReadonlySet<string> = new Set(Object.keys(ESTIMATOR_STRATEGIES));

type EstimatorPhase = 'idle' | 'scoring';

/** The method's strategy; one without (oracle, which the runner refuses) estimates like the constant cold start, as it always did. */
function strategyOf(method: EstimatorMethod): EstimatorStrategy {
  return ESTIMATOR_STRATEGIES[method] ?? (constant as EstimatorStrategy);
}

function initialState(cfg: RunConfig): EstimatorState {
  const method = cfg.estimator.method;
  return { method, numPrompts: 0, buffer: initBufferFold(cfg), fresh: null, round: null, last: null, own: strategyOf(method).init(cfg) };
}

/**
 * The state with its fresh groups handed to the method: a step's RolloutCompleted events only collect them (a
 * copy of MoPPS's posteriors per event made the fold O(prompts) per event); decide and snapshot see this.
 */
function settle(s: EstimatorState): EstimatorState {
  if (!s.fresh) return s;
  const st = strategyOf(s.method);
  return { ...s, own: s.fresh.size && st.settle ? st.settle(s.own, s.fresh.toArray()) : s.own, fresh: null };
}

/** The common part of the fold: prompt set, buffer, the round in progress (with its reference set), the last estimate. */
function evolveCommon(s: EstimatorState, st: EstimatorStrategy, e: Logged): EstimatorState {
  const ev = e.event;
  let next: EstimatorState = s;
  const buffer = foldBuffer(s.buffer, e);
  if (buffer !== s.buffer) next = { ...next, buffer };
  switch (ev.type) {
    case 'PromptsRegistered':
      return { ...next, numPrompts: ev.data.count };
    case 'EpochStarted':
      return { ...next, round: { step: ev.data.firstStep, epoch: ev.data.epoch, scoreRequest: null, refPrompts: null, refDone: [] } };
    case 'StepStarted':
      return {
        ...next,
        round: { step: ev.data.step, epoch: ev.data.epoch, scoreRequest: null, refPrompts: null, refDone: [], ...(ev.data.policyVersion === undefined ? {} : { policyVersion: ev.data.policyVersion }) },
      };
    case 'ScoreRequested':
      return next.round ? { ...next, round: { ...next.round, scoreRequest: ev.id } } : next;
    case 'SignalCompleted':
      if (ev.data.kind === 'embedding') return { ...next, embeddings: { blob: embeddingBlobKey(ev.data.step), model: ev.data.texts[0] ?? '' } };
      return next;
    case 'DifficultyEstimated':
      return { ...next, round: null, last: { step: ev.data.step, difficulty: ev.data.difficulty, source: ev.data.source } };
    case 'RolloutRequested':
      if (ev.data.purpose === 'reference' && next.round && ev.data.step === next.round.step) {
        return { ...next, round: { ...next.round, refPrompts: Array.from(ev.data.prompts) } };
      }
      return next;
    case 'RolloutCompleted':
      if (ev.data.purpose === 'reference' && next.round && ev.data.step === next.round.step) {
        let fail = 0;
        for (const r of ev.data.reward) if (!(r > 0)) fail++;
        const d = ev.data.reward.length ? fail / ev.data.reward.length : 0.5;
        return { ...next, round: { ...next.round, refDone: [...next.round.refDone, [ev.data.promptIndex, d]] } };
      }
      if (st.fresh && ev.data.purpose !== 'reference') {
        // folded into the method's state at the next other event
        let ok = 0;
        for (const r of ev.data.reward) if (r > 0) ok++;
        return { ...next, fresh: (s.fresh ?? GrowOnlyList.empty<GroupCounts>()).push({ q: ev.data.promptIndex, ok, n: ev.data.reward.length }) };
      }
      return next;
    default:
      return next;
  }
}

function evolve(s0: EstimatorState, e: Logged): EstimatorState {
  const st = strategyOf(s0.method);
  const s = evolveCommon(s0.fresh && e.event.type !== 'RolloutCompleted' ? settle(s0) : s0, st, e);
  const own = st.evolve ? st.evolve(s.own, e, s) : s.own;
  return own === s.own ? s : { ...s, own };
}

/** Whether this event opens an estimation round for the configured cadence. */
function opensRound(ev: DareEvent, cfg: RunConfig): boolean {
  return cfg.run.estimation === 'epoch' ? ev.type === 'EpochStarted' : ev.type === 'StepStarted';
}

function decide(s: EstimatorState, e: Logged, ctx: DecideContext): DareEvent[] {
  const ev = e.event;
  const st = strategyOf(s.method);
  if (opensRound(ev, ctx.config) && s.round) {
    // the embedding cold start embeds the prompts once, before its first round goes on
    if (needsEmbeddings(s, ctx.config)) return [embeddingRequest(s, ctx, ev.id)];
    return st.open ? st.open(s, ctx, ev.id) : openRound(st, s, ctx, ev.id);
  }
  if (ev.type === 'SignalCompleted' && ev.data.kind === 'embedding' && s.round && ev.data.step === s.round.step) {
    return st.open ? st.open(s, ctx, ev.id) : openRound(st, s, ctx, ev.id);
  }
  if (ev.type === 'RolloutCompleted' && ev.data.purpose === 'reference' && s.round?.refPrompts && ev.data.step === s.round.step) {
    // the last reference group is in (exactly once: only that event sees the set complete)
    if (s.round.refDone.length !== s.round.refPrompts.length || s.round.refDone[s.round.refDone.length - 1][0] !== ev.data.promptIndex) return [];
    // (settled already unless training groups came in since the last other event)
    return st.estimate(settle(s), ctx, ev.id);
  }
  return st.complete ? st.complete(s, e, ctx) : [];
}

export const estimatorActor: ActorDef<EstimatorState, EstimatorPhase> = {
  name: 'estimator',
  description: 'per-prompt difficulty (failure rate): SNIS over the replay buffer with ESS fallback, cold start, Previous-FR, MoPPS, TF-IDF, LLM-judge, entropy',
  phases: ['idle', 'scoring'],
  initialPhase: 'idle',
  edges: { idle: { ScoreRequested: 'scoring' }, scoring: { DifficultyEstimated: 'idle' } },
  initialState,
  evolve,
  decide,
  summary: (s) => {
    const counts: Record<string, number> = {};
    if (s.last) for (const c of s.last.source) counts[c] = (counts[c] ?? 0) + 1;
    return {
      prompts: s.numPrompts,
      bufferGroups: s.buffer.buffer.groups.length,
      round: s.round ? `step ${s.round.step}${s.round.scoreRequest ? ' (scoring)' : ''}` : null,
      lastEstimateStep: s.last?.step ?? null,
      sources: Object.fromEntries(Object.entries(counts).map(([k, v]) => [labelSourceName(Number(k)), v])),
    };
  },
  snapshot: (s0) => {
    const s = settle(s0);
    return { ...s, buffer: { buffer: bufferToJSON(s.buffer.buffer), pending: s.buffer.pending.toArray() } };
  },
  restore: (snap) => {
    const x = snap as EstimatorState & { buffer: { buffer: BufferJSON; pending: RolloutGroup[] } };
    // a snapshot is settled
    return { ...x, fresh: null, buffer: { buffer: bufferFromJSON(x.buffer.buffer), pending: GrowOnlyList.from(x.buffer.pending), lastEvictions: [] } };
  },
  // 2: the method's state in `own` (version 1 held MoPPS's posteriors and the settings beside the rest)
  snapshotVersion: 2,
};

