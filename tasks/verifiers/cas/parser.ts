/**
 * CAS-lite's parser: LaTeX/plain-text answers (already lower-cased and cleaned by math.ts) into an Expr tree
 * (expr.ts) by recursive descent — sums, terms with implicit multiplication, unary minus, right-associative
 * powers, postfix `!`, and the primaries casLite.ts lists. It also records the variables used and the
 * precision of any decimal literal, which the comparison needs (compare.ts).
 */
import { CasError, type Expr, type FnName } from './expr.ts';

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
