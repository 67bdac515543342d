/**
 * SignalRequested → SignalCompleted: per-prompt signals the estimator asks of the policy itself (LLM-judge
 * replies, EDCO's prefix entropy).
 */
import { eventId, makeEvent, type EventOf } from '../../events/catalogue.ts';
import { fail } from '../bridgeTypes.ts';
import { asArray, finite } from '../jobInputs.ts';
import { chunkSeed, EVAL_CHUNK } from './chunks.ts';
import { jobPrompt, requestVersion, type JobContext } from './jobContext.ts';
import { EMBED_MODEL, EmbeddingCache, pythonEmbedder, type EmbedFn } from '../embedder.ts';
import { embeddingBlobKey, encodeEmbeddingBlob } from '../../events/embeddingBlob.ts';

/** The embedder the embedding job uses (tests replace it: no model there). */
export const embedderHook: { compute: EmbedFn | null } = { compute: null };

/**
 * The prompts' sentence embeddings (the embedding cold start, once per run): from the cache by content hash,
 * the missing ones computed by the Python embedder; logged as the blob embeddings/<step> with the
 * SignalCompleted that names the model, so replay needs no model.
 */
async function embedding(ctx: JobContext, ev: EventOf<'SignalRequested'>): Promise<void> {
  const d = ev.data;
  const texts = Array.from(d.prompts, (p) => jobPrompt(ctx, p, ev.id)?.question ?? String(p));
  const cache = new EmbeddingCache();
  let r;
  try {
    r = await cache.embed(texts, embedderHook.compute ?? pythonEmbedder());
  } finally {
    await cache.close();
  }
  await ctx.log.putBlobs([[embeddingBlobKey(d.step), encodeEmbeddingBlob({ model: EMBED_MODEL, dim: r.dim, count: texts.length, vectors: r.vectors })]]);
  await ctx.append([
    makeEvent(
      'SignalCompleted',
      { step: d.step, kind: 'embedding', prompts: d.prompts, texts: [EMBED_MODEL], values: new Float32Array(0), policyVersion: ctx.version.value },
      { run: ctx.run, id: eventId('SignalCompleted', d.step, 'embedding'), cause: ev.id },
    ),
  ]);
  ctx.logger.info({ request: ev.id, prompts: texts.length, computed: r.computed, dim: r.dim }, 'embeddings logged');
}

/**
 * The estimator's per-prompt signals from the policy itself: `generate` replies to a judge instruction
 * (LLM-judge) or the mean prefix entropy (`entropy` job, EDCO), in chunks of 256 prompts.
 */
export async function signal(ctx: JobContext, ev: EventOf<'SignalRequested'>): Promise<void> {
  if (ev.data.kind === 'embedding') return embedding(ctx, ev);
  const d = ev.data;
  const n = d.prompts.length;
  const texts: string[] = [];
  const values = new Float32Array(d.kind === 'entropy' ? n : 0);
  const at = requestVersion(ctx, d.policyVersion);
  for (let k = 0; k * EVAL_CHUNK < n; k++) {
    const lo = k * EVAL_CHUNK;
    const hi = Math.min(n, lo + EVAL_CHUNK);
    const prompts: Array<{ promptId: string; text: string; system?: string }> = [];
    for (let i = lo; i < hi; i++) {
      const p = d.prompts[i];
      const row = jobPrompt(ctx, p, ev.id);
      prompts.push({ promptId: String(p), text: row?.question ?? String(p), ...(d.kind === 'judge' && d.system ? { system: d.system } : {}) });
    }
    const seed = chunkSeed(d.seed, k);
    if (d.kind === 'judge') {
      const res = await ctx.worker.request('generate', { prompts, temperature: d.temperature, maxTokens: d.maxTokens, seed, ...at.args }, { id: `${ev.id}#${k}` });
      const got = asArray(res.texts, `generate ${ev.id}#${k}: texts`);
      if (got.length !== prompts.length) fail(`generate ${ev.id}#${k}: ${got.length} texts for ${prompts.length} prompts`);
      for (const t of got) texts.push(String(t));
    } else {
      const res = await ctx.worker.request('entropy', { prompts, temperature: d.temperature, maxTokens: d.maxTokens, seed, ...at.args }, { id: `${ev.id}#${k}` });
      const got = asArray(res.entropy, `entropy ${ev.id}#${k}: entropy`);
      if (got.length !== prompts.length) fail(`entropy ${ev.id}#${k}: ${got.length} values for ${prompts.length} prompts`);
      got.forEach((v, j) => (values[lo + j] = finite(v, `entropy ${ev.id}#${k}[${j}]`)));
    }
  }
  await ctx.append([
    makeEvent(
      'SignalCompleted',
      { step: d.step, kind: d.kind, prompts: d.prompts, texts, values, policyVersion: at.value },
      { run: ctx.run, id: eventId('SignalCompleted', d.step, d.kind), cause: ev.id },
    ),
  ]);
  ctx.logger.info({ request: ev.id, kind: d.kind, prompts: n, policyVersion: at.value }, 'signal completed');
}
