/**
 * Beta–Bernoulli posteriors per prompt with temporal decay (dare-reference §4 "bayesian", methods §4 MoPPS),
 * Thompson sampling, and the exploration mass REF gives to prompts without a posterior.
 *
 * Posterior of prompt q: success rate a_q ~ Beta(α_q, β_q), prior (α0, β0) (REF 1, 1), decay λ (REF 0.5;
 * MoPPS math scripts 1.0 = no forgetting). After a step, with s successes and f failures in q's fresh group:
 *   DARE-ref form:  α ← λ·α + (1−λ)·α0 + s,        β ← λ·β + (1−λ)·β0 + f
 *                   (a never-seen prompt gets α0 + s, β0 + f — the same formula applied to the prior)
 *   MoPPS form:     α ← λ·α + (1−λ)·α0 + n·ŝ,      β ← λ·β + (1−λ)·β0 + n·(1 − ŝ)   (ŝ = s/n)
 * which are the same update written with counts or with a rate. With decay the posterior keeps about
 * n/(1−λ) pseudo-observations. (MoPPS's REF quirk "n ≤ 1 ⇒ α = β = 8" is deliberately not reproduced.)
 *
 * The state is two Float64Arrays and a Uint8Array "seen" mask over all prompts. Updates copy the state
 * (pure; ~16 MB per 1M prompts) unless the *InPlace variant is used by a reducer that owns it.
 */

import type { Prng } from '../../events/prng.ts';
import { LabelSource, NO_LABEL } from './labels.ts';

export interface BetaPosteriors {
  /** α per prompt (pseudo-successes); prior value for unseen prompts */
  alpha: Float64Array;
  /** β per prompt (pseudo-failures) */
  beta: Float64Array;
  /** 1 once the prompt has been updated (REF: "has a posterior") */
  seen: Uint8Array;
  alpha0: number;
  beta0: number;
}

export function createPosteriors(numPrompts: number, alpha0 = 1, beta0 = 1): BetaPosteriors {
  if (!(alpha0 > 0) || !(beta0 > 0) || !Number.isFinite(alpha0) || !Number.isFinite(beta0)) {
    throw new RangeError(`createPosteriors: prior must be finite and > 0, got α0=${alpha0}, β0=${beta0}`);
  }
  return {
    alpha: new Float64Array(numPrompts).fill(alpha0),
    beta: new Float64Array(numPrompts).fill(beta0),
    seen: new Uint8Array(numPrompts),
    alpha0,
    beta0,
  };
}

export function clonePosteriors(p: BetaPosteriors): BetaPosteriors {
  return { alpha: p.alpha.slice(), beta: p.beta.slice(), seen: p.seen.slice(), alpha0: p.alpha0, beta0: p.beta0 };
}

/** A fresh rollout group as a posterior update sees it: prompt, successes and rollouts. */
export interface GroupCounts {
  q: number;
  ok: number;
  n: number;
}

/**
 * Posteriors after `groups`, in order (each as `updateCountsInPlace` of one row): one copy for all of them.
 * The folds collect a step's groups as they arrive and apply them here at the step's next other event — a
 * copy per RolloutCompleted made them O(prompts) per event.
 */
export function withGroups(p: BetaPosteriors, groups: readonly GroupCounts[], lambda: number): BetaPosteriors {
  const post = clonePosteriors(p);
  updateCountsInPlace(
    post,
    Uint32Array.from(groups, (g) => g.q),
    Float64Array.from(groups, (g) => g.ok),
    Float64Array.from(groups, (g) => g.n - g.ok),
    lambda,
  );
  return post;
}

function checkLambda(lambda: number): void {
  if (!(lambda >= 0 && lambda <= 1)) throw new RangeError(`posterior decay λ must be in [0, 1], got ${lambda}`);
}

/**
 * DARE-ref update with success/failure counts, in place. Prompts listed twice are updated twice, in order.
 * @param prompt    prompt id per fresh group
 * @param successes s per group (rows with score > 0)
 * @param failures  f per group (rows − s)
 * @param lambda    decay λ ∈ [0, 1]
 */
export function updateCountsInPlace(
  post: BetaPosteriors,
  prompt: Uint32Array,
  successes: ArrayLike<number>,
  failures: ArrayLike<number>,
  lambda: number,
): void {
  checkLambda(lambda);
  const n = prompt.length;
  if (successes.length !== n || failures.length !== n) {
    throw new RangeError(`posterior update: ${n} prompts, ${successes.length} successes, ${failures.length} failures`);
  }
  const { alpha, beta, seen, alpha0, beta0 } = post;
  const keepA = (1 - lambda) * alpha0;
  const keepB = (1 - lambda) * beta0;
  for (let i = 0; i < n; i++) {
    const q = prompt[i];
    const s = successes[i];
    const f = failures[i];
    if (q >= alpha.length) throw new RangeError(`posterior update: row ${i} names prompt ${q} ≥ ${alpha.length}`);
    if (!(s >= 0) || !(f >= 0) || !Number.isFinite(s) || !Number.isFinite(f)) {
      throw new RangeError(`posterior update: row ${i} (prompt ${q}) has successes ${s}, failures ${f}`);
    }
    if (seen[q]) {
      alpha[q] = lambda * alpha[q] + keepA + s;
      beta[q] = lambda * beta[q] + keepB + f;
    } else {
      alpha[q] = alpha0 + s;
      beta[q] = beta0 + f;
      seen[q] = 1;
    }
  }
}

/** DARE-ref update (counts), returning a new posterior state. */
export function updateCounts(
  post: BetaPosteriors,
  prompt: Uint32Array,
  successes: ArrayLike<number>,
  failures: ArrayLike<number>,
  lambda: number,
): BetaPosteriors {
  const next = clonePosteriors(post);
  updateCountsInPlace(next, prompt, successes, failures, lambda);
  return next;
}

/**
 * MoPPS-form update with a realised success RATE ŝ per group and group size n (n·ŝ successes,
 * n·(1−ŝ) failures), returning a new posterior state.
 */
export function updateRates(
  post: BetaPosteriors,
  prompt: Uint32Array,
  successRate: ArrayLike<number>,
  groupSize: number | ArrayLike<number>,
  lambda: number,
): BetaPosteriors {
  const m = prompt.length;
  if (successRate.length !== m) throw new RangeError(`posterior update: ${m} prompts, ${successRate.length} rates`);
  const s = new Float64Array(m);
  const f = new Float64Array(m);
  for (let i = 0; i < m; i++) {
    const n = typeof groupSize === 'number' ? groupSize : groupSize[i];
    const r = successRate[i];
    if (!(r >= 0 && r <= 1)) throw new RangeError(`posterior update: row ${i} has success rate ${r} outside [0, 1]`);
    if (!(n >= 0) || !Number.isFinite(n)) throw new RangeError(`posterior update: row ${i} has group size ${n}`);
    s[i] = n * r;
    f[i] = n * (1 - r);
  }
  return updateCounts(post, prompt, s, f, lambda);
}

/**
 * MoPPS optional warm start from offline results: α = α0 + scale·successes, β = β0 + scale·failures
 * (MoPPS uses scale 3 with α0 = β0 = 1). Marks the prompts seen. Returns a new state.
 */
export function warmStart(
  post: BetaPosteriors,
  prompt: Uint32Array,
  successes: ArrayLike<number>,
  failures: ArrayLike<number>,
  scale = 3,
): BetaPosteriors {
  const next = clonePosteriors(post);
  for (let i = 0; i < prompt.length; i++) {
    const q = prompt[i];
    if (q >= next.alpha.length) throw new RangeError(`warmStart: row ${i} names prompt ${q} ≥ ${next.alpha.length}`);
    next.alpha[q] = next.alpha0 + scale * successes[i];
    next.beta[q] = next.beta0 + scale * failures[i];
    next.seen[q] = 1;
  }
  return next;
}

export interface ThompsonResult {
  /** sampled FAILURE rate 1 − a_q, a_q ~ Beta(α_q, β_q); NaN for unseen prompts */
  difficulty: Float64Array;
  /** LabelSource.Posterior, or NO_LABEL for unseen prompts */
  source: Uint8Array;
}

/**
 * Thompson sampling for every prompt with a posterior, in increasing prompt order from one sequential
 * stream (so the draws are a pure function of the posterior and the stream's key). Unseen prompts get NaN
 * (REF: the teacher fallback exists but is never used in this mode; see explorationLogits).
 */
export function thompsonSample(post: BetaPosteriors, prng: Prng): ThompsonResult {
  const N = post.alpha.length;
  const difficulty = new Float64Array(N);
  const source = new Uint8Array(N);
  for (let q = 0; q < N; q++) {
    if (!post.seen[q]) {
      difficulty[q] = NaN;
      source[q] = NO_LABEL;
      continue;
    }
    difficulty[q] = 1 - prng.nextBeta(post.alpha[q], post.beta[q]);
    source[q] = LabelSource.Posterior;
  }
  return { difficulty, source };
}

/**
 * REF step before the sampler's logits: NaN labels (uncovered prompts) are replaced by a default
 * (`bayesian_default_label`, success 0.5 ⇒ difficulty 0.5) so the base logits are finite.
 * @returns the filled difficulties and the mask of covered (originally non-NaN) prompts
 */
export function fillUncovered(difficulty: Float64Array, fill = 0.5): { difficulty: Float64Array; covered: Uint8Array } {
  const out = Float64Array.from(difficulty);
  const covered = new Uint8Array(difficulty.length);
  for (let q = 0; q < out.length; q++) {
    if (Number.isNaN(out[q])) out[q] = fill;
    else covered[q] = 1;
  }
  return { difficulty: out, covered };
}

/**
 * Exploration mass for uncovered prompts (dare-reference §4): after the base logits are built, every
 * uncovered prompt gets one common logit chosen so the uncovered prompts' total probability equals
 * `ratio` × the covered prompts' total probability:
 *   z_u = ln(max(ratio / #uncovered, 1e-30)) + LSE(z_covered)
 * (the 1e-30 floor is REF's; ratio 0.3 ⇒ uncovered ≈ 23 % of the final mass). If nothing is covered the
 * logits are returned unchanged (REF: uniform over the filled labels). If the covered logits are all −∞
 * (no covered prompt can be drawn) the uncovered prompts get logit 0 (⚠ ours; REF would produce NaN).
 *
 * @param logits  base logits per prompt (natural-log weights)
 * @param covered 1 = has a posterior
 * @param ratio   bayesian_explore_ratio (REF 0.3), ≥ 0
 */
export function explorationLogits(logits: Float64Array, covered: Uint8Array, ratio = 0.3): Float64Array {
  if (covered.length !== logits.length) {
    throw new RangeError(`explorationLogits: ${logits.length} logits but ${covered.length} covered flags`);
  }
  if (!(ratio >= 0) || !Number.isFinite(ratio)) throw new RangeError(`explorationLogits: ratio must be ≥ 0, got ${ratio}`);
  const out = Float64Array.from(logits);
  let nUnc = 0;
  let mx = -Infinity;
  for (let q = 0; q < out.length; q++) {
    if (!covered[q]) nUnc++;
    else if (out[q] > mx) mx = out[q];
  }
  const nCov = out.length - nUnc;
  if (nUnc === 0 || nCov === 0) return out;
  let z: number;
  if (mx === -Infinity) z = 0;
  else {
    let s = 0;
    for (let q = 0; q < out.length; q++) if (covered[q]) s += Math.exp(out[q] - mx);
    z = Math.log(Math.max(ratio / nUnc, 1e-30)) + mx + Math.log(s);
  }
  for (let q = 0; q < out.length; q++) if (!covered[q]) out[q] = z;
  return out;
}
