/**
 * LLM-Judge baseline (methods §12, dare-reference §5 `LLM_predict`): the current policy is asked, once per
 * estimation round, for the probability (0–1) that a question can be solved; the reply is parsed here.
 *
 * Parse rule (REF): scan the text for numbers of the form `digits[.digits]` (regex \d+\.?\d*, no sign, no
 * leading dot, no exponent) and take the FIRST whose value lies in [0, 1]; if none, 0.5. That is a SUCCESS
 * estimate; the difficulty is its complement d = 1 − parsed.
 * Consequences kept on purpose (REF parity): "-0.3" reads as 0.3 (the sign is not part of the match),
 * ".7" reads as 7 (skipped), "70%" reads as 70 (skipped), "1." reads as 1.
 */

import { LabelSource } from '../shared/labels.ts';

const NUMBER_RE = /\d+\.?\d*/g;

export interface JudgeParse {
  /** parsed success probability in [0, 1] (0.5 when nothing parsed) */
  success: number;
  /** FAILURE rate 1 − success */
  difficulty: number;
  /** whether a number in [0, 1] was found */
  parsed: boolean;
}

export function parseJudge(text: string): JudgeParse {
  for (const m of text.matchAll(NUMBER_RE)) {
    const v = Number(m[0].endsWith('.') ? m[0].slice(0, -1) : m[0]);
    if (v >= 0 && v <= 1) return { success: v, difficulty: 1 - v, parsed: true };
  }
  return { success: 0.5, difficulty: 0.5, parsed: false };
}

/** Parse a whole round of replies (index = prompt id). */
export function judgeLabels(replies: readonly string[]): {
  difficulty: Float64Array;
  source: Uint8Array;
  /** replies that fell back to 0.5 */
  unparsed: number;
} {
  const difficulty = new Float64Array(replies.length);
  let unparsed = 0;
  replies.forEach((t, q) => {
    const p = parseJudge(t);
    difficulty[q] = p.difficulty;
    if (!p.parsed) unparsed++;
  });
  return { difficulty, source: new Uint8Array(replies.length).fill(LabelSource.Judge), unparsed };
}
