/**
 * The session's decisions (DESIGN §5, actors/session.ts) as decider specifications: the first epoch after
 * the baseline evaluation, its first step once the estimate is in, the end-of-step barrier (the update, then
 * the checkpoint and evaluation where due), pause / resume / stop, and the end of the run.
 * Run of 2 steps, 2 steps per epoch, batch 4; no checkpoints or evaluations between steps (checkpointEvery =
 * evalEvery = 0), so only the last step waits for a checkpoint and an evaluation (cadence.ts).
 */
import { describe, it } from 'vitest';
import { sessionActor } from '../../actors/session.ts';
import { resolveConfig } from '../../events/config.ts';
import { deciderSpec, ev } from '../support/deciderSpec.ts';
import {
  batchSelected, checkpointRequested, checkpointSaved, controlApplied, difficultyEstimated, epochStarted, evalCompleted, evalRequested, promptsRegistered,
  runExtended, runResumed, stepStarted, updateCompleted, updateRequested,
} from '../support/facts.ts';

const config = resolveConfig({ method: 'dare-reference', run: { steps: 2, stepsPerEpoch: 2, batchSize: 4, checkpointEvery: 0, evalEvery: 0, evalSize: 2 } });
const spec = deciderSpec(sessionActor, { config });

// the run as the other actors log it, step by step
const baseline = [promptsRegistered(4, 2), evalRequested(0, 0, [4, 5], 'PromptsRegistered')];
const epoch0 = [...baseline, evalCompleted(0, 0), epochStarted(0, 1, 8, 'EvalCompleted/0'), difficultyEstimated(1, 0, [0.5, 0.5, 0.5, 0.5], 'constant', 'EpochStarted/0')];
/** a step up to its update request: started, selected, rolled out (the rollouts do not concern the session) */
const stepUntilUpdate = (step: number, cause: string) => [
  stepStarted(step, 0, cause), batchSelected(step, 0, [0, 1]), updateRequested(step, [{ prompt: 0, rows: 2 }, { prompt: 1, rows: 2 }]),
];
const step1 = [...epoch0, ...stepUntilUpdate(1, 'DifficultyEstimated/1')];
const step2 = [...step1, updateCompleted(1, 1), ...stepUntilUpdate(2, 'UpdateCompleted/1')];

describe('session decider', () => {
  it('the baseline evaluation in: the first epoch starts (budget μ·B = 2·4 = 8), and its first step waits for the estimate', () => {
    spec
      .given(baseline)
      .when(evalCompleted(0, 0))
      .then([ev('EpochStarted', { epoch: 0, firstStep: 1, budget: 8 }, 'EpochStarted/0', 'EvalCompleted/0')]);
  });

  it('nothing before the prompts are registered', () => {
    spec.given([]).when(evalCompleted(0, 0)).thenNothing();
  });

  it('the epoch\'s estimate in: step 1 of epoch 0 starts', () => {
    spec
      .given(epoch0.slice(0, -1))
      .when(epoch0[epoch0.length - 1])
      .then([ev('StepStarted', { step: 1, epoch: 0 }, 'StepStarted/1', 'DifficultyEstimated/1')])
      .inPhase('selecting');
  });

  it('an estimate for another step starts nothing', () => {
    spec.given(epoch0.slice(0, -1)).when(difficultyEstimated(2, 0, [0.5, 0.5, 0.5, 0.5])).thenNothing();
  });

  it('step 1 updated, no checkpoint or evaluation due: step 2 starts (same epoch: (2 − 1) mod 2 ≠ 0)', () => {
    spec.given(step1).when(updateCompleted(1, 1)).then([ev('StepStarted', { step: 2, epoch: 0 }, 'StepStarted/2', 'UpdateCompleted/1')]);
  });

  it('the last step: the update waits for the checkpoint, the checkpoint for the evaluation, then the run completes', () => {
    spec.given(step2).when(updateCompleted(2, 2)).thenNothing().inPhase('updating');
    const checkpointing = [...step2, updateCompleted(2, 2), checkpointRequested(2, 'UpdateCompleted/2')];
    spec.given(checkpointing).when(checkpointSaved(2)).thenNothing().inPhase('checkpointing');
    spec
      .given([...checkpointing, checkpointSaved(2), evalRequested(2, 2, [4, 5], 'CheckpointSaved/2')])
      .when(evalCompleted(2, 2))
      .then([ev('RunCompleted', { steps: 2, policyVersion: 2, weightsSha256: null }, 'RunCompleted', 'EvalCompleted/2')])
      .inPhase('evaluating');
  });

  it('a pause holds the next step back at the barrier; resume starts it', () => {
    const paused = [...step1, controlApplied('pause', 1)];
    spec.given(paused).when(updateCompleted(1, 1)).thenNothing().inPhase('paused');
    spec
      .given([...paused, updateCompleted(1, 1)])
      .when(controlApplied('resume', 2))
      .then([ev('StepStarted', { step: 2, epoch: 0 }, 'StepStarted/2', 'ControlApplied/2')]);
  });

  it('a resume that lands after the barrier already moved on starts nothing a second time', () => {
    spec.given([...step1, updateCompleted(1, 1)]).when(controlApplied('resume', 1)).thenNothing();
  });

  it('stop: the step\'s update waits for a checkpoint and an evaluation of its weights, then the run stops (RunStopped, not RunCompleted)', () => {
    const stopping = [...step1, controlApplied('stop', 1)];
    // step 1 of 2 with no checkpoint or evaluation due (every = 0): the stop makes both due
    spec.given(stopping).when(updateCompleted(1, 1)).thenNothing();
    const saved = [...stopping, updateCompleted(1, 1), checkpointRequested(1, 'UpdateCompleted/1'), checkpointSaved(1), evalRequested(1, 1, [4, 5], 'CheckpointSaved/1')];
    spec.given(saved.slice(0, -2)).when(checkpointSaved(1)).thenNothing();
    spec
      .given(saved)
      .when(evalCompleted(1, 1))
      .then([ev('RunStopped', { steps: 1, policyVersion: 1 }, 'RunStopped/1/0', 'EvalCompleted/1')])
      .inPhase('evaluating');
  });

  const stopped = [
    ...step1, controlApplied('stop', 1), updateCompleted(1, 1), checkpointRequested(1, 'UpdateCompleted/1'), checkpointSaved(1),
    evalRequested(1, 1, [4, 5], 'CheckpointSaved/1'), evalCompleted(1, 1),
    ev('RunStopped', { steps: 1, policyVersion: 1 }, 'RunStopped/1/0', 'EvalCompleted/1'),
  ];

  it('a stopped run decides nothing more in its process; `dare resume` goes on with the next step', () => {
    spec.given(stopped.slice(0, -1)).when(stopped[stopped.length - 1]).thenNothing().inPhase('stopped');
    spec.given(stopped).when(runResumed(40, 1)).then([ev('StepStarted', { step: 2, epoch: 0 }, 'StepStarted/2', 'RunResumed/1')]);
  });

  it('a stop still pending when the process ended is dropped by the resume: the step\'s barrier moves on as usual', () => {
    const pending = [...step1, controlApplied('stop', 1)];
    spec.given(pending).when(runResumed(30, 0)).thenNothing();
    spec.given([...pending, runResumed(30, 0)]).when(updateCompleted(1, 1)).then([ev('StepStarted', { step: 2, epoch: 0 }, 'StepStarted/2', 'UpdateCompleted/1')]);
  });

  it('a completed run extended (RunExtended 2 → 3) goes on at its resume with step 3; it completes again as RunCompleted/3', () => {
    const completed = [
      ...step2, updateCompleted(2, 2), checkpointRequested(2, 'UpdateCompleted/2'), checkpointSaved(2), evalRequested(2, 2, [4, 5], 'CheckpointSaved/2'), evalCompleted(2, 2),
      ev('RunCompleted', { steps: 2, policyVersion: 2, weightsSha256: null }, 'RunCompleted', 'EvalCompleted/2'),
    ];
    spec.given(completed).when(runExtended(3, 2)).thenNothing().inPhase('stopped');
    // step 3 opens epoch 1 ((3 − 1) mod 2 = 0): an epoch of the one step left (budget 1·4), then its estimate, then the step
    spec
      .given([...completed, runExtended(3, 2)])
      .when(runResumed(60, 2))
      .then([ev('EpochStarted', { epoch: 1, firstStep: 3, budget: 4 }, 'EpochStarted/1', 'RunResumed/1')]);
    const step3 = [
      ...completed, runExtended(3, 2), runResumed(60, 2), epochStarted(1, 3, 4, 'RunResumed/1'), difficultyEstimated(3, 1, [0.5, 0.5, 0.5, 0.5], 'constant', 'EpochStarted/1'),
      stepStarted(3, 1, 'DifficultyEstimated/3'), batchSelected(3, 1, [0, 1]), updateRequested(3, [{ prompt: 0, rows: 2 }, { prompt: 1, rows: 2 }]),
      updateCompleted(3, 3), checkpointRequested(3, 'UpdateCompleted/3'), checkpointSaved(3), evalRequested(3, 3, [4, 5], 'CheckpointSaved/3'),
    ];
    spec.given(step3).when(evalCompleted(3, 3)).then([ev('RunCompleted', { steps: 3, policyVersion: 3, weightsSha256: null }, 'RunCompleted/3', 'EvalCompleted/3')]);
  });

  it('per-step estimation: the barrier starts the next step without waiting for an estimate (the sampler waits instead)', () => {
    const perStep = deciderSpec(sessionActor, { config: resolveConfig({ method: 'dare-reference', run: { ...config.run, estimation: 'step', steps: 3 } }) });
    perStep
      .given(step1)
      .when(updateCompleted(1, 1))
      .then([ev('StepStarted', { step: 2, epoch: 0 }, 'StepStarted/2', 'UpdateCompleted/1')]);
    // epoch 1 (step 3) opens with EpochStarted and StepStarted together
    perStep
      .given(step2)
      .when(updateCompleted(2, 2))
      .then([
        ev('EpochStarted', { epoch: 1, firstStep: 3, budget: 4 }, 'EpochStarted/1', 'UpdateCompleted/2'),
        ev('StepStarted', { step: 3, epoch: 1 }, 'StepStarted/3', 'UpdateCompleted/2'),
      ]);
  });
});
