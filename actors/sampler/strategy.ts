/**
 * What a selection method is to the sampler actor: a strategy `{ init, evolve, select }` that owns its
 * slice of the sampler's state (knapsack's reward history, GRESO's streaks, MoPPS's posteriors, SEC's Q,
 * the staged curriculum's stage, AdaRFT's target). The actor folds what every method needs (the prompt set,
 * the latest estimate, the last selection) and hands each event to the configured method's strategy; its
 * decide asks the strategy for the step's prompts and allocates their tiers and rollouts.
 * One strategy per file in strategies/, named for the method; strategies/index.ts is the table.
 */
import type { Logged } from '../../events/catalogue.ts';
import type { RunConfig } from '../../events/config.ts';
import type { PrngKey } from '../../events/prng.ts';
import type { GrowOnlyList } from '../shared/growOnly.ts';
import type { GroupCounts } from '../shared/mopps.ts';

export type SamplerMethod = RunConfig['sampler']['method'];

/** A fresh group as the per-prompt folds see it: successes and rows, and 0/1 per row for the methods that keep rows. */
export interface FreshGroup extends GroupCounts {
  correct: Float32Array;
}

export interface SamplerState<M = unknown> {
  method: SamplerMethod;
  numPrompts: number;
  /** category per training prompt (PromptsRegistered) and the number of categories */
  categoryOf: Uint16Array;
  categories: number;
  /** latest estimate (failure rate per prompt) and the step it was made for */
  difficulty: Float64Array | null;
  /** the latest estimate's source per prompt (actors/shared/labels.ts), null before any */
  source: Uint8Array | null;
  estimateStep: number;
  lastSelection: { step: number; prompts: number; filled: number } | null;
  /**
   * This step's fresh groups not yet handed to the method (only for a method that takes them, see
   * SamplerStrategy.fresh): a step's RolloutCompleted events only add here, and the next other event passes
   * them to the method's `settle` in order, at once (decide and snapshot only ever see a settled state).
   */
  fresh: GrowOnlyList<FreshGroup> | null;
  /** the selection method's own state (its strategy's slice) */
  own: M;
}

/** The prompts of one step's batch, and the key they were drawn with. */
export interface Selection {
  prompts: Uint32Array;
  /** prompts filled uniformly because too few had non-zero weight */
  filled: number;
  key: PrngKey;
}

/** Selection log-weights over all prompts from their difficulties (failure rates). */
export type Logits = (difficulty: Float64Array, cfg: RunConfig) => Float64Array;

export interface SamplerStrategy<M = unknown> {
  /** the method's state before any event */
  init(cfg: RunConfig): M;
  /**
   * Fold one committed event into the method's state; `s` is the sampler's state with the event already
   * folded into the common part (and any fresh groups settled before it).
   */
  evolve(own: M, e: Logged, s: SamplerState<M>): M;
  /** whether the method takes the step's fresh groups (training rollouts): as counts, or with 0/1 per row too */
  fresh?: 'counts' | 'rows';
  /** fold the fresh groups collected since the last other event, oldest first (see SamplerState.fresh) */
  settle?(own: M, groups: readonly FreshGroup[]): M;
  /** the step's prompts, from the settled state after the event that starts the selection */
  select(own: M, s: SamplerState<M>, at: { step: number; epoch: number }, cfg: RunConfig): Selection;
  /** selection log-weights, where the method draws from the epoch plan or per step (absent: uniform) */
  logits?: Logits;
  /** rollouts per selected prompt, replacing the tier allocation's (knapsack) */
  rollouts?(own: M, prompts: Uint32Array, cfg: RunConfig): Uint16Array;
  /** what `dare inspect` shows of the method's state */
  summary?(own: M): Record<string, unknown>;
}
