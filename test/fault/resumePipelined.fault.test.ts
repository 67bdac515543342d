/**
 * The resume test in pipelined mode (run.offPolicySteps = 1, DESIGN §5): `dare run` killed with -9 at
 * random moments, while an update runs beside the next step's selection and rollouts, and while a
 * checkpoint is written; resumed each time, it ends with the same events (in any order: the interleaving of
 * an update with the next step is timing's) and the same weights as an uninterrupted run; no logged rollout
 * chunk is generated twice; replay --verify passes.
 */
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { EventLog } from '../../store/eventLog.ts';
import { killAndResume, loggedChunks, uninterruptedRun } from '../support/killResume.ts';
import { expectSameRun } from '../support/runs.ts';
import { tempDir } from '../support/tmp.ts';

const { dir, cleanup } = tempDir('dare-resume-pipelined-');
afterAll(cleanup);

const scenario = {
  method: 'dare',
  run: { steps: 24, batchSize: 64, stepsPerEpoch: 2, checkpointEvery: 4, evalEvery: 6, evalSize: 300, snapshotEvery: 400, offPolicySteps: 1 },
  task: { source: 'sim', count: 1500, evalCount: 300, maxResponseTokens: 256 },
  // an update takes 120 ms: the next step's selection and rollouts run meanwhile, and kills land among them
  worker: { kind: 'sim', lr: 0.1, simUpdateMs: 120, simRolloutMs: 20 },
  learner: { sigma: 0.5, bufferSize: 512 },
};

describe('kill -9 and resume, pipelined (sim)', () => {
  it('ends with the events and weights of an uninterrupted run', async () => {
    const { scenarioFile: sc, runA, runB } = await uninterruptedRun(dir, scenario);

    const { kills, moments, stderr } = await killAndResume({
      scenarioFile: sc, runDir: runB, maxKills: 8, seed: 7, env: { DARE_FAULT_PAUSE: 'update:250,checkpoint:250' },
    });
    expect(kills).toBeGreaterThanOrEqual(6);
    expect(moments).toContain('update');
    expect(moments).toContain('checkpoint');

    const { resumes } = expectSameRun(runA, runB, 'id');
    expect(resumes).toBeGreaterThanOrEqual(3);
    const lb = EventLog.open(join(runB, 'log'), { readOnly: true });
    try {
      const events = [...lb.iterate(1)].map((e) => e.event);
      // the run was pipelined: steps started at their predecessor's UpdateRequested, one version behind
      const early = events.filter((e) => e.type === 'StepStarted' && e.cause?.startsWith('UpdateRequested/'));
      expect(early.length).toBeGreaterThan(5);
      const reissued = events.flatMap((e) => (e.type === 'RunResumed' ? e.data.reissued : []));
      expect(reissued.some((id) => id.startsWith('UpdateRequested/'))).toBe(true);
    } finally {
      await lb.close();
    }
    const chunks = loggedChunks(stderr);
    expect(chunks.length).toBeGreaterThan(0);
    expect(new Set(chunks).size).toBe(chunks.length);
  }, 300_000);
});
