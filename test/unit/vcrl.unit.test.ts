import { describe, expect, it } from 'vitest';
import {
  createMemoryBank,
  normalisedVariance,
  observeMemoryBank,
  refillFromMemoryBank,
  vcrlFilter,
  vcrlKappa,
} from '../../actors/learner/vcrl.ts';

describe('VCRL normalised variance p = σ²/σ²_max', () => {
  it('n even (8): p = 4k(n−k)/n²', () => {
    expect(normalisedVariance(4, 8)).toBe(1); // 4·4·4/64
    expect(normalisedVariance(2, 8)).toBe(0.75); // 4·2·6/64 = 48/64
    expect(normalisedVariance(3, 8)).toBe(0.9375); // 4·3·5/64 = 60/64
    expect(normalisedVariance(0, 8)).toBe(0);
    expect(normalisedVariance(8, 8)).toBe(0);
  });

  it('n odd: p = 4k(n−k)/(n²−1), checked against σ² = k(n−k)/(n(n−1)) and σ²_max = (n+1)/(4n)', () => {
    // n = 7, k = 1: σ² = 6/42 = 1/7, σ²_max = 8/28 = 2/7 ⇒ p = 0.5 = 4·1·6/48
    expect(normalisedVariance(1, 7)).toBeCloseTo(0.5, 15);
    expect(normalisedVariance(3, 7)).toBe(1); // 4·3·4/48: the odd-n maximum
    // n = 5, k = 1: 4·1·4/24 = 2/3
    expect(normalisedVariance(1, 5)).toBeCloseTo(2 / 3, 15);
    for (const [k, n] of [[1, 5], [2, 9], [4, 9]]) {
      const s2 = (k * (n - k)) / (n * (n - 1));
      expect(normalisedVariance(k, n)).toBeCloseTo(s2 / ((n + 1) / (4 * n)), 14);
    }
    expect(normalisedVariance(1, 1)).toBe(0); // singleton: no variance
  });

  it('κ schedule: 0.3 for steps 0..19, then 0.8; κ = 0.8 with n = 8 keeps k ∈ {3, 4, 5}', () => {
    expect([vcrlKappa(0), vcrlKappa(19), vcrlKappa(20)]).toEqual([0.3, 0.3, 0.8]);
    const b = { group: Uint32Array.from([0, 1, 2, 3, 4, 5, 6, 7, 8]), successes: Uint32Array.from([0, 1, 2, 3, 4, 5, 6, 7, 8]), sizes: new Uint32Array(9).fill(8) };
    expect(Array.from(vcrlFilter(b, 0.8).keep)).toEqual([0, 0, 0, 1, 1, 1, 0, 0, 0]);
    // κ = 0.3 keeps every mixed group: k = 1 gives p = 28/64 = 0.4375 ≥ 0.3
    expect(Array.from(vcrlFilter(b, 0.3).keep)).toEqual([0, 1, 1, 1, 1, 1, 1, 1, 0]);
  });
});

describe('VCRL memory bank', () => {
  it('momentum update, refill by priority, replay limit 2, eviction', () => {
    let bank = createMemoryBank(1); // capacity 4
    bank = observeMemoryBank(bank, Uint32Array.from([5, 6, 7]), Float64Array.from([0.9, 0.5, 1]), Uint8Array.from([1, 0, 1]));
    expect(Array.from(bank.prompt)).toEqual([5, 7]); // 6 was filtered and not banked
    // π5 ← 0.9·0.9 + 0.1·0.4 = 0.85
    bank = observeMemoryBank(bank, Uint32Array.from([5]), Float64Array.from([0.4]), Uint8Array.from([0]));
    expect(bank.priority[0]).toBeCloseTo(0.85, 15);
    let r = refillFromMemoryBank(bank, 1);
    expect(Array.from(r.prompts)).toEqual([7]); // highest priority 1.0
    r = refillFromMemoryBank(r.bank, 2);
    expect(Array.from(r.prompts)).toEqual([7, 5]); // 7 now at its 2nd replay
    r = refillFromMemoryBank(r.bank, 2);
    expect(Array.from(r.prompts)).toEqual([5]); // 7 exhausted
    r = refillFromMemoryBank(r.bank, 2);
    expect(r.prompts.length).toBe(0);
    // over capacity: 5 entries for 4 slots ⇒ the lowest-priority exhausted entry (5, π 0.85) goes first
    bank = observeMemoryBank(r.bank, Uint32Array.from([1, 2, 3]), Float64Array.from([0.6, 0.7, 0.3]), Uint8Array.from([1, 1, 1]));
    expect(Array.from(bank.prompt)).toEqual([7, 1, 2, 3]);
  });

  it('refill skips excluded prompts', () => {
    let bank = createMemoryBank(2);
    bank = observeMemoryBank(bank, Uint32Array.from([1, 2]), Float64Array.from([1, 0.9]), Uint8Array.from([1, 1]));
    expect(Array.from(refillFromMemoryBank(bank, 1, new Set([1])).prompts)).toEqual([2]);
  });
});
