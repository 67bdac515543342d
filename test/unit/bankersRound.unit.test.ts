import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { roundHalfEven } from '../../actors/shared/bankersRound.ts';

describe('roundHalfEven (Python round)', () => {
  it('rounds exact .5 ties to the even neighbour', () => {
    expect(roundHalfEven(0.5)).toBe(0); // tie between 0 and 1 → even 0 (Math.round would give 1)
    expect(roundHalfEven(1.5)).toBe(2); // tie between 1 and 2 → even 2
    expect(roundHalfEven(2.5)).toBe(2); // tie between 2 and 3 → even 2 (Math.round: 3)
    expect(roundHalfEven(3.5)).toBe(4); // tie between 3 and 4 → even 4
    expect(roundHalfEven(4.5)).toBe(4); // tie between 4 and 5 → even 4
    expect(roundHalfEven(-0.5)).toBe(0); // Python round(-0.5) = 0 (and not −0)
    expect(Object.is(roundHalfEven(-0.5), 0)).toBe(true);
    expect(roundHalfEven(-1.5)).toBe(-2); // tie between −2 and −1 → even −2
    expect(roundHalfEven(-2.5)).toBe(-2); // tie between −3 and −2 → even −2
  });

  it('rounds non-ties to the nearest integer', () => {
    expect(roundHalfEven(2.4)).toBe(2);
    expect(roundHalfEven(2.6)).toBe(3);
    expect(roundHalfEven(-2.6)).toBe(-3);
    expect(roundHalfEven(7)).toBe(7);
  });

  it('decides on the exact binary value of float products (n·d)', () => {
    // 8 · 0.0625 = 0.5 exactly (0.0625 = 2^-4) → tie → 0
    expect(roundHalfEven(8 * 0.0625)).toBe(0);
    // 9 · 0.5 = 4.5 exactly → tie → 4
    expect(roundHalfEven(9 * 0.5)).toBe(4);
    // 8 · (1 − 0.6875) = 8 · 0.3125 = 2.5 exactly → tie → 2
    expect(roundHalfEven(8 * (1 - 0.6875))).toBe(2);
    // 1 − 0.7 = 0.30000000000000004 in binary, so 5·(1 − 0.7) = 1.5000000000000002: NOT a tie → 2
    expect(5 * (1 - 0.7)).toBeGreaterThan(1.5);
    expect(roundHalfEven(5 * (1 - 0.7))).toBe(2);
    // 2.5000000000000004 (one ulp above 2.5) is not a tie → 3, as Python round gives
    expect(roundHalfEven(2.5000000000000004)).toBe(3);
    // 0.49999999999999994 (largest double below 0.5) → 0
    expect(roundHalfEven(0.49999999999999994)).toBe(0);
  });

  it('rejects non-finite input', () => {
    expect(() => roundHalfEven(Number.NaN)).toThrow(/finite/);
    expect(() => roundHalfEven(Number.POSITIVE_INFINITY)).toThrow(/finite/);
  });

  it('property: result is within 1/2 of x, and an exact tie always lands on an even integer', () => {
    fc.assert(
      fc.property(fc.double({ min: -1e6, max: 1e6, noNaN: true }), (x) => {
        const r = roundHalfEven(x);
        expect(Number.isInteger(r)).toBe(true);
        expect(Math.abs(r - x)).toBeLessThanOrEqual(0.5);
      }),
    );
    fc.assert(
      fc.property(fc.integer({ min: -100000, max: 100000 }), (k) => {
        const r = roundHalfEven(k + 0.5);
        expect(Math.abs(r % 2)).toBe(0);
        expect(r === k || r === k + 1).toBe(true);
      }),
    );
  });
});
