/**
 * Self-normalised importance sampling (SNIS) difficulty estimate over the replay buffer
 * (dare-reference §2), plus the un-weighted pooled rate it degenerates to (Previous-FR, methods §12).
 *
 * For buffered row i of prompt q, with per-row sums of per-token log-probs (natural log, masked to the
 * response tokens) under the behaviour policy μ and the current policy π_θ:
 *   ℓ_i  = Σ_t log π_θ − Σ_t log μ                      (sequence log-ratio, nats)
 *   ℓ̂_i  = clip(ℓ_i, −c, +c)                            (sequence-level clip only; REF has no token clip)
 *   w̃_i  = exp(ℓ̂_i − max_{j∈q} ℓ̂_j)                    (per-prompt max shift, so the largest weight is 1)
 *   ESS_q = (Σ w̃)² / Σ w̃²                               (∈ [1, |q|])
 *   r_i   = 1[reward_i > 0]; raw success ā_q = mean r
 *   a_q   = ā_q if ESS_q < threshold, else clamp(Σ w̃ r / Σ w̃, 0, 1)
 * and the reported difficulty is the FAILURE rate d_q = 1 − a_q.
 *
 * With c = 0 every ℓ̂ is 0, all weights are 1, and the estimate is the pooled raw mean of the prompt's
 * buffered rows (a single row falls back to the same raw mean): that is the Previous-FR baseline.
 *
 * Rows are given as parallel typed arrays (structure of arrays) so 1M prompts × 8 rows runs in one
 * linear pass over the rows plus one over the prompts, with no per-row objects. Rows of one prompt need
 * not be contiguous (REF pools every buffered group of a prompt, e.g. two groups right after an epoch
 * boundary); contiguous runs are just faster.
 *
 * Numerics: float64 throughout (REF uses float32 torch tensors; results agree to float32 rounding).
 */

import { LabelSource, NO_LABEL } from '../shared/labels.ts';

/** Buffered rows, one entry per rollout row. */
export interface SnisRows {
  /** prompt index of each row (dense, < numPrompts) */
  prompt: Uint32Array;
  /** Σ_t log μ(y_t|·) over the row's response tokens under the behaviour policy (nats, ≤ 0, finite) */
  behaviourLogProb: Float64Array;
  /** Σ_t log π_θ(y_t|·) over the same tokens under the current policy (nats, ≤ 0; −∞ allowed) */
  currentLogProb: Float64Array;
  /** raw verifier reward of the row (sum of token-level scores); success iff > 0 */
  reward: Float32Array | Float64Array | Uint8Array;
}

export interface SnisOptions {
  /** number of prompts in the dataset: output arrays have this length */
  numPrompts: number;
  /** sequence log-ratio clip c ≥ 0 (nats); REF default 5, README 4; Infinity = no clip */
  clip: number;
  /** ESS below this ⇒ raw fallback (REF default 2) */
  essThreshold: number;
}

export interface SnisDiagnostics {
  /** prompts with at least one buffered row */
  promptsInBuffer: number;
  /** buffered rows */
  rows: number;
  /** prompts labelled by SNIS (ESS ≥ threshold) */
  snisEstimated: number;
  /** prompts that fell back to the raw rate (ESS < threshold) */
  essFallback: number;
  /** mean ESS over prompts in the buffer (0 when empty) */
  meanEss: number;
  /** mean |ℓ̂| over rows, after clipping (nats) */
  meanAbsLogRatio: number;
  /** standard deviation of ℓ̂ over rows, unbiased (n−1) as torch .std(); 0 for fewer than 2 rows */
  stdLogRatio: number;
  /** rows with ℓ > c (clipped from above) */
  clippedPos: number;
  /** rows with ℓ < −c (clipped from below) */
  clippedNeg: number;
  clip: number;
  essThreshold: number;
}

export interface SnisResult {
  /** FAILURE rate per prompt (1 − a_q); NaN for prompts without buffered rows */
  difficulty: Float64Array;
  /** success rate a_q per prompt; NaN for prompts without buffered rows */
  success: Float64Array;
  /** raw (un-weighted) failure rate of the buffered rows; NaN without rows */
  rawDifficulty: Float64Array;
  /** ESS per prompt; 0 for prompts without rows */
  ess: Float64Array;
  /** number of buffered rows per prompt */
  rowCount: Uint32Array;
  /** LabelSource.Snis, LabelSource.FallbackRaw, or NO_LABEL (no rows) */
  source: Uint8Array;
  diagnostics: SnisDiagnostics;
}

function checkRows(rows: Pick<SnisRows, 'prompt' | 'reward'> & Partial<SnisRows>, numPrompts: number): number {
  const n = rows.prompt.length;
  if (rows.reward.length !== n) {
    throw new RangeError(`snis: reward has ${rows.reward.length} rows, prompt has ${n}`);
  }
  if (rows.behaviourLogProb && rows.behaviourLogProb.length !== n) {
    throw new RangeError(`snis: behaviourLogProb has ${rows.behaviourLogProb.length} rows, prompt has ${n}`);
  }
  if (rows.currentLogProb && rows.currentLogProb.length !== n) {
    throw new RangeError(`snis: currentLogProb has ${rows.currentLogProb.length} rows, prompt has ${n}`);
  }
  if (!Number.isInteger(numPrompts) || numPrompts < 0) {
    throw new RangeError(`snis: numPrompts must be a non-negative integer, got ${numPrompts}`);
  }
  return n;
}

// exp(−d) for d ≥ 0 by table + short Taylor series: T[m] = e^(−m/256), and e^(−f) for f < 1/256 by a
// degree-5 polynomial (truncation < 1e-17). Relative error ≤ ~4e-16 (2 ulp), about 2.5× faster than
// Math.exp here, which matters at 8M rows. Pure IEEE arithmetic, so results are platform-independent.
const EXP_STEPS = 256;
const EXP_DMAX = 64;
const EXP_TABLE = new Float64Array(EXP_DMAX * EXP_STEPS + 1);
for (let m = 0; m < EXP_TABLE.length; m++) EXP_TABLE[m] = Math.exp(-m / EXP_STEPS);

/** e^(−d) for d ≥ 0 (d = +∞ gives 0). */
export function expNeg(d: number): number {
  if (d < EXP_DMAX) {
    const y = d * EXP_STEPS;
    const m = y | 0;
    const f = (y - m) * (1 / EXP_STEPS);
    return EXP_TABLE[m] * (1 - f * (1 - f * (0.5 - f * (1 / 6 - f * (1 / 24 - f * (1 / 120))))));
  }
  return Math.exp(-d);
}

/**
 * Largest clip for which the fixed-shift path is used: weights e^(ℓ̂−c) ∈ [e^(−2c), 1] and their squares
 * ≥ e^(−4c) stay normal floats (e^(−600) ≫ 2.2e-308), so no per-prompt max is needed.
 */
const FIXED_SHIFT_MAX_CLIP = 150;

/** Explain a non-finite log-ratio: −∞ current log-prob is allowed, anything else is bad input. */
function checkLogProbs(m: number, p: number, row: number, q: number): void {
  if (!Number.isFinite(m)) throw new RangeError(`snis: row ${row} (prompt ${q}) has non-finite behaviourLogProb ${m}`);
  if (p !== p || p === Infinity) throw new RangeError(`snis: row ${row} (prompt ${q}) has invalid currentLogProb ${p}`);
}

interface Accumulators {
  sumW: Float64Array;
  sumW2: Float64Array;
  sumWR: Float64Array;
  count: Uint32Array;
  sumR: Uint32Array;
  clippedPos: number;
  clippedNeg: number;
  sumAbsL: number;
  /** Σ(ℓ̂−K), Σ(ℓ̂−K)² over finite ℓ̂, with K the first finite ℓ̂ (avoids cancellation) */
  s1: number;
  s2: number;
  finiteRows: number;
}

function newAccumulators(numPrompts: number): Accumulators {
  return {
    sumW: new Float64Array(numPrompts),
    sumW2: new Float64Array(numPrompts),
    sumWR: new Float64Array(numPrompts),
    count: new Uint32Array(numPrompts),
    sumR: new Uint32Array(numPrompts),
    clippedPos: 0,
    clippedNeg: 0,
    sumAbsL: 0,
    s1: 0,
    s2: 0,
    finiteRows: 0,
  };
}

/**
 * Fast path (finite c ≤ FIXED_SHIFT_MAX_CLIP): every weight is shifted by the constant c instead of the
 * per-prompt max, w_i = e^(ℓ̂_i − c). ESS and the self-normalised mean are invariant to a common factor of a
 * prompt's weights, so this equals the max-shifted estimate up to float rounding, in one pass, with each
 * run of consecutive same-prompt rows summed in registers and merged once (a run split across chunks, or
 * rows of a prompt spread over the buffer, just add up).
 *
 * The rows are processed in chunks by a separate function so V8 optimises it as a normal hot function
 * after a few chunks; one long loop would run the first two calls in slower on-stack-replacement code.
 */
const CHUNK_ROWS = 16384;

function accumulateFixedShift(rows: SnisRows, numPrompts: number, c: number, acc: Accumulators): void {
  const n = rows.prompt.length;
  // c is finite here, so every ℓ̂ is finite: the variance shift K is the first ℓ̂ (0 without rows or if
  // row 0 is invalid, which the chunk then reports).
  let shiftK = 0;
  if (n > 0) {
    const l0 = Math.min(c, Math.max(-c, rows.currentLogProb[0] - rows.behaviourLogProb[0]));
    if (l0 === l0) shiftK = l0;
  }
  for (let i0 = 0; i0 < n; i0 += CHUNK_ROWS) fixedShiftChunk(rows, i0, Math.min(n, i0 + CHUNK_ROWS), numPrompts, c, shiftK, acc);
  acc.finiteRows = n;
}

function fixedShiftChunk(
  rows: SnisRows,
  i0: number,
  i1: number,
  numPrompts: number,
  c: number,
  shiftK: number,
  acc: Accumulators,
): void {
  const { prompt, behaviourLogProb: mu, currentLogProb: pi, reward } = rows;
  const { sumW, sumW2, sumWR, count, sumR } = acc;
  const negC = -c;
  let clippedPos = 0;
  let clippedNeg = 0;
  let sumAbsL = 0;
  let s1 = 0;
  let s2 = 0;
  let i = i0;
  while (i < i1) {
    const q = prompt[i];
    if (q >= numPrompts) throw new RangeError(`snis: row ${i} has prompt ${q} ≥ numPrompts ${numPrompts}`);
    let sw = 0;
    let sw2 = 0;
    let swr = 0;
    let sr = 0;
    let j = i;
    do {
      const raw = pi[j] - mu[j];
      // One test for the common case; only a non-finite log-ratio looks at which input is at fault
      // (−∞ is legitimate when the current policy gives a token probability 0).
      if (!(raw > -Infinity && raw < Infinity)) checkLogProbs(mu[j], pi[j], j, q);
      const rv = reward[j];
      if (rv !== rv) throw new RangeError(`snis: row ${j} (prompt ${q}) has NaN reward`);
      // Branch-free clip and counts: the clip and reward tests are data-dependent and mispredict often.
      const l = Math.min(c, Math.max(negC, raw));
      clippedPos += +(raw > c);
      clippedNeg += +(raw < negC);
      sumAbsL += Math.abs(l);
      const dl = l - shiftK;
      s1 += dl;
      s2 += dl * dl;
      const hit = +(rv > 0);
      const w = expNeg(c - l);
      sw += w;
      sw2 += w * w;
      swr += w * hit;
      sr += hit;
      j++;
    } while (j < i1 && prompt[j] === q);
    sumW[q] += sw;
    sumW2[q] += sw2;
    sumWR[q] += swr;
    count[q] += j - i;
    sumR[q] += sr;
    i = j;
  }
  acc.clippedPos += clippedPos;
  acc.clippedNeg += clippedNeg;
  acc.sumAbsL += sumAbsL;
  acc.s1 += s1;
  acc.s2 += s2;
}

/**
 * General path (large or infinite c): the spec's per-prompt max shift. Each run of consecutive same-prompt
 * rows is shifted by its own max and merged into the prompt's accumulators with the streaming log-sum-exp
 * rescaling (sums kept relative to the prompt's running max), so rows of one prompt may be anywhere.
 */
function accumulateMaxShift(rows: SnisRows, numPrompts: number, c: number, acc: Accumulators): void {
  const { prompt, behaviourLogProb: mu, currentLogProb: pi, reward } = rows;
  const { sumW, sumW2, sumWR, count, sumR } = acc;
  const n = prompt.length;
  const maxL = new Float64Array(numPrompts);
  let scratch = new Float64Array(64);
  const negC = -c;
  let shiftK = NaN;
  let i = 0;
  while (i < n) {
    const q = prompt[i];
    if (q >= numPrompts) throw new RangeError(`snis: row ${i} has prompt ${q} ≥ numPrompts ${numPrompts}`);
    let j = i + 1;
    while (j < n && prompt[j] === q) j++;
    const len = j - i;
    if (len > scratch.length) scratch = new Float64Array(Math.max(len, 2 * scratch.length));

    let runMax = -Infinity;
    for (let r = i; r < j; r++) {
      const m = mu[r];
      const p = pi[r];
      if (!Number.isFinite(m)) throw new RangeError(`snis: row ${r} (prompt ${q}) has non-finite behaviourLogProb ${m}`);
      if (p !== p || p === Infinity) throw new RangeError(`snis: row ${r} (prompt ${q}) has invalid currentLogProb ${p}`);
      let l = p - m;
      if (l > c) {
        l = c;
        acc.clippedPos++;
      } else if (l < negC) {
        l = negC;
        acc.clippedNeg++;
      }
      scratch[r - i] = l;
      if (l > runMax) runMax = l;
      acc.sumAbsL += l < 0 ? -l : l;
      if (l !== -Infinity) {
        if (shiftK !== shiftK) shiftK = l;
        const dl = l - shiftK;
        acc.s1 += dl;
        acc.s2 += dl * dl;
        acc.finiteRows++;
      }
    }

    let sw = 0;
    let sw2 = 0;
    let swr = 0;
    let sr = 0;
    for (let r = i; r < j; r++) {
      const rv = reward[r];
      if (rv !== rv) throw new RangeError(`snis: row ${r} (prompt ${q}) has NaN reward`);
      const hit = rv > 0 ? 1 : 0;
      sr += hit;
      // A run entirely at −∞ (only possible with c = ∞) carries no weight.
      if (runMax === -Infinity) continue;
      const w = expNeg(runMax - scratch[r - i]);
      sw += w;
      sw2 += w * w;
      swr += w * hit;
    }

    if (count[q] === 0) {
      maxL[q] = runMax;
      sumW[q] = sw;
      sumW2[q] = sw2;
      sumWR[q] = swr;
    } else if (runMax !== -Infinity) {
      const m0 = maxL[q];
      if (runMax > m0) {
        const s = expNeg(runMax - m0); // 0 when the earlier rows were all at −∞
        sumW[q] = sumW[q] * s + sw;
        sumW2[q] = sumW2[q] * s * s + sw2;
        sumWR[q] = sumWR[q] * s + swr;
        maxL[q] = runMax;
      } else {
        const s = expNeg(m0 - runMax);
        sumW[q] += sw * s;
        sumW2[q] += sw2 * s * s;
        sumWR[q] += swr * s;
      }
    }
    count[q] += len;
    sumR[q] += sr;
    i = j;
  }
}

/**
 * SNIS estimate of every prompt's failure rate from the buffered rows.
 * Cost: one pass over the rows plus one over the prompts; memory: three Float64Array, two Uint32Array and
 * one Float64Array + Uint8Array of outputs, each of numPrompts (the accumulators are reused as outputs).
 */
export function snisEstimate(rows: SnisRows, opts: SnisOptions): SnisResult {
  const { numPrompts, clip: c, essThreshold } = opts;
  if (!(c >= 0)) throw new RangeError(`snis: clip must be ≥ 0 (nats), got ${c}`);
  if (Number.isNaN(essThreshold)) throw new RangeError('snis: essThreshold is NaN');
  const n = checkRows(rows, numPrompts);
  const acc = newAccumulators(numPrompts);
  if (c <= FIXED_SHIFT_MAX_CLIP) accumulateFixedShift(rows, numPrompts, c, acc);
  else accumulateMaxShift(rows, numPrompts, c, acc);
  const { sumW, sumW2, sumWR, count, sumR } = acc;

  // Per-prompt labels; accumulator buffers become outputs: sumW → rawDifficulty, sumW2 → ess, sumWR → success.
  const difficulty = new Float64Array(numPrompts);
  const source = new Uint8Array(numPrompts);
  const rawDifficulty = sumW;
  const ess = sumW2;
  const success = sumWR;
  let promptsInBuffer = 0;
  let snisEstimated = 0;
  let essFallback = 0;
  let sumEss = 0;
  for (let q = 0; q < numPrompts; q++) {
    const k = count[q];
    if (k === 0) {
      difficulty[q] = NaN;
      success[q] = NaN;
      rawDifficulty[q] = NaN;
      ess[q] = 0;
      source[q] = NO_LABEL;
      continue;
    }
    promptsInBuffer++;
    const sw = sumW[q];
    const swr = sumWR[q];
    const e = sw > 0 ? (sw * sw) / sumW2[q] : 0;
    ess[q] = e;
    sumEss += e;
    const raw = sumR[q] / k;
    rawDifficulty[q] = 1 - raw;
    let a: number;
    if (e < essThreshold) {
      a = raw;
      source[q] = LabelSource.FallbackRaw;
      essFallback++;
    } else {
      a = swr / sw;
      if (a < 0) a = 0;
      else if (a > 1) a = 1;
      source[q] = LabelSource.Snis;
      snisEstimated++;
    }
    success[q] = a;
    difficulty[q] = 1 - a;
  }

  const fr = acc.finiteRows;
  const varL = fr > 1 ? (acc.s2 - (acc.s1 * acc.s1) / fr) / (fr - 1) : 0;
  return {
    difficulty,
    success,
    rawDifficulty,
    ess,
    rowCount: count,
    source,
    diagnostics: {
      promptsInBuffer,
      rows: n,
      snisEstimated,
      essFallback,
      meanEss: promptsInBuffer > 0 ? sumEss / promptsInBuffer : 0,
      meanAbsLogRatio: n > 0 ? acc.sumAbsL / n : 0,
      stdLogRatio: varL > 0 ? Math.sqrt(varL) : 0,
      clippedPos: acc.clippedPos,
      clippedNeg: acc.clippedNeg,
      clip: c,
      essThreshold,
    },
  };
}

export interface PooledRawResult {
  /** pooled raw FAILURE rate of each prompt's buffered rows; NaN without rows */
  difficulty: Float64Array;
  rowCount: Uint32Array;
  /** LabelSource.PreviousFr or NO_LABEL */
  source: Uint8Array;
}

/**
 * Previous-FR (methods §12): the pooled raw failure rate of each prompt's buffered rows, no importance
 * correction. Identical in value to snisEstimate with clip = 0 (see the file comment).
 */
export function pooledRawEstimate(
  rows: Pick<SnisRows, 'prompt' | 'reward'>,
  numPrompts: number,
): PooledRawResult {
  const n = checkRows(rows, numPrompts);
  const { prompt, reward } = rows;
  const count = new Uint32Array(numPrompts);
  const sumR = new Uint32Array(numPrompts);
  for (let i = 0; i < n; i++) {
    const q = prompt[i];
    if (q >= numPrompts) throw new RangeError(`previous-fr: row ${i} has prompt ${q} ≥ numPrompts ${numPrompts}`);
    const rv = reward[i];
    if (rv !== rv) throw new RangeError(`previous-fr: row ${i} (prompt ${q}) has NaN reward`);
    count[q]++;
    if (rv > 0) sumR[q]++;
  }
  const difficulty = new Float64Array(numPrompts);
  const source = new Uint8Array(numPrompts);
  for (let q = 0; q < numPrompts; q++) {
    if (count[q] === 0) {
      difficulty[q] = NaN;
      source[q] = NO_LABEL;
    } else {
      difficulty[q] = 1 - sumR[q] / count[q];
      source[q] = LabelSource.PreviousFr;
    }
  }
  return { difficulty, rowCount: count, source };
}
