/**
 * The resume test on the real PyTorch tiny worker (CPU, deterministic): a short run killed with -9 three
 * times and resumed ends with the same log content and the same weights as an uninterrupted run.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { EventLog } from '../../store/eventLog.ts';
import { expectSameRun, hasTorch, logHas, runDare, runStarted } from '../support/runs.ts';
import { tempDir } from '../support/tmp.ts';

const { dir, cleanup } = tempDir('dare-resume-tiny-');
afterAll(cleanup);

const scenario = {
  method: 'dare',
  run: { steps: 8, batchSize: 8, stepsPerEpoch: 2, checkpointEvery: 2, evalEvery: 4, evalSize: 32, snapshotEvery: 50 },
  task: { source: 'arithmetic', count: 64, evalCount: 32, maxResponseTokens: 6, levels: '1,2' },
  worker: { kind: 'tiny', device: 'cpu', lr: 0.0001, warmStartSteps: 40, warmStartLr: 0.001 },
  learner: { sigma: 0.5, bufferSize: 64, entropyCoeff: 0 },
};

describe.skipIf(!hasTorch())('kill -9 and resume (tiny PyTorch worker, CPU)', () => {
  it('ends with the log and weights of an uninterrupted run after 3 kills', async () => {
    mkdirSync(join(dir, 'a'), { recursive: true });
    mkdirSync(join(dir, 'b'), { recursive: true });
    const sc = join(dir, 'tiny.json');
    writeFileSync(sc, JSON.stringify(scenario));
    const runA = join(dir, 'a', 'run');
    const runB = join(dir, 'b', 'run');
    const a = runDare(['run', sc, '--run-dir', runA]);
    expect(await a.exit, a.stderr().slice(-2000)).toBe(0);

    let kills = 0;
    // kill once the log shows progress: after the first update, mid-step (rollout or update) of a later step, after a checkpoint
    const aims: Array<(log: EventLog) => boolean> = [
      (log) => log.seqOf('UpdateCompleted/1') !== undefined,
      // (mid-step: rolling out or updating; the rollout alone is shorter than a look on a loaded machine)
      (log) => log.seqOf('RolloutRequested/4') !== undefined && log.seqOf('UpdateCompleted/4') === undefined,
      (log) => log.seqOf('CheckpointSaved/6') !== undefined,
    ];
    for (let round = 0; round < 6 && kills < aims.length && !logHas(runB, 'RunCompleted'); round++) {
      const p = runDare(runStarted(runB) ? ['resume', runB] : ['run', sc, '--run-dir', runB]);
      const aim = aims[kills];
      if (await p.killWhen(() => logHas(runB, aim), 120_000)) kills++;
    }
    if (!logHas(runB, 'RunCompleted')) {
      const last = runDare(runStarted(runB) ? ['resume', runB] : ['run', sc, '--run-dir', runB]);
      expect(await last.exit, last.stderr().slice(-2000)).toBe(0);
    }
    expect(kills).toBe(3);

    expectSameRun(runA, runB);
  }, 600_000);
});
