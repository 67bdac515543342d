/**
 * Events as the other actors and the bridge log them, for decider specifications (test/support/deciderSpec.ts):
 * ids follow the same rules (eventId, groupId, rolloutCompletedId), payloads are complete and valid.
 */
import { eventId, groupId, rolloutCompletedId, type DareEvent, type PayloadOf } from '../../events/catalogue.ts';
import { ev } from './deciderSpec.ts';

const HASH = 'ab'.repeat(32);

/** `count` training prompts and `evalCount` held-out ones, one category unless given. */
export function promptsRegistered(count: number, evalCount: number, categories: string[] = ['all'], categoryOf?: number[]): DareEvent {
  return ev(
    'PromptsRegistered',
    { count, evalCount, contentHash: HASH, source: 'spec', categories, categoryOf: Uint16Array.from(categoryOf ?? new Array(count + evalCount).fill(0)), conflicts: 0 },
    'PromptsRegistered',
  );
}

export function epochStarted(epoch: number, firstStep: number, budget: number, cause: string | null = null): DareEvent {
  return ev('EpochStarted', { epoch, firstStep, budget }, eventId('EpochStarted', epoch), cause);
}

export function stepStarted(step: number, epoch: number, cause: string | null = null): DareEvent {
  return ev('StepStarted', { step, epoch }, eventId('StepStarted', step), cause);
}

export function evalRequested(step: number, policyVersion: number, prompts: number[], cause: string | null = null): DareEvent {
  return ev('EvalRequested', { step, policyVersion, prompts: Uint32Array.from(prompts) }, eventId('EvalRequested', step), cause);
}

export function evalCompleted(step: number, policyVersion: number, accuracy = 0.5): DareEvent {
  return ev('EvalCompleted', { step, policyVersion, accuracy, byTier: {}, oracleAccuracy: null }, eventId('EvalCompleted', step), eventId('EvalRequested', step));
}

export function updateCompleted(step: number, policyVersion: number, binLosses: Record<string, number> = {}): DareEvent {
  return ev(
    'UpdateCompleted',
    { step, policyVersion, loss: 0.1, clipFrac: 0, kl: 0, entropy: 1, gradNorm: 1, tokens: 100, binLosses },
    eventId('UpdateCompleted', step),
    eventId('UpdateRequested', step),
  );
}

export function checkpointSaved(policyVersion: number): DareEvent {
  return ev(
    'CheckpointSaved',
    { policyVersion, path: `checkpoints/v${policyVersion}.ckpt`, sha256: 'cd'.repeat(32), bytes: 1000 },
    eventId('CheckpointSaved', policyVersion),
    eventId('CheckpointRequested', policyVersion),
  );
}

export function controlApplied(command: 'pause' | 'resume' | 'stop', n: number): DareEvent {
  return ev('ControlApplied', { command, source: 'spec' }, eventId('ControlApplied', n));
}

export function difficultyEstimated(step: number, epoch: number, difficulty: number[], method = 'constant', cause: string | null = null): DareEvent {
  const n = difficulty.length;
  return ev(
    'DifficultyEstimated',
    { epoch, step, method, difficulty: Float32Array.from(difficulty), source: new Uint8Array(n), ess: new Float32Array(n), key: null, diagnostics: {} },
    eventId('DifficultyEstimated', step),
    cause,
  );
}

export interface Rollouts {
  lengths?: number[];
  /** behaviour log-prob sum per row (nats) */
  logprobs?: number[];
  purpose?: 'train' | 'reference' | 'refill';
  policyVersion?: number;
  truncated?: number[];
}

/** The group of rollouts of `prompt` at `step`, with these 0/1 rewards. */
export function rolloutCompleted(step: number, prompt: number, rewards: number[], r: Rollouts = {}): DareEvent {
  const n = rewards.length;
  const group = groupId(step, prompt);
  const purpose = r.purpose ?? 'train';
  const data: PayloadOf<'RolloutCompleted'> = {
    step, promptIndex: prompt, group, purpose, policyVersion: r.policyVersion ?? 0,
    reward: Float32Array.from(rewards),
    length: Uint32Array.from(r.lengths ?? new Array(n).fill(4)),
    logprob: Float64Array.from(r.logprobs ?? new Array(n).fill(-1)),
    truncated: Uint8Array.from(r.truncated ?? new Array(n).fill(0)),
    hinted: new Uint8Array(n),
    oracleSuccess: null,
  };
  return ev('RolloutCompleted', data, rolloutCompletedId(group), eventId('RolloutRequested', step, ...(purpose === 'reference' ? ['reference'] : [])));
}

/**
 * An update request of `step` over these fresh groups (rows per group), every row plain: what the buffer
 * folds (the groups) and what the sampler's SEC and GRESO read (groups, rows and advantages).
 */
export function updateRequested(step: number, groups: Array<{ prompt: number; rows: number }>, advantage?: number[]): DareEvent {
  const rows = groups.reduce((k, g) => k + g.rows, 0);
  const rowGroup = Uint32Array.from(groups.flatMap((g, i) => new Array(g.rows).fill(i)));
  const rowIndex = Uint16Array.from(groups.flatMap((g) => Array.from({ length: g.rows }, (_, k) => k)));
  return ev(
    'UpdateRequested',
    {
      step, policyVersion: step - 1, key: { seed: 1, step, purpose: 'replay' }, groups: groups.map((g) => groupId(step, g.prompt)), freshGroups: groups.length,
      rowGroup, rowIndex, rawReward: new Float32Array(rows), shapedReward: new Float32Array(rows), advantage: Float32Array.from(advantage ?? new Array(rows).fill(0)),
      clipLo: new Float32Array(rows).fill(0.8), clipHi: new Float32Array(rows).fill(1.2), weight: new Float32Array(rows).fill(1), bin: new Int32Array(rows).fill(-1),
      aggregation: 'token-mean', lConst: 8, entropyCoeff: 0, klCoeff: 0, maskTruncated: false,
    },
    eventId('UpdateRequested', step),
  );
}

/** The sampler's batch: these prompts, with their difficulties, tiers and rollouts (no hints). */
export function batchSelected(step: number, epoch: number, prompts: number[], b: { difficulty?: number[]; tier?: number[]; rollouts?: number[]; hints?: number[]; strategy?: string } = {}): DareEvent {
  const n = prompts.length;
  return ev(
    'BatchSelected',
    {
      step, epoch, key: { seed: 1, step, purpose: 'select' }, strategy: b.strategy ?? 'uniform', prompts: Uint32Array.from(prompts),
      difficulty: Float32Array.from(b.difficulty ?? new Array(n).fill(0.5)), tier: Uint8Array.from(b.tier ?? new Array(n).fill(3)),
      rollouts: Uint16Array.from(b.rollouts ?? new Array(n).fill(2)), hints: Uint16Array.from(b.hints ?? new Array(n).fill(0)), filled: 0,
    },
    eventId('BatchSelected', step),
    eventId('StepStarted', step),
  );
}

export function checkpointRequested(policyVersion: number, cause: string): DareEvent {
  return ev('CheckpointRequested', { policyVersion, path: `checkpoints/v${policyVersion}.ckpt` }, eventId('CheckpointRequested', policyVersion), cause);
}

/** `dare resume` of the run: the process's first event after the log's `fromSeq`. */
export function runResumed(fromSeq: number, policyVersion: number, n = 1): DareEvent {
  return ev('RunResumed', { fromSeq, policyVersion, checkpoint: null, reapplied: 0, reissued: [] }, eventId('RunResumed', n));
}

/** `dare resume --steps N`: the run's step total goes from `from` to `steps`. */
export function runExtended(steps: number, from: number, n = 1): DareEvent {
  return ev('RunExtended', { steps, from }, eventId('RunExtended', n));
}
