/**
 * The replay buffer as a fold of the log. Fresh groups of a step (RolloutCompleted, purpose train/refill)
 * wait until the step's UpdateRequested: then the buffer is pruned (reference semantics) and they are
 * appended — REF order: prune and draw the replay groups, then append the fresh ones, so a step never
 * replays its own fresh data. The estimator and the learner fold the same reducer themselves (actors share
 * no state; each folds the log).
 */
import type { Logged } from '../../events/catalogue.ts';
import type { RunConfig } from '../../events/config.ts';
import { GrowOnlyList } from './growOnly.ts';
import { addedAll, evolve as bufferEvolve, initBuffer, type BufferConfig, type BufferState, type Eviction, type RolloutGroup } from './replayBuffer.ts';

export interface BufferFold {
  buffer: BufferState;
  /** this step's fresh groups, appended at its UpdateRequested (grow-only: O(1) per RolloutCompleted) */
  pending: GrowOnlyList<RolloutGroup>;
  /** evictions of the last fold step (for timelines); not part of the decision state */
  lastEvictions: Eviction[];
}

export function bufferConfigOf(cfg: RunConfig): BufferConfig {
  if (cfg.learner.bufferMode === 'reference') {
    return {
      semantics: 'reference',
      bufferSize: cfg.learner.bufferSize,
      sigma: cfg.learner.sigma,
      batchSize: cfg.run.batchSize,
      // SNIS needs all-0 / all-1 groups (REF keeps them in IS mode only)
      keepZeroOneGroups: cfg.estimator.method === 'snis' || cfg.estimator.method === 'previous-fr',
    };
  }
  return { semantics: 'paper', perPromptCapacity: cfg.learner.perPromptGroups, globalCapacity: Math.max(1, cfg.learner.bufferSize) };
}

/**
 * The buffer, the estimator and the learner fold the same events with the same reducer from the same start:
 * one initial state per configuration object and the last fold of every state memoised (foldBuffer), so in
 * one process they share their buffer states and the second and third fold of an event are look-ups (a
 * step's UpdateRequested adds B groups to a ~1000-group buffer). Sharing is safe: folds never mutate a state.
 */
const initial = new WeakMap<RunConfig, BufferFold>();

export function initBufferFold(cfg: RunConfig): BufferFold {
  let f = initial.get(cfg);
  if (!f) {
    f = { buffer: initBuffer(bufferConfigOf(cfg)), pending: GrowOnlyList.empty(), lastEvictions: [] };
    initial.set(cfg, f);
  }
  return f;
}

/**
 * The group a RolloutCompleted describes. Memoised per event object: the buffer, the estimator and the
 * learner each fold the same event (one shared Logged per process, live and in replay), and the group is
 * read-only to all of them.
 */
const groups = new WeakMap<Logged, RolloutGroup | undefined>();

export function groupOf(e: Logged): RolloutGroup | undefined {
  if (groups.has(e)) return groups.get(e);
  const g = makeGroup(e);
  groups.set(e, g);
  return g;
}

function makeGroup(e: Logged): RolloutGroup | undefined {
  const ev = e.event;
  if (ev.type !== 'RolloutCompleted' || ev.data.purpose === 'reference') return undefined;
  const rewards = Float64Array.from(ev.data.reward);
  let ok = 0;
  for (const r of rewards) if (r > 0) ok++;
  return {
    promptIndex: ev.data.promptIndex,
    groupId: ev.data.group,
    step: ev.data.step,
    behaviourLogprobSum: ev.data.logprob,
    rewards,
    lengths: ev.data.length,
    blobKey: ev.data.group,
    realizedSuccess: rewards.length ? ok / rewards.length : 0,
  };
}

/** The buffer as the learner sees it when it draws replay groups for `step`: pruned, fresh not yet in. */
export function prunedForStep(f: BufferFold, step: number): BufferState {
  return f.buffer.config.semantics === 'reference' ? bufferEvolve(f.buffer, { kind: 'pruned', step }).state : f.buffer;
}

/**
 * state -> its fold by the last event folded into it (see initBufferFold), for the LAST_FOLDS most recent
 * folds only. Bounded on purpose: a memo that lives as long as its key (a WeakMap) chains every state to
 * the next from the initial one, which the config keeps alive — every state and event of the run stayed
 * reachable (a 1M-event replay grew to 9 GB and ran 3× slower). A consumer's batch is folded by the three
 * actors one after another, so their second and third folds find the first's in the memo.
 */
const LAST_FOLDS = 4096;
const lastFold = new Map<BufferFold, { e: Logged; next: BufferFold }>();

/** Entries in the memo (tests check that it stays bounded). */
export function bufferFoldMemoSize(): number {
  return lastFold.size;
}

export function foldBuffer(f: BufferFold, e: Logged): BufferFold {
  const hit = lastFold.get(f);
  if (hit !== undefined && hit.e === e) return hit.next;
  const next = foldOnce(f, e);
  // a grow-only list pushed twice from one handle copies itself: a second fold of the same event should be this look-up
  if (next !== f) {
    lastFold.delete(f);
    lastFold.set(f, { e, next });
    if (lastFold.size > LAST_FOLDS) lastFold.delete(lastFold.keys().next().value!);
  }
  return next;
}

function foldOnce(f: BufferFold, e: Logged): BufferFold {
  const ev = e.event;
  if (ev.type === 'RolloutCompleted') {
    const g = groupOf(e);
    return g ? { ...f, pending: f.pending.push(g), lastEvictions: [] } : f;
  }
  if (ev.type === 'UpdateRequested') {
    const evictions: Eviction[] = [];
    let buffer = f.buffer;
    if (buffer.config.semantics === 'reference') {
      const r = bufferEvolve(buffer, { kind: 'pruned', step: ev.data.step });
      buffer = r.state;
      evictions.push(...r.evictions);
    }
    const r = addedAll(buffer, f.pending.toArray());
    buffer = r.state;
    for (const x of r.evictions) evictions.push(x);
    return { buffer, pending: GrowOnlyList.empty(), lastEvictions: evictions };
  }
  return f.lastEvictions.length ? { ...f, lastEvictions: [] } : f;
}
