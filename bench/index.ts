/** `dare bench`: every benchmark's named figures in one object (BENCHMARKS.md records them). */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { algorithmBench } from './algorithmBench.ts';
import { coldStartCostBench, DEEPSCALER } from './coldstart/cost.ts';
import { ceilingBench } from './ceiling/ceiling.ts';
import { logBench } from './logBench.ts';
import { simOrchestrationBench, tinyShareBench } from './orchestration.ts';
import { pipelineBench } from './pipeline.ts';
import { cachedSimRun, logBytesBench, replayBench } from './replayLog.ts';
import { resumeBench } from './resume.ts';
import { stepAnatomyBench } from './stepAnatomy.ts';

export const BENCH_GROUPS = ['log', 'algorithms', 'sim', 'tiny', 'pipeline', 'replay', 'ceiling', 'anatomy'] as const;
/** Groups left out unless named with --only (diagnostics, no targets). */
const ON_REQUEST: readonly BenchGroup[] = ['anatomy'];
export type BenchGroup = (typeof BENCH_GROUPS)[number];

export interface BenchOptions {
  quick: boolean;
  /** the groups to run (default: all) */
  only?: readonly BenchGroup[];
  /** the method preset of the sim and anatomy runs (default dare) */
  method?: string;
  log?: (msg: string) => void;
}

/**
 * Sizes per mode (BENCHMARKS.md "Control plane" repeats them): the sim control-plane run, the tiny-worker
 * run, and the cached log that replay, resume and bytes-per-rollout use.
 */
export const SIZES = {
  quick: {
    sim: { steps: 20, warmup: 8, batchSize: 512, groupSize: 8, prompts: 10_000 },
    tiny: { steps: 5, warmup: 2, warmStartSteps: 50 },
    // the 2 s / 1 s shape, scaled down by 4
    pipeline: { steps: 7, warmup: 2, rolloutMs: 500, updateMs: 250 },
    logEvents: 50_000,
  },
  full: {
    sim: { steps: 60, warmup: 10, batchSize: 512, groupSize: 8, prompts: 10_000 },
    tiny: { steps: 14, warmup: 2, warmStartSteps: 400 },
    pipeline: { steps: 10, warmup: 2, rolloutMs: 2000, updateMs: 1000 },
    logEvents: 1_000_000,
  },
} as const;

export async function runBenchmarks(opts: BenchOptions): Promise<Record<string, number>> {
  const say = opts.log ?? (() => undefined);
  const size = opts.quick ? SIZES.quick : SIZES.full;
  const dir = mkdtempSync(join(process.env.DARE_BENCH_DIR ?? tmpdir(), 'dare-bench-'));
  try {
    const figures: Record<string, number> = {};
    const run = (g: BenchGroup) => (opts.only ? opts.only.includes(g) : !ON_REQUEST.includes(g));
    if (run('log')) {
      say(`bench: log (${opts.quick ? 'quick' : 'full'})`);
      Object.assign(figures, await logBench(dir, { events: opts.quick ? 100_000 : 500_000, batch: 1000, rounds: opts.quick ? 5 : 9 }));
    }
    if (run('algorithms')) {
      say('bench: estimator and sampler (1M prompts)');
      Object.assign(figures, algorithmBench({ prompts: 1_000_000, rowsPerPrompt: 8, select: 1024, repeats: opts.quick ? 3 : 7 }));
      say('bench: the dare preset\'s cold start on DeepScaleR (10,240 questions, 256 references)');
      Object.assign(figures, await coldStartCostBench({ file: DEEPSCALER, rounds: opts.quick ? 6 : 12, growth: 256, cap: 256 }));
    }
    if (run('sim')) {
      say(`bench: control plane on the sim (${opts.method ?? 'dare'}, B ${size.sim.batchSize}, G ${size.sim.groupSize}, ${size.sim.steps} steps)`);
      Object.assign(figures, await simOrchestrationBench(dir, { ...size.sim, method: opts.method }));
    }
    if (run('tiny')) {
      say(`bench: control plane on the tiny worker (quickstart, ${size.tiny.steps} steps)`);
      Object.assign(figures, await tinyShareBench(dir, size.tiny));
    }
    if (run('pipeline')) {
      const p = size.pipeline;
      say(`bench: pipelined mode (sim rollout ${p.rolloutMs} ms, update ${p.updateMs} ms, ${p.steps} steps each way; tiny, offPolicySteps 1)`);
      Object.assign(figures, await pipelineBench(dir, { ...p, tiny: size.tiny }));
    }
    if (run('replay')) {
      const cached = await cachedSimRun(size.logEvents, say);
      say(`bench: replay --verify of ${cached.events} events`);
      Object.assign(figures, replayBench(cached.runDir));
      say('bench: resume');
      Object.assign(figures, await resumeBench(cached.runDir, dir));
      say('bench: log bytes per rollout');
      Object.assign(figures, logBytesBench(cached.runDir));
    }
    if (run('ceiling')) {
      Object.assign(figures, await ceilingBench(dir, { quick: opts.quick, say }));
    }
    if (run('anatomy')) {
      say(`bench: step anatomy on the sim (B ${size.sim.batchSize}, G ${size.sim.groupSize}, ${size.sim.steps} steps, traced)`);
      Object.assign(figures, await stepAnatomyBench(dir, { ...size.sim, method: opts.method }));
    }
    return figures;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
