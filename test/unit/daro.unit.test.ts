import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { DARO_DEFAULTS, daroBin, daroRowWeights, daroStep, daroWeights, initDaro } from '../../actors/learner/daro.ts';

describe('DARO buckets', () => {
  it('K = 8 has buckets k = 1..7 (μ = k/8), all starting at w = 1', () => {
    const st = initDaro(8);
    expect(st.s.length).toBe(7);
    expect(Array.from(daroWeights(st))).toEqual([1, 1, 1, 1, 1, 1, 1]);
  });
  it('bucket of a group: μ = 0 and μ = 1 are excluded', () => {
    expect(daroBin(3, 8, 8)).toBe(3);
    expect(daroBin(0, 8, 8)).toBe(-1);
    expect(daroBin(8, 8, 8)).toBe(-1);
    // other group sizes: nearest bucket round(μ·K), clamped to 1..K−1
    expect(daroBin(2, 4, 8)).toBe(4); // μ = 0.5 → 4
    expect(daroBin(15, 16, 8)).toBe(7); // 15/16·8 = 7.5 → 8 → clamped to 7
    expect(daroBin(1, 16, 8)).toBe(1); // 0.5 → 1
    expect(() => daroBin(9, 8, 8)).toThrow(/correct/);
  });
  it('w is clamped to [0.05, 20]', () => {
    const st = initDaro(4);
    st.s[0] = 10; // e^10 > 20
    st.s[1] = -10; // e^-10 < 0.05
    const w = daroWeights(st);
    expect(w[0]).toBe(20);
    expect(w[1]).toBe(0.05);
    expect(w[2]).toBe(1);
  });
});

describe('DARO per-row weights w_μ / T_μ', () => {
  it('divides each bucket weight by the bucket’s token count; μ ∈ {0,1} rows get 0', () => {
    const st = initDaro(8);
    st.s[0] = Math.log(2); // w_1 = 2
    // bins [1, 1, 3, −1], tokens [10, 30, 5, 7]: T_1 = 10 + 30 = 40, T_3 = 5
    // weights: 2/40 = 0.05, 0.05, 1/5 = 0.2, 0
    const w = daroRowWeights(st, Int32Array.from([1, 1, 3, -1]), Uint32Array.from([10, 30, 5, 7]));
    expect(w[0]).toBeCloseTo(0.05, 15);
    expect(w[1]).toBeCloseTo(0.05, 15);
    expect(w[2]).toBeCloseTo(0.2, 15);
    expect(w[3]).toBe(0);
  });
  it('rejects an out-of-range bin with the row named', () => {
    expect(() => daroRowWeights(initDaro(8), Int32Array.from([1, 8]), Uint32Array.from([1, 1]))).toThrow(/bin\[1\] = 8/);
  });
});

describe('DARO w-step (Adam on s = ln w, lr 1e-3)', () => {
  it('one step by hand', () => {
    const st = initDaro(8);
    const next = daroStep(st, { '1': 0.5, '3': -2, '5': 0 });
    // bucket 1: w = 1, L̃ = 0.5, g = ∂J/∂s = w·L̃ − 1 = −0.5
    //   m = 0.1·(−0.5) = −0.05, v = 0.001·0.25 = 2.5e-4, m̂ = −0.05/(1 − 0.9) = −0.5, v̂ = 2.5e-4/(1 − 0.999) = 0.25
    //   s = 0 − 1e-3 · (−0.5)/(0.5 + 1e-8) = +9.9999998e-4 → w = e^0.00099999998 = 1.0010005
    expect(next.m[0]).toBeCloseTo(-0.05, 15);
    expect(next.v[0]).toBeCloseTo(2.5e-4, 15);
    expect(next.s[0]).toBeCloseTo(9.9999998e-4, 12);
    expect(daroWeights(next)[0]).toBeCloseTo(1.0010005, 7);
    // bucket 3: L = −2 ⇒ L̃ = |L| = 2, g = 1·2 − 1 = 1 ⇒ m̂ = 1, v̂ = 1, s = −1e-3/(1 + 1e-8) = −9.9999999e-4
    expect(next.s[2]).toBeCloseTo(-9.9999999e-4, 12);
    // bucket 5: L = 0 ⇒ L̃ = 1e-4 (floor), g = 1e-4 − 1 = −0.9999 ⇒ s = +1e-3·0.9999/(0.9999 + 1e-8) ≈ +9.9999999e-4
    expect(next.s[4]).toBeCloseTo(9.9999999e-4, 12);
    // buckets absent from the report are untouched, including their step counters
    expect(next.s[1]).toBe(0);
    expect(next.t).toEqual([1, 0, 1, 0, 1, 0, 0]);
    // the input state is not modified
    expect(st.s).toEqual([0, 0, 0, 0, 0, 0, 0]);
  });

  it('second step uses the bias corrections of t = 2', () => {
    const s1 = daroStep(initDaro(8), { '1': 0.5 });
    const s2 = daroStep(s1, { '1': 0.5 });
    // w = e^0.00099999998 = 1.0010005, g = 1.0010005·0.5 − 1 = −0.49949975
    // m = 0.9·(−0.05) + 0.1·(−0.49949975) = −0.094949975; v = 0.999·2.5e-4 + 0.001·0.24949975 = 4.99250e-4
    // m̂ = m/0.19 = −0.49973671; v̂ = v/0.001999 = 0.24974987; step = 1e-3 · 0.49973671/0.49974981 = 9.99974e-4
    // s = 9.9999998e-4 + 9.99974e-4 = 1.9999737e-3
    expect(s2.m[0]).toBeCloseTo(-0.094949975, 9);
    expect(s2.v[0]).toBeCloseTo(4.9925e-4, 9);
    expect(s2.s[0]).toBeCloseTo(1.9999737e-3, 9);
  });

  it('repeated steps drive w toward 1/L (every bucket’s weighted loss → 1)', () => {
    let st = initDaro(8);
    for (let i = 0; i < 4000; i++) st = daroStep(st, { '2': 0.25, '6': 2 });
    const w = daroWeights(st);
    expect(w[1]).toBeGreaterThan(3.9); // 1/0.25 = 4
    expect(w[1]).toBeLessThan(4.1);
    expect(w[5]).toBeGreaterThan(0.49); // 1/2 = 0.5
    expect(w[5]).toBeLessThan(0.51);
  });

  it('a vanishing loss is floored, so w grows to the clamp 20 and stops there', () => {
    let st = initDaro(8);
    for (let i = 0; i < 4000; i++) st = daroStep(st, { '4': 0 });
    expect(daroWeights(st)[3]).toBe(20);
    expect(st.s[3]).toBeCloseTo(Math.log(20), 12); // s itself clamped to ln 20
  });

  it('validates keys and values; ignores the μ = 0 / 1 buckets', () => {
    const st = initDaro(8);
    expect(() => daroStep(st, { '3': Number.NaN })).toThrow(/binLosses\["3"\]/);
    expect(() => daroStep(st, { x: 1 })).toThrow(/not a bucket/);
    expect(daroStep(st, { '-1': 1, '0': 1, '8': 1 }).t).toEqual([0, 0, 0, 0, 0, 0, 0]);
  });

  it('state is plain data: a JSON round trip gives the same next step', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.integer({ min: 1, max: 7 }), fc.double({ min: -3, max: 3, noNaN: true })), { maxLength: 30 }), (ls) => {
        let st = initDaro(8);
        for (const [k, L] of ls) st = daroStep(st, { [String(k)]: L });
        const copy = JSON.parse(JSON.stringify(st));
        expect(daroStep(copy, { '2': 0.7 })).toEqual(daroStep(st, { '2': 0.7 }));
        for (const w of daroWeights(st)) {
          expect(w).toBeGreaterThanOrEqual(DARO_DEFAULTS.wMin);
          expect(w).toBeLessThanOrEqual(DARO_DEFAULTS.wMax);
        }
      }),
    );
  });
});
