/**
 * A PyTorch worker killed (SIGKILL) while it runs each kind of job — a rollout, a score (the estimator's
 * importance weights), an update, a checkpoint save and an evaluation — is restarted by the supervisor, which
 * gives it the job it held again (same request id, WorkerLost names it as pending), and the run ends without
 * a resume with the same log content and weights as an uninterrupted run of the same seed.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { EventLog } from '../../store/eventLog.ts';
import { loggedEvents } from '../support/live.ts';
import { expectSameRun, hasTorch, logHas, runDare } from '../support/runs.ts';
import { tempDir } from '../support/tmp.ts';

const { dir, cleanup } = tempDir('dare-worker-kill-');
afterAll(cleanup);

const scenario = {
  method: 'dare',
  run: { steps: 6, batchSize: 8, stepsPerEpoch: 2, checkpointEvery: 2, evalEvery: 2, evalSize: 16, snapshotEvery: 50 },
  task: { source: 'arithmetic', count: 64, evalCount: 16, maxResponseTokens: 6, levels: '1,2' },
  worker: { kind: 'tiny', device: 'cpu', lr: 0.0001, warmStartSteps: 20, warmStartLr: 0.001 },
  learner: { sigma: 0.5, bufferSize: 64, entropyCoeff: 0 },
};

/** the logged request of each job kind, the worker job it becomes, and the event that completes it */
const KINDS = [
  { job: 'rollout', requested: 'RolloutRequested' },
  { job: 'score', requested: 'ScoreRequested' },
  { job: 'update', requested: 'UpdateRequested' },
  { job: 'save', requested: 'CheckpointRequested' },
  { job: 'eval', requested: 'EvalRequested' },
] as const;
/** long enough at the start of each job for the test to see the request in the log and kill the worker */
const DELAYS = { DARE_WORKER_FAULT_DELAY: KINDS.map((k) => `${k.job}:700`).join(',') };

function workerPids(parent: number): number[] {
  try {
    return execFileSync('pgrep', ['-P', String(parent), '-f', 'dare_worker'], { encoding: 'utf8' }).trim().split('\n').filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

/** The log's last event is a request of this kind (its job is with the worker, held by the fault delay). */
function lastIs(type: string): (log: EventLog) => boolean {
  return (log) => log.tail(1)[0]?.event.type === type && log.lastSeq() > 0;
}

describe.skipIf(!hasTorch())('a worker killed during each job kind (tiny PyTorch worker, CPU)', () => {
  it('is restarted, gets its job again, and the run ends with the weights of an uninterrupted run', async () => {
    const sc = join(dir, 'tiny.json');
    writeFileSync(sc, JSON.stringify(scenario));
    const runA = join(dir, 'a', 'run');
    const runB = join(dir, 'b', 'run');
    mkdirSync(join(dir, 'a'), { recursive: true });
    mkdirSync(join(dir, 'b'), { recursive: true });
    const a = runDare(['run', sc, '--run-dir', runA]);
    expect(await a.exit, a.stderr().slice(-2000)).toBe(0);

    const b = runDare(['run', sc, '--run-dir', runB], DELAYS);
    const killedDuring: string[] = [];
    for (const kind of KINDS) {
      // the first request of this kind after the warm start (evaluations: after the baseline one)
      const seen = await waitFor(() => logHas(runB, lastIs(kind.requested)) || logHas(runB, 'RunCompleted'), 240_000);
      if (!seen || logHas(runB, 'RunCompleted')) break;
      const pids = workerPids(b.pid);
      expect(pids.length, 'the worker process').toBeGreaterThan(0);
      for (const pid of pids) process.kill(pid, 'SIGKILL');
      killedDuring.push(kind.job);
      // the supervisor's restart is logged before the next kind is aimed at
      await waitFor(() => loggedEvents(runB).filter((e) => e.event.type === 'WorkerLost').length >= killedDuring.length, 60_000);
    }
    expect(await b.exit, b.stderr().slice(-3000)).toBe(0);
    expect(killedDuring).toEqual(KINDS.map((k) => k.job));

    // each loss had the job of its kind in flight, and the restarted worker got it again under the same id
    const events = loggedEvents(runB).map((e) => e.event);
    const lost = events.filter((e) => e.type === 'WorkerLost') as Array<{ data: { pending: string[] } }>;
    expect(lost).toHaveLength(KINDS.length);
    KINDS.forEach((kind, i) => {
      const pending = lost[i].data.pending;
      expect(pending.some((id) => id.startsWith(`${kind.requested}/`)), `${kind.job}: in flight at the kill: ${pending.join(', ')}`).toBe(true);
    });

    // and nothing of it shows in the training: same content (lifecycle events aside), same weights
    expectSameRun(runA, runB);
  }, 600_000);
});

async function waitFor(probe: () => boolean, timeoutMs: number): Promise<boolean> {
  const start = Date.now();
  while (Date.now() - start < timeoutMs) {
    if (probe()) return true;
    await new Promise((r) => setTimeout(r, 40));
  }
  return false;
}
