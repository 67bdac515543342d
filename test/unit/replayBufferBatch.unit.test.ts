/**
 * addedAll (one pass over a step's fresh groups) is the same fold as adding them one by one: the same
 * buffer, the same evictions in the same order, the same errors — for both semantics, from any prior state.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { addedAll, evolve, initBuffer, type BufferConfig, type BufferState, type Eviction, type RolloutGroup } from '../../actors/shared/replayBuffer.ts';

function group(promptIndex: number, step: number, k: number, ok: number, id = `g/${step}/${promptIndex}/${k}`): RolloutGroup {
  const rewards = Float64Array.from({ length: 4 }, (_, i) => (i < ok ? 1 : 0));
  return {
    promptIndex, groupId: id, step, rewards, realizedSuccess: ok / 4, blobKey: id,
    behaviourLogprobSum: Float64Array.from({ length: 4 }, (_, i) => -5 - i - k),
    lengths: Uint32Array.from({ length: 4 }, (_, i) => 10 + i),
  };
}

function sequential(s: BufferState, groups: RolloutGroup[]): { state: BufferState; evictions: Eviction[] } {
  const evictions: Eviction[] = [];
  for (const g of groups) {
    const r = evolve(s, { kind: 'added', group: g });
    s = r.state;
    evictions.push(...r.evictions);
  }
  return { state: s, evictions };
}

const configs = fc.oneof(
  fc.record({ semantics: fc.constant('paper' as const), perPromptCapacity: fc.integer({ min: 1, max: 3 }), globalCapacity: fc.integer({ min: 1, max: 12 }) }),
  fc.record({
    semantics: fc.constant('reference' as const), bufferSize: fc.integer({ min: 0, max: 12 }), sigma: fc.constantFrom(0, 0.5, 1),
    batchSize: fc.integer({ min: 1, max: 6 }), keepZeroOneGroups: fc.boolean(),
  }),
);
const steps = fc.array(fc.array(fc.tuple(fc.integer({ min: 0, max: 6 }), fc.integer({ min: 0, max: 4 })), { maxLength: 14 }), { minLength: 1, maxLength: 5 });

describe('addedAll', () => {
  it('property: equals adding the groups one by one (state and evictions), step after step', () => {
    fc.assert(
      fc.property(configs, steps, (config: BufferConfig, batches) => {
        let a = initBuffer(config);
        let b = initBuffer(config);
        batches.forEach((batch, step) => {
          const groups = batch.map(([p, ok], k) => group(p, step, k, ok));
          const one = sequential(a, groups);
          const all = addedAll(b, groups);
          expect(all.evictions).toEqual(one.evictions);
          expect(all.state).toEqual(one.state);
          a = one.state;
          b = all.state;
          if (config.semantics === 'reference') {
            a = evolve(a, { kind: 'pruned', step }).state;
            b = evolve(b, { kind: 'pruned', step }).state;
          }
        });
      }),
      { numRuns: 300 },
    );
  });

  it('does not modify its input state', () => {
    const s0 = addedAll(initBuffer({ semantics: 'paper', perPromptCapacity: 1, globalCapacity: 3 }), [group(1, 0, 0, 1), group(2, 0, 1, 2)]).state;
    const before = s0.groups.slice();
    addedAll(s0, [group(1, 1, 0, 3), group(3, 1, 1, 0), group(4, 1, 2, 0)]);
    expect(s0.groups).toEqual(before);
    expect(s0.groups.length).toBe(2);
  });

  it('rejects a duplicate group id as adding one by one does', () => {
    const s0 = initBuffer({ semantics: 'paper', perPromptCapacity: 2, globalCapacity: 10 });
    const g = group(1, 0, 0, 1);
    expect(() => addedAll(s0, [g, group(2, 0, 1, 1), g])).toThrow(/already in the buffer/);
    expect(() => sequential(s0, [g, group(2, 0, 1, 1), g])).toThrow(/already in the buffer/);
  });
});
