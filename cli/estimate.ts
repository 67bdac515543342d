/**
 * `dare estimate <rows.jsonl>`: offline difficulty estimation (DESIGN §11, dare-reference §2).
 *
 * Input: one JSON object per line, `{promptId, reward, behaviorLogprob, currentLogprob}`, where the two
 * log-probs are SUMS over the row's response tokens (nats) under the behaviour policy μ and the current
 * policy π_θ, and reward ∈ [0, 1] is the verifier score (success iff > 0, as REF's binarisation).
 * Output, per prompt in first-appearance order: `{promptId, difficulty, success, ess, source}` with
 * difficulty the FAILURE rate (1 − success).
 *
 * Methods: `snis` (self-normalised importance sampling with the sequence-level clip and the ESS fallback)
 * and `raw` (the pooled raw rate of each prompt's rows, i.e. Previous-FR; its ESS is the row count, the ESS
 * of equal weights). The file is read as a stream into typed arrays (28 bytes a row plus growth slack, no object per row).
 */
import type { Writable } from 'node:stream';
import { labelSourceName } from '../actors/shared/labels.ts';
import { pooledRawEstimate, snisEstimate } from '../actors/estimator/snis.ts';
import { ALIASES, ConfigError, parseSet, resolveConfig } from '../events/config.ts';
import { UserError } from '../events/errors.ts';
import { describeValue, forEachJsonLine, promptIdProblem } from './jsonlRows.ts';

export const ESTIMATE_METHODS = ['snis', 'raw'] as const;
export type EstimateMethod = (typeof ESTIMATE_METHODS)[number];

/** The only configuration keys `dare estimate` reads (the rest of a run configuration means nothing here). */
export const ESTIMATE_KEYS = ['estimator.clip', 'estimator.essThreshold'] as const;

/** Rows of a JSONL file as parallel typed arrays, prompts numbered densely in first-appearance order. */
export interface EstimateInput {
  /** promptId of each dense prompt index, as written in the file (string or number) */
  ids: Array<string | number>;
  prompt: Uint32Array;
  /** Σ_t log μ over the response (nats) */
  behaviourLogProb: Float64Array;
  /** Σ_t log π_θ over the response (nats) */
  currentLogProb: Float64Array;
  /** reward in [0, 1] */
  reward: Float64Array;
}

/** Per-prompt estimates as parallel arrays, indexed like EstimateInput.ids (first-appearance order). */
export interface Estimates {
  ids: Array<string | number>;
  /** failure rate in [0, 1] */
  difficulty: Float64Array;
  /** success rate in [0, 1] */
  success: Float64Array;
  /** effective sample size of the prompt's weights (raw: the row count, the ESS of equal weights) */
  ess: Float64Array;
  /** LabelSource code: Snis, FallbackRaw or PreviousFr */
  source: Uint8Array;
}

/**
 * Validate one parsed line; returns the message naming the field at fault, or undefined when the row is good.
 * Log-probs are required for snis and checked when present for raw (which does not use them).
 */
function rowProblem(o: unknown, needLogProbs: boolean): string | undefined {
  if (typeof o !== 'object' || o === null || Array.isArray(o)) return `expected a JSON object, got ${describeValue(o)}`;
  const r = o as Record<string, unknown>;
  const idProblem = promptIdProblem(r);
  if (idProblem) return idProblem;
  if (r.reward === undefined) return 'missing reward';
  if (typeof r.reward !== 'number' || !Number.isFinite(r.reward)) return `reward: expected a number in [0, 1], got ${describeValue(r.reward)}`;
  if (r.reward < 0 || r.reward > 1) return `reward: ${r.reward} is outside [0, 1]`;
  for (const f of ['behaviorLogprob', 'currentLogprob'] as const) {
    const v = r[f];
    if (v === undefined) {
      if (needLogProbs) return `missing ${f}`;
      continue;
    }
    // JSON has no ±Infinity literal, but 1e999 parses to Infinity: both it and null/strings are refused.
    if (typeof v !== 'number' || !Number.isFinite(v)) return `${f}: expected a finite log-prob sum (nats), got ${describeValue(v)}`;
  }
  return undefined;
}

/** Read and validate a rows file; every bad line is a UserError `FILE:LINE: field problem`. */
export async function readEstimateRows(file: string, needLogProbs: boolean): Promise<EstimateInput> {
  let cap = 1024;
  let prompt = new Uint32Array(cap);
  let mu = new Float64Array(cap);
  let pi = new Float64Array(cap);
  let reward = new Float64Array(cap);
  const index = new Map<string | number, number>();
  const ids: Array<string | number> = [];
  let n = 0;

  await forEachJsonLine(file, (o, lineNo) => {
    const problem = rowProblem(o, needLogProbs);
    if (problem) throw new UserError(`${file}:${lineNo}: ${problem}`);
    const r = o as { promptId: string | number; reward: number; behaviorLogprob?: number; currentLogprob?: number };
    if (n === cap) {
      cap *= 2;
      const grow = <T extends Uint32Array | Float64Array>(a: T, b: T): T => (b.set(a), b);
      prompt = grow(prompt, new Uint32Array(cap));
      mu = grow(mu, new Float64Array(cap));
      pi = grow(pi, new Float64Array(cap));
      reward = grow(reward, new Float64Array(cap));
    }
    let q = index.get(r.promptId);
    if (q === undefined) {
      q = ids.length;
      index.set(r.promptId, q);
      ids.push(r.promptId);
    }
    prompt[n] = q;
    mu[n] = r.behaviorLogprob ?? 0;
    pi[n] = r.currentLogprob ?? 0;
    reward[n] = r.reward;
    n++;
  });
  if (n === 0) throw new UserError(`${file}: no rows`);
  return {
    ids,
    prompt: prompt.subarray(0, n),
    behaviourLogProb: mu.subarray(0, n),
    currentLogProb: pi.subarray(0, n),
    reward: reward.subarray(0, n),
  };
}

function leafKeys(o: unknown, prefix = ''): string[] {
  if (typeof o !== 'object' || o === null) return [prefix];
  return Object.entries(o).flatMap(([k, v]) => leafKeys(v, prefix ? `${prefix}.${k}` : k));
}

/**
 * The estimator settings from `--set` assignments (configuration keys or README aliases), on top of the
 * configuration defaults. Any key other than estimator.clip / estimator.essThreshold is a user error.
 */
export function estimatorSettings(sets: readonly string[]): { clip: number; essThreshold: number } {
  const allowed = ESTIMATE_KEYS.map((k) => {
    const alias = Object.entries(ALIASES).find(([, a]) => a.key === k)?.[0];
    return alias ? `${k} (${alias})` : k;
  }).join(', ');
  try {
    for (const s of sets) {
      for (const key of leafKeys(parseSet(s))) {
        if (!(ESTIMATE_KEYS as readonly string[]).includes(key)) {
          throw new UserError(`--set ${s}: "${key}" is not read by dare estimate (it takes ${allowed})`);
        }
      }
    }
    const cfg = resolveConfig(undefined, sets);
    return { clip: cfg.estimator.clip, essThreshold: cfg.estimator.essThreshold };
  } catch (e) {
    if (e instanceof ConfigError) throw new UserError(e.message);
    throw e;
  }
}

/** Per-prompt estimates, in first-appearance order. */
export function estimate(
  input: EstimateInput,
  method: EstimateMethod,
  settings: { clip: number; essThreshold: number },
): Estimates {
  const numPrompts = input.ids.length;
  if (method === 'raw') {
    const r = pooledRawEstimate(input, numPrompts);
    const success = new Float64Array(numPrompts);
    for (let q = 0; q < numPrompts; q++) success[q] = 1 - r.difficulty[q];
    return { ids: input.ids, difficulty: r.difficulty, success, ess: Float64Array.from(r.rowCount), source: r.source };
  }
  const r = snisEstimate(input, { numPrompts, clip: settings.clip, essThreshold: settings.essThreshold });
  return { ids: input.ids, difficulty: r.difficulty, success: r.success, ess: r.ess, source: r.source };
}

/**
 * Write lines in ~64 KB chunks, waiting for 'drain' so a large output is not buffered whole. A reader that
 * goes away (`dare estimate big.jsonl | head`, EPIPE) ends the output quietly.
 */
export async function writeAll(out: Writable, lines: Iterable<string>): Promise<void> {
  let failed: NodeJS.ErrnoException | undefined;
  // left attached: an EPIPE can still be reported after the last write returned
  out.on('error', (e: NodeJS.ErrnoException) => (failed ??= e));
  const drained = () =>
    new Promise<void>((res) => {
      const done = () => {
        out.off('drain', done);
        out.off('error', done);
        res();
      };
      out.on('drain', done);
      out.on('error', done);
    });
  let buf = '';
  for (const l of lines) {
    if (failed) break;
    buf += l + '\n';
    if (buf.length >= 1 << 16) {
      const ok = out.write(buf);
      buf = '';
      if (!ok && !failed) await drained();
    }
  }
  if (buf && !failed) out.write(buf);
  if (failed && failed.code !== 'EPIPE') throw failed;
}

/** Aligned text table with a header: ids and sources left-aligned, numbers right-aligned (4 decimals). */
export function* tableLines(est: Estimates): Generator<string> {
  const header = ['promptId', 'difficulty', 'success', 'ess', 'source'];
  const num = (x: number) => x.toFixed(4);
  let wId = header[0].length;
  let wEss = header[3].length;
  for (let q = 0; q < est.ids.length; q++) {
    wId = Math.max(wId, String(est.ids[q]).length);
    wEss = Math.max(wEss, num(est.ess[q]).length);
  }
  const wD = header[1].length; // '0.1234' is narrower than either header
  const wS = header[2].length;
  yield `${header[0].padEnd(wId)}  ${header[1].padStart(wD)}  ${header[2].padStart(wS)}  ${header[3].padStart(wEss)}  ${header[4]}`;
  for (let q = 0; q < est.ids.length; q++) {
    yield `${String(est.ids[q]).padEnd(wId)}  ${num(est.difficulty[q]).padStart(wD)}  ${num(est.success[q]).padStart(wS)}  ${num(est.ess[q]).padStart(wEss)}  ${labelSourceName(est.source[q])}`;
  }
}

/** One JSON object per prompt: {promptId, difficulty, success, ess, source}. */
export function* jsonLines(est: Estimates): Generator<string> {
  for (let q = 0; q < est.ids.length; q++) {
    yield JSON.stringify({
      promptId: est.ids[q], difficulty: est.difficulty[q], success: est.success[q], ess: est.ess[q], source: labelSourceName(est.source[q]),
    });
  }
}

/** The `dare estimate` command. */
export async function runEstimate(
  file: string,
  o: { method: string; set: string[]; json?: boolean },
  out: Writable = process.stdout,
): Promise<void> {
  if (!(ESTIMATE_METHODS as readonly string[]).includes(o.method)) {
    throw new UserError(`--method ${o.method}: expected one of ${ESTIMATE_METHODS.join(', ')}`);
  }
  const method = o.method as EstimateMethod;
  const settings = estimatorSettings(o.set); // before reading: a bad --set should not wait for a large file
  const input = await readEstimateRows(file, method === 'snis');
  const est = estimate(input, method, settings);
  await writeAll(out, o.json ? jsonLines(est) : tableLines(est));
}
