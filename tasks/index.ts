/**
 * Prompt sources and verifiers behind one entry point.
 *
 * `verifierFor` routes by `dataSource` the way the reference reward manager does: the arithmetic task has its
 * own exact-integer verifier; every other source (deepscaler's `deepscaler_10240` included) is graded by the
 * math verifier of spec §12.
 */
import { ARITHMETIC_CHAT_DATA_SOURCE, ARITHMETIC_DATA_SOURCE, generateArithmetic } from './arithmetic.ts';
import { loadJsonlPrompts } from './jsonl.ts';
import { loadVerlParquet, type AnswerConflict, type DuplicateReport } from './parquet.ts';
import type { PromptRow, Verifier } from './promptRow.ts';
import { verifyArithmetic, verifyArithmeticChat } from './verifiers/arithmetic.ts';
import { verifyMath } from './verifiers/math.ts';

export type { PromptRow, Verifier, VerifierResult } from './promptRow.ts';
export { arithmeticLevels, ARITHMETIC_ALPHABET, ARITHMETIC_END_MARKER, generateArithmetic, type ArithmeticStyle } from './arithmetic.ts';
export { findDuplicates, loadVerlParquet } from './parquet.ts';
export type { AnswerConflict, DuplicateReport, PromptFile } from './parquet.ts';
export { loadJsonlPrompts, parseJsonlPrompts } from './jsonl.ts';
export { verifyArithmetic, verifyArithmeticChat } from './verifiers/arithmetic.ts';
export { extractBoxed, verifyMath } from './verifiers/math.ts';

export type PromptSourceSpec =
  | { kind: 'parquet'; path: string }
  | { kind: 'jsonl'; path: string; dataSource?: string }
  | { kind: 'arithmetic'; seed: number; count: number; levels?: number[] };

export interface PromptSource {
  rows: PromptRow[];
  /** Parquet only: repeated question texts (reported, not merged). */
  duplicates?: DuplicateReport;
  /** Parquet only: repeated questions whose answers differ. */
  conflicts?: AnswerConflict[];
}

export async function loadPromptSource(spec: PromptSourceSpec): Promise<PromptSource> {
  switch (spec.kind) {
    case 'parquet': {
      const f = await loadVerlParquet(spec.path);
      return { rows: f.rows, duplicates: f.duplicates, conflicts: f.conflicts };
    }
    case 'jsonl':
      return { rows: await loadJsonlPrompts(spec.path, spec.dataSource !== undefined ? { dataSource: spec.dataSource } : {}) };
    case 'arithmetic':
      return { rows: generateArithmetic(spec.levels !== undefined ? { seed: spec.seed, count: spec.count, levels: spec.levels } : spec) };
    default: {
      const never: never = spec;
      throw new Error(`loadPromptSource: unknown kind ${JSON.stringify((never as { kind?: unknown }).kind)}`);
    }
  }
}

const arithmeticVerifier: Verifier = (response, answer) => verifyArithmetic(response, answer);
const arithmeticChatVerifier: Verifier = (response, answer) => verifyArithmeticChat(response, answer);
const mathVerifier: Verifier = (response, answer) => verifyMath(response, answer);

/** The verifier for rows of `dataSource`. */
export function verifierFor(dataSource: string): Verifier {
  if (dataSource === ARITHMETIC_DATA_SOURCE) return arithmeticVerifier;
  return dataSource === ARITHMETIC_CHAT_DATA_SOURCE ? arithmeticChatVerifier : mathVerifier;
}
