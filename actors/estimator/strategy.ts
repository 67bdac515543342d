/**
 * What a difficulty estimator is to the estimator actor: a strategy that carries out one estimation round
 * — it opens at EpochStarted (or StepStarted with per-step cadence), may ask the workers for something
 * (current-policy log-probs, judge replies, prefix entropies) and ends with DifficultyEstimated — and owns
 * its slice of the actor's state (MoPPS's posteriors). The actor folds what every method needs (the prompt
 * set, the replay buffer, the round in progress with the TF-IDF cold start's reference set, the last
 * estimate) and hands each event to the configured method's strategy.
 * One strategy per file in strategies/, named for the method; strategies/index.ts is the table.
 */
import type { DareEvent, Logged } from '../../events/catalogue.ts';
import type { RunConfig } from '../../events/config.ts';
import type { DecideContext } from '../actor.ts';
import type { BufferFold } from '../shared/bufferFold.ts';
import type { GrowOnlyList } from '../shared/growOnly.ts';
import type { GroupCounts } from '../shared/mopps.ts';

export type EstimatorMethod = RunConfig['estimator']['method'];

/** The estimation round in progress: the step it serves, and what it waits for. */
export interface Round {
  step: number;
  epoch: number;
  /** the ScoreRequested id (SNIS) */
  scoreRequest: string | null;
  /** TF-IDF cold start: the reference prompts rolled out this round, and their measured failure rates */
  refPrompts: number[] | null;
  refDone: Array<[number, number]>;
  /** pipelined mode: the policy version its requests run with (StepStarted.policyVersion); absent: sync mode */
  policyVersion?: number;
}

/** A round's request's `policyVersion` field (pipelined mode), else nothing. */
export function roundVersion(round: Round | null): { policyVersion?: number } {
  return round?.policyVersion === undefined ? {} : { policyVersion: round.policyVersion };
}

export interface EstimatorState<M = unknown> {
  method: EstimatorMethod;
  numPrompts: number;
  buffer: BufferFold;
  /**
   * Fresh groups not yet handed to the method (only for a method that takes them, see
   * EstimatorStrategy.fresh): folded in, in order, at the next other event (decide and snapshot see them in).
   */
  fresh: GrowOnlyList<GroupCounts> | null;
  round: Round | null;
  /** the prompts' logged sentence embeddings (SignalCompleted, kind embedding): their blob; null before */
  embeddings?: { blob: string; model: string } | null;
  /** last estimate (for inspect / drift) */
  last: { step: number; difficulty: Float32Array; source: Uint8Array } | null;
  /** the method's own state (its strategy's slice) */
  own: M;
}

export interface EstimatorStrategy<M = unknown> {
  /** the method's state before any event */
  init(cfg: RunConfig): M;
  /** fold one committed event into the method's state; `s` has the event folded into its common part */
  evolve?(own: M, e: Logged, s: EstimatorState<M>): M;
  /** whether the method takes every fresh group (training rollouts) as counts, through `settle` */
  fresh?: boolean;
  settle?(own: M, groups: readonly GroupCounts[]): M;
  /** the round opens: its first decisions (absent: the TF-IDF cold start's reference set when due, else `estimate`) */
  open?(s: EstimatorState<M>, ctx: DecideContext, cause: string): DareEvent[];
  /** the round's inputs are in (the reference set measured where the cold start needs one): the estimate, or a request */
  estimate(s: EstimatorState<M>, ctx: DecideContext, cause: string): DareEvent[];
  /** an event that may answer the round's request (ScoreCompleted, SignalCompleted): the estimate, or nothing */
  complete?(s: EstimatorState<M>, e: Logged, ctx: DecideContext): DareEvent[];
}
