/**
 * CAS-lite's equivalence check: symbolic identity replaced by evaluation — both expressions at the same
 * fixed sample points for their variables (rational points, integer ones as the fallback), their values
 * compared exactly, at a decimal literal's precision, or within a relative tolerance (valuesEqual).
 */
import { evaluate } from './evaluate.ts';
import { CasError, type Value } from './expr.ts';
import type { ParsedExpr } from './parser.ts';
import { bitLength, rat, toNumber } from './rational.ts';

/** sympy/mpmath precision in bits of a Float written with `digits` significant digits (dps ≥ 15). */
function floatPrecisionBits(digits: number): number {
  return Math.round((Math.max(15, digits) + 1) * 3.3219280948873626);
}

/** n/d rounded to `prec` significant bits (half-even), as a comparable key. */
function roundToBits(n: bigint, d: bigint, prec: number): string {
  if (n === 0n) return '0';
  const neg = n < 0n;
  if (neg) n = -n;
  let e = bitLength(n) - bitLength(d); // 2^(e−1) ≤ n/d < 2^(e+1)
  if (e >= 0 ? n >= d << BigInt(e) : n << BigInt(-e) >= d) e += 1; // now 2^(e−1) ≤ n/d < 2^e
  const shift = prec - e;
  const num = shift >= 0 ? n << BigInt(shift) : n;
  const den = shift >= 0 ? d : d << BigInt(-shift);
  let m = num / den;
  const rem2 = 2n * (num % den);
  if (rem2 > den || (rem2 === den && m % 2n === 1n)) m += 1n;
  if (m === 1n << BigInt(prec)) {
    m >>= 1n;
    e += 1;
  }
  return `${neg ? '-' : ''}${m}p${e}`;
}

/**
 * Equal values. Two rationals: exactly; when a side contains a decimal literal with D significant digits
 * (`floatDigits` = D > 0) they also match when both round to the same value at the precision sympy gives
 * such a Float (53 bits up to 15 digits, more beyond), which is how sympy finds `0.718266253869969` equal
 * to 232/323 but `0.3333` (or the 16-digit `0.3333333333333333`) different from 1/3.
 * Anything inexact: |a − b| ≤ 1e-10 · max(1, |a|, |b|), which absorbs float64 rounding of irrational
 * expressions (`\\sqrt{8}` vs `2\\sqrt{2}`) while a rounded decimal such as 1.4142 stays different from `\\sqrt{2}`.
 */
export const REL_TOL = 1e-10;

export function valuesEqual(a: Value, b: Value, floatDigits = 0): boolean {
  if (a.k === 'inf' || b.k === 'inf') return a.k === 'inf' && b.k === 'inf' && a.s === b.s;
  if (a.k === 'rat' && b.k === 'rat') {
    if (a.n === b.n && a.d === b.d) return true;
    if (floatDigits === 0) return false;
    const prec = floatPrecisionBits(floatDigits);
    return roundToBits(a.n, a.d, prec) === roundToBits(b.n, b.d, prec);
  }
  const x = toNumber(a);
  const y = toNumber(b);
  // an exact value beyond the float range (e.g. 2008!) cannot equal a finite inexact one
  if (!Number.isFinite(x) || !Number.isFinite(y)) return false;
  return Math.abs(x - y) <= REL_TOL * Math.max(1, Math.abs(x), Math.abs(y));
}

/**
 * Sample points for variables, one list per variable slot (variables are assigned to slots in name order).
 * Rational points (positive, away from 0 and 1, mutually generic) keep polynomial and rational-function
 * identities exact. Integer points are the fallback for expressions defined only on integers
 * (`n!`, `\\binom{n}{k}` with a variable k), used when no rational point could be evaluated.
 */
const RATIONAL_POINTS: ReadonlyArray<ReadonlyArray<[bigint, bigint]>> = [
  [[13n, 10n], [27n, 11n], [41n, 7n], [3n, 17n], [107n, 13n]],
  [[17n, 9n], [5n, 13n], [23n, 6n], [61n, 11n], [11n, 4n]],
];
const INTEGER_POINTS: ReadonlyArray<ReadonlyArray<[bigint, bigint]>> = [
  [[7n, 1n], [4n, 1n], [12n, 1n], [5n, 1n], [9n, 1n]],
  [[3n, 1n], [10n, 1n], [6n, 1n], [8n, 1n], [2n, 1n]],
];

/** At most this many distinct variables (as sympy's grader: "≤ 2 unknown letters"). */
export const MAX_VARS = RATIONAL_POINTS.length;

export type Equivalence = { verdict: 'equal' | 'different' | 'undecided'; reason?: string };

/** Compare two parsed expressions by evaluation at the sample points. */
export function compareExprs(a: ParsedExpr, b: ParsedExpr): Equivalence {
  const names = [...new Set([...a.vars, ...b.vars])].sort();
  if (names.length > MAX_VARS) return { verdict: 'undecided', reason: `more than ${MAX_VARS} variables (${names.join(',')})` };
  const floatDigits = Math.max(a.floatDigits, b.floatDigits);
  let lastError = '';
  for (const points of names.length === 0 ? [RATIONAL_POINTS] : [RATIONAL_POINTS, INTEGER_POINTS]) {
    const rounds = names.length === 0 ? 1 : points[0].length;
    const seen: Value[] = [];
    for (let r = 0; r < rounds; r++) {
      const env = new Map<string, Value>();
      names.forEach((name, slot) => env.set(name, rat(points[slot][r][0], points[slot][r][1])));
      let va: Value;
      let vb: Value;
      try {
        va = evaluate(a.expr, env);
        vb = evaluate(b.expr, env);
      } catch (e) {
        if (e instanceof RangeError) return { verdict: 'undecided', reason: 'expression nested too deeply' };
        if (!(e instanceof CasError)) throw e;
        lastError = e.message;
        continue; // undefined at this point (domain), try the next one
      }
      if (!valuesEqual(va, vb, floatDigits)) {
        return { verdict: 'different', reason: 'values differ' + (names.length ? ` at ${describe(env)}` : '') };
      }
      seen.push(va);
    }
    if (seen.length === 0) continue;
    // On the integer fallback, agreeing only on one constant (e.g. C(n,1000) and C(n,999) are both 0 at small
    // n) proves nothing.
    if (points === INTEGER_POINTS && seen.every((v) => valuesEqual(v, seen[0]))) {
      return { verdict: 'undecided', reason: 'both sides constant on the integer sample points' };
    }
    return { verdict: 'equal' };
  }
  return { verdict: 'undecided', reason: `cannot evaluate: ${lastError}` };
}

function describe(env: Map<string, Value>): string {
  return [...env].map(([k, v]) => `${k}=${v.k === 'rat' ? `${v.n}/${v.d}` : String(toNumber(v))}`).join(',');
}
