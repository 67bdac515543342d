/**
 * The resume test on the hf worker (transformers, CPU, deterministic) over a tiny random Llama built from a
 * config: rollout, score, update, checkpoint and eval through `dare run` over NATS; killed with -9 three
 * times and resumed, the run ends with the same log content and the same weights hash as an uninterrupted
 * run, and replay --verify passes (expectSameRun). Needs the project's venv (make setup-venv); never skipped.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EventLog } from '../../store/eventLog.ts';
import { buildTinyHfModel, venvPython } from '../support/hf.ts';
import { expectSameRun, logHas, runDare, runStarted } from '../support/runs.ts';
import { tempDir } from '../support/tmp.ts';

const { dir, cleanup } = tempDir('dare-resume-hf-');
afterAll(cleanup);
const modelDir = join(dir, 'tiny-llama');

const scenario = {
  method: 'dare',
  run: { steps: 6, batchSize: 4, stepsPerEpoch: 2, checkpointEvery: 2, evalEvery: 3, evalSize: 8, snapshotEvery: 50 },
  task: { source: 'arithmetic', count: 32, evalCount: 8, maxResponseTokens: 6, levels: '1,2', arithmeticStyle: 'chat' },
  worker: { kind: 'hf', model: modelDir, device: 'cpu', lr: 0.001, warmStartSteps: 0, maxPromptTokens: 64 },
  learner: { sigma: 0.5, bufferSize: 32, entropyCoeff: 0.001 },
  sampler: { gEasy: 2, gMedium: 4, gHard: 4 },
};

beforeAll(() => {
  venvPython();
  mkdirSync(modelDir, { recursive: true });
  buildTinyHfModel(modelDir, 'llama', { positions: 128 });
});

describe('kill -9 and resume (hf worker, tiny random Llama, CPU)', () => {
  it('ends with the log and weights of an uninterrupted run after 3 kills', async () => {
    mkdirSync(join(dir, 'a'), { recursive: true });
    mkdirSync(join(dir, 'b'), { recursive: true });
    const sc = join(dir, 'hf.json');
    writeFileSync(sc, JSON.stringify(scenario));
    const runA = join(dir, 'a', 'run');
    const runB = join(dir, 'b', 'run');
    const a = runDare(['run', sc, '--run-dir', runA]);
    expect(await a.exit, a.stderr().slice(-3000)).toBe(0);

    // every update of the uninterrupted run reported its logprob parity (CPU float32: rounding only)
    const la = EventLog.open(join(runA, 'log'), { readOnly: true });
    try {
      const updates = [...la.iterate(1)].map((e) => e.event).filter((e) => e.type === 'UpdateCompleted');
      expect(updates).toHaveLength(6);
      for (const u of updates) {
        if (u.type !== 'UpdateCompleted') continue;
        expect(u.data.logprobParity).toBeDefined();
        expect(u.data.logprobParity!.tokens).toBeGreaterThan(0);
        expect(u.data.logprobParity!.maxAbs).toBeLessThan(1e-4);
      }
      const types = new Set([...la.iterate(1)].map((e) => e.event.type));
      for (const t of ['RolloutCompleted', 'ScoreCompleted', 'UpdateCompleted', 'CheckpointSaved', 'EvalCompleted', 'RunCompleted']) expect(types).toContain(t);
    } finally {
      await la.close();
    }

    let kills = 0;
    const aims: Array<(log: EventLog) => boolean> = [
      (log) => log.seqOf('UpdateCompleted/1') !== undefined,
      // (mid-step: rolling out or updating; the rollout alone is shorter than a look on a loaded machine)
      (log) => log.seqOf('RolloutRequested/3') !== undefined && log.seqOf('UpdateCompleted/3') === undefined,
      (log) => log.seqOf('CheckpointSaved/4') !== undefined,
    ];
    for (let round = 0; round < 6 && kills < aims.length && !logHas(runB, 'RunCompleted'); round++) {
      const p = runDare(runStarted(runB) ? ['resume', runB] : ['run', sc, '--run-dir', runB]);
      const aim = aims[kills];
      if (await p.killWhen(() => logHas(runB, aim), 120_000)) kills++;
    }
    if (!logHas(runB, 'RunCompleted')) {
      const last = runDare(runStarted(runB) ? ['resume', runB] : ['run', sc, '--run-dir', runB]);
      expect(await last.exit, last.stderr().slice(-3000)).toBe(0);
    }
    expect(kills).toBe(3);
    expectSameRun(runA, runB);
  }, 600_000);
});
