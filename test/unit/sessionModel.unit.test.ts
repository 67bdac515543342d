/**
 * Model-based test of the session's statechart: xstate/graph enumerates every simple path through the
 * machine under EVERY event type in any order (not only the orders the other actors produce), and each
 * reachable phase sequence must keep the run's invariants:
 *  - an update is entered only from rolling out (no update before the step's rollouts are requested and in),
 *  - one update per step (a new step starts between two updates),
 *  - a checkpoint only after an update,
 *  - failed is final; done is left only by an extension (RunExtended: to stopped, as a stop), and stopped only
 *    by what `dare resume` brings (RunResumed, or the next epoch or step a resume starts).
 */
import { getShortestPaths, getSimplePaths } from 'xstate/graph';
import { createActor, type AnyStateMachine } from 'xstate';
import { describe, expect, it } from 'vitest';
import { machineOf, type LogEvent } from '../../actors/machine.ts';
import { sessionActor, stepComplete, type SessionState } from '../../actors/session.ts';
import { eventId, makeEvent, type DareEvent } from '../../events/catalogue.ts';
import { DEFAULTS } from '../../events/config.ts';

const run = 'model';
let seq = 0;
function ev(e: DareEvent): LogEvent {
  return { type: e.type, logged: { seq: ++seq, event: e } };
}
const meta = (id: string) => ({ run, id, ts: 0 });

// one sample of every event that moves the session, with plausible payloads
const EVENTS: LogEvent[] = [
  ev(makeEvent('PromptsRegistered', { count: 4, evalCount: 2, contentHash: 'a'.repeat(64), source: 's', categories: ['c'], categoryOf: new Uint16Array(6), conflicts: 0 }, meta('PromptsRegistered'))),
  ev(makeEvent('EvalRequested', { step: 0, policyVersion: 0, prompts: new Uint32Array([4, 5]) }, meta(eventId('EvalRequested', 0)))),
  ev(makeEvent('EvalCompleted', { step: 1, policyVersion: 1, accuracy: 0.5, byTier: {}, oracleAccuracy: null }, meta(eventId('EvalCompleted', 1)))),
  ev(makeEvent('EpochStarted', { epoch: 0, firstStep: 1, budget: 4 }, meta(eventId('EpochStarted', 0)))),
  ev(makeEvent('DifficultyEstimated', { epoch: 0, step: 1, method: 'snis', difficulty: new Float32Array(4), source: new Uint8Array(4), ess: new Float32Array(4), key: null, diagnostics: {} }, meta(eventId('DifficultyEstimated', 1)))),
  ev(makeEvent('StepStarted', { step: 1, epoch: 0 }, meta(eventId('StepStarted', 1)))),
  ev(makeEvent('BatchSelected', { step: 1, epoch: 0, key: { seed: 1, step: 1, purpose: 'select' }, strategy: 'beta', prompts: new Uint32Array([0]), difficulty: new Float32Array([0.5]), tier: new Uint8Array([1]), rollouts: new Uint16Array([2]), hints: new Uint16Array([0]), filled: 0 }, meta(eventId('BatchSelected', 1)))),
  ev(makeEvent('UpdateRequested', { step: 1, policyVersion: 0, key: { seed: 1, step: 1, purpose: 'replay' }, groups: ['g/1/0'], freshGroups: 1, rowGroup: new Uint32Array(2), rowIndex: new Uint16Array([0, 1]), rawReward: new Float32Array(2), shapedReward: new Float32Array(2), advantage: new Float32Array(2), clipLo: new Float32Array(2), clipHi: new Float32Array(2), weight: new Float32Array(2), bin: new Int32Array(2), aggregation: 'token-mean', lConst: 8, entropyCoeff: 0, klCoeff: 0, maskTruncated: false }, meta(eventId('UpdateRequested', 1)))),
  ev(makeEvent('UpdateCompleted', { step: 1, policyVersion: 1, loss: 0, clipFrac: 0, kl: 0, entropy: 0, gradNorm: 0, tokens: 2, binLosses: {} }, meta(eventId('UpdateCompleted', 1)))),
  ev(makeEvent('CheckpointRequested', { policyVersion: 1, path: 'checkpoints/v1.ckpt' }, meta(eventId('CheckpointRequested', 1)))),
  ev(makeEvent('CheckpointSaved', { policyVersion: 1, path: 'checkpoints/v1.ckpt', sha256: 'b'.repeat(64), bytes: 1 }, meta(eventId('CheckpointSaved', 1)))),
  ev(makeEvent('ControlApplied', { command: 'pause', source: 'test' }, meta('ControlApplied/pause'))),
  ev(makeEvent('ControlApplied', { command: 'resume', source: 'test' }, meta('ControlApplied/resume'))),
  ev(makeEvent('RunCompleted', { steps: 1, policyVersion: 1, weightsSha256: null }, meta('RunCompleted'))),
  ev(makeEvent('RunFailed', { reason: 'x' }, meta('RunFailed/x'))),
  ev(makeEvent('ControlApplied', { command: 'stop', source: 'test' }, meta('ControlApplied/stop'))),
  ev(makeEvent('RunStopped', { steps: 1, policyVersion: 1 }, meta('RunStopped/1/0'))),
  ev(makeEvent('RunExtended', { steps: 2, from: 1 }, meta('RunExtended/1'))),
  ev(makeEvent('RunResumed', { fromSeq: 10, policyVersion: 1, checkpoint: null, reapplied: 0, reissued: [] }, meta('RunResumed/1'))),
];

describe('session statechart (model-based, xstate/graph)', () => {
  const machine = machineOf(sessionActor) as unknown as AnyStateMachine;
  const serializeEvent = (e: LogEvent) => `${e.type}/${e.logged.event.id}`;
  // 1. every simple path over the phases (the statechart itself)
  const simple = getSimplePaths(machine, {
    input: { config: DEFAULTS },
    events: EVENTS,
    serializeState: (s: unknown) => JSON.stringify((s as { value: unknown }).value),
    serializeEvent,
  } as never);
  // 2. a shortest path to every combination of phase and the facts the barrier reads (reaches `paused`)
  const shortest = getShortestPaths(machine, {
    input: { config: DEFAULTS },
    events: EVENTS,
    serializeState: (s: unknown) => {
      const snap = s as { value: unknown; context: { state: SessionState } };
      const st = snap.context.state;
      return JSON.stringify([snap.value, st.paused, stepComplete(st), st.step, st.updatedStep, st.promptsRegistered, st.evalStep]);
    },
    serializeEvent,
  } as never);
  const paths = [...simple, ...shortest];

  it('reaches every phase of the statechart', () => {
    const reached = new Set(paths.map((p) => String(p.state.value)));
    for (const phase of sessionActor.phases) if (phase !== 'starting') expect(reached, phase).toContain(phase);
    expect(paths.length).toBeGreaterThan(50);
  });

  it('every reachable phase sequence keeps the invariants', () => {
    for (const path of paths) {
      // steps[i] = the event and the state it led to (steps[0] is xstate.init)
      const phases = path.steps.map((s) => String(s.state.value));
      const events = path.steps.map((s) => s.event.type);
      let updatesSinceStep = 0;
      for (let i = 1; i < phases.length; i++) {
        const [from, to, via] = [phases[i - 1], phases[i], events[i]];
        const where = `${phases.join(' → ')} (via ${events.join(', ')})`;
        if (to === 'updating' && from !== 'updating') {
          expect(from, `update entered from ${from}: ${where}`).toBe('rollingOut');
          expect(via, where).toBe('UpdateRequested');
          updatesSinceStep++;
          expect(updatesSinceStep, `two updates in one step: ${where}`).toBe(1);
        }
        if ((to === 'selecting' || to === 'estimating') && from !== to) updatesSinceStep = 0;
        if (to === 'checkpointing' && from !== 'checkpointing') expect(from, `checkpoint entered from ${from}: ${where}`).toBe('updating');
        if (from === 'failed') expect(to, `left a final phase: ${where}`).toBe(from);
        if (from === 'done' && to !== from) expect([to, via], `left done: ${where}`).toEqual(['stopped', 'RunExtended']);
        if (from === 'stopped' && to !== from) expect(['RunResumed', 'EpochStarted', 'StepStarted', 'RunCompleted', 'RunFailed'], `left stopped: ${where}`).toContain(via);
      }
    }
  });

  it('a pause that arrives while the epoch is estimated reads `paused` once the estimate is in, until the step starts', () => {
    const actor = createActor(machineOf(sessionActor) as unknown as AnyStateMachine, { input: { config: DEFAULTS } }).start();
    const phaseAfter = (type: string, id?: string) => {
      actor.send(EVENTS.find((e) => e.type === type && (id === undefined || e.logged.event.id === id))!);
      return String(actor.getSnapshot().value);
    };
    expect(phaseAfter('PromptsRegistered')).toBe('starting');
    expect(phaseAfter('EpochStarted')).toBe('estimating');
    expect(phaseAfter('ControlApplied', 'ControlApplied/pause')).toBe('estimating');
    expect(phaseAfter('DifficultyEstimated')).toBe('paused');
    expect(phaseAfter('ControlApplied', 'ControlApplied/resume')).toBe('paused');
    expect(phaseAfter('StepStarted')).toBe('selecting');
    actor.stop();
  });
});
