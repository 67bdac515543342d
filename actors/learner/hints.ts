/**
 * Hint-augmented prompts for hard prompts (spec dare-reference.md §8 steps 3–5).
 *
 * From one earlier SUCCESSFUL rollout of the same prompt (chosen uniformly with the PRNG), extract a short
 * "reasoning skeleton" and build a new user message around the question. Behaviour follows REF exactly
 * where the spec pins it down:
 *  1. fragments: `\r` → newline, trim; per non-empty trimmed line, split after one of `。；;.!?` followed by
 *     whitespace (the whitespace is dropped); if that yields ≤ 1 fragment, split the whole text the same way;
 *  2. collapse whitespace runs to one space; drop fragments shorter than 12 characters (Unicode code
 *     points, like Python's len), containing `\boxed` or `####`, or equal case-insensitively to an earlier
 *     kept one;
 *  3. score: +2 per symbol of `= \frac \sqrt \sin \cos \tan \log ^ + - * /` present, +2 per keyword of
 *     let/substitute/simplify/solve/therefore/hence/thus/consider/rewrite present (substring of the
 *     lower-cased fragment), +1 if any digit; the score uses the whole fragment, THEN fragments longer than
 *     160 characters are cut to 160, right-trimmed, and get "..." appended;
 *  4. keep the `maxSnippets` best (ties → earlier fragment; at least 1), in their original order.
 * The prompt wording is ours (REF's exact sentences are not reproduced); its structure is REF's: question,
 * blank line, a header line announcing a hint from an earlier successful attempt at the same problem, the
 * numbered skeleton (if any), and a closing line asking to use the hint but reason carefully and box the final
 * answer (GSM8K sources: answer after "####"). REF computes the final answer but does not insert it ⚠; we
 * do not extract it at all.
 * Deviations: whitespace is JavaScript's `\s` (Python's str.split also treats U+001C..U+001F as spaces);
 * "digit" is Unicode Nd plus the super/subscript digits (Python's isdigit also accepts e.g. circled digits).
 */
import type { Prng } from '../../events/prng.ts';

export const SKELETON_SYMBOLS: readonly string[] = ['=', '\\frac', '\\sqrt', '\\sin', '\\cos', '\\tan', '\\log', '^', '+', '-', '*', '/'];
export const SKELETON_KEYWORDS: readonly string[] = ['let', 'substitute', 'simplify', 'solve', 'therefore', 'hence', 'thus', 'consider', 'rewrite'];
/** Fragments shorter than this (code points) are dropped. */
export const MIN_FRAGMENT_CHARS = 12;

export interface SkeletonOptions {
  /** snippets kept (REF hard_memory_max_snippets, default 3; at least 1 is kept) */
  maxSnippets?: number;
  /** characters per snippet before the "..." (REF hard_memory_max_chars_per_snippet, default 160) */
  maxChars?: number;
}

const SENTENCE_SPLIT = /(?<=[。；;.!?])\s+/u;
const DIGIT = /[\p{Nd}\u00B2\u00B3\u00B9\u2070\u2074-\u2079\u2080-\u2089]/u;

/** Step 1: split a solution text into trimmed, non-empty fragments. */
export function splitFragments(text: string): string[] {
  const t = text.replace(/\r/g, '\n').trim();
  const out: string[] = [];
  for (const raw of t.split('\n')) {
    const line = raw.trim();
    if (!line) continue;
    for (const piece of line.split(SENTENCE_SPLIT)) {
      const p = piece.trim();
      if (p) out.push(p);
    }
  }
  if (out.length <= 1) {
    return t
      .split(SENTENCE_SPLIT)
      .map((p) => p.trim())
      .filter((p) => p.length > 0);
  }
  return out;
}

/** Step 3: skeleton score of one (whitespace-collapsed) fragment. */
export function scoreFragment(frag: string): number {
  let score = 0;
  for (const s of SKELETON_SYMBOLS) if (frag.includes(s)) score += 2;
  const low = frag.toLowerCase();
  for (const k of SKELETON_KEYWORDS) if (low.includes(k)) score += 2;
  if (DIGIT.test(frag)) score += 1;
  return score;
}

function codePointLength(s: string): number {
  let n = 0;
  for (const _ of s) n++;
  return n;
}

/** Steps 1–4: the reasoning skeleton of a successful solution text (0..maxSnippets snippets). */
export function extractSkeleton(text: string, opts: SkeletonOptions = {}): string[] {
  const maxSnippets = Math.max(1, Math.trunc(opts.maxSnippets ?? 3));
  const maxChars = opts.maxChars ?? 160;
  if (!(Number.isInteger(maxChars) && maxChars >= 1)) throw new RangeError(`hints: maxChars must be an integer ≥ 1, got ${maxChars}`);
  const scored: { score: number; idx: number; frag: string }[] = [];
  const seen = new Set<string>();
  splitFragments(text).forEach((raw, idx) => {
    let frag = raw.split(/\s+/u).filter((w) => w.length > 0).join(' ');
    if (codePointLength(frag) < MIN_FRAGMENT_CHARS) return;
    if (frag.includes('\\boxed') || frag.includes('####')) return;
    const low = frag.toLowerCase();
    if (seen.has(low)) return;
    seen.add(low);
    const score = scoreFragment(frag);
    if (codePointLength(frag) > maxChars) frag = Array.from(frag).slice(0, maxChars).join('').trimEnd() + '...';
    scored.push({ score, idx, frag });
  });
  scored.sort((a, b) => b.score - a.score || a.idx - b.idx);
  return scored
    .slice(0, maxSnippets)
    .sort((a, b) => a.idx - b.idx)
    .map((s) => s.frag);
}

/** GSM8K-style sources answer after "####" instead of in \boxed{} (REF: data source name contains "gsm8k"). */
export function isGsm8kSource(dataSource: string): boolean {
  return dataSource.toLowerCase().includes('gsm8k');
}

export const HINT_HEADER = 'Hint taken from an earlier successful attempt at this same problem:';
export const HINT_SKELETON_LABEL = '- Outline of that reasoning:';
export const HINT_CLOSING_BOXED = 'Treat the hint as guidance only: work through the problem carefully yourself and put the final answer within \\boxed{}.';
export const HINT_CLOSING_GSM8K = 'Treat the hint as guidance only: work through the problem carefully yourself and give the final answer after "####".';

/**
 * Step 5: the hint user message: the trimmed question, a blank line, the header, the numbered skeleton (only
 * if there are snippets), and the closing line. Lines are joined with "\n".
 */
export function buildHintPrompt(question: string, snippets: readonly string[], dataSource: string): string {
  const lines = [question.trim(), '', HINT_HEADER];
  if (snippets.length > 0) {
    lines.push(HINT_SKELETON_LABEL);
    snippets.forEach((s, i) => lines.push(`  ${i + 1}. ${s}`));
  }
  lines.push(isGsm8kSource(dataSource) ? HINT_CLOSING_GSM8K : HINT_CLOSING_BOXED);
  return lines.join('\n');
}

/**
 * Choose the source row for a hint: uniformly among the rows with reward > 0 (REF: any buffered row of the
 * same prompt with a positive score). Returns the chosen position in `rewards`, or −1 when no row
 * succeeded (the prompt then gets plain rollouts only). Use a PRNG keyed per prompt, e.g.
 * `new Prng({ seed, step, purpose: 'hint' }).fork(String(promptIndex))`, so the choice does not depend on
 * the order in which prompts are processed.
 */
export function chooseHintSource(rewards: ArrayLike<number>, prng: Prng): number {
  const pool: number[] = [];
  for (let i = 0; i < rewards.length; i++) if (rewards[i] > 0) pool.push(i);
  if (pool.length === 0) return -1;
  return pool[prng.nextInt(pool.length)];
}
