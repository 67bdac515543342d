/** summary.json (DESIGN §11): what a finished run did, from its metrics fold. */
import type { RunConfig } from '../events/config.ts';
import type { RunMetrics } from './metrics.ts';

type EvalByTier = Record<string, { accuracy: number; meanLength: number; count: number }>;

export interface Summary {
  runId: string;
  scenario: string;
  method: string;
  steps: number;
  policyVersion: number;
  rollouts: { generated: number; trained: number; buffered: number; discarded: number; inFlight: number };
  eval: { accuracy: number | null; byTier: EvalByTier };
  baseline: { accuracy: number | null; byTier: EvalByTier };
  seconds: { wall: number; rollout: number; score: number; update: number; orchestration: number };
  logEvents: number;
  weightsSha256: string | null;
  completed: boolean;
  /** stopped at a step boundary (`dare resume DIR` continues it) */
  stopped: boolean;
}

export function summaryOf(run: string, scenario: string, config: RunConfig, m: RunMetrics, events: number): Summary {
  const last = m.evals[m.evals.length - 1];
  const first = m.evals.find((e) => e.step === 0);
  return {
    runId: run,
    scenario,
    method: config.method,
    steps: m.steps.filter((s) => s.step > 0 && Number.isFinite(s.loss)).length,
    policyVersion: m.policyVersion,
    rollouts: m.accounting,
    eval: { accuracy: last?.accuracy ?? null, byTier: last?.byTier ?? {} },
    baseline: { accuracy: first?.accuracy ?? null, byTier: first?.byTier ?? {} },
    seconds: m.seconds,
    logEvents: events,
    weightsSha256: m.weightsSha256,
    completed: m.completed,
    stopped: m.stopped,
  };
}
