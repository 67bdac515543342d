import { describe, expect, it } from 'vitest';
import { Prng, floatAt, keyWords, u32At } from '../../events/prng.ts';

const KEY = { seed: 42, step: 7, purpose: 'select' };

function draws(p: Prng, n: number): number[] {
  return Array.from({ length: n }, () => p.nextU32());
}

describe('events/prng.ts', () => {
  it('is reproducible: the same key gives the same stream', () => {
    expect(draws(new Prng(KEY), 100)).toEqual(draws(new Prng({ ...KEY }), 100));
    const a = new Prng(KEY);
    const b = new Prng(KEY);
    for (let i = 0; i < 50; i++) expect(a.nextFloat()).toBe(b.nextFloat());
    expect(a.position).toBe(100); // two 32-bit words per float
  });

  it('different seeds, steps and purposes give different streams', () => {
    const base = draws(new Prng(KEY), 20);
    for (const k of [
      { ...KEY, seed: 43 },
      { ...KEY, step: 8 },
      { ...KEY, purpose: 'replay' },
      { ...KEY, step: 7 + 2 ** 32 }, // steps beyond 32 bits still matter
    ]) {
      const other = draws(new Prng(k), 20);
      expect(other).not.toEqual(base);
      // not merely shifted: hardly any common values
      expect(other.filter((x) => base.includes(x)).length).toBeLessThan(2);
    }
    expect(keyWords(KEY)).not.toEqual(keyWords({ ...KEY, purpose: 'selecT' }));
  });

  it('random access agrees with the sequential stream', () => {
    const [k0, k1] = keyWords(KEY);
    const p = new Prng(KEY);
    for (let i = 0; i < 10; i++) expect(p.nextU32()).toBe(u32At(k0, k1, i));
    const q = new Prng(KEY);
    for (let i = 0; i < 10; i++) expect(q.nextFloat()).toBe(floatAt(k0, k1, i));
  });

  it('nextFloat: mean 1/2 and variance 1/12 within 5 standard errors', () => {
    const p = new Prng({ seed: 1, step: 0, purpose: 'test/uniform' });
    const N = 200_000;
    let s = 0;
    let s2 = 0;
    let min = 1;
    let max = 0;
    for (let i = 0; i < N; i++) {
      const u = p.nextFloat();
      s += u;
      s2 += u * u;
      if (u < min) min = u;
      if (u > max) max = u;
    }
    const mean = s / N;
    const variance = s2 / N - mean * mean;
    // se(mean) = sqrt(1/12/N) = 6.45e-4; se(var) = sqrt((1/80 − 1/144)/N) = sqrt(1/180/N) = 1.67e-4
    expect(Math.abs(mean - 0.5)).toBeLessThan(5 * Math.sqrt(1 / 12 / N));
    expect(Math.abs(variance - 1 / 12)).toBeLessThan(5 * Math.sqrt(1 / 180 / N));
    expect(min).toBeGreaterThanOrEqual(0);
    expect(max).toBeLessThan(1);
  });

  it('nextInt(10): chi-square over 100 000 draws below the 99.99 % quantile of χ²(9) = 33.72', () => {
    const p = new Prng({ seed: 2, step: 0, purpose: 'test/int' });
    const N = 100_000;
    const counts = new Array(10).fill(0);
    let bad = 0;
    for (let i = 0; i < N; i++) {
      const v = p.nextInt(10);
      if (!(Number.isInteger(v) && v >= 0 && v < 10)) bad++;
      else counts[v]++;
    }
    expect(bad).toBe(0);
    const e = N / 10;
    const chi2 = counts.reduce((acc, c) => acc + (c - e) ** 2 / e, 0);
    expect(chi2).toBeLessThan(33.72);
    expect(() => p.nextInt(0)).toThrow(/positive/);
  });

  it('Beta(2, 5) sample mean near 2/7 (5σ), Gamma(0.5) mean near 0.5', () => {
    const p = new Prng({ seed: 3, step: 0, purpose: 'test/beta' });
    const N = 40_000;
    let s = 0;
    let outside = 0;
    for (let i = 0; i < N; i++) {
      const x = p.nextBeta(2, 5);
      if (!(x >= 0 && x <= 1)) outside++;
      s += x;
    }
    expect(outside).toBe(0);
    // Var = ab/((a+b)²(a+b+1)) = 10/(49·8) = 0.0255102 ⇒ se = sqrt(0.0255102/40000) = 7.99e-4
    expect(Math.abs(s / N - 2 / 7)).toBeLessThan(5 * Math.sqrt(10 / (49 * 8) / N));
    let g = 0;
    for (let i = 0; i < N; i++) g += p.nextGamma(0.5);
    // Gamma(0.5, 1): mean 0.5, var 0.5 ⇒ se = sqrt(0.5/40000) = 3.54e-3
    expect(Math.abs(g / N - 0.5)).toBeLessThan(5 * Math.sqrt(0.5 / N));
  });

  it('nextGumbel mean ≈ Euler γ, nextNormal mean 0 / variance 1, nextOpen never 0', () => {
    const p = new Prng({ seed: 4, step: 0, purpose: 'test/dists' });
    const N = 50_000;
    let g = 0;
    let n1 = 0;
    let n2 = 0;
    let zeros = 0;
    for (let i = 0; i < N; i++) {
      g += p.nextGumbel();
      const z = p.nextNormal();
      n1 += z;
      n2 += z * z;
      if (!(p.nextOpen() > 0)) zeros++;
    }
    expect(zeros).toBe(0);
    // Gumbel: mean 0.5772157, var π²/6 = 1.644934 ⇒ se = 5.74e-3
    expect(Math.abs(g / N - 0.5772156649)).toBeLessThan(5 * Math.sqrt(1.644934 / N));
    expect(Math.abs(n1 / N)).toBeLessThan(5 * Math.sqrt(1 / N));
    // Var(z²) = 2 ⇒ se = sqrt(2/N)
    expect(Math.abs(n2 / N - 1)).toBeLessThan(5 * Math.sqrt(2 / N));
  });

  it('fork: purpose/sub stream, independent of the parent and of other forks', () => {
    const parent = new Prng(KEY);
    const f1 = parent.fork('a');
    const f2 = parent.fork('b');
    expect(f1.key.purpose).toBe('select/a');
    expect(draws(f1, 10)).toEqual(draws(new Prng({ ...KEY, purpose: 'select/a' }), 10));
    // forking does not consume the parent's stream
    expect(draws(parent, 5)).toEqual(draws(new Prng(KEY), 5));
    // correlation of paired uniforms between streams ≈ 0: |r| < 5/sqrt(N)
    const N = 20_000;
    const streams = [new Prng(KEY), new Prng(KEY).fork('a'), new Prng(KEY).fork('b')];
    const xs = streams.map((s) => Array.from({ length: N }, () => s.nextFloat()));
    const corr = (a: number[], b: number[]) => {
      const ma = a.reduce((x, y) => x + y, 0) / N;
      const mb = b.reduce((x, y) => x + y, 0) / N;
      let sab = 0;
      let saa = 0;
      let sbb = 0;
      for (let i = 0; i < N; i++) {
        sab += (a[i] - ma) * (b[i] - mb);
        saa += (a[i] - ma) ** 2;
        sbb += (b[i] - mb) ** 2;
      }
      return sab / Math.sqrt(saa * sbb);
    };
    for (const [i, j] of [[0, 1], [0, 2], [1, 2]]) expect(Math.abs(corr(xs[i], xs[j]))).toBeLessThan(5 / Math.sqrt(N));
    expect(draws(f2, 10)).not.toEqual(draws(new Prng(KEY).fork('a'), 10));
  });

  it('shuffle is a deterministic permutation', () => {
    const a = new Prng(KEY).shuffle(Uint32Array.from({ length: 100 }, (_, i) => i)) as Uint32Array;
    const b = new Prng(KEY).shuffle(Uint32Array.from({ length: 100 }, (_, i) => i)) as Uint32Array;
    expect(Buffer.from(a.buffer)).toEqual(Buffer.from(b.buffer));
    expect(Array.from(a).sort((x, y) => x - y)).toEqual(Array.from({ length: 100 }, (_, i) => i));
    expect(Array.from(a)).not.toEqual(Array.from({ length: 100 }, (_, i) => i));
  });
});
