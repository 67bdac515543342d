/**
 * Step accumulator for post-rollout group filters (DAPO dynamic sampling, online difficulty filtering,
 * GRESO's refill): kept groups are stacked over successive generation batches until `target` groups are
 * available, or until `maxAttempts` generation batches were tried (then the step trains on a partial
 * batch and says so — methods §1: "train on partial batch + log", rather than verl's exception).
 *
 * Pure: every function returns a new accumulator.
 */

/** One generation batch after scoring: per group its id, successes k and size n. */
export interface ScoredGroups {
  /** caller's group ids (e.g. rollout-group sequence numbers) */
  group: Uint32Array;
  /** correct rollouts k per group */
  successes: Uint32Array;
  /** rollouts n per group */
  sizes: Uint32Array;
}

export interface GroupAccumulator {
  /** groups wanted for the update (B) */
  target: number;
  /** generation batches allowed (DAPO max_num_gen_batches, 10) */
  maxAttempts: number;
  /** generation batches accumulated so far */
  attempts: number;
  /** ids of kept groups, in arrival order (may exceed target; finalize truncates) */
  kept: Uint32Array;
  /** groups scored so far, and how many of them the filter dropped */
  rolled: number;
  dropped: number;
}

export type AccumulatorStatus = 'full' | 'need-more' | 'capped';

export function createAccumulator(target: number, maxAttempts = 10): GroupAccumulator {
  if (!Number.isInteger(target) || target < 0) throw new RangeError(`accumulator: target must be an integer ≥ 0, got ${target}`);
  if (!Number.isInteger(maxAttempts) || maxAttempts < 1) {
    throw new RangeError(`accumulator: maxAttempts must be an integer ≥ 1, got ${maxAttempts}`);
  }
  return { target, maxAttempts, attempts: 0, kept: new Uint32Array(0), rolled: 0, dropped: 0 };
}

export function checkScored(batch: ScoredGroups, who: string): void {
  const n = batch.group.length;
  if (batch.successes.length !== n || batch.sizes.length !== n) {
    throw new RangeError(`${who}: ${n} groups, ${batch.successes.length} success counts, ${batch.sizes.length} sizes`);
  }
  for (let i = 0; i < n; i++) {
    if (batch.successes[i] > batch.sizes[i]) {
      throw new RangeError(`${who}: group ${batch.group[i]} has ${batch.successes[i]} successes out of ${batch.sizes[i]}`);
    }
  }
}

/** Add one generation batch: `keep[i] = 1` keeps group i. */
export function accumulate(acc: GroupAccumulator, batch: ScoredGroups, keep: Uint8Array): GroupAccumulator {
  if (keep.length !== batch.group.length) throw new RangeError(`accumulate: ${batch.group.length} groups, ${keep.length} keep flags`);
  let nk = 0;
  for (let i = 0; i < keep.length; i++) if (keep[i]) nk++;
  const kept = new Uint32Array(acc.kept.length + nk);
  kept.set(acc.kept, 0);
  let w = acc.kept.length;
  for (let i = 0; i < keep.length; i++) if (keep[i]) kept[w++] = batch.group[i];
  return {
    ...acc,
    attempts: acc.attempts + 1,
    kept,
    rolled: acc.rolled + keep.length,
    dropped: acc.dropped + keep.length - nk,
  };
}

/** 'full' once target groups are kept; else 'capped' after maxAttempts batches; else 'need-more'. */
export function accumulatorStatus(acc: GroupAccumulator): AccumulatorStatus {
  if (acc.kept.length >= acc.target) return 'full';
  if (acc.attempts >= acc.maxAttempts) return 'capped';
  return 'need-more';
}

/** Groups still missing (0 when full). */
export function groupsNeeded(acc: GroupAccumulator): number {
  return Math.max(0, acc.target - acc.kept.length);
}

/**
 * The update batch: the first `target` kept groups (DAPO truncates to exactly B groups); `partial` when
 * the cap was hit with fewer; `surplus` kept groups beyond the target that are discarded.
 */
export function finalizeAccumulator(acc: GroupAccumulator): { groups: Uint32Array; partial: boolean; surplus: number } {
  const take = Math.min(acc.target, acc.kept.length);
  return { groups: acc.kept.slice(0, take), partial: take < acc.target, surplus: acc.kept.length - take };
}
