import { describe, expect, it } from 'vitest';
import { attenuateLogits, teacherMassBalance, updateAttenuation } from '../../actors/sampler/logitAdjust.ts';

describe('attenuation z += count·ln(decay)', () => {
  it('decay 0.5: two strikes lower the weight 4×', () => {
    const z = attenuateLogits(Float64Array.from([1, 1]), Uint32Array.from([0, 2]), 0.5);
    expect(z[0]).toBe(1);
    expect(z[1]).toBeCloseTo(1 + 2 * Math.log(0.5), 14); // 1 − 1.3862944
  });

  it('counter increments when the realised failure rate leaves the band (inclusive bounds)', () => {
    // band [0.2, 0.8] (REF success band [0.2, 0.8] too: symmetric)
    const c = updateAttenuation(new Uint32Array(4), Uint32Array.from([0, 1, 2, 3, 3]), [0, 0.2, 0.8, 1, 0.9], [0.2, 0.8]);
    expect(Array.from(c)).toEqual([1, 0, 0, 2]);
  });
});

describe('IS + teacher mass balancing', () => {
  it('hand case: |N| = 1, budget 2 ⇒ ρ = 0.5, s* = 1/(1 + 0.25) = 0.8, shift = ln 4', () => {
    // teacher logits (0, 0), other ln 2: LSE_T = ln 2, LSE_N = ln 2 ⇒ current log-odds 0, share 0.5
    // target log-odds ln(0.8/0.2) = ln 4 = 1.3862944 ⇒ teacher logits ln 4: masses 4 + 4 vs 2 ⇒ share 0.8
    const r = teacherMassBalance(Float64Array.from([0, Math.log(2), 0]), Uint8Array.from([1, 0, 1]), 2);
    expect(r.shift).toBeCloseTo(Math.log(4), 14);
    expect(r.target).toBeCloseTo(0.8, 15);
    expect(r.shareBefore).toBeCloseTo(0.5, 15);
    expect(r.shareAfter).toBeCloseTo(0.8, 14);
    expect(r.logits[0]).toBeCloseTo(Math.log(4), 14);
    expect(r.logits[1]).toBe(Math.log(2));
  });

  it('shift is clipped to ±maxShift; skipped when one side is empty', () => {
    const r = teacherMassBalance(Float64Array.from([0, Math.log(2), 0]), Uint8Array.from([1, 0, 1]), 2, { maxShift: 1 });
    expect(r.shift).toBe(1);
    const s = teacherMassBalance(Float64Array.from([0, 1]), Uint8Array.from([1, 1]), 2);
    expect(s.skipped).toBe(true);
    expect(Array.from(s.logits)).toEqual([0, 1]);
  });
});
