/**
 * The session: the run's lifecycle. It starts epochs and steps, holds the barrier at the end of a step
 * (the update, then a checkpoint and an evaluation when they are due), honours pause / resume / stop, and
 * ends the run. Every other actor reacts to the events it emits.
 */
import { eventId, makeEvent, type DareEvent, type Logged } from '../events/catalogue.ts';
import type { RunConfig } from '../events/config.ts';
import type { ActorDef } from './actor.ts';
import { checkpointDue, epochBudget, epochOf, evalDue, isEpochStart } from './cadence.ts';

export const SESSION_PHASES = [
  'starting', 'evaluating', 'estimating', 'selecting', 'rollingOut', 'updating', 'checkpointing', 'paused', 'done', 'failed',
] as const;
export type SessionPhase = (typeof SESSION_PHASES)[number];

export interface SessionState {
  promptsRegistered: boolean;
  /** last step started (0 before the first) */
  step: number;
  epoch: number;
  /** policy version after the last completed update */
  policyVersion: number;
  /** step of the last UpdateCompleted */
  updatedStep: number;
  /** policy version of the last CheckpointSaved */
  checkpointVersion: number;
  /** step of the last EvalCompleted (−1: none yet) */
  evalStep: number;
  paused: boolean;
  stopRequested: boolean;
  done: boolean;
  failed: boolean;
  /** the phase to return to when resumed from a pause */
  beforePause: SessionPhase;
  resumes: number;
}

function initialState(): SessionState {
  return {
    promptsRegistered: false, step: 0, epoch: 0, policyVersion: 0, updatedStep: 0, checkpointVersion: -1, evalStep: -1,
    paused: false, stopRequested: false, done: false, failed: false, beforePause: 'starting', resumes: 0,
  };
}

function evolve(s: SessionState, { event: e }: Logged): SessionState {
  switch (e.type) {
    case 'PromptsRegistered':
      return { ...s, promptsRegistered: true };
    case 'EpochStarted':
      return { ...s, epoch: e.data.epoch };
    case 'StepStarted':
      return { ...s, step: e.data.step, epoch: e.data.epoch };
    case 'UpdateCompleted':
      return { ...s, updatedStep: e.data.step, policyVersion: e.data.policyVersion };
    case 'CheckpointSaved':
      return { ...s, checkpointVersion: Math.max(s.checkpointVersion, e.data.policyVersion) };
    case 'EvalCompleted':
      return { ...s, evalStep: Math.max(s.evalStep, e.data.step) };
    case 'ControlApplied':
      if (e.data.command === 'pause') return { ...s, paused: true, beforePause: s.paused ? s.beforePause : phaseHint(s) };
      if (e.data.command === 'resume') return { ...s, paused: false };
      return { ...s, stopRequested: true };
    case 'RunCompleted':
      return { ...s, done: true };
    case 'RunFailed':
      return { ...s, failed: true };
    case 'RunResumed':
      return { ...s, resumes: s.resumes + 1 };
    default:
      return s;
  }
}

/** The phase a running session is in between events, from its state (used to leave `paused`). */
function phaseHint(s: SessionState): SessionPhase {
  if (s.done) return 'done';
  if (s.updatedStep < s.step) return 'rollingOut';
  return 'updating';
}

/** Is the current step finished: updated, and checkpointed and evaluated where due? (step 0: baseline eval) */
export function stepComplete(s: SessionState, cfg: RunConfig): boolean {
  if (!s.promptsRegistered) return false;
  const t = s.step;
  if (t > 0 && s.updatedStep < t) return false;
  if (t > 0 && checkpointDue(s.policyVersion, t, cfg) && s.checkpointVersion < s.policyVersion) return false;
  if (evalDue(t, cfg) && s.evalStep < t) return false;
  return true;
}

/** The events that start the next step (or end the run). */
function advance(s: SessionState, cfg: RunConfig, run: string, cause: string): DareEvent[] {
  if (s.done || s.failed) return [];
  if (s.stopRequested || s.step >= cfg.run.steps) {
    return [makeEvent('RunCompleted', { steps: s.step, policyVersion: s.policyVersion, weightsSha256: null }, { run, id: eventId('RunCompleted'), cause })];
  }
  if (s.paused) return [];
  const next = s.step + 1;
  const epoch = epochOf(next, cfg);
  const out: DareEvent[] = [];
  if (isEpochStart(next, cfg)) {
    out.push(makeEvent('EpochStarted', { epoch, firstStep: next, budget: epochBudget(epoch, cfg) }, { run, id: eventId('EpochStarted', epoch), cause }));
    // per-epoch estimation: the step starts once the estimator has answered (see DifficultyEstimated)
    if (cfg.run.estimation === 'epoch') return out;
  }
  out.push(makeEvent('StepStarted', { step: next, epoch }, { run, id: eventId('StepStarted', next), cause }));
  return out;
}

const BARRIER = new Set(['UpdateCompleted', 'CheckpointSaved', 'EvalCompleted']);

function decide(s: SessionState, { event: e }: Logged, ctx: { run: string; config: RunConfig }): DareEvent[] {
  const cfg = ctx.config;
  if (s.done || s.failed) return [];
  if (BARRIER.has(e.type)) {
    // only the event that completes the barrier moves on, so the next step is started exactly once
    return stepComplete(s, cfg) ? advance(s, cfg, ctx.run, e.id) : [];
  }
  switch (e.type) {
    case 'DifficultyEstimated':
      // the epoch's estimate is in: start its first step (per-step estimation: the sampler reacts instead)
      if (cfg.run.estimation === 'epoch' && s.step + 1 > 0 && isEpochStart(s.step + 1, cfg) && !s.paused) {
        return [makeEvent('StepStarted', { step: s.step + 1, epoch: epochOf(s.step + 1, cfg) }, { run: ctx.run, id: eventId('StepStarted', s.step + 1), cause: e.id })];
      }
      return [];
    case 'ControlApplied':
      if (e.data.command === 'pause') return [];
      // resume or stop at a step boundary acts now; mid-step it takes effect at the barrier
      return stepComplete(s, cfg) ? advance(s, cfg, ctx.run, e.id) : [];
    default:
      return [];
  }
}

/** pause moves to `paused`; resume leaves it when the next step starts (or at once when mid-step) */
const control = {
  targets: SESSION_PHASES,
  pick: (s: SessionState, _e: Logged, from: SessionPhase): SessionPhase => (s.paused ? 'paused' : from === 'paused' ? s.beforePause : from),
};

export const sessionActor: ActorDef<SessionState, SessionPhase> = {
  name: 'session',
  description: 'the run lifecycle: epochs, steps, the end-of-step barrier, pause/resume/stop',
  phases: SESSION_PHASES,
  initialPhase: 'starting',
  edges: {
    '*': { ControlApplied: control, RunFailed: 'failed', RunCompleted: 'done' },
    starting: { EvalRequested: 'evaluating', EpochStarted: 'estimating' },
    evaluating: { EpochStarted: 'estimating', StepStarted: 'selecting' },
    estimating: { DifficultyEstimated: 'selecting', BatchSelected: 'rollingOut' },
    selecting: { BatchSelected: 'rollingOut' },
    rollingOut: { UpdateRequested: 'updating' },
    updating: { CheckpointRequested: 'checkpointing', EvalRequested: 'evaluating', EpochStarted: 'estimating', StepStarted: 'selecting' },
    checkpointing: { EvalRequested: 'evaluating', EpochStarted: 'estimating', StepStarted: 'selecting' },
    paused: { EpochStarted: 'estimating', StepStarted: 'selecting' },
  },
  initialState,
  evolve,
  decide,
  summary: (s) => ({ step: s.step, epoch: s.epoch, policyVersion: s.policyVersion, paused: s.paused, stopRequested: s.stopRequested, done: s.done }),
  snapshot: (s) => s,
  restore: (snap) => snap as SessionState,
};
