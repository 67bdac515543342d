/** The sim as an LLM judge (the llm-judge preset): its answer to "how likely can this be solved". */

/** Half-width of the sim judge's uniform error on its own pass rate (success-rate units). */
export const JUDGE_NOISE = 0.15;

/**
 * The sim's reply to a judge instruction: success-rate estimate `pass + JUDGE_NOISE·(2u − 1)`, clipped to
 * [0, 1], with two decimals (`u` uniform in [0, 1)).
 */
export function judgeReply(pass: number, u: number): string {
  const est = Math.min(1, Math.max(0, pass + JUDGE_NOISE * (2 * u - 1)));
  return est.toFixed(2);
}
