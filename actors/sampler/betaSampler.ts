/**
 * DARE's Beta sampling logits (dare-reference §6 step 1, `sample_dist_type = beta`).
 *
 * REF works on the success label a = 1 − d:
 *   A = peak·κ + 1,  B = (1 − peak)·κ + 1,  x = clamp(a, 1e-8, 1 − 1e-8),
 *   z = (A − 1)·ln x + (B − 1)·ln(1 − x)            (un-normalised Beta(A, B) log-density)
 * With peak 0.5: A = B = 1 + κ/2 and p ∝ (a(1 − a))^{κ/2} — symmetric in d ↔ 1 − d. peak ≠ 0.5 gives an
 * asymmetric Beta whose mode is `peakSuccess` in SUCCESS space (REF's `beta_peak`).
 * Logits are natural-log weights (selection probability ∝ e^z); computed in float64 in log space, so
 * no weight underflows before the sampler compares them.
 *
 * Edge cases (d = 0 ⇔ a = 1, d = 1 ⇔ a = 0). Two modes:
 * - 'ref' (default): REF's float32 behaviour. There, 1 − 1e-8 rounds to 1, so
 *     a ≥ 1 (d ≤ 0): x = 1, ln(1 − x) = −∞  ⇒  z = −∞, the prompt can never be drawn (weight 0);
 *     a ≤ 1e-8 (d ≥ 1 − 1e-8): x = 1e-8 and ln(1 − x) rounds to 0  ⇒  z = (A − 1)·ln 1e-8 exactly
 *     (−921.03 for κ = 100: finite, so the prompt CAN be drawn — e.g. by the Gumbel sampler when fewer
 *     than `budget` prompts have other finite weights, or at small κ).
 *   Between the edges we compute in float64 (REF's float32 rounding is not reproduced).
 * - 'symmetric' (⚠ ours): x = clamp(a, 1e-8, 1 − 1e-8) in float64, so both ends are finite and mirror
 *   images of each other when peak = 0.5 (d = 0 and d = 1 both get (κ/2)·(ln 1e-8 + ln(1 − 1e-8))).
 * A zero coefficient (κ = 0, or peak ∈ {0, 1}) drops its term instead of evaluating 0·(−∞): κ = 0 gives
 * z = 0 for every label, i.e. uniform sampling (REF would produce NaN at a = 1 and crash the draw).
 */

export type BetaEdgeMode = 'ref' | 'symmetric';

export interface BetaLogitOptions {
  /** concentration κ ≥ 0 (README recommends 100, REF default 20) */
  kappa: number;
  /** mode of the Beta in SUCCESS space (REF `beta_peak`), in [0, 1]; default 0.5 */
  peakSuccess?: number;
  /** edge handling at d = 0 / d = 1, see the file comment; default 'ref' */
  edge?: BetaEdgeMode;
}

const EPS = 1e-8;
const LN_EPS = Math.log(EPS);

/**
 * Beta log-weights for every prompt.
 * @param difficulty failure rate per prompt (values outside [0, 1] are clamped like REF; NaN is an error)
 * @param out        optional output array (may be a fresh one of the same length)
 * @returns natural-log weights z_q (−∞ = never drawn)
 */
export function betaLogWeights(difficulty: Float64Array, opts: BetaLogitOptions, out?: Float64Array): Float64Array {
  const { kappa } = opts;
  const peak = opts.peakSuccess ?? 0.5;
  const edge = opts.edge ?? 'ref';
  if (!(kappa >= 0) || !Number.isFinite(kappa)) throw new RangeError(`betaLogWeights: kappa must be finite and ≥ 0, got ${kappa}`);
  if (!(peak >= 0 && peak <= 1)) throw new RangeError(`betaLogWeights: peakSuccess must be in [0, 1], got ${peak}`);
  if (edge !== 'ref' && edge !== 'symmetric') throw new RangeError(`betaLogWeights: unknown edge mode ${String(edge)}`);
  const n = difficulty.length;
  const z = out ?? new Float64Array(n);
  if (z.length !== n) throw new RangeError(`betaLogWeights: out has length ${z.length}, expected ${n}`);
  const a1 = peak * kappa; // A − 1
  const b1 = (1 - peak) * kappa; // B − 1
  const lowEdge = a1 !== 0 ? a1 * LN_EPS : 0; // REF value at a ≤ 1e-8
  for (let q = 0; q < n; q++) {
    const d = difficulty[q];
    if (d !== d) throw new RangeError(`betaLogWeights: prompt ${q} has NaN difficulty`);
    let x = 1 - d; // success
    if (edge === 'ref') {
      if (x <= EPS) {
        z[q] = lowEdge;
        continue;
      }
      if (x >= 1) {
        z[q] = b1 !== 0 ? -Infinity : 0;
        continue;
      }
    } else {
      if (x < EPS) x = EPS;
      else if (x > 1 - EPS) x = 1 - EPS;
    }
    let v = 0;
    if (a1 !== 0) v += a1 * Math.log(x);
    if (b1 !== 0) v += b1 * Math.log1p(-x);
    z[q] = v;
  }
  return z;
}
