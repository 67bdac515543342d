/**
 * Faults a run survives without a resume: the nats-server restarted mid-run (the run uses an external
 * server given with --nats), and the PyTorch worker killed mid-rollout (the supervisor restarts it and
 * re-issues the job). Each run finishes, its accounting shows no lost and no duplicated rollout, and
 * replay --verify passes.
 */
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { startNatsServer } from '../../bus/natsServer.ts';
import { metricsOf } from '../../run/metrics.ts';
import { verifyLog } from '../../run/replay.ts';
import { loggedEvents, simScenario, sleep, testDir, until, withRunLog } from '../support/live.ts';
import { hasTorch, logHas, runDare } from '../support/runs.ts';

const { dir, file } = testDir('dare-midrun-', {
  sim: simScenario({
    run: { steps: 14, batchSize: 64, checkpointEvery: 4, evalEvery: 7, evalSize: 200 },
    task: { count: 1000, evalCount: 200, maxResponseTokens: 128 },
    worker: { lr: 0.1 },
    learner: { bufferSize: 256 },
  }),
  tiny: {
    method: 'dare',
    run: { steps: 4, batchSize: 8, stepsPerEpoch: 2, checkpointEvery: 2, evalEvery: 4, evalSize: 16 },
    task: { source: 'arithmetic', count: 64, evalCount: 16, maxResponseTokens: 6, levels: '1,2' },
    worker: { kind: 'tiny', device: 'cpu', lr: 0.0001, warmStartSteps: 20, warmStartLr: 0.001 },
    learner: { sigma: 0.5, bufferSize: 64, entropyCoeff: 0 },
  },
});

function checkFinished(runDir: string, steps: number): void {
  withRunLog(runDir, (log) => {
    const m = metricsOf(log.iterate(1));
    expect(m.completed).toBe(true);
    expect(m.policyVersion).toBe(steps);
    const a = m.accounting;
    expect(a.generated).toBe(a.trained + a.buffered + a.discarded + a.inFlight);
    expect(a.inFlight).toBe(0);
    expect(m.duplicateGroups).toEqual([]);
    // every step's update trained exactly the rollouts its batch asked for
    for (const s of m.steps.filter((x) => x.step > 0)) expect(s.trainedRows).toBeGreaterThanOrEqual(s.rollouts);
    expect(verifyLog(log).mismatch).toBeNull();
  });
}

function pythonChildren(pid: number): number[] {
  try {
    return execFileSync('pgrep', ['-P', String(pid), '-f', 'dare_worker'], { encoding: 'utf8' }).trim().split('\n').filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

describe('faults mid-run', () => {
  it('a restarted nats-server loses and duplicates no rollout', async () => {
    let nats = await startNatsServer();
    const { port, token } = nats;
    const runDir = join(dir, 'nats', 'run');
    const p = runDare(['run', file('sim'), '--run-dir', runDir, '--nats', nats.url, '--nats-token', token], { DARE_FAULT_PAUSE: 'update:150' });
    await until('update 4', () => logHas(runDir, 'UpdateCompleted/4'), 60_000);
    expect(logHas(runDir, 'RunCompleted')).toBe(false); // the restart really happens mid-run
    await nats.kill();
    await sleep(700);
    nats = await startNatsServer({ port, token });
    const code = await p.exit;
    await nats.stop();
    expect(code, p.stderr().slice(-3000)).toBe(0);
    checkFinished(runDir, 14);
  }, 180_000);

  it.skipIf(!hasTorch())('a PyTorch worker killed mid-rollout is restarted and the job completes once', async () => {
    const runDir = join(dir, 'worker', 'run');
    const p = runDare(['run', file('tiny'), '--run-dir', runDir], { DARE_WORKER_FAULT_DELAY: 'rollout:400' });
    // dare -> node (tsx) -> python worker: find the worker among the grandchildren once step 3 is rolling out
    const start = Date.now();
    let killed = 0;
    while (Date.now() - start < 120_000 && killed === 0) {
      if (logHas(runDir, (log) => log.seqOf('RolloutRequested/3') !== undefined && log.seqOf('RolloutCompleted/3/0') === undefined)) {
        const pids = [p.pid, ...pythonChildren(p.pid)].flatMap((x) => [x, ...pythonChildren(x)]).filter((x) => x !== p.pid);
        for (const pid of pids) {
          try {
            process.kill(pid, 'SIGKILL');
            killed++;
          } catch {
            /* already gone */
          }
        }
      }
      await sleep(10);
    }
    const code = await p.exit;
    expect(code, p.stderr().slice(-3000)).toBe(0);
    expect(killed).toBeGreaterThan(0);
    const types = loggedEvents(runDir).map((e) => e.event.type);
    expect(types).toContain('WorkerLost');
    expect(types.filter((t) => t === 'WorkerJoined').length).toBeGreaterThanOrEqual(2);
    checkFinished(runDir, 4);
  }, 240_000);
});
