/**
 * The prompt record: what every prompt source yields (tasks/) and what the prompts database of a run's log
 * holds (docs/log-format.md), so the workers' side reads it without depending on the task sources.
 */
export interface PromptRow {
  /** Stable identifier, unique within one dataset (e.g. `deepscaler_10240:17`, `arith:7:42`). */
  id: string;
  /** Position of the row in its source (0-based); for verl Parquet it is `extra_info.index`. */
  index: number;
  /** The user message shown to the policy. */
  question: string;
  /** Ground-truth answer, as the verifier of `dataSource` expects it. */
  answer: string;
  /** Routes the row to its verifier (see `verifierFor`). */
  dataSource: string;
  /** Coarse group used by SEC's bandit (arithmetic: `add-2d`, `mix3-1d`…; deepscaler: `math`). */
  category: string;
  /** Optional system message sent before the question. */
  system?: string;
  /** Extra per-row facts (arithmetic: `level`, `digits`, `terms`; Parquet: `split`). */
  meta?: Record<string, string | number>;
}

