/**
 * The data-parallel update end to end (worker.ranks = 2; dare_worker/ranks.py): a short hf run over a tiny
 * random Llama on the CPU through `dare run` (real nats-server, LMDB), whose worker starts a second rank
 * (gloo); then the same run killed with -9 after its first update, no worker rank left behind, and
 * `dare resume` ends with the log and weights of the uninterrupted run (expectSameRun). Needs the project's
 * venv (make setup-venv); never skipped.
 */
import { mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EventLog } from '../../store/eventLog.ts';
import { buildTinyHfModel, venvPython } from '../support/hf.ts';
import { endedHow, expectSameRun, logHas, runDare } from '../support/runs.ts';
import { tempDir } from '../support/tmp.ts';

const { dir, cleanup } = tempDir('dare-ranks-hf-');
afterAll(cleanup);
const modelDir = join(dir, 'tiny-llama');

const scenario = {
  method: 'dare',
  run: { steps: 3, batchSize: 4, stepsPerEpoch: 2, checkpointEvery: 1, evalEvery: 3, evalSize: 4, snapshotEvery: 50 },
  task: { source: 'arithmetic', count: 16, evalCount: 4, maxResponseTokens: 6, levels: '1,2', arithmeticStyle: 'chat' },
  worker: { kind: 'hf', model: modelDir, device: 'cpu', lr: 0.001, warmStartSteps: 0, maxPromptTokens: 64, ranks: 2 },
  learner: { sigma: 0.5, bufferSize: 16, entropyCoeff: 0.001 },
  sampler: { gEasy: 2, gMedium: 4, gHard: 4 },
};

/** Worker processes (rank 0 and its followers) that carry this test's tag in their environment. */
function workerRanks(tag: string): { rank0: number[]; followers: number[] } {
  const out = { rank0: [] as number[], followers: [] as number[] };
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      if (!readFileSync(`/proc/${d}/environ`, 'latin1').split('\0').includes(`DARE_TEST_TAG=${tag}`)) continue;
      const cmd = readFileSync(`/proc/${d}/cmdline`, 'latin1').split('\0');
      const state = readFileSync(`/proc/${d}/stat`, 'latin1').split(') ')[1]?.[0];
      if (state === 'Z') continue;
      if (cmd.includes('dare_worker.rank_follower')) out.followers.push(Number(d));
      else if (cmd.includes('dare_worker')) out.rank0.push(Number(d));
    } catch {
      // the process ended while we looked
    }
  }
  return out;
}

async function until(pred: () => boolean, ms: number): Promise<boolean> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (pred()) return true;
    await new Promise((r) => setTimeout(r, 100));
  }
  return pred();
}

beforeAll(() => {
  venvPython();
  mkdirSync(modelDir, { recursive: true });
  buildTinyHfModel(modelDir, 'llama', { positions: 128 });
});

describe('worker.ranks = 2 (hf worker, tiny random Llama, CPU, gloo)', () => {
  it('runs end to end on two ranks; kill -9 leaves no rank behind and resume ends with the same run', async () => {
    const sc = join(dir, 'ranks.json');
    writeFileSync(sc, JSON.stringify(scenario));
    mkdirSync(join(dir, 'a'), { recursive: true });
    mkdirSync(join(dir, 'b'), { recursive: true });
    const runA = join(dir, 'a', 'run'); // the same base name: the run's name is part of every event
    const runB = join(dir, 'b', 'run');

    const tagA = `ranks-a-${process.pid}`;
    const a = runDare(['run', sc, '--run-dir', runA], { DARE_TEST_TAG: tagA });
    let sawFollower = false;
    const watch = setInterval(() => (sawFollower ||= workerRanks(tagA).followers.length === 1), 200);
    const codeA = await a.exit;
    clearInterval(watch);
    expect(codeA, endedHow(a, codeA)).toBe(0);
    expect(sawFollower).toBe(true); // rank 1 ran beside the worker the bridge talks to
    const la = EventLog.open(join(runA, 'log'), { readOnly: true });
    try {
      const updates = [...la.iterate(1)].map((e) => e.event).filter((e) => e.type === 'UpdateCompleted');
      expect(updates).toHaveLength(3);
      for (const u of updates) if (u.type === 'UpdateCompleted') expect(u.data.logprobParity!.maxAbs).toBeLessThan(1e-4);
    } finally {
      await la.close();
    }
    expect(await until(() => workerRanks(tagA).followers.length + workerRanks(tagA).rank0.length === 0, 10_000)).toBe(true);

    const tagB = `ranks-b-${process.pid}`;
    const b = runDare(['run', sc, '--run-dir', runB], { DARE_TEST_TAG: tagB });
    const killed = await b.killWhen(() => logHas(runB, (log) => log.seqOf('UpdateCompleted/1') !== undefined), 120_000);
    expect(killed, 'the run ended before its first update').toBe(true);
    // the worker sees its stdin close and ends its follower; a follower also watches its parent
    const gone = await until(() => { const r = workerRanks(tagB); return r.rank0.length + r.followers.length === 0; }, 30_000);
    expect(gone, `worker ranks outlived dare: ${JSON.stringify(workerRanks(tagB))}`).toBe(true);
    const r = runDare(['resume', runB]);
    const codeB = await r.exit;
    expect(codeB, endedHow(r, codeB)).toBe(0);
    expectSameRun(runA, runB);
  }, 300_000);
});
