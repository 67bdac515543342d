/**
 * The plumbing of the control-plane figures of `dare bench` (bench/orchestration.ts, replayLog.ts,
 * resume.ts) on tiny configurations: each returns its named figures, finite and of the right sign. The
 * timings themselves are benchmarks (BENCHMARKS.md), never asserted here.
 */
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { simOrchestrationBench, tinyShareBench } from '../../bench/orchestration.ts';
import { cachedSimRun, logBytesBench, replayBench } from '../../bench/replayLog.ts';
import { resumeBench } from '../../bench/resume.ts';
import { cutSteps, HOPS, stepAnatomyBench } from '../../bench/stepAnatomy.ts';
import { mark, startStepTrace, stepTrace, stopStepTrace } from '../../events/stepTrace.ts';
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

  it('the step anatomy: every hop of a short traced sim run; the trace is off otherwise', async () => {
    // off by default: a run records no marks
    mkdirSync(join(dir, 'untraced'), { recursive: true });
    await simOrchestrationBench(join(dir, 'untraced'), { steps: 2, warmup: 1, batchSize: 16, groupSize: 2, prompts: 100 });
    expect(stepTrace.on).toBe(false);
    expect(stepTrace.marks).toHaveLength(0);
    const f = await stepAnatomyBench(dir, { steps: 6, warmup: 1, batchSize: 32, groupSize: 4, prompts: 300 });
    const hops = [...HOPS.map(([n]) => n), 'complete'];
    expectFigures(f, ['anatomy.steps', 'anatomy.stepMs.median', 'anatomy.stepMs.mean', 'anatomy.gc.minorMsPerStep', 'anatomy.workerMsPerStep', ...hops.map((h) => `anatomy.hop.${h}`)]);
    expect(f['anatomy.steps']).toBeGreaterThanOrEqual(3);
    for (const h of hops) expect(f[`anatomy.hop.${h}`], h).toBeGreaterThanOrEqual(0);
    expect(stepTrace.on).toBe(false);
  }, 120_000);

  it('cutSteps: hops are consecutive and add up to the step; incomplete steps are left out, epochs flagged', () => {
    startStepTrace();
    const labels = ['decide:session:StepStarted', ...HOPS.map(([, l]) => l)];
    const at: number[] = [];
    // step 1 complete with an epoch start in it; step 2 lacks its update marks; a third StepStarted closes step 2
    for (const l of labels) { mark(l); at.push(stepTrace.marks[stepTrace.marks.length - 1][0]); }
    mark('decide:session:EpochStarted');
    mark('decide:session:StepStarted');
    for (const l of labels.slice(1, 5)) mark(l);
    mark('decide:session:StepStarted');
    const marks = stopStepTrace();
    const steps = cutSteps(marks);
    expect(steps).toHaveLength(1);
    const s = steps[0];
    expect(s.epoch).toBe(true);
    expect([...s.hops.keys()]).toEqual([...HOPS.map(([n]) => n), 'complete']);
    const sum = [...s.hops.values()].reduce((a, b) => a + b, 0);
    expect(sum).toBeCloseTo(s.stepMs, 9);
    expect(s.hops.get('select')).toBeCloseTo(at[1] - at[0], 9);
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
