/**
 * The shared replay-buffer fold's memo (actors/shared/bufferFold.ts): the second fold of an event from the
 * same state is a look-up, and the memo stays bounded however long the run — an unbounded one chained every
 * state of a run to the next and kept them all alive.
 */
import { describe, expect, it } from 'vitest';
import { bufferFoldMemoSize, foldBuffer, initBufferFold } from '../../actors/shared/bufferFold.ts';
import { makeEvent, type Logged } from '../../events/catalogue.ts';
import { resolveConfig } from '../../events/config.ts';

function rollout(seq: number, step: number, promptIndex: number): Logged {
  const event = makeEvent(
    'RolloutCompleted',
    {
      step, promptIndex, group: `g/${step}/${promptIndex}`, purpose: 'train', policyVersion: step,
      reward: new Float32Array([1, 0, 1, 0]), length: new Uint32Array([3, 4, 5, 6]), logprob: new Float64Array([-1, -2, -3, -4]),
      truncated: new Uint8Array(4), hinted: new Uint8Array(4), oracleSuccess: null,
    },
    { run: 'r', id: `RolloutCompleted/${step}/${promptIndex}`, ts: 0 },
  );
  return { seq, event };
}

describe('buffer fold memo', () => {
  it('a second fold of the same event from the same state is the first one, and the memo stays bounded', () => {
    const config = resolveConfig({ learner: { bufferSize: 64 } });
    let a = initBufferFold(config);
    let seq = 0;
    for (let step = 0; step < 40; step++) {
      for (let p = 0; p < 256; p++) {
        const e = rollout(++seq, step, p);
        const next = foldBuffer(a, e);
        expect(foldBuffer(a, e)).toBe(next); // the estimator's and the learner's folds: look-ups
        a = next;
      }
      const update = { seq: ++seq, event: makeEvent('UpdateRequested', {
        step, policyVersion: step, key: { seed: 1, step, purpose: 'update' }, groups: [], freshGroups: 0,
        rowGroup: new Uint32Array(0), rowIndex: new Uint16Array(0), rawReward: new Float32Array(0), shapedReward: new Float32Array(0),
        advantage: new Float32Array(0), clipLo: new Float32Array(0), clipHi: new Float32Array(0), weight: new Float32Array(0),
        bin: new Int32Array(0), aggregation: 'token-mean', lConst: 0, entropyCoeff: 0, klCoeff: 0, maskTruncated: false,
      }, { run: 'r', id: `UpdateRequested/${step}`, ts: 0 }) } as Logged;
      a = foldBuffer(a, update);
    }
    // 40 steps × 257 folds = 10,280 states made; the memo holds at most its bound of them
    expect(bufferFoldMemoSize()).toBeLessThanOrEqual(4096);
    expect(a.buffer.groups.length).toBeLessThanOrEqual(64);
  });
});
