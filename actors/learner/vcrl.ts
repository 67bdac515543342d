/**
 * VCRL — variance-based curriculum (methods §8; formulas ⚠ from secondary sources, memory bank ⚠ ours).
 *
 * Score of a group with k successes out of n: unbiased variance σ² = k(n−k)/(n(n−1)), maximum
 * σ²_max = n/(4(n−1)) (n even) or (n+1)/(4n) (n odd), normalised p = σ²/σ²_max ∈ [0, 1]:
 *   n even: p = 4k(n−k)/n² = 4â(1−â);   n odd: p = 4k(n−k)/(n²−1).
 * Groups with p ≥ κ are kept; κ = 0.3 for the first 20 steps, then 0.8.
 *
 * Memory bank (our concrete choice for what the paper leaves open): entries (prompt, priority π, replays);
 * on every observation of a banked prompt π ← m·π + (1−m)·p (momentum m = 0.9); kept groups (p ≥ κ) of
 * prompts not yet banked enter with π = p; capacity 4·B, over capacity evict first entries that used up
 * their replays, then the lowest priority (ties: larger prompt id first). Slots freed by filtered groups
 * are refilled from the highest-priority entries with replays < 2 (ties: smaller prompt id), whose replay
 * count increments; the caller re-rolls those prompts with the current policy and re-applies the κ filter.
 */

import { checkScored } from './groupAccumulator.ts';
import type { ScoredGroups } from './groupAccumulator.ts';

/** Normalised group variance p ∈ [0, 1]; groups of size < 2 have no variance: 0. */
export function normalisedVariance(k: number, n: number): number {
  if (!Number.isInteger(k) || !Number.isInteger(n) || k < 0 || k > n) {
    throw new RangeError(`normalisedVariance: need integers 0 ≤ k ≤ n, got k=${k}, n=${n}`);
  }
  if (n < 2) return 0;
  return n % 2 === 0 ? (4 * k * (n - k)) / (n * n) : (4 * k * (n - k)) / (n * n - 1);
}

/** κ schedule: `early` for steps < switchStep (0-based), then `late`. */
export function vcrlKappa(step: number, opts: { early?: number; late?: number; switchStep?: number } = {}): number {
  const early = opts.early ?? 0.3;
  const late = opts.late ?? 0.8;
  const switchStep = opts.switchStep ?? 20;
  return step < switchStep ? early : late;
}

/** p per group and keep[i] = 1 iff p ≥ κ (1e-12 tolerance). */
export function vcrlFilter(batch: ScoredGroups, kappa: number): { p: Float64Array; keep: Uint8Array } {
  checkScored(batch, 'vcrlFilter');
  const m = batch.group.length;
  const p = new Float64Array(m);
  const keep = new Uint8Array(m);
  for (let i = 0; i < m; i++) {
    p[i] = normalisedVariance(batch.successes[i], batch.sizes[i]);
    keep[i] = p[i] >= kappa - 1e-12 ? 1 : 0;
  }
  return { p, keep };
}

export interface MemoryBank {
  capacity: number;
  prompt: Uint32Array;
  priority: Float64Array;
  replays: Uint8Array;
}

export interface MemoryBankOptions {
  /** momentum m of the priority update (⚠ 0.9) */
  momentum?: number;
  /** replays allowed per entry (⚠ 2) */
  maxReplays?: number;
}

export function createMemoryBank(batchSize: number, capacityFactor = 4): MemoryBank {
  const capacity = batchSize * capacityFactor;
  if (!Number.isInteger(capacity) || capacity < 0) throw new RangeError(`createMemoryBank: bad capacity ${capacity}`);
  return { capacity, prompt: new Uint32Array(0), priority: new Float64Array(0), replays: new Uint8Array(0) };
}

/**
 * Observe a step's scored groups: update banked priorities with momentum, insert kept new prompts, evict
 * down to capacity. Returns a new bank.
 * @param prompt prompt id per group; p its normalised variance; keep the κ filter's verdict
 */
export function observeMemoryBank(
  bank: MemoryBank,
  prompt: Uint32Array,
  p: Float64Array,
  keep: Uint8Array,
  opts: MemoryBankOptions = {},
): MemoryBank {
  const mom = opts.momentum ?? 0.9;
  const maxReplays = opts.maxReplays ?? 2;
  if (p.length !== prompt.length || keep.length !== prompt.length) {
    throw new RangeError(`observeMemoryBank: ${prompt.length} prompts, ${p.length} scores, ${keep.length} flags`);
  }
  const ids = Array.from(bank.prompt);
  const pri = Array.from(bank.priority);
  const rep = Array.from(bank.replays);
  const slot = new Map<number, number>();
  ids.forEach((q, j) => slot.set(q, j));
  for (let i = 0; i < prompt.length; i++) {
    const q = prompt[i];
    const j = slot.get(q);
    if (j !== undefined) pri[j] = mom * pri[j] + (1 - mom) * p[i];
    else if (keep[i]) {
      slot.set(q, ids.length);
      ids.push(q);
      pri.push(p[i]);
      rep.push(0);
    }
  }
  let order = ids.map((_, j) => j);
  if (order.length > bank.capacity) {
    // rank to keep: live entries before exhausted ones, then higher priority, then smaller id
    order.sort((a, b) => {
      const ea = rep[a] >= maxReplays ? 1 : 0;
      const eb = rep[b] >= maxReplays ? 1 : 0;
      return ea - eb || pri[b] - pri[a] || ids[a] - ids[b];
    });
    order = order.slice(0, bank.capacity).sort((a, b) => a - b); // keep insertion order
  }
  return {
    capacity: bank.capacity,
    prompt: Uint32Array.from(order, (j) => ids[j]),
    priority: Float64Array.from(order, (j) => pri[j]),
    replays: Uint8Array.from(order, (j) => rep[j]),
  };
}

/**
 * Take up to `count` prompts to re-roll in place of filtered groups: highest priority first among entries
 * with replays < maxReplays (ties: smaller prompt id), skipping `exclude` (prompts already in the batch).
 * Their replay counts increment. Returns the prompts and the new bank.
 */
export function refillFromMemoryBank(
  bank: MemoryBank,
  count: number,
  exclude: ReadonlySet<number> = new Set(),
  opts: MemoryBankOptions = {},
): { prompts: Uint32Array; bank: MemoryBank } {
  const maxReplays = opts.maxReplays ?? 2;
  if (!Number.isInteger(count) || count < 0) throw new RangeError(`refillFromMemoryBank: count must be an integer ≥ 0, got ${count}`);
  const cand: number[] = [];
  for (let j = 0; j < bank.prompt.length; j++) {
    if (bank.replays[j] < maxReplays && !exclude.has(bank.prompt[j])) cand.push(j);
  }
  cand.sort((a, b) => bank.priority[b] - bank.priority[a] || bank.prompt[a] - bank.prompt[b]);
  const take = cand.slice(0, count);
  const replays = bank.replays.slice();
  for (const j of take) replays[j]++;
  return {
    prompts: Uint32Array.from(take, (j) => bank.prompt[j]),
    bank: { ...bank, prompt: bank.prompt.slice(), priority: bank.priority.slice(), replays },
  };
}
