/**
 * Control-plane figures (issue: benchmarks): what a step costs beyond the worker's own compute, measured on
 * real runs through run/runner.ts (in process: a private nats-server, the LMDB log, every actor, the bridge).
 *
 * Definition. A run's steady state is the window from the UpdateCompleted of step `warmup` to the
 * UpdateCompleted of the last step (timestamps of the logged events, ms since the epoch); step time = window
 * / steps in it. Worker compute = the time the bridge spent inside worker jobs overlapping the window
 * (Bridge.workerClock: for the in-process sim the synchronous job, for a process worker call → reply,
 * pipe included). Control-plane time per step = step time − worker compute per step: the store, NATS, the
 * actors' folds and decisions, the bridge's own work (prompt rows, blobs, validation) and waiting between
 * them. The first `warmup` steps (JIT, the baseline evaluation, the estimator's first round) are excluded,
 * and so is the final evaluation and checkpoint (after the last UpdateCompleted).
 *
 * On a shared machine wall time includes waiting for a core, so the sim figure comes with a CPU-time twin:
 * this process's CPU time (all threads; sampled every 20 ms and interpolated at the window's ends) minus the
 * CPU time of the sim's jobs, per step. It leaves out the nats-server process.
 */
import { writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import pino from 'pino';
import { runScenario, type RunOutcome } from '../run/runner.ts';
import type { WorkerClock } from '../gpu-bridge/timedWorker.ts';
import { EventLog } from '../store/eventLog.ts';

export const REPO_ROOT = resolve(fileURLToPath(new URL('..', import.meta.url)));

/** A logger that drops everything below warnings (the bench prints figures, not run logs). */
export function quietLogger() {
  return pino({ level: process.env.DARE_BENCH_LOG_LEVEL ?? 'warn' }, pino.destination(2));
}

/** This process's CPU time (ms) over wall time (ms since the epoch), sampled while a run goes on. */
export class CpuSampler {
  private readonly samples: Array<[number, number]> = [];
  private timer: ReturnType<typeof setInterval> | null = null;

  start(everyMs = 20): this {
    const take = () => {
      const c = process.cpuUsage();
      this.samples.push([performance.timeOrigin + performance.now(), (c.user + c.system) / 1000]);
    };
    take();
    this.timer = setInterval(take, everyMs);
    return this;
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  /** CPU ms used up to wall time `t` (linear between samples). */
  at(t: number): number {
    const s = this.samples;
    if (s.length === 0) return NaN;
    if (t <= s[0][0]) return s[0][1];
    for (let i = 1; i < s.length; i++) {
      if (s[i][0] >= t) {
        const [t0, c0] = s[i - 1];
        const [t1, c1] = s[i];
        return c0 + ((c1 - c0) * (t - t0)) / Math.max(1e-9, t1 - t0);
      }
    }
    return s[s.length - 1][1];
  }
}

export interface StepWindow {
  /** steps in the window */
  steps: number;
  /** the window, ms since the epoch */
  t0: number;
  t1: number;
  /** wall time per step, ms */
  stepMs: number;
  /** worker compute per step, ms */
  workerMs: number;
  /** stepMs − workerMs */
  controlMs: number;
}

/** The steady-state window of a finished run (see the header); `warmup` ≥ 1 steps are left out. */
export function stepWindow(runDir: string, clock: WorkerClock, warmup: number): StepWindow {
  const done = new Map<number, number>();
  const log = EventLog.open(join(runDir, 'log'), { readOnly: true });
  try {
    for (const { event } of log.iterate(1)) if (event.type === 'UpdateCompleted') done.set(event.data.step, event.ts);
  } finally {
    void log.close();
  }
  const last = Math.max(0, ...done.keys());
  const t0 = done.get(warmup);
  const t1 = done.get(last);
  const steps = last - warmup;
  if (t0 === undefined || t1 === undefined || steps < 1) {
    throw new Error(`${runDir}: the run has ${done.size} completed updates; the window needs steps ${warmup}..${warmup + 1} at least`);
  }
  // the union of the job spans: in pipelined mode a job waits in a serial worker behind the one it runs
  // (its span starts early), and the sum would count that time twice; in sync mode spans never overlap
  let worker = 0;
  let end = -Infinity;
  for (const [a0, b0] of [...clock.spans].sort((x, y) => x[0] - y[0])) {
    const a = Math.max(a0, t0, end);
    const b = Math.min(b0, t1);
    if (b > a) worker += b - a;
    end = Math.max(end, Math.min(b0, t1));
  }
  const stepMs = (t1 - t0) / steps;
  const workerMs = worker / steps;
  return { steps, t0, t1, stepMs, workerMs, controlMs: stepMs - workerMs };
}

/** CPU ms per step of this process in the window, less the in-process worker's job CPU (sim only). */
function cpuControlMs(w: StepWindow, cpu: CpuSampler, clock: WorkerClock): number {
  let jobs = 0;
  for (const [a, b, c] of clock.spans) if (a >= w.t0 && b <= w.t1) jobs += c * 1000;
  return (cpu.at(w.t1) - cpu.at(w.t0) - jobs) / w.steps;
}

export const round = (x: number, d = 2) => Number(x.toFixed(d));

/** The sim scenario of `orchestration.msPerStep`: B prompts of G rollouts each, a `prompts`-prompt dataset. */
export function simScenario(o: { steps: number; batchSize: number; groupSize: number; prompts: number; checkpointEvery?: number; evalEvery?: number; method?: string }): object {
  return {
    description: `control-plane benchmark: ${o.method ?? 'dare'} on the sim, fixed group size`,
    method: o.method ?? 'dare',
    run: { steps: o.steps, batchSize: o.batchSize, stepsPerEpoch: 10, checkpointEvery: o.checkpointEvery ?? 0, evalEvery: o.evalEvery ?? 0, evalSize: 1000 },
    task: { source: 'sim', count: o.prompts, evalCount: 1000, maxResponseTokens: 512 },
    worker: { kind: 'sim', lr: 0.05, simDistribution: 'uniform' },
    // tiers none: every prompt gets gMedium = G rollouts
    sampler: { tiers: 'none', gMedium: o.groupSize },
    learner: { sigma: 0.5, bufferSize: 1024 },
  };
}

export interface SimOrchestrationOptions {
  steps: number;
  warmup: number;
  batchSize: number;
  groupSize: number;
  prompts: number;
  /** method preset (default dare); the scenario's group size and replay mix stay */
  method?: string;
}

/** Run the sim scenario of `o` as DIR/NAME (its scenario file beside it), quietly; its steady-state window. */
export async function runSimScenario(dir: string, name: string, o: SimOrchestrationOptions): Promise<{ out: RunOutcome; w: StepWindow }> {
  const scenario = join(dir, `${name}.json`);
  writeFileSync(scenario, JSON.stringify(simScenario(o), null, 2));
  const out = await runScenario({ scenario, runDir: join(dir, name), logger: quietLogger() });
  return { out, w: stepWindow(out.runDir, out.workerClock, o.warmup) };
}

/** `orchestration.msPerStep` on the sim worker (see the header). */
export async function simOrchestrationBench(dir: string, o: SimOrchestrationOptions): Promise<Record<string, number>> {
  const cpu = new CpuSampler().start();
  let run: Awaited<ReturnType<typeof runSimScenario>>;
  try {
    run = await runSimScenario(dir, 'orchestration-sim', o);
  } finally {
    cpu.stop();
  }
  const { out, w } = run;
  return {
    'orchestration.msPerStep': round(w.controlMs),
    'orchestration.sim.cpuMsPerStep': round(cpuControlMs(w, cpu, out.workerClock)),
    'orchestration.sim.stepMs': round(w.stepMs),
    'orchestration.sim.workerMsPerStep': round(w.workerMs),
    'orchestration.sim.steps': w.steps,
    'orchestration.sim.batchSize': o.batchSize,
    'orchestration.sim.groupSize': o.groupSize,
  };
}

export interface TinyShareOptions {
  steps: number;
  warmup: number;
  /** the tiny worker's supervised warm start (the quickstart's 400 steps take a while; not in the window) */
  warmStartSteps: number;
}

/** `orchestration.shareOfStep`: scenarios/quickstart.json (tiny PyTorch worker, CPU) with fewer steps. */
export async function tinyShareBench(dir: string, o: TinyShareOptions): Promise<Record<string, number>> {
  const out = await runScenario({
    scenario: join(REPO_ROOT, 'scenarios', 'quickstart.json'),
    runDir: join(dir, 'orchestration-tiny'),
    steps: o.steps,
    sets: [`worker.warmStartSteps=${o.warmStartSteps}`],
    logger: quietLogger(),
  });
  const w = stepWindow(out.runDir, out.workerClock, o.warmup);
  return {
    'orchestration.shareOfStep': round(w.controlMs / w.stepMs, 4),
    'orchestration.tiny.stepMs': round(w.stepMs, 1),
    'orchestration.tiny.controlMsPerStep': round(w.controlMs),
    'orchestration.tiny.steps': w.steps,
  };
}
