/**
 * The embedding blob (docs/log-format.md): the prompts' sentence embeddings as the log's `blobs` database
 * holds them under `embeddings/<step>`, standard MessagePack:
 *   { model: str, dim: uint, count: uint, vectors: bin f4 (count·dim, row q = prompt index q, L2-normalised) }
 */
import { fromBytes, toBytes } from './bin.ts';

export interface EmbeddingBlob {
  model: string;
  dim: number;
  count: number;
  vectors: Float32Array;
}

export function embeddingBlobKey(step: number): string {
  return `embeddings/${step}`;
}

export function encodeEmbeddingBlob(b: EmbeddingBlob): { model: string; dim: number; count: number; vectors: Uint8Array } {
  if (b.vectors.length !== b.count * b.dim) throw new RangeError(`embedding blob: ${b.vectors.length} values for ${b.count}×${b.dim}`);
  return { model: b.model, dim: b.dim, count: b.count, vectors: Uint8Array.from(toBytes(b.vectors)) };
}

/** The vectors of a stored blob, checked against the prompt count. */
export function decodeEmbeddingBlob(raw: unknown, numPrompts: number): { dim: number; vectors: Float32Array; model: string } {
  const o = raw as Record<string, unknown>;
  if (!o || typeof o !== 'object' || !(o.vectors instanceof Uint8Array) || typeof o.dim !== 'number' || typeof o.count !== 'number') {
    throw new Error('embedding blob: expected {model, dim, count, vectors}');
  }
  const vectors = fromBytes('f4', o.vectors, 'embedding blob vectors');
  if (o.count < numPrompts || vectors.length !== o.count * o.dim) {
    throw new Error(`embedding blob: ${o.count} rows of ${o.dim} (${vectors.length} values) for ${numPrompts} prompts`);
  }
  return { dim: o.dim, vectors: vectors.subarray(0, numPrompts * o.dim), model: String(o.model ?? '') };
}
