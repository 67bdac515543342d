/**
 * The resume test (DESIGN §6) on the sim worker: `dare run` killed with -9 at ≥ 10 moments — random ones,
 * one while an update is applied but not yet logged, one while a checkpoint file is written but not yet
 * registered — and resumed each time, ends with the same log content (ignoring timestamps and the
 * lifecycle events a crash adds) and the same weights as an uninterrupted run with the same seed; no
 * logged rollout chunk is generated twice; replay --verify passes.
 */
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { EventLog } from '../../store/eventLog.ts';
import { killAndResume, loggedChunks, uninterruptedRun } from '../support/killResume.ts';
import { expectSameRun } from '../support/runs.ts';
import { tempDir } from '../support/tmp.ts';

const { dir, cleanup } = tempDir('dare-resume-sim-');
afterAll(cleanup);

const scenario = {
  method: 'dare',
  // 30 steps: with in-process appends a resumed run gets further per round, and 20 ended before the 10th kill
  run: { steps: 30, batchSize: 64, stepsPerEpoch: 2, checkpointEvery: 3, evalEvery: 5, evalSize: 300, snapshotEvery: 400 },
  task: { source: 'sim', count: 1500, evalCount: 300, maxResponseTokens: 256 },
  worker: { kind: 'sim', lr: 0.1 },
  learner: { sigma: 0.5, bufferSize: 512 },
};
const FAULT_ENV = { DARE_FAULT_PAUSE: 'update:250,checkpoint:250' };

describe('kill -9 and resume (sim)', () => {
  it('ends with the log and weights of an uninterrupted run', async () => {
    const { scenarioFile: sc, runA, runB } = await uninterruptedRun(dir, scenario);

    const { kills, moments, stderr } = await killAndResume({ scenarioFile: sc, runDir: runB, maxKills: 12, env: FAULT_ENV });
    expect(kills).toBeGreaterThanOrEqual(10);
    expect(moments).toContain('update');
    expect(moments).toContain('checkpoint');

    // the same content, the same weights; a kill during start-up happens before RunResumed is logged
    const { resumes } = expectSameRun(runA, runB);
    expect(resumes).toBeGreaterThanOrEqual(3);
    expect(resumes).toBeLessThanOrEqual(kills + 1);
    // the kill during an update left it without completion: a resume says it re-issued it
    const lb = EventLog.open(join(runB, 'log'), { readOnly: true });
    try {
      const reissued = [...lb.iterate(1)].flatMap((e) => (e.event.type === 'RunResumed' ? e.event.data.reissued : []));
      expect(reissued.some((id) => id.startsWith('UpdateRequested/'))).toBe(true);
    } finally {
      await lb.close();
    }
    // no logged rollout chunk was generated twice
    const chunks = loggedChunks(stderr);
    expect(chunks.length).toBeGreaterThan(0);
    expect(new Set(chunks).size).toBe(chunks.length);
  }, 300_000);
});
