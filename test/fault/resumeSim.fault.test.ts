/**
 * The resume test (DESIGN §6) on the sim worker: `dare run` killed with -9 at ≥ 10 moments — random ones,
 * one while an update is applied but not yet logged, one while a checkpoint file is written but not yet
 * registered — and resumed each time, ends with the same log content (ignoring timestamps and the
 * lifecycle events a crash adds) and the same weights as an uninterrupted run with the same seed; no
 * logged rollout chunk is generated twice; replay --verify passes.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Prng } from '../../events/prng.ts';
import { EventLog } from '../../store/eventLog.ts';
import { endedHow, expectSameRun, logHas, runDare, runStarted, type DareProcess } from '../support/runs.ts';
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
    mkdirSync(join(dir, 'a'), { recursive: true });
    mkdirSync(join(dir, 'b'), { recursive: true });
    const sc = join(dir, 'sim.json');
    writeFileSync(sc, JSON.stringify(scenario));
    const runA = join(dir, 'a', 'run');
    const runB = join(dir, 'b', 'run');

    const a = runDare(['run', sc, '--run-dir', runA]);
    const codeA = await a.exit;
    expect(codeA, `the uninterrupted run failed:\n${a.stderr().slice(-4000)}`).toBe(0);

    const prng = new Prng({ seed: 42, step: 0, purpose: 'kill-moments' });
    const stderr: string[] = [];
    let kills = 0;
    const moments: string[] = [];
    for (let round = 0; round < 30 && !logHas(runB, 'RunCompleted'); round++) {
      const p: DareProcess = runDare(runStarted(runB) ? ['resume', runB] : ['run', sc, '--run-dir', runB], FAULT_ENV);
      // which moment to aim at: an update in flight, a checkpoint being written, or a random time
      const aim = kills === 2 ? 'update' : kills === 4 ? 'checkpoint' : 'random';
      // A random moment counts from spawn in the first round (a kill in start-up), and after that from the
      // run's first new event: on a loaded machine start-up alone outlasts the delays, and every kill would
      // land before the resume had done anything.
      const before = lastSeqOf(runB);
      const delay = round === 0 ? 900 + prng.nextInt(1800) : prng.nextInt(1800);
      let deadline = round === 0 ? Date.now() + delay : Infinity;
      const killed = await p.killWhen(async () => {
        if (aim === 'update') return logHas(runB, (l) => openUpdate(l));
        if (aim === 'checkpoint') return checkpointBeingWritten(runB);
        if (deadline === Infinity && lastSeqOf(runB) > before) deadline = Date.now() + delay;
        return Date.now() >= deadline;
      }, aim === 'random' ? 60_000 : 20_000);
      stderr.push(p.stderr());
      if (!killed) {
        // it ended before the kill: only by completing the run; a resume that fails on its own is the bug
        const code = await p.exit;
        if (code !== 0) throw new Error(`round ${round} ended on its own, ${endedHow(p, code)}`);
      }
      if (killed) {
        kills++;
        moments.push(aim);
      }
      if (kills >= 12) break;
    }
    // finish the run
    if (!logHas(runB, 'RunCompleted')) {
      const last = runDare(runStarted(runB) ? ['resume', runB] : ['run', sc, '--run-dir', runB]);
      const code = await last.exit;
      if (code !== 0) throw new Error(`the final resume failed, ${endedHow(last, code)}`);
      stderr.push(last.stderr());
    }
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
    const chunks = stderr
      .join('\n')
      .split('\n')
      .filter((l) => l.includes('"rollout chunk logged"'))
      .map((l) => {
        const o = JSON.parse(l) as { request: string; chunk: number };
        return `${o.request}#${o.chunk}`;
      });
    expect(chunks.length).toBeGreaterThan(0);
    expect(new Set(chunks).size).toBe(chunks.length);
  }, 300_000);
});

function openUpdate(log: EventLog): boolean {
  const tail = log.tail(5).map((e) => e.event);
  const last = tail[tail.length - 1];
  return last?.type === 'UpdateRequested';
}

function checkpointBeingWritten(runDir: string): boolean {
  return logHas(runDir, (log) => {
    const last = log.tail(1)[0]?.event;
    return last?.type === 'CheckpointRequested';
  });
}

/** The run's last seq (0 before its log exists). */
function lastSeqOf(runDir: string): number {
  let last = 0;
  logHas(runDir, (l) => ((last = l.lastSeq()), false));
  return last;
}
