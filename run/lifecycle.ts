/** Where a logged run stands, read from its log: what `dare resume` decides from (never a decision of the run). */
import type { EventLog } from '../store/eventLog.ts';

export interface LoggedLifecycle {
  started: boolean;
  /** RunCompleted is the last word (no RunExtended after it) */
  completed: boolean;
  /** RunStopped is the last word (no RunResumed after it) */
  stopped: boolean;
  /** the run's step total: run.steps, or the last RunExtended */
  steps: number;
  /** the last step started */
  stepsStarted: number;
}

export function lifecycleOf(log: EventLog, configuredSteps: number): LoggedLifecycle {
  const l: LoggedLifecycle = { started: false, completed: false, stopped: false, steps: configuredSteps, stepsStarted: 0 };
  for (const { event: e } of log.iterate(1)) {
    switch (e.type) {
      case 'RunStarted':
        l.started = true;
        break;
      case 'StepStarted':
        l.stepsStarted = e.data.step;
        break;
      case 'RunCompleted':
        l.completed = true;
        break;
      case 'RunStopped':
        l.stopped = true;
        break;
      case 'RunResumed':
        l.stopped = false;
        break;
      case 'RunExtended':
        l.steps = e.data.steps;
        l.completed = false;
        break;
    }
  }
  return l;
}
