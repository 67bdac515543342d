/**
 * How requests are cut into worker jobs: fixed sizes, and a rollout chunk's seed derived from (request seed,
 * chunk index), so a re-issued chunk (DESIGN §6 step 4) is the same job and samples what the lost one would
 * have. Job ids are `<request id>#<chunk index>`.
 */
import { seedOf } from '../../events/prng.ts';

/** Prompts per rollout job (fixed: a re-issued chunk must be the same job). */
export const ROLLOUT_CHUNK = 64;
/** Rows per score job. */
export const SCORE_CHUNK = 4096;
/** Prompts per eval job (and per signal job). */
export const EVAL_CHUNK = 256;

/** uint32 seed of rollout chunk k of a request with seed `seed` (signal jobs use it too). */
export function chunkSeed(seed: number, k: number): number {
  return seedOf({ seed, step: k, purpose: 'bridge/rollout' });
}
