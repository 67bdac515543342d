/**
 * Label sources and the label-assembly priority of dare-reference §2.
 *
 * A "label" here is a per-prompt difficulty d_q = FAILURE rate in [0, 1] (cold-start regressors may leave
 * that range; see coldStart.ts), plus a one-byte source code saying where it came from. Source codes are
 * small integers so a whole dataset's provenance fits in one Uint8Array next to the Float64Array of
 * difficulties (1M prompts = 1 MB), and are stable: they are written into events, never renumber them.
 */

/** Where a difficulty came from (uint8, stable numbering; append new codes at the end). */
export const LabelSource = {
  /** constant cold start (`is_default_label`, typically d = 0.5) */
  ColdConstant: 0,
  /** hashed TF-IDF kernel regression over a measured reference set (dare-reference §3 option 2) */
  ColdTfidf: 1,
  /** SNIS re-weighted buffer estimate with ESS ≥ threshold (§2) */
  Snis: 2,
  /** raw (stale) buffer failure rate because ESS < threshold (§2 step 7) */
  FallbackRaw: 3,
  /** measured on a reference set (fresh rollouts, or the newest buffered groups from epoch 1) */
  Reference: 4,
  /** Thompson sample of a Beta posterior (§4 / MoPPS) */
  Posterior: 5,
  /** LLM self-judgement parsed from text (methods §12) */
  Judge: 6,
  /** prefix-entropy score (methods §12; NOT a failure rate, a logit source) */
  Entropy: 7,
  /** pooled raw buffer failure rate, no importance correction (methods §12 Previous-FR) */
  PreviousFr: 8,
  /** kernel regression over sentence embeddings of the questions (all-MiniLM-L6-v2), coldStart.ts */
  ColdEmbedding: 9,
} as const;
export type LabelSource = (typeof LabelSource)[keyof typeof LabelSource];

/** Code for "no label" in a typed source array (e.g. a prompt with no buffered rows in an SNIS result). */
export const NO_LABEL = 255;

/** Human-readable names, indexed by code. */
export const LABEL_SOURCE_NAMES: readonly string[] = [
  'cold-constant',
  'cold-tfidf',
  'snis',
  'fallback-raw',
  'reference',
  'posterior',
  'judge',
  'entropy',
  'previous-fr',
  'cold-embedding',
];

/** The cold-start sources: a prompt so labelled has never been estimated from its own rollouts. */
export const COLD_SOURCES: ReadonlySet<number> = new Set([LabelSource.ColdConstant, LabelSource.ColdTfidf, LabelSource.ColdEmbedding]);

export function labelSourceName(code: number): string {
  if (code === NO_LABEL) return 'none';
  const name = LABEL_SOURCE_NAMES[code];
  if (name === undefined) throw new RangeError(`unknown label source code ${code}`);
  return name;
}

export function labelSourceFromName(name: string): LabelSource {
  const i = LABEL_SOURCE_NAMES.indexOf(name);
  if (i < 0) throw new RangeError(`unknown label source name "${name}" (known: ${LABEL_SOURCE_NAMES.join(', ')})`);
  return i as LabelSource;
}

/** A per-prompt difficulty layer: entries with source NO_LABEL (or NaN difficulty) do not override. */
export interface LabelLayer {
  /** failure rate per prompt, length = number of prompts */
  difficulty: Float64Array;
  /** source code per prompt; NO_LABEL = "this layer says nothing about this prompt" */
  source: Uint8Array;
}

/** Sparse measured labels (reference set): prompt ids with their measured failure rates. */
export interface SparseLabels {
  prompt: Uint32Array;
  /** measured failure rate per listed prompt */
  difficulty: Float64Array;
}

export interface AssembledLabels {
  difficulty: Float64Array;
  source: Uint8Array;
  /** number of prompts per source code (index = code) */
  counts: Uint32Array;
}

/**
 * Assemble the dataset's labels with the REF priority, highest wins:
 * reference-set labels > buffer labels (SNIS or its raw fallback) > cold-start fallback.
 *
 * @param numPrompts dataset size N
 * @param fallback   the cold-start layer (every prompt must be labelled: constant or TF-IDF)
 * @param buffer     optional SNIS/Previous-FR layer; prompts with source NO_LABEL keep the fallback
 * @param reference  optional measured reference labels (overrides everything)
 */
export function assembleLabels(
  numPrompts: number,
  fallback: LabelLayer,
  buffer?: LabelLayer,
  reference?: SparseLabels,
): AssembledLabels {
  if (fallback.difficulty.length !== numPrompts || fallback.source.length !== numPrompts) {
    throw new RangeError(
      `assembleLabels: fallback layer has ${fallback.difficulty.length} difficulties / ${fallback.source.length} sources, expected ${numPrompts}`,
    );
  }
  const difficulty = Float64Array.from(fallback.difficulty);
  const source = Uint8Array.from(fallback.source);
  for (let q = 0; q < numPrompts; q++) {
    if (source[q] === NO_LABEL || Number.isNaN(difficulty[q])) {
      throw new RangeError(`assembleLabels: fallback layer leaves prompt ${q} unlabelled`);
    }
  }
  if (buffer) {
    if (buffer.difficulty.length !== numPrompts || buffer.source.length !== numPrompts) {
      throw new RangeError(`assembleLabels: buffer layer length ${buffer.difficulty.length}, expected ${numPrompts}`);
    }
    for (let q = 0; q < numPrompts; q++) {
      const s = buffer.source[q];
      if (s === NO_LABEL) continue;
      const d = buffer.difficulty[q];
      if (Number.isNaN(d)) throw new RangeError(`assembleLabels: buffer layer gives NaN for prompt ${q}`);
      difficulty[q] = d;
      source[q] = s;
    }
  }
  if (reference) {
    if (reference.prompt.length !== reference.difficulty.length) {
      throw new RangeError(
        `assembleLabels: reference has ${reference.prompt.length} prompts but ${reference.difficulty.length} difficulties`,
      );
    }
    for (let i = 0; i < reference.prompt.length; i++) {
      const q = reference.prompt[i];
      const d = reference.difficulty[i];
      if (q >= numPrompts) throw new RangeError(`assembleLabels: reference row ${i} names prompt ${q} ≥ ${numPrompts}`);
      if (Number.isNaN(d)) throw new RangeError(`assembleLabels: reference row ${i} (prompt ${q}) has NaN difficulty`);
      difficulty[q] = d;
      source[q] = LabelSource.Reference;
    }
  }
  const counts = new Uint32Array(LABEL_SOURCE_NAMES.length);
  for (let q = 0; q < numPrompts; q++) counts[source[q]]++;
  return { difficulty, source, counts };
}
