/**
 * Snapshots of an older shape (DESIGN §3: correctness never depends on snapshots). A sim run killed with -9
 * after its actors snapshotted is resumed twice from copies: as it was, restoring its snapshots, and with the
 * sampler's and the estimator's snapshots replaced by ones of the shape older code wrote (no version, every
 * method's fields side by side, and stale content). Restoring those as they are would leave both actors
 * without their method's state; they are ignored instead, both actors are rebuilt by a full fold, and both
 * resumed runs end with the log and weights of an uninterrupted run. Every actor's snapshot left at the end restores to the state of a full
 * fold of the log up to its sequence number.
 */
import { cpSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { foldOne, initialFolded, type ActorDef, type Folded } from '../../actors/actor.ts';
import { restoreFolded } from '../../actors/host.ts';
import { estimatorActor } from '../../actors/estimator/estimatorActor.ts';
import { ACTORS } from '../../actors/index.ts';
import { samplerActor } from '../../actors/sampler/samplerActor.ts';
import { createPosteriors } from '../../actors/shared/mopps.ts';
import { resolveConfig, type RunConfig } from '../../events/config.ts';
import { EventLog } from '../../store/eventLog.ts';
import { expectSameRun, logHas, runDare } from '../support/runs.ts';
import { tempDir } from '../support/tmp.ts';

const { dir, cleanup } = tempDir('dare-stale-snapshot-');
afterAll(cleanup);

const SNAPSHOT_EVERY = 60;
const COUNT = 600;
const scenario = {
  method: 'mopps',
  run: { steps: 10, batchSize: 32, stepsPerEpoch: 2, checkpointEvery: 3, evalEvery: 4, evalSize: 100, snapshotEvery: SNAPSHOT_EVERY },
  task: { source: 'sim', count: COUNT, evalCount: 100, maxResponseTokens: 128 },
  worker: { kind: 'sim', lr: 0.1 },
};

/** The sampler's snapshot as the code before strategies wrote it (version 1): MoPPS's posteriors at the prior, as if nothing was seen. */
function oldSamplerSnapshot(config: RunConfig, categoryOf: Uint16Array) {
  const prior = config.estimator.moppsPrior;
  return {
    state: {
      method: 'mopps', numPrompts: COUNT, categoryOf, categories: 1, secQ: null, history: null, greso: null, stepGroups: [],
      posteriors: createPosteriors(COUNT, prior, prior), fresh: null, moppsDecay: config.estimator.moppsDecay, moppsPrior: prior,
      stage: null, stages: [], difficulty: null, estimateStep: 0, adarftTarget: 0, stepRewardSum: 0, stepRewardRows: 0, lastSelection: null,
    },
    phase: 'waiting',
    recent: [],
  };
}

/** The estimator's snapshot as the code before strategies wrote it (version 1), around a real buffer: the posteriors at the prior. */
function oldEstimatorSnapshot(config: RunConfig, current: { state: { state: { buffer: unknown; numPrompts: number } } }) {
  const prior = config.estimator.moppsPrior;
  return {
    state: {
      settings: { method: 'mopps', moppsDecay: config.estimator.moppsDecay, moppsPrior: prior }, numPrompts: current.state.state.numPrompts,
      buffer: current.state.state.buffer, posteriors: createPosteriors(COUNT, prior, prior), fresh: null, round: null, last: null,
    },
    phase: 'idle',
    recent: [],
  };
}

/** Every actor's snapshot restores to the full fold of the log up to its sequence number. */
function expectSnapshotsMatchFold(runDir: string): void {
  const log = EventLog.open(join(runDir, 'log'), { readOnly: true });
  try {
    const started = log.read(log.seqOf('RunStarted')!, log.seqOf('RunStarted')! + 1)[0].event;
    if (started.type !== 'RunStarted') throw new Error('no RunStarted');
    const config = resolveConfig(started.data.config);
    for (const def of ACTORS as ActorDef<unknown, string>[]) {
      const snap = log.getSnapshot(def.name);
      expect(snap, `${def.name} has a snapshot`).toBeDefined();
      expect((snap!.state as { version: number }).version, def.name).toBe(def.snapshotVersion ?? 1);
      const restored = restoreFolded(def, snap!, config)!;
      let full: Folded<unknown, string> = initialFolded(def, config);
      for (const e of log.iterate(1, snap!.seq + 1)) full = foldOne(def, full, e);
      expect(restored.phase, def.name).toBe(full.phase);
      expect(def.snapshot(restored.state), def.name).toEqual(def.snapshot(full.state));
    }
  } finally {
    void log.close();
  }
}

describe('a snapshot of an older shape', () => {
  it('is ignored on resume: the actor is rebuilt from the log, and the run ends as the uninterrupted one', async () => {
    const sc = join(dir, 'sim.json');
    writeFileSync(sc, JSON.stringify(scenario));
    for (const d of ['a', 'b', 'c']) mkdirSync(join(dir, d), { recursive: true });
    const [runA, runB, runC] = ['a', 'b', 'c'].map((d) => join(dir, d, 'run'));

    const a = runDare(['run', sc, '--run-dir', runA]);
    expect(await a.exit, `the uninterrupted run failed:\n${a.stderr().slice(-4000)}`).toBe(0);

    const b = runDare(['run', sc, '--run-dir', runB]);
    const killed = await b.killWhen(() => logHas(runB, (l) => (l.getSnapshot('sampler')?.seq ?? 0) >= 2 * SNAPSHOT_EVERY && l.lastSeq() > 2 * SNAPSHOT_EVERY + 20), 60_000);
    expect(killed, `the run ended before it could be killed:\n${b.stderr().slice(-2000)}`).toBe(true);
    expect(logHas(runB, 'RunCompleted')).toBe(false);

    // C: the same killed run with the sampler's and the estimator's snapshots of the old shape
    cpSync(runB, runC, { recursive: true });
    const log = EventLog.open(join(runC, 'log'));
    try {
      const { seq } = log.getSnapshot('sampler')!;
      const reg = log.read(log.seqOf('PromptsRegistered')!, log.seqOf('PromptsRegistered')! + 1)[0].event;
      if (reg.type !== 'PromptsRegistered') throw new Error('no PromptsRegistered');
      const config = resolveConfig((log.read(log.seqOf('RunStarted')!, log.seqOf('RunStarted')! + 1)[0].event.data as { config: object }).config);
      await log.putSnapshot('sampler', seq, oldSamplerSnapshot(config, reg.data.categoryOf.slice(0, COUNT)));
      const planted = log.getSnapshot('sampler')!;
      // restored as it is, the old shape would leave the sampler without its method's state
      expect((samplerActor.restore((planted.state as { state: unknown }).state, config) as { own?: unknown }).own).toBeUndefined();
      expect(restoreFolded(samplerActor, planted, config)).toBeUndefined();
      const est = log.getSnapshot('estimator')! as { seq: number; state: { state: { buffer: unknown; numPrompts: number } } };
      await log.putSnapshot('estimator', est.seq, oldEstimatorSnapshot(config, est));
      const plantedEst = log.getSnapshot('estimator')!;
      expect((estimatorActor.restore((plantedEst.state as { state: unknown }).state, config) as { own?: unknown }).own).toBeUndefined();
      expect(restoreFolded(estimatorActor, plantedEst, config)).toBeUndefined();
    } finally {
      await log.close();
    }

    for (const runDir of [runB, runC]) {
      const r = runDare(['resume', runDir]);
      expect(await r.exit, `resume of ${runDir} failed:\n${r.stderr().slice(-4000)}`).toBe(0);
      expectSameRun(runA, runDir);
      expectSnapshotsMatchFold(runDir);
    }
  }, 180_000);
});
