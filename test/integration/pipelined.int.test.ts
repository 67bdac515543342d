/**
 * Pipelined mode (run.offPolicySteps = 1, DESIGN §5) on the sim, through `dare run`: step t+1 starts at
 * step t's UpdateRequested unless a checkpoint or the end is due after update t (an evaluation runs beside
 * the next step, at update t's version); its rollouts
 * and scores run with the version before update t and say so; the log's content does not depend on how the
 * update and the next step interleave (two runs whose updates take 0 and 300 ms hold the same events);
 * replay --verify passes; a sync run's log has none of it.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DareEvent } from '../../events/catalogue.ts';
import { EventLog } from '../../store/eventLog.ts';
import { comparableContent, runDare } from '../support/runs.ts';
import { tempDir } from '../support/tmp.ts';

const { dir, cleanup } = tempDir('dare-pipelined-');
afterAll(cleanup);

const STEPS = 12;
const scenario = (extra: { run?: object; worker?: object } = {}) => ({
  method: 'dare',
  run: { steps: STEPS, batchSize: 64, stepsPerEpoch: 2, checkpointEvery: 5, evalEvery: 6, evalSize: 200, offPolicySteps: 1, ...extra.run },
  task: { source: 'sim', count: 1500, evalCount: 200, maxResponseTokens: 256 },
  worker: { kind: 'sim', lr: 0.1, ...extra.worker },
  learner: { sigma: 0.5, bufferSize: 512 },
});

async function run(name: string, sc: object): Promise<DareEvent[]> {
  const file = join(dir, `${name}.json`);
  writeFileSync(file, JSON.stringify(sc));
  // (the same directory name: the run id derives from it)
  const runDir = join(dir, name, 'run');
  mkdirSync(join(dir, name), { recursive: true });
  const p = runDare(['run', file, '--run-dir', runDir]);
  const code = await p.exit;
  expect(code, `run ${name} failed:\n${p.stderr().slice(-3000)}`).toBe(0);
  const log = EventLog.open(join(runDir, 'log'), { readOnly: true });
  try {
    return [...log.iterate(1)].map((e) => e.event);
  } finally {
    await log.close();
  }
}

const seqOf = (events: DareEvent[], id: string) => events.findIndex((e) => e.id === id);

describe('pipelined mode (sim)', () => {
  let fast: DareEvent[];
  let slow: DareEvent[];
  let sync: DareEvent[];
  beforeAll(async () => {
    mkdirSync(dir, { recursive: true });
    fast = await run('fast', scenario());
    // updates take 300 ms: the next step's selection and rollouts are logged while one runs
    slow = await run('slow', scenario({ worker: { simUpdateMs: 300, simRolloutMs: 20 } }));
    sync = await run('sync', scenario({ run: { offPolicySteps: 0 } }));
  }, 240_000);

  it('starts a step at the previous UpdateRequested exactly when no checkpoint is due at that update boundary', () => {
    // checkpoints after versions 5 and 10 hold the next step; evaluations (after steps 6 and 12) do not
    const barrier = new Set([5, 10]);
    for (let t = 1; t < STEPS; t++) {
      const started = fast.find((e) => e.type === 'StepStarted' && e.data.step === t + 1)!;
      if (barrier.has(t)) {
        expect(started.cause, `step ${t + 1}`).not.toMatch(/^UpdateRequested/);
        // the checkpoint is saved before the next step starts
        expect(seqOf(fast, `CheckpointSaved/${t}`)).toBeLessThan(seqOf(fast, started.id));
      } else {
        expect(started.cause, `step ${t + 1}`).toBe(`UpdateRequested/${t}`);
      }
    }
    // the evaluation of step 6 evaluates version 6 (beside step 7), exactly once
    const evals = fast.filter((e) => e.type === 'EvalCompleted');
    expect(evals.map((e) => e.id)).toEqual(['EvalCompleted/0', 'EvalCompleted/6', 'EvalCompleted/12']);
    for (const e of evals) if (e.type === 'EvalCompleted') expect(e.data.policyVersion).toBe(e.data.step);
  });

  it('generates each step with its StepStarted version: one behind when it started early', () => {
    for (let s = 1; s <= STEPS; s++) {
      const started = fast.find((e) => e.type === 'StepStarted' && e.data.step === s)!;
      if (started.type !== 'StepStarted') throw new Error('unreachable');
      const early = started.cause?.startsWith('UpdateRequested/');
      expect(started.data.policyVersion, `step ${s}`).toBe(early ? s - 2 : s - 1);
      const rollouts = fast.filter((e) => e.type === 'RolloutCompleted' && e.data.step === s);
      expect(rollouts.length).toBeGreaterThan(0);
      for (const r of rollouts) if (r.type === 'RolloutCompleted') expect(r.data.policyVersion).toBe(started.data.policyVersion);
      const req = fast.find((e) => e.type === 'RolloutRequested' && e.data.step === s && e.data.purpose === 'train');
      expect(req?.type === 'RolloutRequested' && req.data.policyVersion).toBe(started.data.policyVersion);
      const upd = fast.find((e) => e.type === 'UpdateRequested' && e.data.step === s);
      // one update in flight at most: update s starts from version s − 1, after update s − 1 completed
      expect(upd?.type === 'UpdateRequested' && upd.data.policyVersion).toBe(s - 1);
      if (s > 1) expect(seqOf(fast, `UpdateCompleted/${s - 1}`)).toBeLessThan(seqOf(fast, upd!.id));
    }
    const scores = fast.filter((e) => e.type === 'ScoreCompleted');
    expect(scores.length).toBeGreaterThan(5);
    for (const sc of scores) {
      const step = Number(sc.id.split('/')[1]);
      const started = fast.find((e) => e.type === 'StepStarted' && e.data.step === step);
      expect(sc.type === 'ScoreCompleted' && sc.data.policyVersion).toBe(started?.type === 'StepStarted' && started.data.policyVersion);
    }
  });

  it('logs the same events whatever the timing, and the slow run overlapped an update with the next rollouts', () => {
    // (RunStarted holds each run's configuration: the durations differ)
    const a = comparableContent(join(dir, 'fast', 'run'), 'id');
    const b = comparableContent(join(dir, 'slow', 'run'), 'id');
    expect(b.ids).toEqual(a.ids);
    const differ = a.ids.filter((id, i) => id !== 'RunStarted' && !a.bytes[i].equals(b.bytes[i]));
    expect(differ).toEqual([]);
    let overlapped = 0;
    for (let t = 1; t < STEPS; t++) {
      const done = seqOf(slow, `UpdateCompleted/${t}`);
      if (slow.some((e, i) => i < done && e.type === 'RolloutCompleted' && e.data.step === t + 1)) overlapped++;
    }
    expect(overlapped).toBeGreaterThan(0);
  });

  it('a sync run has no early start and no version in its requests', () => {
    for (const e of sync) {
      if (e.type === 'StepStarted') {
        expect(e.data.policyVersion).toBeUndefined();
        expect(e.cause ?? '').not.toMatch(/^UpdateRequested/);
      }
      if (e.type === 'RolloutRequested' || e.type === 'ScoreRequested') expect(e.data.policyVersion).toBeUndefined();
    }
  });
});
