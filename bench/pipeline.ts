/**
 * Pipelined mode's figures (run.offPolicySteps = 1, DESIGN §5; issue 17):
 * - `pipeline.wallRatio`: wall time per step, pipelined ÷ sync, on the sim whose jobs are given a GPU-like
 *   shape (worker.simRolloutMs per rollout job of ≤ 64 prompts, worker.simUpdateMs per update; B = 64 prompts
 *   of G = 8 rollouts: one rollout job a step). The same scenario both ways, no checkpoint or evaluation
 *   inside the window, so every step of the pipelined run overlaps its rollouts with the previous update;
 *   the same rollouts per step (reported, both ways).
 * - `pipeline.tiny.shareOfStep`: the tiny worker's control-plane share (orchestration.ts's definition) with
 *   run.offPolicySteps = 1: its one process runs jobs in order, so only the control plane overlaps the update.
 * Steady-state windows as in orchestration.ts (from the UpdateCompleted of step `warmup` to the last one).
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runScenario } from '../run/runner.ts';
import { EventLog } from '../store/eventLog.ts';
import { quietLogger, REPO_ROOT, round, simScenario, stepWindow } from './orchestration.ts';

export interface PipelineBenchOptions {
  steps: number;
  warmup: number;
  /** simulated job durations, ms */
  rolloutMs: number;
  updateMs: number;
  /** the tiny run (its warm start is outside the window) */
  tiny: { steps: number; warmup: number; warmStartSteps: number } | null;
}

/** Rollouts generated per step over the window's steps (training rollouts, from the log). */
function rolloutsPerStep(runDir: string, fromStep: number): number {
  const log = EventLog.open(join(runDir, 'log'), { readOnly: true });
  try {
    let rows = 0;
    const steps = new Set<number>();
    for (const { event: e } of log.iterate(1)) {
      if (e.type === 'RolloutCompleted' && e.data.purpose === 'train' && e.data.step > fromStep) {
        rows += e.data.reward.length;
        steps.add(e.data.step);
      }
    }
    return steps.size ? rows / steps.size : 0;
  } finally {
    void log.close();
  }
}

export async function pipelineBench(dir: string, o: PipelineBenchOptions): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  const stepMs: Record<string, number> = {};
  for (const mode of ['sync', 'pipelined'] as const) {
    const sc = simScenario({ steps: o.steps, batchSize: 64, groupSize: 8, prompts: 2000 }) as Record<string, Record<string, unknown>>;
    sc.run = { ...sc.run, offPolicySteps: mode === 'pipelined' ? 1 : 0 };
    sc.worker = { ...sc.worker, simRolloutMs: o.rolloutMs, simUpdateMs: o.updateMs };
    const file = join(dir, `pipeline-${mode}.json`);
    writeFileSync(file, JSON.stringify(sc, null, 2));
    const run = await runScenario({ scenario: file, runDir: join(dir, `pipeline-${mode}`), logger: quietLogger() });
    const w = stepWindow(run.runDir, run.workerClock, o.warmup);
    stepMs[mode] = w.stepMs;
    out[`pipeline.${mode}.stepMs`] = round(w.stepMs, 1);
    out[`pipeline.${mode}.rolloutsPerStep`] = round(rolloutsPerStep(run.runDir, o.warmup), 1);
  }
  out['pipeline.wallRatio'] = round(stepMs.pipelined / stepMs.sync, 3);
  out['pipeline.simRolloutMs'] = o.rolloutMs;
  out['pipeline.simUpdateMs'] = o.updateMs;
  if (o.tiny) {
    const run = await runScenario({
      scenario: join(REPO_ROOT, 'scenarios', 'quickstart.json'),
      runDir: join(dir, 'pipeline-tiny'),
      steps: o.tiny.steps,
      sets: [`worker.warmStartSteps=${o.tiny.warmStartSteps}`, 'run.offPolicySteps=1'],
      logger: quietLogger(),
    });
    const w = stepWindow(run.runDir, run.workerClock, o.tiny.warmup);
    out['pipeline.tiny.shareOfStep'] = round(w.controlMs / w.stepMs, 4);
    out['pipeline.tiny.stepMs'] = round(w.stepMs, 1);
    out['pipeline.tiny.controlMsPerStep'] = round(w.controlMs);
  }
  return out;
}
