import { describe, expect, it } from 'vitest';
import { dapoAccumulate, dapoAccumulator, dapoKeepMask } from '../../actors/learner/dapoSampling.ts';
import { accumulatorStatus, finalizeAccumulator } from '../../actors/learner/groupAccumulator.ts';

const batch = (ids: number[], succ: number[], sizes: number[]) => ({
  group: Uint32Array.from(ids),
  successes: Uint32Array.from(succ),
  sizes: Uint32Array.from(sizes),
});

describe('DAPO dynamic sampling', () => {
  it('drops zero-variance groups, keeps mixed ones and singletons', () => {
    // (0/8) all wrong, (8/8) all right, (3/8) mixed, (1/1) singleton, (0/1) singleton, (1/2) mixed
    expect(Array.from(dapoKeepMask(batch([0, 1, 2, 3, 4, 5], [0, 8, 3, 1, 0, 1], [8, 8, 8, 1, 1, 2])))).toEqual([0, 0, 1, 1, 1, 1]);
  });

  it('accumulates over generation batches until B, truncates to exactly B groups', () => {
    let acc = dapoAccumulator(3);
    acc = dapoAccumulate(acc, batch([0, 1, 2], [0, 4, 8], [8, 8, 8]));
    expect(accumulatorStatus(acc)).toBe('need-more');
    acc = dapoAccumulate(acc, batch([3, 4, 5], [1, 7, 2], [8, 8, 8]));
    expect(accumulatorStatus(acc)).toBe('full');
    expect(Array.from(finalizeAccumulator(acc).groups)).toEqual([1, 3, 4]);
  });

  it('stops after max_num_gen_batches and trains on the partial batch', () => {
    let acc = dapoAccumulator(2, 3);
    for (let t = 0; t < 3; t++) acc = dapoAccumulate(acc, batch([t], [8], [8]));
    expect(accumulatorStatus(acc)).toBe('capped');
    expect(finalizeAccumulator(acc)).toEqual({ groups: new Uint32Array(0), partial: true, surplus: 0 });
    expect(acc.dropped).toBe(3);
  });
});
