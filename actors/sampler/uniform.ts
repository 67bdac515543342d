/**
 * Uniform sampling logits: every prompt has log-weight 0 (the GRPO baseline, dare-reference §5 `''`:
 * REF takes a random permutation's first `budget` prompts, which is the same distribution as drawing
 * `budget` prompts without replacement with equal weights).
 */
export function uniformLogWeights(numPrompts: number): Float64Array {
  return new Float64Array(numPrompts);
}
