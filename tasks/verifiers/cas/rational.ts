/**
 * CAS-lite's arithmetic on values (expr.ts Value): exact over the rationals (BigInt, always reduced) while
 * every operand is rational, float64 once one is not; ±∞ only where an operation defines it. Bounded
 * (powers, factorials, binomials) so that one answer cannot stall the verifier.
 */
import { CasError, type Value } from './expr.ts';

function gcd(a: bigint, b: bigint): bigint {
  if (a < 0n) a = -a;
  if (b < 0n) b = -b;
  while (b !== 0n) [a, b] = [b, a % b];
  return a;
}

export function rat(n: bigint, d: bigint): Value {
  if (d === 0n) throw new CasError('division by zero');
  if (d < 0n) {
    n = -n;
    d = -d;
  }
  const g = gcd(n, d);
  return g > 1n ? { k: 'rat', n: n / g, d: d / g } : { k: 'rat', n, d };
}

export function real(x: number): Value {
  if (!Number.isFinite(x)) throw new CasError('value is not a finite real number');
  return { k: 'real', x };
}

export function bitLength(n: bigint): number {
  return (n < 0n ? -n : n).toString(2).length;
}

/** Nearest float to n/d, also when n or d exceed the float range. */
function ratToNumber(n: bigint, d: bigint): number {
  const sn = Math.max(0, bitLength(n) - 64);
  const sd = Math.max(0, bitLength(d) - 64);
  return (Number(n >> BigInt(sn)) / Number(d >> BigInt(sd))) * 2 ** (sn - sd);
}

export function toNumber(v: Value): number {
  if (v.k === 'rat') return ratToNumber(v.n, v.d);
  if (v.k === 'real') return v.x;
  throw new CasError('arithmetic with infinity');
}

export function isInt(v: Value): v is { k: 'rat'; n: bigint; d: bigint } {
  return v.k === 'rat' && v.d === 1n;
}

/** floor(n^(1/k)) for n ≥ 0 (Newton's method on BigInt). */
function iroot(n: bigint, k: number): bigint {
  if (n < 2n) return n;
  const K = BigInt(k);
  let x = 1n << BigInt(Math.ceil(bitLength(n) / k));
  for (;;) {
    const y = ((K - 1n) * x + n / x ** (K - 1n)) / K;
    if (y >= x) return x;
    x = y;
  }
}

/** Exact k-th root of a non-negative rational, or null when it is irrational. */
function exactRoot(v: { n: bigint; d: bigint }, k: number): Value | null {
  const rn = iroot(v.n, k);
  const rd = iroot(v.d, k);
  const K = BigInt(k);
  return rn ** K === v.n && rd ** K === v.d ? rat(rn, rd) : null;
}

/** Exact powers stop here; beyond it the float result is used (and is usually ±∞ ⇒ not comparable). */
const MAX_POW_BITS = 200_000;

export function pow(a: Value, b: Value): Value {
  if (a.k === 'inf' || b.k === 'inf') throw new CasError('power with infinity');
  if (a.k === 'rat' && b.k === 'rat') {
    if (b.d === 1n) {
      const k = b.n < 0n ? -b.n : b.n;
      if (a.n === 0n) {
        if (b.n < 0n) throw new CasError('zero to a negative power');
        return b.n === 0n ? rat(1n, 1n) : rat(0n, 1n);
      }
      if (k <= 10_000n && (bitLength(a.n) + bitLength(a.d)) * Number(k) <= MAX_POW_BITS) {
        return b.n < 0n ? rat(a.d ** k, a.n ** k) : rat(a.n ** k, a.d ** k);
      }
      return real(Math.pow(toNumber(a), Number(b.n)));
    }
    // fractional exponent p/q: exact when the q-th root is rational
    if (b.d <= 64n) {
      const q = Number(b.d);
      const neg = a.n < 0n;
      if (neg && q % 2 === 0) throw new CasError('even root of a negative number');
      const r = exactRoot({ n: neg ? -a.n : a.n, d: a.d }, q);
      if (r !== null && r.k === 'rat') return pow(neg ? rat(-r.n, r.d) : r, rat(b.n, 1n));
      const mag = Math.pow(Math.abs(toNumber(a)), toNumber(b));
      return real(neg && (b.n % 2n !== 0n) ? -mag : mag);
    }
  }
  const x = toNumber(a);
  const y = toNumber(b);
  if (x < 0 && !Number.isInteger(y)) throw new CasError('non-integer power of a negative number');
  return real(Math.pow(x, y));
}

export function add(a: Value, b: Value, sign: 1n | -1n): Value {
  if (a.k === 'inf' || b.k === 'inf') throw new CasError('arithmetic with infinity');
  if (a.k === 'rat' && b.k === 'rat') return rat(a.n * b.d + sign * b.n * a.d, a.d * b.d);
  return real(toNumber(a) + Number(sign) * toNumber(b));
}

export function mul(a: Value, b: Value): Value {
  if (a.k === 'rat' && b.k === 'rat') return rat(a.n * b.n, a.d * b.d);
  return real(toNumber(a) * toNumber(b));
}

export function div(a: Value, b: Value): Value {
  if (a.k === 'rat' && b.k === 'rat') return rat(a.n * b.d, a.d * b.n);
  const y = toNumber(b);
  if (y === 0) throw new CasError('division by zero');
  return real(toNumber(a) / y);
}

export function factorial(v: Value): Value {
  if (!isInt(v) || v.n < 0n || v.n > 5000n) throw new CasError('factorial needs an integer in 0..5000');
  let r = 1n;
  for (let i = 2n; i <= v.n; i++) r *= i;
  return rat(r, 1n);
}

/**
 * C(n, k) = n(n−1)…(n−k+1)/k! for an integer k ≥ 0 and any n (exact for rational n); 0 for k < 0.
 * Bounded (k ≤ 2000 for integer n, k ≤ 50 otherwise) so that one answer cannot stall the verifier.
 */
export function binomial(n: Value, k: Value): Value {
  if (!isInt(k)) throw new CasError('binomial needs an integer k');
  if (k.n < 0n) return rat(0n, 1n);
  if (isInt(n)) {
    if (k.n > 2000n && n.n - k.n > 2000n) throw new CasError('binomial too large');
    if (n.n >= 0n && k.n > n.n) return rat(0n, 1n);
    const kk = n.n >= 0n && n.n - k.n < k.n ? n.n - k.n : k.n; // C(n, k) = C(n, n − k) for n ≥ 0
    let r = 1n;
    for (let i = 0n; i < kk; i++) r = (r * (n.n - i)) / (i + 1n); // exact at every step
    return rat(r, 1n);
  }
  if (k.n > 50n) throw new CasError('binomial with a non-integer top needs k ≤ 50');
  let r: Value = rat(1n, 1n);
  for (let i = 0n; i < k.n; i++) r = div(mul(r, add(n, rat(i, 1n), -1n)), rat(i + 1n, 1n));
  return r;
}

export function floorOrCeil(v: Value, ceil: boolean): Value {
  if (v.k === 'rat') {
    let q = v.n / v.d; // truncates toward zero
    if (v.n % v.d !== 0n) {
      if (ceil && v.n > 0n) q += 1n;
      if (!ceil && v.n < 0n) q -= 1n;
    }
    return rat(q, 1n);
  }
  const x = toNumber(v);
  if (Math.abs(x) >= 2 ** 52) throw new CasError('floor of a huge inexact value');
  return rat(BigInt(ceil ? Math.ceil(x) : Math.floor(x)), 1n);
}
