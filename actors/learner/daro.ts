/**
 * DARO — learnable per-pass-rate-bucket loss weights (spec methods.md §2; loss form ⚠ secondary sources).
 *
 * Buckets μ = k/K for k = 1..K−1 (μ = 0 and μ = 1 carry no advantage and are excluded); a row's bucket is
 * identified by `bin = k` (the worker's `bin` field; −1 = none). Objective per bucket present in a batch:
 * `J = w_μ·L_μ − ln w_μ`, so the optimal weight is `w*_μ = 1/L_μ` (every bucket's weighted loss → 1).
 *
 * Parametrisation and guards (ours ⚠, from the spec's engineering note): `w_μ = exp(s_μ)`, clamped to
 * [0.05, 20] (we clamp s_μ to [ln 0.05, ln 20] so it cannot drift beyond the clamp); the loss fed to the
 * w-step is `L̃ = max(|L_μ|, 1e-4)` (detached, as reported by the worker). Gradient for s by the chain
 * rule: ∂J/∂s = w·∂J/∂w = w·(L̃ − 1/w) = w·L̃ − 1. Adam (β = 0.9/0.999, eps 1e-8, lr 1e-3, optional
 * decoupled weight decay, default 0) on s, with one step counter PER BUCKET because buckets absent from a
 * batch skip their update (bias correction then counts only that bucket's own steps).
 *
 * Learner/worker split: the learner sends per-row weight `w_μ / T_μ` (T_μ = tokens of bucket μ in the
 * mini-batch) with aggregation "weighted-token-sum"; the worker reports the detached token-mean surrogate
 * per bucket (`binLosses`); the learner applies the step → w lags one update (⚠ approximation).
 * State is plain arrays (serialisable as JSON).
 */

export interface DaroConfig {
  /** rollouts per prompt the buckets are defined on (K, default 8) */
  K: number;
  /** Adam learning rate for s (default 1e-3) */
  lr: number;
  beta1: number;
  beta2: number;
  /** Adam epsilon */
  eps: number;
  /** decoupled (AdamW) weight decay on s (default 0; pulls w toward 1) */
  weightDecay: number;
  wMin: number;
  wMax: number;
  /** floor on |L_μ| for the w-step */
  lossFloor: number;
}

export const DARO_DEFAULTS: DaroConfig = {
  K: 8,
  lr: 1e-3,
  beta1: 0.9,
  beta2: 0.999,
  eps: 1e-8,
  weightDecay: 0,
  wMin: 0.05,
  wMax: 20,
  lossFloor: 1e-4,
};

/** Serialisable DARO state; entry j belongs to bucket k = j + 1 (μ = k/K). */
export interface DaroState {
  K: number;
  /** log-weights s_μ */
  s: number[];
  /** Adam first moments */
  m: number[];
  /** Adam second moments */
  v: number[];
  /** Adam step count per bucket */
  t: number[];
}

export function initDaro(K: number = DARO_DEFAULTS.K): DaroState {
  if (!(Number.isInteger(K) && K >= 2)) throw new RangeError(`daro.K must be an integer ≥ 2, got ${K}`);
  const z = () => new Array<number>(K - 1).fill(0);
  return { K, s: z(), m: z(), v: z(), t: z() };
}

function checkState(st: DaroState): void {
  const n = st.K - 1;
  if (!(Number.isInteger(st.K) && st.K >= 2)) throw new RangeError(`daro state: K must be an integer ≥ 2, got ${st.K}`);
  for (const f of ['s', 'm', 'v', 't'] as const) {
    if (!Array.isArray(st[f]) || st[f].length !== n) throw new RangeError(`daro state: ${f} must have K−1 = ${n} entries`);
  }
}

/** w = clamp(exp(s), wMin, wMax), exactly wMin / wMax at the clamped ends (exp(ln 20) is 19.999999999999996). */
function weightOf(s: number, cfg: Pick<DaroConfig, 'wMin' | 'wMax'>): number {
  if (s >= Math.log(cfg.wMax)) return cfg.wMax;
  if (s <= Math.log(cfg.wMin)) return cfg.wMin;
  return Math.min(cfg.wMax, Math.max(cfg.wMin, Math.exp(s)));
}

/** Current bucket weights w_μ = clamp(exp(s_μ), wMin, wMax); index j ↔ bucket k = j + 1. */
export function daroWeights(st: DaroState, cfg: Pick<DaroConfig, 'wMin' | 'wMax'> = DARO_DEFAULTS): Float64Array {
  checkState(st);
  const w = new Float64Array(st.K - 1);
  for (let j = 0; j < w.length; j++) w[j] = weightOf(st.s[j], cfg);
  return w;
}

/**
 * Bucket of a group with `correct` successes out of `groupSize` rollouts: k with μ = k/K, or −1 when the
 * group is all-wrong or all-correct. A group of a size other than K (variable budgets) goes to the nearest
 * bucket `round(μ·K)` clamped to 1..K−1 (⚠ our choice; DARO assumes fixed K).
 */
export function daroBin(correct: number, groupSize: number, K: number): number {
  if (!(Number.isInteger(groupSize) && groupSize >= 1)) throw new RangeError(`daro bin: groupSize must be an integer ≥ 1, got ${groupSize}`);
  if (!(Number.isInteger(correct) && correct >= 0 && correct <= groupSize)) {
    throw new RangeError(`daro bin: correct must be an integer in [0, ${groupSize}], got ${correct}`);
  }
  if (correct === 0 || correct === groupSize) return -1;
  if (groupSize === K) return correct;
  return Math.min(K - 1, Math.max(1, Math.round((correct / groupSize) * K)));
}

/**
 * Per-row loss weights `w_μ / T_μ` for one mini-batch (aggregation "weighted-token-sum").
 * @param bin per-row bucket k (1..K−1) or −1 (weight 0: μ ∈ {0,1} rows carry no DARO term)
 * @param tokens per-row response tokens counted by the loss
 */
export function daroRowWeights(st: DaroState, bin: Int32Array, tokens: Uint32Array, cfg: Pick<DaroConfig, 'wMin' | 'wMax'> = DARO_DEFAULTS): Float64Array {
  if (tokens.length !== bin.length) throw new RangeError(`daro row weights: tokens has ${tokens.length} rows, bin has ${bin.length}`);
  const w = daroWeights(st, cfg);
  const T = new Float64Array(st.K); // T[k] = tokens of bucket k
  for (let i = 0; i < bin.length; i++) {
    const k = bin[i];
    if (k === -1) continue;
    if (!(k >= 1 && k <= st.K - 1)) throw new RangeError(`daro row weights: bin[${i}] = ${k} outside 1..${st.K - 1} (or −1)`);
    T[k] += tokens[i];
  }
  const out = new Float64Array(bin.length);
  for (let i = 0; i < bin.length; i++) {
    const k = bin[i];
    if (k === -1 || T[k] === 0) continue;
    out[i] = w[k - 1] / T[k];
  }
  return out;
}

/**
 * One w-step from the per-bucket losses the worker reported (`{ "<bin>": L_μ }`); buckets absent from the
 * report are left untouched. Pure: returns a new state.
 */
export function daroStep(st: DaroState, binLosses: Readonly<Record<string, number>>, cfg: DaroConfig = DARO_DEFAULTS): DaroState {
  checkState(st);
  const next: DaroState = { K: st.K, s: st.s.slice(), m: st.m.slice(), v: st.v.slice(), t: st.t.slice() };
  const sMin = Math.log(cfg.wMin);
  const sMax = Math.log(cfg.wMax);
  for (const [key, L] of Object.entries(binLosses)) {
    const k = Number(key);
    if (!(Number.isInteger(k) && k >= 1 && k <= st.K - 1)) {
      // μ = 0 / 1 buckets (or "−1") carry no DARO term; anything else is a protocol error.
      if (k === -1 || k === 0 || k === st.K) continue;
      throw new RangeError(`daro step: binLosses key "${key}" is not a bucket 1..${st.K - 1}`);
    }
    if (!Number.isFinite(L)) throw new RangeError(`daro step: binLosses["${key}"] is not finite (${L})`);
    const j = k - 1;
    const Lt = Math.max(Math.abs(L), cfg.lossFloor);
    const w = weightOf(next.s[j], cfg);
    const g = w * Lt - 1; // ∂J/∂s = w·(L̃ − 1/w)
    const t = next.t[j] + 1;
    const m = cfg.beta1 * next.m[j] + (1 - cfg.beta1) * g;
    const v = cfg.beta2 * next.v[j] + (1 - cfg.beta2) * g * g;
    const mHat = m / (1 - cfg.beta1 ** t);
    const vHat = v / (1 - cfg.beta2 ** t);
    let s = next.s[j] - cfg.lr * cfg.weightDecay * next.s[j];
    s -= (cfg.lr * mHat) / (Math.sqrt(vHat) + cfg.eps);
    next.s[j] = Math.min(sMax, Math.max(sMin, s));
    next.m[j] = m;
    next.v[j] = v;
    next.t[j] = t;
  }
  return next;
}
