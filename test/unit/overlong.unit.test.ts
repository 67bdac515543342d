import { describe, expect, it } from 'vitest';
import { overlongPenalties, overlongPenalty } from '../../actors/learner/overlong.ts';

describe('DAPO overlong soft punishment (L_max = 20480, L_cache = 4096)', () => {
  const cfg = { maxLength: 20480, cacheLength: 4096 };
  it('no penalty up to L_max − L_cache = 16384', () => {
    expect(overlongPenalty(0, cfg)).toBe(0);
    expect(overlongPenalty(16000, cfg)).toBe(0);
    expect(overlongPenalty(16384, cfg)).toBe(0);
  });
  it('linear ramp inside the cache interval', () => {
    // (16384 − 18432)/4096 = −2048/4096 = −0.5
    expect(overlongPenalty(18432, cfg)).toBe(-0.5);
    // (16384 − 17408)/4096 = −0.25
    expect(overlongPenalty(17408, cfg)).toBe(-0.25);
    // at L_max: (16384 − 20480)/4096 = −1
    expect(overlongPenalty(20480, cfg)).toBe(-1);
  });
  it('beyond L_max: −1 (paper formula)', () => {
    expect(overlongPenalty(20481, cfg)).toBe(-1);
    expect(overlongPenalty(40000, cfg)).toBe(-1);
  });
  it('factor scales the penalty', () => {
    // 2 · (16384 − 17408)/4096 = 2 · (−0.25) = −0.5
    expect(overlongPenalty(17408, { ...cfg, factor: 2 })).toBe(-0.5);
    expect(overlongPenalty(30000, { ...cfg, factor: 2 })).toBe(-2);
  });
  it('per-row helper and validation', () => {
    expect(Array.from(overlongPenalties([100, 18432, 20480], cfg))).toEqual([0, -0.5, -1]);
    expect(() => overlongPenalty(10, { maxLength: 100, cacheLength: 0 })).toThrow(/cacheLength/);
    expect(() => overlongPenalty(10, { maxLength: 100, cacheLength: 200 })).toThrow(/cacheLength/);
    expect(() => overlongPenalties([1, -5], cfg)).toThrow(/row 1/);
  });
});
