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

const WORD_FNS = ['arcsin', 'arccos', 'arctan', 'sqrt', 'sinh', 'cosh', 'tanh', 'sin', 'cos', 'tan', 'cot', 'sec', 'csc', 'ln', 'log', 'exp'] as const;
const WORD_CONSTS = ['pi', 'infinity', 'infty', 'inf', 'oo'] as const;
const CMD_FNS = new Set<string>(['sin', 'cos', 'tan', 'cot', 'sec', 'csc', 'arcsin', 'arccos', 'arctan', 'sinh', 'cosh', 'tanh', 'ln', 'log', 'exp']);
const GREEK = new Set<string>([
  'alpha', 'beta', 'gamma', 'delta', 'epsilon', 'varepsilon', 'zeta', 'eta', 'theta', 'vartheta', 'iota', 'kappa',
  'lambda', 'mu', 'nu', 'xi', 'rho', 'sigma', 'tau', 'upsilon', 'phi', 'varphi', 'chi', 'psi', 'omega',
]);
const MUL_CMDS = new Set(['cdot', 'times', 'ast']);
const TEXT_CMDS = new Set(['text', 'textrm', 'textbf', 'textit', 'mathrm', 'mathbf', 'mathit', 'mbox', 'operatorname']);
const PRIMARY_CMDS = new Set<string>([
  'frac', 'cfrac', 'sqrt', 'pi', 'infty', 'binom', 'lfloor', 'lceil', ...CMD_FNS, ...GREEK, ...TEXT_CMDS,
]);

/** Longest accepted input; longer answers are not parsed (undecided), which bounds the work per call. */
export const MAX_EXPR_LENGTH = 1000;

const isDigit = (c: string | undefined): boolean => c !== undefined && c >= '0' && c <= '9';
const isLetter = (c: string | undefined): boolean => c !== undefined && c >= 'a' && c <= 'z';

const num = (n: bigint, d = 1n): Expr => ({ t: 'num', n, d });
const bin = (op: '+' | '-' | '*' | '/' | '^', a: Expr, b: Expr): Expr => ({ t: 'bin', op, a, b });
const fn = (name: FnName, ...args: Expr[]): Expr => ({ t: 'fn', name, args });

class Parser {
  private i = 0;
  private absDepth = 0;
  readonly vars = new Set<string>();
  /** Most significant digits of any decimal/scientific literal read (0: none) — a sympy Float's precision. */
  floatDigits = 0;


  constructor(private readonly s: string) {}

  private noteFloat(digits: string): void {
    const sig = digits.replace(/^0+/, '').length || 1;
    if (sig > this.floatDigits) this.floatDigits = sig;
  }

  parseAll(): Expr {
    const e = this.parseSum();
    this.ws();
    if (this.i < this.s.length) throw new CasError(`unexpected '${this.s[this.i]}' at ${this.i}`);
    return e;
  }

  private ws(): void {
    while (this.i < this.s.length && /\s/.test(this.s[this.i])) this.i++;
  }

  /** Name of the command at the cursor (`\frac` → "frac", `\{` → "{"), without consuming it. */
  private peekCmd(): string | null {
    if (this.s[this.i] !== '\\') return null;
    const m = /^[a-z]+/.exec(this.s.slice(this.i + 1, this.i + 20));
    return m ? m[0] : (this.s[this.i + 1] ?? '');
  }

  private takeCmd(): string {
    const c = this.peekCmd();
    if (c === null) throw new CasError('expected a command');
    this.i += 1 + c.length;
    return c;
  }

  private expect(c: string): void {
    this.ws();
    if (this.s[this.i] !== c) throw new CasError(`expected '${c}' at ${this.i}`);
    this.i++;
  }

  private parseSum(): Expr {
    let left = this.parseTerm();
    for (;;) {
      this.ws();
      const c = this.s[this.i];
      if (c === '+') {
        this.i++;
        left = bin('+', left, this.parseTerm());
      } else if (c === '-' || c === '−') {
        this.i++;
        left = bin('-', left, this.parseTerm());
      } else return left;
    }
  }

  private parseTerm(): Expr {
    let left = this.parseUnary();
    for (;;) {
      this.ws();
      const c = this.s[this.i];
      if (c === '*' || c === '·' || c === '×') {
        this.i++;
        left = bin('*', left, this.parseUnary());
      } else if (c === '/' || c === '÷') {
        this.i++;
        left = bin('/', left, this.parseUnary());
      } else if (c === '\\' && MUL_CMDS.has(this.peekCmd()!)) {
        this.takeCmd();
        left = bin('*', left, this.parseUnary());
      } else if (c === '\\' && this.peekCmd() === 'div') {
        this.takeCmd();
        left = bin('/', left, this.parseUnary());
      } else if (this.startsPrimary()) {
        left = bin('*', left, this.parsePower()); // implicit multiplication binds like ×
      } else return left;
    }
  }

  private startsPrimary(): boolean {
    const c = this.s[this.i];
    if (c === undefined) return false;
    if (isDigit(c) || c === '.' || isLetter(c) || c === '(' || c === '[' || c === '{') return true;
    if (c === 'π' || c === '√' || c === '∞') return true;
    if (c === '|') return this.absDepth === 0;
    if (c === '\\') return PRIMARY_CMDS.has(this.peekCmd()!);
    return false;
  }

  private parseUnary(): Expr {
    this.ws();
    const c = this.s[this.i];
    if (c === '-' || c === '−') {
      this.i++;
      return { t: 'neg', a: this.parseUnary() };
    }
    if (c === '+') {
      this.i++;
      return this.parseUnary();
    }
    return this.parsePower();
  }

  private parsePower(): Expr {
    const base = this.parsePostfix();
    this.ws();
    if (this.s[this.i] === '^') {
      this.i++;
      return bin('^', base, this.parseExponent());
    }
    if (this.s.startsWith('**', this.i)) {
      this.i += 2;
      return bin('^', base, this.parseExponent());
    }
    return base;
  }

  private parseExponent(): Expr {
    this.ws();
    const c = this.s[this.i];
    if (c === '-' || c === '−') {
      this.i++;
      return { t: 'neg', a: this.parseExponent() };
    }
    if (c === '+') {
      this.i++;
      return this.parseExponent();
    }
    return this.parsePower();
  }

  private parsePostfix(): Expr {
    let e = this.parsePrimary();
    while (this.s[this.i] === '!') {
      this.i++;
      e = fn('fact', e);
    }
    return e;
  }

  private group(close: string): Expr {
    this.i++;
    const saved = this.absDepth;
    this.absDepth = 0;
    const e = this.parseSum();
    this.expect(close);
    this.absDepth = saved;
    return e;
  }

  private parsePrimary(): Expr {
    this.ws();
    const c = this.s[this.i];
    if (c === undefined) throw new CasError('unexpected end of expression');
    if (isDigit(c) || c === '.') return this.parseNumber();
    if (c === '(') return this.group(')');
    if (c === '[') return this.group(']');
    if (c === '{') return this.group('}');
    if (c === '|' && this.absDepth === 0) {
      this.i++;
      this.absDepth++;
      const e = this.parseSum();
      this.expect('|');
      this.absDepth--;
      return fn('abs', e);
    }
    if (c === 'π') {
      this.i++;
      return { t: 'pi' };
    }
    if (c === '∞') {
      this.i++;
      return { t: 'inf' };
    }
    if (c === '√') {
      this.i++;
      return fn('sqrt', this.parseMacroArg());
    }
    if (isLetter(c)) return this.parseWord();
    if (c === '\\') return this.parseCommand();
    throw new CasError(`unexpected '${c}' at ${this.i}`);
  }

  /**
   * Number literal: integer, decimal (`1.5`, `.5`), repeating decimal (`16.\\overline{6}` = 50/3), scientific
   * (`3.05e-05`, as sympy's tokenizer reads it), a numeral in base b (`1214_8`, `1214_{8}`), or a mixed number
   * (`2\\frac{1}{2}`, `7 3/4`). Decimals and scientific literals set `hasFloat` (`floatDigits`, see valuesEqual).
   */
  private parseNumber(): Expr {
    const m = /^(\d*)(?:\.(\d*))?/.exec(this.s.slice(this.i))!;
    const intPart = m[1];
    let frac: string | undefined = m[2];
    if (intPart === '' && (frac === undefined || frac === '')) {
      if (!(frac === '' && this.s.startsWith('\\overline', this.i + 1))) throw new CasError(`lone '.' at ${this.i}`);
    }
    this.i += m[0].length;
    if (frac !== undefined) {
      const rep = /^\\overline\s*(?:\{\s*(\d+)\s*\}|(\d))/.exec(this.s.slice(this.i));
      if (rep !== null) {
        this.i += rep[0].length;
        const r = rep[1] ?? rep[2];
        // x = I.F(R)(R)… = (IFR − IF) / (10^|F| · (10^|R| − 1))
        const head = BigInt((intPart || '0') + frac);
        const full = BigInt((intPart || '0') + frac + r);
        return num(full - head, 10n ** BigInt(frac.length) * (10n ** BigInt(r.length) - 1n));
      }
      if (frac === '') frac = undefined; // "5." is the integer 5
      else this.noteFloat((intPart || '0') + frac);
    }
    let n = BigInt((intPart || '0') + (frac ?? ''));
    let d = 10n ** BigInt(frac?.length ?? 0);
    const sci = /^e([+-]?\d+)/.exec(this.s.slice(this.i));
    if (sci !== null && Math.abs(Number(sci[1])) <= 400) {
      this.i += sci[0].length;
      this.noteFloat((intPart || '0') + (frac ?? ''));
      const k = BigInt(sci[1]);
      if (k >= 0n) n *= 10n ** k;
      else d *= 10n ** -k;
      return num(n, d);
    }
    if (frac === undefined && this.s[this.i] === '_') return this.parseBaseNumeral(intPart);
    if (frac === undefined && m[0].indexOf('.') < 0) {
      const mixed = this.tryMixed(n);
      if (mixed !== null) return mixed;
    }
    return num(n, d);
  }

  /** `1214_8` / `1214_{8}`: the digits read in base 2..10. */
  private parseBaseNumeral(digits: string): Expr {
    const b = /^_\s*(?:\{\s*(\d+)\s*\}|(\d))/.exec(this.s.slice(this.i));
    if (b === null) throw new CasError(`bad base subscript at ${this.i}`);
    const base = Number(b[1] ?? b[2]);
    if (base < 2 || base > 36) throw new CasError(`unsupported base ${base}`);
    let v = 0n;
    for (const ch of digits) {
      const dv = Number(ch);
      if (dv >= base) throw new CasError(`digit ${ch} invalid in base ${base}`);
      v = v * BigInt(base) + BigInt(dv);
    }
    this.i += b[0].length;
    return num(v);
  }

  private tryMixed(whole: bigint): Expr | null {
    const rest = this.s.slice(this.i);
    const latex = /^\s*\\frac\s*(?:\{\s*(\d+)\s*\}|(\d))\s*(?:\{\s*(\d+)\s*\}|(\d))/.exec(rest);
    if (latex) {
      this.i += latex[0].length;
      const a = BigInt(latex[1] ?? latex[2]);
      const b = BigInt(latex[3] ?? latex[4]);
      if (b === 0n) throw new CasError('zero denominator in mixed number');
      return num(whole * b + a, b);
    }
    const plain = /^\s+(\d+)\s*\/\s*(\d+)(?![\d.])/.exec(rest);
    if (plain) {
      this.i += plain[0].length;
      const a = BigInt(plain[1]);
      const b = BigInt(plain[2]);
      if (b === 0n) throw new CasError('zero denominator in mixed number');
      return num(whole * b + a, b);
    }
    // "1 000" or "2 3": a digit group after a space is neither a product nor a mixed number we can trust.
    if (/^\s+\d/.test(rest)) throw new CasError('digits separated by a space');
    return null;
  }

  /** A letter run: known function or constant names, else single-letter variables (sympy's split_symbols). */
  private parseWord(): Expr {
    const rest = this.s.slice(this.i, this.i + 10);
    for (const w of WORD_FNS) {
      if (rest.startsWith(w)) {
        this.i += w.length;
        return w === 'sqrt' ? fn('sqrt', this.parseSqrtArg()) : this.parseFnTail(w);
      }
    }
    for (const w of WORD_CONSTS) {
      if (rest.startsWith(w)) {
        this.i += w.length;
        return w === 'pi' ? { t: 'pi' } : { t: 'inf' };
      }
    }
    let name = this.s[this.i++];
    name += this.parseSubscript();
    this.vars.add(name);
    return { t: 'var', name };
  }

  private parseSubscript(): string {
    if (this.s[this.i] !== '_') return '';
    this.i++;
    if (this.s[this.i] === '{') {
      const close = this.s.indexOf('}', this.i);
      if (close < 0) throw new CasError('unclosed subscript');
      const sub = this.s.slice(this.i + 1, close).replace(/\s+/g, '');
      this.i = close + 1;
      return `_${sub}`;
    }
    const c = this.s[this.i];
    if (c === undefined || !/[a-z0-9]/.test(c)) throw new CasError('bad subscript');
    this.i++;
    return `_${c}`;
  }

  /** `\sqrt{x}`, `sqrt(x)`, `\sqrt2` (single token), `\sqrt[3]{x}` is handled by the caller. */
  private parseSqrtArg(): Expr {
    this.ws();
    if (this.s[this.i] === '(') return this.group(')');
    return this.parseMacroArg();
  }

  /** A LaTeX macro argument: `{group}`, a command (`\pi`), or one single character (`\frac12`). */
  private parseMacroArg(): Expr {
    this.ws();
    const c = this.s[this.i];
    if (c === '{') return this.group('}');
    if (c === '\\') return this.parseCommand();
    if (isDigit(c)) {
      this.i++;
      return num(BigInt(c));
    }
    if (isLetter(c)) {
      this.i++;
      this.vars.add(c);
      return { t: 'var', name: c };
    }
    if (c === 'π') {
      this.i++;
      return { t: 'pi' };
    }
    throw new CasError(`bad macro argument at ${this.i}`);
  }

  /** Function argument after its name: `\sin^2 x`, `\log_2 8`, `\ln(x)`, `\sin 2x`. */
  private parseFnTail(name: string): Expr {
    this.ws();
    let power: Expr | null = null;
    if (this.s[this.i] === '^') {
      this.i++;
      power = this.parseExponent();
      if (power.t === 'neg') throw new CasError(`inverse-function notation ${name}^{-1}`);
    }
    let base: Expr | null = null;
    if (name === 'log' && this.s[this.i] === '_') {
      this.i++;
      base = this.parseMacroArg();
    }
    this.ws();
    let arg: Expr;
    const c = this.s[this.i];
    if (c === '(' || c === '{' || c === '[') arg = this.parsePrimary();
    else {
      // Unparenthesised argument: a run of implicitly multiplied factors, stopping at the next function.
      arg = this.parsePower();
      for (;;) {
        this.ws();
        if (!this.startsPrimary() || this.startsFunction()) break;
        arg = bin('*', arg, this.parsePower());
      }
    }
    let e: Expr = base !== null ? fn('logb', arg, base) : fn(name as FnName, arg);
    if (power !== null) e = bin('^', e, power);
    return e;
  }

  private startsFunction(): boolean {
    const c = this.s[this.i];
    if (c === '\\') return CMD_FNS.has(this.peekCmd()!) || this.peekCmd() === 'sqrt';
    if (!isLetter(c)) return false;
    const rest = this.s.slice(this.i, this.i + 8);
    return WORD_FNS.some((w) => rest.startsWith(w));
  }

  private parseCommand(): Expr {
    const cmd = this.takeCmd();
    switch (cmd) {
      case 'frac':
      case 'cfrac': {
        const a = this.parseMacroArg();
        const b = this.parseMacroArg();
        return bin('/', a, b);
      }
      case 'sqrt': {
        this.ws();
        if (this.s[this.i] === '[') {
          const index = this.group(']');
          return fn('root', this.parseMacroArg(), index);
        }
        return fn('sqrt', this.parseMacroArg());
      }
      case 'pi':
        return { t: 'pi' };
      case 'infty':
        return { t: 'inf' };
      case 'binom': {
        const n = this.parseMacroArg();
        const k = this.parseMacroArg();
        return fn('binom', n, k);
      }
      case 'lfloor':
      case 'lceil': {
        const saved = this.absDepth;
        this.absDepth = 0;
        const e = this.parseSum();
        this.ws();
        const close = this.takeCmd();
        this.absDepth = saved;
        if (close !== (cmd === 'lfloor' ? 'rfloor' : 'rceil')) throw new CasError(`\\${cmd} closed by \\${close}`);
        return fn(cmd === 'lfloor' ? 'floor' : 'ceil', e);
      }
      default:
        break;
    }
    if (CMD_FNS.has(cmd)) return this.parseFnTail(cmd);
    if (GREEK.has(cmd)) {
      const name = cmd + this.parseSubscript();
      this.vars.add(name);
      return { t: 'var', name };
    }
    if (TEXT_CMDS.has(cmd)) return this.parseMacroArg();
    throw new CasError(`unsupported command \\${cmd}`);
  }
}

export interface ParsedExpr {
  expr: Expr;
  /** Variable names it uses. */
  vars: Set<string>;
  /** Most significant digits among its decimal/scientific literals (0: none); see valuesEqual. */
  floatDigits: number;
}

/** Parse an expression (already lower-cased and cleaned by the caller). Throws CasError when it cannot. */
export function parseExpr(src: string): ParsedExpr {
  if (src.length > MAX_EXPR_LENGTH) throw new CasError(`expression longer than ${MAX_EXPR_LENGTH} characters`);
  if (src.trim() === '') throw new CasError('empty expression');
  const p = new Parser(src);
  try {
    const expr = p.parseAll();
    return { expr, vars: p.vars, floatDigits: p.floatDigits };
  } catch (e) {
    if (e instanceof RangeError) throw new CasError('expression nested too deeply'); // stack overflow
    throw e;
  }
}

// ---------------------------------------------------------------------------------------------------------
// Evaluation

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

function real(x: number): Value {
  if (!Number.isFinite(x)) throw new CasError('value is not a finite real number');
  return { k: 'real', x };
}

function bitLength(n: bigint): number {
  return (n < 0n ? -n : n).toString(2).length;
}

/** Nearest float to n/d, also when n or d exceed the float range. */
function ratToNumber(n: bigint, d: bigint): number {
  const sn = Math.max(0, bitLength(n) - 64);
  const sd = Math.max(0, bitLength(d) - 64);
  return (Number(n >> BigInt(sn)) / Number(d >> BigInt(sd))) * 2 ** (sn - sd);
}

function toNumber(v: Value): number {
  if (v.k === 'rat') return ratToNumber(v.n, v.d);
  if (v.k === 'real') return v.x;
  throw new CasError('arithmetic with infinity');
}

function isInt(v: Value): v is { k: 'rat'; n: bigint; d: bigint } {
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

function pow(a: Value, b: Value): Value {
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

function add(a: Value, b: Value, sign: 1n | -1n): Value {
  if (a.k === 'inf' || b.k === 'inf') throw new CasError('arithmetic with infinity');
  if (a.k === 'rat' && b.k === 'rat') return rat(a.n * b.d + sign * b.n * a.d, a.d * b.d);
  return real(toNumber(a) + Number(sign) * toNumber(b));
}

function mul(a: Value, b: Value): Value {
  if (a.k === 'rat' && b.k === 'rat') return rat(a.n * b.n, a.d * b.d);
  return real(toNumber(a) * toNumber(b));
}

function div(a: Value, b: Value): Value {
  if (a.k === 'rat' && b.k === 'rat') return rat(a.n * b.d, a.d * b.n);
  const y = toNumber(b);
  if (y === 0) throw new CasError('division by zero');
  return real(toNumber(a) / y);
}

function factorial(v: Value): Value {
  if (!isInt(v) || v.n < 0n || v.n > 5000n) throw new CasError('factorial needs an integer in 0..5000');
  let r = 1n;
  for (let i = 2n; i <= v.n; i++) r *= i;
  return rat(r, 1n);
}

/**
 * C(n, k) = n(n−1)…(n−k+1)/k! for an integer k ≥ 0 and any n (exact for rational n); 0 for k < 0.
 * Bounded (k ≤ 2000 for integer n, k ≤ 50 otherwise) so that one answer cannot stall the verifier.
 */
function binomial(n: Value, k: Value): Value {
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

function floorOrCeil(v: Value, ceil: boolean): Value {
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
