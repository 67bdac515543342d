/**
 * Knapsack RL rollout budget allocation (methods §10). p = estimated SUCCESS probability of a prompt.
 *
 * Value of N rollouts:      V(N, p) = (1 − p^N − (1−p)^N) · p(1−p)²
 *   (probability the group is mixed × the code's information weight p(1−p)²; cost = N).
 * Marginal gain N → N+1:    ΔV(N, p) = [p^N(1−p) + (1−p)^N p] · p(1−p)²   (decreasing in N: V is concave)
 *
 * Allocation of exactly W rollouts over the step's prompts:
 *  1. invalid prompts (< 8 observed rollouts) get n; valid p = 0 get N_neg = 2; valid p = 1 get N_pos = 2;
 *     valid 0 < p < 1 ("effective") get N_min = 2. If this already exceeds W: error.
 *  2. fallback: with cost_q = ln(1 − 0.9)/ln(max(p, 1−p)) (rollouts for a 90 % chance of a mixed group), if
 *     S = Σ_eff min(N_max, cost_q) is below the remaining budget R, the surplus ⌊R − S⌋ is split evenly
 *     (⌊surplus/m⌋ each) over the valid p = 0 prompts, or if there are none over the other non-effective
 *     prompts (valid p = 1, invalid). REF quirk NOT reproduced: invalid prompts carry p = 0 in REF's array
 *     and so also share the p = 0 surplus.
 *  3. the rest goes one rollout at a time to the effective prompt with the largest marginal gain (max-heap;
 *     ties: lower position), never beyond N_max = 128. Greedy is optimal for a separable concave objective
 *     (REF solves the same problem by DP; its "no extra rollout scores 0" quirk is not reproduced).
 *  4. any remainder (every effective prompt at N_max, or none effective) is spread evenly over the effective
 *     prompts (over all prompts if none is effective): ⌊R/m⌋ each, the first R mod m positions one more.
 * The result always sums to W (asserted).
 */

export interface KnapsackOptions {
  /** total rollouts W (= B·n) */
  budget: number;
  /** default group size n, given to invalid prompts */
  n: number;
  nMin?: number;
  nNeg?: number;
  nPos?: number;
  nMax?: number;
  /** target probability of a mixed group for the fallback cost (0.9) */
  fallbackTarget?: number;
}

/** V(N, p) = (1 − p^N − (1−p)^N)·p(1−p)². */
export function knapsackValue(N: number, p: number): number {
  return (1 - p ** N - (1 - p) ** N) * p * (1 - p) ** 2;
}

/** ΔV(N, p) = V(N+1, p) − V(N, p) = [p^N(1−p) + (1−p)^N p]·p(1−p)². */
export function knapsackMarginalGain(N: number, p: number): number {
  const q = 1 - p;
  return (p ** N * q + q ** N * p) * p * q * q;
}

/**
 * Success estimate and validity from a prompt's reward history (oldest group first, rewards mapped to 0/1):
 * p = success fraction of the most recent group if it has ≥ 16 rollouts, else the mean of the latest 16
 * binary rewards across the history; valid once ≥ 8 rollouts were observed.
 */
export function knapsackEstimate(history: readonly ArrayLike<number>[], opts: { window?: number; minValid?: number } = {}): { p: number; valid: boolean; observed: number } {
  const window = opts.window ?? 16;
  const minValid = opts.minValid ?? 8;
  let observed = 0;
  for (const g of history) observed += g.length;
  if (observed === 0) return { p: 0, valid: false, observed };
  const last = history[history.length - 1];
  let hits = 0;
  let taken = 0;
  if (last.length >= window) {
    for (let i = 0; i < last.length; i++) if (last[i] > 0) hits++;
    taken = last.length;
  } else {
    for (let g = history.length - 1; g >= 0 && taken < window; g--) {
      const grp = history[g];
      for (let i = grp.length - 1; i >= 0 && taken < window; i--) {
        if (grp[i] > 0) hits++;
        taken++;
      }
    }
  }
  return { p: hits / taken, valid: observed >= minValid, observed };
}

/** Max-heap of effective positions by marginal gain (ties: lower position first). */
class GainHeap {
  private readonly pos: number[] = [];
  constructor(private readonly gain: Float64Array) {}
  get size(): number {
    return this.pos.length;
  }
  private above(a: number, b: number): boolean {
    const ga = this.gain[a];
    const gb = this.gain[b];
    return ga > gb || (ga === gb && a < b);
  }
  push(i: number): void {
    const h = this.pos;
    h.push(i);
    let c = h.length - 1;
    while (c > 0) {
      const p = (c - 1) >> 1;
      if (!this.above(h[c], h[p])) break;
      [h[c], h[p]] = [h[p], h[c]];
      c = p;
    }
  }
  pop(): number {
    const h = this.pos;
    const top = h[0];
    const last = h.pop()!;
    if (h.length > 0) {
      h[0] = last;
      let p = 0;
      for (;;) {
        const l = 2 * p + 1;
        if (l >= h.length) break;
        let m = l;
        if (l + 1 < h.length && this.above(h[l + 1], h[l])) m = l + 1;
        if (!this.above(h[m], h[p])) break;
        [h[m], h[p]] = [h[p], h[m]];
        p = m;
      }
    }
    return top;
  }
}

export interface KnapsackAllocation {
  /** rollouts per prompt (same order as the input); sums to the budget */
  rollouts: Uint32Array;
  /** rollouts given by the fallback surplus (step 2), by the greedy (step 3), by the remainder spread (step 4) */
  fallback: number;
  greedy: number;
  remainder: number;
}

/**
 * Allocate exactly `budget` rollouts.
 * @param p     success estimate per prompt, in [0, 1]
 * @param valid 1 = enough history to trust p
 */
export function knapsackAllocate(p: Float64Array, valid: Uint8Array, opts: KnapsackOptions): KnapsackAllocation {
  const W = opts.budget;
  const n = opts.n;
  const nMin = opts.nMin ?? 2;
  const nNeg = opts.nNeg ?? 2;
  const nPos = opts.nPos ?? 2;
  const nMax = opts.nMax ?? 128;
  const target = opts.fallbackTarget ?? 0.9;
  const m = p.length;
  if (valid.length !== m) throw new RangeError(`knapsackAllocate: ${m} estimates, ${valid.length} validity flags`);
  for (const [name, v] of [['budget', W], ['n', n], ['nMin', nMin], ['nNeg', nNeg], ['nPos', nPos], ['nMax', nMax]] as const) {
    if (!Number.isInteger(v) || v < 0) throw new RangeError(`knapsackAllocate: ${name} must be an integer ≥ 0, got ${v}`);
  }
  if (!(target > 0 && target < 1)) throw new RangeError(`knapsackAllocate: fallbackTarget must be in (0, 1), got ${target}`);
  if (m === 0) {
    if (W !== 0) throw new RangeError(`knapsackAllocate: budget ${W} but no prompts`);
    return { rollouts: new Uint32Array(0), fallback: 0, greedy: 0, remainder: 0 };
  }

  // 1. minimums
  const N = new Uint32Array(m);
  const effective: number[] = [];
  const zeros: number[] = [];
  const others: number[] = [];
  let used = 0;
  for (let i = 0; i < m; i++) {
    const pi = p[i];
    if (!(pi >= 0 && pi <= 1)) throw new RangeError(`knapsackAllocate: prompt ${i} has success estimate ${pi}`);
    if (!valid[i]) {
      N[i] = n;
      others.push(i);
    } else if (pi === 0) {
      N[i] = nNeg;
      zeros.push(i);
    } else if (pi === 1) {
      N[i] = nPos;
      others.push(i);
    } else {
      N[i] = nMin;
      effective.push(i);
    }
    used += N[i];
  }
  let R = W - used;
  if (R < 0) throw new RangeError(`knapsackAllocate: the minimum allocation needs ${used} rollouts, budget is ${W}`);

  // 2. fallback surplus to the non-effective prompts
  let fallback = 0;
  let need = 0;
  const lnMiss = Math.log(1 - target);
  for (const i of effective) need += Math.min(nMax, lnMiss / Math.log(Math.max(p[i], 1 - p[i])));
  if (need < R) {
    const receivers = zeros.length > 0 ? zeros : others;
    if (receivers.length > 0) {
      const each = Math.floor(Math.floor(R - need) / receivers.length);
      for (const i of receivers) N[i] += each;
      fallback = each * receivers.length;
      R -= fallback;
    }
  }

  // 3. greedy by marginal gain over effective prompts, capped at nMax
  let greedy = 0;
  const gain = new Float64Array(m);
  const heap = new GainHeap(gain);
  for (const i of effective) {
    if (N[i] < nMax) {
      gain[i] = knapsackMarginalGain(N[i], p[i]);
      heap.push(i);
    }
  }
  while (R > 0 && heap.size > 0) {
    const i = heap.pop();
    N[i]++;
    R--;
    greedy++;
    if (N[i] < nMax) {
      gain[i] = knapsackMarginalGain(N[i], p[i]);
      heap.push(i);
    }
  }

  // 4. remainder spread evenly
  const remainder = R;
  if (R > 0) {
    const spread = effective.length > 0 ? effective : Array.from({ length: m }, (_, i) => i);
    const each = Math.floor(R / spread.length);
    const extra = R % spread.length;
    spread.forEach((i, t) => {
      N[i] += each + (t < extra ? 1 : 0);
    });
    R = 0;
  }

  let total = 0;
  for (let i = 0; i < m; i++) total += N[i];
  if (total !== W) throw new Error(`knapsackAllocate: internal error, allocated ${total} of ${W}`);
  return { rollouts: N, fallback, greedy, remainder };
}
