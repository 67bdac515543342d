/**
 * CAS-lite's data: the expression tree the parser builds (parser.ts), the values evaluation yields (exact
 * rational, inexact real, ±∞: rational.ts, evaluate.ts), and CasError, the one error every stage throws for
 * input it cannot handle (the verifier then calls the comparison undecided).
 */

export class CasError extends Error {}

/** Exact rational (d > 0, gcd(n, d) = 1), inexact real, or ±∞. */
export type Value =
  | { k: 'rat'; n: bigint; d: bigint }
  | { k: 'real'; x: number }
  | { k: 'inf'; s: 1 | -1 };

export type FnName =
  | 'sqrt' | 'root' | 'sin' | 'cos' | 'tan' | 'cot' | 'sec' | 'csc' | 'arcsin' | 'arccos' | 'arctan'
  | 'sinh' | 'cosh' | 'tanh' | 'ln' | 'log' | 'logb' | 'exp' | 'fact' | 'binom' | 'abs' | 'floor' | 'ceil';

export type Expr =
  | { t: 'num'; n: bigint; d: bigint }
  | { t: 'var'; name: string }
  | { t: 'pi' }
  | { t: 'inf' }
  | { t: 'neg'; a: Expr }
  | { t: 'bin'; op: '+' | '-' | '*' | '/' | '^'; a: Expr; b: Expr }
  | { t: 'fn'; name: FnName; args: Expr[] };
