/**
 * Every method preset the actors carry out runs end to end on the sim (a few steps) and replay-verifies;
 * the presets whose strategies are not wired yet are refused by name rather than run as something else.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { verifyLog } from '../../run/replay.ts';
import { metricsOf } from '../../run/metrics.ts';
import { runScenario } from '../../run/runner.ts';
import { PRESETS } from '../../events/config.ts';
import { EventLog } from '../../store/eventLog.ts';
import { scenarioDir, sharedNats } from '../support/scenarios.ts';

const { dir, sc } = scenarioDir('dare-presets-', {
  run: { steps: 4, batchSize: 32, stepsPerEpoch: 2, checkpointEvery: 2, evalEvery: 4, evalSize: 100 },
  task: { source: 'sim', count: 400, evalCount: 100, maxResponseTokens: 64 },
  worker: { kind: 'sim', lr: 0.1 },
  learner: { bufferSize: 128 },
});

const WIRED = ['dare', 'dare-reference', 'grpo', 'previous-fr', 'mopps', 'dr-grpo', 'daro', 'adarft', 'sec', 'dapo', 'online-filter', 'knapsack', 'greso', 'dots', 'vcrl', 'staged', 'llm-judge', 'edco'];

describe('method presets on the sim', () => {
  for (const method of WIRED) {
    it(`${method} runs and replay-verifies`, async () => {
      const runDir = join(dir, method);
      const out = await runScenario({ scenario: sc, runDir, sets: [`method=${method}`], logger: pino({ level: 'silent' }), nats: sharedNats() });
      expect(out.summary.completed).toBe(true);
      expect(out.summary.method).toBe(method);
      const log = EventLog.open(join(runDir, 'log'), { readOnly: true });
      try {
        expect(verifyLog(log).mismatch).toBeNull();
        const batches = [...log.iterate(1)].filter((e) => e.event.type === 'BatchSelected');
        expect(batches.length).toBe(4);
      } finally {
        await log.close();
      }
    }, 60_000);
  }

  it('dapo drops zero-variance groups and refills until B groups are kept; the dropped rollouts are accounted as discarded', async () => {
    const runDir = join(dir, 'dapo-easy');
    // an easy prompt set: many all-correct groups, so the filter has work to do
    const out = await runScenario({
      scenario: sc, runDir, sets: ['method=dapo', 'worker.simDistribution=skewed-easy', 'run.steps=3'], logger: pino({ level: 'silent' }), nats: sharedNats(),
    });
    const log = EventLog.open(join(runDir, 'log'), { readOnly: true });
    try {
      const evs = [...log.iterate(1)].map((e) => e.event);
      const refills = evs.filter((e) => e.type === 'RolloutRequested' && e.data.purpose === 'refill');
      expect(refills.length).toBeGreaterThan(0);
      const groups = new Map<string, Float32Array>();
      for (const e of evs) if (e.type === 'RolloutCompleted') groups.set(e.data.group, e.data.reward);
      for (const e of evs) {
        if (e.type !== 'UpdateRequested') continue;
        expect(e.data.freshGroups).toBeLessThanOrEqual(32);
        for (const g of e.data.groups.slice(0, e.data.freshGroups)) {
          const r = groups.get(g)!;
          const k = Array.from(r).filter((x) => x > 0).length;
          expect(k > 0 && k < r.length, `${g} is a zero-variance group`).toBe(true);
        }
      }
      const a = out.summary.rollouts;
      expect(a.discarded).toBeGreaterThan(0);
      expect(a.generated).toBe(a.trained + a.buffered + a.discarded + a.inFlight);
      expect(verifyLog(log).mismatch).toBeNull();
    } finally {
      await log.close();
    }
  }, 60_000);

  it('knapsack spends exactly B·n rollouts per step and moves them between prompts once it has history', async () => {
    const runDir = join(dir, 'knapsack-small');
    await runScenario({
      scenario: sc, runDir, sets: ['method=knapsack', 'task.count=40', 'run.batchSize=16', 'run.steps=8'], logger: pino({ level: 'silent' }), nats: sharedNats(),
    });
    const log = EventLog.open(join(runDir, 'log'), { readOnly: true });
    try {
      const batches = [...log.iterate(1)].map((e) => e.event).filter((e) => e.type === 'BatchSelected');
      for (const b of batches) expect(b.data.rollouts.reduce((x, y) => x + y, 0)).toBe(b.data.prompts.length * 8);
      expect(batches.some((b) => new Set(b.data.rollouts).size > 1)).toBe(true);
      expect(verifyLog(log).mismatch).toBeNull();
    } finally {
      await log.close();
    }
  }, 60_000);

  it('greso skips prompts with zero-variance streaks before rolling them out, and the learner refills', async () => {
    const runDir = join(dir, 'greso-easy');
    await runScenario({
      scenario: sc, runDir, logger: pino({ level: 'silent' }), nats: sharedNats(),
      sets: ['method=greso', 'worker.simDistribution=skewed-easy', 'task.count=64', 'run.batchSize=16', 'run.steps=12'],
    });
    const log = EventLog.open(join(runDir, 'log'), { readOnly: true });
    try {
      const evs = [...log.iterate(1)].map((e) => e.event);
      const batches = evs.filter((e) => e.type === 'BatchSelected');
      expect(batches.some((b) => b.data.prompts.length < 16)).toBe(true); // some candidates were skipped
      const updates = evs.filter((e) => e.type === 'UpdateRequested');
      expect(updates.length).toBe(12);
      expect(verifyLog(log).mismatch).toBeNull();
    } finally {
      await log.close();
    }
  }, 60_000);

  it('the TF-IDF cold start rolls out a reference set each round and labels every prompt from it', async () => {
    const runDir = join(dir, 'dare-tfidf');
    await runScenario({
      scenario: sc, runDir, logger: pino({ level: 'silent' }), nats: sharedNats(),
      // the reference set rolled out once per epoch (the dare preset's own default takes it from the buffer, every step)
      sets: ['estimator.coldStart=tfidf', 'estimator.referenceSize=24', 'estimator.coldStartReference=rollouts', 'run.estimation=epoch'],
    });
    const log = EventLog.open(join(runDir, 'log'), { readOnly: true });
    try {
      const evs = [...log.iterate(1)].map((e) => e.event);
      const refs = evs.filter((e): e is Extract<typeof e, { type: 'RolloutRequested' }> => e.type === 'RolloutRequested' && e.data.purpose === 'reference');
      expect(refs.length).toBe(2); // one per epoch (4 steps, 2 per epoch)
      for (const r of refs) expect(r.data.prompts.length).toBe(24);
      const est = evs.filter((e): e is Extract<typeof e, { type: 'DifficultyEstimated' }> => e.type === 'DifficultyEstimated');
      // source codes: 1 = TF-IDF cold start, 4 = measured reference; never the constant (0)
      for (const d of est) {
        expect(d.data.source.includes(0)).toBe(false);
        expect(d.data.source.filter((c) => c === 4).length).toBe(24);
      }
      const m = metricsOf(log.iterate(1));
      expect(m.accounting.discarded).toBe(2 * 24 * 8); // reference rollouts are never trained
      expect(verifyLog(log).mismatch).toBeNull();
    } finally {
      await log.close();
    }
  }, 60_000);

  it('staged moves to the hard stage when eval accuracy plateaus: hard prompts only, truncated rows masked, no entropy bonus', async () => {
    const runDir = join(dir, 'staged-plateau');
    // a learning rate so small that accuracy stays flat: the plateau rule fires after a few evaluations
    await runScenario({
      scenario: sc, runDir, logger: pino({ level: 'silent' }), nats: sharedNats(),
      sets: ['method=staged', 'worker.lr=0.000001', 'run.evalEvery=1', 'run.steps=10', 'worker.simDistribution=bimodal'],
    });
    const log = EventLog.open(join(runDir, 'log'), { readOnly: true });
    try {
      const evs = [...log.iterate(1)].map((e) => e.event);
      const updates = evs.filter((e): e is Extract<typeof e, { type: 'UpdateRequested' }> => e.type === 'UpdateRequested');
      expect(updates[0].data.maskTruncated).toBe(false);
      const hard = updates.filter((u) => u.data.maskTruncated);
      expect(hard.length).toBeGreaterThan(0);
      for (const u of hard) expect(u.data.entropyCoeff).toBe(0);
      const batches = evs.filter((e): e is Extract<typeof e, { type: 'BatchSelected' }> => e.type === 'BatchSelected');
      const lastBatch = batches[batches.length - 1];
      // the hard range's prompts come first; a short range is topped up uniformly (counted in `filled`)
      const inRange = lastBatch.data.prompts.length - lastBatch.data.filled;
      expect(inRange).toBeGreaterThan(0);
      for (const d of lastBatch.data.difficulty.slice(0, inRange)) expect(d).toBeGreaterThanOrEqual(0.8);
      expect(verifyLog(log).mismatch).toBeNull();
    } finally {
      await log.close();
    }
  }, 60_000);

  it('staged: a last stage whose range holds no prompt fills its batches uniformly instead of waiting forever', async () => {
    const runDir = join(dir, 'staged-empty');
    const scEmpty = join(dir, 'staged-empty.json');
    // previous-fr labels are multiples of 1/G: no prompt's estimate lies in [0.9999, 1)
    const stage = {
      name: 'nothing', filter: { dMin: 0.9999, dMax: 1, includeMin: true, includeMax: false },
      maxResponseTokens: 0, maskTruncated: false, entropyCoeff: 0, transition: { kind: 'steps', n: 1000000 },
    };
    writeFileSync(scEmpty, JSON.stringify({ ...JSON.parse(readFileSync(sc, 'utf8')), method: 'staged', learner: { stages: [stage] } }));
    const out = await runScenario({ scenario: scEmpty, runDir, sets: ['run.steps=4'], logger: pino({ level: 'silent' }), nats: sharedNats() });
    expect(out.summary.completed).toBe(true);
    const log = EventLog.open(join(runDir, 'log'), { readOnly: true });
    try {
      const batches = [...log.iterate(1)].map((e) => e.event).filter((e): e is Extract<typeof e, { type: 'BatchSelected' }> => e.type === 'BatchSelected');
      expect(batches.length).toBe(4);
      const B = JSON.parse(readFileSync(sc, 'utf8')).run.batchSize;
      for (const b of batches) {
        expect(b.data.prompts.length).toBe(B);
        expect(b.data.filled).toBe(B);
      }
      expect(verifyLog(log).mismatch).toBeNull();
    } finally {
      await log.close();
    }
  }, 60_000);

  it('every preset is covered above', () => {
    expect(Object.keys(PRESETS).filter((m) => !WIRED.includes(m))).toEqual([]);
  });

  it('llm-judge asks the policy about every prompt each round and labels them from its replies', async () => {
    const runDir = join(dir, 'judge-check');
    await runScenario({ scenario: sc, runDir, sets: ['method=llm-judge'], logger: pino({ level: 'silent' }), nats: sharedNats() });
    const log = EventLog.open(join(runDir, 'log'), { readOnly: true });
    try {
      const evs = [...log.iterate(1)].map((e) => e.event);
      const asked = evs.filter((e): e is Extract<typeof e, { type: 'SignalRequested' }> => e.type === 'SignalRequested');
      const answered = evs.filter((e): e is Extract<typeof e, { type: 'SignalCompleted' }> => e.type === 'SignalCompleted');
      expect(asked.length).toBe(2); // one round per epoch
      expect(answered.map((a) => a.data.texts.length)).toEqual([400, 400]);
      const est = evs.filter((e): e is Extract<typeof e, { type: 'DifficultyEstimated' }> => e.type === 'DifficultyEstimated');
      for (const d of est) expect(d.data.source.every((c) => c === 6)).toBe(true); // judge
      // the sim answers a judge instruction with a number (its pass rate ± 0.15; sim.unit.test.ts): every reply
      // is parsed, the labels are spread out (not all 0.5), and each is 1 − its reply (REF's parse)
      for (const d of est) expect(d.data.diagnostics.unparsed ?? 0).toBe(0);
      const labels = [...est[0].data.difficulty].slice(0, 400);
      expect(new Set(labels.map((x) => x.toFixed(2))).size).toBeGreaterThan(20);
      const fromReplies = answered[0].data.texts.map((t) => 1 - Number(t));
      expect(labels.every((d, q) => Math.abs(d - fromReplies[q]) < 1e-6)).toBe(true);
      expect(verifyLog(log).mismatch).toBeNull();
    } finally {
      await log.close();
    }
  }, 60_000);
});
