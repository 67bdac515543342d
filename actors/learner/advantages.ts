/**
 * Group-relative advantages (spec dare-reference.md §10, methods.md §1). Computed in float64.
 *
 * - GRPO: `A_i = (S_i − mean_g) / (std_g + 1e-6)` with the UNBIASED (n−1) std of the row scores of the
 *   row's group g (verl / DARE REF). A singleton group uses mean 0, std 1, i.e. `A = S / (1 + 1e-6)`.
 * - Dr. GRPO: `A_i = S_i − mean_g` (no std division; singleton: mean 0, so A = S).
 * - A zero-variance group (all scores identical, e.g. all correct without shaping) gets A = 0 exactly —
 *   detected explicitly, so rounding in the mean of identical non-0/1 scores cannot leak a 1e-11 advantage.
 * `S_i` is the row's total reward (raw verifier score + any shaping); a group is identified by its group id
 * (REF `uid`: one id per prompt per step; replayed groups keep theirs, fresh groups of the same prompt get
 * a new one).
 *
 * Why the length shaping with λ = 1e-4 matters (§7.2): in an all-correct group the shaped scores are
 * `1 − λ·L/L_max`, whose std is ~1e-5; dividing by (std + 1e-6) blows these tiny differences up to
 * advantages of order ±1 that rank the rows by length (shorter = better). In a mixed group the std is
 * ~0.5 and the length term stays negligible. This needs float64 (or at least float32) and the exact eps.
 */
export type AdvantageEstimator = 'grpo' | 'dr-grpo';

/** GRPO's std epsilon (verl / DARE). */
export const GRPO_EPS = 1e-6;

export interface GroupMoments {
  /** dense group index per row (0..groups−1, in order of first appearance) */
  groupOf: Uint32Array;
  /** rows per group */
  size: Uint32Array;
  /** mean score per group (0 for singletons, as verl does) */
  mean: Float64Array;
  /** unbiased std per group (1 for singletons, as verl does) */
  std: Float64Array;
  /** 1 where all scores of the group are identical */
  constant: Uint8Array;
}

/** Per-group mean / unbiased std of row scores; rows grouped by `groupId` (numbers or strings). */
export function groupMoments(scores: Float64Array, groupId: ArrayLike<number | string>): GroupMoments {
  const n = scores.length;
  if (groupId.length !== n) throw new RangeError(`advantages: groupId has ${groupId.length} rows, scores has ${n}`);
  const index = new Map<number | string, number>();
  const groupOf = new Uint32Array(n);
  for (let i = 0; i < n; i++) {
    if (!Number.isFinite(scores[i])) throw new RangeError(`advantages: score[${i}] is not finite (${scores[i]})`);
    const key = groupId[i];
    let g = index.get(key);
    if (g === undefined) {
      g = index.size;
      index.set(key, g);
    }
    groupOf[i] = g;
  }
  const G = index.size;
  const size = new Uint32Array(G);
  const sum = new Float64Array(G);
  const first = new Float64Array(G);
  const constant = new Uint8Array(G).fill(1);
  for (let i = 0; i < n; i++) {
    const g = groupOf[i];
    if (size[g] === 0) first[g] = scores[i];
    else if (scores[i] !== first[g]) constant[g] = 0;
    size[g]++;
    sum[g] += scores[i];
  }
  const mean = new Float64Array(G);
  for (let g = 0; g < G; g++) mean[g] = size[g] === 1 ? 0 : sum[g] / size[g];
  const ss = new Float64Array(G);
  for (let i = 0; i < n; i++) {
    const g = groupOf[i];
    const dev = scores[i] - mean[g];
    ss[g] += dev * dev;
  }
  const std = new Float64Array(G);
  for (let g = 0; g < G; g++) std[g] = size[g] === 1 ? 1 : constant[g] ? 0 : Math.sqrt(ss[g] / (size[g] - 1));
  return { groupOf, size, mean, std, constant };
}

/**
 * Per-row advantages (dimensionless; broadcast to every response token by the worker).
 * @param scores per-row total reward S_i
 * @param groupId per-row group id
 */
export function groupAdvantages(
  scores: Float64Array,
  groupId: ArrayLike<number | string>,
  estimator: AdvantageEstimator = 'grpo',
  eps: number = GRPO_EPS,
): Float64Array {
  if (estimator !== 'grpo' && estimator !== 'dr-grpo') throw new RangeError(`advantages: unknown estimator ${String(estimator)}`);
  const m = groupMoments(scores, groupId);
  const out = new Float64Array(scores.length);
  for (let i = 0; i < scores.length; i++) {
    const g = m.groupOf[i];
    if (m.size[g] > 1 && m.constant[g]) {
      out[i] = 0;
      continue;
    }
    const centred = scores[i] - m.mean[g];
    out[i] = estimator === 'grpo' ? centred / (m.std[g] + eps) : centred;
  }
  return out;
}
