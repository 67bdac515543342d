/**
 * Math verifier (spec §12): the reward of one response against one ground-truth answer.
 *
 *   1. Optionally keep only the text after the first `</think>` (mode `optional`, the default: texts without it
 *      are graded whole, as the pinned rllm version must do — spec §12 ⚠, we follow that reading; `required`
 *      ⇒ no `</think>` is a format error, 0). rllm's `split('</think>')[1]` would also cut at a second tag.
 *   2. Answer = content of the LAST `\boxed{…}` (brace-matched), `\fbox{…}` when there is no `\boxed`, or
 *      the rest of the line after `\boxed ` without braces. None or empty ⇒ reward 0.
 *   3. A ground truth containing `\boxed` is reduced to its boxed content.
 *   4. Correct iff the mathd normal forms are equal (mathd.ts, an exact port), OR the equivalence check says
 *      `equal`.
 *
 * The equivalence check replaces rllm's sympy grader (PRM800K `grade_answer`). It keeps that grader's
 * normalisation and decision rules: `\text{}`, `$`, `%`, "or"/"and" → comma, million/billion/trillion,
 * unit words, `^\circ`, outer braces, thousands commas, integer-valued decimals → integers; tuples and
 * intervals compared element-wise with identical brackets; two fraction literals (`a/b`, `\frac{a}{b}`) must
 * match literally (an unreduced fraction is wrong); an integer literal never matches a non-integer
 * literal or an expression (`2` vs `\sqrt{4}` is different, as in the reference); otherwise both sides are
 * parsed by casLite.ts and compared by value.
 *
 * Gap to sympy (what this does differently, knowingly; measured against a reconstruction of the reference
 * grader on ~17,600 deepscaler-derived pairs, the verdicts agree except where listed):
 *   - No symbolic simplification. Identity is decided by evaluation: exactly over the rationals when every
 *     step is rational (so `x^2-1` vs `(x-1)(x+1)` is exact at rational points), else in float64 with relative
 *     tolerance 1e-10. A decimal literal against a rational follows sympy's Float rule (equal iff both round
 *     alike at the literal's precision: `0.718266253869969` = 232/323, `0.3333` ≠ 1/3); against an irrational
 *     value it is only held to the 1e-10 tolerance, where sympy would never call them equal.
 *   - Expressions with variables are evaluated at 5 fixed rational points (and, when nothing evaluates there,
 *     at 5 integer points, for `n!` or `\binom{n}{k}`); points where a side is undefined are skipped. At most 2
 *     distinct variables; `\pi`, function names and constants are not variables (sympy's grader counted the
 *     letters p and i of `pi`). `e` and `i` are plain variables, as in sympy's parser. No complex numbers.
 *   - The LaTeX is parsed directly instead of through pylatexenc, which turns `\frac{x+1}{2}` into `x+1/2` and
 *     drops the index of `\sqrt[3]{x}` (so the reference calls `\sqrt[4]{2}` and `\sqrt[5]{2}` equal); here
 *     both mean what they say. The reference refuses any exponent written `^{…}`/`^(…)` or with two digits;
 *     here `2^{10}` is evaluated (still subject to the integer-literal rule). Tuples whose elements contain
 *     brackets are split by depth (the reference does not split them and then fails). Sets `\{…\}` and bare
 *     comma lists are compared as multisets and ratios `a:b` term by term (the reference only accepts these
 *     when the strings are equal). Column vectors and matrices (`pmatrix`, `bmatrix`) are compared element-wise.
 *     Repeating decimals (`16.\overline{6}`), base-b numerals (`1214_8`), scientific literals are understood.
 *   - Negative mixed numbers `-2\frac{1}{2}` mean −5/2 (the reference's text route reads −2 + 1/2).
 *   - What the parser does not understand (words, inequalities, `\pm`, `\cup`, equations with two sides,
 *     `\emptyset`, …) is reported as `undecided` with reward 0, where sympy would return False; so are
 *     answers over 1000 characters, values that overflow float64, and expressions nested too deeply.
 */
import { CasError, compareExprs, MAX_EXPR_LENGTH, parseExpr, type Equivalence } from './casLite.ts';
import { mathdEqual } from './mathd.ts';

export interface MathVerdict {
  reward: 0 | 1;
  verdict: 'equal' | 'different' | 'undecided';
  /** The answer taken from the response (content of the last box), or null when there is none. */
  extracted: string | null;
  reason?: string;
}

export interface MathVerifyOptions {
  /** `</think>` handling: `optional` (default) keep the text after it when present; `required` no tag ⇒ 0;
   * `ignore` grade the whole response. */
  think?: 'optional' | 'required' | 'ignore';
}

const THINK_END = '</think>';

/**
 * Content of the last `\boxed{…}` in `text` (braces matched by counting, as the reference does), falling back
 * to `\fbox{…}`; `\boxed 5` without braces yields the rest of its line up to a `$`. Null when none.
 */
export function extractBoxed(text: string): string | null {
  let cmd = '\\boxed';
  let at = text.lastIndexOf(cmd);
  if (at < 0) {
    cmd = '\\fbox';
    at = text.lastIndexOf(cmd);
    if (at < 0) return null;
  }
  let j = at + cmd.length;
  while (j < text.length && (text[j] === ' ' || text[j] === '\t')) j++;
  if (text[j] === '{') {
    let depth = 0;
    for (let k = j; k < text.length; k++) {
      const c = text[k];
      if (c === '{') depth++;
      else if (c === '}') {
        depth--;
        if (depth === 0) return text.slice(j + 1, k);
      }
    }
    return null; // unbalanced: no answer
  }
  if (j > at + cmd.length) {
    // `\boxed 5`: the token(s) after the space, up to the end of the line or a closing `$`
    const rest = text.slice(j).split(/[\n$]/, 1)[0].trim();
    return rest.length > 0 ? rest : null;
  }
  return null;
}

// ---------------------------------------------------------------------------------------------------------
// Normalisation for the equivalence check (port of the reference grader's `_normalize`, minus pylatexenc)

const UNITS = ['degree', 'cm', 'centimeter', 'meter', 'mile', 'second', 'minute', 'hour', 'day', 'week', 'month', 'year', 'foot', 'feet', 'inch', 'yard'];
const UNIT_RES = UNITS.map((u) => new RegExp(`${u}(es)?(s)? *(\\^[0-9]+)?`, 'g'));
const TEXT_CMD = /\\(?:text|textrm|textbf|textit|mathrm|mathbf|mathit|mbox|operatorname)\s*\{([^{}]*)\}/g;
const FLOAT_LITERAL = /^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i;
const SET_OPEN = '⦃';
const SET_CLOSE = '⦄';

/** Exact value of a decimal literal (`-1.50`, `2e3`) as an integer string when it is integer-valued, else null. */
function integerValueOf(lit: string): string | null {
  const m = FLOAT_LITERAL.exec(lit);
  if (m === null) return null;
  const neg = lit.startsWith('-');
  const [ip, fp = ''] = m[1].split('.');
  const exp = m[2] ? Number(m[2].slice(1)) : 0;
  let digits = (ip || '0') + fp;
  let scale = fp.length - exp; // value = digits · 10^(−scale)
  if (scale < 0) {
    if (-scale > 400) return null;
    digits += '0'.repeat(-scale);
    scale = 0;
  }
  const n = BigInt(digits);
  const p = 10n ** BigInt(scale);
  if (n % p !== 0n) return null;
  const q = n / p;
  return (neg && q !== 0n ? '-' : '') + q.toString();
}

/** Remove thousands separators of the form d,ddd (the reference's `_strip_properly_formatted_commas`). */
function stripThousandsCommas(s: string): string {
  for (;;) {
    const next = s.replace(/(\d),(\d\d\d)($|\D)/g, '$1$2$3');
    if (next === s) return s;
    s = next;
  }
}

/** Index of the bracket closing the one at `open` (any of ([{⦃ / )]}⦄ counted alike), or −1. */
function matchingClose(s: string, open: number): number {
  let depth = 0;
  for (let k = open; k < s.length; k++) {
    const c = s[k];
    if (c === '(' || c === '[' || c === '{' || c === SET_OPEN) depth++;
    else if (c === ')' || c === ']' || c === '}' || c === SET_CLOSE) {
      depth--;
      if (depth === 0) return k;
      if (depth < 0) return -1;
    }
  }
  return -1;
}

function splitTopLevel(s: string, sep: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let start = 0;
  for (let k = 0; k < s.length; k++) {
    const c = s[k];
    if (c === '(' || c === '[' || c === '{' || c === SET_OPEN) depth++;
    else if (c === ')' || c === ']' || c === '}' || c === SET_CLOSE) depth--;
    else if (depth === 0 && s.startsWith(sep, k)) {
      out.push(s.slice(start, k).trim());
      start = k + sep.length;
      k += sep.length - 1;
    }
  }
  out.push(s.slice(start).trim());
  return out;
}

/** The reference's string normalisation, producing LaTeX-ish text that casLite parses. Lower-cased. */
export function normalizeForEquivalence(answer: string): string {
  let e = answer.trim();
  const display = /^\\\[([\s\S]*)\\\]$|^\\\(([\s\S]*)\\\)$/.exec(e);
  if (display !== null) e = (display[1] ?? display[2]).trim();
  const m = /^\\text\{(.+?)\}$/.exec(e);
  if (m !== null) e = m[1];
  e = e.replaceAll('\\%', '').replaceAll('%', '').replaceAll('\\$', '').replaceAll('$', '');
  e = e.replace(/\\(?:text|mathrm|textrm|mbox)\s*\{\s*(?:or|and)\s*\}/g, ',');
  e = e.replaceAll(' or ', ' , ').replaceAll(' and ', ' , ');
  e = e.replaceAll('million', '*10^6').replaceAll('billion', '*10^9').replaceAll('trillion', '*10^12');
  for (let prev = ''; prev !== e; ) {
    prev = e;
    e = e.replace(TEXT_CMD, ' $1 ');
  }
  e = e.replaceAll('\\degree', '');
  for (const re of UNIT_RES) e = e.replace(re, '');
  e = e.replace(/\^\s*\{?\s*\\circ\s*\}?/g, '').replaceAll('°', '');
  e = e.replace(/,\\! */g, '').replace(/(\d)\{,\}(?=\d\d\d)/g, '$1');
  e = e.replace(/\\(?:left|right|bigl|bigr|Bigl|Bigr|biggl|biggr|big|Big|bigg|Bigg)(?![a-zA-Z])/g, '');
  // spacing commands → space; a `\\` row separator is matched first so its second backslash is not eaten
  e = e.replace(/\\\\|\\[,;:! ]|\\q?quad(?![a-zA-Z])|~/g, (t) => (t === '\\\\' ? t : ' '));
  e = e.replace(/\\[dt]frac(?![a-zA-Z])/g, '\\frac').replace(/\\[dt]binom(?![a-zA-Z])/g, '\\binom');
  e = e.replace(/\\\{|\\lbrace(?![a-zA-Z])/g, SET_OPEN).replace(/\\\}|\\rbrace(?![a-zA-Z])/g, SET_CLOSE);
  e = e.replace(/\\[lr]?vert(?![a-zA-Z])/g, '|');
  e = e.replace(/\\\\(?=[a-zA-Z])/g, '\\'); // over-escaped `\\sqrt` (a few ground truths have it)
  e = e.trim();
  if (e.endsWith('.') && !/\d\.$/.test(e)) e = e.slice(0, -1).trim(); // sentence-final period
  if (e.startsWith('{') && matchingClose(e, 0) === e.length - 1) e = e.slice(1, -1).trim();
  const asInt = integerValueOf(e);
  if (asInt !== null) e = asInt;
  e = stripThousandsCommas(e);
  const lhs = /^[a-zA-Z](?:_\{?\w+\}?)?\s*=([^=<>]*)$/.exec(e);
  if (lhs !== null) e = lhs[1].trim();
  return e.toLowerCase().trim();
}

const canon = (s: string): string => s.replace(/\s+/g, '');

/** `a/b` or `\frac{a}{b}` with integer literals (sign folded), the reference's `_is_frac`; else null. */
function fractionLiteral(s: string): { neg: boolean; n: bigint; d: bigint } | null {
  const c = canon(s);
  let m = /^(-?)(\d+)\/(\d+)$/.exec(c);
  if (m === null) m = /^(-?)\\frac\{(-?\d+)\}\{(\d+)\}$/.exec(c);
  if (m === null) m = /^(-?)\\frac(\d)(\d)$/.exec(c);
  if (m === null) return null;
  let n = BigInt(m[2]);
  const d = BigInt(m[3]);
  if (d === 0n) return null;
  let neg = m[1] === '-';
  if (n < 0n) {
    n = -n;
    neg = !neg;
  }
  return { neg, n, d };
}

/** The reference's `_str_is_int`: a plain number literal with an integer value. */
function isIntegerLiteral(s: string): boolean {
  return integerValueOf(canon(s)) !== null;
}

type Elements =
  | { kind: 'single' | 'tuple' | 'set' | 'list' | 'ratio'; open: string; close: string; elems: string[] }
  | { kind: 'matrix'; rows: string[][] };

const MATRIX = /^\\begin\{([pb]?matrix)\}([\s\S]*)\\end\{\1\}$/;

function splitElements(s: string): Elements {
  const mm = MATRIX.exec(s);
  if (mm !== null) {
    const rows = mm[2].split('\\\\').map((r) => r.trim()).filter((r) => r.length > 0);
    return { kind: 'matrix', rows: rows.map((r) => r.split('&').map((x) => x.trim())) };
  }
  const first = s[0];
  const last = s[s.length - 1];
  if (first === SET_OPEN && last === SET_CLOSE && matchingClose(s, 0) === s.length - 1) {
    const inner = s.slice(1, -1).trim();
    return { kind: 'set', open: first, close: last, elems: inner === '' ? [] : splitTopLevel(inner, ',') };
  }
  if ((first === '(' || first === '[') && (last === ')' || last === ']') && matchingClose(s, 0) === s.length - 1) {
    const elems = splitTopLevel(s.slice(1, -1), ',');
    if (elems.length >= 2) return { kind: 'tuple', open: first, close: last, elems };
  }
  const elems = splitTopLevel(s, ',');
  if (elems.length >= 2) return { kind: 'list', open: '', close: '', elems };
  // a ratio a:b(:c) is compared term by term, like a tuple (2:4 is not 1:2, as an unreduced fraction)
  const terms = splitTopLevel(s, ':');
  if (terms.length >= 2) return { kind: 'ratio', open: ':', close: ':', elems: terms };
  return { kind: 'single', open: '', close: '', elems: [s] };
}

/** One element pair, with the reference's literal rules before evaluation. */
function compareElement(gt: string, given: string): Equivalence {
  if (given.trim() === '') return { verdict: 'different', reason: 'empty element' };
  if (canon(gt) === canon(given)) return { verdict: 'equal' };
  const fg = fractionLiteral(gt);
  const fa = fractionLiteral(given);
  if (fg !== null && fa !== null) {
    const same = fg.neg === fa.neg && fg.n === fa.n && fg.d === fa.d;
    return same ? { verdict: 'equal' } : { verdict: 'different', reason: 'fraction literals differ (unreduced fractions must match literally)' };
  }
  if (isIntegerLiteral(gt) !== isIntegerLiteral(given)) {
    return { verdict: 'different', reason: 'integer literal vs non-integer' };
  }
  let pg;
  let pa;
  try {
    pg = parseExpr(gt);
  } catch (e) {
    if (e instanceof CasError) return { verdict: 'undecided', reason: `cannot parse ground truth "${gt}": ${e.message}` };
    throw e;
  }
  try {
    pa = parseExpr(given);
  } catch (e) {
    if (e instanceof CasError) return { verdict: 'undecided', reason: `cannot parse answer "${given}": ${e.message}` };
    throw e;
  }
  return compareExprs(pg, pa);
}

function compareOrdered(gt: string[], given: string[]): Equivalence {
  let undecided: Equivalence | null = null;
  for (let k = 0; k < gt.length; k++) {
    const r = compareElement(gt[k], given[k]);
    if (r.verdict === 'different') return { verdict: 'different', reason: `element ${k + 1}: ${r.reason ?? ''}` };
    if (r.verdict === 'undecided' && undecided === null) undecided = { verdict: 'undecided', reason: `element ${k + 1}: ${r.reason ?? ''}` };
  }
  return undecided ?? { verdict: 'equal' };
}

/** Multiset comparison (sets, bare lists): every ground-truth element matched by a distinct answer element. */
function compareUnordered(gt: string[], given: string[]): Equivalence {
  const used = new Array<boolean>(given.length).fill(false);
  let undecided: Equivalence | null = null;
  for (const g of gt) {
    let found = false;
    let sawUndecided: Equivalence | null = null;
    for (let k = 0; k < given.length && !found; k++) {
      if (used[k]) continue;
      const r = compareElement(g, given[k]);
      if (r.verdict === 'equal') {
        used[k] = true;
        found = true;
      } else if (r.verdict === 'undecided') sawUndecided = r;
    }
    if (!found) {
      if (sawUndecided === null) return { verdict: 'different', reason: `no element equals ${g}` };
      undecided ??= sawUndecided;
    }
  }
  return undecided ?? { verdict: 'equal' };
}

/** Equivalence of an answer and a ground truth (no box extraction, no mathd). */
export function checkEquivalence(given: string, groundTruth: string): Equivalence {
  if (given.length > MAX_EXPR_LENGTH || groundTruth.length > MAX_EXPR_LENGTH) {
    return { verdict: 'undecided', reason: `answer longer than ${MAX_EXPR_LENGTH} characters` };
  }
  const g = normalizeForEquivalence(groundTruth);
  const a = normalizeForEquivalence(given);
  if (a === '') return { verdict: 'different', reason: 'empty answer' };
  if (g === '') return { verdict: 'undecided', reason: 'empty ground truth' };
  if (canon(g) === canon(a)) return { verdict: 'equal' };
  const G = splitElements(g);
  const A = splitElements(a);
  if (G.kind === 'matrix' || A.kind === 'matrix') {
    const other = G.kind === 'matrix' ? A : G;
    if (other.kind === 'single') return { verdict: 'different', reason: 'matrix vs single value' };
    if (other.kind !== 'matrix') return { verdict: 'undecided', reason: 'matrix vs list' };
    if (G.kind !== 'matrix' || A.kind !== 'matrix') return { verdict: 'undecided', reason: 'matrix vs list' };
    if (G.rows.length !== A.rows.length || G.rows.some((r, k) => r.length !== A.rows[k].length)) {
      return { verdict: 'different', reason: 'matrix shapes differ' };
    }
    return compareOrdered(G.rows.flat(), A.rows.flat());
  }
  if (G.elems.length > 1 && (G.open !== A.open || G.close !== A.close)) {
    return { verdict: 'different', reason: `brackets differ: ${G.open}…${G.close} vs ${A.open}…${A.close}` };
  }
  if (G.elems.length !== A.elems.length) {
    return { verdict: 'different', reason: `${G.elems.length} element(s) vs ${A.elems.length}` };
  }
  if (G.kind === 'set' || G.kind === 'list') return compareUnordered(G.elems, A.elems);
  return compareOrdered(G.elems, A.elems);
}

/** Grade an already extracted answer: mathd equality, else the equivalence check. */
export function gradeAnswer(given: string, groundTruth: string): Omit<MathVerdict, 'extracted'> {
  if (mathdEqual(given, groundTruth)) return { reward: 1, verdict: 'equal', reason: 'mathd normal forms match' };
  const r = checkEquivalence(given, groundTruth);
  return { reward: r.verdict === 'equal' ? 1 : 0, verdict: r.verdict, ...(r.reason !== undefined ? { reason: r.reason } : {}) };
}

/** Reward of one response against one ground truth (spec §12). */
export function verifyMath(response: string, groundTruth: string, opts: MathVerifyOptions = {}): MathVerdict {
  const think = opts.think ?? 'optional';
  let text = response;
  if (think !== 'ignore') {
    const at = response.indexOf(THINK_END);
    if (at >= 0) text = response.slice(at + THINK_END.length);
    else if (think === 'required') return { reward: 0, verdict: 'different', extracted: null, reason: 'no </think> (format error)' };
  }
  const extracted = extractBoxed(text);
  if (extracted === null) return { reward: 0, verdict: 'different', extracted: null, reason: 'no \\boxed answer' };
  if (extracted.trim() === '') return { reward: 0, verdict: 'different', extracted, reason: 'empty \\boxed answer' };
  const gt = groundTruth.includes('\\boxed') ? (extractBoxed(groundTruth) ?? groundTruth) : groundTruth;
  return { ...gradeAnswer(extracted, gt), extracted };
}
