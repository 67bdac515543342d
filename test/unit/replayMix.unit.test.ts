import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { replayMix, replayNeed, type ReplayCandidate } from '../../actors/learner/replayMix.ts';

function cands(n: number, step = 1): ReplayCandidate[] {
  return Array.from({ length: n }, (_, i) => ({ groupId: `g${i}`, step, realizedSuccess: (i % 9) / 8 }));
}

describe('replay count need = ⌊(1−σ)·B⌋', () => {
  it('by hand', () => {
    expect(replayNeed(8, 0.5)).toBe(4); // 0.5 · 8 = 4
    expect(replayNeed(8, 0.25)).toBe(6); // 0.75 · 8 = 6
    expect(replayNeed(10, 0.35)).toBe(6); // 0.65 · 10 = 6.5 → 6
    expect(replayNeed(8, 1)).toBe(0); // all fresh
    expect(replayNeed(8, 0)).toBe(8); // all replay
    // REF float quirk kept: (1 − 0.9) = 0.09999999999999998, ·10 = 0.9999999999999998 → 0
    expect(replayNeed(10, 0.9)).toBe(0);
  });
  it('validates σ and B', () => {
    expect(() => replayNeed(0, 0.5)).toThrow(/batchSize/);
    expect(() => replayNeed(8, 1.5)).toThrow(/sigma/);
  });
});

describe('replayMix', () => {
  const base = { seed: 11, step: 5, epoch: 1, batchSize: 8, sigma: 0.5 };

  it('draws need groups without replacement from older steps', () => {
    const m = replayMix({ ...base, candidates: cands(10) });
    expect(m.need).toBe(4);
    expect(m.available).toBe(10);
    expect(m.chosen).toHaveLength(4);
    expect(new Set(m.chosen).size).toBe(4);
    expect(m.key).toEqual({ seed: 11, step: 5, purpose: 'replay' });
    // same key ⇒ same draw
    expect(replayMix({ ...base, candidates: cands(10) }).chosen).toEqual(m.chosen);
  });

  it('a step never replays its own fresh data (candidates from the current step or later are excluded)', () => {
    const c = [...cands(3, 4), { groupId: 'fresh1', step: 5, realizedSuccess: 0.5 }, { groupId: 'fresh2', step: 5, realizedSuccess: 0.5 }];
    for (let seed = 0; seed < 50; seed++) {
      const m = replayMix({ ...base, seed, candidates: c });
      expect(m.available).toBe(3);
      expect(m.chosen).toHaveLength(3); // need 4 > 3 available → all 3
      expect(m.chosen).not.toContain('fresh1');
      expect(m.chosen).not.toContain('fresh2');
    }
  });

  it('epoch 0 and an empty buffer give fresh only', () => {
    expect(replayMix({ ...base, epoch: 0, candidates: cands(10) })).toMatchObject({ chosen: [], need: 0, reason: 'epoch-0' });
    expect(replayMix({ ...base, candidates: [] })).toMatchObject({ chosen: [], need: 4, reason: 'empty-buffer' });
    expect(replayMix({ ...base, sigma: 1, candidates: cands(3) })).toMatchObject({ chosen: [], reason: 'need-0' });
  });

  it('priority range (failure space) is drawn first, then the rest', () => {
    // realizedSuccess of g_i = (i mod 9)/8 → d = 1 − that. d ∈ [0.25, 0.5] ⇔ success ∈ [0.5, 0.75] ⇔ i ∈ {4, 5, 6}
    const c = cands(9);
    for (let seed = 0; seed < 30; seed++) {
      const m = replayMix({ ...base, seed, batchSize: 10, sigma: 0.5, candidates: c, priorityRange: { dMin: 0.25, dMax: 0.5 } });
      expect(m.need).toBe(5);
      expect(m.fromPriority).toBe(3);
      expect(m.chosen.slice(0, 3).sort()).toEqual(['g4', 'g5', 'g6']);
      expect(m.chosen.slice(3).every((g) => !['g4', 'g5', 'g6'].includes(g))).toBe(true);
    }
    expect(() => replayMix({ ...base, candidates: c, priorityRange: { dMin: 0.6, dMax: 0.2 } })).toThrow(/dMin ≤ dMax/);
  });

  it('is uniform: each of 5 groups is replayed with probability need/available = 2/5', () => {
    const counts = new Map<string, number>();
    const N = 2000;
    for (let step = 1; step <= N; step++) {
      const m = replayMix({ seed: 3, step, epoch: 1, batchSize: 4, sigma: 0.5, candidates: cands(5, 0) });
      for (const g of m.chosen) counts.set(g, (counts.get(g) ?? 0) + 1);
    }
    // expected 2000 · 2/5 = 800 each; sd = sqrt(2000 · 0.4 · 0.6) ≈ 21.9; allow ±5 sd
    expect(counts.size).toBe(5);
    for (const c of counts.values()) expect(Math.abs(c - 800)).toBeLessThan(110);
  });

  it('property: |chosen| = min(need, available), distinct, all eligible', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 40 }),
        fc.integer({ min: 1, max: 32 }),
        fc.double({ min: 0, max: 1, noNaN: true }),
        fc.integer({ min: 0, max: 1000 }),
        (n, B, sigma, seed) => {
          const c = Array.from({ length: n }, (_, i) => ({ groupId: `g${i}`, step: i % 7, realizedSuccess: 0.5 }));
          const step = 4;
          const m = replayMix({ seed, step, epoch: 2, batchSize: B, sigma, candidates: c });
          const eligible = c.filter((x) => x.step < step).map((x) => x.groupId);
          expect(m.chosen.length).toBe(Math.min(Math.floor((1 - sigma) * B), eligible.length));
          expect(new Set(m.chosen).size).toBe(m.chosen.length);
          for (const g of m.chosen) expect(eligible).toContain(g);
        },
      ),
    );
  });
});
