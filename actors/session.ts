/**
 * The session: the run's lifecycle. It starts epochs and steps, holds the barrier at the end of a step
 * (the update, then a checkpoint and an evaluation when they are due), honours pause / resume / stop, and
 * ends the run. Every other actor reacts to the events it emits.
 *
 * A stop is a pause that outlives the process: the step in flight finishes with a checkpoint and an
 * evaluation (the learner requests them), then RunStopped; `dare resume` (RunResumed) goes on from there.
 * RunExtended (`dare resume --steps N`) raises the step total, and reopens a completed run.
 */
import { eventId, makeEvent, type DareEvent, type EventOf, type Logged } from '../events/catalogue.ts';
import type { RunConfig } from '../events/config.ts';
import type { ActorDef } from './actor.ts';
import type { Guard } from './statechart.ts';
import { checkpointDue, epochBudget, epochOf, evalDue, isEpochStart } from './cadence.ts';

export const SESSION_PHASES = [
  'starting', 'evaluating', 'estimating', 'selecting', 'rollingOut', 'updating', 'checkpointing', 'paused', 'stopped', 'done', 'failed',
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
  /** ended this process's run (RunStopped, or RunCompleted then RunExtended): the next RunResumed goes on */
  halted: boolean;
  /** RunExtended events folded (a completion after one has its own id) */
  extensions: number;
  done: boolean;
  failed: boolean;
  resumes: number;
  /** the step the latest DifficultyEstimated was made for */
  estimatedFor: number;
  /** the step whose barrier the session has moved on from (next step started or run ended) … */
  advancedFrom: number;
  /** … and the sequence number of the event at which it did: only that event's decision moves on */
  advancedAt: number;
  /** the parts of the configuration the barrier needs (so the statechart can read them from the state) */
  schedule: Pick<RunConfig['run'], 'steps' | 'checkpointEvery' | 'evalEvery'>;
  /** run.offPolicySteps (pipelined mode: the next step may start at this one's UpdateRequested); absent in old snapshots: 0 */
  offPolicySteps?: number;
  /** run.estimation and run.stepsPerEpoch, for the same (only set with offPolicySteps) */
  estimation?: RunConfig['run']['estimation'];
  stepsPerEpoch?: number;
}

function initialState(cfg: RunConfig): SessionState {
  const { steps, checkpointEvery, evalEvery } = cfg.run;
  return {
    promptsRegistered: false, step: 0, epoch: 0, policyVersion: 0, updatedStep: 0, checkpointVersion: -1, evalStep: -1,
    paused: false, stopRequested: false, halted: false, extensions: 0, done: false, failed: false, resumes: 0, estimatedFor: 0, advancedFrom: -1, advancedAt: 0,
    schedule: { steps, checkpointEvery, evalEvery },
    ...(cfg.run.offPolicySteps ? { offPolicySteps: cfg.run.offPolicySteps, estimation: cfg.run.estimation, stepsPerEpoch: cfg.run.stepsPerEpoch } : {}),
  };
}

/** Whether the session moves on once the step is complete (not while paused, unless the run ends). */
function wouldAdvance(s: SessionState): boolean {
  return !s.done && !s.failed && !s.halted && (s.stopRequested || s.step >= s.schedule.steps || !s.paused);
}

/**
 * Fold one event. The moment the session moves past a step's barrier is part of its state (advancedFrom /
 * advancedAt), so a control event that lands between the barrier and the next StepStarted cannot move it
 * on a second time (the next step was already started by the barrier's decision).
 */
function evolve(s: SessionState, logged: Logged): SessionState {
  const e = logged.event;
  const next = fold(s, logged);
  // a resume of a halted run moves on from the step it stopped at (its barrier was passed once already)
  if (e.type === 'RunResumed' && s.halted && stepComplete(next) && wouldAdvance(next)) {
    return { ...next, advancedFrom: next.step, advancedAt: logged.seq };
  }
  if ((BARRIER.has(e.type) || e.type === 'ControlApplied') && next.advancedFrom !== next.step && stepComplete(next) && wouldAdvance(next)) {
    return { ...next, advancedFrom: next.step, advancedAt: logged.seq };
  }
  if (e.type === 'UpdateRequested' && next.advancedFrom !== next.step && startsEarly(next, e.data.step, e.data.policyVersion)) {
    return { ...next, advancedFrom: next.step, advancedAt: logged.seq };
  }
  return next;
}

/**
 * Pipelined mode (run.offPolicySteps = 1, DESIGN §5): the step after `step` starts at its UpdateRequested,
 * while the update runs, unless something acts at this update's boundary: a checkpoint due after it (a
 * resume from it could not regenerate rollouts one version behind it), a pause or a stop, the run's last step,
 * or (per-epoch estimation) an epoch whose estimate needs the new weights. An evaluation due after it
 * evaluates exactly that version beside the next step. Only one update is ever in flight: the previous one is complete.
 * `fromVersion` is the version the update starts from (UpdateRequested.policyVersion).
 */
export function startsEarly(s: SessionState, step: number, fromVersion: number): boolean {
  if (!s.offPolicySteps || step !== s.step || s.updatedStep !== step - 1 || !s.promptsRegistered) return false;
  if (s.paused || s.stopRequested || s.done || s.failed || s.halted || step >= s.schedule.steps) return false;
  const cfg = { run: { ...s.schedule } } as RunConfig;
  // (an evaluation due does not hold the next step: it names the version it evaluates, which the worker keeps)
  if (checkpointDue(fromVersion + 1, step, cfg)) return false;
  return !(s.estimation === 'epoch' && isEpochStartOf(step + 1, s));
}

function isEpochStartOf(step: number, s: SessionState): boolean {
  return s.stepsPerEpoch !== undefined && (step - 1) % s.stepsPerEpoch === 0;
}

function fold(s: SessionState, { event: e }: Logged): SessionState {
  switch (e.type) {
    case 'PromptsRegistered':
      return { ...s, promptsRegistered: true };
    case 'EpochStarted':
      return { ...s, epoch: e.data.epoch };
    case 'DifficultyEstimated':
      return { ...s, estimatedFor: e.data.step };
    case 'StepStarted':
      return { ...s, step: e.data.step, epoch: e.data.epoch };
    case 'UpdateCompleted':
      return { ...s, updatedStep: e.data.step, policyVersion: e.data.policyVersion };
    case 'CheckpointSaved':
      return { ...s, checkpointVersion: Math.max(s.checkpointVersion, e.data.policyVersion) };
    case 'EvalCompleted':
      return { ...s, evalStep: Math.max(s.evalStep, e.data.step) };
    case 'ControlApplied':
      if (e.data.command === 'pause') return { ...s, paused: true };
      if (e.data.command === 'resume') return { ...s, paused: false };
      return { ...s, stopRequested: true };
    case 'RunCompleted':
      return { ...s, done: true };
    case 'RunStopped':
      return { ...s, halted: true };
    case 'RunExtended':
      // a completed run waits for the resume that follows, like a stopped one
      return { ...s, schedule: { ...s.schedule, steps: e.data.steps }, extensions: s.extensions + 1, halted: s.halted || s.done, done: false };
    case 'RunFailed':
      return { ...s, failed: true };
    case 'RunResumed':
      // resuming means go on: a stop that had not taken effect when the process ended is dropped
      // (and a halted run may pass its step's barrier again, now or after a pause that still holds)
      return { ...s, resumes: s.resumes + 1, halted: false, stopRequested: false, advancedFrom: s.halted ? -1 : s.advancedFrom };
    default:
      return s;
  }
}

/**
 * Is the current step finished: updated, and checkpointed and evaluated where due? (step 0: baseline eval)
 * A stop makes both due: the run's last weights are saved and evaluated before it stops.
 */
export function stepComplete(s: SessionState): boolean {
  if (!s.promptsRegistered) return false;
  const cfg = { run: s.schedule } as RunConfig;
  const t = s.step;
  if (t > 0 && s.updatedStep < t) return false;
  if (t > 0 && (checkpointDue(s.policyVersion, t, cfg) || s.stopRequested) && s.checkpointVersion < s.policyVersion) return false;
  if ((evalDue(t, cfg) || s.stopRequested) && s.evalStep < t) return false;
  return true;
}

/** The events that start the next step (or end the run). */
function advance(s: SessionState, cfg: RunConfig, run: string, cause: string): DareEvent[] {
  if (s.done || s.failed) return [];
  if (s.step >= s.schedule.steps) {
    // (the first completion's id is the one logs have always had; one after an extension is its own)
    const id = s.extensions === 0 ? eventId('RunCompleted') : eventId('RunCompleted', s.step);
    return [makeEvent('RunCompleted', { steps: s.step, policyVersion: s.policyVersion, weightsSha256: null }, { run, id, cause })];
  }
  if (s.stopRequested) {
    return [makeEvent('RunStopped', { steps: s.step, policyVersion: s.policyVersion }, { run, id: eventId('RunStopped', s.step, s.resumes), cause })];
  }
  if (s.paused) return [];
  const next = s.step + 1;
  const epoch = epochOf(next, cfg);
  const out: DareEvent[] = [];
  if (isEpochStart(next, cfg)) {
    out.push(makeEvent('EpochStarted', { epoch, firstStep: next, budget: epochBudget(epoch, cfg) }, { run, id: eventId('EpochStarted', epoch), cause }));
    // per-epoch estimation: the step starts once the estimator has answered (see DifficultyEstimated),
    // unless it already has (a pause that held the step back after the estimate came in)
    if (cfg.run.estimation === 'epoch' && s.estimatedFor !== next) return out;
  }
  out.push(makeEvent('StepStarted', stepData(s, next, epoch), { run, id: eventId('StepStarted', next), cause }));
  return out;
}

/** StepStarted's data; in pipelined mode with the version the step generates with (the last completed update's). */
function stepData(s: SessionState, step: number, epoch: number): EventOf<'StepStarted'>['data'] {
  return s.offPolicySteps ? { step, epoch, policyVersion: s.policyVersion } : { step, epoch };
}

const BARRIER = new Set(['UpdateCompleted', 'CheckpointSaved', 'EvalCompleted']);

function decide(s: SessionState, logged: Logged, ctx: { run: string; config: RunConfig }): DareEvent[] {
  const e = logged.event;
  const cfg = ctx.config;
  if (s.done || s.failed || s.halted) return [];
  // only the event at which the session moved past the barrier starts the next step (exactly once)
  if (s.advancedAt === logged.seq) return advance(s, cfg, ctx.run, e.id);
  const next = s.step + 1;
  // the epoch's estimate is in: start its first step (per-step estimation: the sampler reacts instead);
  // a resume that ends a pause which held this back starts it too (same id: at most once in the log)
  const estimateIn = cfg.run.estimation === 'epoch' && isEpochStart(next, cfg) && s.estimatedFor === next && !s.paused;
  if (estimateIn && (e.type === 'DifficultyEstimated' || (e.type === 'ControlApplied' && e.data.command === 'resume'))) {
    return [makeEvent('StepStarted', stepData(s, next, epochOf(next, cfg)), { run: ctx.run, id: eventId('StepStarted', next), cause: e.id })];
  }
  return [];
}

/**
 * The statechart's groups: a step's phases sit in `active`, which a pause (at the barrier) or a stop leaves;
 * `open` holds every phase the run can go on from, so it fails or completes from any of them (one edge each).
 * done and failed are left only by an extension (RunExtended: a completed run waits for its resume like a
 * stopped one).
 */
export const SESSION_GROUPS = {
  open: ['active', 'paused', 'stopped'],
  active: ['starting', 'evaluating', 'estimating', 'selecting', 'rollingOut', 'updating', 'checkpointing'],
} as const satisfies Record<string, readonly string[]>;
export type SessionGroup = keyof typeof SESSION_GROUPS;

/**
 * A pause takes effect at the end of the step (the barrier): the session is `paused` once the step is
 * complete and it holds the next one back; resume leaves `paused` when the next step starts.
 */
const pausedAtBarrier: Guard<SessionState> = { name: 'pausedAtBarrier', holds: (s) => s.paused && stepComplete(s) };
/**
 * The epoch's estimate comes in: the step starts, unless a pause arrived while the estimator worked — then
 * the session holds the step back (decide starts it on resume) and reads `paused`.
 */
const heldBack: Guard<SessionState> = { name: 'heldBack', holds: (s) => s.paused };
/** A stopped run resumed while a pause still holds stays held (paused) until `dare control resume`. */
const stillPaused: Guard<SessionState> = { name: 'stillPaused', holds: (s) => s.paused };
const paused = { target: 'paused', guard: pausedAtBarrier } as const;

export const sessionActor: ActorDef<SessionState, SessionPhase, SessionGroup> = {
  name: 'session',
  description: 'the run lifecycle: epochs, steps, the end-of-step barrier, pause/resume/stop',
  phases: SESSION_PHASES,
  initialPhase: 'starting',
  groups: SESSION_GROUPS,
  edges: {
    open: { RunFailed: 'failed', RunCompleted: 'done' },
    active: { UpdateCompleted: paused, CheckpointSaved: paused, EvalCompleted: paused, ControlApplied: paused, RunStopped: 'stopped' },
    starting: { EvalRequested: 'evaluating', EpochStarted: 'estimating' },
    evaluating: { EpochStarted: 'estimating', StepStarted: 'selecting' },
    // (a pause while the estimator works takes effect when the estimate is in: heldBack, not at the control)
    estimating: { DifficultyEstimated: [{ target: 'paused', guard: heldBack }, 'selecting'], BatchSelected: 'rollingOut', ControlApplied: 'estimating' },
    selecting: { BatchSelected: 'rollingOut' },
    rollingOut: { UpdateRequested: 'updating' },
    updating: { CheckpointRequested: 'checkpointing', EvalRequested: 'evaluating', EpochStarted: 'estimating', StepStarted: 'selecting' },
    checkpointing: { EvalRequested: 'evaluating', EpochStarted: 'estimating', StepStarted: 'selecting' },
    paused: { EpochStarted: 'estimating', StepStarted: 'selecting', RunStopped: 'stopped' },
    stopped: { RunResumed: { target: 'paused', guard: stillPaused }, EpochStarted: 'estimating', StepStarted: 'selecting' },
    done: { RunExtended: 'stopped' },
  },
  // 2: halted, extensions (2026-12-07)
  snapshotVersion: 2,
  initialState,
  evolve,
  decide,
  summary: (s) => ({ step: s.step, of: s.schedule.steps, epoch: s.epoch, policyVersion: s.policyVersion, paused: s.paused, stopRequested: s.stopRequested, stopped: s.halted, done: s.done }),
  snapshot: (s) => s,
  restore: (snap) => snap as SessionState,
};
