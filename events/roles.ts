/**
 * Who may say what (DESIGN §8). A process other than the run's own appends through the subject of its role,
 * `dare.<run>.append.<role>`, and the store accepts there only the event types that role emits: an actor
 * process proposes decisions, a bridge reports worker facts, and neither logs the run's lifecycle or a
 * control command — those come from the run's own process (the store's host), in-process or through the
 * unscoped `dare.<run>.append`, which the NATS permissions of bus/permissions.ts give to no other user.
 */
import type { EventType } from './catalogue.ts';

/** The roles that append through a subject of their own. */
export const APPEND_ROLES = ['actor', 'bridge'] as const;
export type AppendRole = (typeof APPEND_ROLES)[number];

/** Event types each role emits (grouped as events/catalogue.ts groups them). */
export const ROLE_EVENT_TYPES: Readonly<Record<AppendRole, readonly EventType[]>> = {
  actor: [
    // session (its lifecycle decisions; RunStarted/RunResumed/RunExtended are the run process's own)
    'EpochStarted', 'StepStarted', 'RunCompleted', 'RunStopped',
    // prompts, estimator, sampler, learner
    'PromptsRegistered', 'ScoreRequested', 'SignalRequested', 'DifficultyEstimated', 'BatchSelected',
    'RolloutRequested', 'UpdateRequested', 'CheckpointRequested', 'EvalRequested', 'CurriculumAdvanced',
  ],
  bridge: [
    'RolloutCompleted', 'ScoreCompleted', 'SignalCompleted', 'UpdateCompleted', 'CheckpointSaved', 'EvalCompleted',
    'WorkerJoined', 'WorkerLost',
  ],
};

/**
 * Logged only by the run's own process: the run's lifecycle, a failure (a replica bridge whose job fails
 * drops out; it does not end the run) and control (a `dare control` message or a signal, turned into a
 * ControlApplied by the process that serves the control subject).
 */
export const RUN_PROCESS_EVENT_TYPES: readonly EventType[] = ['RunStarted', 'RunResumed', 'RunExtended', 'RunFailed', 'ControlApplied'];

export function isAppendRole(x: string): x is AppendRole {
  return (APPEND_ROLES as readonly string[]).includes(x);
}

const ALLOWED = Object.fromEntries(APPEND_ROLES.map((r) => [r, new Set<string>(ROLE_EVENT_TYPES[r])])) as Record<AppendRole, Set<string>>;

/** May a process of `role` append an event of `type`? */
export function mayAppend(role: AppendRole, type: string): boolean {
  return ALLOWED[role].has(type);
}

/** Why `role` may not append `type`, in words for the refusal (undefined: it may). */
export function refusalFor(role: AppendRole, type: string): string | undefined {
  if (mayAppend(role, type)) return undefined;
  const what = role === 'bridge' ? 'worker facts' : 'decisions';
  return `a${role === 'actor' ? 'n' : ''} ${role} appends only ${what} (${ROLE_EVENT_TYPES[role].join(', ')}), not ${type}`;
}
