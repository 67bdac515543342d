/**
 * Draw k items without replacement with probability proportional to e^{z_i} (the successive-sampling
 * scheme of torch.multinomial(replacement=False), dare-reference §6 step 5) by the Gumbel-top-k trick:
 *   key_i = z_i + G_i,  G_i = −ln(−ln u_i),  u_i = floatAt(k0, k1, i)      (u_i uniform in (0, 1))
 * and the k largest keys, in decreasing order, are exactly a sequential draw in draw order.
 *
 * Each item's uniform is output i of the keyed counter-based stream (events/prng.ts), so 1M items need no
 * sequential generator state, and an item's draw does not depend on any other item.
 *
 * Items with z = −∞ have weight 0 and are never drawn by the weighted part. DEFINED shortfall rule
 * (REF/torch raises instead): if fewer than k items have a finite logit, all of them are taken (in key
 * order), then the remaining k − finite slots are filled uniformly at random without replacement from
 * the weight-0 items (ranked by the same u_i, which the weighted part never used); `filled` reports how
 * many. Note that any FINITE logit counts as non-zero weight, however small (e.g. Beta's −921 edge value).
 *
 * Speed (exact, not an approximation): a size-k min-heap of keys h; once it is full, an item can only
 * enter if z_i + G_i > h. Two bounds skip most items before their logarithms are taken:
 *   1. G_i < 36.8 for every 53-bit u_i < 1, so z_i + 37 < h ⇒ skip without hashing at all;
 *   2. u_i's top 12 bits give its 1/4096-wide bucket, and G is increasing in u, so
 *      z_i + G(bucket's upper edge) < h ⇒ skip after one 32-bit hash (the other half of u_i is not drawn).
 * The bucket bound relies on floatAt's layout (high 27 bits from output 2i, low 26 from 2i+1), which a
 * unit test pins against floatAt itself.
 */

import { floatAt, keyWords, u32At } from '../../events/prng.ts';
import type { PrngKey } from '../../events/prng.ts';

/** Upper bound on G = −ln(−ln u) for u ≤ 1 − 2^-53: −ln(−ln(1 − 2^-53)) ≈ 36.74. */
const GUMBEL_MAX = 37;

/**
 * BUCKET_BOUND[b] ≥ G(u) for every u in bucket b = ⌊u·4096⌋, i.e. G((b+1)/4096) plus a margin that covers
 * the rounding of the key computation; the last bucket (upper edge 1) uses GUMBEL_MAX.
 */
const BUCKET_BITS = 12;
const BUCKETS = 1 << BUCKET_BITS;
const BUCKET_BOUND = new Float64Array(BUCKETS);
for (let b = 0; b < BUCKETS - 1; b++) BUCKET_BOUND[b] = -Math.log(-Math.log((b + 1) / BUCKETS)) + 1e-9;
BUCKET_BOUND[BUCKETS - 1] = GUMBEL_MAX;

export interface GumbelTopKResult {
  /** selected item indices in draw order (weighted part first, then the uniform fill) */
  indices: Uint32Array;
  /** how many of them came from the uniform fill of weight-0 items */
  filled: number;
  /** items with finite logit (non-zero weight) */
  finite: number;
}

/** u_i in (0, 1): floatAt is in [0, 1); the single value 0 (probability 2^-53) is replaced by 2^-54. */
function uniformAt(k0: number, k1: number, i: number): number {
  const u = floatAt(k0, k1, i);
  return u === 0 ? 2 ** -54 : u;
}

/**
 * Min-heap of (key, index) of fixed capacity; ordering: smaller key first, and for equal keys the LARGER
 * index first (so the larger index is evicted first and ties resolve to the lower index deterministically).
 */
class MinHeap {
  readonly keys: Float64Array;
  readonly idx: Uint32Array;
  size = 0;
  constructor(capacity: number) {
    this.keys = new Float64Array(capacity);
    this.idx = new Uint32Array(capacity);
  }
  private less(a: number, b: number): boolean {
    const ka = this.keys[a];
    const kb = this.keys[b];
    return ka < kb || (ka === kb && this.idx[a] > this.idx[b]);
  }
  private swap(a: number, b: number): void {
    const k = this.keys[a];
    this.keys[a] = this.keys[b];
    this.keys[b] = k;
    const t = this.idx[a];
    this.idx[a] = this.idx[b];
    this.idx[b] = t;
  }
  /** true if (key, i) would rank above the current minimum */
  beats(key: number, i: number): boolean {
    const k0 = this.keys[0];
    return key > k0 || (key === k0 && i < this.idx[0]);
  }
  push(key: number, i: number): void {
    let c = this.size++;
    this.keys[c] = key;
    this.idx[c] = i;
    while (c > 0) {
      const p = (c - 1) >> 1;
      if (!this.less(c, p)) break;
      this.swap(c, p);
      c = p;
    }
  }
  replaceMin(key: number, i: number): void {
    this.keys[0] = key;
    this.idx[0] = i;
    let p = 0;
    const n = this.size;
    for (;;) {
      const l = 2 * p + 1;
      if (l >= n) break;
      let m = l;
      if (l + 1 < n && this.less(l + 1, l)) m = l + 1;
      if (!this.less(m, p)) break;
      this.swap(m, p);
      p = m;
    }
  }
  /** contents sorted by decreasing key (ties: lower index first) */
  sortedDescending(): Uint32Array {
    const order = Array.from({ length: this.size }, (_, j) => j);
    order.sort((a, b) => this.keys[b] - this.keys[a] || this.idx[a] - this.idx[b]);
    return Uint32Array.from(order, (j) => this.idx[j]);
  }
}

/**
 * Gumbel-top-k with explicit stream words (k0, k1) = keyWords(key).
 * @param logits natural-log weights; −∞ = weight 0; NaN and +∞ are errors
 * @param k      number of items to draw, 0 ≤ k ≤ logits.length
 */
export function gumbelTopKWords(logits: Float64Array, k: number, k0: number, k1: number): GumbelTopKResult {
  const n = logits.length;
  if (!Number.isInteger(k) || k < 0) throw new RangeError(`gumbelTopK: k must be a non-negative integer, got ${k}`);
  if (k > n) throw new RangeError(`gumbelTopK: cannot draw ${k} distinct items from ${n}`);
  let finite = 0;
  for (let i = 0; i < n; i++) {
    const z = logits[i];
    if (z !== z || z === Infinity) throw new RangeError(`gumbelTopK: item ${i} has logit ${z}`);
    if (z !== -Infinity) finite++;
  }
  if (k === 0) return { indices: new Uint32Array(0), filled: 0, finite };

  // Weighted part: top min(k, finite) Gumbel keys among finite logits.
  const kw = Math.min(k, finite);
  const heap = new MinHeap(kw);
  if (kw > 0) {
    for (let i = 0; i < n; i++) {
      const z = logits[i];
      if (z === -Infinity) continue;
      if (heap.size === kw) {
        const h = heap.keys[0];
        // The Gumbel an item needs to reach the current minimum, minus a relative slack for the rounding
        // of h − z and of z + G (matters only for huge logits).
        const gap = h - z - 1e-12 * (Math.abs(h) + Math.abs(z));
        // Cannot beat the current minimum even with the largest possible Gumbel: skip without drawing.
        if (gap > GUMBEL_MAX) continue;
        // Same bound per bucket of u: the high 27 bits of u_i come from stream output 2i (as in floatAt).
        const hi = u32At(k0, k1, 2 * i) >>> 5;
        if (BUCKET_BOUND[hi >>> (27 - BUCKET_BITS)] < gap) continue;
        let u = (hi * 67108864 + (u32At(k0, k1, 2 * i + 1) >>> 6)) * 2 ** -53;
        if (u === 0) u = 2 ** -54;
        const key = z - Math.log(-Math.log(u));
        if (heap.beats(key, i)) heap.replaceMin(key, i);
      } else {
        heap.push(z - Math.log(-Math.log(uniformAt(k0, k1, i))), i);
      }
    }
  }
  const weighted = heap.sortedDescending();
  if (kw === k) return { indices: weighted, filled: 0, finite };

  // Shortfall: fill uniformly from the weight-0 items, ranked by their own u_i (equal logits ⇒ rank by u).
  const need = k - kw;
  const fill = new MinHeap(need);
  for (let i = 0; i < n; i++) {
    if (logits[i] !== -Infinity) continue;
    const u = uniformAt(k0, k1, i);
    if (fill.size < need) fill.push(u, i);
    else if (fill.beats(u, i)) fill.replaceMin(u, i);
  }
  const filledIdx = fill.sortedDescending();
  const indices = new Uint32Array(k);
  indices.set(weighted, 0);
  indices.set(filledIdx, kw);
  return { indices, filled: need, finite };
}

/**
 * Draw k items without replacement ∝ e^{logits}, using the keyed stream `key` (logged with the decision).
 */
export function gumbelTopK(logits: Float64Array, k: number, key: PrngKey): GumbelTopKResult {
  const [k0, k1] = keyWords(key);
  return gumbelTopKWords(logits, k, k0, k1);
}
