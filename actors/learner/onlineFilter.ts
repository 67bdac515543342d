/**
 * Online difficulty filtering, balanced (methods §6): keep a prompt's group iff its realised success
 * â = k/n lies in [T_low, T_high] (default [0.2, 0.8] ⚠ secondary source), i.e. its realised FAILURE rate
 * d = 1 − â lies in [1 − T_high, 1 − T_low]; refill by stacking further generation batches until B kept
 * groups (see groupAccumulator.ts), capped at 10 attempts with a partial batch.
 *
 * The band test is done on the integer counts (n − k compared with band·n, inclusive, 1e-9 tolerance) so
 * that e.g. k = 4 of n = 5 (d = 0.2 exactly) is inside [0.2, 0.8] although 1 − 4/5 evaluates to
 * 0.19999999999999996 in floating point.
 */

import { accumulate, checkScored } from './groupAccumulator.ts';
import type { GroupAccumulator, ScoredGroups } from './groupAccumulator.ts';

export interface DifficultyBand {
  /** lowest kept failure rate (= 1 − T_high); default 0.2 */
  dLow?: number;
  /** highest kept failure rate (= 1 − T_low); default 0.8 */
  dHigh?: number;
}

const TOL = 1e-9;

/** keep[i] = 1 iff dLow ≤ (n − k)/n ≤ dHigh (inclusive). Empty groups (n = 0) are dropped. */
export function bandKeepMask(batch: ScoredGroups, band: DifficultyBand = {}): Uint8Array {
  const dLow = band.dLow ?? 0.2;
  const dHigh = band.dHigh ?? 0.8;
  if (!(dLow >= 0 && dHigh <= 1 && dLow <= dHigh)) throw new RangeError(`bandKeepMask: invalid band [${dLow}, ${dHigh}]`);
  checkScored(batch, 'bandKeepMask');
  const keep = new Uint8Array(batch.group.length);
  for (let i = 0; i < keep.length; i++) {
    const n = batch.sizes[i];
    if (n === 0) continue;
    const fails = n - batch.successes[i];
    keep[i] = fails >= dLow * n - TOL && fails <= dHigh * n + TOL ? 1 : 0;
  }
  return keep;
}

/** Filter one generation batch by the band and add its kept groups to the step's accumulator. */
export function onlineFilterAccumulate(acc: GroupAccumulator, batch: ScoredGroups, band?: DifficultyBand): GroupAccumulator {
  return accumulate(acc, batch, bandKeepMask(batch, band));
}
