/**
 * Deterministic arithmetic problems for the tiny character-level PyTorch policy.
 *
 * Format (the tiny model is trained on exactly this, with a character tokenizer over ARITHMETIC_ALPHABET):
 * question `"12+7="`, answer `"19"`: non-negative integer operands, integer answer that may be negative,
 * no spaces; the model ends its answer with ARITHMETIC_END_MARKER.
 *
 * Difficulty is set by the level: an operation kind (`add`, `sub`, `mul` with 2 terms, `mix3` with 3 terms and
 * operators drawn from + − ×, usual precedence) and an operand size of 1..4 digits. Levels are numbered 1..16
 * in roughly increasing difficulty: level = 4·(digits − 1) + kind rank (add 1, sub 2, mul 3, mix3 4).
 *
 * Determinism: row i depends only on (seed, i, level of row i). Levels are dealt in blocks of
 * `levels.length` rows, each block a seeded permutation of `levels`, so every prefix of the output is balanced
 * across levels to within one block, and `count` = 100 yields the first 100 rows of `count` = 1000.
 */
import { Prng } from '../events/prng.ts';
import type { PromptRow } from './promptRow.ts';

/** Characters the tiny model needs: digits, the operators, `=`, and the newline end marker. */
export const ARITHMETIC_ALPHABET = '0123456789+-*=\n';
/** Marks the end of the model's answer; the verifier ignores anything after it. */
export const ARITHMETIC_END_MARKER = '\n';
/** `dataSource` of every generated row (routes to the arithmetic verifier). */
export const ARITHMETIC_DATA_SOURCE = 'arithmetic';
/** `dataSource` of the chat-style rows (`What is 12 + 7?`, graded by the last integer of the response). */
export const ARITHMETIC_CHAT_DATA_SOURCE = 'arithmetic-chat';

/**
 * `bare`: `12+7=` (what the tiny model is trained on; the verifier reads the first integer). `chat`: the same
 * problem as a question for a pretrained chat model, `What is 12 + 7?`, whose answers restate the problem
 * (`12 + 7 = 19.`): the verifier reads the last integer.
 */
export type ArithmeticStyle = 'bare' | 'chat';

export type ArithmeticKind = 'add' | 'sub' | 'mul' | 'mix3';

export interface ArithmeticLevel {
  /** Integer difficulty level, 1 (easiest) .. 16. */
  level: number;
  kind: ArithmeticKind;
  /** Number of digits of every operand (1: 0..9, d ≥ 2: 10^(d−1)..10^d − 1). */
  digits: number;
  /** Number of operands (2, or 3 for `mix3`). */
  terms: number;
  /** SEC bandit category, e.g. `add-1d`, `mul-2d`, `mix3-3d`. */
  category: string;
  description: string;
}

const KINDS: ReadonlyArray<{ kind: ArithmeticKind; terms: number; text: string }> = [
  { kind: 'add', terms: 2, text: 'a+b' },
  { kind: 'sub', terms: 2, text: 'a-b (answer may be negative)' },
  { kind: 'mul', terms: 2, text: 'a*b' },
  { kind: 'mix3', terms: 3, text: 'a?b?c with each ? in {+,-,*}, * binds tighter' },
];

/** All levels, index i ↔ level i + 1. */
export const arithmeticLevels: readonly ArithmeticLevel[] = (() => {
  const out: ArithmeticLevel[] = [];
  for (let digits = 1; digits <= 4; digits++) {
    KINDS.forEach((k, rank) => {
      out.push({
        level: 4 * (digits - 1) + rank + 1,
        kind: k.kind,
        digits,
        terms: k.terms,
        category: `${k.kind}-${digits}d`,
        description: `${k.text}, ${digits}-digit operands`,
      });
    });
  }
  return out;
})();

export interface ArithmeticOptions {
  /** Run seed (uint32). */
  seed: number;
  /** Number of rows to generate (≥ 0). */
  count: number;
  /** Levels to draw from (default: all 16). Repeating a level weights it. */
  levels?: readonly number[];
  /** Prompt style (default `bare`). The problems are the same in both styles. */
  style?: ArithmeticStyle;
}

type Op = '+' | '-' | '*';
const MIX_OPS: readonly Op[] = ['+', '-', '*'];

function operand(prng: Prng, digits: number): number {
  const lo = digits === 1 ? 0 : 10 ** (digits - 1);
  const hi = 10 ** digits - 1;
  return lo + prng.nextInt(hi - lo + 1);
}

function apply(a: number, op: Op, b: number): number {
  return op === '+' ? a + b : op === '-' ? a - b : a * b;
}

/** Value of `a op1 b [op2 c]` with × binding tighter than + and −. Exact: all values stay below 2^53. */
function evaluate(xs: number[], ops: Op[]): number {
  if (xs.length === 2) return apply(xs[0], ops[0], xs[1]);
  if (ops[1] === '*' && ops[0] !== '*') return apply(xs[0], ops[0], xs[1] * xs[2]);
  return apply(apply(xs[0], ops[0], xs[1]), ops[1], xs[2]);
}

function checkLevels(levels: readonly number[]): void {
  if (levels.length === 0) throw new Error('generateArithmetic: levels must not be empty');
  for (const l of levels) {
    if (!Number.isInteger(l) || l < 1 || l > arithmeticLevels.length) {
      throw new Error(`generateArithmetic: unknown level ${String(l)} (valid: 1..${arithmeticLevels.length})`);
    }
  }
}

/** One problem of the given level from row i's own stream. */
function makeRow(seed: number, i: number, lv: ArithmeticLevel, style: ArithmeticStyle = 'bare'): PromptRow {
  const prng = new Prng({ seed, step: i, purpose: 'tasks/arithmetic/row' });
  const xs: number[] = [];
  for (let t = 0; t < lv.terms; t++) xs.push(operand(prng, lv.digits));
  const ops: Op[] =
    lv.kind === 'add' ? ['+'] : lv.kind === 'sub' ? ['-'] : lv.kind === 'mul' ? ['*'] : [MIX_OPS[prng.nextInt(3)], MIX_OPS[prng.nextInt(3)]];
  let question = String(xs[0]);
  for (let t = 0; t < ops.length; t++) question += ops[t] + String(xs[t + 1]);
  question += '=';
  if (style === 'chat') {
    let q = String(xs[0]);
    for (let t = 0; t < ops.length; t++) q += ` ${ops[t]} ${xs[t + 1]}`;
    question = `What is ${q}?`;
  }
  return {
    id: `arith:${seed}:${i}`,
    index: i,
    question,
    answer: String(evaluate(xs, ops)),
    dataSource: style === 'chat' ? ARITHMETIC_CHAT_DATA_SOURCE : ARITHMETIC_DATA_SOURCE,
    category: lv.category,
    meta: { level: lv.level, digits: lv.digits, terms: lv.terms },
  };
}

/**
 * Generate `count` arithmetic prompts. Same options ⇒ identical rows; a different seed ⇒ different rows.
 */
export function generateArithmetic(opts: ArithmeticOptions): PromptRow[] {
  const { seed, count } = opts;
  if (opts.style !== undefined && opts.style !== 'bare' && opts.style !== 'chat') {
    throw new Error(`generateArithmetic: style must be bare or chat, got ${JSON.stringify(opts.style)}`);
  }
  if (!Number.isInteger(seed) || seed < 0 || seed > 0xffffffff) {
    throw new Error(`generateArithmetic: seed must be a uint32, got ${String(seed)}`);
  }
  if (!Number.isInteger(count) || count < 0) {
    throw new Error(`generateArithmetic: count must be a non-negative integer, got ${String(count)}`);
  }
  const levels = opts.levels ?? arithmeticLevels.map((l) => l.level);
  checkLevels(levels);
  const rows: PromptRow[] = [];
  let block: number[] = [];
  for (let i = 0; i < count; i++) {
    const pos = i % levels.length;
    if (pos === 0) {
      block = [...levels];
      new Prng({ seed, step: i / levels.length, purpose: 'tasks/arithmetic/levels' }).shuffle(block);
    }
    rows.push(makeRow(seed, i, arithmeticLevels[block[pos] - 1], opts.style));
  }
  return rows;
}
