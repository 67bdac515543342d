/**
 * CAS-lite's evaluation: an Expr (expr.ts) at an assignment of its variables, with the arithmetic of
 * rational.ts; elementary functions of an inexact argument in float64.
 */
import { CasError, type Expr, type FnName, type Value } from './expr.ts';
import { add, binomial, div, factorial, floorOrCeil, isInt, mul, pow, rat, real, toNumber } from './rational.ts';

function realFn(name: FnName, x: number): Value {
  switch (name) {
    case 'sin': return real(Math.sin(x));
    case 'cos': return real(Math.cos(x));
    case 'tan': return real(Math.tan(x));
    case 'cot': return real(1 / Math.tan(x));
    case 'sec': return real(1 / Math.cos(x));
    case 'csc': return real(1 / Math.sin(x));
    case 'arcsin': return real(Math.asin(x));
    case 'arccos': return real(Math.acos(x));
    case 'arctan': return real(Math.atan(x));
    case 'sinh': return real(Math.sinh(x));
    case 'cosh': return real(Math.cosh(x));
    case 'tanh': return real(Math.tanh(x));
    case 'exp': return real(Math.exp(x));
    case 'ln':
    case 'log': // natural log, as sympy's `log`
      if (x <= 0) throw new CasError('log of a non-positive number');
      return real(Math.log(x));
    default:
      throw new CasError(`no real function ${name}`);
  }
}

/** Evaluate at an assignment of the variables. Throws CasError where the expression is undefined. */
export function evaluate(e: Expr, env: ReadonlyMap<string, Value>): Value {
  switch (e.t) {
    case 'num':
      return rat(e.n, e.d);
    case 'pi':
      return real(Math.PI);
    case 'inf':
      return { k: 'inf', s: 1 };
    case 'var': {
      const v = env.get(e.name);
      if (v === undefined) throw new CasError(`unbound variable ${e.name}`);
      return v;
    }
    case 'neg': {
      const a = evaluate(e.a, env);
      if (a.k === 'inf') return { k: 'inf', s: a.s === 1 ? -1 : 1 };
      return a.k === 'rat' ? { k: 'rat', n: -a.n, d: a.d } : real(-a.x);
    }
    case 'bin': {
      const a = evaluate(e.a, env);
      const b = evaluate(e.b, env);
      if (e.op === '^') return pow(a, b);
      if (a.k === 'inf' || b.k === 'inf') throw new CasError('arithmetic with infinity');
      if (e.op === '+') return add(a, b, 1n);
      if (e.op === '-') return add(a, b, -1n);
      if (e.op === '*') return mul(a, b);
      return div(a, b);
    }
    case 'fn': {
      const args = e.args.map((x) => evaluate(x, env));
      for (const a of args) if (a.k === 'inf') throw new CasError(`${e.name} of infinity`);
      const [a, b] = args;
      switch (e.name) {
        case 'sqrt':
          return pow(a, rat(1n, 2n));
        case 'root': {
          if (!isInt(b) || b.n < 1n || b.n > 10_000n) throw new CasError('root index must be an integer in 1..10000');
          return pow(a, rat(1n, b.n));
        }
        case 'fact':
          return factorial(a);
        case 'binom':
          return binomial(a, b);
        case 'abs':
          return a.k === 'rat' ? rat(a.n < 0n ? -a.n : a.n, a.d) : real(Math.abs(toNumber(a)));
        case 'floor':
          return floorOrCeil(a, false);
        case 'ceil':
          return floorOrCeil(a, true);
        case 'logb': {
          const x = toNumber(a);
          const base = toNumber(b);
          if (x <= 0 || base <= 0 || base === 1) throw new CasError('log outside its domain');
          return real(Math.log(x) / Math.log(base));
        }
        default:
          return realFn(e.name, toNumber(a));
      }
    }
  }
}
