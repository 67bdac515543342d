/**
 * σ replay mix (spec dare-reference.md §9): which buffered groups a training step replays next to its
 * σ·B fresh groups.
 *
 * - Epoch 0 trains on fresh groups only.
 * - Otherwise `need = ⌊(1−σ)·B⌋` groups are drawn uniformly WITHOUT replacement from the buffer (after the
 *   step's prune). `need` is computed in float64 exactly as REF does, so e.g. σ = 0.9, B = 10 gives
 *   (1 − 0.9)·10 = 0.9999999999999998 → need 0.
 * - Optional priority range: groups whose difficulty at generation time d_g = 1 − a_g lies in
 *   [dMin, dMax] (inclusive) are taken first (shuffled), then the rest (shuffled). (REF
 *   `rollout_priority_range` is in success space on `original_accuracy`; here failure space.)
 * - "A step never replays its own fresh data": REF draws before appending the step's fresh groups; here the
 *   buffer fold may already hold them, so candidates generated at the current step (or later) are excluded.
 * - An empty buffer ⇒ no replay (fresh only).
 * Randomness: one stream with PRNG key (seed, step, "replay"); the priority part is shuffled first, then the
 * rest, each by a full Fisher–Yates over candidate positions (buffer order), then the first `need` taken.
 * Σ mixes prompt GROUPS, not rows ⚠: with variable group sizes the row fraction differs from σ.
 */
import { Prng, type PrngKey } from '../../events/prng.ts';

export interface ReplayCandidate {
  /** group id (REF uid) */
  groupId: string;
  /** training step that generated the group */
  step: number;
  /** realized success fraction of the group at generation time, in [0,1] */
  realizedSuccess: number;
}

export interface ReplayMixInput {
  seed: number;
  /** current training step */
  step: number;
  /** current epoch (0 ⇒ no replay) */
  epoch: number;
  /** prompts per step B */
  batchSize: number;
  /** fresh fraction σ in [0,1] */
  sigma: number;
  /** the buffer's groups in buffer order (oldest first) */
  candidates: readonly ReplayCandidate[];
  /** optional priority range in FAILURE space, inclusive */
  priorityRange?: { dMin: number; dMax: number };
}

export interface ReplayMix {
  /** group ids to replay, in draw order */
  chosen: string[];
  /** ⌊(1−σ)·B⌋ (0 in epoch 0) */
  need: number;
  /** candidates eligible for replay (generated before this step) */
  available: number;
  /** of `chosen`, how many came from the priority range */
  fromPriority: number;
  /** the PRNG key used (logged with the decision) */
  key: PrngKey;
  /** why nothing was replayed, when nothing was */
  reason?: 'epoch-0' | 'empty-buffer' | 'need-0';
}

/** Replay groups per step: ⌊(1−σ)·B⌋. */
export function replayNeed(batchSize: number, sigma: number): number {
  if (!(Number.isInteger(batchSize) && batchSize >= 1)) throw new RangeError(`replay: batchSize must be an integer ≥ 1, got ${batchSize}`);
  if (!(sigma >= 0 && sigma <= 1)) throw new RangeError(`replay: sigma must be in [0,1], got ${sigma}`);
  return Math.floor((1 - sigma) * batchSize);
}

export function replayMix(input: ReplayMixInput): ReplayMix {
  const { seed, step, epoch, batchSize, sigma, candidates, priorityRange } = input;
  const key: PrngKey = { seed, step, purpose: 'replay' };
  if (!(Number.isInteger(step) && step >= 0)) throw new RangeError(`replay: step must be an integer ≥ 0, got ${step}`);
  if (!(Number.isInteger(epoch) && epoch >= 0)) throw new RangeError(`replay: epoch must be an integer ≥ 0, got ${epoch}`);
  if (priorityRange && !(priorityRange.dMin <= priorityRange.dMax)) {
    throw new RangeError(`replay: priorityRange needs dMin ≤ dMax, got [${priorityRange.dMin}, ${priorityRange.dMax}]`);
  }
  const need = epoch === 0 ? 0 : replayNeed(batchSize, sigma);
  const eligible: number[] = [];
  candidates.forEach((c, i) => {
    if (c.step < step) eligible.push(i);
  });
  const base = { need, available: eligible.length, key };
  if (epoch === 0) return { ...base, chosen: [], fromPriority: 0, reason: 'epoch-0' };
  if (eligible.length === 0) return { ...base, chosen: [], fromPriority: 0, reason: 'empty-buffer' };
  if (need === 0) return { ...base, chosen: [], fromPriority: 0, reason: 'need-0' };

  const prng = new Prng(key);
  let first: number[] = eligible;
  let rest: number[] = [];
  if (priorityRange) {
    first = [];
    for (const i of eligible) {
      const d = 1 - candidates[i].realizedSuccess;
      (d >= priorityRange.dMin && d <= priorityRange.dMax ? first : rest).push(i);
    }
  }
  const order = prng.shuffle(Uint32Array.from(first)) as Uint32Array;
  const restOrder = prng.shuffle(Uint32Array.from(rest)) as Uint32Array;
  const chosen: string[] = [];
  for (let j = 0; j < order.length && chosen.length < need; j++) chosen.push(candidates[order[j]].groupId);
  const fromPriority = priorityRange ? chosen.length : 0;
  for (let j = 0; j < restOrder.length && chosen.length < need; j++) chosen.push(candidates[restOrder[j]].groupId);
  return { ...base, chosen, fromPriority };
}
