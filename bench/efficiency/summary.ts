/**
 * The arithmetic of the learning-efficiency study: where an accuracy-vs-rollouts curve crosses a target,
 * the accuracy a curve has at a rollout budget, and the median and spread of a figure across seeds.
 * Pure functions, so the unit test can check them against hand-computed values.
 */

/** One point of a learning curve: rollouts generated so far (count) and the accuracy then (fraction). */
export interface CurvePoint {
  rollouts: number;
  accuracy: number;
}

function checkCurve(curve: readonly CurvePoint[], what: string): void {
  for (let i = 1; i < curve.length; i++) {
    if (!(curve[i].rollouts >= curve[i - 1].rollouts)) {
      throw new Error(`${what}: rollouts must not decrease along the curve (point ${i}: ${curve[i].rollouts} after ${curve[i - 1].rollouts})`);
    }
  }
}

/**
 * Rollouts at which the curve first reaches `target` (fraction), interpolated linearly between the last
 * point below and the first point at or above it; null when the curve never gets there. A curve that starts
 * at or above the target needs the rollouts of its first point.
 */
export function rolloutsToTarget(curve: readonly CurvePoint[], target: number): number | null {
  checkCurve(curve, 'rolloutsToTarget');
  for (let i = 0; i < curve.length; i++) {
    const p = curve[i];
    if (p.accuracy >= target) {
      if (i === 0) return p.rollouts;
      const a = curve[i - 1];
      const f = (target - a.accuracy) / (p.accuracy - a.accuracy);
      return a.rollouts + f * (p.rollouts - a.rollouts);
    }
  }
  return null;
}

/**
 * Accuracy of the curve at `budget` rollouts (linear between the points around it). A budget beyond the
 * last point gives null (the run did not spend it); one before the first point gives the first accuracy.
 */
export function accuracyAtBudget(curve: readonly CurvePoint[], budget: number): number | null {
  checkCurve(curve, 'accuracyAtBudget');
  if (curve.length === 0) return null;
  if (budget <= curve[0].rollouts) return curve[0].accuracy;
  for (let i = 1; i < curve.length; i++) {
    const b = curve[i];
    if (b.rollouts >= budget) {
      const a = curve[i - 1];
      if (b.rollouts === a.rollouts) return b.accuracy;
      return a.accuracy + ((budget - a.rollouts) / (b.rollouts - a.rollouts)) * (b.accuracy - a.accuracy);
    }
  }
  return null;
}

/** Quantile q ∈ [0, 1] of the values, linear between order statistics (numpy's default rule). */
export function quantile(values: readonly number[], q: number): number {
  if (values.length === 0) return NaN;
  const s = [...values].sort((a, b) => a - b);
  const h = (s.length - 1) * q;
  const lo = Math.floor(h);
  const hi = Math.ceil(h);
  return s[lo] + (h - lo) * (s[hi] - s[lo]);
}

export function median(values: readonly number[]): number {
  return quantile(values, 0.5);
}

/**
 * Median, min and max across seeds of a figure that may be missing (null: the seed never reached the
 * target). `reached` counts the seeds with a value. With any seed missing, the median is taken over all
 * seeds with the missing ones ranked above every value (they needed more than the run had), so it is null
 * once half or more are missing.
 */
export interface Spread {
  median: number | null;
  min: number | null;
  max: number | null;
  reached: number;
  seeds: number;
}

export function spread(values: ReadonlyArray<number | null>): Spread {
  const got = values.filter((v): v is number => v !== null && Number.isFinite(v)).sort((a, b) => a - b);
  const n = values.length;
  if (got.length === 0) return { median: null, min: null, max: null, reached: 0, seeds: n };
  let med: number | null;
  if (got.length === n) med = median(got);
  else {
    // missing values rank above all others: the median exists only if it falls among the present ones
    const h = (n - 1) * 0.5;
    const lo = Math.floor(h);
    const hi = Math.ceil(h);
    med = hi < got.length ? got[lo] + (h - lo) * (got[hi] - got[lo]) : null;
  }
  return { median: med, min: got[0], max: n === got.length ? got[got.length - 1] : null, reached: got.length, seeds: n };
}

/**
 * The mean curve of several seeds on a common rollout grid (each seed interpolated with accuracyAtBudget;
 * grid points beyond a seed's last point are left out of that point's median), as the median across seeds.
 */
export function medianCurve(curves: ReadonlyArray<readonly CurvePoint[]>, grid: readonly number[]): CurvePoint[] {
  const out: CurvePoint[] = [];
  for (const x of grid) {
    const ys = curves.map((c) => accuracyAtBudget(c, x)).filter((v): v is number => v !== null);
    if (ys.length * 2 > curves.length) out.push({ rollouts: x, accuracy: median(ys) });
  }
  return out;
}
