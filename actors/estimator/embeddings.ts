/**
 * The prompts' sentence embeddings for the embedding cold start (estimator.coldStart = embedding): logged
 * once per run as a blob (SignalCompleted, kind embedding; the bridge computes them with all-MiniLM-L6-v2
 * and a cache keyed by each question's content hash), so replay reads them from the log and needs no model.
 */
import type { DecideContext } from '../actor.ts';
import type { PromptVectors } from './coldStart.ts';
import type { EstimatorState } from './strategy.ts';
import { decodeEmbeddingBlob } from '../../events/embeddingBlob.ts';

const cache = new WeakMap<object, PromptVectors>();

/** The run's logged embeddings (the blob SignalCompleted named); an error when none were logged yet. */
export function promptEmbeddings(s: EstimatorState, ctx: DecideContext): PromptVectors {
  if (!s.embeddings) throw new Error('estimator: the embedding cold start has no embeddings in the log yet');
  const raw = ctx.blob(s.embeddings.blob);
  if (raw === undefined || raw === null) throw new Error(`estimator: embedding blob ${s.embeddings.blob} is missing from the log`);
  const hit = cache.get(raw as object);
  if (hit) return hit;
  const v = decodeEmbeddingBlob(raw, s.numPrompts);
  cache.set(raw as object, v);
  return v;
}
