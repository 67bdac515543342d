/**
 * The estimator actor: per-prompt difficulty d_q (failure rate) with its source and ESS.
 * At each estimation round (EpochStarted, or StepStarted with per-step cadence) it either asks the workers
 * for current-policy log-probs of the buffered rows (ScoreRequested, SNIS) and estimates when they arrive
 * (ScoreCompleted), or estimates at once (cold start, Previous-FR, MoPPS posteriors).
 */
import { eventId, makeEvent, type DareEvent, type EventOf, type Logged } from '../../events/catalogue.ts';
import type { RunConfig } from '../../events/config.ts';
import type { ActorDef, DecideContext } from '../actor.ts';
import { foldBuffer, initBufferFold, type BufferFold } from '../shared/bufferFold.ts';
import { bufferFromJSON, bufferToJSON, rowsForEstimation, type BufferJSON, type RolloutGroup } from '../shared/replayBuffer.ts';
import { GrowOnlyList } from '../shared/growOnly.ts';
import { constantColdStart, tfidfColdStart } from './coldStart.ts';
import { gumbelTopK } from '../shared/gumbelTopK.ts';
import { seedOf } from '../../events/prng.ts';
import { assembleLabels, labelSourceName, LabelSource, NO_LABEL, type LabelLayer } from '../shared/labels.ts';
import { judgeLabels } from './judge.ts';
import { createPosteriors, thompsonSample, withGroups, type BetaPosteriors, type GroupCounts } from '../shared/mopps.ts';
import { pooledRawEstimate, snisEstimate } from './snis.ts';

/** Estimators this actor carries out (judge, entropy and the TF-IDF cold start need worker jobs not wired yet). */
export const WIRED_ESTIMATORS: ReadonlySet<string> = new Set(['snis', 'previous-fr', 'mopps', 'constant', 'tfidf', 'judge', 'entropy']);

/** LLM-judge (methods §12): the instruction sent before every question; the reply's first number in [0, 1] is read. */
export const JUDGE_SYSTEM = 'Estimate the probability (a number between 0 and 1) that you can solve the following problem correctly. Reply with the number only.';

export interface EstimatorState {
  /** the settings the fold itself needs (decide reads the rest from the run configuration) */
  settings: { method: RunConfig['estimator']['method']; moppsDecay: number; moppsPrior: number };
  numPrompts: number;
  buffer: BufferFold;
  /** MoPPS / Bayesian posteriors (only for method mopps) */
  posteriors: BetaPosteriors | null;
  /** fresh groups not yet in `posteriors`: folded in, in order, at the next other event (see `settle`) */
  fresh: GrowOnlyList<GroupCounts> | null;
  /** the round in progress: the step it serves, and the ScoreRequested id (SNIS) */
  round: {
    step: number;
    epoch: number;
    scoreRequest: string | null;
    /** TF-IDF cold start: the reference prompts rolled out this round, and their measured failure rates */
    refPrompts: number[] | null;
    refDone: Array<[number, number]>;
  } | null;
  /** last estimate (for inspect / drift) */
  last: { step: number; difficulty: Float32Array; source: Uint8Array } | null;
}

type EstimatorPhase = 'idle' | 'scoring';

function initialState(cfg: RunConfig): EstimatorState {
  const { method, moppsDecay, moppsPrior } = cfg.estimator;
  return { settings: { method, moppsDecay, moppsPrior }, numPrompts: 0, buffer: initBufferFold(cfg), posteriors: null, fresh: null, round: null, last: null };
}

/**
 * The state with its fresh groups in the posteriors: a step's RolloutCompleted events only collect them (a
 * copy of the posteriors per event made the fold O(prompts) per event); decide and snapshot see this.
 */
function settle(s: EstimatorState): EstimatorState {
  if (!s.fresh) return s;
  return { ...s, posteriors: s.posteriors && s.fresh.size ? withGroups(s.posteriors, s.fresh.toArray(), s.settings.moppsDecay) : s.posteriors, fresh: null };
}

function evolve(s0: EstimatorState, e: Logged): EstimatorState {
  const ev = e.event;
  const s = s0.fresh && ev.type !== 'RolloutCompleted' ? settle(s0) : s0;
  let next: EstimatorState = s;
  const buffer = foldBuffer(s.buffer, e);
  if (buffer !== s.buffer) next = { ...next, buffer };
  switch (ev.type) {
    case 'PromptsRegistered': {
      const { method, moppsPrior } = s.settings;
      const posteriors = method === 'mopps' ? createPosteriors(ev.data.count, moppsPrior, moppsPrior) : null;
      return { ...next, numPrompts: ev.data.count, posteriors };
    }
    case 'EpochStarted':
      return { ...next, round: { step: ev.data.firstStep, epoch: ev.data.epoch, scoreRequest: null, refPrompts: null, refDone: [] } };
    case 'StepStarted':
      return { ...next, round: { step: ev.data.step, epoch: ev.data.epoch, scoreRequest: null, refPrompts: null, refDone: [] } };
    case 'ScoreRequested':
      return next.round ? { ...next, round: { ...next.round, scoreRequest: ev.id } } : next;
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
      if (s.posteriors && ev.data.purpose !== 'reference') {
        // the posteriors take every fresh group (methods §4), folded in at the next other event
        let ok = 0;
        for (const r of ev.data.reward) if (r > 0) ok++;
        return { ...next, fresh: (s.fresh ?? GrowOnlyList.empty<GroupCounts>()).push({ q: ev.data.promptIndex, ok, n: ev.data.reward.length }) };
      }
      return next;
    default:
      return next;
  }
}

/** Whether this event opens an estimation round for the configured cadence. */
function opensRound(ev: DareEvent, cfg: RunConfig): boolean {
  return cfg.run.estimation === 'epoch' ? ev.type === 'EpochStarted' : ev.type === 'StepStarted';
}

function usesTfidf(cfg: RunConfig): boolean {
  return cfg.estimator.method === 'tfidf' || cfg.estimator.coldStart === 'tfidf';
}

/**
 * The cold-start layer of this round: a constant, or the hashed TF-IDF kernel over the round's measured
 * reference set with OLS recalibration (dare-reference §3 option 2; labels may leave [0, 1], as REF's).
 */
function coldStart(s: EstimatorState, ctx: DecideContext): LabelLayer {
  const cfg = ctx.config;
  if (!usesTfidf(cfg) || !s.round?.refDone.length) return constantColdStart(s.numPrompts, cfg.estimator.coldStartDifficulty);
  const texts = Array.from({ length: s.numPrompts }, (_, q) => ctx.prompt(q)?.question ?? String(q));
  const ref = [...s.round.refDone].sort((a, b) => a[0] - b[0]);
  return tfidfColdStart(texts, { prompt: Uint32Array.from(ref, ([q]) => q), difficulty: Float64Array.from(ref, ([, d]) => d) });
}

/** The measured reference labels of this round (they outrank everything but for DOTS's own predictions). */
function referenceLabels(s: EstimatorState): { prompt: Uint32Array; difficulty: Float64Array } | undefined {
  const ref = s.round?.refDone;
  if (!ref?.length) return undefined;
  return { prompt: Uint32Array.from(ref, ([q]) => q), difficulty: Float64Array.from(ref, ([, d]) => d) };
}

/** A reference set for the TF-IDF cold start: `referenceSize` prompts drawn uniformly without replacement. */
function referenceRequest(s: EstimatorState, ctx: DecideContext, cause: string): DareEvent {
  const cfg = ctx.config;
  const round = s.round!;
  const m = Math.min(cfg.estimator.referenceSize, s.numPrompts);
  const prompts = Uint32Array.from(gumbelTopK(new Float64Array(s.numPrompts), m, { seed: cfg.run.seed, step: round.step, purpose: 'reference' }).indices).sort();
  return makeEvent(
    'RolloutRequested',
    {
      step: round.step, purpose: 'reference', prompts, rollouts: new Uint16Array(m).fill(cfg.sampler.gMedium), hints: new Uint16Array(m),
      hintSources: new Array(m).fill(''), temperature: cfg.task.temperature, maxTokens: cfg.task.maxResponseTokens,
      seed: seedOf({ seed: cfg.run.seed, step: round.step, purpose: 'reference-rollout' }),
    },
    { run: ctx.run, id: eventId('RolloutRequested', round.step, 'reference'), cause },
  );
}

function estimated(
  s: EstimatorState,
  ctx: DecideContext,
  cause: string,
  labels: { difficulty: Float64Array; source: Uint8Array; ess?: Float64Array },
  diagnostics: Record<string, number>,
  key: EventOf<'DifficultyEstimated'>['data']['key'],
): DareEvent {
  const round = s.round!;
  const ess = new Float32Array(s.numPrompts);
  if (labels.ess) ess.set(labels.ess);
  const clean: Record<string, number> = {};
  for (const [k, v] of Object.entries(diagnostics)) if (Number.isFinite(v)) clean[k] = v;
  return makeEvent(
    'DifficultyEstimated',
    {
      epoch: round.epoch,
      step: round.step,
      method: ctx.config.estimator.method,
      difficulty: Float32Array.from(labels.difficulty),
      source: labels.source,
      ess,
      key,
      diagnostics: clean,
    },
    { run: ctx.run, id: eventId('DifficultyEstimated', round.step), cause },
  );
}

/** The round's estimate once its inputs are in (reference set measured, when the cold start needs one). */
function estimateRound(s: EstimatorState, ctx: DecideContext, cause: string): DareEvent[] {
  const cfg = ctx.config;
  const method = cfg.estimator.method;
  const rows = rowsForEstimation(s.buffer.buffer);
  if (method === 'snis' && rows.promptIndex.length > 0) {
    const groups = s.buffer.buffer.groups.map((g) => g.groupId);
    return [
      makeEvent(
        'ScoreRequested',
        { epoch: s.round!.epoch, step: s.round!.step, groups, rows: rows.promptIndex.length },
        { run: ctx.run, id: eventId('ScoreRequested', s.round!.step), cause },
      ),
    ];
  }
  const cold = coldStart(s, ctx);
  const ref = method === 'tfidf' ? undefined : referenceLabels(s);
  if ((method === 'snis' || method === 'previous-fr') && rows.promptIndex.length > 0) {
    const raw = pooledRawEstimate({ prompt: rows.promptIndex, reward: rows.reward }, s.numPrompts);
    const a = assembleLabels(s.numPrompts, cold, { difficulty: raw.difficulty, source: raw.source }, ref);
    return [estimated(s, ctx, cause, a, { rows: rows.promptIndex.length }, null)];
  }
  if (method === 'mopps' && s.posteriors) {
    const key = { seed: cfg.run.seed, step: s.round!.step, purpose: 'estimate' };
    // (settled already unless a RolloutCompleted triggered this estimate)
    const post = settle(s).posteriors!;
    const t = thompsonSample(post, ctx.prng(key.step, key.purpose));
    const a = assembleLabels(s.numPrompts, cold, { difficulty: t.difficulty, source: t.source });
    return [estimated(s, ctx, cause, a, { covered: countSeen(post) }, key)];
  }
  // constant or TF-IDF cold start for every prompt (DOTS: the reference prompts keep their predicted value)
  return [estimated(s, ctx, cause, ref ? assembleLabels(s.numPrompts, cold, undefined, ref) : cold, { reference: s.round?.refDone.length ?? 0 }, null)];
}

/** LLM-judge / EDCO: ask the policy for its per-prompt signal over the whole dataset. */
function signalRequest(s: EstimatorState, ctx: DecideContext, cause: string): DareEvent {
  const cfg = ctx.config;
  const round = s.round!;
  const judge = cfg.estimator.method === 'judge';
  const prompts = new Uint32Array(s.numPrompts);
  for (let q = 0; q < s.numPrompts; q++) prompts[q] = q;
  return makeEvent(
    'SignalRequested',
    {
      epoch: round.epoch, step: round.step, kind: judge ? 'judge' : 'entropy', prompts,
      // methods §12: judge T = 0.3, ≤ 32 tokens; entropy prefix T = 0.6, ≤ 64 tokens
      system: judge ? JUDGE_SYSTEM : '', temperature: judge ? 0.3 : 0.6, maxTokens: Math.min(judge ? 32 : 64, cfg.task.maxResponseTokens),
      seed: seedOf({ seed: cfg.run.seed, step: round.step, purpose: judge ? 'judge' : 'entropy' }),
    },
    { run: ctx.run, id: eventId('SignalRequested', round.step, judge ? 'judge' : 'entropy'), cause },
  );
}

function decide(s: EstimatorState, e: Logged, ctx: DecideContext): DareEvent[] {
  const cfg = ctx.config;
  const ev = e.event;
  if (opensRound(ev, cfg) && s.round && (cfg.estimator.method === 'judge' || cfg.estimator.method === 'entropy') && s.numPrompts > 0) {
    return [signalRequest(s, ctx, ev.id)];
  }
  if (ev.type === 'SignalCompleted' && s.round && ev.data.step === s.round.step) {
    if (ev.data.kind === 'judge') {
      const texts = new Array<string>(s.numPrompts).fill('');
      ev.data.prompts.forEach((q, i) => (texts[q] = ev.data.texts[i] ?? ''));
      const j = judgeLabels(texts);
      return [estimated(s, ctx, ev.id, j, { unparsed: j.unparsed }, null)];
    }
    // EDCO: the entropy score travels as the label (source "entropy": NOT a failure rate); the sampler
    // turns it into softmax logits (sampler.method entropy)
    const score = new Float64Array(s.numPrompts);
    ev.data.prompts.forEach((q, i) => (score[q] = ev.data.values[i]));
    return [estimated(s, ctx, ev.id, { difficulty: score, source: new Uint8Array(s.numPrompts).fill(LabelSource.Entropy) }, {}, null)];
  }
  if (opensRound(ev, cfg) && s.round) {
    // the TF-IDF cold start measures a reference set first
    if (usesTfidf(cfg) && cfg.estimator.referenceSize > 0 && s.numPrompts > 0) return [referenceRequest(s, ctx, ev.id)];
    return estimateRound(s, ctx, ev.id);
  }
  if (ev.type === 'RolloutCompleted' && ev.data.purpose === 'reference' && s.round?.refPrompts && ev.data.step === s.round.step) {
    // the last reference group is in (exactly once: only that event sees the set complete)
    if (s.round.refDone.length !== s.round.refPrompts.length || s.round.refDone[s.round.refDone.length - 1][0] !== ev.data.promptIndex) return [];
    return estimateRound(s, ctx, ev.id);
  }
  if (ev.type === 'ScoreCompleted' && s.round && ev.cause === s.round.scoreRequest) {
    const rows = rowsForEstimation(s.buffer.buffer);
    const groups = s.buffer.buffer.groups;
    if (ev.data.groups.length !== groups.length || ev.data.current.length !== rows.promptIndex.length) {
      throw new Error(`estimator: ScoreCompleted ${ev.id} covers ${ev.data.current.length} rows, the buffer holds ${rows.promptIndex.length}`);
    }
    const res = snisEstimate(
      { prompt: rows.promptIndex, behaviourLogProb: rows.behaviourSum, currentLogProb: ev.data.current, reward: rows.reward },
      { numPrompts: s.numPrompts, clip: cfg.estimator.clip, essThreshold: cfg.estimator.essThreshold },
    );
    const a = assembleLabels(s.numPrompts, coldStart(s, ctx), { difficulty: res.difficulty, source: res.source }, referenceLabels(s));
    const ess = new Float64Array(s.numPrompts);
    for (let q = 0; q < s.numPrompts; q++) if (res.source[q] !== NO_LABEL) ess[q] = res.ess[q];
    return [estimated(s, ctx, ev.id, { ...a, ess }, { ...res.diagnostics } as unknown as Record<string, number>, null)];
  }
  return [];
}

function countSeen(p: BetaPosteriors): number {
  let n = 0;
  for (const x of p.seen) n += x;
  return n;
}

export const estimatorActor: ActorDef<EstimatorState, EstimatorPhase> = {
  name: 'estimator',
  description: 'per-prompt difficulty (failure rate): SNIS over the replay buffer with ESS fallback, cold start, Previous-FR, MoPPS',
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
    // a snapshot is settled (older ones have no `fresh`)
    return { ...x, fresh: null, buffer: { buffer: bufferFromJSON(x.buffer.buffer), pending: GrowOnlyList.from(x.buffer.pending), lastEvictions: [] } };
  },
};

