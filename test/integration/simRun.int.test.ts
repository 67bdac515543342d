/**
 * A whole DARE run on the sim worker, in process, over the suite's real nats-server: it completes, its
 * accounting balances, it learns (oracle accuracy rises), replay --verify recomputes every decision, a
 * tampered copy of the log fails verification at the tampered event, and counterfactual replays change
 * decisions only when a setting changes.
 */
import { cpSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { open } from 'lmdb';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sharedNats } from '../support/scenarios.ts';
import { counterfactual } from '../../run/counterfactual.ts';
import { inspectAt } from '../../views/inspect.ts';
import { driftOf } from '../../views/drift.ts';
import { promptTimeline } from '../../views/promptHistory.ts';
import { verifyLog } from '../../run/replay.ts';
import { resumeRun, runScenario, type RunOutcome } from '../../run/runner.ts';
import { decodeTrusted, encodeEvent } from '../../events/codec.ts';
import { EventLog, seqKey } from '../../store/eventLog.ts';
import { expectSameRun } from '../support/runs.ts';
import { tempDir } from '../support/tmp.ts';

const { dir, cleanup } = tempDir('dare-simrun-');
const logger = pino({ level: 'silent' });
let outcome: RunOutcome;

const scenario = {
  method: 'dare',
  run: { steps: 10, batchSize: 64, stepsPerEpoch: 2, checkpointEvery: 4, evalEvery: 5, evalSize: 500 },
  task: { source: 'sim', count: 2000, evalCount: 500, maxResponseTokens: 256 },
  worker: { kind: 'sim', lr: 0.1 },
  learner: { sigma: 0.5, bufferSize: 512 },
};

beforeAll(async () => {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'sim.json'), JSON.stringify(scenario));
  outcome = await runScenario({
    scenario: join(dir, 'sim.json'), runDir: join(dir, 'run'), logger, nats: sharedNats(),
  });
}, 120_000);
afterAll(cleanup);

describe('a DARE run on the sim', () => {
  it('completes every step with balanced accounting and no duplicate rollout', () => {
    const s = outcome.summary;
    expect(s.completed).toBe(true);
    expect(s.policyVersion).toBe(10);
    expect(s.steps).toBe(10);
    const r = s.rollouts;
    expect(r.generated).toBeGreaterThan(0);
    expect(r.generated).toBe(r.trained + r.buffered + r.discarded + r.inFlight);
    expect(r.inFlight).toBe(0);
    expect(outcome.metrics.duplicateGroups).toEqual([]);
    expect(s.weightsSha256).toMatch(/^[0-9a-f]{64}$/);
  });

  it('learns: the true expected accuracy on held-out prompts rises', () => {
    const evals = outcome.metrics.evals;
    expect(evals[0].step).toBe(0);
    expect(evals.at(-1)!.step).toBe(10);
    expect(evals.at(-1)!.oracleAccuracy!).toBeGreaterThan(evals[0].oracleAccuracy! + 0.05);
  });

  it('replay --verify recomputes every decision identically', () => {
    const log = EventLog.open(join(dir, 'run', 'log'), { readOnly: true });
    try {
      const v = verifyLog(log);
      expect(v.mismatch).toBeNull();
      expect(v.decisionsChecked).toBeGreaterThan(40);
      // inspect: the session machine ended in `done`, by xstate's transition() and by the reducer alike
      const views = inspectAt(log);
      const session = views.find((x) => x.actor === 'session')!;
      expect(session.machinePhase).toBe('done');
      for (const v2 of views) expect(v2.machinePhase).toBe(v2.phase);
      // drift: one row per trained step, with calibration numbers in range
      const drift = driftOf(log);
      expect(drift.map((d) => d.step)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
      for (const d of drift) expect(d.overall.mae).toBeGreaterThanOrEqual(0);
    } finally {
      void log.close();
    }
  });

  it('a changed decision in a copy of the log fails verification at its sequence number', async () => {
    const copy = join(dir, 'tampered', 'log');
    mkdirSync(copy, { recursive: true });
    cpSync(join(dir, 'run', 'log', 'data.mdb'), join(copy, 'data.mdb'));
    const original = EventLog.open(copy, { readOnly: true });
    const seq = original.seqOf('BatchSelected/3')!;
    await original.close();
    const env = open({ path: copy, maxDbs: 8, encoding: 'binary' });
    const events = env.openDB<Buffer, Buffer>('events', { encoding: 'binary', keyEncoding: 'binary' });
    const ev = decodeTrusted(events.getBinary(seqKey(seq))!);
    if (ev.type !== 'BatchSelected') throw new Error('expected BatchSelected');
    const prompts = ev.data.prompts.slice();
    prompts[0] = (prompts[0] + 1) % 2000; // one prompt changed
    await events.put(seqKey(seq), encodeEvent({ ...ev, data: { ...ev.data, prompts } }));
    await env.flushed;
    await env.close();
    const log = EventLog.open(copy, { readOnly: true });
    try {
      const v = verifyLog(log);
      expect(v.mismatch?.seq).toBe(seq);
      expect(v.mismatch?.id).toBe('BatchSelected/3');
      expect(v.mismatch?.reason).toMatch(/data\.prompts/);
    } finally {
      void log.close();
    }
  });

  it('inspect at a past position and a prompt timeline come from the log alone', () => {
    const log = EventLog.open(join(dir, 'run', 'log'), { readOnly: true });
    try {
      const at = log.seqOf('UpdateRequested/1')!;
      const views = inspectAt(log, at);
      expect(views.find((v) => v.actor === 'session')!.machinePhase).toBe('updating');
      expect(views.find((v) => v.actor === 'learner')!.machinePhase).toBe('updating');
      expect(views.every((v) => v.seq === at)).toBe(true);
      // a prompt of step 1: estimated, selected, rolled out (and trained)
      const batch = log.read(log.seqOf('BatchSelected/1')!, log.seqOf('BatchSelected/1')! + 1)[0].event;
      if (batch.type !== 'BatchSelected') throw new Error('expected BatchSelected');
      const q = batch.data.prompts[0];
      const tl = promptTimeline(log, q, () => []);
      const kinds = tl.map((t) => t.kind);
      expect(kinds).toContain('estimate');
      expect(kinds).toContain('selected');
      expect(kinds).toContain('rollout');
      const selected = tl.find((t) => t.kind === 'selected')!;
      expect(selected.step).toBe(1);
      expect(selected.detail.rollouts).toBe(batch.data.rollouts[0]);
      expect(tl.find((t) => t.kind === 'rollout')!.detail.group).toBe(`g/1/${q}`);
    } finally {
      void log.close();
    }
  });

  it('resuming a finished run says so and changes nothing', async () => {
    const before = EventLog.open(join(dir, 'run', 'log'), { readOnly: true });
    const last = before.lastSeq();
    await before.close();
    const r = await resumeRun({ runDir: join(dir, 'run'), logger, nats: sharedNats() });
    expect(r).toMatchObject({ runDir: join(dir, 'run'), finished: true, repaired: [] });
    const after = EventLog.open(join(dir, 'run', 'log'), { readOnly: true });
    expect(after.lastSeq()).toBe(last);
    await after.close();
    // a run killed after RunCompleted, before its summary was written: the resume writes it from the log
    const summary = readFileSync(join(dir, 'run', 'summary.json'), 'utf8');
    rmSync(join(dir, 'run', 'summary.json'));
    const again = await resumeRun({ runDir: join(dir, 'run'), logger, nats: sharedNats() });
    expect(again).toMatchObject({ finished: true, repaired: ['summary'] });
    expect(JSON.parse(readFileSync(join(dir, 'run', 'summary.json'), 'utf8'))).toEqual(JSON.parse(summary));
  });

  it('a run killed after writing config.json but before creating its log resumes from config.json', async () => {
    // what `dare run` leaves when killed in its first moments: the run directory with config.json only
    const early = join(dir, 'early', 'run'); // the same directory name: the run id is part of every event
    mkdirSync(join(early, 'checkpoints'), { recursive: true });
    cpSync(join(dir, 'run', 'config.json'), join(early, 'config.json'));
    const r = await resumeRun({ runDir: early, logger, nats: sharedNats() });
    expect('summary' in r && r.summary.completed).toBe(true);
    expectSameRun(join(dir, 'run'), early);
    await expect(resumeRun({ runDir: join(dir, 'nothing-here'), logger })).rejects.toThrow(/not a run directory/);
  }, 120_000);

  it('a run killed after LMDB wrote its meta pages but before the log had its databases starts afresh on resume', async () => {
    const early = join(dir, 'meta-only', 'run');
    mkdirSync(join(early, 'checkpoints'), { recursive: true });
    cpSync(join(dir, 'run', 'config.json'), join(early, 'config.json'));
    // what the first moments of EventLog.open leave: an environment with no named databases
    const env = open({ path: join(early, 'log'), maxDbs: 8 });
    await env.close();
    expect(statSync(join(early, 'log', 'data.mdb')).size).toBeGreaterThan(0);
    expect(() => EventLog.open(join(early, 'log'), { readOnly: true })).toThrow(/not initialised yet/);
    const r = await resumeRun({ runDir: early, logger, nats: sharedNats() });
    expect('summary' in r && r.summary.completed).toBe(true);
    expectSameRun(join(dir, 'run'), early);
  }, 120_000);

  it('a counterfactual replay changes decisions only when a setting changes', () => {
    const log = EventLog.open(join(dir, 'run', 'log'), { readOnly: true });
    try {
      const same = counterfactual(log, ['estimator.clip=4']);
      expect(same.changedDecisions).toBe(0);
      expect(same.steps.every((s) => s.overlap === 1)).toBe(true);
      const kappa = counterfactual(log, ['BETA_KAPPA=2']);
      expect(kappa.changedDecisions).toBeGreaterThan(0);
      expect(kappa.steps.some((s) => s.overlap < 1)).toBe(true);
      const clip = counterfactual(log, ['IS_CLIP_RANGE=0.05']);
      expect(clip.changedDecisions).toBeGreaterThan(0);
    } finally {
      void log.close();
    }
  });
});
