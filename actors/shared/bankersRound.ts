/**
 * Python's `round(x)` for one float argument: round to the nearest integer, ties to the EVEN neighbour
 * ("banker's rounding"). The DARE reference computes rollout budgets (`2·round(n·d)`) and the hint
 * channel size (`round(n·mix)`) with it; JavaScript's Math.round rounds ties up (0.5 → 1, 2.5 → 3),
 * which would change budgets exactly at the tie points (n = 8: d = 0.0625, 0.1875, 0.3125, …).
 *
 * Works on the exact binary value of `x`, as Python does: only an `x` whose fractional part is exactly
 * 0.5 in binary is a tie (`8 * 0.0625 = 0.5` is; `5 * (1 - 0.7) = 1.5000000000000002` is not).
 */
export function roundHalfEven(x: number): number {
  if (!Number.isFinite(x)) throw new RangeError(`roundHalfEven: argument must be finite, got ${x}`);
  const f = Math.floor(x);
  // x − floor(x) is exact in binary floating point for every finite x (no rounding error), so the
  // comparisons with 0.5 below decide exactly like Python's correctly-rounded `round`.
  const diff = x - f;
  if (diff < 0.5) return f === 0 ? 0 : f; // normalise −0 to 0
  if (diff > 0.5) return f + 1;
  // exact tie: pick the even neighbour
  return f % 2 === 0 ? f : f + 1;
}
