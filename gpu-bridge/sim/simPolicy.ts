/**
 * The sim policy: a latent-skill model with exact probabilities, its log-likelihoods and their gradients.
 *
 * Parameters (Float64Array w of length C + 2): w[0] = θ0 (shared skill), w[1 + c] = θ_c (skill in
 * category c), w[C + 1] = φ (verbosity). Constants: slope s, wrong-answer length offset δ.
 *
 * A response to prompt q (latent difficulty b_q, category c) at temperature τ:
 *   correctness  C ~ Bernoulli(p),  p = σ(z),  z = s·(θ0 + θ_c − b_q) / τ
 *   length       each token ends the response with probability κ_C = σ(−η_C), η_C = φ + δ·[C = 0],
 *                so the uncapped length R ~ Geometric(κ) on {1, 2, ...} with mean 1/κ = 1 + exp(η_C);
 *                capped at T = maxTokens: R ≤ T → finish "eos", length R; R > T → finish "length"
 *                (truncated), length T.
 * Temperature divides the correctness logit only (a stand-in for sharpening the answer distribution).
 *
 * Log-likelihood of a row (C, L, finish), the behaviour log-prob when computed at generation time:
 *   log P(C)       = log σ(z) if C = 1, log σ(−z) = log(1 − p) if C = 0
 *   log P(L | C)   = log κ + (L − 1)·log(1 − κ)          (eos at L)
 *                  = T·log(1 − κ)                          (truncated at T = L)
 *   with log κ = −softplus(η), log(1 − κ) = −softplus(−η).
 * Gradients (derived, not chosen):
 *   ∂ log P(C)/∂z = C − p,   ∂z/∂θ0 = ∂z/∂θ_c = s/τ
 *   ∂ log P(L|C)/∂η: d(−softplus(η))/dη = −σ(η) = −(1 − κ), d(−softplus(−η))/dη = σ(−η) = κ, so
 *       eos:        −(1 − κ) + (L − 1)·κ = L·κ − 1      (zero in expectation when the mean is 1/κ)
 *       truncated:  T·κ
 *   ∂η/∂φ = 1.
 *
 * Per-row entropy (nats), reported by `update` and the `entropy` job:
 *   e = H(p) + p·H(κ1) + (1 − p)·H(κ0),  H(x) = −x log x − (1 − x) log(1 − x)
 * = the entropy of the correctness decision plus the expected per-token entropy of the stop decision (the
 * sim's analogue of a per-token full-distribution entropy; max at p = ½ like an unsure model).
 *   ∂e/∂z = p(1 − p)·(−z + H(κ1) − H(κ0))     [dH(p)/dp = log((1−p)/p) = −z, dp/dz = p(1 − p)]
 *   ∂e/∂φ = p·H'(κ1) + (1 − p)·H'(κ0),  H'(κ_C) := dH(κ_C)/dη_C = −η_C·κ_C(1 − κ_C)
 *                                               [dH/dκ = log((1−κ)/κ) = η, dκ/dη = −κ(1 − κ)]
 */

export interface SimConstants {
  /** Number of categories C. */
  numCategories: number;
  /** Slope s of the correctness logit. */
  slope: number;
  /** Length offset δ of wrong answers (η = φ + δ when wrong). */
  wrongLengthDelta: number;
}

/** log σ(x), stable for large |x|. */
export function logSigmoid(x: number): number {
  return x >= 0 ? -Math.log1p(Math.exp(-x)) : x - Math.log1p(Math.exp(x));
}

/** σ(x), stable. */
export function sigmoid(x: number): number {
  if (x >= 0) return 1 / (1 + Math.exp(-x));
  const e = Math.exp(x);
  return e / (1 + e);
}

/** Binary entropy in nats; 0 at 0 and 1. */
export function binaryEntropy(x: number): number {
  let h = 0;
  if (x > 0) h -= x * Math.log(x);
  if (x < 1) h -= (1 - x) * Math.log1p(-x);
  return h;
}

/** The correctness logit z for a prompt of latent difficulty b in category c. */
export function correctnessLogit(w: Float64Array, k: SimConstants, b: number, c: number, temperature: number): number {
  return (k.slope * (w[0] + w[1 + c] - b)) / temperature;
}

/** η_C = φ + δ·[C = 0]. */
export function lengthLogit(w: Float64Array, k: SimConstants, correct: boolean): number {
  return w[k.numCategories + 1] + (correct ? 0 : k.wrongLengthDelta);
}

/** log P(C) for the given logit. */
export function logProbCorrectness(z: number, correct: boolean): number {
  return correct ? logSigmoid(z) : logSigmoid(-z);
}

/** log P(L, finish | η) of the capped geometric length (see header). */
export function logProbLength(eta: number, length: number, truncated: boolean): number {
  const logStopNot = logSigmoid(eta); // log(1 − κ) = log σ(η)
  if (truncated) return length * logStopNot;
  return logSigmoid(-eta) + (length - 1) * logStopNot; // log κ = log σ(−η)
}

/** ∂ log P(L, finish)/∂η. */
export function dLogProbLengthDEta(eta: number, length: number, truncated: boolean): number {
  const kappa = sigmoid(-eta);
  return truncated ? length * kappa : length * kappa - 1;
}

/**
 * Sample (correct, length, truncated) by inversion from two uniforms in (0, 1): u1 for correctness
 * (correct iff u1 < p), u2 for the length (R = 1 + ⌊log u2 / log(1 − κ)⌋, so P(R > r) = (1 − κ)^r).
 */
export function sampleResponse(z: number, etaCorrect: number, etaWrong: number, maxTokens: number, u1: number, u2: number): {
  correct: boolean;
  length: number;
  truncated: boolean;
} {
  const correct = u1 < sigmoid(z);
  const logNotStop = logSigmoid(correct ? etaCorrect : etaWrong);
  // log u2 < 0 and logNotStop < 0; a ratio beyond maxTokens (or ∞ when logNotStop underflows) truncates.
  const ratio = Math.log(u2) / logNotStop;
  const raw = ratio >= maxTokens ? maxTokens + 1 : 1 + Math.floor(ratio);
  return raw > maxTokens ? { correct, length: maxTokens, truncated: true } : { correct, length: raw, truncated: false };
}

/** Expected capped length E[min(R, T)] = (1 − (1 − κ)^T)/κ, tokens. */
export function expectedCappedLength(eta: number, maxTokens: number): number {
  const kappa = sigmoid(-eta);
  return -Math.expm1(maxTokens * logSigmoid(eta)) / kappa;
}

/** Row entropy e (see header), nats. */
export function rowEntropy(z: number, eta1: number, eta0: number): number {
  const p = sigmoid(z);
  return binaryEntropy(p) + p * binaryEntropy(sigmoid(-eta1)) + (1 - p) * binaryEntropy(sigmoid(-eta0));
}

/** dH(κ)/dη for κ = σ(−η). */
function dStopEntropyDEta(eta: number): number {
  const k = sigmoid(-eta);
  return -eta * k * (1 - k);
}

/** A row of an update batch, already decoded. */
export interface SimRow {
  /** Prompt index q. */
  prompt: number;
  correct: boolean;
  /** Response length, tokens. */
  length: number;
  truncated: boolean;
  /** Behaviour log-prob of the whole response, nats. */
  oldLogprob: number;
  advantage: number;
  /** Absolute ratio bounds. */
  clipLo: number;
  clipHi: number;
  weight: number;
  /** DARO bucket, −1 = none. */
  bin: number;
}

export type Aggregation = 'token-mean' | 'seq-mean-token-mean' | 'seq-mean-token-sum-norm' | 'weighted-token-sum';

export interface LossOptions {
  aggregation: Aggregation;
  /** Dr. GRPO constant, tokens (required for seq-mean-token-sum-norm). */
  lConst?: number;
  maskTruncated?: boolean;
  entropyCoeff: number;
  klCoeff: number;
  temperature: number;
}

export interface LossResult {
  loss: number;
  /** ∂loss/∂w, same layout as w. */
  grad: Float64Array;
  /** Token-weighted fraction of rows whose clipped branch is active (zero gradient). */
  clipFrac: number;
  /** Token-mean k3 estimate with x = log μ − log π (behaviour vs current). */
  kl: number;
  /** Token-mean row entropy, nats. */
  entropy: number;
  /** Tokens in the loss (after maskTruncated). */
  tokens: number;
  /** Per DARO bin (≥ 0): unweighted token-mean surrogate. */
  binLosses: Record<string, number>;
}

/** Log-ratio clamp before exp, as verl does (±20). */
const LOG_RATIO_CLAMP = 20;

/**
 * The update objective and its gradient. Every response of length L counts as L tokens that all carry the
 * row's sequence-level ratio ρ = exp(log π(y) − log μ(y)) (the sim has no per-token factorisation), so:
 *   ℓ_i = max(−A_i ρ_i, −A_i clip(ρ_i, lo_i, hi_i))                     (per token of row i)
 *   token-mean               L = Σ_i w_i L_i ℓ_i / Σ_i L_i
 *   seq-mean-token-mean      L = Σ_i w_i ℓ_i / N
 *   seq-mean-token-sum-norm  L = Σ_i w_i L_i ℓ_i / (N · lConst)
 *   weighted-token-sum       L = Σ_i w_i L_i ℓ_i
 *   total = L − entropyCoeff · Σ L_i e_i / Σ L_i + klCoeff · Σ L_i k3_i / Σ L_i,
 *   k3_i = e^{x} − x − 1 with x = log π_ref(y_i) − log π(y_i) (reference = `ref` parameters).
 * ∂ℓ_i/∂ log π = −A_i ρ_i when the unclipped branch is active, 0 when the clipped branch is (A > 0 and
 * ρ > hi, or A < 0 and ρ < lo); ∂k3/∂ log π = −(e^{x} − 1). Rows masked by maskTruncated are excluded
 * everywhere (numerators, N and Σ L).
 */
export function lossAndGrad(
  w: Float64Array,
  ref: Float64Array,
  k: SimConstants,
  difficulty: Float64Array,
  category: Uint16Array,
  rows: SimRow[],
  opts: LossOptions,
): LossResult {
  const C = k.numCategories;
  const grad = new Float64Array(w.length);
  const tau = opts.temperature;
  const dzdTheta = k.slope / tau;

  let nSeq = 0;
  let nTok = 0;
  for (const r of rows) {
    if (opts.maskTruncated && r.truncated) continue;
    nSeq++;
    nTok += r.length;
  }
  if (opts.aggregation === 'seq-mean-token-sum-norm' && !(opts.lConst !== undefined && opts.lConst > 0)) {
    throw new Error('lConst must be a positive number of tokens for seq-mean-token-sum-norm');
  }

  let loss = 0;
  let clipTok = 0;
  let klTok = 0;
  let entTok = 0;
  const binNum = new Map<number, number>();
  const binDen = new Map<number, number>();
  const eta1 = lengthLogit(w, k, true);
  const eta0 = lengthLogit(w, k, false);

  for (const r of rows) {
    if (opts.maskTruncated && r.truncated) continue;
    const q = r.prompt;
    const c = category[q];
    const z = correctnessLogit(w, k, difficulty[q], c, tau);
    const eta = r.correct ? eta1 : eta0;
    const logPi = logProbCorrectness(z, r.correct) + logProbLength(eta, r.length, r.truncated);

    // d log π / d(z, η)
    const p = sigmoid(z);
    const dLdz = (r.correct ? 1 : 0) - p;
    const dLdEta = dLogProbLengthDEta(eta, r.length, r.truncated);

    // surrogate
    const logRatio = Math.max(-LOG_RATIO_CLAMP, Math.min(LOG_RATIO_CLAMP, logPi - r.oldLogprob));
    const rho = Math.exp(logRatio);
    const A = r.advantage;
    const clipped = (A > 0 && rho > r.clipHi) || (A < 0 && rho < r.clipLo);
    const rhoClip = Math.min(r.clipHi, Math.max(r.clipLo, rho));
    const ell = Math.max(-A * rho, -A * rhoClip);
    const gEll = clipped ? 0 : -A * rho; // ∂ℓ/∂ log π

    let kappa: number; // loss coefficient of ℓ_i
    switch (opts.aggregation) {
      case 'token-mean':
        kappa = nTok > 0 ? (r.weight * r.length) / nTok : 0;
        break;
      case 'seq-mean-token-mean':
        kappa = r.weight / nSeq;
        break;
      case 'seq-mean-token-sum-norm':
        kappa = (r.weight * r.length) / (nSeq * opts.lConst!);
        break;
      case 'weighted-token-sum':
        kappa = r.weight * r.length;
        break;
      default:
        throw new Error(`aggregation must be token-mean|seq-mean-token-mean|seq-mean-token-sum-norm|weighted-token-sum, got ${String(opts.aggregation)}`);
    }
    loss += kappa * ell;
    const tokShare = nTok > 0 ? r.length / nTok : 0;

    // KL to the reference policy (k3)
    let gKl = 0;
    if (opts.klCoeff !== 0) {
      const zr = correctnessLogit(ref, k, difficulty[q], c, tau);
      const etar = lengthLogit(ref, k, r.correct);
      const x = logProbCorrectness(zr, r.correct) + logProbLength(etar, r.length, r.truncated) - logPi;
      const ex = Math.exp(Math.min(x, LOG_RATIO_CLAMP));
      loss += opts.klCoeff * tokShare * (ex - x - 1);
      gKl = -opts.klCoeff * tokShare * (ex - 1);
    }

    // chain rule through log π: θ0, θ_c via z; φ via η
    const gLogPi = kappa * gEll + gKl;
    const gz = gLogPi * dLdz;
    grad[0] += gz * dzdTheta;
    grad[1 + c] += gz * dzdTheta;
    grad[C + 1] += gLogPi * dLdEta;

    // entropy bonus: −entropyCoeff · token-mean e
    const e = rowEntropy(z, eta1, eta0);
    entTok += r.length * e;
    if (opts.entropyCoeff !== 0) {
      const h1 = binaryEntropy(sigmoid(-eta1));
      const h0 = binaryEntropy(sigmoid(-eta0));
      const dedz = p * (1 - p) * (-z + h1 - h0);
      const dedphi = p * dStopEntropyDEta(eta1) + (1 - p) * dStopEntropyDEta(eta0);
      const coef = -opts.entropyCoeff * tokShare;
      loss += coef * e;
      grad[0] += coef * dedz * dzdTheta;
      grad[1 + c] += coef * dedz * dzdTheta;
      grad[C + 1] += coef * dedphi;
    }

    // diagnostics
    if (clipped) clipTok += r.length;
    const xb = r.oldLogprob - logPi; // behaviour vs current
    klTok += r.length * (Math.exp(Math.min(xb, LOG_RATIO_CLAMP)) - xb - 1);
    if (r.bin >= 0) {
      binNum.set(r.bin, (binNum.get(r.bin) ?? 0) + r.length * ell);
      binDen.set(r.bin, (binDen.get(r.bin) ?? 0) + r.length);
    }
  }

  const binLosses: Record<string, number> = {};
  for (const [b, num] of [...binNum].sort((x, y) => x[0] - y[0])) binLosses[String(b)] = num / binDen.get(b)!;
  return {
    loss,
    grad,
    clipFrac: nTok > 0 ? clipTok / nTok : 0,
    kl: nTok > 0 ? klTok / nTok : 0,
    entropy: nTok > 0 ? entTok / nTok : 0,
    tokens: nTok,
    binLosses,
  };
}
