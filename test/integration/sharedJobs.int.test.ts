/**
 * Several bridges: a run that shares its rollout and score jobs over the queue group dare.<run>.gpu, with a
 * second bridge (`dare bridge DIR`) joining it. The replica follows every logged update on its own worker,
 * serves part of the jobs, and the run's log and weights are exactly those of the same run with one bridge.
 */
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { expectSameRun, logHas, runDare } from '../support/runs.ts';
import { tempDir } from '../support/tmp.ts';

const { dir, cleanup } = tempDir('dare-shared-');
afterAll(cleanup);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('bridges sharing jobs over the queue group', () => {
  it('a replica bridge serves jobs and the log is the same as with one bridge', async () => {
    mkdirSync(join(dir, 'a'), { recursive: true });
    mkdirSync(join(dir, 'b'), { recursive: true });
    const sc = join(dir, 'sim.json');
    writeFileSync(sc, JSON.stringify({
      method: 'dare',
      run: { steps: 10, batchSize: 256, stepsPerEpoch: 2, checkpointEvery: 5, evalEvery: 5, evalSize: 200 },
      task: { source: 'sim', count: 2000, evalCount: 200, maxResponseTokens: 128 },
      worker: { kind: 'sim', lr: 0.1, shareJobs: true },
      learner: { sigma: 0.5, bufferSize: 512 },
    }));
    const runA = join(dir, 'a', 'run');
    const runB = join(dir, 'b', 'run');
    const a = runDare(['run', sc, '--run-dir', runA]);
    expect(await a.exit, a.stderr().slice(-2000)).toBe(0);

    const b = runDare(['run', sc, '--run-dir', runB], { DARE_FAULT_PAUSE: 'update:150' });
    while (!existsSync(join(runB, 'nats.json')) && !logHas(runB, 'RunCompleted')) await sleep(50);
    const replica = runDare(['bridge', runB]);
    expect(await b.exit, b.stderr().slice(-2000)).toBe(0);
    expect(await replica.exit, replica.stderr().slice(-2000)).toBe(0);

    const served = replica.stderr().split('\n').filter((l) => l.includes('"shared job served"'));
    expect(served.length).toBeGreaterThan(0);
    expect(served.some((l) => l.includes('"job":"rollout"'))).toBe(true);
    expectSameRun(runA, runB);
  }, 180_000);
});
