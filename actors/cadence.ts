/**
 * The run's schedule, shared by every actor that needs it (pure functions of the configuration), so that
 * exactly one actor reacts to each event: e.g. after UpdateCompleted the learner requests a checkpoint when
 * one is due, and the session moves on only when none is.
 */
import type { RunConfig } from '../events/config.ts';

/** Epoch of a training step (steps count from 1; epoch 0 holds steps 1..mu). */
export function epochOf(step: number, cfg: RunConfig): number {
  return Math.floor((step - 1) / cfg.run.stepsPerEpoch);
}

export function isEpochStart(step: number, cfg: RunConfig): boolean {
  return (step - 1) % cfg.run.stepsPerEpoch === 0;
}

/** First step of an epoch. */
export function epochFirstStep(epoch: number, cfg: RunConfig): number {
  return epoch * cfg.run.stepsPerEpoch + 1;
}

/** Fresh prompts selected for a whole epoch: mu·B in epoch 0, ⌊mu·B·σ⌋ later (spec §6). */
export function epochBudget(epoch: number, cfg: RunConfig): number {
  const full = cfg.run.stepsPerEpoch * cfg.run.batchSize;
  return epoch === 0 ? full : Math.floor(full * cfg.learner.sigma);
}

/** Fresh prompts a per-step selection draws: B in epoch 0, ⌊σB⌋ later (at most `available`). */
export function stepFreshBudget(epoch: number, cfg: RunConfig, available: number): number {
  return Math.min(epoch === 0 ? cfg.run.batchSize : Math.floor(cfg.run.batchSize * cfg.learner.sigma), available);
}

/** Fresh prompts of one step of an epoch (the epoch's selection cut into mu consecutive batches). */
export function stepSlice(step: number, budget: number, cfg: RunConfig): [number, number] {
  const mu = cfg.run.stepsPerEpoch;
  const k = (step - 1) % mu;
  const per = Math.floor(budget / mu);
  return [k * per, k === mu - 1 ? budget : (k + 1) * per];
}

/** A checkpoint after the update that produced `policyVersion`, at `step`? Always after the last step. */
export function checkpointDue(policyVersion: number, step: number, cfg: RunConfig): boolean {
  if (step >= cfg.run.steps) return true;
  return cfg.run.checkpointEvery > 0 && policyVersion % cfg.run.checkpointEvery === 0;
}

/** An evaluation after `step`? Step 0 is the baseline before training; always after the last step. */
export function evalDue(step: number, cfg: RunConfig): boolean {
  if (step === 0 || step >= cfg.run.steps) return true;
  return cfg.run.evalEvery > 0 && step % cfg.run.evalEvery === 0;
}

export { groupId } from '../events/catalogue.ts';
