/**
 * The sampler and the estimator collect a step's fresh groups and fold them into their per-prompt structures
 * (knapsack's reward history, MoPPS's posteriors, GRESO's step groups) at the step's next other event, with one
 * copy each. At every position of a real run their settled state (what decide and snapshots see) must equal
 * the one-event-at-a-time fold written out here from the spec.
 */
import { join } from 'node:path';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { estimatorActor } from '../../actors/estimator/estimatorActor.ts';
import { samplerActor } from '../../actors/sampler/samplerActor.ts';
import { clonePosteriors, createPosteriors, updateCountsInPlace, type BetaPosteriors } from '../../actors/shared/mopps.ts';
import { loggedConfig } from '../../run/replay.ts';
import { runScenario } from '../../run/runner.ts';
import type { Logged } from '../../events/catalogue.ts';
import type { RunConfig } from '../../events/config.ts';
import { EventLog } from '../../store/eventLog.ts';
import { scenarioDir, sharedNats } from '../support/scenarios.ts';

const { dir, sc } = scenarioDir('dare-fresh-groups-', {
  run: { steps: 6, batchSize: 16, stepsPerEpoch: 2, checkpointEvery: 0, evalEvery: 0, evalSize: 50 },
  task: { source: 'sim', count: 40, evalCount: 50, maxResponseTokens: 64 },
  worker: { kind: 'sim', lr: 0.1 },
});

async function runLog(method: string): Promise<{ events: Logged[]; config: RunConfig }> {
  const runDir = join(dir, method);
  await runScenario({ scenario: sc, runDir, sets: [`method=${method}`], logger: pino({ level: 'silent' }), nats: sharedNats() });
  const log = EventLog.open(join(runDir, 'log'), { readOnly: true });
  try {
    return { events: log.read(1), config: loggedConfig(log).config };
  } finally {
    await log.close();
  }
}

const fresh = (l: Logged) => l.event.type === 'RolloutCompleted' && l.event.data.purpose !== 'reference';
const counts = (l: Logged) => {
  const r = (l.event as { data: { reward: Float32Array; promptIndex: number } }).data;
  let ok = 0;
  for (const x of r.reward) if (x > 0) ok++;
  return { q: r.promptIndex, ok, n: r.reward.length, correct: Float32Array.from(r.reward, (x) => (x > 0 ? 1 : 0)) };
};

describe('fresh groups folded per step equal the per-event fold', () => {
  it('knapsack: each prompt keeps its newest groups within 16 rewards, at every seq', async () => {
    const { events, config } = await runLog('knapsack');
    let s = samplerActor.initialState(config);
    const want = new Map<number, Float32Array[]>();
    let checked = 0;
    for (const l of events) {
      s = samplerActor.evolve(s, l);
      if (fresh(l)) {
        const g = counts(l);
        const list = [...(want.get(g.q) ?? []), g.correct];
        let n = list.reduce((k, x) => k + x.length, 0);
        while (list.length > 1 && n - list[0].length >= 16) n -= list.shift()!.length;
        want.set(g.q, list);
      }
      const settled = samplerActor.snapshot(s) as { own: { history: Map<number, Float32Array[]> } };
      expect(settled.own.history, `seq ${l.seq}`).toEqual(want);
      checked++;
    }
    expect(want.size).toBeGreaterThan(10);
    expect(checked).toBe(events.length);
  }, 60_000);

  it('MoPPS: the sampler\'s and the estimator\'s posteriors take every fresh group in order, at every seq', async () => {
    const { events, config } = await runLog('mopps');
    let sa = samplerActor.initialState(config);
    let es = estimatorActor.initialState(config);
    let want: BetaPosteriors | null = null;
    let groups = 0;
    for (const l of events) {
      sa = samplerActor.evolve(sa, l);
      es = estimatorActor.evolve(es, l);
      if (l.event.type === 'PromptsRegistered') want = createPosteriors(l.event.data.count, config.estimator.moppsPrior, config.estimator.moppsPrior);
      if (fresh(l) && want) {
        const g = counts(l);
        want = clonePosteriors(want);
        updateCountsInPlace(want, Uint32Array.of(g.q), Float64Array.of(g.ok), Float64Array.of(g.n - g.ok), config.estimator.moppsDecay);
        groups++;
      }
      if (!want) continue;
      expect((samplerActor.snapshot(sa) as { own: { posteriors: BetaPosteriors } }).own.posteriors, `sampler at seq ${l.seq}`).toEqual(want);
      expect((estimatorActor.snapshot(es) as { own: { posteriors: BetaPosteriors } }).own.posteriors, `estimator at seq ${l.seq}`).toEqual(want);
    }
    expect(groups).toBeGreaterThan(50);
  }, 60_000);
});
