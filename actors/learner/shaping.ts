/**
 * Length-based reward shaping (spec dare-reference.md §7.2).
 *
 * - Easy ramp penalty on CORRECT rows: `r̃ = r − λ_easy · w_e · 1[r>0] · L/L_max`,
 *   `w_e = clip((a_g − τ_e) / max(1 − τ_e, 1e-8), 0, 1)`.
 * - Hard ramp bonus on WRONG rows: `r̃ = r + λ_hard · w_h · 1[r≤0] · L/L_max` (bounded by λ_hard),
 *   `w_h = clip((τ_h − a_g) / max(τ_h, 1e-8), 0, 1)`.
 * `a_g` is the realized SUCCESS fraction of the row's group at generation time (REF `original_accuracy`;
 * replayed rows keep the stored value), `L` the response length in tokens including EOS, `L_max` the
 * response cap in tokens. The thresholds τ are SUCCESS rates internally (REF keys), but are configured as
 * FAILURE rates like everything else in this project:
 *   README `EASY_THRESHOLD` = d_easy (0.3)         → τ_e = 1 − d_easy = 0.7
 *   README `HARD_LENGTH_THRESHOLD` = d_hard (0.8)   → τ_h = 1 − d_hard ≈ 0.2
 *   README `EASY_LENGTH_PENALTY_COEFF` = λ_easy (1e-4), `HARD_LENGTH_BONUS_COEFF` = λ_hard (1e-4).
 * ⚠ REF's own defaults are success 0.9 / 0.2 and coefficients 0 (off); we follow the README values, in
 * failure space. For bit parity with REF success thresholds, build ShapingParams directly.
 *
 * Paper-mode variant (flag `mode: "paper"`): the ramps are replaced by the prompt's tier from the predicted
 * difficulty — every correct row of an easy-tier prompt is penalised with weight 1, every wrong row of a
 * hard-tier prompt gets the bonus with weight 1 (README's description).
 *
 * `groups: "mixed"` shapes only the rows of groups with both right and wrong rows. In a group whose rows all
 * have the same reward the shaping term is the only difference between rows, and the group normalisation
 * (std ~1e-5, eps 1e-6) turns it into a full-scale advantage for length alone (docs/efficiency/findings.md F6).
 */
import { TIER_EASY, TIER_HARD } from '../shared/tiers.ts';

export type ShapingMode = 'reference' | 'paper';

/** Configuration in failure space (what users and scenarios write). */
export interface ShapingConfig {
  mode: ShapingMode;
  /** failure-rate threshold of the easy ramp (README EASY_THRESHOLD) */
  dEasy: number;
  /** failure-rate threshold of the hard ramp (README HARD_LENGTH_THRESHOLD) */
  dHard: number;
  /** easy length-penalty coefficient λ_easy, reward units per full-length response; 0 = off */
  lambdaEasy: number;
  /** hard length-bonus coefficient λ_hard, reward units per full-length response; 0 = off */
  lambdaHard: number;
  /** which groups are shaped: all (REF), or only the mixed ones (some rows right, some wrong); default all */
  groups?: ShapingGroups;
}

export type ShapingGroups = 'all' | 'mixed';

export const SHAPING_DEFAULTS: ShapingConfig = { mode: 'reference', dEasy: 0.3, dHard: 0.8, lambdaEasy: 1e-4, lambdaHard: 1e-4, groups: 'all' };

/** Internal parameters, thresholds in SUCCESS space. */
export interface ShapingParams {
  mode: ShapingMode;
  /** easy-ramp threshold τ_e, success rate */
  tauEasy: number;
  /** hard-ramp threshold τ_h, success rate */
  tauHard: number;
  lambdaEasy: number;
  lambdaHard: number;
  mixedOnly: boolean;
}

export function shapingParams(cfg: ShapingConfig): ShapingParams {
  for (const k of ['dEasy', 'dHard'] as const) {
    if (!(cfg[k] >= 0 && cfg[k] <= 1)) throw new RangeError(`shaping.${k} must be a failure rate in [0,1], got ${cfg[k]}`);
  }
  for (const k of ['lambdaEasy', 'lambdaHard'] as const) {
    if (!(cfg[k] >= 0 && Number.isFinite(cfg[k]))) throw new RangeError(`shaping.${k} must be finite and ≥ 0, got ${cfg[k]}`);
  }
  if (cfg.mode !== 'reference' && cfg.mode !== 'paper') throw new RangeError(`shaping.mode must be "reference" or "paper", got ${String(cfg.mode)}`);
  const groups = cfg.groups ?? 'all';
  if (groups !== 'all' && groups !== 'mixed') throw new RangeError(`shaping.groups must be "all" or "mixed", got ${String(groups)}`);
  return { mode: cfg.mode, tauEasy: 1 - cfg.dEasy, tauHard: 1 - cfg.dHard, lambdaEasy: cfg.lambdaEasy, lambdaHard: cfg.lambdaHard, mixedOnly: groups === 'mixed' };
}

/** Easy ramp weight in [0,1] for a group with realized success a_g and success threshold τ_e. */
export function easyRamp(aGroup: number, tauEasy: number): number {
  return Math.min(1, Math.max(0, (aGroup - tauEasy) / Math.max(1 - tauEasy, 1e-8)));
}

/** Hard ramp weight in [0,1] for a group with realized success a_g and success threshold τ_h. */
export function hardRamp(aGroup: number, tauHard: number): number {
  return Math.min(1, Math.max(0, (tauHard - aGroup) / Math.max(tauHard, 1e-8)));
}

export interface ShapingRows {
  /** raw verifier reward per row (0/1 for math) */
  reward: Float64Array;
  /** response length per row, tokens including EOS, 0 ≤ L ≤ L_max */
  length: Uint32Array | Float64Array;
  /** realized success fraction of the row's group at generation time, in [0,1] (reference mode) */
  groupSuccess: Float64Array;
  /** tier of the row's prompt from the predicted difficulty (paper mode) */
  tier?: Uint8Array;
  /** 1 where the row's group has both right and wrong rows (needed with mixedOnly) */
  mixed?: Uint8Array;
}

export interface ShapedRewards {
  /** shaped reward per row: raw − penalty + bonus */
  shaped: Float64Array;
  /** length penalty subtracted per row (≥ 0) */
  penalty: Float64Array;
  /** length bonus added per row (≥ 0) */
  bonus: Float64Array;
}

/**
 * Apply the easy penalty and the hard bonus to every row (fresh and replayed alike).
 * @param lMax response cap in tokens (REF: the padded response width), ≥ 1
 */
export function shapeRewards(rows: ShapingRows, p: ShapingParams, lMax: number): ShapedRewards {
  const n = rows.reward.length;
  if (rows.length.length !== n) throw new RangeError(`shaping: length has ${rows.length.length} rows, reward has ${n}`);
  if (!(Number.isFinite(lMax) && lMax >= 1)) throw new RangeError(`shaping: lMax must be ≥ 1 token, got ${lMax}`);
  const paper = p.mode === 'paper';
  if (paper) {
    if (!rows.tier || rows.tier.length !== n) throw new RangeError(`shaping (paper mode): tier must have ${n} rows`);
  } else if (rows.groupSuccess.length !== n) {
    throw new RangeError(`shaping: groupSuccess has ${rows.groupSuccess.length} rows, reward has ${n}`);
  }
  if (p.mixedOnly && (!rows.mixed || rows.mixed.length !== n)) throw new RangeError(`shaping (mixed groups only): mixed must have ${n} rows`);
  const shaped = new Float64Array(n);
  const penalty = new Float64Array(n);
  const bonus = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const r = rows.reward[i];
    const L = rows.length[i];
    if (!Number.isFinite(r)) throw new RangeError(`shaping: reward[${i}] is not finite (${r})`);
    if (!(L >= 0 && L <= lMax)) throw new RangeError(`shaping: length[${i}] = ${L} outside [0, lMax=${lMax}]`);
    const norm = L / lMax;
    let pen = 0;
    let bon = 0;
    if (paper) {
      const t = rows.tier![i];
      if (r > 0 && t === TIER_EASY) pen = p.lambdaEasy * norm;
      if (r <= 0 && t === TIER_HARD) bon = p.lambdaHard * norm;
    } else {
      const a = rows.groupSuccess[i];
      if (!(a >= 0 && a <= 1)) throw new RangeError(`shaping: groupSuccess[${i}] = ${a} outside [0,1]`);
      if (r > 0 && p.lambdaEasy > 0) pen = p.lambdaEasy * easyRamp(a, p.tauEasy) * norm;
      if (r <= 0 && p.lambdaHard > 0) bon = p.lambdaHard * hardRamp(a, p.tauHard) * norm;
    }
    if (p.mixedOnly && !rows.mixed![i]) {
      pen = 0;
      bon = 0;
    }
    penalty[i] = pen;
    bonus[i] = bon;
    shaped[i] = r - pen + bon;
  }
  return { shaped, penalty, bonus };
}
