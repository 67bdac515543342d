/**
 * The closing lines of `dare run` (views/selectionSummary.ts), folded from a small log written to a real LMDB
 * store, against values worked out by hand.
 *
 * Four steps, prompts 0..3 (halves: steps 1–2 and 3–4):
 *   step 1: estimate all cold-constant 0.5; picks 0, 1 (medium, medium);
 *           rollouts 0: 1 of 4 right (failure 0.75, |0.5 − 0.75| = 0.25), 1: 4 of 4 (failure 0, error 0.5)
 *   step 2: picks 2 (hard); 2 rollouts, both wrong (failure 1, error 0.5); eval accuracy 0.4
 *   step 3: new estimate d = (0.75, 0, 0.875, 0.5), sources snis, snis, fallback-raw, cold-tfidf;
 *           picks 0 (medium), 1 (easy), 3 (medium); rollouts match the estimates (errors 0, 0, 0);
 *           a reference rollout of prompt 0 (not a training pick: ignored)
 *   step 4: picks 2 (hard), 8 rollouts, 2 right (failure 0.75, |0.875 − 0.75| = 0.125); eval accuracy 0.6
 * First half: easy 0, medium 2, hard 1; 0 estimated, 3 cold; MAE (0.25 + 0.5 + 0.5)/3 = 0.41667; accuracy 0.4.
 * Second half: easy 1, medium 2, hard 1; 3 estimated (snis, snis, fallback-raw), 1 cold (cold-tfidf);
 *   MAE (0 + 0 + 0 + 0.125)/4 = 0.03125; accuracy 0.6.
 */
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { LabelSource } from '../../actors/shared/labels.ts';
import { makeEvent, type DareEvent } from '../../events/catalogue.ts';
import { EventLog } from '../../store/eventLog.ts';
import { selectionLines, selectionSummary } from '../../views/selectionSummary.ts';
import { tempDir } from '../support/tmp.ts';

const { dir, cleanup } = tempDir('dare-selection-');
afterAll(cleanup);

const RUN = 'sel';
let n = 0;
const meta = (id: string) => ({ run: RUN, id: `${id}/${++n}`, ts: 0 });

function estimate(step: number, d: number[], source: number[]): DareEvent {
  return makeEvent('DifficultyEstimated', {
    epoch: 1, step, method: 'snis', difficulty: Float32Array.from(d), source: Uint8Array.from(source), ess: new Float32Array(d.length), key: null, diagnostics: {},
  }, meta('DifficultyEstimated'));
}

function batch(step: number, prompts: number[], d: number[], tier: number[]): DareEvent {
  return makeEvent('BatchSelected', {
    step, epoch: 1, key: { seed: 1, step, purpose: 'select' }, strategy: 'beta', prompts: Uint32Array.from(prompts), difficulty: Float32Array.from(d),
    tier: Uint8Array.from(tier), rollouts: Uint16Array.from(prompts, () => 4), hints: new Uint16Array(prompts.length), filled: 0,
  }, meta('BatchSelected'));
}

function rollout(step: number, q: number, reward: number[], purpose: 'train' | 'reference' = 'train'): DareEvent {
  const k = reward.length;
  return makeEvent('RolloutCompleted', {
    step, promptIndex: q, group: `g/${step}/${q}/${purpose}`, purpose, policyVersion: step - 1, reward: Float32Array.from(reward),
    length: new Uint32Array(k).fill(3), logprob: new Float64Array(k), truncated: new Uint8Array(k), hinted: new Uint8Array(k), oracleSuccess: null,
  }, meta('RolloutCompleted'));
}

const evalAt = (step: number, accuracy: number): DareEvent =>
  makeEvent('EvalCompleted', { step, policyVersion: step, accuracy, byTier: {}, oracleAccuracy: null }, meta('EvalCompleted'));

const C = LabelSource.ColdConstant;

describe('selection summary', () => {
  it('picks per tier and source, the estimator error and the accuracy per half, as worked out by hand', async () => {
    const runDir = join(dir, 'run');
    const log = EventLog.open(join(runDir, 'log'));
    await log.append([
      estimate(1, [0.5, 0.5, 0.5, 0.5], [C, C, C, C]),
      batch(1, [0, 1], [0.5, 0.5], [1, 1]),
      rollout(1, 0, [1, 0, 0, 0]),
      rollout(1, 1, [1, 1, 1, 1]),
      batch(2, [2], [0.5], [2]),
      rollout(2, 2, [0, 0]),
      evalAt(2, 0.4),
      estimate(3, [0.75, 0, 0.875, 0.5], [LabelSource.Snis, LabelSource.Snis, LabelSource.FallbackRaw, LabelSource.ColdTfidf]),
      batch(3, [0, 1, 3], [0.75, 0, 0.5], [1, 0, 1]),
      rollout(3, 0, [1, 1, 1, 1], 'reference'),
      rollout(3, 0, [0, 0, 0, 1]),
      rollout(3, 1, [1, 1]),
      rollout(3, 3, [1, 0]),
      batch(4, [2], [0.875], [2]),
      rollout(4, 2, [0, 0, 0, 0, 0, 0, 1, 1]),
      evalAt(4, 0.6),
    ]);
    await log.close();

    const s = await selectionSummary(runDir);
    expect(s.halves).toHaveLength(2);
    const [a, b] = s.halves;
    expect(a).toMatchObject({ fromStep: 1, toStep: 2, tiers: { easy: 0, medium: 2, hard: 1, none: 0 }, estimated: 0, cold: 3, accuracy: 0.4 });
    expect(a.mae).toBeCloseTo((0.25 + 0.5 + 0.5) / 3, 6);
    expect(b).toMatchObject({ fromStep: 3, toStep: 4, tiers: { easy: 1, medium: 2, hard: 1, none: 0 }, estimated: 3, cold: 1, accuracy: 0.6 });
    expect(b.mae).toBe(0.125 / 4);

    expect(selectionLines(s)).toEqual([
      'what the selection did (prompts picked per tier; trained prompts by estimate source; estimator error vs their rollouts; eval accuracy):',
      '  steps 1-2: easy 0, medium 2, hard 1; 0 from estimates, 3 from the cold start (0% estimated); estimator MAE 0.417; accuracy 40.0%',
      '  steps 3-4: easy 1, medium 2, hard 1; 3 from estimates, 1 from the cold start (75% estimated); estimator MAE 0.031; accuracy 60.0%',
    ]);
  });

  it('a run without tiers says so; a half without evaluations has no accuracy', async () => {
    const runDir = join(dir, 'untiered');
    const log = EventLog.open(join(runDir, 'log'));
    await log.append([
      estimate(1, [0.5, 0.5], [C, C]),
      batch(1, [0, 1], [0.5, 0.5], [3, 3]),
      rollout(1, 0, [1, 0]),
      rollout(1, 1, [1, 1]),
      batch(2, [1], [0.5], [3]),
      rollout(2, 1, [0, 0]),
    ]);
    await log.close();
    const lines = selectionLines(await selectionSummary(runDir));
    expect(lines.slice(1)).toEqual([
      '  steps 1-1: 2 picked, no tiers; 0 from estimates, 2 from the cold start (0% estimated); estimator MAE 0.250; accuracy -',
      '  steps 2-2: 1 picked, no tiers; 0 from estimates, 1 from the cold start (0% estimated); estimator MAE 0.500; accuracy -',
    ]);
  });
});
