/**
 * What the estimators' rounds share: the cold-start layer (a constant, or the hashed TF-IDF kernel over the
 * round's measured reference set), the reference set's request and labels, and the DifficultyEstimated
 * that ends a round.
 */
import { eventId, makeEvent, type DareEvent, type EventOf } from '../../events/catalogue.ts';
import type { RunConfig } from '../../events/config.ts';
import { keyWords, seedOf, u32At } from '../../events/prng.ts';
import type { DecideContext } from '../actor.ts';
import { gumbelTopK } from '../shared/gumbelTopK.ts';
import { assembleLabels, NO_LABEL, type LabelLayer } from '../shared/labels.ts';
import { constantColdStart, embeddingColdStart, tfidfColdStart } from './coldStart.ts';
import { promptEmbeddings } from './embeddings.ts';
import { roundVersion, type EstimatorState, type EstimatorStrategy } from './strategy.ts';

/** Whether the cold start is a kernel over a reference set (TF-IDF or embeddings; DOTS's tfidf estimator is one). */
export function usesKernel(cfg: RunConfig): boolean {
  return cfg.estimator.method === 'tfidf' || cfg.estimator.coldStart !== 'constant';
}

/** Whether the round measures a reference set by rollouts (the kernel's reference is not the buffer's estimates). */
export function measuresReference(cfg: RunConfig): boolean {
  return usesKernel(cfg) && (cfg.estimator.method === 'tfidf' || cfg.estimator.coldStartReference === 'rollouts');
}

/**
 * The cold-start layer of this round: a constant, or a kernel (hashed TF-IDF, or sentence embeddings) over a
 * reference set with OLS recalibration (dare-reference §3; labels may leave [0, 1], as REF's). The reference
 * set is the round's measured one (coldStartReference rollouts), or — coldStartReference buffer — every
 * prompt `estimated` labels (the round's SNIS / raw estimates, which then predict the prompts never rolled
 * out); with no reference yet, the constant.
 */
export function coldStart(s: EstimatorState, ctx: DecideContext, estimated?: LabelLayer): LabelLayer {
  const cfg = ctx.config;
  const constant = () => constantColdStart(s.numPrompts, cfg.estimator.coldStartDifficulty);
  if (!usesKernel(cfg)) return constant();
  let ref: Array<[number, number]>;
  if (measuresReference(cfg)) {
    if (!s.round?.refDone.length) return constant();
    ref = [...s.round.refDone].sort((a, b) => a[0] - b[0]);
  } else {
    ref = [];
    if (estimated) for (let q = 0; q < s.numPrompts; q++) if (estimated.source[q] !== NO_LABEL) ref.push([q, estimated.difficulty[q]]);
    if (!ref.length) return constant();
    ref = capReference(ref, cfg.estimator.coldStartReferenceMax, cfg.run.seed);
  }
  const reference = { prompt: Uint32Array.from(ref, ([q]) => q), difficulty: Float64Array.from(ref, ([, d]) => d) };
  if (cfg.estimator.coldStart === 'embedding' && cfg.estimator.method !== 'tfidf') {
    return embeddingColdStart(promptEmbeddings(s, ctx), reference);
  }
  return tfidfColdStart(promptTexts(s, ctx), reference);
}

/**
 * At most `max` of the estimated prompts (0: all), the first by a fixed rank (a hash of the run seed and the prompt
 * id, the same at every round), in prompt order. A fixed rank keeps the set stable as estimates accrue: a prompt
 * leaves it only when a newly estimated one outranks it, so the kernel's cosines carry over between rounds.
 */
export function capReference(ref: Array<[number, number]>, max: number, seed: number): Array<[number, number]> {
  if (max <= 0 || ref.length <= max) return ref;
  const [k0, k1] = keyWords({ seed, step: 0, purpose: 'cold-reference' });
  const rank = (q: number) => u32At(k0, k1, q);
  return [...ref]
    .sort((a, b) => rank(a[0]) - rank(b[0]) || a[0] - b[0])
    .slice(0, max)
    .sort((a, b) => a[0] - b[0]);
}

/** The questions of a context's prompts, read once: the TF-IDF vectors are cached per texts array (coldStart.ts). */
const textsOf = new WeakMap<DecideContext, readonly string[]>();

function promptTexts(s: EstimatorState, ctx: DecideContext): readonly string[] {
  const hit = textsOf.get(ctx);
  if (hit?.length === s.numPrompts) return hit;
  let missing = false;
  const texts = Object.freeze(
    Array.from({ length: s.numPrompts }, (_, q) => {
      const row = ctx.prompt(q);
      if (!row) missing = true;
      return row?.question ?? String(q);
    }),
  );
  // a prompt not readable yet must not be remembered as its index
  if (!missing) textsOf.set(ctx, texts);
  return texts;
}

/** The measured reference labels of this round (they outrank everything but for DOTS's own predictions). */
export function referenceLabels(s: EstimatorState): { prompt: Uint32Array; difficulty: Float64Array } | undefined {
  const ref = s.round?.refDone;
  if (!ref?.length) return undefined;
  return { prompt: Uint32Array.from(ref, ([q]) => q), difficulty: Float64Array.from(ref, ([, d]) => d) };
}

/** A reference set for the TF-IDF cold start: `referenceSize` prompts drawn uniformly without replacement. */
export function referenceRequest(s: EstimatorState, ctx: DecideContext, cause: string): DareEvent {
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
      ...roundVersion(round),
    },
    { run: ctx.run, id: eventId('RolloutRequested', round.step, 'reference'), cause },
  );
}

/** The DifficultyEstimated that ends the round (non-finite diagnostics left out). */
export function estimated(
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

/**
 * The cold start for every prompt, the round's measured reference prompts keeping their value (DOTS's own
 * predictions leave them out: `withReference` false).
 */
export function coldEstimate(s: EstimatorState, ctx: DecideContext, cause: string, withReference = true): DareEvent[] {
  const cold = coldStart(s, ctx);
  const ref = withReference ? referenceLabels(s) : undefined;
  return [estimated(s, ctx, cause, ref ? assembleLabels(s.numPrompts, cold, undefined, ref) : cold, { reference: s.round?.refDone.length ?? 0 }, null)];
}

/**
 * The default opening of a round: the TF-IDF cold start measures a reference set first (the round goes on
 * when its last group is in); otherwise the method estimates at once.
 */
export function openRound(st: EstimatorStrategy, s: EstimatorState, ctx: DecideContext, cause: string): DareEvent[] {
  const cfg = ctx.config;
  if (measuresReference(cfg) && cfg.estimator.referenceSize > 0 && s.numPrompts > 0) return [referenceRequest(s, ctx, cause)];
  return st.estimate(s, ctx, cause);
}

/** Whether the round must first have the prompts embedded (the embedding cold start, none logged yet). */
export function needsEmbeddings(s: EstimatorState, cfg: RunConfig): boolean {
  return cfg.estimator.coldStart === 'embedding' && cfg.estimator.method !== 'tfidf' && !s.embeddings && s.numPrompts > 0;
}

/** The request for the prompts' sentence embeddings (answered once, by the bridge, as a logged blob). */
export function embeddingRequest(s: EstimatorState, ctx: DecideContext, cause: string): DareEvent {
  const round = s.round!;
  const prompts = new Uint32Array(s.numPrompts);
  for (let q = 0; q < s.numPrompts; q++) prompts[q] = q;
  return makeEvent(
    'SignalRequested',
    { epoch: round.epoch, step: round.step, kind: 'embedding', prompts, system: '', temperature: 1, maxTokens: 0, seed: 0 },
    { run: ctx.run, id: eventId('SignalRequested', round.step, 'embedding'), cause },
  );
}
