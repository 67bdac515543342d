/**
 * DAPO dynamic sampling (methods §1 item 2): after scoring, drop every zero-variance group (all correct or
 * all wrong; a singleton group has no std and is kept), accumulate kept groups over generation batches
 * until B groups, cap the attempts (max_num_gen_batches = 10), and train on a partial batch if the cap is
 * hit. Filtering uses raw correctness, not shaped rewards.
 */

import { accumulate, checkScored, createAccumulator } from './groupAccumulator.ts';
import type { GroupAccumulator, ScoredGroups } from './groupAccumulator.ts';

/** keep[i] = 1 iff group i has mixed outcomes (0 < k < n) or is a singleton (n ≤ 1). */
export function dapoKeepMask(batch: ScoredGroups): Uint8Array {
  checkScored(batch, 'dapoKeepMask');
  const keep = new Uint8Array(batch.group.length);
  for (let i = 0; i < keep.length; i++) {
    const k = batch.successes[i];
    const n = batch.sizes[i];
    keep[i] = n <= 1 || (k > 0 && k < n) ? 1 : 0;
  }
  return keep;
}

/** A fresh DAPO accumulator for one training step of `batchSize` groups. */
export function dapoAccumulator(batchSize: number, maxGenBatches = 10): GroupAccumulator {
  return createAccumulator(batchSize, maxGenBatches);
}

/** Filter one generation batch and add its mixed groups. */
export function dapoAccumulate(acc: GroupAccumulator, batch: ScoredGroups): GroupAccumulator {
  return accumulate(acc, batch, dapoKeepMask(batch));
}
