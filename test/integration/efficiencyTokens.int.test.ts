/**
 * bench/efficiency/tokens.ts: the (rollout tokens, accuracy) curve of a run, folded from a small log in a real
 * LMDB store, against values worked out by hand.
 *
 *   baseline eval (step 0): accuracy 0.1
 *   step 1: a train group of lengths 3 and 5 (8 tokens)
 *   step 2: a train group 2, 2, 2 and a reference group 4 (10 tokens); eval: accuracy 0.5, oracle 0.6
 * Curve: (0, 0.1), (18, 0.6) — the oracle's accuracy where the sim logs one. To 0.35: 0 + (0.25/0.5)·18 = 9
 * tokens; at a budget of 9 tokens the accuracy is 0.35; total 18.
 */
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { tokenCurve } from '../../bench/efficiency/tokens.ts';
import { accuracyAtBudget, rolloutsToTarget } from '../../bench/efficiency/summary.ts';
import { makeEvent } from '../../events/catalogue.ts';
import { EventLog } from '../../store/eventLog.ts';
import { tempDir } from '../support/tmp.ts';

const { dir, cleanup } = tempDir('dare-tokens-');
afterAll(cleanup);
let n = 0;
const meta = (t: string) => ({ run: 'tok', id: `${t}/${++n}`, ts: 0 });

function rollout(step: number, lengths: number[], purpose: 'train' | 'reference') {
  const k = lengths.length;
  return makeEvent('RolloutCompleted', {
    step, promptIndex: n, group: `g/${step}/${n}`, purpose, policyVersion: 0, reward: new Float32Array(k), length: Uint32Array.from(lengths),
    logprob: new Float64Array(k), truncated: new Uint8Array(k), hinted: new Uint8Array(k), oracleSuccess: null,
  }, meta('RolloutCompleted'));
}

describe('rollout tokens to target', () => {
  it('cumulates every generated row\'s length through each evaluated step', async () => {
    const runDir = join(dir, 'run');
    const log = EventLog.open(join(runDir, 'log'));
    await log.append([
      makeEvent('EvalCompleted', { step: 0, policyVersion: 0, accuracy: 0.1, byTier: {}, oracleAccuracy: null }, meta('EvalCompleted')),
      rollout(1, [3, 5], 'train'),
      rollout(2, [2, 2, 2], 'train'),
      rollout(2, [4], 'reference'),
      makeEvent('EvalCompleted', { step: 2, policyVersion: 2, accuracy: 0.5, byTier: {}, oracleAccuracy: 0.6 }, meta('EvalCompleted')),
    ]);
    await log.close();
    const { curve, total } = tokenCurve(runDir);
    expect(curve).toEqual([{ rollouts: 0, accuracy: 0.1 }, { rollouts: 18, accuracy: 0.6 }]);
    expect(total).toBe(18);
    expect(rolloutsToTarget(curve, 0.35)).toBeCloseTo(9, 12);
    expect(accuracyAtBudget(curve, 9)).toBeCloseTo(0.35, 12);
  });
});
