/**
 * AdaRFT adaptive curriculum (methods §7), on the FAILURE-rate scale d = D/100 ∈ [0, 1]:
 *   select: the B prompts with smallest |d_q − T| (repeats across steps allowed);
 *   update: T ← clip(T + η·tanh(α·(R̄ − β)), d_min, d_max), R̄ = mean raw verifier reward of the step's rollouts.
 * Defaults (scaled from the paper's 0–100 scale): T0 = 0, η = 0.5, α = 2, β = 0.5, d ∈ [0, 1]; the target
 * moves toward harder prompts when the policy succeeds more than β. Max move per step 0.5·tanh(1) ≈ 0.38.
 * Ties in |d − T| are broken by a keyed PRNG draw per prompt (numpy's argsort is not stable), then by id.
 */

import { keyWords, u32At } from '../../events/prng.ts';
import type { PrngKey } from '../../events/prng.ts';

export interface AdarftOptions {
  /** step size η on the failure scale (paper 50 on 0–100) */
  eta?: number;
  /** tanh sharpness α */
  alpha?: number;
  /** reward level β at which the target stays put */
  beta?: number;
  dMin?: number;
  dMax?: number;
}

/**
 * New curriculum target.
 * @param target     current T (failure rate)
 * @param meanReward R̄, mean raw reward of the step's rollouts (0/1 rewards ⇒ realised success rate)
 */
export function adarftUpdateTarget(target: number, meanReward: number, opts: AdarftOptions = {}): number {
  const eta = opts.eta ?? 0.5;
  const alpha = opts.alpha ?? 2;
  const beta = opts.beta ?? 0.5;
  const dMin = opts.dMin ?? 0;
  const dMax = opts.dMax ?? 1;
  if (!Number.isFinite(target) || !Number.isFinite(meanReward)) {
    throw new RangeError(`adarftUpdateTarget: target ${target} and mean reward ${meanReward} must be finite`);
  }
  if (!(dMin <= dMax)) throw new RangeError(`adarftUpdateTarget: d_min ${dMin} > d_max ${dMax}`);
  const t = target + eta * Math.tanh(alpha * (meanReward - beta));
  return t < dMin ? dMin : t > dMax ? dMax : t;
}

/**
 * The `batchSize` prompts nearest the target, nearest first (ties: PRNG draw, then prompt id).
 * @param difficulty failure rate per prompt (finite)
 * @param key        PRNG key of the tie-break draws (one uint32 per prompt, by random access)
 */
export function adarftSelect(difficulty: Float64Array, target: number, batchSize: number, key: PrngKey): Uint32Array {
  if (!Number.isInteger(batchSize) || batchSize < 0) throw new RangeError(`adarftSelect: batch size must be an integer ≥ 0, got ${batchSize}`);
  const n = difficulty.length;
  for (let q = 0; q < n; q++) {
    if (!Number.isFinite(difficulty[q])) throw new RangeError(`adarftSelect: prompt ${q} has difficulty ${difficulty[q]}`);
  }
  const [k0, k1] = keyWords(key);
  const k = Math.min(batchSize, n);
  const dist = (q: number) => Math.abs(difficulty[q] - target);
  // a ranks before b
  const before = (a: number, b: number): boolean => {
    const da = dist(a);
    const db = dist(b);
    if (da !== db) return da < db;
    const ta = u32At(k0, k1, a);
    const tb = u32At(k0, k1, b);
    return ta !== tb ? ta < tb : a < b;
  };
  // Max-heap (by rank) of the k best so far: the root is the worst kept prompt.
  const heap = new Uint32Array(k);
  let size = 0;
  const siftUp = (c: number) => {
    while (c > 0) {
      const p = (c - 1) >> 1;
      if (!before(heap[p], heap[c])) break;
      const t = heap[p];
      heap[p] = heap[c];
      heap[c] = t;
      c = p;
    }
  };
  const siftDown = (p: number) => {
    for (;;) {
      const l = 2 * p + 1;
      if (l >= size) break;
      let m = l;
      if (l + 1 < size && before(heap[l], heap[l + 1])) m = l + 1;
      if (!before(heap[p], heap[m])) break;
      const t = heap[p];
      heap[p] = heap[m];
      heap[m] = t;
      p = m;
    }
  };
  if (k > 0) {
    for (let q = 0; q < n; q++) {
      if (size < k) {
        heap[size++] = q;
        siftUp(size - 1);
      } else if (before(q, heap[0])) {
        heap[0] = q;
        siftDown(0);
      }
    }
  }
  return Uint32Array.from(Array.from(heap).sort((a, b) => (a === b ? 0 : before(a, b) ? -1 : 1)));
}
