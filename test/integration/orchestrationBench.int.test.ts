/**
 * The plumbing of the control-plane figures of `dare bench` (bench/orchestration.ts, replayLog.ts,
 * resume.ts) on tiny configurations: each returns its named figures, finite and of the right sign. The
 * timings themselves are benchmarks (BENCHMARKS.md), never asserted here.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { simOrchestrationBench, tinyShareBench } from '../../bench/orchestration.ts';
import { cachedSimRun, logBytesBench, replayBench } from '../../bench/replayLog.ts';
import { resumeBench } from '../../bench/resume.ts';
import { hasTorch } from '../support/runs.ts';
import { tempDir } from '../support/tmp.ts';

const { dir, cleanup } = tempDir('dare-orchbench-');
afterAll(cleanup);

function expectFigures(f: Record<string, number>, names: string[]): void {
  for (const n of names) {
    expect(f, n).toHaveProperty(n);
    expect(Number.isFinite(f[n]), `${n} = ${f[n]}`).toBe(true);
  }
}

describe('control-plane bench figures', () => {
  it('orchestration.msPerStep from a short sim run', async () => {
    const f = await simOrchestrationBench(dir, { steps: 4, warmup: 1, batchSize: 32, groupSize: 4, prompts: 300 });
    expectFigures(f, ['orchestration.msPerStep', 'orchestration.sim.cpuMsPerStep', 'orchestration.sim.stepMs', 'orchestration.sim.workerMsPerStep', 'orchestration.sim.steps']);
    expect(f['orchestration.sim.steps']).toBe(3);
    expect(f['orchestration.sim.workerMsPerStep']).toBeGreaterThan(0);
    expect(f['orchestration.sim.stepMs']).toBeGreaterThanOrEqual(f['orchestration.sim.workerMsPerStep']);
  });

  it.skipIf(!hasTorch())('orchestration.shareOfStep from a short tiny-worker run', async () => {
    const f = await tinyShareBench(dir, { steps: 3, warmup: 1, warmStartSteps: 2 });
    expectFigures(f, ['orchestration.shareOfStep', 'orchestration.tiny.stepMs', 'orchestration.tiny.controlMsPerStep']);
    expect(f['orchestration.shareOfStep']).toBeLessThanOrEqual(1);
  }, 180_000);

  it('replay, resume and bytes per rollout over a cached killed run', async () => {
    const cache = join(dir, 'cache');
    const run = await cachedSimRun(1500, undefined, cache);
    expect(run.events).toBeGreaterThanOrEqual(1500);
    expect(existsSync(join(run.runDir, 'log', 'data.mdb'))).toBe(true);
    // the second call is served from the cache
    expect((await cachedSimRun(1500, undefined, cache)).generatedSeconds).toBe(0);

    const r = replayBench(run.runDir);
    expectFigures(r, ['replay.eventsPerSec', 'replay.events']);
    expect(r['replay.events']).toBe(run.events);

    const s = await resumeBench(run.runDir, dir);
    expectFigures(s, ['resume.seconds', 'resume.toRunResumedSeconds', 'resume.logEvents']);
    expect(s['resume.seconds']).toBeGreaterThan(0);
    expect(s['resume.logEvents']).toBe(run.events);

    const b = logBytesBench(run.runDir);
    expectFigures(b, ['log.bytesPerRollout', 'log.eventBytesPerRollout', 'log.blobBytesPerRollout']);
    expect(b['log.bytesPerRollout']).toBeGreaterThan(b['log.eventBytesPerRollout']);
  }, 180_000);
});
