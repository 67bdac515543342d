/**
 * Per-row PPO clip bounds (absolute ratio bounds lo ≤ r ≤ hi, e.g. 0.8 / 1.28) and the loss aggregation
 * modes the worker implements (docs/worker-protocol.md `update`; methods.md §1).
 *
 * - reference (DARE REF, spec §7.3): ONE global pair for every row: lo = lowerBound ?? 1 − ε,
 *   hi = upperBound ?? 1 + ε, with 0 < lo ≤ hi required. No tier-dependent clip in REF ⚠.
 * - paper (README "relaxed upper clip for easy prompts"): lo = 1 − ε for all rows; hi = 1 + ε⁺ for rows of
 *   easy-tier prompts, 1 + ε otherwise. ⚠ The README gives no value for ε⁺; the default 0.28 borrows
 *   DAPO's clip-higher. Easy = tier from the predicted difficulty (d < d_easy).
 * - dapo (clip-higher): lo = 1 − ε_low, hi = 1 + ε_high for all rows, defaults 0.2 / 0.28.
 */
import { TIER_EASY } from '../shared/tiers.ts';

/** How the worker reduces per-token losses (methods.md §1): */
export type AggregationMode =
  /** Σ_{i,t} ℓ / Σ_i |o_i| over the (mini-)batch (DAPO, verl default, DARE REF) */
  | 'token-mean'
  /** (1/N_seq) Σ_i (1/|o_i|) Σ_t ℓ (original GRPO) */
  | 'seq-mean-token-mean'
  /** (1/N_seq) Σ_i Σ_t ℓ / L_const (Dr. GRPO; the update carries lConst) */
  | 'seq-mean-token-sum-norm'
  /** Σ_i weight_i Σ_t ℓ (DARO: weight = w_μ / T_μ) */
  | 'weighted-token-sum';

export const AGGREGATION_MODES: readonly AggregationMode[] = [
  'token-mean',
  'seq-mean-token-mean',
  'seq-mean-token-sum-norm',
  'weighted-token-sum',
];

export type ClipConfig =
  | {
      mode: 'reference';
      /** clip ratio ε (REF actor.clip_ratio, default 0.2) */
      eps?: number;
      /** absolute lower bound (REF clip_ratio_lower_bound); null/undefined ⇒ 1 − ε */
      lowerBound?: number | null;
      /** absolute upper bound (REF clip_ratio_upper_bound); null/undefined ⇒ 1 + ε */
      upperBound?: number | null;
    }
  | {
      mode: 'paper';
      /** ε for every row's lower bound and for non-easy rows' upper bound (default 0.2) */
      eps?: number;
      /** relaxed upper ε⁺ for easy-tier rows (default 0.28 ⚠) */
      epsHighEasy?: number;
    }
  | {
      mode: 'dapo';
      /** ε_low (default 0.2) */
      epsLow?: number;
      /** ε_high (default 0.28) */
      epsHigh?: number;
    };

export interface ClipPair {
  lo: number;
  hi: number;
}

function checkPair(lo: number, hi: number, what: string): ClipPair {
  if (!(Number.isFinite(lo) && Number.isFinite(hi) && lo > 0 && lo <= hi)) {
    throw new RangeError(`clip bounds (${what}): need 0 < lo ≤ hi, got lo=${lo}, hi=${hi}`);
  }
  return { lo, hi };
}

/** The single global (lo, hi) pair of reference mode. */
export function referenceClipPair(cfg: { eps?: number; lowerBound?: number | null; upperBound?: number | null }): ClipPair {
  const eps = cfg.eps ?? 0.2;
  const lo = cfg.lowerBound ?? 1 - eps;
  const hi = cfg.upperBound ?? 1 + eps;
  return checkPair(lo, hi, 'reference');
}

export interface RowClipBounds {
  lo: Float64Array;
  hi: Float64Array;
}

/**
 * Clip bounds for each of `rows` rows.
 * @param tier per-row tier of the row's prompt (needed in paper mode only)
 */
export function clipBounds(cfg: ClipConfig, rows: number, tier?: Uint8Array): RowClipBounds {
  if (!(Number.isInteger(rows) && rows >= 0)) throw new RangeError(`clip bounds: rows must be an integer ≥ 0, got ${rows}`);
  const lo = new Float64Array(rows);
  const hi = new Float64Array(rows);
  switch (cfg.mode) {
    case 'reference': {
      const p = referenceClipPair(cfg);
      lo.fill(p.lo);
      hi.fill(p.hi);
      break;
    }
    case 'dapo': {
      const p = checkPair(1 - (cfg.epsLow ?? 0.2), 1 + (cfg.epsHigh ?? 0.28), 'dapo');
      lo.fill(p.lo);
      hi.fill(p.hi);
      break;
    }
    case 'paper': {
      if (!tier || tier.length !== rows) throw new RangeError(`clip bounds (paper): tier must have ${rows} rows`);
      const eps = cfg.eps ?? 0.2;
      const base = checkPair(1 - eps, 1 + eps, 'paper');
      const easy = checkPair(1 - eps, 1 + (cfg.epsHighEasy ?? 0.28), 'paper, easy rows');
      for (let i = 0; i < rows; i++) {
        lo[i] = base.lo;
        hi[i] = tier[i] === TIER_EASY ? easy.hi : base.hi;
      }
      break;
    }
    default:
      throw new RangeError(`clip bounds: unknown mode ${String((cfg as { mode: unknown }).mode)}`);
  }
  return { lo, hi };
}
