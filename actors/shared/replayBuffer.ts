/**
 * Replay buffer of rollout groups — a pure fold over two facts: `added(group)` and `pruned(step)`.
 *
 * A group is all rows generated for one prompt in one step (REF `uid`), with what later decisions need:
 * per-row behaviour log-prob sums Σ_t log μ (nats; the SNIS estimator's input), raw verifier rewards,
 * response lengths (tokens incl. EOS), the realized success fraction of the group at generation time
 * (`a_g`, success space: REF `original_accuracy`), the step that generated it and the blob key of its
 * tokens / per-token log-probs.
 *
 * Two semantics (config `semantics`):
 * - `paper`: per-prompt FIFO of at most P groups and a global cap of C groups; eviction happens on
 *   `added`, oldest first (the prompt's own oldest when it exceeds P, else the globally oldest). `pruned`
 *   is a no-op.
 * - `reference` (spec dare-reference.md §1, DARE REF `select_buffer`): `added` only appends (so a re-rolled
 *   prompt has two groups until the next prune — SNIS at an epoch start pools both, as REF does);
 *   `pruned(step)` runs, in order: dedup (keep each prompt's NEWEST group; the re-rolled prompt thereby
 *   moves to the newest position), drop groups whose mean raw reward is exactly 0 or 1 unless
 *   `keepZeroOneGroups` (true in IS mode: SNIS needs them), then keep only the newest
 *   K = bufferSize − ⌊σ·B⌋ groups (K ≤ 0 empties the buffer). REF's contiguity quirk (the same prompt
 *   ending one step and starting the next merging into one "group") is not reproduced.
 * Every fact reports the groups it evicted, with a reason, so a prompt's timeline can show them.
 *
 * State is a plain object whose groups are kept in insertion order (oldest first); `evolve` never mutates
 * its input. `bufferToJSON` / `bufferFromJSON` give a JSON-safe form for snapshots.
 */

export interface RolloutGroup {
  /** dataset index of the prompt (uint32) */
  promptIndex: number;
  /** unique id of the group (REF uid) */
  groupId: string;
  /** training step that generated the group */
  step: number;
  /** per row: Σ_t log μ(y_t | ·), the behaviour log-prob sum of the response, nats */
  behaviourLogprobSum: Float64Array;
  /** per row: raw verifier reward (0/1 for math), before shaping */
  rewards: Float64Array;
  /** per row: response length, tokens including EOS */
  lengths: Uint32Array;
  /** key of the group's blob (token ids, per-token log-probs, text) */
  blobKey: string;
  /** realized success fraction of the group at generation time, in [0,1] */
  realizedSuccess: number;
}

export interface BufferEntry extends RolloutGroup {
  /** insertion sequence number (monotone; oldest = smallest) */
  seq: number;
}

export type BufferConfig =
  | {
      semantics: 'paper';
      /** groups kept per prompt, P ≥ 1 */
      perPromptCapacity: number;
      /** groups kept in total, C ≥ 1 */
      globalCapacity: number;
    }
  | {
      semantics: 'reference';
      /** REF data.buffer_size, in groups */
      bufferSize: number;
      /** REF data.sigma: fraction of fresh prompt groups per step, in [0,1] */
      sigma: number;
      /** REF data.train_batch_size B, prompts per step */
      batchSize: number;
      /** keep all-0 / all-1 groups (true in IS mode) */
      keepZeroOneGroups: boolean;
    };

export interface BufferState {
  config: BufferConfig;
  nextSeq: number;
  /** groups in insertion order, oldest first */
  groups: readonly BufferEntry[];
}

export type BufferFact = { kind: 'added'; group: RolloutGroup } | { kind: 'pruned'; step: number };

export type EvictionReason = 'prompt-capacity' | 'global-capacity' | 'superseded' | 'zero-one';

export interface Eviction {
  groupId: string;
  promptIndex: number;
  /** step that generated the evicted group */
  step: number;
  seq: number;
  reason: EvictionReason;
}

export interface EvolveResult {
  state: BufferState;
  evictions: Eviction[];
}

function isCount(x: number): boolean {
  return Number.isInteger(x) && x >= 0;
}

function checkConfig(c: BufferConfig): void {
  if (c.semantics === 'paper') {
    if (!(isCount(c.perPromptCapacity) && c.perPromptCapacity >= 1)) throw new RangeError(`buffer.perPromptCapacity must be an integer ≥ 1, got ${c.perPromptCapacity}`);
    if (!(isCount(c.globalCapacity) && c.globalCapacity >= 1)) throw new RangeError(`buffer.globalCapacity must be an integer ≥ 1, got ${c.globalCapacity}`);
  } else if (c.semantics === 'reference') {
    if (!isCount(c.bufferSize)) throw new RangeError(`buffer.bufferSize must be an integer ≥ 0, got ${c.bufferSize}`);
    if (!(c.sigma >= 0 && c.sigma <= 1)) throw new RangeError(`buffer.sigma must be in [0,1], got ${c.sigma}`);
    if (!(isCount(c.batchSize) && c.batchSize >= 1)) throw new RangeError(`buffer.batchSize must be an integer ≥ 1, got ${c.batchSize}`);
    if (typeof c.keepZeroOneGroups !== 'boolean') throw new RangeError('buffer.keepZeroOneGroups must be a boolean');
  } else {
    throw new RangeError(`buffer.semantics must be "paper" or "reference", got ${String((c as { semantics: unknown }).semantics)}`);
  }
}

/** Reference-mode capacity after a prune: K = bufferSize − ⌊σ·B⌋ groups (may be ≤ 0: empty). */
export function referenceCapacity(c: { bufferSize: number; sigma: number; batchSize: number }): number {
  return c.bufferSize - Math.floor(c.sigma * c.batchSize);
}

export function initBuffer(config: BufferConfig): BufferState {
  checkConfig(config);
  return { config, nextSeq: 0, groups: [] };
}

function checkGroup(g: RolloutGroup): void {
  const at = `buffer: group ${String(g.groupId)}`;
  if (typeof g.groupId !== 'string' || g.groupId.length === 0) throw new RangeError('buffer: group.groupId must be a non-empty string');
  if (!(isCount(g.promptIndex) && g.promptIndex <= 0xffffffff)) throw new RangeError(`${at}: promptIndex must be a uint32, got ${g.promptIndex}`);
  if (!isCount(g.step)) throw new RangeError(`${at}: step must be an integer ≥ 0, got ${g.step}`);
  if (!(g.behaviourLogprobSum instanceof Float64Array)) throw new RangeError(`${at}: behaviourLogprobSum must be a Float64Array`);
  if (!(g.rewards instanceof Float64Array)) throw new RangeError(`${at}: rewards must be a Float64Array`);
  if (!(g.lengths instanceof Uint32Array)) throw new RangeError(`${at}: lengths must be a Uint32Array`);
  const n = g.rewards.length;
  if (n === 0) throw new RangeError(`${at}: a group needs at least one row`);
  if (g.behaviourLogprobSum.length !== n || g.lengths.length !== n) {
    throw new RangeError(`${at}: rows disagree (rewards ${n}, behaviourLogprobSum ${g.behaviourLogprobSum.length}, lengths ${g.lengths.length})`);
  }
  for (let i = 0; i < n; i++) {
    if (!Number.isFinite(g.behaviourLogprobSum[i])) throw new RangeError(`${at}: behaviourLogprobSum[${i}] is not finite`);
    if (!Number.isFinite(g.rewards[i])) throw new RangeError(`${at}: rewards[${i}] is not finite`);
  }
  if (!(g.realizedSuccess >= 0 && g.realizedSuccess <= 1)) throw new RangeError(`${at}: realizedSuccess must be in [0,1], got ${g.realizedSuccess}`);
  if (typeof g.blobKey !== 'string') throw new RangeError(`${at}: blobKey must be a string`);
}

function evictionOf(e: BufferEntry, reason: EvictionReason): Eviction {
  return { groupId: e.groupId, promptIndex: e.promptIndex, step: e.step, seq: e.seq, reason };
}

function added(state: BufferState, group: RolloutGroup): EvolveResult {
  checkGroup(group);
  if (state.groups.some((e) => e.groupId === group.groupId)) {
    throw new RangeError(`buffer: group ${group.groupId} is already in the buffer (duplicate added fact)`);
  }
  const entry = entryOf(group, state.nextSeq);
  let groups = state.groups.concat(entry);
  const evictions: Eviction[] = [];
  const c = state.config;
  if (c.semantics === 'paper') {
    let own = 0;
    for (const e of groups) if (e.promptIndex === entry.promptIndex) own++;
    if (own > c.perPromptCapacity) {
      // groups are in insertion order: the prompt's first entries are its oldest
      let excess = own - c.perPromptCapacity;
      groups = groups.filter((e) => {
        if (excess > 0 && e.promptIndex === entry.promptIndex) {
          excess--;
          evictions.push(evictionOf(e, 'prompt-capacity'));
          return false;
        }
        return true;
      });
    }
    if (groups.length > c.globalCapacity) {
      const cut = groups.length - c.globalCapacity;
      for (let i = 0; i < cut; i++) evictions.push(evictionOf(groups[i], 'global-capacity'));
      groups = groups.slice(cut);
    }
  }
  return { state: { config: c, nextSeq: state.nextSeq + 1, groups }, evictions };
}

/**
 * `added` of every group in order, in one pass: the same state and the same evictions (in the same order)
 * as folding them one by one, in O(buffer + groups) instead of O(buffer · groups) — a step adds up to B
 * groups to a buffer of ~1000.
 */
export function addedAll(state: BufferState, groups: readonly RolloutGroup[]): EvolveResult {
  if (groups.length === 0) return { state, evictions: [] };
  if (groups.length === 1) return added(state, groups[0]);
  const c = state.config;
  const evictions: Eviction[] = [];
  // entries in insertion order; `alive` false once evicted
  const all: BufferEntry[] = state.groups.slice();
  const alive: boolean[] = all.map(() => true);
  const ids = new Set<string>();
  for (const e of all) ids.add(e.groupId);
  // per prompt: positions (in `all`) of its live entries, oldest first, from index `head`
  const own = new Map<number, { at: number[]; head: number }>();
  const ownOf = (p: number) => {
    let o = own.get(p);
    if (!o) own.set(p, (o = { at: [], head: 0 }));
    return o;
  };
  if (c.semantics === 'paper') for (let i = 0; i < all.length; i++) ownOf(all[i].promptIndex).at.push(i);
  let live = all.length;
  let oldest = 0; // every entry before it is evicted
  let nextSeq = state.nextSeq;
  for (const group of groups) {
    checkGroup(group);
    if (ids.has(group.groupId)) throw new RangeError(`buffer: group ${group.groupId} is already in the buffer (duplicate added fact)`);
    ids.add(group.groupId);
    const entry = entryOf(group, nextSeq++);
    all.push(entry);
    alive.push(true);
    live++;
    if (c.semantics !== 'paper') continue;
    const o = ownOf(entry.promptIndex);
    o.at.push(all.length - 1);
    // the prompt's oldest entries beyond its capacity go first, then the globally oldest beyond the cap
    while (o.at.length - o.head > c.perPromptCapacity) {
      const i = o.at[o.head++];
      alive[i] = false;
      live--;
      ids.delete(all[i].groupId);
      evictions.push(evictionOf(all[i], 'prompt-capacity'));
    }
    while (live > c.globalCapacity) {
      while (!alive[oldest]) oldest++;
      const e = all[oldest];
      alive[oldest] = false;
      live--;
      ids.delete(e.groupId);
      // the globally oldest live entry is its prompt's oldest live one
      ownOf(e.promptIndex).head++;
      evictions.push(evictionOf(e, 'global-capacity'));
    }
  }
  const kept: BufferEntry[] = [];
  for (let i = 0; i < all.length; i++) if (alive[i]) kept.push(all[i]);
  return { state: { config: c, nextSeq, groups: kept }, evictions };
}

function meanReward(e: BufferEntry): number {
  let s = 0;
  for (let i = 0; i < e.rewards.length; i++) s += e.rewards[i];
  return s / e.rewards.length;
}

function pruned(state: BufferState): EvolveResult {
  const c = state.config;
  if (c.semantics !== 'reference') return { state, evictions: [] };
  const evictions: Eviction[] = [];
  // 1. dedup: each prompt keeps its newest group
  const newest = new Map<number, number>();
  for (const e of state.groups) newest.set(e.promptIndex, e.seq);
  let groups = state.groups.filter((e) => {
    if (newest.get(e.promptIndex) === e.seq) return true;
    evictions.push(evictionOf(e, 'superseded'));
    return false;
  });
  // 2. outside IS mode, groups without a learning signal (mean raw reward exactly 0 or 1) go
  if (!c.keepZeroOneGroups) {
    groups = groups.filter((e) => {
      const m = meanReward(e);
      if (m !== 0 && m !== 1) return true;
      evictions.push(evictionOf(e, 'zero-one'));
      return false;
    });
  }
  // 3. FIFO trim to the newest K groups
  const K = Math.max(0, referenceCapacity(c));
  if (groups.length > K) {
    const cut = groups.length - K;
    for (let i = 0; i < cut; i++) evictions.push(evictionOf(groups[i], 'global-capacity'));
    groups = groups.slice(cut);
  }
  return { state: { config: c, nextSeq: state.nextSeq, groups }, evictions };
}

/** Fold one fact into the buffer. Pure: the input state is not modified. */
export function evolve(state: BufferState, fact: BufferFact): EvolveResult {
  switch (fact.kind) {
    case 'added':
      return added(state, fact.group);
    case 'pruned':
      if (!isCount(fact.step)) throw new RangeError(`buffer: pruned.step must be an integer ≥ 0, got ${fact.step}`);
      return pruned(state);
    default:
      throw new RangeError(`buffer: unknown fact kind ${String((fact as { kind: unknown }).kind)}`);
  }
}

/** Number of groups in the buffer. */
export function bufferSize(state: BufferState): number {
  return state.groups.length;
}

/** Groups of one prompt, oldest first. */
export function groupsOfPrompt(state: BufferState, promptIndex: number): BufferEntry[] {
  return state.groups.filter((e) => e.promptIndex === promptIndex);
}

export interface EstimationRows {
  /** per row: dataset index of the prompt */
  promptIndex: Uint32Array;
  /** per row: behaviour log-prob sum Σ_t log μ, nats */
  behaviourSum: Float64Array;
  /** per row: raw verifier reward */
  reward: Float64Array;
  /** per row: position of its group in `state.groups` */
  groupIndex: Uint32Array;
}

/** Every buffered row, flattened in buffer order, for the SNIS estimator. */
export function rowsForEstimation(state: BufferState): EstimationRows {
  let n = 0;
  for (const e of state.groups) n += e.rewards.length;
  const promptIndex = new Uint32Array(n);
  const behaviourSum = new Float64Array(n);
  const reward = new Float64Array(n);
  const groupIndex = new Uint32Array(n);
  let r = 0;
  state.groups.forEach((e, gi) => {
    const k = e.rewards.length;
    promptIndex.fill(e.promptIndex, r, r + k);
    groupIndex.fill(gi, r, r + k);
    behaviourSum.set(e.behaviourLogprobSum, r);
    reward.set(e.rewards, r);
    r += k;
  });
  return { promptIndex, behaviourSum, reward, groupIndex };
}

/** JSON-safe form of the buffer (typed arrays as number arrays). */
export interface BufferJSON {
  version: 1;
  config: BufferConfig;
  nextSeq: number;
  groups: {
    promptIndex: number;
    groupId: string;
    step: number;
    seq: number;
    /** typed arrays as bufferToJSON writes them now (packed as bin); number arrays in older snapshots */
    behaviourLogprobSum: Float64Array | number[];
    rewards: Float64Array | number[];
    lengths: Uint32Array | number[];
    blobKey: string;
    realizedSuccess: number;
  }[];
}

export function bufferToJSON(state: BufferState): BufferJSON {
  return {
    version: 1,
    config: { ...state.config },
    nextSeq: state.nextSeq,
    groups: state.groups.map((e) => ({
      promptIndex: e.promptIndex,
      groupId: e.groupId,
      step: e.step,
      seq: e.seq,
      // typed arrays as they are (the snapshot codec writes each as one bin): a number array per group was
      // three allocations and 8 floats to pack for each of ~1000 groups, in three actors' snapshots
      behaviourLogprobSum: e.behaviourLogprobSum,
      rewards: e.rewards,
      lengths: e.lengths,
      blobKey: e.blobKey,
      realizedSuccess: e.realizedSuccess,
    })),
  };
}

export function bufferFromJSON(json: BufferJSON): BufferState {
  if (!json || json.version !== 1) throw new RangeError(`buffer snapshot: unsupported version ${String(json?.version)}`);
  checkConfig(json.config);
  let lastSeq = -1;
  const groups: BufferEntry[] = [];
  const ids = new Set<string>();
  for (const g of json.groups) {
    const group: RolloutGroup = {
      promptIndex: g.promptIndex,
      groupId: g.groupId,
      step: g.step,
      behaviourLogprobSum: Float64Array.from(g.behaviourLogprobSum),
      rewards: Float64Array.from(g.rewards),
      lengths: Uint32Array.from(g.lengths),
      blobKey: g.blobKey,
      realizedSuccess: g.realizedSuccess,
    };
    checkGroup(group);
    if (ids.has(g.groupId)) throw new RangeError(`buffer snapshot: group ${g.groupId} appears twice`);
    ids.add(g.groupId);
    if (!(isCount(g.seq) && g.seq > lastSeq)) throw new RangeError(`buffer snapshot: group ${g.groupId} has seq ${g.seq} out of order`);
    lastSeq = g.seq;
    groups.push({ ...group, seq: g.seq });
  }
  if (!(isCount(json.nextSeq) && json.nextSeq > lastSeq)) throw new RangeError(`buffer snapshot: nextSeq ${json.nextSeq} must exceed every group seq`);
  return { config: { ...json.config }, nextSeq: json.nextSeq, groups };
}

/** The buffer's entry for an added group, at insertion order `seq`. */
function entryOf(group: RolloutGroup, seq: number): BufferEntry {
  return {
    promptIndex: group.promptIndex,
    groupId: group.groupId,
    step: group.step,
    behaviourLogprobSum: group.behaviourLogprobSum,
    rewards: group.rewards,
    lengths: group.lengths,
    blobKey: group.blobKey,
    realizedSuccess: group.realizedSuccess,
    seq,
  };
}
