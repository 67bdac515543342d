/**
 * The prompt record every prompt source yields (Parquet, JSONL, arithmetic generator).
 *
 * Sources differ in where the text comes from but the selectors, the rollout workers and the verifiers only
 * ever see this shape, so adding a source never touches them.
 */
export type { PromptRow } from '../events/promptRow.ts';

/** Outcome of verifying one response; `reward` is what training uses. */
export interface VerifierResult {
  reward: 0 | 1;
}

/** A verifier scores one response against one ground-truth answer. Pure and synchronous. */
export type Verifier = (response: string, answer: string) => VerifierResult;
