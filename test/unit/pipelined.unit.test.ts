/**
 * Pipelined mode's rule (actors/session.ts startsEarly, DESIGN §5): the next step starts at this step's
 * UpdateRequested only in pipelined mode, with the previous update complete, and when nothing acts at this
 * update's boundary that needs the new weights first (a checkpoint; a pause, a stop, the end; an epoch's
 * estimate with per-epoch estimation). An evaluation does not hold it (it names its version).
 */
import { describe, expect, it } from 'vitest';
import { resolveConfig } from '../../events/config.ts';
import { sessionActor, startsEarly, type SessionState } from '../../actors/session.ts';

function at(step: number, sets: string[], over: Partial<SessionState> = {}): SessionState {
  const cfg = resolveConfig({ method: 'dare', task: { source: 'sim' }, worker: { kind: 'sim' } }, sets);
  return { ...sessionActor.initialState(cfg), promptsRegistered: true, step, updatedStep: step - 1, policyVersion: step - 1, ...over };
}

const P = ['run.offPolicySteps=1', 'run.steps=10', 'run.checkpointEvery=5', 'run.evalEvery=2', 'run.estimation=step'];

describe('startsEarly', () => {
  it('holds in pipelined mode between boundaries, evaluations included', () => {
    expect(startsEarly(at(3, P), 3, 2)).toBe(true);
    // step 4 is an evaluation step (evalEvery 2): the next step still starts
    expect(startsEarly(at(4, P), 4, 3)).toBe(true);
  });
  it('never in sync mode', () => {
    expect(startsEarly(at(3, P.filter((x) => !x.startsWith('run.offPolicySteps'))), 3, 2)).toBe(false);
  });
  it('not when the update makes a checkpoint due (version 5 with checkpointEvery 5), nor at the last step', () => {
    expect(startsEarly(at(5, P), 5, 4)).toBe(false);
    expect(startsEarly(at(10, P), 10, 9)).toBe(false);
  });
  it('not while paused, stopping, or before the previous update is complete, nor for another step', () => {
    expect(startsEarly(at(3, P, { paused: true }), 3, 2)).toBe(false);
    expect(startsEarly(at(3, P, { stopRequested: true }), 3, 2)).toBe(false);
    expect(startsEarly(at(3, P, { updatedStep: 1 }), 3, 1)).toBe(false);
    expect(startsEarly(at(3, P), 2, 1)).toBe(false);
  });
  it('per-epoch estimation: not into an epoch start (its estimate is of the new weights)', () => {
    const E = [...P.filter((x) => !x.startsWith('run.estimation')), 'run.estimation=epoch', 'run.stepsPerEpoch=3'];
    expect(startsEarly(at(3, E), 3, 2)).toBe(false); // step 4 opens epoch 1
    expect(startsEarly(at(2, E), 2, 1)).toBe(true);
  });
});
