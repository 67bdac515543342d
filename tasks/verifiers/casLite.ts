/**
 * CAS-lite: the stand-in for sympy in the math verifier's equivalence check.
 *
 * It parses a small LaTeX/plain-text expression language into a tree and evaluates it, exactly over the
 * rationals (BigInt) while every step stays rational, numerically (float64) otherwise:
 *   numbers (integers, decimals, mixed numbers `2\frac{1}{2}` / `7 3/4`), + − × ÷ / ^ (right-assoc), `\cdot`,
 *   `\times`, `\div`, implicit multiplication (`2x`, `3\sqrt{2}`, `(a)(b)`), `\frac`/`\cfrac` (braced or single
 *   token arguments), `\sqrt`, `\sqrt[n]`, `√`, `\pi`/`π`/`pi`, `\infty`, `!`, `\binom`, `|x|`,
 *   `\lfloor\rfloor`, `\lceil\rceil`, sin cos tan cot sec csc arcsin arccos arctan sinh cosh tanh ln log
 *   (`\log_b`), exp, single-letter variables (lower-cased, with subscripts `a_1`), Greek-letter variables.
 * Symbolic identity is replaced by evaluation: expressions with variables are evaluated at fixed rational
 * points (exact when the expression is rational in its variables). See math.ts for the documented gap.
 */
// The public face of CAS-lite (math.ts, its tests and the math-verify bench import from here); one concept
// per file in cas/: the tree and values, the parser, exact arithmetic, evaluation, the comparison.
export { CasError, type Expr, type FnName, type Value } from './cas/expr.ts';
export { MAX_EXPR_LENGTH, parseExpr, type ParsedExpr } from './cas/parser.ts';
export { rat } from './cas/rational.ts';
export { evaluate } from './cas/evaluate.ts';
export { compareExprs, MAX_VARS, REL_TOL, valuesEqual, type Equivalence } from './cas/compare.ts';
