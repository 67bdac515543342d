/** The dashboard's prompt table as a fold of hand-made events (values worked out by hand beside each check). */
import { describe, expect, it } from 'vitest';
import { makeEvent, type DareEvent, type Logged } from '../../events/catalogue.ts';
import { PromptTable } from '../../views/serve/promptTable.ts';

const run = 'r';
let seq = 0;
const at = (e: DareEvent): Logged => ({ seq: ++seq, event: e });
const key = { seed: 1, step: 1, purpose: 'x' };

function table(): PromptTable {
  const t = new PromptTable((q) => ({ id: `p${q}`, question: ['two plus two', 'hard sum', 'easy one'][q], category: q === 1 ? 'mix' : 'add' }));
  const feed = (e: DareEvent) => t.add(at(e));
  feed(makeEvent('PromptsRegistered', { count: 3, evalCount: 1, contentHash: 'a'.repeat(64), source: 'x', categories: ['add'], categoryOf: new Uint16Array(4), conflicts: 0 }, { run, id: 'PR', ts: 0 }));
  // sources: 2 snis, 255 none, 0 cold-constant
  feed(makeEvent('DifficultyEstimated', { epoch: 0, step: 1, method: 'snis', difficulty: new Float32Array([0.25, NaN, 0.5, 0.1]), source: new Uint8Array([2, 255, 0, 2]), ess: new Float32Array(4), key: null, diagnostics: {} }, { run, id: 'DE1', ts: 0 }));
  const batch = (step: number, prompts: number[], tier: number[]) => feed(makeEvent('BatchSelected', {
    step, epoch: 0, key, strategy: 's', prompts: new Uint32Array(prompts), difficulty: new Float32Array(prompts.length), tier: new Uint8Array(tier),
    rollouts: new Uint16Array(prompts.length).fill(4), hints: new Uint16Array(prompts.length), filled: 0,
  }, { run, id: `BS${step}`, ts: 0 }));
  batch(1, [0, 2], [0, 2]);
  const rollout = (step: number, q: number, reward: number[], purpose: 'train' | 'reference', oracle: number | null) => feed(makeEvent('RolloutCompleted', {
    step, promptIndex: q, group: `g/${step}/${q}/${purpose}`, purpose, policyVersion: 0, reward: new Float32Array(reward), length: new Uint32Array(reward.length),
    logprob: new Float64Array(reward.length), truncated: new Uint8Array(reward.length), hinted: new Uint8Array(reward.length), oracleSuccess: oracle,
  }, { run, id: `RC${step}/${q}/${purpose}`, ts: 0 }));
  rollout(1, 0, [1, 0, 1, 1], 'train', 0.7);
  rollout(1, 2, [0, 0, 0, 1], 'train', null);
  rollout(1, 1, [0, 0, 0, 0], 'reference', 0.1); // reference rollouts are not training rollouts
  // step 2: prompt 0 unlabelled now (keeps 0.25), prompt 2 re-estimated
  feed(makeEvent('DifficultyEstimated', { epoch: 0, step: 2, method: 'snis', difficulty: new Float32Array([NaN, NaN, 0.75, 0]), source: new Uint8Array([255, 255, 2, 2]), ess: new Float32Array(4), key: null, diagnostics: {} }, { run, id: 'DE2', ts: 0 }));
  batch(2, [2], [1]);
  rollout(2, 2, [1, 1, 0, 0], 'train', 0.4);
  return t;
}

describe('PromptTable', () => {
  it('folds the latest label, last tier, times sampled and the failure rate of training rollouts', () => {
    const t = table();
    expect(t.size).toBe(3); // training prompts only (the eval prompt 3 is left out)
    expect(t.row(0)).toMatchObject({ id: 'p0', difficulty: 0.25, source: 'snis', tier: 'easy', timesSampled: 1, lastStep: 1, rollouts: 4 });
    expect(t.row(0).failureRate).toBeCloseTo(0.25); // 1 failure of 4
    expect(t.row(0).trueDifficulty).toBeCloseTo(0.3); // 1 − 0.7
    expect(t.row(1)).toMatchObject({ difficulty: null, source: 'none', tier: '', timesSampled: 0, lastStep: null, rollouts: 0, failureRate: null, trueDifficulty: null });
    expect(t.row(2)).toMatchObject({ difficulty: 0.75, source: 'snis', tier: 'medium', timesSampled: 2, lastStep: 2, rollouts: 8 });
    expect(t.row(2).failureRate).toBeCloseTo(5 / 8); // 3 of 4, then 2 of 4
    expect(t.row(2).trueDifficulty).toBeCloseTo(0.6); // 1 − 0.4, the latest
    expect(() => t.row(3)).toThrow(/not a training prompt/);
  });

  it('searches text, source and tier, sorts with empty values last, and pages', () => {
    const t = table();
    expect(t.query({ q: 'hard' }).rows.map((r) => r.index)).toEqual([1]); // question "hard sum"; prompt 0 is "easy" tier, not hard
    expect(t.query({ q: 'EASY' }).rows.map((r) => r.index)).toEqual([0, 2]); // tier easy, question "easy one"
    expect(t.query({ q: 'cold' }).rows).toEqual([]); // prompt 2 moved from cold-constant to snis
    expect(t.query({ q: '#2' }).rows.map((r) => r.index)).toEqual([2]);
    expect(t.query({ sort: 'difficulty' }).rows.map((r) => r.index)).toEqual([0, 2, 1]);
    expect(t.query({ sort: 'difficulty', desc: true }).rows.map((r) => r.index)).toEqual([2, 0, 1]);
    expect(t.query({ sort: 'timesSampled', desc: true, limit: 1 })).toMatchObject({ total: 3, matched: 3, rows: [{ index: 2 }] });
    expect(t.query({ offset: 2, limit: 5 }).rows.map((r) => r.index)).toEqual([2]);
  });
});
